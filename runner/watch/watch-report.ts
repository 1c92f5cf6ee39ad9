/**
 * What the process watcher (watcher.ts) reports, as plain data: a leaf the summary and the trend
 * analysis read without importing the watcher, which listens to the engine.
 */

/**
 * One second of the watched process, aligned with the timeline's `t` (or 2, 4, … seconds once a
 * long run folds its samples, as the timeline does).
 */
export interface WatchSample {
  /** Seconds since the load started (the timeline's t), at the end of the window. */
  t: number;
  /** CPU used in the window, % of one core (200 = two cores busy). */
  cpuPercent: number;
  /** Resident memory at the end of the window. */
  rssBytes: number;
}

/** What the results file and the summary say about the watched process. */
export interface WatchReport {
  pid: number;
  name: string | null;
  /** How the pid was chosen. */
  source: 'flag' | 'listening-port';
  samples: WatchSample[];
  cpuPercentAvg: number | null;
  cpuPercentMax: number | null;
  rssBytesFirst: number | null;
  rssBytesLast: number | null;
  rssBytesMax: number | null;
  /** Whether the process was gone before the run ended. */
  exited: boolean;
}
