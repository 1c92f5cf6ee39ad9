/**
 * Delivery truth: which accepted messages actually arrived upstream (a `runner sink`, a real
 * mailbox), matched by their X-Runner-Trace id (`<run id>.<trace sequence>`, smtp/message.ts).
 *
 * Per message, once the wait at the end of the load is over:
 * - delivered: accepted (250 after end-of-data) and arrived within `timeoutMs` of that 250;
 * - lost: accepted, and not arrived within `timeoutMs` (never, or too late: `late` counts those),
 *   or refused upstream (a sink's refusals: `lostRefused`, counted at once, not at the timeout;
 *   an arrival within the timeout after all, a proxy's retry, turns it back into delivered);
 * - pending: accepted, still awaited when the wait was interrupted (Ctrl+C), its time not up;
 * - duplicated: arrived more than once (counted once per message, beside delivered/lost);
 * - unexpected: arrived though runner counted it failed (or interrupted it after writing its data).
 *
 * Hot path: a message is a slot in typed arrays indexed by its trace sequence (dense: one counter
 * per process), grown by doubling; recording writes three numbers, no object per message.
 * Arrivals come from a source (sink.ts, imap.ts) as a trace id and an epoch-ms arrival time.
 */
import { performance } from 'node:perf_hooks';
import type { DeliveryRecorder, MetricsRegistry } from '../metrics/registry.ts';
import type { Series } from '../metrics/series.ts';
import { lastTraceSequence } from '../smtp/message.ts';

/** Default of `delivery.timeout`: how long after its 250 a message may take to arrive. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 60_000;

// Slot states. NONE: nothing known yet (data written, no verdict, no arrival).
const NONE = 0;
/** Accepted, awaited. */
const AWAITED = 1;
/** Counted failed (or interrupted) after its data was written; no arrival yet. */
const FAILED = 2;
const DELIVERED = 3;
const LOST = 4;
/** Failed, then arrived. */
const UNEXPECTED = 5;
const PENDING = 6;
/** Accepted, arrived after its timeout: counted lost. */
const LATE = 8;
/** Arrived before runner read its 250 (a relay that answers after the upstream accepted): `acceptedAt` holds the arrival. */
const EARLY = 7;
/** Accepted, then refused upstream: lost (refused) unless it still arrives in time. */
const REFUSED = 9;
/** Refused upstream before runner read its verdict. */
const REFUSED_EARLY = 10;
/** Flag: a second arrival was counted. */
const DUPLICATE_FLAG = 0x80;
const STATE_MASK = 0x7f;

/** The whole run's delivery figures (per series: Series.delivered, .lost, …). */
export interface DeliveryTotals {
  /** Tracked messages accepted (after a warm-up: since its end). */
  accepted: number;
  delivered: number;
  lost: number;
  /** Of lost: refused upstream (known at once from a sink's refusals). */
  lostRefused: number;
  /** Of lost: not arrived within the timeout (lost = lostRefused + lostTimeout). */
  lostTimeout: number;
  /** Of lostTimeout: those that did arrive, after their timeout. */
  late: number;
  pending: number;
  duplicated: number;
  unexpected: number;
  /** Arrivals with this run's id that name no message runner sent (a sequence never handed out). */
  unknown: number;
}

export interface DeliveryTrackerOptions {
  registry: MetricsRegistry;
  /** The run id in the trace ids to match (others' arrivals are ignored). */
  runId: string;
  /** Trace sequences up to this one belong to earlier runs of the process (smtp/message.ts lastTraceSequence()). */
  afterSequence: number;
  /** The last trace sequence handed out so far (an arrival beyond it is unknown). @default lastTraceSequence */
  lastSequence?: () => number;
  /** @default DEFAULT_DELIVERY_TIMEOUT_MS */
  timeoutMs?: number;
  /**
   * performance.now() ms of epoch ms 0: arrival times come as epoch ms from another process
   * (the sink, a mailbox's server) and are turned into this process's monotonic time with ONE
   * offset for the whole run. @default performance.timeOrigin — measured once, so a wall-clock
   * step (NTP) during the run cannot stretch some lags and not others; a remote sink's clock skew
   * shifts every lag alike (and a negative lag is counted as 0).
   */
  epochOriginMs?: number;
}

/** Matches arrivals to accepted messages; see the module comment. */
export class DeliveryTracker implements DeliveryRecorder {
  readonly runId: string;
  readonly timeoutMs: number;
  private readonly registry: MetricsRegistry;
  private readonly afterSequence: number;
  private readonly epochOriginMs: number;
  private readonly tracePrefix: string;
  private readonly lastSequence: () => number;
  /** Slots: performance.now() of the 250 (or of an early arrival), the message's start, its series index, its state. */
  private acceptedAt = new Float64Array(1024);
  private startAt = new Float64Array(1024);
  private seriesOf = new Int32Array(1024);
  private states = new Uint8Array(1024);
  /** Highest slot used + 1. */
  private used = 0;
  /** Slots below this were written during a warm-up: timeline only, not in the totals. */
  private countedFrom = 0;
  /** Accepted messages not arrived yet. */
  private awaitedCount = 0;
  /** performance.now() of the latest 250 seen. */
  private lastAcceptedAtMs = -Infinity;
  private readonly totals: DeliveryTotals = { accepted: 0, delivered: 0, lost: 0, lostRefused: 0, lostTimeout: 0, late: 0, pending: 0, duplicated: 0, unexpected: 0, unknown: 0 };
  private isFinished = false;

  constructor(options: DeliveryTrackerOptions) {
    this.registry = options.registry;
    this.runId = options.runId;
    this.tracePrefix = options.runId + '.';
    this.afterSequence = options.afterSequence;
    this.lastSequence = options.lastSequence ?? lastTraceSequence;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    this.epochOriginMs = options.epochOriginMs ?? performance.timeOrigin;
    this.registry.isDeliveryTracked = true;
  }

  /** Accepted messages still awaited. */
  get awaited(): number {
    return this.awaitedCount;
  }

  /** performance.now() after which no awaited message can still arrive in time (-Infinity before any 250). */
  get deadlineMs(): number {
    return this.lastAcceptedAtMs + this.timeoutMs;
  }

  /** The run's figures so far (final after finish()). */
  get figures(): Readonly<DeliveryTotals> {
    return this.totals;
  }

  accepted(traceSequence: number, series: Series, acceptedAtMs: number, startMs: number): void {
    const slot = this.slotOf(traceSequence);
    if (slot < 0) return;
    const state = this.states[slot]!;
    if (acceptedAtMs > this.lastAcceptedAtMs) this.lastAcceptedAtMs = acceptedAtMs;
    this.seriesOf[slot] = series.index;
    this.startAt[slot] = startMs;
    const isCounted = slot >= this.countedFrom;
    if (isCounted) this.totals.accepted++;
    this.registry.noteTracked();
    if ((state & STATE_MASK) === EARLY) {
      // It arrived before we read the 250: delivered, with a lag of 0 (never negative).
      const arrivedAtMs = this.acceptedAt[slot]!;
      this.acceptedAt[slot] = acceptedAtMs;
      this.states[slot] = (state & DUPLICATE_FLAG) | DELIVERED;
      this.countDelivered(slot, series, acceptedAtMs, arrivedAtMs);
      // It arrived twice before its 250 (a deferred attempt that was delivered all the same, then
      // its retry): the second copy was not counted then, as the message was not ours yet
      if ((state & DUPLICATE_FLAG) !== 0 && isCounted) {
        this.totals.duplicated++;
        series.duplicated++;
      }
      return;
    }
    this.acceptedAt[slot] = acceptedAtMs;
    if (state === REFUSED_EARLY) {
      // The upstream refused it before we read the 250: lost at once, never awaited
      this.states[slot] = REFUSED;
      this.countRefused(slot, series);
      return;
    }
    this.states[slot] = AWAITED;
    this.awaitedCount++;
  }

  failed(traceSequence: number, series: Series): void {
    const slot = this.slotOf(traceSequence);
    if (slot < 0) return;
    const state = this.states[slot]!;
    this.seriesOf[slot] = series.index;
    if ((state & STATE_MASK) === EARLY) {
      this.states[slot] = (state & DUPLICATE_FLAG) | UNEXPECTED;
      if (slot >= this.countedFrom) {
        this.totals.unexpected++;
        series.unexpected++;
      }
      return;
    }
    this.states[slot] = FAILED;
  }

  endWarmup(): void {
    // As the series' counts: what was counted so far is the warm-up's
    this.countedFrom = this.used;
    const totals = this.totals;
    totals.accepted = totals.delivered = totals.lost = totals.lostRefused = totals.lostTimeout = totals.late = totals.pending = totals.duplicated = totals.unexpected = totals.unknown = 0;
  }

  /**
   * One arrival upstream: `trace` is the X-Runner-Trace value (anything else, or another run's,
   * is ignored), `arrivedAtEpochMs` when it arrived (epoch ms, the sink's clock).
   */
  arrive(trace: string | null | undefined, arrivedAtEpochMs: number): void {
    if (typeof trace !== 'string' || !trace.startsWith(this.tracePrefix)) return;
    const text = trace.slice(this.tracePrefix.length).trim();
    const sequence = Number(text);
    // Never handed out (or not a number): not ours to grow the arrays for
    if (text === '' || !Number.isSafeInteger(sequence) || sequence > this.lastSequence()) {
      if (!this.isFinished) this.totals.unknown++;
      return;
    }
    // An earlier run's of this process (same run id)
    if (sequence <= this.afterSequence) return;
    this.arriveSequence(sequence, arrivedAtEpochMs - this.epochOriginMs);
  }

  /** One arrival of trace sequence `traceSequence` at `arrivedAtMs` (performance.now() ms). */
  arriveSequence(traceSequence: number, arrivedAtMs: number): void {
    // Once judged, the figures stay as reported (a source may still answer while it stops)
    if (this.isFinished) return;
    const slot = this.slotOf(traceSequence);
    if (slot < 0) return;
    const raw = this.states[slot]!;
    const state = raw & STATE_MASK;
    const isCounted = slot >= this.countedFrom;
    switch (state) {
      case NONE:
        this.states[slot] = EARLY;
        this.acceptedAt[slot] = arrivedAtMs;
        return;
      case AWAITED: {
        this.awaitedCount--;
        const series = this.registry.series[this.seriesOf[slot]!]!;
        const acceptedAtMs = this.acceptedAt[slot]!;
        if (arrivedAtMs - acceptedAtMs > this.timeoutMs) {
          // Too late: as good as lost for whoever waited on it; it leaves the backlog all the same.
          this.states[slot] = LATE;
          this.registry.noteDelivered();
          if (isCounted) {
            this.totals.lost++;
            this.totals.lostTimeout++;
            this.totals.late++;
            series.lost++;
          }
          return;
        }
        this.states[slot] = DELIVERED;
        this.countDelivered(slot, series, acceptedAtMs, arrivedAtMs);
        return;
      }
      case REFUSED: {
        const acceptedAtMs = this.acceptedAt[slot]!;
        if (arrivedAtMs - acceptedAtMs > this.timeoutMs) {
          // Refused, then arrived too late: it stays lost (refused); a later copy is a duplicate
          this.states[slot] = LATE;
          return;
        }
        // Refused, then delivered all the same (a proxy that retried): delivered after all
        const series = this.registry.series[this.seriesOf[slot]!]!;
        this.states[slot] = DELIVERED;
        if (isCounted) {
          this.totals.lost--;
          this.totals.lostRefused--;
          series.lost--;
          series.lostRefused--;
        }
        this.countDelivered(slot, series, acceptedAtMs, arrivedAtMs, false);
        return;
      }
      case REFUSED_EARLY:
        this.states[slot] = EARLY;
        this.acceptedAt[slot] = arrivedAtMs;
        return;
      case FAILED: {
        this.states[slot] = UNEXPECTED;
        if (isCounted) {
          this.totals.unexpected++;
          this.registry.series[this.seriesOf[slot]!]!.unexpected++;
        }
        return;
      }
      default: {
        // Another copy of a message that already arrived (delivered, late, unexpected, early)
        if ((raw & DUPLICATE_FLAG) !== 0) return;
        this.states[slot] = raw | DUPLICATE_FLAG;
        if (!isCounted || state === EARLY) return;
        this.totals.duplicated++;
        this.registry.series[this.seriesOf[slot]!]!.duplicated++;
      }
    }
  }

  /**
   * The upstream refused the message with trace id `trace` (a sink's refusals; another run's, or
   * none, is ignored): an awaited message is lost at once and leaves the backlog and the wait.
   */
  refuse(trace: string | null | undefined, _refusedAtEpochMs: number): void {
    if (this.isFinished || typeof trace !== 'string' || !trace.startsWith(this.tracePrefix)) return;
    const text = trace.slice(this.tracePrefix.length).trim();
    const sequence = Number(text);
    if (text === '' || !Number.isSafeInteger(sequence) || sequence > this.lastSequence() || sequence <= this.afterSequence) return;
    this.refuseSequence(sequence);
  }

  /** The upstream refused trace sequence `traceSequence`. */
  refuseSequence(traceSequence: number): void {
    if (this.isFinished) return;
    const slot = this.slotOf(traceSequence);
    if (slot < 0) return;
    const raw = this.states[slot]!;
    switch (raw & STATE_MASK) {
      case NONE:
        this.states[slot] = REFUSED_EARLY;
        return;
      case AWAITED:
        this.awaitedCount--;
        this.states[slot] = REFUSED;
        this.countRefused(slot, this.registry.series[this.seriesOf[slot]!]!);
        return;
      default:
        // Already judged by its verdict or an arrival (failed, delivered, …): a refusal changes nothing
        return;
    }
  }

  /**
   * Ends tracking at `nowMs`: every message still awaited is lost, or pending when the wait was
   * interrupted (`isInterrupted`) before its own timeout was up.
   */
  finish(nowMs: number, isInterrupted: boolean): Readonly<DeliveryTotals> {
    if (this.isFinished) return this.totals;
    this.isFinished = true;
    const { states, acceptedAt, seriesOf, timeoutMs } = this;
    for (let slot = 0; slot < this.used; slot++) {
      if (states[slot] !== AWAITED) continue;
      const isPending = isInterrupted && nowMs - acceptedAt[slot]! < timeoutMs;
      states[slot] = isPending ? PENDING : LOST;
      if (slot < this.countedFrom) continue;
      const series = this.registry.series[seriesOf[slot]!]!;
      if (isPending) {
        this.totals.pending++;
        series.pendingDelivery++;
      } else {
        this.totals.lost++;
        this.totals.lostTimeout++;
        series.lost++;
      }
    }
    this.awaitedCount = 0;
    return this.totals;
  }

  private countRefused(slot: number, series: Series): void {
    this.registry.noteRefused();
    if (slot < this.countedFrom) return;
    this.totals.lost++;
    this.totals.lostRefused++;
    series.lost++;
    series.lostRefused++;
  }

  private countDelivered(slot: number, series: Series, acceptedAtMs: number, arrivedAtMs: number, wasInBacklog = true): void {
    this.registry.noteDelivered(wasInBacklog);
    if (slot < this.countedFrom) return;
    this.totals.delivered++;
    series.delivered++;
    const lagUs = Math.round((arrivedAtMs - acceptedAtMs) * 1000);
    series.deliveryLag.record(lagUs > 0 ? lagUs : 0);
    const e2eUs = Math.round((arrivedAtMs - this.startAt[slot]!) * 1000);
    series.e2eDuration.record(e2eUs > 0 ? e2eUs : 0);
  }

  /** The slot of a trace sequence of this run (growing the arrays), or -1 for one before the run. */
  private slotOf(traceSequence: number): number {
    const slot = traceSequence - this.afterSequence - 1;
    if (slot < 0) return -1;
    if (slot >= this.states.length) this.grow(slot + 1);
    if (slot >= this.used) this.used = slot + 1;
    return slot;
  }

  private grow(atLeast: number): void {
    let size = this.states.length * 2;
    while (size < atLeast) size *= 2;
    const grow64 = (old: Float64Array) => {
      const next = new Float64Array(size);
      next.set(old);
      return next;
    };
    this.acceptedAt = grow64(this.acceptedAt);
    this.startAt = grow64(this.startAt);
    const seriesOf = new Int32Array(size);
    seriesOf.set(this.seriesOf);
    this.seriesOf = seriesOf;
    const states = new Uint8Array(size);
    states.set(this.states);
    this.states = states;
  }
}
