/**
 * The types of the end-of-run summary (summary.ts builds it), apart from the code that builds it:
 * scenario/types.ts names `Summary` for `handleSummary`, and importing summary.ts from there
 * closed an import cycle through the engine. A leaf: it imports types from leaves only.
 */
import type { EncodedTrend } from '../metrics/trend.ts';
import type { TimelinePoint } from '../metrics/timeline.ts';
import type { WatchReport } from '../watch/watch-report.ts';
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
