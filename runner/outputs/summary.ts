/**
 * The raw aggregates of one run, from its registry, for the one summariser (results/summarise.ts):
 * every figure the console block and the results file show is derived there. The results file's
 * types are results/types.ts.
 */
import { redact } from '../redact.ts';
import { PHASES } from '../smtp/phases.ts';
import type { TestResult } from '../engine/engine.ts';
import type { ResolvedOptions } from '../scenario/resolved.ts';
import type { Series, ErrorCount } from '../metrics/series.ts';
import type { TrendSink } from '../metrics/trend.ts';
import { customValues, type CustomMetric } from '../metrics/registry.ts';
import { scriptMetricsWithSamples } from '../metrics/custom.ts';
import type { WatchReport } from '../watch/watch-report.ts';
import type { RunTrends } from '../analysis/run-trends.ts';
import { customMetricFigures, summarise, type DeliveryAggregate, type RetryAggregate, type RunAggregates, type RunDeliveryAggregate } from '../results/summarise.ts';
import type { DeliveryOutcome } from '../delivery/tracking.ts';
import type { CustomMetricFigures, CustomTagSetFigures, ErrorFigure, GroupCounts, Summary, ThresholdOutcome } from '../results/types.ts';

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
    // A time trend's figures are milliseconds: said once, so every output can show the unit
    if (metric.info.isTime) figures[name].is_time = true;
    if (metric.ignoredValues > 0) figures[name].ignored_values = metric.ignoredValues;
  }
  return figures;
}

function describeWarmup(options: ResolvedOptions, endedAt: number | undefined): Summary['results']['warmup'] {
  const { durationMs, messages } = options.warmup;
  if (durationMs === 0 && messages === 0) return null;
  return { asked: messages > 0 ? `${messages} messages` : `${durationMs / 1000}s`, ended_at_seconds: endedAt ?? null };
}

function errorFigures(errors: Map<string, ErrorCount>): ErrorFigure[] {
  return [...errors.values()]
    .sort((a, b) => b.count - a.count)
    .map((e) => ({ phase: e.phase, code: e.code ?? null, enhanced: e.enhanced ?? null, error: e.error ?? null, text: redact(e.text), count: e.count }));
}

/** A series' delivery, as a group's. */
function deliveryOf(series: Series): DeliveryAggregate {
  return {
    counts: { delivered: series.delivered, lost: series.lost, lost_refused: series.lostRefused, lost_timeout: series.lost - series.lostRefused, pending: series.pendingDelivery, duplicated: series.duplicated, unexpected: series.unexpected },
    lag: series.deliveryLag,
    e2e: series.e2eDuration,
  };
}

/** A series' counts, as a group's. */
function countsOf(series: Series): GroupCounts {
  return { total_requests: series.txns, successful: series.accepted, failed: series.failed, interrupted: series.interrupted };
}

/** What the run knows beside the registry: thresholds judged, config, trends and the watched process. */
export interface RunVerdicts {
  thresholds: ThresholdOutcome[];
  config: Record<string, unknown>;
  abortReason?: string;
  trends?: RunTrends | null;
  watch?: WatchReport | null;
  /** With delivery tracking: how it ended (the per-group counts are in the series). */
  delivery?: DeliveryOutcome;
}

/**
 * The raw aggregates of a finished (or interrupted) run, straight from the registry: its
 * histograms as they are, nothing encoded (results/summarise.ts derives every figure).
 */
export function runAggregates(result: TestResult, options: ResolvedOptions, verdicts: RunVerdicts): RunAggregates {
  const { registry, durationMs } = result;
  const total = registry.aggregate();
  const first = options.scenarios[0];
  const tracked = verdicts.delivery !== undefined;
  const phases = new Map<string, TrendSink>();
  PHASES.forEach((phase, index) => phases.set(phase, total.phases[index]!));
  const scenarios: RunAggregates['scenarios'] = new Map(options.scenarios.map((scenario) => {
    const group = registry.aggregate({ scenario: scenario.name });
    return [scenario.name, { counts: countsOf(group), txn: group.txnDuration, executor: scenario.executor, droppedIterations: registry.droppedCount(scenario.name), ...(tracked ? { delivery: deliveryOf(group) } : {}) }];
  }));
  const senders = new Set(registry.series.map((series) => series.tags['account']!));
  const accounts: RunAggregates['accounts'] = new Map([...senders].map((sender) => {
    const group = registry.aggregate({ account: sender });
    return [sender, { counts: countsOf(group), txn: group.txnDuration, ...(tracked ? { delivery: deliveryOf(group) } : {}) }];
  }));
  const sourceIps: RunAggregates['sourceIps'] = new Map([...registry.sources].map(([address, source]) => [address, {
    counts: { total_requests: source.txns, successful: source.accepted, failed: source.failed, interrupted: source.interrupted },
    txn: source.txnDuration,
    connections: source.connections,
  }]));
  const groups: RunAggregates['groups'] = new Map(registry.groupPaths().map((path) => {
    const group = registry.aggregate({ group: path });
    return [path, { counts: countsOf(group), txn: group.txnDuration }];
  }));
  return {
    timestamp: result.startedAt.toISOString(),
    target: first ? `${first.target.host}:${first.target.port}` : '',
    config: verdicts.config,
    status: result.stopReason === 'interrupt' ? 'interrupted' : result.stopReason === 'threshold' || result.stopReason === 'setup' ? 'aborted' : 'completed',
    abortReason: verdicts.abortReason ?? null,
    durationSeconds: durationMs / 1000,
    total: { counts: countsOf(total), txn: total.txnDuration },
    responseTime: total.txnResponseTime,
    phases,
    errors: errorFigures(total.errors),
    errorsAfterAccept: errorFigures(total.afterAcceptErrors),
    counters: {
      connections: total.connections,
      message_bytes: total.messageBytes,
      bytes_sent: total.bytesSent,
      bytes_received: total.bytesReceived,
      iterations: total.iterations,
      dropped_iterations: registry.droppedCount(),
      script_errors: total.scriptErrors,
      vus_max: registry.vusMax,
    },
    warmup: describeWarmup(options, registry.warmupEndedAt),
    iterationErrors: registry.iterationErrors.groups(),
    scenarios,
    accounts,
    sourceIps,
    groups,
    trendStats: options.summaryTrendStats,
    // checks and group_duration (fed by scenario code) sit beside the custom metrics, when used.
    customMetrics: customMetricsFigures(new Map([...registry.custom, ...scriptMetricsWithSamples()]), durationMs),
    thresholds: verdicts.thresholds,
    timeline: registry.timeline,
    watch: verdicts.watch ?? null,
    trends: verdicts.trends ?? null,
    ...(verdicts.delivery ? { delivery: runDelivery(verdicts.delivery, total) } : {}),
    ...(options.scenarios.some((scenario) => scenario.retry !== undefined) ? { retries: retryAggregate(total) } : {}),
    messageSizes: total.bodySizes,
    messageTotalSizes: total.messageSizes,
  };
}

/** The whole run's retries, from the total series. */
function retryAggregate(total: Series): RetryAggregate {
  return {
    deferred: total.deferred,
    deferrals: total.deferrals,
    firstTry: total.firstTry,
    pending: total.retryPending,
    messages: total.accepted + total.failed + total.retryPending,
    attempts: total.attemptsPerMessage,
    eventual: total.eventualDuration,
  };
}

/** The whole run's delivery: the outcome's totals with the total series' trends. */
function runDelivery(outcome: DeliveryOutcome, total: Series): RunDeliveryAggregate {
  const { totals } = outcome;
  return {
    source: outcome.source,
    timeoutSeconds: outcome.timeoutMs / 1000,
    wait: outcome.wait,
    waitSeconds: outcome.waitMs / 1000,
    counts: { delivered: totals.delivered, lost: totals.lost, lost_refused: totals.lostRefused, lost_timeout: totals.lostTimeout, pending: totals.pending, duplicated: totals.duplicated, unexpected: totals.unexpected },
    lag: total.deliveryLag,
    e2e: total.e2eDuration,
    late: totals.late,
    unknown: totals.unknown,
  };
}

/** Builds the summary of a finished (or interrupted) run: its aggregates, summarised. */
export function buildSummary(result: TestResult, options: ResolvedOptions, verdicts: RunVerdicts): Summary {
  return summarise(runAggregates(result, options, verdicts));
}
