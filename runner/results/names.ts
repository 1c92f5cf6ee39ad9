/**
 * The one place where results-file names meet the names the rest of runner uses in memory.
 *
 * Version 1 of the results file wrote the timeline, the watched process, the trends and the
 * thresholds with the in-memory camelCase names (`windowMs`, `p95Ms`, `cpuPercentAvg`,
 * `abortOnFail`, …); version 2 writes them snake_case with their unit (types.ts). The same
 * renames therefore serve twice: in-memory → v2 when a summary is built, and v1 → v2 when an
 * older file is read (upgradeV1). The reverse (v2 → in-memory) feeds trend analysis on a merged
 * timeline and the console's trend lines, which work on the in-memory shapes.
 *
 * The in-memory shapes are declared here structurally (as v1 wrote them) so that this module
 * stays a leaf: metrics/timeline.ts, watch/watcher.ts and analysis/trend-detect.ts hold the same.
 */
import type { EncodedTrend } from '../metrics/trend.ts';
import type { Summary, ThresholdOutcome, TimelineEntry, TrendFigures, TrendMetricName, TrendsFigures, WatchFigures } from './types.ts';

/** A timeline window as the registry holds it (metrics/timeline.ts TimelinePoint), and as v1 wrote it. */
export interface TimelinePointInMemory {
  t: number;
  windowMs: number;
  started: number;
  accepted: number;
  failed: number;
  dropped: number;
  msgsPerSecond: number;
  messageBytes?: number;
  bytesPerSecond?: number;
  planned?: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  vus: number;
  queued?: number;
  txnHistogram?: EncodedTrend | null;
  delivered?: number;
  backlog?: number;
  pausedMs?: number;
  rateChanges?: Array<{ t: number; scenario: string; ratePerSecond: number }>;
}

/** The watched process as watch/watcher.ts reports it (WatchReport), and as v1 wrote it. */
export interface WatchInMemory {
  pid: number;
  name: string | null;
  source: 'flag' | 'listening-port';
  samples: Array<{ t: number; cpuPercent: number; rssBytes: number }>;
  cpuPercentAvg: number | null;
  cpuPercentMax: number | null;
  rssBytesFirst: number | null;
  rssBytesLast: number | null;
  rssBytesMax: number | null;
  exited: boolean;
}

/** A trend verdict as analysis/trend-detect.ts returns it (TrendVerdict), and as v1 wrote it. */
export interface TrendInMemory {
  metric: 'p95Ms' | 'msgsPerSecond' | 'rssBytes';
  points: number;
  effectivePoints: number;
  autocorrelation: number;
  slopePerHour: number;
  baseline: number;
  relativePerHour: number | null;
  relativeOverRun: number | null;
  spanSeconds: number;
  pValue: number | null;
  significant: boolean;
  verdict: TrendFigures['verdict'];
}

/** Run trends as analysis/run-trends.ts returns them (RunTrends), and as v1 wrote them. */
export interface TrendsInMemory {
  latency: TrendInMemory;
  throughput: TrendInMemory;
  server_memory: TrendInMemory | null;
}

/** A threshold outcome as v1 wrote it. */
export type ThresholdV1 = Omit<ThresholdOutcome, 'abort_on_fail' | 'is_time'> & { abortOnFail: boolean; isTime: boolean };

/** A timeline window in the results file's names. */
export function timelineEntry(point: TimelinePointInMemory): TimelineEntry {
  const entry: TimelineEntry = {
    t_seconds: point.t,
    window_ms: point.windowMs,
    started: point.started,
    accepted: point.accepted,
    failed: point.failed,
    dropped: point.dropped,
    msgs_per_second: point.msgsPerSecond,
    p50_ms: point.p50Ms,
    p95_ms: point.p95Ms,
    p99_ms: point.p99Ms,
    vus: point.vus,
  };
  // Optional fields stay absent when absent: older files lack them, and merge reads absence.
  if (point.queued !== undefined) entry.queued = point.queued;
  if (point.messageBytes !== undefined) entry.message_bytes = point.messageBytes;
  if (point.bytesPerSecond !== undefined) entry.bytes_per_second = point.bytesPerSecond;
  if (point.planned !== undefined) entry.planned = point.planned;
  if (point.txnHistogram !== undefined) entry.txn_histogram = point.txnHistogram;
  if (point.delivered !== undefined) entry.delivered = point.delivered;
  if (point.backlog !== undefined) entry.delivery_backlog = point.backlog;
  if (point.pausedMs !== undefined) entry.paused_ms = point.pausedMs;
  if (point.rateChanges !== undefined) entry.rate_changes = point.rateChanges.map((c) => ({ t_seconds: c.t, scenario: c.scenario, rate_per_second: c.ratePerSecond }));
  return entry;
}

/** A results-file timeline window in the in-memory names (for merging and trend analysis). */
export function timelinePoint(entry: TimelineEntry): TimelinePointInMemory {
  const point: TimelinePointInMemory = {
    t: entry.t_seconds,
    windowMs: entry.window_ms,
    started: entry.started,
    accepted: entry.accepted,
    failed: entry.failed,
    dropped: entry.dropped,
    msgsPerSecond: entry.msgs_per_second,
    p50Ms: entry.p50_ms,
    p95Ms: entry.p95_ms,
    p99Ms: entry.p99_ms,
    vus: entry.vus,
  };
  if (entry.queued !== undefined) point.queued = entry.queued;
  if (entry.message_bytes !== undefined) point.messageBytes = entry.message_bytes;
  if (entry.bytes_per_second !== undefined) point.bytesPerSecond = entry.bytes_per_second;
  if (entry.planned !== undefined) point.planned = entry.planned;
  if (entry.txn_histogram !== undefined) point.txnHistogram = entry.txn_histogram;
  if (entry.delivered !== undefined) point.delivered = entry.delivered;
  if (entry.delivery_backlog !== undefined) point.backlog = entry.delivery_backlog;
  if (entry.paused_ms !== undefined) point.pausedMs = entry.paused_ms;
  if (entry.rate_changes !== undefined) point.rateChanges = entry.rate_changes.map((c) => ({ t: c.t_seconds, scenario: c.scenario, ratePerSecond: c.rate_per_second }));
  return point;
}

/** The watched process in the results file's names. */
export function watchFigures(watch: WatchInMemory): WatchFigures {
  return {
    pid: watch.pid,
    name: watch.name,
    source: watch.source,
    samples: watch.samples.map((s) => ({ t_seconds: s.t, cpu_percent: s.cpuPercent, rss_bytes: s.rssBytes })),
    cpu_percent_avg: watch.cpuPercentAvg,
    cpu_percent_max: watch.cpuPercentMax,
    rss_bytes_first: watch.rssBytesFirst,
    rss_bytes_last: watch.rssBytesLast,
    rss_bytes_max: watch.rssBytesMax,
    exited: watch.exited,
  };
}

/** The results file's watched process in the in-memory names (for trend analysis of a merge). */
export function watchInMemory(watch: WatchFigures): WatchInMemory {
  return {
    pid: watch.pid,
    name: watch.name,
    source: watch.source,
    samples: watch.samples.map((s) => ({ t: s.t_seconds, cpuPercent: s.cpu_percent, rssBytes: s.rss_bytes })),
    cpuPercentAvg: watch.cpu_percent_avg,
    cpuPercentMax: watch.cpu_percent_max,
    rssBytesFirst: watch.rss_bytes_first,
    rssBytesLast: watch.rss_bytes_last,
    rssBytesMax: watch.rss_bytes_max,
    exited: watch.exited,
  };
}

const TREND_METRIC_NAMES = { p95Ms: 'p95_ms', msgsPerSecond: 'msgs_per_second', rssBytes: 'rss_bytes' } as const satisfies Record<TrendInMemory['metric'], TrendMetricName>;

/** One trend verdict in the results file's names. */
export function trendFigures(trend: TrendInMemory): TrendFigures {
  return {
    metric: TREND_METRIC_NAMES[trend.metric],
    points: trend.points,
    effective_points: trend.effectivePoints,
    autocorrelation: trend.autocorrelation,
    slope_per_hour: trend.slopePerHour,
    baseline: trend.baseline,
    relative_per_hour: trend.relativePerHour,
    relative_over_run: trend.relativeOverRun,
    span_seconds: trend.spanSeconds,
    p_value: trend.pValue,
    significant: trend.significant,
    verdict: trend.verdict,
  };
}

/** A results-file trend verdict in the in-memory names (console's trend lines format those). */
export function trendInMemory(trend: TrendFigures): TrendInMemory {
  const metric = (Object.keys(TREND_METRIC_NAMES) as Array<TrendInMemory['metric']>).find((name) => TREND_METRIC_NAMES[name] === trend.metric)!;
  return {
    metric,
    points: trend.points,
    effectivePoints: trend.effective_points,
    autocorrelation: trend.autocorrelation,
    slopePerHour: trend.slope_per_hour,
    baseline: trend.baseline,
    relativePerHour: trend.relative_per_hour,
    relativeOverRun: trend.relative_over_run,
    spanSeconds: trend.span_seconds,
    pValue: trend.p_value,
    significant: trend.significant,
    verdict: trend.verdict,
  };
}

/** The run's trends in the results file's names. */
export function trendsFigures(trends: TrendsInMemory): TrendsFigures {
  return {
    latency: trendFigures(trends.latency),
    throughput: trendFigures(trends.throughput),
    server_memory: trends.server_memory ? trendFigures(trends.server_memory) : null,
  };
}

/** A threshold outcome in the results file's names. */
export function thresholdFigures(outcome: ThresholdV1): ThresholdOutcome {
  const { abortOnFail, isTime, ...rest } = outcome;
  return { ...rest, abort_on_fail: abortOnFail, is_time: isTime };
}

/** A version-1 results file as it was written (the fields version 2 renamed). */
export type SummaryV1 = Omit<Summary, 'schema_version' | 'timeline' | 'watch' | 'trends' | 'thresholds'> & {
  timeline: TimelinePointInMemory[];
  watch: WatchInMemory | null;
  trends: TrendsInMemory | null;
  thresholds: ThresholdV1[];
};

/**
 * Upgrades a version-1 results file (as parsed, already checked against the v1 shape) to
 * version 2 in memory: the renamed fields renamed, every figure unchanged, fields in v2's order.
 */
export function upgradeV1(v1: SummaryV1): Summary {
  const { timestamp, target, config, status, abort_reason, results, scenarios, accounts, custom_metrics, thresholds, timeline, watch, trends, histograms } = v1;
  return {
    schema_version: 2,
    timestamp,
    target,
    config,
    status,
    abort_reason,
    results,
    scenarios,
    accounts,
    custom_metrics,
    thresholds: thresholds.map(thresholdFigures),
    timeline: timeline.map(timelineEntry),
    watch: watch ? watchFigures(watch) : null,
    trends: trends ? trendsFigures(trends) : null,
    histograms,
  };
}
