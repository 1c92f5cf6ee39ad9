/**
 * The knee of a load sweep (`runner sweep`): the highest load worth running, where adding load
 * still buys throughput and latency still holds. The guide tunes `--concurrent` by hand
 * ("increase gradually until throughput peaks"); this is that judgement written down.
 *
 * The rule, on steps in increasing order of load:
 *
 *   bound   = maxP95Ms when given, else p95Factor × the p95 of the lowest step that has one
 *   holds   = the step has a p95 (it accepted something) and p95 ≤ bound
 *   grows   = the lowest step (the baseline), or msgs/s > (1 + minGain) × the best msgs/s of
 *             every lower step
 *   knee    = the highest step that grows and holds; none when no step does
 *
 * Growth is measured against the best lower step, not only the previous one, so that a dip (a
 * noisy or overloaded step) followed by a recovery to the old level is not taken for growth.
 * Throughput is accepted messages per second, so a step that only adds failures does not grow.
 * The knee is "within the sweep" when some higher step exists that did not grow or did not
 * hold; when the highest step is the knee, the curve has not bent yet and a longer sweep may
 * find more.
 */

import { formatMs } from '../util/format.ts';

/** One step of the curve as the rule sees it. */
export interface KneeStep {
  /** The load of the step: VUs, or iterations per time unit. */
  load: number;
  /** Accepted messages per second. */
  msgsPerSecond: number;
  /** 95th percentile of the response time, ms; null when nothing was accepted. */
  p95Ms: number | null;
}

/** The rule's parameters. */
export interface KneeRule {
  /** Fraction by which throughput must exceed every lower step's to count as growth. @default 0.05 */
  minGain: number;
  /** Without maxP95Ms: p95 may be at most this multiple of the lowest step's p95. @default 2 */
  p95Factor: number;
  /** Absolute p95 bound, ms; replaces p95Factor when given. */
  maxP95Ms?: number;
}

/** Defaults of the rule (documented in the module comment and in `runner sweep --help`). */
export const DEFAULT_KNEE_RULE: KneeRule = { minGain: 0.05, p95Factor: 2 };

/** How one step fared under the rule. */
export interface KneeStepVerdict {
  /** Throughput over the best lower step, as a fraction (0.12 = +12%); null for the baseline or when no lower step accepted anything. */
  gain: number | null;
  grows: boolean;
  holds: boolean;
}

/** The knee and the reasons for it. */
export interface KneeVerdict {
  /** Index of the knee step, undefined when there is none. */
  index: number | undefined;
  /** Whether a higher step than the knee showed the bend (see the module comment). */
  isWithinSweep: boolean;
  /** The p95 bound applied, ms; undefined when no step had a p95. */
  p95BoundMs: number | undefined;
  /** Per step, in the order given. */
  steps: KneeStepVerdict[];
  /** One sentence for people on why the knee is where it is. */
  reason: string;
}

/** Relative slack of the growth comparison, far below any measurable difference. */
const GAIN_EPSILON = 1e-9;

/** Applies the rule (see the module comment) to steps in increasing order of load. */
export function findKnee(steps: readonly KneeStep[], rule: Partial<KneeRule> = {}): KneeVerdict {
  const { minGain, p95Factor, maxP95Ms } = { ...DEFAULT_KNEE_RULE, ...rule };
  const baselineP95Ms = steps.find((step) => step.p95Ms !== null)?.p95Ms ?? undefined;
  const p95BoundMs = maxP95Ms ?? (baselineP95Ms === undefined ? undefined : baselineP95Ms * p95Factor);
  const verdicts: KneeStepVerdict[] = [];
  let bestMsgsPerSecond = -Infinity;
  let index: number | undefined;
  steps.forEach((step, i) => {
    const gain = i === 0 || !(bestMsgsPerSecond > 0) ? null : step.msgsPerSecond / bestMsgsPerSecond - 1;
    // In products, with a relative epsilon: 105 over 100 is a gain of exactly 5%, not 5.0000000000000044%
    const grows = i === 0 || (gain === null ? step.msgsPerSecond > 0 : step.msgsPerSecond > bestMsgsPerSecond * (1 + minGain) * (1 + GAIN_EPSILON));
    const holds = step.p95Ms !== null && p95BoundMs !== undefined && step.p95Ms <= p95BoundMs;
    verdicts.push({ gain, grows, holds });
    if (grows && holds) index = i;
    if (step.msgsPerSecond > bestMsgsPerSecond) bestMsgsPerSecond = step.msgsPerSecond;
  });
  const isWithinSweep = index !== undefined && index < steps.length - 1;
  return { index, isWithinSweep, p95BoundMs, steps: verdicts, reason: explain(steps, verdicts, index, p95BoundMs, { minGain, p95Factor, maxP95Ms }) };
}

function explain(steps: readonly KneeStep[], verdicts: readonly KneeStepVerdict[], index: number | undefined, p95BoundMs: number | undefined, rule: KneeRule): string {
  const gainText = `${+(rule.minGain * 100).toFixed(2)}%`;
  const boundText =
    p95BoundMs === undefined
      ? 'no p95'
      : rule.maxP95Ms !== undefined
        ? `p95 ≤ ${formatMs(p95BoundMs)} (--max-p95)`
        : `p95 ≤ ${formatMs(p95BoundMs)} (${rule.p95Factor}× the lowest step's)`;
  if (steps.length === 0) return 'no steps were run';
  if (index === undefined) {
    return p95BoundMs === undefined ? 'no step accepted any message' : `no step kept ${boundText}`;
  }
  if (steps.length === 1) return `only one step, with ${boundText}: the knee may lie beyond this sweep`;
  if (index === steps.length - 1) {
    return `throughput still grew by more than ${gainText} at the highest step with ${boundText}: the knee may lie beyond this sweep`;
  }
  const above = verdicts.slice(index + 1);
  const why: string[] = [];
  if (above.some((verdict) => !verdict.grows)) why.push(`throughput grew by ${gainText} or less`);
  if (above.some((verdict) => !verdict.holds)) why.push(`p95 went beyond ${formatMs(p95BoundMs!)}`);
  return `above it ${why.join(' or ')} (rule: growth > ${gainText} over every lower step, ${boundText})`;
}
