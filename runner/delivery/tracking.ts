/**
 * Delivery tracking for one run: the tracker, its source, and the wait at the end of the load
 * ("waiting for 37 deliveries, 12 s left") that an interrupt ends with the rest pending, not lost.
 * run.ts drives it: start() before the load, wait() after it, finish() before the summary.
 */
import { performance } from 'node:perf_hooks';
import type { MetricsRegistry } from '../metrics/registry.ts';
import { lastTraceSequence, DEFAULT_RUN_ID } from '../smtp/message.ts';
import { DeliveryTracker, type DeliveryTotals } from './tracker.ts';
import type { ResolvedDelivery } from './options.ts';
import type { DeliverySource } from './source.ts';
import { SinkSource } from './sink.ts';
import { ImapPoller } from './imap.ts';

/** How the wait at the end of the load ended. */
export type DeliveryWaitEnd = 'complete' | 'timed_out' | 'interrupted' | 'skipped';

/** What the results file's delivery block is made of. */
export interface DeliveryOutcome {
  source: 'sink' | 'imap';
  description: string;
  timeoutMs: number;
  wait: DeliveryWaitEnd;
  /** How long the wait after the load took, ms. */
  waitMs: number;
  totals: DeliveryTotals;
}

/** How often the wait checks (and its progress line is redrawn on a terminal). */
const WAIT_CHECK_MS = 250;

/** A progress report of the wait: `awaited` messages, `leftMs` until the last one's timeout. */
export type WaitProgress = (awaited: number, leftMs: number) => void;

export interface DeliveryTrackingOptions {
  registry: MetricsRegistry;
  /** Where a failing source is reported (once per distinct failure). */
  warn: (message: string) => void;
  /** Makes the source. @default a SinkSource (sink) or an ImapPoller (imap) */
  createSource?: (delivery: ResolvedDelivery, tracker: DeliveryTracker, warn: (message: string) => void) => DeliverySource;
}

export class DeliveryTracking {
  readonly tracker: DeliveryTracker;
  readonly source: DeliverySource;
  private readonly delivery: ResolvedDelivery;
  private wakeWait: (() => void) | undefined;
  private isWaitStopped = false;
  private isWaiting = false;
  private waitEnd: DeliveryWaitEnd = 'skipped';
  private waitMs = 0;
  private outcome: DeliveryOutcome | undefined;

  constructor(delivery: ResolvedDelivery, options: DeliveryTrackingOptions) {
    this.delivery = delivery;
    this.tracker = new DeliveryTracker({ registry: options.registry, runId: DEFAULT_RUN_ID, afterSequence: lastTraceSequence(), timeoutMs: delivery.timeoutMs });
    options.registry.delivery = this.tracker;
    const create = options.createSource ?? defaultSource;
    this.source = create(delivery, this.tracker, options.warn);
  }

  /** Whether the end-of-load wait is going on now (an interrupt then ends it: stopWait()). */
  get isWaitingNow(): boolean {
    return this.isWaiting;
  }

  /** Checks the source can be reached, then starts reading it. */
  async start(): Promise<void> {
    await this.source.check();
    this.source.start();
  }

  /**
   * Waits after the load until every accepted message arrived or the last one's timeout is up,
   * reporting progress; stopWait() (an interrupt) ends it early. `skip`: do not wait at all (the
   * load itself was interrupted): whatever is still awaited is pending.
   */
  async wait(onProgress: WaitProgress | undefined, skip = false, nowMs: () => number = () => performance.now()): Promise<DeliveryWaitEnd> {
    const startMs = nowMs();
    const tracker = this.tracker;
    if (skip || this.isWaitStopped) {
      this.waitEnd = tracker.awaited === 0 ? 'complete' : 'interrupted';
      return this.waitEnd;
    }
    this.isWaiting = true;
    try {
      for (;;) {
        const now = nowMs();
        if (tracker.awaited === 0) {
          this.waitEnd = 'complete';
          break;
        }
        if (this.isWaitStopped) {
          this.waitEnd = 'interrupted';
          break;
        }
        const leftMs = tracker.deadlineMs - now;
        if (leftMs <= 0) {
          this.waitEnd = 'timed_out';
          break;
        }
        onProgress?.(tracker.awaited, leftMs);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(WAIT_CHECK_MS, leftMs));
          this.wakeWait = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeWait = undefined;
      }
    } finally {
      this.isWaiting = false;
      this.waitMs = nowMs() - startMs;
    }
    return this.waitEnd;
  }

  /** Ends the wait now (Ctrl+C): messages still awaited whose time is not up are reported pending. */
  stopWait(): void {
    this.isWaitStopped = true;
    this.wakeWait?.();
  }

  /** Stops the source (after reading what it has now) and judges every message; once. */
  async finish(nowMs: () => number = () => performance.now()): Promise<DeliveryOutcome> {
    if (this.outcome) return this.outcome;
    await this.source.stop();
    const isInterrupted = this.waitEnd === 'interrupted' || this.isWaitStopped;
    const totals = this.tracker.finish(nowMs(), isInterrupted);
    if (this.waitEnd === 'interrupted' && this.tracker.awaited === 0 && totals.pending === 0) this.waitEnd = 'complete';
    this.outcome = this.snapshot(totals);
    return this.outcome;
  }

  /** The figures so far, for partial results written on a second Ctrl+C (nothing judged lost yet). */
  partial(): DeliveryOutcome {
    return this.outcome ?? this.snapshot({ ...this.tracker.figures, pending: this.tracker.figures.pending + this.tracker.awaited });
  }

  private snapshot(totals: Readonly<DeliveryTotals>): DeliveryOutcome {
    return { source: this.delivery.source.kind, description: this.source.description, timeoutMs: this.delivery.timeoutMs, wait: this.waitEnd, waitMs: this.waitMs, totals: { ...totals } };
  }
}

function defaultSource(delivery: ResolvedDelivery, tracker: DeliveryTracker, warn: (message: string) => void): DeliverySource {
  const { source } = delivery;
  if (source.kind === 'sink') return new SinkSource(source.url, tracker, warn);
  return new ImapPoller(source, tracker.runId, tracker, warn);
}
