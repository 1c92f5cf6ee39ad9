/**
 * The end-of-run summary as data: every figure the console block and the results file show,
 * computed once from the registry. Field names and units follow the old Python tool's results
 * file (`total_requests`, `throughput_rps`, `latency.p95_seconds`, …) so existing scripts keep
 * working; everything it lacked (phases, errors, accounts, thresholds, timeline) is added.
 */
import { redact } from '../redact.ts';
import { PHASES } from '../smtp/phases.ts';
import type { TestResult } from '../engine/engine.ts';
import type { ResolvedOptions } from '../scenario/resolved.ts';
import type { Series, ErrorCount } from '../metrics/series.ts';
import type { TrendSink, EncodedTrend } from '../metrics/trend.ts';
import { customValues, type AggregateValues, type CustomMetric, type TimelinePoint } from '../metrics/registry.ts';
import type { WatchReport } from '../watch/watcher.ts';
import type { RunTrends } from '../analysis/run-trends.ts';

/** Latency figures in seconds, as the old tool named them. */
export interface LatencySeconds {
  count: number;
  min_seconds: number | null;
  max_seconds: number | null;
  avg_seconds: number | null;
  p50_seconds: number | null;
  p90_seconds: number | null;
  p95_seconds: number | null;
  p99_seconds: number | null;
  p999_seconds: number | null;
}

/** Counts and rates for one group of messages (the whole test, a scenario, an account). */
export interface GroupFigures {
  total_requests: number;
  successful: number;
  failed: number;
  interrupted: number;
  /** successful / (successful + failed); 0 when nothing was judged. */
  success_rate: number;
  /** total_requests per second of wall-clock test time. */
  throughput_rps: number;
  throughput_rpm: number;
  /** successful per second of wall-clock test time. */
  successful_rps: number;
  latency: LatencySeconds;
  /**
   * The group's smtp_txn_duration histogram (µs, HDR), on scenario and account groups, so that
   * `runner merge` gives their percentiles exactly too.
   */
  histogram?: EncodedTrend;
}

export interface ThresholdOutcome {
  metric: string;
  condition: string;
  ok: boolean;
  /** Measured value (ms for time metrics), null when there were no samples. */
  actual: number | null;
  abortOnFail: boolean;
  /** Whether `actual` is a duration in ms. */
  isTime: boolean;
}

export interface ErrorFigure {
  phase: string;
  code: number | null;
  enhanced: string | null;
  error: string | null;
  text: string;
  count: number;
}

export interface Summary {
  /** ISO 8601 start time. */
  timestamp: string;
  /** host:port of the (first) scenario's target. */
  target: string;
  config: Record<string, unknown>;
  /** Whether the run was cut short, and why. */
  status: 'completed' | 'interrupted' | 'aborted';
  abort_reason: string | null;
  results: GroupFigures & {
    total_time_seconds: number;
    /** Latency from the intended start (arrival-rate executors; equals latency in closed models). */
    response_time: LatencySeconds;
    /** Per SMTP phase. */
    phases: Record<string, LatencySeconds>;
    errors: ErrorFigure[];
    /** Errors after a message was accepted (e.g. QUIT); they fail no message. */
    errors_after_accept: ErrorFigure[];
    connections: number;
    message_bytes: number;
    bytes_sent: number;
    bytes_received: number;
    iterations: number;
    dropped_iterations: number;
    script_errors: number;
    vus_max: number;
    /** The warm-up left out of these figures (still in the timeline); null without one. */
    warmup?: { asked: string; ended_at_seconds: number | null } | null;
  };
  scenarios: Record<string, GroupFigures & { executor: string; dropped_iterations: number }>;
  accounts: Record<string, GroupFigures>;
  /** Custom metrics declared by scenario code: their type and aggregates (trends in ms or units). */
  custom_metrics: Record<string, CustomMetricFigures>;
  thresholds: ThresholdOutcome[];
  /**
   * One window a second, each with its smtp_txn_duration histogram (`txnHistogram`) so runs merge
   * window by window exactly; beyond 7200 windows adjacent ones are folded into 2, 4, … s windows
   * (metrics/timeline.ts), which bounds the file however long the run.
   */
  timeline: TimelinePoint[];
  /** The server process sampled during the run (`--watch-pid`, or found listening on the target port). */
  watch: WatchReport | null;
  /** Degradation over time: latency creep, throughput decline, server memory growth (steady part of the run). */
  trends: RunTrends | null;
  /** HDR histograms (µs) so runs can be merged and compared exactly. */
  histograms: { txn_duration: EncodedTrend; txn_response_time: EncodedTrend; phases: Record<string, EncodedTrend> };
}

/** A custom metric's aggregates: count and, by type, rate / value / distribution. */
export interface CustomMetricFigures {
  type: string;
  /** trend, rate, gauge: samples; counter: the sum of the values added. */
  count: number;
  /** counter: count per second of test time; rate: the fraction of non-zero samples (0..1). */
  rate?: number;
  /** gauge: the last value added. */
  value?: number;
  min?: number;
  max?: number;
  avg?: number;
  p50?: number;
  p95?: number;
  p99?: number;
  /**
   * The same figures per distinct tag set of `add(value, tags)` (untagged samples: tags {}), by
   * tag set; the figures above are their sum. Absent in files written before tags were kept.
   */
  tag_sets?: CustomTagSetFigures[];
  /** Values add() ignored (not a finite number; a negative trend value), in no figure; absent when none. */
  ignored_values?: number;
}

/** A custom metric's figures for the samples of one distinct tag set. */
export interface CustomTagSetFigures extends Omit<CustomMetricFigures, 'type' | 'tag_sets' | 'ignored_values'> {
  /** The tags every sample of the set carries. */
  tags: Record<string, string>;
  /** trend: the set's HDR histogram (samples ×1000: µs for time trends), so `runner merge` is exact. */
  histogram?: EncodedTrend;
}

/** The figures of a custom metric's values (trends in ms or units, as thresholds read them). */
export function customMetricFigures(values: AggregateValues): Omit<CustomMetricFigures, 'type' | 'tag_sets'> {
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

/**
 * The results file's figures of custom metrics: the whole metric's and each tag set's (with a
 * trend's histogram), counter rates over `durationMs` of test time.
 */
export function customMetricsFigures(custom: ReadonlyMap<string, CustomMetric>, durationMs: number): Record<string, CustomMetricFigures> {
  const figures: Record<string, CustomMetricFigures> = {};
  for (const [name, metric] of custom) {
    const type = metric.info.type;
    const tagSets = metric.tagSetsWithSamples().map((set): CustomTagSetFigures => {
      const entry: CustomTagSetFigures = { tags: { ...set.tags }, ...customMetricFigures(customValues(type, set, durationMs)) };
      if (set.trend) entry.histogram = set.trend.encode();
      return entry;
    });
    figures[name] = { type, ...customMetricFigures(customValues(type, metric.aggregate(), durationMs)), tag_sets: tagSets };
    if (metric.ignoredValues > 0) figures[name].ignored_values = metric.ignoredValues;
  }
  return figures;
}

function describeWarmup(options: ResolvedOptions, endedAt: number | undefined): Summary['results']['warmup'] {
  const { durationMs, messages } = options.warmup;
  if (durationMs === 0 && messages === 0) return null;
  return { asked: messages > 0 ? `${messages} messages` : `${durationMs / 1000}s`, ended_at_seconds: endedAt ?? null };
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

function groupFigures(series: Series, durationMs: number): GroupFigures {
  const judged = series.accepted + series.failed;
  const seconds = durationMs / 1000;
  const rps = seconds > 0 ? series.txns / seconds : 0;
  return {
    total_requests: series.txns,
    successful: series.accepted,
    failed: series.failed,
    interrupted: series.interrupted,
    success_rate: judged ? series.accepted / judged : 0,
    throughput_rps: round(rps, 3),
    throughput_rpm: round(rps * 60, 1),
    successful_rps: round(seconds > 0 ? series.accepted / seconds : 0, 3),
    latency: latencySeconds(series.txnDuration),
  };
}

function errorFigures(errors: Map<string, ErrorCount>): ErrorFigure[] {
  return [...errors.values()]
    .sort((a, b) => b.count - a.count)
    .map((e) => ({ phase: e.phase, code: e.code ?? null, enhanced: e.enhanced ?? null, error: e.error ?? null, text: redact(e.text), count: e.count }));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Builds the summary of a finished (or interrupted) run. */
export function buildSummary(
  result: TestResult,
  options: ResolvedOptions,
  thresholds: ThresholdOutcome[],
  config: Record<string, unknown>,
  abortReason?: string,
): Summary {
  const { registry, durationMs } = result;
  const total = registry.aggregate();
  const first = options.scenarios[0];
  const phases: Record<string, LatencySeconds> = {};
  const phaseHistograms: Record<string, EncodedTrend> = {};
  PHASES.forEach((phase, index) => {
    const trend = total.phases[index]!;
    if (trend.count === 0) return;
    phases[phase] = latencySeconds(trend);
    phaseHistograms[phase] = trend.encode();
  });
  const scenarios: Summary['scenarios'] = {};
  for (const scenario of options.scenarios) {
    const group = registry.aggregate({ scenario: scenario.name });
    scenarios[scenario.name] = {
      executor: scenario.executor,
      ...groupFigures(group, durationMs),
      histogram: group.txnDuration.encode(),
      dropped_iterations: registry.droppedCount(scenario.name),
    };
  }
  const accounts: Summary['accounts'] = {};
  const senders = new Set(registry.series.map((series) => series.tags['account']!));
  for (const sender of senders) {
    const group = registry.aggregate({ account: sender });
    accounts[sender] = { ...groupFigures(group, durationMs), histogram: group.txnDuration.encode() };
  }
  return {
    timestamp: result.startedAt.toISOString(),
    target: first ? `${first.target.host}:${first.target.port}` : '',
    config,
    status: result.stopReason === 'interrupt' ? 'interrupted' : result.stopReason === 'threshold' ? 'aborted' : 'completed',
    abort_reason: abortReason ?? null,
    results: {
      total_time_seconds: round(durationMs / 1000, 3),
      ...groupFigures(total, durationMs),
      response_time: latencySeconds(total.txnResponseTime),
      phases,
      errors: errorFigures(total.errors),
      errors_after_accept: errorFigures(total.afterAcceptErrors),
      connections: total.connections,
      message_bytes: total.messageBytes,
      bytes_sent: total.bytesSent,
      bytes_received: total.bytesReceived,
      iterations: total.iterations,
      dropped_iterations: registry.droppedCount(),
      script_errors: total.scriptErrors,
      vus_max: registry.vusMax,
      warmup: describeWarmup(options, registry.warmupEndedAt),
    },
    scenarios,
    accounts,
    custom_metrics: customMetricsFigures(registry.custom, durationMs),
    thresholds,
    timeline: registry.timeline,
    watch: null,
    trends: null,
    histograms: {
      txn_duration: total.txnDuration.encode(),
      txn_response_time: total.txnResponseTime.encode(),
      phases: phaseHistograms,
    },
  };
}
