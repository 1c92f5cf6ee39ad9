/**
 * The results file, version 2: what `runner run` and `runner merge` write, what `compare`,
 * `report` and `report-html` read, and what the console summary, `--summary-json` and
 * `handleSummary(summary)` show. schemas/results.schema.json describes the same shape.
 *
 * One naming rule: every field is snake_case, and every field with a unit ends in it
 * (`_seconds`, `_ms`, `_bytes`, `_percent`, `_per_second`, `_per_hour`, `_rps`, `_rpm`); counts and
 * fractions (0..1) carry no unit. The old Python tool's fields keep their names and units
 * (`throughput_rps`, `latency.p50_seconds`, …). HDR histograms are in µs (their `sum`, `min`, `max`
 * too), or the custom trend's values ×1000.
 *
 * A leaf: it imports only the histogram codec's type.
 */
import type { EncodedTrend } from '../metrics/trend.ts';

export type { EncodedTrend };

/** Latency figures in seconds, as the old tool named them; null when there were no samples. */
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

/** The four counts of a group of messages (the whole test, a scenario, an account). */
export interface GroupCounts {
  total_requests: number;
  successful: number;
  failed: number;
  interrupted: number;
}

/** Counts and rates for one group of messages (the whole test, a scenario, an account). */
export interface GroupFigures extends GroupCounts {
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
  /** With delivery tracking: what of the group's accepted messages arrived upstream. */
  delivery?: GroupDeliveryFigures;
}

/** A source address's figures: a group's, and the TCP connections made from it. */
export type SourceIpFigures = GroupFigures & { connections: number };

/** The delivery counts of a group of messages (the whole test, a scenario, an account). */
export interface DeliveryCounts {
  /** Accepted messages that arrived upstream within the timeout. */
  delivered: number;
  /** Accepted messages that did not arrive within the timeout (never, or too late), or that the upstream refused. */
  lost: number;
  /** Of lost: refused upstream (a sink's refusals), counted at once. Absent in files written before it (read as 0). */
  lost_refused: number;
  /** Of lost: not arrived within the timeout (lost = lost_refused + lost_timeout). Absent in older files (read as lost). */
  lost_timeout: number;
  /** Accepted messages still awaited when the wait was interrupted (Ctrl+C): neither delivered nor lost. */
  pending: number;
  /** Messages that arrived more than once. */
  duplicated: number;
  /** Messages that arrived though runner counted them failed. */
  unexpected: number;
}

/** A group's delivery figures. */
export interface GroupDeliveryFigures extends DeliveryCounts {
  /** delivered / (delivered + lost); 0 when none was judged. */
  delivered_rate: number;
  /** delivered per second of test time. */
  delivered_rps: number;
  /** smtp_delivery_lag: the 250 → arrival upstream. */
  lag: LatencySeconds;
  /** smtp_e2e_duration: the message's (intended) start → arrival upstream. */
  e2e: LatencySeconds;
  /** Their HDR histograms (µs), so `runner merge` is exact. */
  lag_histogram?: EncodedTrend;
  e2e_histogram?: EncodedTrend;
}

/** The whole test's delivery figures: a group's, and how it was tracked. */
export interface DeliveryFigures extends GroupDeliveryFigures {
  /** Where arrivals were read: a runner sink, or a mailbox over IMAP. */
  source: 'sink' | 'imap';
  /** How long a message could take before counting as lost. */
  timeout_seconds: number;
  /**
   * How the wait after the load ended: every message arrived (complete), the timeout passed
   * (timed_out), Ctrl+C (interrupted: the rest are pending), or no wait (skipped: the load was interrupted).
   */
  wait: 'complete' | 'timed_out' | 'interrupted' | 'skipped';
  /** How long the wait after the load took. */
  wait_seconds: number;
  /** Of lost: those that did arrive, after their timeout. */
  late: number;
  /** Arrivals with this run's id naming no message it sent. */
  unknown: number;
}

/**
 * Retries like an MTA (a scenario's `retry`): what was deferred and how messages ended. A message
 * is counted once, at its final outcome (accepted, failed once its attempts ran out, or pending).
 */
export interface RetryFigures {
  /** Attempts deferred (a reply the policy retries, with attempts left): smtp_deferrals. */
  deferred: number;
  /** Those deferrals by reply code, e.g. { "451": 84, "421": 3 }. */
  deferrals: Record<string, number>;
  /** Messages accepted on their first attempt. */
  first_try: number;
  /** first_try / messages (accepted + failed + pending): the share delivered on the first try. */
  first_try_rate: number;
  /** Messages still deferred when their scenario's gracefulStop ran out: neither accepted nor failed. */
  pending: number;
  /** smtp_attempts_per_message at each message's final outcome (pending ones not included). */
  attempts_per_message: { count: number; avg: number; p50: number; p95: number; max: number };
  /** smtp_eventual_duration: first attempt's (intended) start → final 250 or final failure. */
  eventual_duration: LatencySeconds;
  /** Their HDR histograms (attempts as counts, durations in µs), so `runner merge` is exact. */
  attempts_histogram: EncodedTrend;
  eventual_histogram: EncodedTrend;
}

export interface ThresholdOutcome {
  metric: string;
  condition: string;
  ok: boolean;
  /** Measured value (ms for time metrics: see is_time), null when there were no samples. */
  actual: number | null;
  abort_on_fail: boolean;
  /** Whether `actual` is a duration in ms. */
  is_time: boolean;
}

/** One group of exceptions thrown by iteration(): the same message at the same place. */
export interface IterationErrorFigure {
  /** `TypeError: x is not a function`. */
  message: string;
  /** `my-scenario.ts:12:5` in the scenario's own code; null when the stack had no such frame. */
  location: string | null;
  count: number;
}

export interface ErrorFigure {
  phase: string;
  code: number | null;
  enhanced: string | null;
  error: string | null;
  text: string;
  count: number;
}

/** One window of the run's timeline (a second, or 2^k seconds once a long run folded them). */
export interface TimelineEntry {
  /** Seconds since the test started, at the end of this window. */
  t_seconds: number;
  /** Length of the window (1000, or 2000, 4000… after folding; shorter for the last). */
  window_ms: number;
  started: number;
  accepted: number;
  failed: number;
  dropped: number;
  /** Accepted messages per second in this window. */
  msgs_per_second: number;
  /** Bytes of the messages accepted in this window, and per second. */
  message_bytes?: number;
  bytes_per_second?: number;
  /** Arrivals planned in this window by arrival-rate executors; 0 for closed models. */
  planned?: number;
  /** Percentiles of smtp_txn_duration in this window (null when nothing completed). */
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  /** Active VUs at the end of the window. */
  vus: number;
  /** The longest queue of arrivals waiting for a free VU during the window. */
  queued?: number;
  /** The window's smtp_txn_duration histogram (µs), so windows merge exactly; null when nothing completed. */
  txn_histogram?: EncodedTrend | null;
  /** With delivery tracking: accepted messages that arrived upstream in this window. */
  delivered?: number;
  /** With delivery tracking: accepted so far minus arrived so far, at the end of the window (the relay's queue). */
  delivery_backlog?: number;
  /** How much of the window the run was paused (runner pause, the REST API), ms; absent when it was not. */
  paused_ms?: number;
  /**
   * Arrival rates set while the run went (runner scale --rate, the REST API) in this window, in
   * order: when (s since the start), which scenario, the rate from then on per second; absent when none was.
   */
  rate_changes?: Array<{ t_seconds: number; scenario: string; rate_per_second: number }>;
}

/** One sample of the watched server process. */
export interface WatchSampleFigures {
  /** Seconds since the load started, at the end of the sample's window. */
  t_seconds: number;
  /** CPU used in the window, % of one core (200 = two cores busy). */
  cpu_percent: number;
  /** Resident memory at the end of the window. */
  rss_bytes: number;
}

/** The server process sampled during the run. */
export interface WatchFigures {
  pid: number;
  name: string | null;
  /** How the pid was chosen. */
  source: 'flag' | 'listening-port';
  samples: WatchSampleFigures[];
  cpu_percent_avg: number | null;
  cpu_percent_max: number | null;
  rss_bytes_first: number | null;
  rss_bytes_last: number | null;
  rss_bytes_max: number | null;
  /** Whether the process was gone before the run ended. */
  exited: boolean;
}

/** The timeline or watch field a trend was fitted on (its unit is the field's). */
export type TrendMetricName = 'p95_ms' | 'msgs_per_second' | 'rss_bytes';

/** The trend of one metric over the steady part of a run. */
export interface TrendFigures {
  metric: TrendMetricName;
  /** Windows used. */
  points: number;
  /** Windows' worth of independent information after the autocorrelation correction. */
  effective_points: number;
  autocorrelation: number;
  /** Change of the metric per hour, in the metric's unit. */
  slope_per_hour: number;
  /** The fitted value at the start of the steady part, in the metric's unit. */
  baseline: number;
  /** slope_per_hour / baseline (a fraction); null when the baseline is 0. */
  relative_per_hour: number | null;
  /** The relative change over the steady part; null when the baseline is 0. */
  relative_over_run: number | null;
  span_seconds: number;
  p_value: number | null;
  significant: boolean;
  verdict: 'creep' | 'degrading' | 'stable' | 'improving' | 'insufficient data';
}

/** Degradation over time: latency creep, throughput decline, server memory growth. */
export interface TrendsFigures {
  latency: TrendFigures;
  throughput: TrendFigures;
  /** RSS of the watched server process, when one was watched. */
  server_memory: TrendFigures | null;
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
  /** The same figures per distinct tag set of `add(value, tags)` (untagged samples: tags {}). */
  tag_sets?: CustomTagSetFigures[];
  /** Values add() ignored (not a finite number; a negative trend value); absent when none. */
  ignored_values?: number;
  /** A time trend (`new Trend(name, true)`): min/max/avg/p50/p95/p99 are milliseconds; absent otherwise. */
  is_time?: boolean;
}

/** A custom metric's figures for the samples of one distinct tag set. */
export interface CustomTagSetFigures extends Omit<CustomMetricFigures, 'type' | 'tag_sets' | 'ignored_values' | 'is_time'> {
  /** The tags every sample of the set carries. */
  tags: Record<string, string>;
  /** trend: the set's HDR histogram (samples ×1000: µs for time trends), so `runner merge` is exact. */
  histogram?: EncodedTrend;
}

/** The whole test's figures: a group's, and what only the whole test has. */
export interface TestFigures extends GroupFigures {
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
  /** Iterations whose iteration() threw (the iteration_errors metric). */
  script_errors: number;
  /** What iteration() threw, grouped by message and place in the scenario's code, commonest first; absent when nothing was. */
  iteration_errors?: IterationErrorFigure[];
  vus_max: number;
  /** Bytes of accepted messages (message_bytes) per second of the test; absent in files from before it. */
  message_bytes_per_second?: number;
  /** Accepted generated messages by body size (a size distribution's buckets), smallest first; absent when none. */
  message_sizes?: MessageSizeFigure[];
  /**
   * Accepted messages of every kind (generated, templates, text or bytes from scenario code) by
   * whole size in bytes as the server keeps them (head and body, no dot-stuffing), smallest first;
   * exact up to 4096 distinct sizes per series, later new sizes to 3 significant digits; absent when none.
   */
  message_total_sizes?: Array<{ bytes: number; messages: number }>;
  /** The warm-up left out of these figures (still in the timeline); null without one. */
  warmup?: { asked: string; ended_at_seconds: number | null } | null;
}

/** Accepted generated messages of one body size. */
export interface MessageSizeFigure {
  body_bytes: number;
  messages: number;
}

/** A scenario's figures. */
export type ScenarioFigures = GroupFigures & { executor: string; dropped_iterations: number };

/** The results file (version 2), and the summary every output shows. */
export interface Summary {
  /** The results format's version; 2 (files without it are version 1). */
  schema_version: 2;
  /** ISO 8601 start time. */
  timestamp: string;
  /** host:port of the (first) scenario's target. */
  target: string;
  config: Record<string, unknown>;
  /** Whether the run was cut short, and why. */
  status: 'completed' | 'interrupted' | 'aborted';
  abort_reason: string | null;
  results: TestFigures;
  scenarios: Record<string, ScenarioFigures>;
  accounts: Record<string, GroupFigures>;
  /**
   * SMTP figures per ctx.group() path ('::outer::inner': the samples taken inside that group, its
   * subgroups' not included); absent when the run used no group.
   */
  groups?: Record<string, GroupFigures>;
  /**
   * Figures per source address (--local-ips, target.localIps): the messages sent and the
   * connections made from it; absent when the run bound no source address.
   */
  source_ips?: Record<string, SourceIpFigures>;
  /**
   * `--summary-trend-stats` (or `summaryTrendStats`): the chosen figures of each SMTP trend, in ms
   * (count: samples; null without samples); absent unless asked.
   */
  trend_stats?: { stats: string[]; metrics: Record<string, Record<string, number | null>> };
  /** Custom metrics declared by scenario code (and the built-in checks and group_duration, when used): their type and aggregates (trends in ms or units). */
  custom_metrics: Record<string, CustomMetricFigures>;
  thresholds: ThresholdOutcome[];
  /** One window a second, each with its histogram; beyond 7200 windows adjacent ones fold. */
  timeline: TimelineEntry[];
  /** The server process sampled during the run (`--watch-pid`, or found listening on the target port). */
  watch: WatchFigures | null;
  /** Degradation over time (steady part of the run). */
  trends: TrendsFigures | null;
  /** Delivery truth (with `delivery`): what of the accepted messages arrived upstream; absent without it. */
  delivery?: DeliveryFigures;
  /** Retries (with a scenario's `retry`): deferrals, attempts and eventual durations; absent without one. */
  retries?: RetryFigures;
  /**
   * Client-side faults done on purpose (--client-fault, send({ fault })) by kind, e.g.
   * { "abort-data": 12 }: never counted as failures; absent when none was done.
   */
  client_faults?: Record<string, number>;
  /** HDR histograms (µs) so runs can be merged and compared exactly. */
  histograms: { txn_duration: EncodedTrend; txn_response_time: EncodedTrend; phases: Record<string, EncodedTrend> };
}

/** The results file's content (the same thing as a Summary, named for readers). */
export type ResultsFile = Summary;
