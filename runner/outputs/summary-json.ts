/**
 * Custom summaries.
 *
 * `--summary-json FILE`: the end-of-test summary as JSON for scripts and dashboards (k6's
 * `--summary-export`). It is the results file without its two bulky parts: `timeline` (one
 * entry per second) and `histograms` (encoded HDR histograms), so a one-hour run still gives
 * a file of a few KB that `jq` reads at once. Every other field, name and unit is the results
 * file's (schemas/results.schema.json); use the results file (`--out`) to merge or compare
 * runs. Written atomically; the folder is checked before the load.
 *
 * `handleSummary(summary, helpers)` in a scenario file (k6's): see runHandleSummary.
 */
import { resolve } from 'node:path';
import { RunnerError, ScriptError } from '../errors.ts';
import type { HandleSummary, SummaryContent, SummaryHelpers } from '../scenario/types.ts';
import { settleWithin } from '../engine/script-deadline.ts';
import { escapeControl } from '../util/escape.ts';
import { assertWritable, writeFileAtomic, writeFileAtomicSync, writeJsonAtomic } from './atomic-write.ts';
import type { RunOutput } from './output.ts';
import type { Summary } from '../results/types.ts';

/** The summary file's content: the results file less `timeline` and `histograms`. */
export type CompactSummary = Omit<Summary, 'timeline' | 'histograms'>;

/** Drops the bulky per-second timeline and HDR histograms from a summary. */
export function compactSummary(summary: Summary): CompactSummary {
  const { timeline: _timeline, histograms: _histograms, ...rest } = summary;
  return rest;
}

/** The summary file's text: indented JSON, one trailing newline. */
function summaryJsonText(summary: Summary): string {
  return JSON.stringify(compactSummary(summary), null, 2) + '\n';
}

/** Creates the summary-JSON output writing to an absolute `path`. */
export function createSummaryJsonOutput(path: string): RunOutput {
  return {
    description: 'summary file',
    path,
    prepare: () => assertWritable(path, 'summary file'),
    finish: (summary) => writeJsonAtomic(path, compactSummary(summary)),
    finishNow: (summary) => writeFileAtomicSync(path, summaryJsonText(summary)),
    textNow: summaryJsonText,
  };
}

/** What became of a scenario's handleSummary. */
export interface HandleSummaryOutcome {
  /** Whether the default console summary must be printed (handleSummary failed). */
  printDefault: boolean;
  /** The first problem (a ScriptError when it threw or returned something else, an OutputError when a file failed). */
  error: RunnerError | undefined;
}

/**
 * Calls a scenario's `handleSummary` and writes what it returned, k6's way: key `'stdout'` or
 * `'stderr'` to that stream, any other key to that file (relative to `cwd`, atomically). If it
 * throws, or returns anything but an object of strings/bytes, nothing of it is written, the
 * problem is printed on stderr and `printDefault` asks for the default summary instead. A file
 * that cannot be written is reported and the others are still written. Never throws.
 */
export async function runHandleSummary(
  handleSummary: HandleSummary,
  summary: Summary,
  helpers: SummaryHelpers,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; cwd: string },
  /** Longest it may take (the scenario's teardownTimeout): past it, the default summary prints. */
  timeoutMs = 60_000,
): Promise<HandleSummaryOutcome> {
  const report = (error: RunnerError) => {
    // The message quotes what handleSummary threw: shown, never obeyed by the terminal (issue 19)
    io.stderr.write(`error: ${escapeControl(error.message, true)}\n`);
    if (error.hint) io.stderr.write(`hint: ${escapeControl(error.hint, true)}\n`);
  };
  let returned: unknown;
  try {
    const settled = await settleWithin(() => handleSummary(summary, helpers), timeoutMs);
    if (settled.isTimedOut) {
      const error = new ScriptError(`handleSummary() did not settle within ${timeoutMs / 1000} s (teardownTimeout)`, 'make every promise handleSummary awaits settle; the default summary is printed below and the results file was written');
      report(error);
      return { printDefault: true, error };
    }
    returned = settled.value;
  } catch (thrown) {
    const error = new ScriptError(`handleSummary() threw: ${describeThrown(thrown)}`, 'fix handleSummary in the scenario file; the default summary is printed below and the results file was written', thrown);
    report(error);
    return { printDefault: true, error };
  }
  const problem = checkReturned(returned);
  if (problem) {
    const error = new ScriptError(`handleSummary() ${problem}`, "return an object mapping 'stdout', 'stderr' or a file path to text, e.g. { stdout: helpers.textSummary(), 'summary.json': JSON.stringify(summary) } ({} prints nothing)");
    report(error);
    return { printDefault: true, error };
  }
  let firstError: RunnerError | undefined;
  for (const [key, content] of Object.entries(returned as Record<string, SummaryContent>)) {
    const bytes = typeof content === 'string' ? content : content instanceof ArrayBuffer ? new Uint8Array(content) : content;
    if (key === 'stdout' || key === 'stderr') {
      io[key].write(bytes);
      continue;
    }
    try {
      // writeFileAtomic hands its content to FileHandle.writeFile, which takes bytes as well as text.
      await writeFileAtomic(resolve(io.cwd, key), bytes);
    } catch (error) {
      const runnerError = error instanceof RunnerError ? error : new ScriptError(`handleSummary() output ${key}: ${describeThrown(error)}`);
      report(runnerError);
      firstError ??= runnerError;
    }
  }
  return { printDefault: false, error: firstError };
}

/** Why a handleSummary result cannot be written, or undefined when it can. */
function checkReturned(value: unknown): string | undefined {
  if (value === undefined || value === null) return `returned ${value}: it must return an object`;
  if (typeof value !== 'object' || Array.isArray(value)) return `returned ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}: it must return an object`;
  for (const [key, content] of Object.entries(value)) {
    if (key === '') return 'returned an empty key: use \'stdout\', \'stderr\' or a file path';
    if (typeof content !== 'string' && !(content instanceof Uint8Array) && !(content instanceof ArrayBuffer)) {
      const what = content === null ? 'null' : Array.isArray(content) ? 'an array' : typeof content;
      return `returned ${what} for '${key}': values must be strings (JSON.stringify objects) or bytes`;
    }
  }
  return undefined;
}

/** `Name: message (at the first stack frame)`; with source maps on, that frame is in the scenario file. */
function describeThrown(thrown: unknown): string {
  if (!(thrown instanceof Error)) return String(thrown);
  const frame = thrown.stack?.split('\n').find((line) => line.trimStart().startsWith('at '))?.trim();
  return `${thrown.name}: ${thrown.message}${frame ? ` (${frame})` : ''}`;
}
