/**
 * Arrivals from a `runner sink`: its admin port's long poll
 * `GET /__deliveries?after=<cursor>&wait_ms=<n>` → `{ cursor, deliveries: [{ seq, trace,
 * message_id, account, bytes, arrived_at_ms }] }` (answers at once when deliveries after the
 * cursor exist, ≤ 5000 of them, else within wait_ms). One request is open at a time; each
 * answer's deliveries go to the tracker, its cursor is the next request's.
 */
import type { DeliverySource, ArrivalSink } from './source.ts';

/** How long one long poll may wait at the sink (the contract allows ≤ 30000). */
const LONG_POLL_WAIT_MS = 10_000;
/** Pause after a failed request before the next. */
const RETRY_PAUSE_MS = 1000;
/** A request that takes this much longer than its wait_ms is given up. */
const REQUEST_SLACK_MS = 5000;

/** One delivery as the sink reports it. */
export interface SinkDelivery {
  seq: number;
  trace: string | null;
  message_id: string | null;
  account: string | null;
  bytes: number;
  arrived_at_ms: number;
}

/** A long poll's answer. */
export interface SinkDeliveriesAnswer {
  cursor: number;
  deliveries: SinkDelivery[];
}

/** Reads a sink's deliveries into `arrivals` while the run goes. */
export class SinkSource implements DeliverySource {
  readonly description: string;
  /** The last request's failure, said once by the caller; undefined while requests succeed. */
  lastError: string | undefined;
  private readonly url: string;
  private readonly arrivals: ArrivalSink;
  private cursor = 0;
  private isRunning = false;
  private loop: Promise<void> | undefined;
  private controller: AbortController | undefined;
  private onError: ((message: string) => void) | undefined;

  constructor(url: string, arrivals: ArrivalSink, onError?: (message: string) => void) {
    this.url = url.replace(/\/+$/, '');
    this.arrivals = arrivals;
    this.description = `sink ${this.url}`;
    this.onError = onError;
  }

  /** Fails (with the reason) when the sink's admin port does not answer GET /health with 200. */
  async check(): Promise<void> {
    const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(5000) });
    if (response.status !== 200) throw new Error(`GET ${this.url}/health answered ${response.status}`);
    await response.arrayBuffer();
  }

  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    this.loop = this.run();
  }

  /** Stops the long poll, then reads every delivery the sink has now (so nothing already there is missed). */
  async stop(): Promise<void> {
    this.isRunning = false;
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
    // Until an answer comes back empty: the sink gives ≤ 5000 per answer
    for (let attempt = 0; attempt < 1000; attempt++) {
      try {
        if ((await this.poll(0)) === 0) return;
      } catch (error) {
        this.report(error);
        return;
      }
    }
  }

  private async run(): Promise<void> {
    while (this.isRunning) {
      try {
        await this.poll(LONG_POLL_WAIT_MS);
        this.lastError = undefined;
      } catch (error) {
        if (!this.isRunning) return;
        this.report(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
  }

  /** One request; returns how many deliveries it brought. */
  private async poll(waitMs: number): Promise<number> {
    const controller = new AbortController();
    this.controller = controller;
    const timer = setTimeout(() => controller.abort(), waitMs + REQUEST_SLACK_MS);
    try {
      const response = await fetch(`${this.url}/__deliveries?after=${this.cursor}&wait_ms=${waitMs}`, { signal: controller.signal });
      if (response.status !== 200) throw new Error(`GET /__deliveries answered ${response.status}`);
      const answer = (await response.json()) as SinkDeliveriesAnswer;
      if (!answer || !Array.isArray(answer.deliveries) || typeof answer.cursor !== 'number') throw new Error('GET /__deliveries: not a deliveries answer ({cursor, deliveries})');
      for (const delivery of answer.deliveries) this.arrivals.arrive(delivery.trace, delivery.arrived_at_ms);
      if (answer.cursor > this.cursor) this.cursor = answer.cursor;
      return answer.deliveries.length;
    } catch (error) {
      // An abort by stop() is not a failure: stop() reads what is left without waiting
      if (controller.signal.aborted && !this.isRunning) return 0;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private report(error: unknown): void {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const message = `${this.description}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`;
    if (message !== this.lastError) this.onError?.(message);
    this.lastError = message;
  }
}
