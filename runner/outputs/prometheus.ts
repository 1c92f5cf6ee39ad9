/**
 * `--metrics-port PORT`: a Prometheus exposition endpoint (`GET /metrics`) while the run goes,
 * built with prom-client on a Registry of its own (never the process-wide default one).
 *
 * The engine's per-message path is not touched: the engine's once-a-second tick hands us its
 * MetricsRegistry and scenario progress, and a scrape that follows a tick copies the series
 * aggregates (plain number fields, and HDR histograms turned into cumulative bucket counts)
 * into the prom-client registry, then formats it. Copying on scrape rather than on every tick
 * costs nothing between scrapes (Prometheus typically scrapes every 15 s) and keeps every
 * series of one scrape from the same instant; a trend that has not grown is not re-read.
 * Histogram buckets come from the HDR histograms, exact to their 0.1% resolution (a sample
 * within 0.1% above a bound may count in that bound's bucket); `_sum` and `_count` are exact.
 *
 * Series (every one labelled `scenario`; failures also `phase` and `code`, the reply code or
 * the socket error such as ECONNREFUSED/TIMEOUT — no per-account labels, to keep the number
 * of series small whatever the accounts file holds):
 *
 *   runner_smtp_txns_total                      counter    messages attempted
 *   runner_smtp_messages_accepted_total         counter    messages accepted (250 after data)
 *   runner_smtp_messages_failed_total           counter    failed messages {phase, code}
 *   runner_smtp_messages_interrupted_total      counter    messages cut off by a hard stop
 *   runner_smtp_errors_after_accept_total       counter    errors after acceptance (QUIT) {phase, code}
 *   runner_smtp_connections_total               counter    TCP connections opened
 *   runner_smtp_message_bytes_total             counter    bytes of accepted messages
 *   runner_data_sent_bytes_total                counter    bytes written to the server
 *   runner_data_received_bytes_total            counter    bytes read from the server
 *   runner_iterations_total                     counter    iterations completed
 *   runner_dropped_iterations_total             counter    iterations never started (no VU within maxQueueWait)
 *   runner_script_errors_total                  counter    custom iterations that threw
 *   runner_vus / runner_vus_max                 gauge      active / allocated VUs
 *   runner_arrivals_queued                      gauge      arrivals waiting for a free VU now
 *   runner_run_elapsed_seconds                  gauge      test time so far
 *   runner_run_finished                         gauge      1 once the run is over (values final)
 *   runner_smtp_txn_duration_seconds            histogram  smtp_txn_duration
 *   runner_smtp_txn_response_time_seconds       histogram  smtp_txn_response_time
 *   runner_smtp_phase_duration_seconds          histogram  per phase {phase}
 *   runner_account_smtp_txns_total              counter    messages attempted per sender {account}
 *   runner_account_smtp_messages_accepted_total counter    accepted per sender {account}
 *   runner_account_smtp_messages_failed_total   counter    failed per sender {account}
 *   runner_custom_<name>_total                  counter    a custom Counter (sum of its values), Rate (samples)
 *   runner_custom_<name>_nonzero_total          counter    a custom Rate's non-zero samples (rate = this / _total)
 *   runner_custom_<name>                        gauge      a custom Gauge's last value
 *   runner_custom_<name>{stat}                  gauge      a custom Trend: stat = count, avg, min, max, p50, p95, p99
 *                                                          (ms for time trends, as in thresholds)
 * Per-account series carry only `account` (not × scenario × phase), so their number is the
 * accounts file's size; custom metrics carry their tags as labels (at most 1000 tag sets each).
 *
 * With delivery tracking (`delivery`, `--delivery`, `--with-sink`) also:
 *
 *   runner_smtp_delivered_total                 counter    smtp_delivered: accepted messages that arrived upstream in time
 *   runner_smtp_lost_total                      counter    smtp_lost {reason: refused | timeout}; timeouts are judged at the end
 *   runner_smtp_duplicated_total                counter    smtp_duplicated: messages that arrived more than once
 *   runner_smtp_unexpected_total                counter    smtp_unexpected: arrived though counted failed
 *   runner_smtp_delivery_lag_seconds            histogram  smtp_delivery_lag: the 250 to the arrival upstream
 *   runner_smtp_e2e_duration_seconds            histogram  smtp_e2e_duration: the message's (planned) start to its arrival
 *   runner_smtp_delivery_backlog                gauge      accepted minus arrived minus refused now (no scenario label: the relay's one queue)
 *
 * With a retry policy (a scenario's `retry`, `--retry`) also:
 *
 *   runner_smtp_deferrals_total                 counter    smtp_deferrals: attempts deferred (retried later, not failed) {code}
 *   runner_smtp_first_try_total                 counter    messages accepted on their first attempt (smtp_first_try's non-zero samples)
 *   runner_smtp_retry_messages_total            counter    messages with a final outcome or pending (smtp_first_try's samples: the share's denominator)
 *   runner_smtp_retry_pending                   gauge      smtp_retry_pending: messages still deferred when gracefulStop ran out (set at the end)
 *   runner_smtp_attempts_per_message            histogram  smtp_attempts_per_message: attempts at each message's final outcome
 *   runner_smtp_eventual_duration_seconds       histogram  smtp_eventual_duration: first attempt's (planned) start → final 250 or final failure
 *
 * Lifecycle: prepare() listens (127.0.0.1 by default; a port in use fails before any load);
 * finish() copies the final figures and sets runner_run_finished 1; close() — called by run.ts
 * after the summary is printed — keeps serving until one scrape has read those final values,
 * at most `lingerMs` (default 15 s, a common scrape interval; 0 stops at once), then stops. It
 * lingers only when the endpoint was scraped during the run: nobody watching, nobody waits.
 * Dropped iterations are a counter, not a gauge: they only grow, and rate() needs a counter.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Counter, Gauge, Registry, Metric } from 'prom-client';
import type { EngineListener, ScenarioProgress } from '../engine/events.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { TrendSink } from '../metrics/trend.ts';
import { PHASES } from '../smtp/phases.ts';
import { formatDurationMs } from '../scenario/duration.ts';
import { OutputError } from '../errors.ts';
import { lingerFor, type OutputContext, type RunOutput } from './output.ts';
import { checkExposure, type Exposure } from '../listen-address.ts';
import { listenHttp } from './http-endpoint.ts';

/** Histogram bucket upper bounds in seconds: 1 ms to 30 s, roughly ×2.5 apart (SMTP spans both). */
export const SMTP_DURATION_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Delivery lag and end-to-end bounds in seconds: 10 ms to 2 min (a relay's queue can hold a message for its whole timeout). */
export const DELIVERY_BUCKETS_SECONDS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Eventual duration bounds in seconds: 10 ms to 30 min (a backoff of minutes, several times over). */
export const EVENTUAL_BUCKETS_SECONDS: readonly number[] = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800];

/** Attempts-per-message bucket bounds (counts). */
export const ATTEMPT_BUCKETS: readonly number[] = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50];

/** Default port of the endpoint (the OpenTelemetry Prometheus exporter's). */
export const DEFAULT_METRICS_PORT = 9464;
/** Default listen address: this machine only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';
/** Default time to keep serving after the run for a final scrape, ms. */
export const DEFAULT_METRICS_LINGER_MS = 15_000;

/** Who may reach it: loopback unless --metrics-allow-remote (listen-address.ts). */
export const METRICS_EXPOSURE: Exposure = { flag: '--metrics-host', allowFlag: '--metrics-allow-remote', risk: "read the run's metrics, its target and accounts included", isHostOnly: true };

/** Where and how long the endpoint listens. */
export interface MetricsEndpointOptions {
  /** TCP port; 0 takes any free port (its URL is printed). */
  port: number;
  /** Listen address. @default '127.0.0.1' */
  host?: string;
  /** Whether `host` may be an address other machines reach (--metrics-allow-remote). @default false */
  isRemoteAllowed?: boolean;
  /** After the run, the longest wait for a scrape of the final values, ms. @default 15000 */
  lingerMs?: number;
}

/** The metrics endpoint output; `close()` is called by run.ts once the summary is out. */
export interface MetricsEndpointOutput extends RunOutput {
  /** `http://host:port/metrics` once prepared. */
  readonly url: string | undefined;
  /** The exporter whose values the endpoint serves. */
  readonly exporter: PrometheusExporter;
  /** With `linger`, waits for a scrape of the final values (at most lingerMs); then stops listening. */
  close(options?: { linger?: boolean; signal?: AbortSignal }): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Histograms fed with bucket counts

/** Cumulative counts of one trend, per bound, cached while the trend has not grown. */
interface BucketCache {
  count: number;
  cumulative: Float64Array;
}

/** One label set of a snapshot histogram. */
interface HistogramEntry {
  labels: Record<string, string>;
  cumulative: Float64Array;
  count: number;
  sumSeconds: number;
}

/**
 * A Prometheus histogram whose buckets are set from HDR histograms rather than observed one
 * sample at a time (prom-client's Histogram can only observe). It is registered in a
 * prom-client Registry, which formats and escapes it like its own metrics: the Registry asks a
 * metric for `get()` (name, help, type and its sample values).
 */
class SnapshotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly entries = new Map<string, HistogramEntry>();
  private readonly boundsUs: number[];
  private readonly boundLabels: string[];

  /** `samplesPerUnit`: a trend sample per unit of the bounds (1e6: µs samples, bounds in s; 1: counts). */
  constructor(
    readonly name: string,
    readonly help: string,
    boundsSeconds: readonly number[],
    private readonly caches: WeakMap<TrendSink, BucketCache>,
    private readonly samplesPerUnit = 1e6,
  ) {
    this.boundsUs = boundsSeconds.map((s) => Math.round(s * samplesPerUnit));
    this.boundLabels = boundsSeconds.map((s) => String(s));
  }

  /** The entry for a label set (created at zero); `key` identifies the label set. */
  entry(key: string, labels: Record<string, string>): HistogramEntry {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { labels, cumulative: new Float64Array(this.boundsUs.length), count: 0, sumSeconds: 0 };
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Zeroes every entry before a fresh copy is added. */
  clear(): void {
    for (const entry of this.entries.values()) {
      entry.cumulative.fill(0);
      entry.count = 0;
      entry.sumSeconds = 0;
    }
  }

  /** Adds a µs trend's samples to an entry. */
  add(entry: HistogramEntry, trend: TrendSink): void {
    if (trend.count === 0) return;
    const counts = this.bucketCounts(trend);
    for (let i = 0; i < counts.length; i++) entry.cumulative[i]! += counts[i]!;
    entry.count += trend.count;
    entry.sumSeconds += trend.sum / this.samplesPerUnit;
  }

  /** Cumulative counts of `trend` at each bound, from its HDR counts (reused while it has not grown). */
  private bucketCounts(trend: TrendSink): Float64Array {
    const cached = this.caches.get(trend);
    if (cached && cached.count === trend.count && cached.cumulative.length === this.boundsUs.length) return cached.cumulative;
    const cumulative = cached?.cumulative ?? new Float64Array(this.boundsUs.length);
    const histogram = trend.histogram;
    // Walk the counts array once, up to each bound's slot in turn; nothing lies past the max.
    const lastIndex = Math.min(histogram.countsArrayLength - 1, histogram.countsArrayIndex(histogram.maxValue));
    let index = 0;
    let running = 0;
    for (let b = 0; b < this.boundsUs.length; b++) {
      const end = Math.min(histogram.countsArrayIndex(this.boundsUs[b]!), lastIndex);
      for (; index <= end; index++) running += histogram.getCountAtIndex(index);
      cumulative[b] = running;
    }
    this.caches.set(trend, { count: trend.count, cumulative });
    return cumulative;
  }

  /** prom-client's metric interface: the samples of every label set. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ value: number; labels: Record<string, string | number>; metricName: string }> }> {
    const values: Array<{ value: number; labels: Record<string, string | number>; metricName: string }> = [];
    for (const entry of this.entries.values()) {
      for (let b = 0; b < this.boundLabels.length; b++) {
        values.push({ metricName: `${this.name}_bucket`, labels: { ...entry.labels, le: this.boundLabels[b]! }, value: entry.cumulative[b]! });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...entry.labels, le: '+Inf' }, value: entry.count });
      values.push({ metricName: `${this.name}_sum`, labels: entry.labels, value: entry.sumSeconds });
      values.push({ metricName: `${this.name}_count`, labels: entry.labels, value: entry.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.entries.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// The exporter: MetricsRegistry → prom-client Registry

/** Per-scenario sums of the series' counters. */
interface ScenarioTotals {
  txns: number;
  accepted: number;
  failed: number;
  interrupted: number;
  connections: number;
  messageBytes: number;
  bytesSent: number;
  bytesReceived: number;
  iterations: number;
  scriptErrors: number;
}

type TotalsField = keyof ScenarioTotals;

/** Counter name, help and the ScenarioTotals field it shows. */
const SCENARIO_COUNTERS: ReadonlyArray<[string, string, TotalsField]> = [
  ['runner_smtp_txns_total', 'SMTP messages attempted (accepted + failed)', 'txns'],
  ['runner_smtp_messages_accepted_total', 'SMTP messages accepted (250 after end of data)', 'accepted'],
  ['runner_smtp_messages_interrupted_total', 'SMTP messages cut off by a hard stop (neither accepted nor failed)', 'interrupted'],
  ['runner_smtp_connections_total', 'TCP connections opened', 'connections'],
  ['runner_smtp_message_bytes_total', 'bytes of accepted messages', 'messageBytes'],
  ['runner_data_sent_bytes_total', 'bytes written to the SMTP server', 'bytesSent'],
  ['runner_data_received_bytes_total', 'bytes read from the SMTP server', 'bytesReceived'],
  ['runner_iterations_total', 'iterations completed (successful or not)', 'iterations'],
  ['runner_script_errors_total', 'custom iterations that threw something other than a failed SMTP step', 'scriptErrors'],
];

/** The delivery series of the exporter (with delivery tracking). */
interface DeliverySeries {
  delivered: Counter<string>;
  lost: Counter<string>;
  duplicated: Counter<string>;
  unexpected: Counter<string>;
  backlog: Gauge<string>;
  lag: SnapshotHistogram;
  e2e: SnapshotHistogram;
}

/** The retry series of the exporter (with a retry policy). */
interface RetrySeries {
  deferrals: Counter<string>;
  firstTry: Counter<string>;
  messages: Counter<string>;
  pending: Gauge<string>;
  attempts: SnapshotHistogram;
  eventual: SnapshotHistogram;
}

/** Copies a run's MetricsRegistry into a prom-client Registry of its own. */
export class PrometheusExporter {
  /** The registry the endpoint serves (never prom-client's global one). */
  readonly registry: Registry;
  private readonly counters: Array<[Counter<string>, TotalsField]>;
  private readonly failed: Counter<string>;
  private readonly afterAccept: Counter<string>;
  private readonly dropped: Counter<string>;
  private readonly vus: Gauge<string>;
  private readonly vusMax: Gauge<string>;
  private readonly queued: Gauge<string>;
  private readonly elapsed: Gauge<string>;
  private readonly finished: Gauge<string>;
  private readonly txnDuration: SnapshotHistogram;
  private readonly txnResponseTime: SnapshotHistogram;
  private readonly phaseDuration: SnapshotHistogram;
  private readonly totals = new Map<string, ScenarioTotals>();
  private readonly accountTxns: Counter<string>;
  private readonly accountAccepted: Counter<string>;
  private readonly accountFailed: Counter<string>;
  private readonly customMetrics = new Map<string, Counter<string> | Gauge<string>>();
  private readonly promClient: typeof import('prom-client');
  private readonly scenarioNames: string[];
  /** With delivery tracking: its series (undefined without). */
  private readonly delivery: DeliverySeries | undefined;
  /** With a retry policy: its series (undefined without). */
  private readonly retries: RetrySeries | undefined;

  /**
   * `scenarioNames`: the run's scenarios, shown at zero from the first scrape on;
   * `isDeliveryTracked`: add the delivery series (zero until messages arrive);
   * `hasRetries`: add the retry series (a scenario has a retry policy).
   */
  constructor(scenarioNames: readonly string[], bucketsSeconds: readonly number[] = SMTP_DURATION_BUCKETS_SECONDS, isDeliveryTracked = false, hasRetries = false) {
    // prom-client loads here, not with the module (~35 ms of every run's start-up otherwise).
    this.promClient = createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
    const { Counter, Gauge, Registry } = this.promClient;
    this.registry = new Registry();
    const registers = [this.registry];
    const byScenario = ['scenario'];
    this.counters = SCENARIO_COUNTERS.map(([name, help, field]) => [new Counter({ name, help, labelNames: byScenario, registers }), field]);
    const byCode = ['scenario', 'phase', 'code'];
    this.failed = new Counter({ name: 'runner_smtp_messages_failed_total', help: 'failed SMTP messages by phase and reply code (or socket error)', labelNames: byCode, registers });
    this.afterAccept = new Counter({ name: 'runner_smtp_errors_after_accept_total', help: 'errors after a message was accepted (e.g. at QUIT); they fail no message', labelNames: byCode, registers });
    this.dropped = new Counter({
      name: 'runner_dropped_iterations_total',
      help: 'iterations never started: no VU came free within maxQueueWait of the planned start, or still queued at the end (arrival-rate); maxDuration ended first (iteration counts)',
      labelNames: byScenario,
      registers,
    });
    this.vus = new Gauge({ name: 'runner_vus', help: 'active VUs', labelNames: byScenario, registers });
    this.vusMax = new Gauge({ name: 'runner_vus_max', help: 'allocated VUs', labelNames: byScenario, registers });
    this.queued = new Gauge({ name: 'runner_arrivals_queued', help: 'arrivals waiting for a free VU now (arrival-rate executors with every VU busy at maxVUs)', labelNames: byScenario, registers });
    const byAccount = ['account'];
    this.accountTxns = new Counter({ name: 'runner_account_smtp_txns_total', help: 'SMTP messages attempted, per sender account', labelNames: byAccount, registers });
    this.accountAccepted = new Counter({ name: 'runner_account_smtp_messages_accepted_total', help: 'SMTP messages accepted, per sender account', labelNames: byAccount, registers });
    this.accountFailed = new Counter({ name: 'runner_account_smtp_messages_failed_total', help: 'failed SMTP messages, per sender account', labelNames: byAccount, registers });
    this.elapsed = new Gauge({ name: 'runner_run_elapsed_seconds', help: 'test time since the load started, seconds', registers });
    this.finished = new Gauge({ name: 'runner_run_finished', help: '1 once the run is over and every value is final, else 0', registers });
    const caches = new WeakMap<TrendSink, BucketCache>();
    this.txnDuration = new SnapshotHistogram('runner_smtp_txn_duration_seconds', 'service time of accepted messages (smtp_txn_duration), seconds', bucketsSeconds, caches);
    this.txnResponseTime = new SnapshotHistogram('runner_smtp_txn_response_time_seconds', 'accepted messages from their planned start (smtp_txn_response_time), seconds', bucketsSeconds, caches);
    this.phaseDuration = new SnapshotHistogram('runner_smtp_phase_duration_seconds', 'duration of each SMTP phase (smtp_<phase>_duration), seconds', bucketsSeconds, caches);
    for (const histogram of [this.txnDuration, this.txnResponseTime, this.phaseDuration]) this.registry.registerMetric(histogram as unknown as Metric);

    if (isDeliveryTracked) {
      this.delivery = {
        delivered: new Counter({ name: 'runner_smtp_delivered_total', help: 'accepted messages that arrived upstream within the delivery timeout (smtp_delivered)', labelNames: byScenario, registers }),
        lost: new Counter({ name: 'runner_smtp_lost_total', help: 'accepted messages lost upstream (smtp_lost): refused by the upstream, or not arrived within the timeout (judged when the wait after the load ends)', labelNames: ['scenario', 'reason'], registers }),
        duplicated: new Counter({ name: 'runner_smtp_duplicated_total', help: 'messages that arrived upstream more than once (smtp_duplicated)', labelNames: byScenario, registers }),
        unexpected: new Counter({ name: 'runner_smtp_unexpected_total', help: 'messages that arrived upstream though runner counted them failed (smtp_unexpected)', labelNames: byScenario, registers }),
        backlog: new Gauge({ name: 'runner_smtp_delivery_backlog', help: 'accepted messages not arrived upstream yet nor refused: the relaying proxy\'s queue', registers }),
        lag: new SnapshotHistogram('runner_smtp_delivery_lag_seconds', 'the 250 to the arrival upstream (smtp_delivery_lag), seconds', DELIVERY_BUCKETS_SECONDS, caches),
        e2e: new SnapshotHistogram('runner_smtp_e2e_duration_seconds', 'the message\'s (planned) start to its arrival upstream (smtp_e2e_duration), seconds', DELIVERY_BUCKETS_SECONDS, caches),
      };
      for (const histogram of [this.delivery.lag, this.delivery.e2e]) this.registry.registerMetric(histogram as unknown as Metric);
    }

    if (hasRetries) {
      // The same buckets whatever the trend: the cache is keyed by trend, so these histograms keep their own
      const retryCaches = new WeakMap<TrendSink, BucketCache>();
      this.retries = {
        deferrals: new Counter({ name: 'runner_smtp_deferrals_total', help: 'attempts deferred by a reply the retry policy retries, with attempts left: sent again later, not failed (smtp_deferrals), by reply code', labelNames: ['scenario', 'code'], registers }),
        firstTry: new Counter({ name: 'runner_smtp_first_try_total', help: 'messages accepted on their first attempt (smtp_first_try: this / runner_smtp_retry_messages_total)', labelNames: byScenario, registers }),
        messages: new Counter({ name: 'runner_smtp_retry_messages_total', help: 'messages with a final outcome (accepted or failed once their attempts ran out) or pending at the end', labelNames: byScenario, registers }),
        pending: new Gauge({ name: 'runner_smtp_retry_pending', help: 'deferred messages still waiting for a retry when their scenario\'s gracefulStop ran out (smtp_retry_pending; set at the end)', labelNames: byScenario, registers }),
        attempts: new SnapshotHistogram('runner_smtp_attempts_per_message', 'attempts a message took, at its final outcome (smtp_attempts_per_message)', ATTEMPT_BUCKETS, retryCaches, 1),
        eventual: new SnapshotHistogram('runner_smtp_eventual_duration_seconds', 'first attempt\'s (planned) start to the final 250 or final failure (smtp_eventual_duration), seconds', EVENTUAL_BUCKETS_SECONDS, caches),
      };
      for (const histogram of [this.retries.attempts, this.retries.eventual]) this.registry.registerMetric(histogram as unknown as Metric);
    }

    this.scenarioNames = [...scenarioNames];
    for (const name of this.scenarioNames) {
      this.txnDuration.entry(name, { scenario: name });
      this.txnResponseTime.entry(name, { scenario: name });
      this.delivery?.lag.entry(name, { scenario: name });
      this.delivery?.e2e.entry(name, { scenario: name });
      this.retries?.attempts.entry(name, { scenario: name });
      this.retries?.eventual.entry(name, { scenario: name });
    }
    this.finished.set(0);
    this.update(undefined, [], 0);
  }

  /** Copies the registry's current figures (once a tick; cost grows with series, not messages). */
  update(registry: MetricsRegistry | undefined, scenarios: readonly ScenarioProgress[], elapsedMs: number): void {
    for (const totals of this.totals.values()) for (const field in totals) totals[field as TotalsField] = 0;
    for (const name of this.scenarioNames) this.totalsOf(name);
    this.failed.reset();
    this.afterAccept.reset();
    this.txnDuration.clear();
    this.txnResponseTime.clear();
    this.phaseDuration.clear();
    const delivery = this.delivery;
    if (delivery) {
      for (const counter of [delivery.delivered, delivery.lost, delivery.duplicated, delivery.unexpected]) counter.reset();
      delivery.lag.clear();
      delivery.e2e.clear();
      for (const scenario of this.scenarioNames) {
        delivery.delivered.inc({ scenario }, 0);
        delivery.duplicated.inc({ scenario }, 0);
        delivery.unexpected.inc({ scenario }, 0);
        for (const reason of ['refused', 'timeout']) delivery.lost.inc({ scenario, reason }, 0);
      }
      delivery.backlog.set(registry?.deliveryBacklog ?? 0);
    }
    const retries = this.retries;
    if (retries) {
      for (const counter of [retries.deferrals, retries.firstTry, retries.messages]) counter.reset();
      retries.pending.reset();
      retries.attempts.clear();
      retries.eventual.clear();
      for (const scenario of this.scenarioNames) {
        retries.firstTry.inc({ scenario }, 0);
        retries.messages.inc({ scenario }, 0);
        retries.pending.set({ scenario }, 0);
      }
    }

    for (const series of registry?.series ?? []) {
      const scenario = series.tags['scenario'] ?? '';
      const totals = this.totalsOf(scenario);
      totals.txns += series.txns;
      totals.accepted += series.accepted;
      totals.failed += series.failed;
      totals.interrupted += series.interrupted;
      totals.connections += series.connections;
      totals.messageBytes += series.messageBytes;
      totals.bytesSent += series.bytesSent;
      totals.bytesReceived += series.bytesReceived;
      totals.iterations += series.iterations;
      totals.scriptErrors += series.scriptErrors;
      for (const error of series.errors.values()) {
        this.failed.inc({ scenario, phase: error.phase, code: String(error.code ?? error.error ?? 'unknown') }, error.count);
      }
      for (const error of series.afterAcceptErrors.values()) {
        this.afterAccept.inc({ scenario, phase: error.phase, code: String(error.code ?? error.error ?? 'unknown') }, error.count);
      }
      this.txnDuration.add(this.txnDuration.entry(scenario, { scenario }), series.txnDuration);
      this.txnResponseTime.add(this.txnResponseTime.entry(scenario, { scenario }), series.txnResponseTime);
      for (let i = 0; i < PHASES.length; i++) {
        const trend = series.phases[i]!;
        if (trend.count === 0) continue;
        const phase = PHASES[i]!;
        this.phaseDuration.add(this.phaseDuration.entry(`${scenario}\u0000${phase}`, { scenario, phase }), trend);
      }
      if (delivery) {
        delivery.delivered.inc({ scenario }, series.delivered);
        delivery.lost.inc({ scenario, reason: 'refused' }, series.lostRefused);
        delivery.lost.inc({ scenario, reason: 'timeout' }, series.lost - series.lostRefused);
        delivery.duplicated.inc({ scenario }, series.duplicated);
        delivery.unexpected.inc({ scenario }, series.unexpected);
        delivery.lag.add(delivery.lag.entry(scenario, { scenario }), series.deliveryLag);
        delivery.e2e.add(delivery.e2e.entry(scenario, { scenario }), series.e2eDuration);
      }
      if (retries) {
        for (const [code, count] of series.deferrals) retries.deferrals.inc({ scenario, code: String(code) }, count);
        retries.firstTry.inc({ scenario }, series.firstTry);
        retries.messages.inc({ scenario }, series.accepted + series.failed + series.retryPending);
        retries.pending.inc({ scenario }, series.retryPending);
        retries.attempts.add(retries.attempts.entry(scenario, { scenario }), series.attemptsPerMessage);
        retries.eventual.add(retries.eventual.entry(scenario, { scenario }), series.eventualDuration);
      }
    }

    this.accountTxns.reset();
    this.accountAccepted.reset();
    this.accountFailed.reset();
    for (const series of registry?.series ?? []) {
      const account = series.tags['account'] ?? '';
      if (series.txns > 0) this.accountTxns.inc({ account }, series.txns);
      if (series.accepted > 0) this.accountAccepted.inc({ account }, series.accepted);
      if (series.failed > 0) this.accountFailed.inc({ account }, series.failed);
    }
    if (registry) this.updateCustom(registry);

    for (const [counter, field] of this.counters) {
      counter.reset();
      for (const [scenario, totals] of this.totals) counter.inc({ scenario }, totals[field]);
    }
    this.dropped.reset();
    for (const scenario of this.totals.keys()) this.dropped.inc({ scenario }, registry?.droppedCount(scenario) ?? 0);
    for (const name of this.scenarioNames) {
      const progress = scenarios.find((s) => s.name === name);
      this.vus.set({ scenario: name }, progress?.activeVus ?? 0);
      this.vusMax.set({ scenario: name }, progress?.allocatedVus ?? 0);
      this.queued.set({ scenario: name }, progress?.queuedArrivals ?? 0);
    }
    this.elapsed.set(Math.round(elapsedMs) / 1000);
  }

  /** Copies the scenario's custom metrics (names and label names sanitised for Prometheus). */
  private updateCustom(registry: MetricsRegistry): void {
    for (const [name, metric] of registry.custom) {
      const base = `runner_custom_${prometheusName(name)}`;
      const sets = metric.tagSetsWithSamples();
      const labelNames = [...new Set(sets.flatMap((set) => Object.keys(set.tags).map(prometheusName)))].sort();
      const labelsOf = (tags: Readonly<Record<string, string>>, extra: Record<string, string> = {}) => {
        const labels: Record<string, string> = Object.fromEntries(labelNames.map((label) => [label, '']));
        for (const [key, value] of Object.entries(tags)) labels[prometheusName(key)] = value;
        return { ...labels, ...extra };
      };
      const type = metric.info.type;
      if (type === 'counter' || type === 'rate') {
        const total = this.customMetric(`${base}_total`, 'counter', `custom ${type} ${name}: ${type === 'counter' ? 'sum of the values added' : 'samples'}`, labelNames);
        total.reset();
        for (const set of sets) (total as Counter<string>).inc(labelsOf(set.tags), type === 'counter' ? set.sum : set.samples);
        if (type === 'rate') {
          const nonZero = this.customMetric(`${base}_nonzero_total`, 'counter', `custom rate ${name}: non-zero samples`, labelNames);
          nonZero.reset();
          for (const set of sets) (nonZero as Counter<string>).inc(labelsOf(set.tags), set.nonZero);
        }
      } else if (type === 'gauge') {
        const gauge = this.customMetric(base, 'gauge', `custom gauge ${name}: last value`, labelNames);
        gauge.reset();
        for (const set of sets) (gauge as Gauge<string>).set(labelsOf(set.tags), set.last);
      } else if (type === 'trend') {
        const unit = metric.info.isTime ? ' (ms)' : '';
        const gauge = this.customMetric(base, 'gauge', `custom trend ${name}${unit}: stat = count, avg, min, max, p50, p95, p99`, [...labelNames, 'stat']);
        gauge.reset();
        for (const set of sets) {
          const trend = set.trend;
          if (!trend || trend.count === 0) continue;
          // Samples are stored ×1000 (µs for time trends): /1000 gives ms, or the value's own unit.
          const stats: [string, number][] = [['count', trend.count], ['avg', trend.avg() / 1000], ['min', trend.min / 1000], ['max', trend.max / 1000],
            ['p50', trend.percentile(50) / 1000], ['p95', trend.percentile(95) / 1000], ['p99', trend.percentile(99) / 1000]];
          for (const [stat, value] of stats) (gauge as Gauge<string>).set(labelsOf(set.tags, { stat }), value);
        }
      }
    }
  }

  private customMetric(name: string, type: 'counter' | 'gauge', help: string, labelNames: string[]): Counter<string> | Gauge<string> {
    let metric = this.customMetrics.get(name);
    const known = (metric as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
    if (metric && labelNames.every((label) => known.includes(label))) return metric;
    // A new label appeared (a new tag key): the metric is registered again with every label.
    if (metric) this.registry.removeSingleMetric(name);
    const { Counter, Gauge } = this.promClient;
    const names = [...new Set([...known, ...labelNames])];
    metric = type === 'counter' ? new Counter({ name, help, labelNames: names, registers: [this.registry] }) : new Gauge({ name, help, labelNames: names, registers: [this.registry] });
    this.customMetrics.set(name, metric);
    return metric;
  }

  /** Marks the values final (runner_run_finished 1). */
  markFinished(): void {
    this.finished.set(1);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private totalsOf(scenario: string): ScenarioTotals {
    let totals = this.totals.get(scenario);
    if (!totals) {
      totals = { txns: 0, accepted: 0, failed: 0, interrupted: 0, connections: 0, messageBytes: 0, bytesSent: 0, bytesReceived: 0, iterations: 0, scriptErrors: 0 };
      this.totals.set(scenario, totals);
    }
    return totals;
  }
}

/** A metric or tag name as Prometheus allows it: [a-zA-Z_][a-zA-Z0-9_]*, other characters → '_'. */
export function prometheusName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

// ---------------------------------------------------------------------------------------------
// The endpoint

/** Creates the metrics endpoint output. */
export function createPrometheusOutput(options: MetricsEndpointOptions): MetricsEndpointOutput {
  const host = options.host ?? DEFAULT_METRICS_HOST;
  const lingerMs = options.lingerMs ?? DEFAULT_METRICS_LINGER_MS;
  let exporter: PrometheusExporter | undefined;
  let server: Server | undefined;
  let url: string | undefined;
  let stderr: NodeJS.WritableStream = process.stderr;
  let isFinal = false;
  /** What the last tick handed over, copied into the exporter at the next scrape. */
  let latest: { registry: MetricsRegistry; scenarios: ScenarioProgress[] } | undefined;
  let scrapes = 0;
  let scrapesOfFinal = 0;
  let onScrapeOfFinal: (() => void) | undefined;

  const serve = (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('runner: the metrics are at /metrics\n');
      return;
    }
    const wasFinal = isFinal;
    let body: Promise<string>;
    try {
      if (latest && !isFinal) {
        exporter!.update(latest.registry, latest.scenarios, performance.now() - latest.registry.startMs);
        latest = undefined;
      }
      body = exporter!.metrics();
    } catch (error) {
      // A bug here must cost one scrape (a 500), never the run.
      body = Promise.reject(error);
    }
    body.then(
      (body) => {
        response.writeHead(200, { 'content-type': exporter!.registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : body, () => {
          scrapes++;
          if (!wasFinal) return;
          scrapesOfFinal++;
          onScrapeOfFinal?.();
        });
      },
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${error.message}\n`),
    );
  };

  const stop = async () => {
    const current = server;
    server = undefined;
    if (!current) return;
    await new Promise<void>((resolve) => {
      current.close(() => resolve());
      current.closeAllConnections();
    });
  };

  const listener: EngineListener = {
    onTick(_point, scenarios, registry) {
      latest = { registry, scenarios };
    },
  };

  const output: MetricsEndpointOutput = {
    description: 'metrics endpoint',
    get url() {
      return url;
    },
    get exporter() {
      if (!exporter) throw new Error('the metrics endpoint is not prepared yet');
      return exporter;
    },
    listener,
    async prepare(context: OutputContext) {
      stderr = context.stderr;
      checkExposure({ host, port: options.port }, options.isRemoteAllowed === true, METRICS_EXPOSURE);
      exporter = new PrometheusExporter(context.options.scenarios.map((s) => s.name), SMTP_DURATION_BUCKETS_SECONDS, context.options.delivery !== undefined, context.options.scenarios.some((s) => s.retry !== undefined));
      const endpoint = await listenHttp(serve, host, options.port, (error) => listenError(error, host, options.port));
      server = endpoint.server;
      url = `${endpoint.origin}/metrics`;
      stderr.write(`metrics: Prometheus endpoint at ${url}\n`);
    },
    async finish(_summary, context) {
      if (!exporter) return;
      exporter.update(context.result.registry, context.result.scenarios, context.result.durationMs);
      exporter.markFinished();
      isFinal = true;
      latest = undefined;
    },
    async close(closeOptions = {}) {
      if (!server) return;
      // Linger only for a scraper that watched the run (scraped it) and has not read the final values yet.
      if (closeOptions.linger && isFinal && lingerMs > 0 && scrapes > 0 && scrapesOfFinal === 0) {
        stderr.write(`metrics: serving the final values at ${url} until the next scrape (at most ${formatDurationMs(lingerMs)}; --metrics-linger 0 skips this)\n`);
        // This timer (not the unref'd server) keeps the process alive while we wait; a scrape of the final values or a signal ends it.
        const scraped = new AbortController();
        onScrapeOfFinal = () => scraped.abort();
        await lingerFor(lingerMs, closeOptions.signal ? AbortSignal.any([scraped.signal, closeOptions.signal]) : scraped.signal);
        onScrapeOfFinal = undefined;
      }
      await stop();
    },
  };
  return output;
}

/** A listen failure as a user-facing error with what to do. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): OutputError {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new OutputError(
        `metrics endpoint: ${where} is already in use`,
        `another process listens there (a previous run still serving its final scrape? another exporter?): choose another port with --metrics-port, or stop it (e.g. find it with: ss -ltnp 'sport = :${port}')`,
        error,
      );
    case 'EACCES':
      return new OutputError(`metrics endpoint: not allowed to listen on ${where}`, 'ports below 1024 need privileges: use e.g. --metrics-port 9464', error);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new OutputError(`metrics endpoint: ${host} is not an address of this machine`, 'use --metrics-host 127.0.0.1 (this machine only), or 0.0.0.0 (every interface) with --metrics-allow-remote', error);
    default:
      return new OutputError(`metrics endpoint: cannot listen on ${where}: ${error.message}`, 'choose another --metrics-port / --metrics-host', error);
  }
}
