/**
 * The pieces of the semantic checks that validate.ts and every executor's `validate()` share:
 * problems with a path as written in the file, and a Checker that collects them. A leaf (it
 * knows no executor), so executor modules can use it without importing validate.ts.
 *
 * The checks run on data the schema may have rejected, so each first makes sure the value has
 * the type it expects (wrong types are the schema's to report).
 */
import { parseDurationMs } from './duration.ts';

/** One problem: where (a path as written in the file, or a flag) and what to do. */
export interface Problem {
  path: string;
  message: string;
}

/** A path inside the options: property names and array indexes. */
export type PathSegments = ReadonlyArray<string | number>;

/** Formats a problem as `path: message` (just the message for the root). */
export function formatProblem(problem: Problem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/** Formats a path the way the file reads: `scenarios.peak.stages[1].duration`, `thresholds['a{b:c}']`. */
export function formatPath(segments: PathSegments): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${quote(segment)}]`;
  }
  return text;
}

/** Quotes a value for a message: strings in single quotes, the rest as JSON. */
export function quote(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  const json = JSON.stringify(value);
  return json.length > 60 ? json.slice(0, 57) + '...' : json;
}

/** The message for a value that does not parse as a duration. */
export function durationMessage(value: unknown): string {
  return `${quote(value)} is not a duration: use e.g. '30s', '5m' (or a number of milliseconds)`;
}

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Collects problems; each check returns the checked value when it is valid. */
export class Checker {
  readonly problems: Problem[] = [];

  add(path: PathSegments, message: string): void {
    this.problems.push({ path: formatPath(path), message });
  }

  /** A duration option: parses, and is > 0 when `isPositive`. Returns ms or undefined. */
  duration(value: unknown, path: PathSegments, isPositive: boolean): number | undefined {
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    let ms: number;
    try {
      ms = parseDurationMs(value);
    } catch {
      this.add(path, typeof value === 'number' ? `must be a number of milliseconds >= 0 (got ${value})` : durationMessage(value));
      return undefined;
    }
    if (isPositive && ms <= 0) this.add(path, `must be > 0 (got ${quote(value)})`);
    return ms;
  }

  /** A whole-number option >= min. Returns it when valid. */
  integer(value: unknown, path: PathSegments, min: number): number | undefined {
    if (typeof value !== 'number') return undefined;
    if (!Number.isInteger(value)) this.add(path, `must be a whole number (got ${value})`);
    else if (value < min) this.add(path, `must be >= ${min} (got ${value})`);
    else return value;
    return undefined;
  }

  /**
   * A list of `{duration, target}` stages: durations parse, targets are >= 0 (whole numbers
   * when they count VUs), and the stages last more than 0 in total. Returns their total (ms)
   * and the highest target, or undefined when `stages` is not a list or a target is wrong.
   */
  stages(stages: unknown, path: PathSegments, isVuTarget: boolean): { totalMs: number; peak: number } | undefined {
    if (!Array.isArray(stages)) return undefined;
    let totalMs = 0;
    let peak = 0;
    let hasBadTarget = false;
    stages.forEach((stage, index) => {
      if (!isRecord(stage)) return;
      totalMs += this.duration(stage['duration'], [...path, index, 'duration'], false) ?? 0;
      const target = stage['target'];
      if (typeof target === 'number') {
        const before = this.problems.length;
        if (isVuTarget) this.integer(target, [...path, index, 'target'], 0);
        else if (target < 0) this.add([...path, index, 'target'], `must be >= 0 (got ${target})`);
        hasBadTarget ||= this.problems.length > before;
        peak = Math.max(peak, target);
      }
    });
    if (stages.length > 0 && totalMs === 0) this.add(path, 'the stages last 0s in total: give at least one stage a duration');
    // A bad target is reported as such; judging the profile on it would add a wrong second problem
    return hasBadTarget ? undefined : { totalMs, peak };
  }
}
