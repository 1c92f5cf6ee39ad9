/**
 * One interface for everything a run writes besides the console: results JSON, NDJSON/CSV
 * time series, reports, CI files, metrics endpoints. run.ts prepares every output before the
 * load (so a bad path fails in the first second, not after an hour), lets them listen while it
 * runs, and finishes them with the summary.
 */
import type { EngineListener } from '../engine/events.ts';
import type { TestResult } from '../engine/engine.ts';
import type { ResolvedOptions } from '../scenario/resolved.ts';
import type { Summary } from '../results/types.ts';
import type { Distributions } from '../results/summarise.ts';

export interface OutputContext {
  options: ResolvedOptions;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** How run.ts closes the outputs. */
export interface CloseOptions {
  /** May first serve the final state for a moment (the run reported normally). */
  linger: boolean;
  /** Aborted (Ctrl+C, SIGTERM during the linger): stop lingering at once. */
  signal?: AbortSignal;
}

/** Waits `ms`, or less when `signal` aborts; the timer keeps the process alive meanwhile. */
export function lingerFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RunOutput {
  /** What it is, for messages: 'results file', 'NDJSON timeline', … */
  readonly description: string;
  /** The file it writes, if any (printed after the summary). */
  readonly path?: string;
  /** Whether this is the results file (the one `Results saved to:` names). */
  readonly isResultsFile?: boolean;
  /** Before any load: check paths are writable, ports free. Throw a RunnerError otherwise. */
  prepare?(context: OutputContext): Promise<void>;
  /** Listens to the engine while it runs; must be quick and never throw. */
  readonly listener?: EngineListener;
  /** Once the engine exists: how to build the summary of the run so far (the live dashboard). */
  watch?(summaryNow: () => Summary): void;
  /** After the run (also an interrupted or aborted one): write the final result. */
  finish?(summary: Summary, context: OutputContext & { result: TestResult; distributions?: Distributions }): Promise<void>;
  /** On a second interrupt, synchronously: leave a valid file with what was measured. */
  finishNow?(summary: Summary): void;
  /**
   * The text `finishNow` would write, for the stall watchdog (engine/stall-watchdog.ts), which
   * writes it from another thread when scenario code blocks this one. Cheap outputs only.
   */
  textNow?(summary: Summary): string;
  /**
   * Last, also after errors: release what it still holds (a listening endpoint). With `linger`,
   * it may first serve its final state for a moment (one last Prometheus scrape).
   */
  close?(options: CloseOptions): Promise<void>;
}
