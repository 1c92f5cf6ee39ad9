/**
 * A series holds every built-in metric for one combination of tags (scenario × account). The
 * hot path records into the series a VU points at: counters are plain number fields and trends
 * are preallocated, so recording a message allocates nothing. Aggregates (the whole test, one
 * scenario, one account) are computed by adding series together when someone asks.
 */
import { PHASE_COUNT } from '../smtp/phases.ts';
import type { Failure } from '../smtp/api.ts';
import { TrendSink } from './trend.ts';

/** One distinct failure: where it happened and what was said, with how often. */
export interface ErrorCount {
  phase: string;
  code: number | undefined;
  enhanced: string | undefined;
  /** Socket-level error name (ECONNREFUSED, TIMEOUT, …) when there was no reply. */
  error: string | undefined;
  /** Text of the first occurrence. */
  text: string;
  count: number;
}

/** Key grouping failures: phase and reply code, or phase and socket error. */
export function errorKey(failure: Pick<ErrorCount, 'phase' | 'code' | 'error'> | Failure): string {
  return `${failure.phase}:${failure.code ?? failure.error ?? 'unknown'}`;
}

/** Counts one failure into a map of distinct failures. */
export function countError(errors: Map<string, ErrorCount>, failure: Failure | ErrorCount, times = 1): void {
  const key = errorKey(failure);
  const known = errors.get(key);
  if (known) {
    known.count += times;
    return;
  }
  errors.set(key, {
    phase: failure.phase,
    code: failure.code,
    enhanced: failure.enhanced,
    error: failure.error,
    text: failure.text,
    count: times,
  });
}

/** Built-in metrics for one tag set. Durations in integer microseconds. */
export class Series {
  readonly tags: Readonly<Record<string, string>>;
  /** Position in its registry's `series` (-1 for an aggregate): lets per-message records name a series by number. */
  index = -1;
  /** Messages attempted (accepted + failed). */
  txns = 0;
  accepted = 0;
  failed = 0;
  /** Messages cut off by a hard stop (neither accepted nor failed). */
  interrupted = 0;
  /** Bytes of accepted messages. */
  messageBytes = 0;
  /** Accepted generated messages by body size in bytes (a size distribution's buckets), for the results' histogram. */
  readonly bodySizes = new Map<number, number>();
  /**
   * Accepted messages of every kind (generated, a template's, text or bytes from scenario code) by
   * their whole size in bytes as the server keeps them (head and body, no dot-stuffing): exact up
   * to MAX_MESSAGE_SIZE_KEYS distinct sizes in this series, then new sizes rounded (roundMessageSize).
   */
  readonly messageSizes = new Map<number, number>();
  connections = 0;
  iterations = 0;
  /** Custom iterations that threw something other than a failed SMTP step (a scenario bug). */
  scriptErrors = 0;
  bytesSent = 0;
  bytesReceived = 0;
  /**
   * Delivery (runner/delivery/, with `delivery` asked): accepted messages that arrived upstream in
   * time, never did or too late (lost), arrived more than once (duplicated), arrived though they
   * were counted failed (unexpected), or were still awaited when the wait was interrupted (pending).
   */
  delivered = 0;
  lost = 0;
  /** Of lost: refused upstream (the sink said so), counted at once rather than at the timeout. */
  lostRefused = 0;
  duplicated = 0;
  unexpected = 0;
  pendingDelivery = 0;
  /**
   * Retries (a scenario's `retry`, engine/retry-policy.ts): attempts deferred (a reply the policy
   * retries, with attempts left), by reply code; messages accepted on their first attempt;
   * messages still deferred when the scenario ended (neither accepted nor failed).
   */
  deferred = 0;
  readonly deferrals = new Map<number, number>();
  firstTry = 0;
  retryPending = 0;
  /** Attempts each message took, at its final outcome (with a retry policy), a count per sample. */
  readonly attemptsPerMessage = new TrendSink();
  /** First attempt's (intended) start → the final 250 or final failure, µs (with a retry policy). */
  readonly eventualDuration = new TrendSink();
  /** 250 → arrival upstream, µs. */
  readonly deliveryLag = new TrendSink();
  /** The message's (intended) start → arrival upstream, µs. */
  readonly e2eDuration = new TrendSink();
  readonly txnDuration = new TrendSink();
  readonly txnResponseTime = new TrendSink();
  readonly iterationDuration = new TrendSink();
  /** One trend per phase, PHASES order. */
  readonly phases: TrendSink[] = Array.from({ length: PHASE_COUNT }, () => new TrendSink());
  /** Failed messages by phase and code. */
  readonly errors = new Map<string, ErrorCount>();
  /** Errors after a message was accepted (e.g. at QUIT): not failed messages. */
  readonly afterAcceptErrors = new Map<string, ErrorCount>();

  constructor(tags: Record<string, string>) {
    this.tags = tags;
  }

  /** Whether every tag in `filter` has the same value on this series. */
  matches(filter: Readonly<Record<string, string>>): boolean {
    for (const key in filter) if (this.tags[key] !== filter[key]) return false;
    return true;
  }

  /** Forgets every sample (the end of a warm-up). */
  reset(): void {
    this.txns = this.accepted = this.failed = this.interrupted = this.messageBytes = 0;
    this.connections = this.iterations = this.scriptErrors = this.bytesSent = this.bytesReceived = 0;
    this.delivered = this.lost = this.lostRefused = this.duplicated = this.unexpected = this.pendingDelivery = 0;
    this.deferred = this.firstTry = this.retryPending = 0;
    this.deferrals.clear();
    this.bodySizes.clear();
    this.messageSizes.clear();
    this.attemptsPerMessage.reset();
    this.eventualDuration.reset();
    this.deliveryLag.reset();
    this.e2eDuration.reset();
    this.txnDuration.reset();
    this.txnResponseTime.reset();
    this.iterationDuration.reset();
    for (const phase of this.phases) phase.reset();
    this.errors.clear();
    this.afterAcceptErrors.clear();
  }

  /** Adds another series' samples into this one (for aggregates). */
  add(other: Series): void {
    this.txns += other.txns;
    this.accepted += other.accepted;
    this.failed += other.failed;
    this.interrupted += other.interrupted;
    this.messageBytes += other.messageBytes;
    this.connections += other.connections;
    this.iterations += other.iterations;
    this.scriptErrors += other.scriptErrors;
    this.bytesSent += other.bytesSent;
    this.bytesReceived += other.bytesReceived;
    this.delivered += other.delivered;
    this.lost += other.lost;
    this.lostRefused += other.lostRefused;
    this.duplicated += other.duplicated;
    this.unexpected += other.unexpected;
    this.pendingDelivery += other.pendingDelivery;
    this.deferred += other.deferred;
    this.firstTry += other.firstTry;
    this.retryPending += other.retryPending;
    for (const [code, count] of other.deferrals) this.deferrals.set(code, (this.deferrals.get(code) ?? 0) + count);
    for (const [size, count] of other.bodySizes) this.bodySizes.set(size, (this.bodySizes.get(size) ?? 0) + count);
    for (const [size, count] of other.messageSizes) this.messageSizes.set(size, (this.messageSizes.get(size) ?? 0) + count);
    if (other.attemptsPerMessage.count > 0) this.attemptsPerMessage.add(other.attemptsPerMessage);
    if (other.eventualDuration.count > 0) this.eventualDuration.add(other.eventualDuration);
    if (other.deliveryLag.count > 0) this.deliveryLag.add(other.deliveryLag);
    if (other.e2eDuration.count > 0) this.e2eDuration.add(other.e2eDuration);
    this.txnDuration.add(other.txnDuration);
    this.txnResponseTime.add(other.txnResponseTime);
    this.iterationDuration.add(other.iterationDuration);
    for (let i = 0; i < PHASE_COUNT; i++) this.phases[i]!.add(other.phases[i]!);
    for (const error of other.errors.values()) countError(this.errors, error, error.count);
    for (const error of other.afterAcceptErrors.values()) countError(this.afterAcceptErrors, error, error.count);
  }
}

/** Distinct exact sizes one series keeps in messageSizes before new ones are rounded (bounds its memory). */
export const MAX_MESSAGE_SIZE_KEYS = 4096;

/** A size past MAX_MESSAGE_SIZE_KEYS: kept to 3 significant digits (123456 → 123000; below 1000 exact). */
export function roundMessageSize(bytes: number): number {
  if (bytes < 1000) return bytes;
  const unit = 10 ** (Math.floor(Math.log10(bytes)) - 2);
  return Math.floor(bytes / unit) * unit;
}

/** Counts one accepted message of `bytes` into `sizes` (exact, or rounded once the map is full). */
export function countMessageSize(sizes: Map<number, number>, bytes: number): void {
  const count = sizes.get(bytes);
  if (count !== undefined) sizes.set(bytes, count + 1);
  else if (sizes.size < MAX_MESSAGE_SIZE_KEYS) sizes.set(bytes, 1);
  else {
    const rounded = roundMessageSize(bytes);
    sizes.set(rounded, (sizes.get(rounded) ?? 0) + 1);
  }
}
