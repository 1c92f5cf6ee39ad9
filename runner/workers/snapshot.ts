/**
 * What a worker process sends its parent once a second and at its end: its registry's state as
 * plain JSON (every counter, every HDR histogram encoded, errors, custom metrics by tag set, the
 * gauges), and the parent's side: the sum of the workers' latest snapshots, rebuilt into one
 * MetricsRegistry. Histograms add exactly, so every figure and threshold the parent computes from
 * the sum is what one process sending every message would have recorded.
 */
import { Series, countError, type ErrorCount } from '../metrics/series.ts';
import { TrendSink, type EncodedTrend } from '../metrics/trend.ts';
import { CHECKS, GROUP_DURATION, CustomTagSet, type CustomMetric } from '../metrics/custom.ts';
import type { MetricsRegistry, TimelinePoint } from '../metrics/registry.ts';
import { windowPercentiles } from '../metrics/timeline.ts';
import type { ScenarioProgress } from '../engine/events.ts';

/** The counters of a Series, in this order (the snapshot's `counts`). */
const SERIES_COUNTERS = [
  'txns', 'accepted', 'failed', 'interrupted', 'messageBytes', 'connections', 'iterations', 'scriptErrors',
  'bytesSent', 'bytesReceived', 'delivered', 'lost', 'lostRefused', 'duplicated', 'unexpected', 'pendingDelivery',
  'deferred', 'firstTry', 'retryPending',
] as const;

/** One series: its tags, counters (SERIES_COUNTERS order), trends and errors. */
interface SeriesSnapshot {
  tags: Record<string, string>;
  counts: number[];
  /** txnDuration, txnResponseTime, iterationDuration, deliveryLag, e2eDuration, attemptsPerMessage, eventualDuration, then one per phase; null when empty. */
  trends: Array<EncodedTrend | null>;
  /** Deferred attempts by reply code, as [code, count]. */
  deferrals: Array<[number, number]>;
  /** Accepted generated messages by body size, as [bytes, count]. */
  bodySizes: Array<[number, number]>;
  /** Accepted messages by whole size, as [bytes, count]. */
  messageSizes: Array<[number, number]>;
  errors: ErrorCount[];
  afterAcceptErrors: ErrorCount[];
}

interface TagSetSnapshot {
  tags: Record<string, string>;
  trend: EncodedTrend | null;
  sum: number;
  samples: number;
  nonZero: number;
  last: number;
  lastSequence: number;
  min: number | null;
  max: number | null;
}

/** A worker's whole measured state at one instant. */
export interface RegistrySnapshot {
  series: SeriesSnapshot[];
  dropped: Array<[string, number]>;
  vus: number;
  vusMax: number;
  vusPeak: number;
  queuedArrivals: number;
  queuedArrivalsPeak: number;
  warmupEndedAt: number | undefined;
  /** Custom metrics (and checks, group_duration) by name: their tag sets with samples. */
  custom: Array<{ name: string; ignoredValues: number; sets: TagSetSnapshot[] }>;
  progress: ScenarioProgress[];
}

/** A timeline window as sent: the point without its histogram, and the histogram encoded. */
export interface WindowSnapshot {
  point: Omit<TimelinePoint, 'txnHistogram'>;
  txn: EncodedTrend | null;
}

function trendsOf(series: Series): TrendSink[] {
  return [series.txnDuration, series.txnResponseTime, series.iterationDuration, series.deliveryLag, series.e2eDuration, series.attemptsPerMessage, series.eventualDuration, ...series.phases];
}

const encodeOrNull = (trend: TrendSink): EncodedTrend | null => (trend.count > 0 ? trend.encode() : null);

/** The registry's state now, with the custom metrics the scenario declared. */
export function takeSnapshot(registry: MetricsRegistry, progress: ScenarioProgress[]): RegistrySnapshot {
  const custom: RegistrySnapshot['custom'] = [];
  const metrics = new Map<string, CustomMetric>([...registry.custom, [CHECKS.info.name, CHECKS], [GROUP_DURATION.info.name, GROUP_DURATION]]);
  for (const [name, metric] of metrics) {
    const sets = metric.tagSetsWithSamples().map((set) => ({
      tags: { ...set.tags },
      trend: set.trend ? encodeOrNull(set.trend) : null,
      sum: set.sum,
      samples: set.samples,
      nonZero: set.nonZero,
      last: set.last,
      lastSequence: set.lastSequence,
      min: Number.isFinite(set.min) ? set.min : null,
      max: Number.isFinite(set.max) ? set.max : null,
    }));
    if (sets.length > 0 || metric.ignoredValues > 0) custom.push({ name, ignoredValues: metric.ignoredValues, sets });
  }
  return {
    series: registry.series.map((series) => ({
      tags: { ...series.tags },
      counts: SERIES_COUNTERS.map((name) => series[name]),
      trends: trendsOf(series).map(encodeOrNull),
      deferrals: [...series.deferrals.entries()],
      bodySizes: [...series.bodySizes.entries()],
      messageSizes: [...series.messageSizes.entries()],
      errors: [...series.errors.values()].map((error) => ({ ...error })),
      afterAcceptErrors: [...series.afterAcceptErrors.values()].map((error) => ({ ...error })),
    })),
    dropped: [...registry.dropped.entries()],
    vus: registry.vus,
    vusMax: registry.vusMax,
    vusPeak: registry.vusPeak,
    queuedArrivals: registry.queuedArrivals,
    queuedArrivalsPeak: registry.queuedArrivalsPeak,
    warmupEndedAt: registry.warmupEndedAt,
    custom,
    progress,
  };
}

/** A closed window as sent to the parent. */
export function windowSnapshot(point: TimelinePoint): WindowSnapshot {
  const { txnHistogram, ...rest } = point;
  return { point: rest, txn: txnHistogram ?? null };
}

/**
 * Replaces `registry`'s samples by the sum of `snapshots` (each worker's latest): series by
 * their tags, custom metrics by tag set, dropped per scenario; the gauges are sums (the workers
 * ran side by side), their peaks the highest sum seen so far. The timeline is not touched.
 */
export function loadSnapshots(registry: MetricsRegistry, snapshots: readonly RegistrySnapshot[]): void {
  for (const series of registry.series) series.reset();
  const metrics = new Map<string, CustomMetric>([...registry.custom, [CHECKS.info.name, CHECKS], [GROUP_DURATION.info.name, GROUP_DURATION]]);
  for (const metric of metrics.values()) metric.reset();
  registry.dropped.clear();
  let vus = 0;
  let vusMax = 0;
  let queued = 0;
  let queuedPeak = 0;
  for (const snapshot of snapshots) {
    for (const part of snapshot.series) {
      const { scenario = '', account = '', group = '', ...tags } = part.tags;
      addSeriesSnapshot(registry.seriesFor(scenario, account, tags, group), part);
    }
    for (const [scenario, count] of snapshot.dropped) registry.dropped.set(scenario, (registry.dropped.get(scenario) ?? 0) + count);
    for (const entry of snapshot.custom) {
      const metric = metrics.get(entry.name);
      if (!metric) continue;
      metric.ignoredValues += entry.ignoredValues;
      for (const set of entry.sets) metric.tagSetFor(set.tags).add(tagSetFrom(set, metric.info.type === 'trend'));
    }
    vus += snapshot.vus;
    vusMax += snapshot.vusMax;
    queued += snapshot.queuedArrivals;
    queuedPeak += snapshot.queuedArrivalsPeak;
    if (registry.warmupEndedAt === undefined && snapshot.warmupEndedAt !== undefined) registry.warmupEndedAt = snapshot.warmupEndedAt;
  }
  registry.vus = vus;
  registry.vusMax = Math.max(registry.vusMax, vusMax);
  if (vus > registry.vusPeak) registry.vusPeak = vus;
  registry.queuedArrivals = queued;
  // Each worker's own peak, added: an upper bound (the peaks may not have coincided).
  registry.queuedArrivalsPeak = Math.max(registry.queuedArrivalsPeak, queuedPeak);
}

/**
 * Adds one worker's series into the registry's, in place: each histogram decoded once and added
 * once. (Building a Series from the snapshot first and adding that made a dozen fresh histograms
 * per series, per worker, every second, and copied every count twice: three quarters of the
 * parent's tick.)
 */
function addSeriesSnapshot(target: Series, part: SeriesSnapshot): void {
  SERIES_COUNTERS.forEach((name, index) => (target[name] += part.counts[index] ?? 0));
  const trends = trendsOf(target);
  part.trends.forEach((encoded, index) => {
    if (encoded !== null) trends[index]!.add(TrendSink.decode(encoded));
  });
  for (const [code, count] of part.deferrals) target.deferrals.set(code, (target.deferrals.get(code) ?? 0) + count);
  for (const [bytes, count] of part.bodySizes) target.bodySizes.set(bytes, (target.bodySizes.get(bytes) ?? 0) + count);
  for (const [bytes, count] of part.messageSizes ?? []) target.messageSizes.set(bytes, (target.messageSizes.get(bytes) ?? 0) + count);
  for (const error of part.errors) countError(target.errors, error, error.count);
  for (const error of part.afterAcceptErrors) countError(target.afterAcceptErrors, error, error.count);
}

function tagSetFrom(part: TagSetSnapshot, hasTrend: boolean): CustomTagSet {
  const set = new CustomTagSet(part.tags, hasTrend);
  if (set.trend && part.trend) set.trend.add(TrendSink.decode(part.trend));
  set.sum = part.sum;
  set.samples = part.samples;
  set.nonZero = part.nonZero;
  set.last = part.last;
  set.lastSequence = part.lastSequence;
  set.min = part.min ?? Infinity;
  set.max = part.max ?? -Infinity;
  return set;
}

/**
 * Every worker's progress of each scenario, added: counts and VUs summed, the longest elapsed
 * time, and the state of the scenario as a whole (running while any worker runs it).
 */
export function mergeProgress(parts: readonly ScenarioProgress[][], planned: readonly ScenarioProgress[]): ScenarioProgress[] {
  return planned.map((whole) => {
    const merged: ScenarioProgress = { ...whole, elapsedMs: 0, iterationsStarted: 0, activeVus: 0, allocatedVus: 0, queuedArrivals: 0, accepted: 0, failed: 0, dropped: 0 };
    const states = new Set<ScenarioProgress['state']>();
    for (const progress of parts) {
      const part = progress.find((p) => p.name === whole.name);
      if (!part) continue;
      merged.elapsedMs = Math.max(merged.elapsedMs, part.elapsedMs);
      merged.iterationsStarted += part.iterationsStarted;
      merged.activeVus += part.activeVus;
      merged.allocatedVus += part.allocatedVus;
      merged.queuedArrivals += part.queuedArrivals;
      merged.accepted += part.accepted;
      merged.failed += part.failed;
      merged.dropped += part.dropped;
      states.add(part.state);
    }
    merged.state = states.has('running') ? 'running' : states.has('draining') ? 'draining' : states.has('waiting') ? 'waiting' : states.size > 0 ? 'done' : whole.state;
    return merged;
  });
}

/**
 * The parent's window `[startMs, nowMs]` (ms since the load started) made of the workers'
 * windows that closed in it: counts add, the transaction histograms add (exact percentiles),
 * VUs are the sum of each worker's latest count (`vus`), the queue the sum of their longest. A
 * worker's window lands in the parent window in which it closed: up to one second from where its
 * messages happened, as `runner merge` bins them.
 */
export function mergeWindows(windows: readonly WindowSnapshot[], startMs: number, nowMs: number, vus: number, isDeliveryTracked = false): { point: TimelinePoint; txn: TrendSink } {
  const txn = new TrendSink();
  let started = 0;
  let accepted = 0;
  let failed = 0;
  let dropped = 0;
  let messageBytes = 0;
  let planned = 0;
  let queued = 0;
  let delivered = 0;
  let backlog = 0;
  for (const { point, txn: encoded } of windows) {
    started += point.started;
    accepted += point.accepted;
    failed += point.failed;
    dropped += point.dropped;
    messageBytes += point.messageBytes ?? 0;
    planned += point.planned ?? 0;
    queued += point.queued ?? 0;
    delivered += point.delivered ?? 0;
    backlog += point.backlog ?? 0;
    if (encoded) txn.add(TrendSink.decode(encoded));
  }
  const windowMs = nowMs - startMs;
  const point: TimelinePoint = {
    t: Math.round(nowMs / 10) / 100,
    windowMs: Math.round(windowMs),
    started,
    accepted,
    failed,
    dropped,
    msgsPerSecond: windowMs > 0 ? (accepted * 1000) / windowMs : 0,
    ...windowPercentiles(txn),
    vus,
    queued,
    messageBytes,
    bytesPerSecond: windowMs > 0 ? (messageBytes * 1000) / windowMs : 0,
    planned,
    txnHistogram: txn.count ? txn.encode() : null,
  };
  if (isDeliveryTracked) {
    point.delivered = delivered;
    point.backlog = backlog;
  }
  return { point, txn };
}
