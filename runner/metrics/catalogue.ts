/**
 * The built-in metrics: their names, types and units. Thresholds are checked against this
 * catalogue (plus the scenario's custom metrics) before a run starts.
 *
 * Types (as in k6):
 * - trend: a distribution; aggregations avg, min, max, med, p(N), count. Time trends are in ms
 *   for thresholds (bare numbers are ms, `s`/`ms` units accepted) and stored in µs.
 * - counter: a running sum; aggregations count, rate (per second of test time).
 * - rate: a fraction of non-zero samples; aggregation rate (0..1).
 * - gauge: the last value; aggregations value, min, max.
 */
import { PHASES, type Phase } from '../smtp/phases.ts';

export type MetricType = 'trend' | 'counter' | 'rate' | 'gauge';

export interface MetricInfo {
  name: string;
  type: MetricType;
  /** Whether a trend's samples are durations (ms in thresholds and summaries). */
  isTime: boolean;
  description: string;
}

/** Aggregations each type can give to a threshold. `p(N)` stands for any percentile. */
export const AGGREGATIONS: Readonly<Record<MetricType, readonly string[]>> = {
  trend: ['avg', 'min', 'max', 'med', 'p(N)', 'count'],
  counter: ['count', 'rate'],
  rate: ['rate'],
  gauge: ['value', 'min', 'max'],
};

/** Metric name of a phase's duration trend, e.g. 'smtp_auth_duration'. */
export function phaseMetricName(phase: Phase): string {
  return `smtp_${phase}_duration`;
}

const BUILT_IN: MetricInfo[] = [
  { name: 'smtp_txn_duration', type: 'trend', isTime: true, description: 'service time of an accepted message: start of its first command (connect when it opened the connection) to the 250 after end-of-data' },
  { name: 'smtp_txn_response_time', type: 'trend', isTime: true, description: 'like smtp_txn_duration but from the intended start (arrival-rate executors; corrects coordinated omission)' },
  { name: 'smtp_txns', type: 'counter', isTime: false, description: 'messages attempted' },
  { name: 'smtp_txn_failed', type: 'rate', isTime: false, description: 'fraction of attempted messages that failed' },
  { name: 'smtp_connections', type: 'counter', isTime: false, description: 'TCP connections opened' },
  ...PHASES.map((phase): MetricInfo => ({ name: phaseMetricName(phase), type: 'trend', isTime: true, description: `duration of the ${phase} phase` })),
  { name: 'iterations', type: 'counter', isTime: false, description: 'iterations completed (successful or not)' },
  { name: 'iteration_errors', type: 'counter', isTime: false, description: 'iterations whose iteration() threw (a bug in scenario code; failed SMTP steps are counted in smtp_txn_failed instead)' },
  { name: 'iteration_duration', type: 'trend', isTime: true, description: 'duration of a whole iteration' },
  { name: 'checks', type: 'rate', isTime: false, description: 'fraction of check() conditions that passed; tagged check (its name), group and scenario' },
  { name: 'group_duration', type: 'trend', isTime: true, description: 'duration of each ctx.group() call; tagged group (::outer::inner) and scenario' },
  { name: 'dropped_iterations', type: 'counter', isTime: false, description: 'iterations never started: no VU came free within maxQueueWait of the planned start, or still queued at the end (arrival-rate); maxDuration ended first (iteration counts)' },
  { name: 'arrivals_queued', type: 'gauge', isTime: false, description: 'arrivals waiting for a free VU (arrival-rate executors at maxVUs); max is the longest queue of the run' },
  { name: 'vus', type: 'gauge', isTime: false, description: 'active VUs' },
  { name: 'vus_max', type: 'gauge', isTime: false, description: 'allocated VUs' },
  { name: 'data_sent', type: 'counter', isTime: false, description: 'bytes written to the server' },
  { name: 'data_received', type: 'counter', isTime: false, description: 'bytes read from the server' },
  { name: 'smtp_delivered', type: 'counter', isTime: false, description: 'accepted messages that arrived upstream (sink or mailbox) within delivery.timeout (with `delivery`)' },
  { name: 'smtp_lost', type: 'counter', isTime: false, description: 'accepted messages that did not arrive upstream within delivery.timeout (with `delivery`)' },
  { name: 'smtp_duplicated', type: 'counter', isTime: false, description: 'messages that arrived upstream more than once (with `delivery`)' },
  { name: 'smtp_unexpected', type: 'counter', isTime: false, description: 'messages that arrived upstream though runner counted them failed (with `delivery`)' },
  { name: 'smtp_delivery_lag', type: 'trend', isTime: true, description: 'the 250 after end-of-data → the message\'s arrival upstream (with `delivery`)' },
  { name: 'smtp_e2e_duration', type: 'trend', isTime: true, description: 'the message\'s start (the planned start for arrival-rate executors) → its arrival upstream (with `delivery`)' },
  { name: 'smtp_deferrals', type: 'counter', isTime: false, description: 'attempts deferred by a reply the scenario\'s retry policy retries, with attempts left (not failed); filter by code with {reply:451}' },
  { name: 'smtp_attempts_per_message', type: 'trend', isTime: false, description: 'attempts a message took, at its final outcome (with a retry policy)' },
  { name: 'smtp_eventual_duration', type: 'trend', isTime: true, description: 'first attempt\'s (intended) start → the final 250 or final failure (with a retry policy)' },
  { name: 'smtp_first_try', type: 'rate', isTime: false, description: 'share of messages accepted on their first attempt (of accepted, failed and still pending)' },
  { name: 'smtp_retry_pending', type: 'counter', isTime: false, description: 'deferred messages still waiting for a retry when their scenario\'s gracefulStop ran out' },
  { name: 'latency_trend', type: 'gauge', isTime: false, description: 'p95 change per hour over the steady part of the run (0.2 = +20%/h), 0 unless significant' },
  { name: 'throughput_trend', type: 'gauge', isTime: false, description: 'msgs/s change per hour over the steady part of the run, 0 unless significant' },
  { name: 'server_memory_trend', type: 'gauge', isTime: false, description: 'watched server RSS change per hour, 0 unless significant' },
];

/** Built-in metrics by name. */
export const BUILT_IN_METRICS: ReadonlyMap<string, MetricInfo> = new Map(BUILT_IN.map((info) => [info.name, info]));

/** Tags every built-in SMTP sample carries, usable in threshold sub-metric filters. */
export const SYSTEM_TAGS = ['scenario', 'account'] as const;

/**
 * Tags scenario code's helpers add, also usable in threshold filters on built-in metrics: samples
 * taken inside ctx.group() carry group (`::outer::inner`), checks carry check (the condition's name).
 */
export const SCRIPT_TAGS = ['group', 'check'] as const;

/** The tag smtp_deferrals takes in threshold filters: the deferring reply's code (`smtp_deferrals{reply:451}`). */
export const REPLY_TAG = 'reply';
