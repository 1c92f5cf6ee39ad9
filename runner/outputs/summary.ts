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
import { customValues, type AggregateValues, type CustomMetric } from '../metrics/registry.ts';

import type { LatencySeconds, GroupFigures, ThresholdOutcome, ErrorFigure, Summary, CustomMetricFigures, CustomTagSetFigures } from './summary-types.ts';

export type { LatencySeconds, GroupFigures, ThresholdOutcome, ErrorFigure, Summary, CustomMetricFigures, CustomTagSetFigures } from './summary-types.ts';

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
