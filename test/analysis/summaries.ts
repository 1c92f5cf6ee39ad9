/**
 * Results files built from known samples, without running the engine: each sample has a time and
 * a latency, and the summary, histograms and per-second timeline are computed the way summary.ts
 * and the registry compute them. Ground truth for compare, merge, report and trend tests.
 */
import { TrendSink, type EncodedTrend } from '../../runner/metrics/trend.ts';
import type { TimelinePoint } from '../../runner/metrics/registry.ts';
import { latencySeconds } from '../../runner/results/summarise.ts';
import { timelineEntry } from '../../runner/results/names.ts';
import type { ErrorFigure, GroupFigures, LatencySeconds, Summary } from '../../runner/results/types.ts';
import { parseResultsText, type LoadedResults } from '../../runner/results/read.ts';
import { createRandom, sampleNormal, type RandomSource } from '../../runner/analysis/stats.ts';

/** One message: when it completed (seconds since the start) and how long it took (µs). */
export interface TimedSample {
  tSeconds: number;
  latencyUs: number;
  /** Accepted (default) or failed. */
  isOk?: boolean;
}

/** What a synthetic run looks like; only samples are required. */
export interface SyntheticRun {
  samples: TimedSample[];
  /** ISO start time. @default '2025-01-01T00:00:00.000Z' */
  timestamp?: string;
  /** Seconds. @default the last sample's time rounded up to a whole second */
  durationSeconds?: number;
  target?: string;
  scenario?: string;
  /** @default 'shared-iterations' */
  executor?: string;
  account?: string;
  errors?: ErrorFigure[];
  config?: Record<string, unknown>;
  custom?: Summary['custom_metrics'];
  vus?: number;
  /** Leave out the windows' histograms, as results files written before they carried them. @default false */
  isOldTimeline?: boolean;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The message phase is the latency minus a fixed 300 µs of connect/greeting/… (ground truth per phase). */
export const MESSAGE_PHASE_OFFSET_US = 300;

/** Builds the summary of a synthetic run (what `runner run` would have written). */
export function summaryFromSamples(run: SyntheticRun): Summary {
  const txn = new TrendSink();
  const message = new TrendSink();
  const connect = new TrendSink();
  let accepted = 0;
  let failed = 0;
  const lastT = run.samples.reduce((max, s) => Math.max(max, s.tSeconds), 0);
  const durationSeconds = run.durationSeconds ?? Math.max(1, Math.ceil(lastT));
  const windowCount = Math.ceil(durationSeconds - 1e-9);
  const windows = Array.from({ length: windowCount }, () => ({ accepted: 0, failed: 0, trend: new TrendSink() }));
  for (const sample of run.samples) {
    const window = windows[Math.min(windowCount - 1, Math.floor(sample.tSeconds))]!;
    if (sample.isOk === false) {
      failed++;
      window.failed++;
      continue;
    }
    accepted++;
    window.accepted++;
    txn.record(sample.latencyUs);
    window.trend.record(sample.latencyUs);
    message.record(Math.max(1, sample.latencyUs - MESSAGE_PHASE_OFFSET_US));
    connect.record(100);
  }
  const timeline: TimelinePoint[] = windows.map((w, k) => {
    const isLast = k === windowCount - 1;
    const windowMs = isLast ? Math.round((durationSeconds - k) * 1000) : 1000;
    return {
      t: isLast ? round(durationSeconds, 2) : k + 1,
      windowMs,
      started: w.accepted + w.failed,
      accepted: w.accepted,
      failed: w.failed,
      dropped: 0,
      msgsPerSecond: (w.accepted * 1000) / windowMs,
      p50Ms: w.trend.count ? w.trend.percentile(50) / 1000 : null,
      p95Ms: w.trend.count ? w.trend.percentile(95) / 1000 : null,
      p99Ms: w.trend.count ? w.trend.percentile(99) / 1000 : null,
      vus: run.vus ?? 1,
      ...(run.isOldTimeline ? {} : { txnHistogram: w.trend.count ? w.trend.encode() : null }),
    };
  });
  const total = accepted + failed;
  const group: GroupFigures = {
    total_requests: total,
    successful: accepted,
    failed,
    interrupted: 0,
    success_rate: total ? accepted / total : 0,
    throughput_rps: round(total / durationSeconds, 3),
    throughput_rpm: round((total / durationSeconds) * 60, 1),
    successful_rps: round(accepted / durationSeconds, 3),
    latency: latencySeconds(txn),
  };
  const phases: Record<string, LatencySeconds> = txn.count ? { connect: latencySeconds(connect), message: latencySeconds(message) } : {};
  const phaseHistograms: Record<string, EncodedTrend> = txn.count ? { connect: connect.encode(), message: message.encode() } : {};
  return {
    schema_version: 2,
    timestamp: run.timestamp ?? '2025-01-01T00:00:00.000Z',
    target: run.target ?? '127.0.0.1:2525',
    config: run.config ?? { num_emails: total, concurrent: run.vus ?? 1, scenario_file: null },
    status: 'completed',
    abort_reason: null,
    results: {
      total_time_seconds: round(durationSeconds, 3),
      ...group,
      response_time: latencySeconds(txn),
      phases,
      errors: run.errors ?? [],
      errors_after_accept: [],
      connections: total,
      message_bytes: accepted * 1000,
      bytes_sent: total * 1200,
      bytes_received: total * 300,
      iterations: total,
      dropped_iterations: 0,
      script_errors: 0,
      vus_max: run.vus ?? 1,
    },
    scenarios: { [run.scenario ?? 'default']: { executor: run.executor ?? 'shared-iterations', ...group, histogram: txn.encode(), dropped_iterations: 0 } },
    accounts: { [run.account ?? 'test@example.com']: { ...group, histogram: txn.encode() } },
    custom_metrics: run.custom ?? {},
    thresholds: [],
    timeline: timeline.map(timelineEntry),
    watch: null,
    trends: null,
    histograms: { txn_duration: txn.encode(), txn_response_time: txn.encode(), phases: phaseHistograms },
  };
}

/** A synthetic run as compare/report/merge see it (through the real parser and schema check). */
export function loadSynthetic(run: SyntheticRun, file = 'synthetic.json'): LoadedResults {
  return parseResultsText(JSON.stringify(summaryFromSamples(run)), file);
}

/** `perSecond` messages every second for `seconds`, latencies log-normal around `medianMs`. */
export function steadySamples(options: { seconds: number; perSecond: number; medianMs: number; sigma?: number; seed: number; failureRate?: number }): TimedSample[] {
  const random: RandomSource = createRandom(options.seed);
  const samples: TimedSample[] = [];
  for (let second = 0; second < options.seconds; second++) {
    for (let i = 0; i < options.perSecond; i++) {
      const latencyUs = Math.max(1, Math.round(options.medianMs * 1000 * Math.exp((options.sigma ?? 0.3) * sampleNormal(random))));
      samples.push({ tSeconds: second + (i + 0.5) / options.perSecond, latencyUs, isOk: random() >= (options.failureRate ?? 0) });
    }
  }
  return samples;
}

/** The guide's example of the old tool's results file, verbatim. */
export const GUIDE_LEGACY_FILE = `{
  "timestamp": "2025-11-24T10:30:00",
  "target": "127.0.0.1:2525",
  "config": {
    "num_emails": 100,
    "concurrent": 10
  },
  "results": {
    "total_requests": 100,
    "successful": 100,
    "failed": 0,
    "success_rate": 1.0,
    "throughput_rps": 19.4,
    "throughput_rpm": 1164,
    "latency": {
      "min_seconds": 0.48,
      "max_seconds": 0.62,
      "avg_seconds": 0.53,
      "p50_seconds": 0.52,
      "p95_seconds": 0.60,
      "p99_seconds": 0.62
    }
  }
}`;
