/**
 * The sweep file's steps (`runner sweep --out`): one step's figures from the results of its run,
 * under the results file's naming rule (snake_case, the unit in the name). The sweep file carries
 * the same `schema_version` as the results files it embeds (each step's `summary`).
 */
import type { Summary } from './types.ts';

/** The `kind` of the sweep file (`runner sweep --out`), which holds a curve of steps rather than one run. */
export const SWEEP_FILE_KIND = 'runner-sweep';

/** One step of the curve (the sweep file's `steps[]`); latencies are response time, ms. */
export interface SweepStep {
  /** VUs, or iterations per time unit. */
  load: number;
  /** Accepted messages per second of the step. */
  msgs_per_second: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  /** successful / (successful + failed). */
  success_rate: number;
  total_requests: number;
  failed: number;
  dropped_iterations: number;
  duration_seconds: number;
  /** The step's results file (--out-dir), else null. */
  results_file: string | null;
  summary: Summary;
}

/** A sweep step's figures from its run's summary; `resultsFile`: where that summary was written, if anywhere. */
export function sweepStep(load: number, summary: Summary, resultsFile: string | null): SweepStep {
  const results = summary.results;
  // Seconds with µs precision to ms with µs precision, without binary noise (0.0123 s → 12.3 ms).
  const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1e6) / 1000);
  return {
    load,
    msgs_per_second: results.successful_rps,
    p50_ms: ms(results.response_time.p50_seconds),
    p95_ms: ms(results.response_time.p95_seconds),
    p99_ms: ms(results.response_time.p99_seconds),
    success_rate: results.success_rate,
    total_requests: results.total_requests,
    failed: results.failed,
    dropped_iterations: results.dropped_iterations,
    duration_seconds: results.total_time_seconds,
    results_file: resultsFile,
    summary,
  };
}
