/**
 * A VU's state and the recorder its SMTP session reports into. The recorder points at the
 * series of the VU's current scenario and sender, so recording is a few field updates and
 * histogram inserts: no lookups, no allocations on the success path.
 */
import { performance } from 'node:perf_hooks';
import type { Vu } from '../executors/executor.ts';
import type { Failure, SmtpSteps } from '../smtp/api.ts';
import type { SessionRecorder } from '../smtp/session.ts';
import { SmtpSession } from '../smtp/session.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import { countError, countMessageSize, type Series } from '../metrics/series.ts';
import type { SourceSeries } from '../metrics/source-series.ts';
import { Counter, Trend } from '../metrics/custom.ts';
import { isDeferral, type RetryPolicy } from './retry-policy.ts';
import { CLIENT_FAULTS_METRIC, type ClientFaultKind } from '../smtp/client-faults.ts';

/** Failure `error` value the session uses for a message cut off by a hard stop. */
export const INTERRUPTED = 'INTERRUPTED';

/** The series of a scenario's samples in a ctx.group() path ('' outside any) for an account. */
export type SeriesResolver = (groupPath: string, account: string) => Series;

/** Records one VU's SMTP events into the series it currently points at. */
export class VuRecorder implements SessionRecorder {
  /** The series of (groupPath, account): where samples go now. */
  series: Series;
  /** The account samples are counted under: the picked sender, then whoever the session authenticates as. */
  currentAccount = '';
  /** The current ctx.group() path ('' outside any group). */
  groupPath = '';
  /** performance.now() of the current iteration's intended start (response time base). */
  intendedStartMs = 0;
  /**
   * The scenario's retry policy while the current message may be retried (the generated flow),
   * else undefined: then every failure is final and no per-message retry figure is taken.
   */
  retry: RetryPolicy | undefined = undefined;
  /** The current message's attempt number (1 = first), and its first attempt's (intended) start, performance.now() ms. */
  attempt = 1;
  firstStartMs = 0;
  /** The current message was deferred (a reply the policy retries, attempts left): its reply, for the retry queue. */
  deferredFailure: Failure | undefined = undefined;
  private readonly registry: MetricsRegistry;
  private readonly resolveSeries: SeriesResolver;

  constructor(registry: MetricsRegistry, series: Series, resolveSeries: SeriesResolver) {
    this.registry = registry;
    this.series = series;
    this.resolveSeries = resolveSeries;
  }

  /** Starts a message that may be retried under `retry` (undefined: none): attempt `attempt`, first begun at `firstStartMs`. */
  beginMessage(retry: RetryPolicy | undefined, attempt: number, firstStartMs: number): void {
    this.retry = retry;
    this.attempt = attempt;
    this.firstStartMs = firstStartMs;
    this.deferredFailure = undefined;
  }

  /** Points the recorder at `account` in `groupPath` (the engine, at an iteration's start and around groups). */
  point(groupPath: string, account: string): void {
    this.groupPath = groupPath;
    this.currentAccount = account;
    this.series = this.resolveSeries(groupPath, account);
  }

  /** The session's AUTH user (or unauthenticated sender): samples follow it (issue 16). */
  account(user: string): void {
    if (user !== this.currentAccount) this.point(this.groupPath, user);
  }

  connectionOpened(): void {
    this.series.connections++;
    if (this.source !== undefined) this.source.connections++;
  }

  /** The source address of the connection being made (--local-ips): its messages count there too. */
  sourceAddress(address: string): void {
    this.source = this.registry.sourceFor(address);
  }

  /** The figures of the current connection's source address; undefined without --local-ips. */
  private source: SourceSeries | undefined = undefined;

  phase(phaseIndex: number, durationUs: number): void {
    this.series.phases[phaseIndex]!.record(durationUs);
  }

  accepted(txnUs: number, messageBytes: number, traceSequence: number, bodyBytes = -1): void {
    const series = this.series;
    series.txns++;
    series.accepted++;
    series.messageBytes += messageBytes;
    // A Map keyed by a few bucket sizes: an update in place after each size's first message
    if (bodyBytes >= 0) series.bodySizes.set(bodyBytes, (series.bodySizes.get(bodyBytes) ?? 0) + 1);
    countMessageSize(series.messageSizes, messageBytes);
    series.txnDuration.record(txnUs);
    const source = this.source;
    if (source !== undefined) {
      source.txns++;
      source.accepted++;
      source.txnDuration.record(txnUs);
    }
    // Response time runs from the intended start: in an open model a late start is the
    // server's fault and must not vanish from the figures (coordinated omission).
    const nowMs = performance.now();
    const responseUs = Math.round((nowMs - this.intendedStartMs) * 1000);
    series.txnResponseTime.record(responseUs > txnUs ? responseUs : txnUs);
    if (this.attempt === 1) series.firstTry++;
    if (this.retry !== undefined) this.recordOutcome(series, nowMs);
    const registry = this.registry;
    registry.noteAccepted(txnUs, messageBytes);
    const delivery = registry.delivery;
    if (delivery !== undefined) delivery.accepted(traceSequence, series, nowMs, this.intendedStartMs);
  }

  failed(failure: Failure, _txnUs: number, traceSequence: number): void {
    const series = this.series;
    const delivery = this.registry.delivery;
    const source = this.source;
    if (failure.error === INTERRUPTED) {
      if (delivery !== undefined && traceSequence > 0) delivery.failed(traceSequence, series);
      series.interrupted++;
      if (source !== undefined) source.interrupted++;
      return;
    }
    const retry = this.retry;
    if (retry !== undefined) {
      if (this.attempt < retry.attempts && isDeferral(retry, failure.code)) {
        // Deferred, not failed: the retry queue sends it again (engine/scenario-run.ts)
        series.deferred++;
        series.deferrals.set(failure.code!, (series.deferrals.get(failure.code!) ?? 0) + 1);
        // Not failed for delivery either: its retries carry the same trace (one message, counted once)
        this.deferredFailure = failure;
        return;
      }
      this.recordOutcome(series, performance.now());
    }
    if (delivery !== undefined && traceSequence > 0) delivery.failed(traceSequence, series);
    series.txns++;
    series.failed++;
    if (source !== undefined) {
      source.txns++;
      source.failed++;
    }
    countError(series.errors, failure);
    this.registry.noteFailed();
  }

  /** A message under a retry policy reached its final outcome: its attempts and eventual duration. */
  private recordOutcome(series: Series, nowMs: number): void {
    series.attemptsPerMessage.record(this.attempt);
    const eventualUs = Math.round((nowMs - this.firstStartMs) * 1000);
    series.eventualDuration.record(eventualUs > 0 ? eventualUs : 0);
  }

  afterAcceptError(failure: Failure): void {
    countError(this.series.afterAcceptErrors, failure);
  }

  connectionClosed(bytesSent: number, bytesReceived: number): void {
    this.series.bytesSent += bytesSent;
    this.series.bytesReceived += bytesReceived;
  }

  /** A raw command's reply (ctx.smtp.command) whose verb names no phase: into the trend `smtp_<verb>_duration`, ms. */
  command(verb: string, durationUs: number): void {
    let trend = this.commandTrends.get(verb);
    if (trend === undefined) {
      // Declared on first use (the custom-metric catalogue keeps one per name across VUs)
      trend = new Trend(`smtp_${verb.toLowerCase()}_duration`, true);
      this.commandTrends.set(verb, trend);
    }
    trend.add(durationUs / 1000);
  }

  /**
   * LMTP (RFC 2033): one recipient's reply after the data, into the counters
   * `lmtp_recipients_accepted` and `lmtp_recipients_refused` (tagged with the reply code).
   */
  lmtpRecipient(failure: Failure | undefined): void {
    if (failure === undefined) {
      (this.lmtpAccepted ??= new Counter('lmtp_recipients_accepted')).add(1);
      return;
    }
    (this.lmtpRefused ??= new Counter('lmtp_recipients_refused')).add(1, { code: String(failure.code ?? failure.error ?? '') });
  }

  /** A client-side fault done on purpose (client-faults.ts): the counter `client_faults`, tagged with its kind. */
  clientFault(kind: ClientFaultKind): void {
    (this.clientFaults ??= new Counter(CLIENT_FAULTS_METRIC)).add(1, { kind });
  }

  private clientFaults: Counter | undefined = undefined;
  private lmtpAccepted: Counter | undefined = undefined;
  private lmtpRefused: Counter | undefined = undefined;

  /** Trends of raw command verbs, by verb. */
  private readonly commandTrends = new Map<string, Trend>();
}

/** A virtual user: its id, iteration count, SMTP session and recorder. */
export class VuState implements Vu {
  readonly id: number;
  iterations = 0;
  readonly recorder: VuRecorder;
  readonly session: SmtpSession;
  /** ctx.smtp with send() under the scenario's account limits and retry policy (scenario-run.ts stepsOf), made on first use. */
  stepsWithRetry: SmtpSteps | undefined = undefined;
  /** ctx.vuState: the scenario code's state for this VU, kept across its iterations. */
  vuState: Record<string, unknown> = {};
  /** Vu.takeNextIteration: set by a closed-model VU loop while it runs. */
  takeNextIteration: (() => boolean) | undefined = undefined;
  /** The session's nextIterationGrant for this VU (scenario-run.ts), made on first use. */
  nextIterationGrant: (() => boolean) | undefined = undefined;
  /** Its next iteration was granted early and has not started (scenario-run.ts counts these for the drain). */
  isGranted = false;
  /** Its granted next iteration was revoked (the scenario's end cut off what ran): it does not start. */
  isGrantRevoked = false;

  constructor(id: number, scenario: ResolvedScenario, registry: MetricsRegistry, series: Series, resolveSeries: SeriesResolver) {
    this.id = id;
    this.recorder = new VuRecorder(registry, series, resolveSeries);
    this.session = new SmtpSession(scenario.target, scenario.smtp, this.recorder);
  }
}
