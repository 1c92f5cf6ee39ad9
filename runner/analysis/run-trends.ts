/**
 * Degradation over time for one run: latency creep, throughput decline and the watched server's
 * memory growth, judged on the steady part of the run (ramp-up and drain left out) and exposed
 * as gauge metrics so thresholds can gate on them, e.g. `latency_trend: ['value<0.2']` (p95 may
 * grow at most 20% per hour).
 */
import type { TimelinePoint } from '../metrics/registry.ts';
import type { WatchReport } from '../watch/watch-report.ts';
import { isOpenModelExecutor } from '../executors/index.ts';
import type { AggregateValues } from '../metrics/registry.ts';
import { detectTrends, fitTrend, steadyWindows, type LoadMeasure, type TrendVerdict } from './trend-detect.ts';

/** The trends of one run; a verdict's `verdict` is 'insufficient data' for short runs. */
export interface RunTrends {
  latency: TrendVerdict;
  throughput: TrendVerdict;
  /** RSS of the watched server process, when one was watched. */
  server_memory: TrendVerdict | null;
}

/** Gauge metrics for thresholds, by name, and the verdict each one reads. */
export const TREND_METRICS = {
  latency_trend: 'latency',
  throughput_trend: 'throughput',
  server_memory_trend: 'server_memory',
} as const satisfies Record<string, keyof RunTrends>;

/**
 * Detects the run's trends from its timeline and the watched process's samples. `executors`:
 * the run's scenarios' executors; when all are arrival-rate ones the steady part is found from
 * the planned arrivals, else from the VUs at work.
 */
export function analyseTrends(timeline: readonly TimelinePoint[], watch: WatchReport | null, warmupEndedAt?: number, executors: readonly string[] = []): RunTrends {
  const by: LoadMeasure = executors.length > 0 && executors.every(isOpenModelExecutor) ? 'arrivals' : 'vus';
  // A warm-up is not part of the steady state: its windows are left out of the fit.
  const steady = steadyWindows(warmupEndedAt ? timeline.filter((p) => p.t - p.windowMs / 1000 >= warmupEndedAt) : timeline, 0.9, by);
  const { p95Ms, msgsPerSecond } = detectTrends(steady);
  let serverMemory: TrendVerdict | null = null;
  if (watch && watch.samples.length) {
    const from = steady[0]?.t ?? 0;
    const to = steady.at(-1)?.t ?? Infinity;
    const samples = watch.samples.filter((s) => s.t >= from && s.t <= to);
    serverMemory = fitTrend(samples.map((s) => s.t), samples.map((s) => s.rssBytes), 'rssBytes');
  }
  return { latency: p95Ms, throughput: msgsPerSecond, server_memory: serverMemory };
}

/**
 * A trend gauge's value for thresholds: the relative change per hour (0.38 = +38%/h) when the
 * trend is significant and large enough to be called one, 0 when the run is stable (noise must
 * not fail a gate), no samples when there was too little data (judged as 0, like any metric
 * without samples).
 */
export function trendMetricValues(trends: RunTrends, metric: string): AggregateValues | undefined {
  if (!(metric in TREND_METRICS)) return undefined;
  const verdict = trends[TREND_METRICS[metric as keyof typeof TREND_METRICS]];
  if (!verdict || verdict.verdict === 'insufficient data') return { type: 'gauge', count: 0, value: () => 0, min: () => 0, max: () => 0 };
  const value = verdict.verdict === 'stable' ? 0 : (verdict.relativePerHour ?? 0);
  return { type: 'gauge', count: 1, value: () => value, min: () => value, max: () => value };
}
