/**
 * Every metric of one test run: the built-in series (one per scenario × account), custom
 * metrics from scenario code, the VU gauges, dropped iterations, and the per-second timeline
 * (bounded: see timeline.ts). The engine records into it; outputs and thresholds read aggregates from it.
 */
import { IterationErrorGroups } from './iteration-errors.ts';
import { performance } from 'node:perf_hooks';
import type { MetricValues } from '../thresholds/evaluate.ts';
import type { MetricInfo, MetricType } from './catalogue.ts';
import { BUILT_IN_METRICS, REPLY_TAG, phaseMetricName } from './catalogue.ts';
import { PHASES } from '../smtp/phases.ts';
import { Series } from './series.ts';
import { SourceSeries } from './source-series.ts';
import { TrendSink } from './trend.ts';
import { Timeline, windowPercentiles, type RateChange, type TimelinePoint } from './timeline.ts';
import { CHECKS, GROUP_DURATION, type CustomMetric, type CustomTagSet } from './custom.ts';

/** One window of the timeline (defined in timeline.ts; re-exported where it always was). */
export type { TimelinePoint } from './timeline.ts';

/** Options of a registry. */
export interface RegistryOptions {
  /** Most timeline points kept in memory (longer runs fold windows). @default DEFAULT_TIMELINE_MAX_POINTS (7200) */
  timelineMaxPoints?: number;
}

/** A sample-backed custom metric declared by scenario code (defined in custom.ts; re-exported where it always was). */
export type { CustomMetric } from './custom.ts';

/** What thresholds need from a metric (times in ms): the evaluator's MetricValues. */
export type AggregateValues = MetricValues;

/**
 * What the VUs tell a delivery tracker (runner/delivery/tracker.ts) per message, declared here so
 * the metrics stay below it: `traceSequence` is the message's X-Runner-Trace sequence, times are
 * performance.now() ms.
 */
export interface DeliveryRecorder {
  /** A message was accepted (250 after end-of-data) at `acceptedAtMs`; `startMs`: its (intended) start. */
  accepted(traceSequence: number, series: Series, acceptedAtMs: number, startMs: number): void;
  /** A message whose data was written failed or was interrupted: an arrival of it is unexpected. */
  failed(traceSequence: number, series: Series): void;
  /** A warm-up ended: messages so far stay in the timeline but leave the totals. */
  endWarmup(): void;
}

export class MetricsRegistry {
  /** The delivery tracker, when `delivery` is asked: the VUs' recorders report each message to it. */
  delivery: DeliveryRecorder | undefined = undefined;
  /** performance.now() when the load started. */
  startMs: number;
  readonly series: Series[] = [];
  private readonly seriesByKey = new Map<string, Series>();
  /** Custom metrics declared by scenario code (see custom.ts). */
  readonly custom: ReadonlyMap<string, CustomMetric>;
  /** What iteration() threw (scenario bugs), grouped by message and place; counted per series as scriptErrors. */
  readonly iterationErrors = new IterationErrorGroups();
  /** Dropped iterations per scenario. */
  readonly dropped = new Map<string, number>();
  vus = 0;
  vusMax = 0;
  vusPeak = 0;
  /** Arrivals waiting for a free VU now, every scenario (the arrivals_queued gauge). */
  queuedArrivals = 0;
  /** Highest queuedArrivals since the start (or the end of the warm-up). */
  queuedArrivalsPeak = 0;
  /** The windows closed so far, in bounded memory (see timeline.ts). */
  private readonly timelineStore: Timeline;
  private lastWindowValue: TimelinePoint | undefined;
  /** Current window: counts since the last tick. */
  private readonly window = { startMs: 0, started: 0, accepted: 0, failed: 0, dropped: 0, queuedMax: 0, messageBytes: 0, planned: 0, delivered: 0, pausedMs: 0, rateChanges: undefined as RateChange[] | undefined };
  /** performance.now() when the current pause began; undefined while not paused. */
  private pausedSinceMs: number | undefined;
  /**
   * Whether delivery is tracked (runner/delivery/): the timeline's points then carry `delivered`
   * and `backlog`, which the tracker keeps through noteTracked/noteDelivered.
   */
  isDeliveryTracked = false;
  /** Tracked messages accepted and not (yet) arrived upstream: the timeline's backlog. */
  deliveryBacklog = 0;
  private readonly windowTxn = new TrendSink();

  constructor(startMs = performance.now(), custom: ReadonlyMap<string, CustomMetric> = new Map(), options: RegistryOptions = {}) {
    this.startMs = startMs;
    this.custom = custom;
    this.window.startMs = startMs;
    this.timelineStore = new Timeline({ maxPoints: options.timelineMaxPoints });
  }

  /**
   * The run's timeline: one point per second up to the cap (2 h by default), then points of 2,
   * 4, … seconds (every window is still in it, folded; see timeline.ts).
   */
  get timeline(): TimelinePoint[] {
    return this.timelineStore.points;
  }

  /** The last window closed by tick(), whole (the timeline may have folded it into a longer point). */
  get lastWindow(): TimelinePoint | undefined {
    return this.lastWindowValue;
  }

  /** Per source address (--local-ips), in the order first used; empty without source addresses. */
  readonly sources = new Map<string, SourceSeries>();

  /** The figures of one source address, created on first use (once per address, not per message). */
  sourceFor(address: string): SourceSeries {
    let source = this.sources.get(address);
    if (source === undefined) {
      source = new SourceSeries();
      this.sources.set(address, source);
    }
    return source;
  }

  /**
   * The series for a scenario, sender and group (ctx.group() path, '' outside any group); created
   * on first use (not on the hot path after that). Only grouped series carry a `group` tag.
   */
  seriesFor(scenario: string, account: string, tags: Record<string, string> = {}, group = ''): Series {
    const key = group === '' ? `${scenario}\u0000${account}` : `${scenario}\u0000${account}\u0000${group}`;
    let series = this.seriesByKey.get(key);
    if (!series) {
      series = new Series(group === '' ? { ...tags, scenario, account } : { ...tags, scenario, account, group });
      series.index = this.series.length;
      this.seriesByKey.set(key, series);
      this.series.push(series);
    }
    return series;
  }

  /** Arrival-rate executors reached `count` planned instants (timeline `planned`). */
  notePlanned(count: number): void {
    this.window.planned += count;
  }

  /** An iteration started (timeline). */
  noteStarted(): void {
    this.window.started++;
  }

  /** A message of `messageBytes` bytes was accepted after `txnUs` (timeline). */
  noteAccepted(txnUs: number, messageBytes = 0): void {
    this.window.accepted++;
    this.window.messageBytes += messageBytes;
    this.windowTxn.record(txnUs);
  }

  /** A tracked message was accepted: it is in the backlog until it arrives. */
  noteTracked(): void {
    this.deliveryBacklog++;
  }

  /**
   * A tracked message arrived upstream (timeline `delivered`, out of the backlog; `wasInBacklog`
   * false: it had left it already, refused, and arrives all the same: a proxy's retry).
   */
  noteDelivered(wasInBacklog = true): void {
    this.window.delivered++;
    if (wasInBacklog) this.deliveryBacklog--;
  }

  /** A tracked message was refused upstream: it leaves the backlog (the proxy dropped it) without arriving. */
  noteRefused(): void {
    this.deliveryBacklog--;
  }

  noteFailed(): void {
    this.window.failed++;
  }

  noteDropped(scenario: string, count = 1): void {
    this.window.dropped += count;
    this.dropped.set(scenario, (this.dropped.get(scenario) ?? 0) + count);
  }

  /** The arrival queues changed by `delta` arrivals (each change, so the window keeps its highest). */
  addQueuedArrivals(delta: number): void {
    const queued = (this.queuedArrivals += delta);
    if (queued > this.window.queuedMax) this.window.queuedMax = queued;
    if (queued > this.queuedArrivalsPeak) this.queuedArrivalsPeak = queued;
  }

  setVus(active: number, allocated: number): void {
    this.vus = active;
    this.vusMax = allocated;
    if (active > this.vusPeak) this.vusPeak = active;
  }

  /**
   * Seconds since the start at which a warm-up ended (undefined: no warm-up, or not over yet).
   * Everything before it is in the timeline but not in the totals.
   */
  warmupEndedAt: number | undefined;

  /** Ends a warm-up now: totals and dropped counts start again from zero; the timeline stays. */
  endWarmup(nowMs = performance.now()): void {
    for (const series of this.series) series.reset();
    for (const source of this.sources.values()) source.reset();
    this.delivery?.endWarmup();
    // Every tag set of every custom metric, and the tag sets themselves.
    for (const custom of this.custom.values()) custom.reset();
    CHECKS.reset();
    GROUP_DURATION.reset();
    this.dropped.clear();
    this.queuedArrivalsPeak = this.queuedArrivals;
    this.warmupEndedAt = Math.round((nowMs - this.startMs) / 10) / 100;
  }

  /** Restarts the clock when the load starts (after setup). */
  /** The run was paused (true) or resumed (false) at `nowMs`: the timeline marks the paused part of each window. */
  setPaused(isPaused: boolean, nowMs = performance.now()): void {
    if (isPaused) {
      this.pausedSinceMs ??= nowMs;
      return;
    }
    if (this.pausedSinceMs === undefined) return;
    this.window.pausedMs += nowMs - Math.max(this.pausedSinceMs, this.window.startMs);
    this.pausedSinceMs = undefined;
  }

  /**
   * A scenario's arrival rate was set to `ratePerSecond` at `nowMs` (runner scale --rate, the REST
   * API): the timeline marks it in the window it falls in, at its instant (s since the start).
   */
  noteRateChange(scenario: string, ratePerSecond: number, nowMs = performance.now()): void {
    const change: RateChange = { t: Math.round(nowMs - this.startMs) / 1000, scenario, ratePerSecond };
    (this.window.rateChanges ??= []).push(change);
  }

  resetClock(startMs: number): void {
    this.startMs = startMs;
    this.window.startMs = startMs;
  }

  /**
   * Closes the current timeline window at `nowMs` (performance.now()) and returns it whole (with
   * its histogram), also once the timeline folds windows. The final call of a run (`isFinal`)
   * adds the last partial window only when something happened in it.
   */
  tick(nowMs = performance.now(), isFinal = false): TimelinePoint | undefined {
    const windowMs = nowMs - this.window.startMs;
    const w = this.window;
    // An idle final window adds no point, unless the VU count changed since the last one: a
    // ramp-down whose last VU stopped after the last tick must still end the timeline at its
    // real count (0), not at the count the tick saw.
    if (isFinal && w.started + w.accepted + w.failed + w.dropped + w.delivered === 0 && (this.lastWindowValue === undefined || this.lastWindowValue.vus === this.vus)) {
      return undefined;
    }
    // The part of this window the run spent paused (a pause still going counts up to now)
    const pausedMs = w.pausedMs + (this.pausedSinceMs === undefined ? 0 : nowMs - Math.max(this.pausedSinceMs, w.startMs));
    const txn = this.windowTxn;
    const point: TimelinePoint = {
      t: Math.round((nowMs - this.startMs) / 10) / 100,
      windowMs: Math.round(windowMs),
      started: w.started,
      accepted: w.accepted,
      failed: w.failed,
      dropped: w.dropped,
      msgsPerSecond: windowMs > 0 ? (w.accepted * 1000) / windowMs : 0,
      ...windowPercentiles(txn),
      vus: this.vus,
      queued: w.queuedMax,
      messageBytes: w.messageBytes,
      bytesPerSecond: windowMs > 0 ? (w.messageBytes * 1000) / windowMs : 0,
      planned: w.planned,
      // Encoding costs ~0.2 ms once a second; it lets runner merge and the compaction be exact.
      txnHistogram: txn.count ? txn.encode() : null,
    };
    if (pausedMs > 0) point.pausedMs = Math.round(pausedMs);
    if (w.rateChanges !== undefined) point.rateChanges = w.rateChanges;
    if (this.isDeliveryTracked) {
      point.delivered = w.delivered;
      point.backlog = this.deliveryBacklog;
    }
    this.timelineStore.add(point, txn);
    this.lastWindowValue = point;
    // Reset in place, never replaced: V8 treats a field never reassigned as a constant in the
    // optimized recording path, and replacing the object at the first tick threw that code away
    // (measured with --trace-generalization). Arrivals still queued are queued in the next window.
    w.startMs = nowMs;
    w.started = w.accepted = w.failed = w.dropped = w.messageBytes = w.planned = w.delivered = w.pausedMs = 0;
    w.rateChanges = undefined;
    w.queuedMax = this.queuedArrivals;
    txn.reset();
    return point;
  }

  /**
   * Adds a window closed elsewhere (`runner run --workers`: the parent's merge of its workers'
   * windows) as tick() adds its own.
   */
  addWindow(point: TimelinePoint, txn: TrendSink): void {
    this.timelineStore.add(point, txn);
    this.lastWindowValue = point;
  }

  /**
   * Sum of every series whose tags match `filter` (all series for an empty filter). Read only:
   * when a single series matches, it is returned itself.
   */
  aggregate(filter: Readonly<Record<string, string>> = {}): Series {
    // One scenario and one sender is the common case: that series is the sum, no copy needed
    // (a copy adds ~14 histograms, ~12 ms of a one-message run's summary).
    let only: Series | undefined;
    let matches = 0;
    for (const series of this.series) {
      if (series.matches(filter)) {
        only = series;
        matches++;
      }
    }
    if (matches === 1) return only!;
    const total = new Series(filter);
    for (const series of this.series) if (series.matches(filter)) total.add(series);
    return total;
  }

  /** The ctx.group() paths that have SMTP samples, in the order first seen. */
  groupPaths(): string[] {
    const paths = new Set<string>();
    for (const series of this.series) {
      const group = series.tags['group'];
      if (group !== undefined) paths.add(group);
    }
    return [...paths];
  }

  /** Total dropped iterations, for one scenario or all. */
  droppedCount(scenario?: string): number {
    if (scenario !== undefined) return this.dropped.get(scenario) ?? 0;
    let total = 0;
    for (const count of this.dropped.values()) total += count;
    return total;
  }

  /** Every metric a threshold may name: built-ins plus custom metrics. */
  knownMetrics(): Map<string, MetricInfo> {
    const all = new Map(BUILT_IN_METRICS);
    for (const [name, metric] of this.custom) all.set(name, metric.info);
    return all;
  }

  /**
   * Values of a metric (optionally restricted to series, or a custom metric's tag sets, matching
   * `tags`) for thresholds and summaries; durations in ms. `elapsedMs` is the test time counter
   * rates are divided by.
   */
  values(metric: string, tags: Readonly<Record<string, string>>, elapsedMs: number): AggregateValues | undefined {
    const custom = this.custom.get(metric);
    if (custom) return customValues(custom.info.type, custom.aggregate(tags), elapsedMs);
    const info = BUILT_IN_METRICS.get(metric);
    if (!info) return undefined;
    const seconds = elapsedMs / 1000;
    const counter = (count: number): AggregateValues => ({ type: 'counter', count, rate: () => (seconds > 0 ? count / seconds : 0) });
    const gauge = (value: number, min: number, max: number): AggregateValues => ({
      type: 'gauge', count: 1, value: () => value, min: () => min, max: () => max,
    });
    if (metric === 'checks') return customValues('rate', CHECKS.aggregate(tags), elapsedMs);
    if (metric === 'group_duration') return customValues('trend', GROUP_DURATION.aggregate(tags), elapsedMs);
    if (metric === 'dropped_iterations') return counter(this.droppedCount(tags['scenario']));
    if (metric === 'vus') return gauge(this.vus, 0, this.vusPeak);
    if (metric === 'vus_max') return gauge(this.vusMax, 0, this.vusMax);
    if (metric === 'arrivals_queued') return gauge(this.queuedArrivals, 0, this.queuedArrivalsPeak);
    if (metric === 'smtp_deferrals' && tags[REPLY_TAG] !== undefined) {
      const { [REPLY_TAG]: reply, ...seriesTags } = tags;
      return counter(this.aggregate(seriesTags).deferrals.get(Number(reply)) ?? 0);
    }
    const series = this.aggregate(tags);
    switch (metric) {
      case 'smtp_txns': return counter(series.txns);
      case 'smtp_connections': return counter(series.connections);
      case 'iterations': return counter(series.iterations);
      case 'iteration_errors': return counter(series.scriptErrors);
      case 'data_sent': return counter(series.bytesSent);
      case 'data_received': return counter(series.bytesReceived);
      case 'smtp_txn_failed': {
        const judged = series.accepted + series.failed;
        return { type: 'rate', count: judged, rate: () => (judged ? series.failed / judged : 0) };
      }
      case 'smtp_txn_duration': return trendValues(series.txnDuration, 1000);
      case 'smtp_txn_response_time': return trendValues(series.txnResponseTime, 1000);
      case 'iteration_duration': return trendValues(series.iterationDuration, 1000);
      case 'smtp_delivered': return counter(series.delivered);
      case 'smtp_lost': return counter(series.lost);
      case 'smtp_duplicated': return counter(series.duplicated);
      case 'smtp_unexpected': return counter(series.unexpected);
      case 'smtp_delivery_lag': return trendValues(series.deliveryLag, 1000);
      case 'smtp_e2e_duration': return trendValues(series.e2eDuration, 1000);
      case 'smtp_deferrals': return counter(series.deferred);
      case 'smtp_retry_pending': return counter(series.retryPending);
      case 'smtp_attempts_per_message': return trendValues(series.attemptsPerMessage, 1);
      case 'smtp_eventual_duration': return trendValues(series.eventualDuration, 1000);
      case 'smtp_first_try': {
        const messages = series.accepted + series.failed + series.retryPending;
        return { type: 'rate', count: messages, rate: () => (messages ? series.firstTry / messages : 0) };
      }
    }
    const phaseIndex = PHASES.findIndex((phase) => phaseMetricName(phase) === metric);
    if (phaseIndex >= 0) return trendValues(series.phases[phaseIndex]!, 1000);
    return undefined;
  }
}

/** Trend values scaled down by `divisor` (µs → ms with 1000). */
export function trendValues(trend: TrendSink, divisor: number): AggregateValues {
  return {
    type: 'trend',
    count: trend.count,
    avg: () => trend.avg() / divisor,
    min: () => trend.percentile(0) / divisor,
    max: () => trend.percentile(100) / divisor,
    percentile: (p: number) => trend.percentile(p) / divisor,
  };
}

/**
 * What thresholds and summaries read from a custom metric's samples (one tag set, or a sum of
 * them): trends in ms (time) or units, counter rates per second of `elapsedMs`.
 */
export function customValues(type: MetricType, set: CustomTagSet, elapsedMs: number): AggregateValues {
  switch (type) {
    case 'trend':
      // Samples are stored ×1000 (µs for times, milli-units otherwise); thresholds see ms / units.
      return trendValues(set.trend!, 1000);
    case 'counter':
      return { type: 'counter', count: set.sum, rate: () => (elapsedMs > 0 ? set.sum / (elapsedMs / 1000) : 0) };
    case 'rate':
      return { type: 'rate', count: set.samples, rate: () => (set.samples ? set.nonZero / set.samples : 0) };
    case 'gauge':
      return {
        type: 'gauge', count: set.samples, value: () => set.last,
        min: () => (set.samples ? set.min : 0), max: () => (set.samples ? set.max : 0),
      };
  }
}
