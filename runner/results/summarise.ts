/**
 * The one summariser: raw aggregates (counts and HDR histograms) in, the results file's figures
 * out. `runner run` summarises its registry, `runner merge` the added aggregates of several files;
 * a single run is the merge of one (autocannon's aggregateResult). Each histogram is encoded once,
 * here, and never decoded again in the same process.
 *
 * Rounding, as the old tool wrote them: throughput_rps and successful_rps to 3 decimals,
 * throughput_rpm to 1, total_time_seconds to 3, latencies to the µs.
 */
import { TrendSink } from '../metrics/trend.ts';
import { round } from '../util/format.ts';
import { timelineEntry, trendsFigures, watchFigures, type TimelinePointInMemory, type TrendsInMemory, type WatchInMemory } from './names.ts';
import { RESULTS_SCHEMA_VERSION } from './version.ts';
import type { DeliveryCounts, DeliveryFigures, GroupDeliveryFigures } from './types.ts';
import { trendStatMs } from './trend-stats.ts';
import { CLIENT_FAULTS_METRIC, CLIENT_FAULT_KINDS } from '../smtp/client-faults.ts';
import type { CustomMetricFigures, ErrorFigure, IterationErrorFigure, GroupCounts, GroupFigures, LatencySeconds, RetryFigures, ScenarioFigures, SourceIpFigures, Summary, TestFigures, ThresholdOutcome } from './types.ts';

/**
 * The latency samples of a group: its histogram (µs), or, for a group merged from older files
 * that carried no group histogram, the parts' figures (combined as well as figures allow).
 */
export type LatencySource = TrendSink | readonly LatencySeconds[];

/** A group's delivery before summarising: counts and the two trends (µs). */
export interface DeliveryAggregate {
  counts: DeliveryCounts;
  lag: TrendSink;
  e2e: TrendSink;
}

/** A group of messages before summarising: its counts and its latency samples. */
export interface GroupAggregate {
  counts: GroupCounts;
  txn: LatencySource;
  /** With delivery tracking. */
  delivery?: DeliveryAggregate;
}

/** The whole test's delivery: a group's, and how it was tracked. */
export interface RunDeliveryAggregate extends DeliveryAggregate {
  source: DeliveryFigures['source'];
  timeoutSeconds: number;
  wait: DeliveryFigures['wait'];
  waitSeconds: number;
  late: number;
  unknown: number;
}

/** The counters of the whole test that are summed, never derived. */
export type TestCounters = Pick<TestFigures, 'connections' | 'message_bytes' | 'bytes_sent' | 'bytes_received' | 'iterations' | 'dropped_iterations' | 'script_errors' | 'vus_max'>;

/** Everything a results file is made from, before any figure is derived. */
export interface RunAggregates {
  timestamp: string;
  target: string;
  config: Record<string, unknown>;
  status: Summary['status'];
  abortReason: string | null;
  /** Wall-clock seconds of the test, unrounded: every rate is over it. */
  durationSeconds: number;
  total: GroupAggregate & { txn: TrendSink };
  responseTime: TrendSink;
  /** Per SMTP phase, in the order they are listed; empty ones are left out. */
  phases: ReadonlyMap<string, TrendSink>;
  errors: ErrorFigure[];
  errorsAfterAccept: ErrorFigure[];
  counters: TestCounters;
  /** What iteration() threw, grouped (commonest first); empty or undefined when nothing was. */
  iterationErrors?: IterationErrorFigure[];
  /** The warm-up left out of the figures; undefined leaves the field out (a merge). */
  warmup?: TestFigures['warmup'];
  scenarios: ReadonlyMap<string, GroupAggregate & { executor: string; droppedIterations: number }>;
  accounts: ReadonlyMap<string, GroupAggregate>;
  /** SMTP figures per ctx.group() path ('::outer::inner'); absent or empty without groups. */
  groups?: ReadonlyMap<string, GroupAggregate>;
  /** Per source address (--local-ips), with its connections; absent or empty without source addresses. */
  sourceIps?: ReadonlyMap<string, GroupAggregate & { connections: number }>;
  /** `--summary-trend-stats`: the figures of each trend to list in `trend_stats`; absent: none. */
  trendStats?: readonly string[];
  /** Custom metrics' figures (see customMetricFigures). */
  customMetrics: Record<string, CustomMetricFigures>;
  thresholds: ThresholdOutcome[];
  timeline: readonly TimelinePointInMemory[];
  watch: WatchInMemory | null;
  trends: TrendsInMemory | null;
  /** With delivery tracking; undefined leaves the block out. */
  delivery?: RunDeliveryAggregate;
  /** With a retry policy; undefined leaves the block out. */
  retries?: RetryAggregate;
  /**
   * Accepted generated messages by body size in bytes (message_sizes) and the test's
   * message_bytes_per_second; undefined leaves both out (a merge of files without them).
   */
  messageSizes?: ReadonlyMap<number, number>;
  /** Accepted messages of every kind by whole size in bytes (head and body as the server keeps them): message_total_sizes. */
  messageTotalSizes?: ReadonlyMap<number, number>;
}

/** Retries before summarising (with a scenario's `retry`). */
export interface RetryAggregate {
  deferred: number;
  deferrals: ReadonlyMap<number, number>;
  firstTry: number;
  pending: number;
  /** Messages with a final outcome or pending: the first-try share's denominator. */
  messages: number;
  attempts: TrendSink;
  eventual: TrendSink;
}

/** The whole test's distributions, for outputs that draw them (the HTML report) without decoding. */
export interface Distributions {
  txn: TrendSink;
  responseTime: TrendSink;
}

/** Summarises raw aggregates into the results file (see the module comment). */
export function summarise(aggregates: RunAggregates): Summary {
  const seconds = aggregates.durationSeconds;
  const phases: TestFigures['phases'] = {};
  const phaseHistograms: Summary['histograms']['phases'] = {};
  for (const [phase, trend] of aggregates.phases) {
    if (trend.count === 0) continue;
    phases[phase] = latencySeconds(trend);
    phaseHistograms[phase] = trend.encode();
  }
  const scenarios: Record<string, ScenarioFigures> = {};
  for (const [name, group] of aggregates.scenarios) {
    scenarios[name] = { executor: group.executor, ...groupFigures(group, seconds), ...groupHistogram(group), dropped_iterations: group.droppedIterations, ...groupDelivery(group, seconds) };
  }
  const accounts: Record<string, GroupFigures> = {};
  for (const [name, group] of aggregates.accounts) accounts[name] = { ...groupFigures(group, seconds), ...groupHistogram(group), ...groupDelivery(group, seconds) };
  const groups: Record<string, GroupFigures> = {};
  for (const [name, group] of aggregates.groups ?? []) groups[name] = { ...groupFigures(group, seconds), ...groupHistogram(group) };
  const sourceIps: Record<string, SourceIpFigures> = {};
  for (const [address, group] of aggregates.sourceIps ?? []) sourceIps[address] = { ...groupFigures(group, seconds), ...groupHistogram(group), connections: group.connections };
  const results: TestFigures = {
    total_time_seconds: round(seconds, 3),
    ...groupFigures(aggregates.total, seconds),
    response_time: latencySeconds(aggregates.responseTime),
    phases,
    errors: aggregates.errors,
    errors_after_accept: aggregates.errorsAfterAccept,
    ...aggregates.counters,
  };
  if (aggregates.warmup !== undefined) results.warmup = aggregates.warmup;
  if (aggregates.iterationErrors?.length) results.iteration_errors = aggregates.iterationErrors;
  if (aggregates.messageSizes !== undefined) {
    results.message_bytes_per_second = seconds > 0 ? round(aggregates.counters.message_bytes / seconds, 1) : 0;
    if (aggregates.messageSizes.size > 0) {
      results.message_sizes = [...aggregates.messageSizes].sort((a, b) => a[0] - b[0]).map(([bytes, messages]) => ({ body_bytes: bytes, messages }));
    }
    const totalSizes = aggregates.messageTotalSizes;
    if (totalSizes !== undefined && totalSizes.size > 0) {
      results.message_total_sizes = [...totalSizes].sort((a, b) => a[0] - b[0]).map(([bytes, messages]) => ({ bytes, messages }));
    }
  }
  const summary: Summary = {
    schema_version: RESULTS_SCHEMA_VERSION,
    timestamp: aggregates.timestamp,
    target: aggregates.target,
    config: aggregates.config,
    status: aggregates.status,
    abort_reason: aggregates.abortReason,
    results,
    scenarios,
    accounts,
    ...(Object.keys(groups).length ? { groups } : {}),
    ...(Object.keys(sourceIps).length ? { source_ips: sourceIps } : {}),
    ...(aggregates.trendStats?.length ? { trend_stats: trendStatsFigures(aggregates, aggregates.trendStats) } : {}),
    custom_metrics: aggregates.customMetrics,
    thresholds: aggregates.thresholds,
    timeline: aggregates.timeline.map(timelineEntry),
    watch: aggregates.watch ? watchFigures(aggregates.watch) : null,
    trends: aggregates.trends ? trendsFigures(aggregates.trends) : null,
    histograms: {
      txn_duration: aggregates.total.txn.encode(),
      txn_response_time: aggregates.responseTime.encode(),
      phases: phaseHistograms,
    },
  };
  const delivery = aggregates.delivery;
  if (delivery) {
    // Beside the histograms' block in the file: every other field keeps its place
    const { histograms } = summary;
    delete (summary as Partial<Summary>).histograms;
    summary.delivery = {
      source: delivery.source,
      timeout_seconds: round(delivery.timeoutSeconds, 3),
      wait: delivery.wait,
      wait_seconds: round(delivery.waitSeconds, 3),
      ...deliveryFigures(delivery, seconds),
      late: delivery.late,
      unknown: delivery.unknown,
    };
    summary.histograms = histograms;
  }
  const clientFaults = clientFaultFigures(aggregates.customMetrics);
  if (clientFaults !== undefined) {
    const { histograms } = summary;
    delete (summary as Partial<Summary>).histograms;
    summary.client_faults = clientFaults;
    summary.histograms = histograms;
  }
  if (aggregates.retries) {
    const { histograms } = summary;
    delete (summary as Partial<Summary>).histograms;
    summary.retries = retryFigures(aggregates.retries);
    summary.histograms = histograms;
  }
  return summary;
}

/** A group's delivery field: present when the group has delivery aggregates. */
function groupDelivery(group: GroupAggregate, seconds: number): Pick<GroupFigures, 'delivery'> {
  return group.delivery ? { delivery: deliveryFigures(group.delivery, seconds) } : {};
}

/** Delivery figures of a group, rates over `seconds`. */
/**
 * The `client_faults` block: the counter client_faults (smtp/client-faults.ts) by its `kind` tag,
 * in the kinds' order; undefined when no fault was done. From the custom metrics, so `runner merge`
 * and --workers sum it exactly.
 */
export function clientFaultFigures(customMetrics: Readonly<Record<string, CustomMetricFigures>>): Record<string, number> | undefined {
  const metric = customMetrics[CLIENT_FAULTS_METRIC];
  if (metric === undefined || metric.type !== 'counter' || !metric.count) return undefined;
  const byKind = new Map<string, number>();
  for (const set of metric.tag_sets ?? []) {
    const kind = set.tags['kind'];
    if (kind !== undefined) byKind.set(kind, (byKind.get(kind) ?? 0) + set.count);
  }
  const figures: Record<string, number> = {};
  for (const kind of CLIENT_FAULT_KINDS) if (byKind.has(kind)) figures[kind] = byKind.get(kind)!;
  for (const [kind, count] of byKind) if (!(kind in figures)) figures[kind] = count;
  return figures;
}

/** The `retries` block of a results file. */
export function retryFigures(retries: RetryAggregate): RetryFigures {
  const attempts = retries.attempts;
  const deferrals: Record<string, number> = {};
  for (const code of [...retries.deferrals.keys()].sort((a, b) => a - b)) deferrals[String(code)] = retries.deferrals.get(code)!;
  return {
    deferred: retries.deferred,
    deferrals,
    first_try: retries.firstTry,
    first_try_rate: retries.messages > 0 ? round(retries.firstTry / retries.messages, 4) : 0,
    pending: retries.pending,
    attempts_per_message: {
      count: attempts.count,
      avg: attempts.count ? round(attempts.avg(), 3) : 0,
      p50: attempts.count ? attempts.percentile(50) : 0,
      p95: attempts.count ? attempts.percentile(95) : 0,
      max: attempts.count ? attempts.percentile(100) : 0,
    },
    eventual_duration: latencySeconds(retries.eventual),
    attempts_histogram: attempts.encode(),
    eventual_histogram: retries.eventual.encode(),
  };
}

export function deliveryFigures(delivery: DeliveryAggregate, seconds: number): GroupDeliveryFigures {
  const { counts } = delivery;
  const judged = counts.delivered + counts.lost;
  return {
    ...counts,
    delivered_rate: judged ? counts.delivered / judged : 0,
    delivered_rps: round(seconds > 0 ? counts.delivered / seconds : 0, 3),
    lag: latencySeconds(delivery.lag),
    e2e: latencySeconds(delivery.e2e),
    lag_histogram: delivery.lag.encode(),
    e2e_histogram: delivery.e2e.encode(),
  };
}

/** The chosen stats of every built-in SMTP trend (ms; count as a number). */
function trendStatsFigures(aggregates: RunAggregates, stats: readonly string[]): NonNullable<Summary['trend_stats']> {
  const metrics: Record<string, Record<string, number | null>> = {};
  const add = (name: string, trend: TrendSink) => {
    metrics[name] = Object.fromEntries(stats.map((stat) => [stat, trendStatMs(trend, stat)]));
  };
  add('smtp_txn_duration', aggregates.total.txn);
  add('smtp_txn_response_time', aggregates.responseTime);
  for (const [phase, trend] of aggregates.phases) if (trend.count > 0) add(`smtp_${phase}_duration`, trend);
  return { stats: [...stats], metrics };
}

/** A group's histogram field: present when its samples are a histogram. */
function groupHistogram(group: GroupAggregate): Pick<GroupFigures, 'histogram'> {
  return group.txn instanceof TrendSink ? { histogram: group.txn.encode() } : {};
}

/** A group's figures, rates over `seconds` (its histogram is the caller's to add). */
export function groupFigures(group: GroupAggregate, seconds: number): Omit<GroupFigures, 'histogram'> {
  const { counts, txn } = group;
  const judged = counts.successful + counts.failed;
  const rps = seconds > 0 ? counts.total_requests / seconds : 0;
  return {
    total_requests: counts.total_requests,
    successful: counts.successful,
    failed: counts.failed,
    interrupted: counts.interrupted,
    success_rate: judged ? counts.successful / judged : 0,
    throughput_rps: round(rps, 3),
    throughput_rpm: round(rps * 60, 1),
    successful_rps: round(seconds > 0 ? counts.successful / seconds : 0, 3),
    latency: txn instanceof TrendSink ? latencySeconds(txn) : combineLatency(txn),
  };
}

/** Latency figures of a µs trend, in seconds with µs precision. */
export function latencySeconds(trend: TrendSink): LatencySeconds {
  const empty = trend.count === 0;
  const seconds = (us: number): number | null => (empty ? null : Math.round(us) / 1e6);
  return {
    count: trend.count,
    min_seconds: seconds(trend.percentile(0)),
    max_seconds: seconds(trend.percentile(100)),
    avg_seconds: seconds(trend.avg()),
    p50_seconds: seconds(trend.percentile(50)),
    p90_seconds: seconds(trend.percentile(90)),
    p95_seconds: seconds(trend.percentile(95)),
    p99_seconds: seconds(trend.percentile(99)),
    p999_seconds: seconds(trend.percentile(99.9)),
  };
}

/**
 * The latency of several groups without their histograms (files written before groups carried
 * them): exact count, min, max and weighted average; one part's figures when only one has
 * samples; percentiles otherwise null (a percentile of parts is not the percentile of the whole).
 */
function combineLatency(parts: readonly LatencySeconds[]): LatencySeconds {
  const withSamples = parts.filter((p) => p.count > 0);
  if (withSamples.length === 1) return withSamples[0]!;
  const count = withSamples.reduce((n, p) => n + p.count, 0);
  if (count === 0) return parts[0] ?? latencySeconds(new TrendSink());
  const pick = (values: Array<number | null>, choose: (a: number, b: number) => number) =>
    values.reduce<number | null>((best, v) => (v === null ? best : best === null ? v : choose(best, v)), null);
  const weighted = withSamples.every((p) => p.avg_seconds !== null)
    ? Math.round((withSamples.reduce((s, p) => s + p.avg_seconds! * p.count, 0) / count) * 1e6) / 1e6
    : null;
  return {
    count,
    min_seconds: pick(withSamples.map((p) => p.min_seconds), Math.min),
    max_seconds: pick(withSamples.map((p) => p.max_seconds), Math.max),
    avg_seconds: weighted,
    p50_seconds: null,
    p90_seconds: null,
    p95_seconds: null,
    p99_seconds: null,
    p999_seconds: null,
  };
}

/** What a custom metric's values offer, by type (metrics/registry.ts AggregateValues has this shape). */
export interface CustomMetricValues {
  count: number;
  rate?: () => number;
  value?: () => number;
  min?: () => number;
  max?: () => number;
  avg?: () => number;
  percentile?: (p: number) => number;
}

/** The figures of a custom metric's values (trends in ms or units, as thresholds read them). */
export function customMetricFigures(values: CustomMetricValues): Omit<CustomMetricFigures, 'type' | 'tag_sets'> {
  const entry: Omit<CustomMetricFigures, 'type' | 'tag_sets'> = { count: values.count };
  if (values.rate) entry.rate = values.rate();
  if (values.value) entry.value = values.value();
  if (values.count > 0 && values.percentile) {
    Object.assign(entry, { min: values.min!(), max: values.max!(), avg: values.avg!(), p50: values.percentile(50), p95: values.percentile(95), p99: values.percentile(99) });
  } else if (values.min && values.max) {
    Object.assign(entry, { min: values.min(), max: values.max() });
  }
  return entry;
}

