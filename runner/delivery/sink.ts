/**
 * Arrivals from a `runner sink`: its admin port's long poll
 * `GET /__deliveries?after=<cursor>&refusals_after=<cursor>&wait_ms=<n>` → `{ cursor, deliveries:
 * [{ seq, trace, message_id, account, bytes, arrived_at_ms }], refusals_cursor, refusals: [{ seq,
 * trace, account, phase, code, refused_at_ms }] }` (answers at once when deliveries or refusals
 * after their cursors exist, ≤ 5000 of each, else within wait_ms). Deliveries and refusals have a
 * sequence (and a cursor) each. One request is open at a time; each answer's deliveries and
 * refusals go to the tracker, its cursors are the next request's. A sink that predates refusals
 * answers without them: then only the timeout ends a refused message's wait.
 */
import { performance } from 'node:perf_hooks';
import type { Agent as HttpAgent } from 'node:http';
import { loadBuiltin } from '../util/builtin.ts';
import type { DeliverySource, ArrivalSink } from './source.ts';

/** Most deliveries the sink puts in one answer (the contract's). */
const MAX_PER_ANSWER = 5000;
/** How long one long poll may wait at the sink (the contract allows ≤ 30000). */
const LONG_POLL_WAIT_MS = 10_000;
/**
 * Least time between two requests' starts. The sink answers at once when anything arrived, so
 * under load every answer would bring a handful of deliveries for a whole HTTP round trip (fetch
 * costs ~0.1–0.3 ms of CPU): measured, that nearly tripled runner's CPU per message. Arrival
 * times come from the sink, so reading them up to this much later changes no lag; only the wait
 * after the load may end this much later.
 */
const MIN_POLL_INTERVAL_MS = 250;
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

/** One refused message as the sink reports it (trace null when refused before its data). */
export interface SinkRefusal {
  seq: number;
  trace: string | null;
  account: string | null;
  phase: string;
  code: number | string;
  refused_at_ms: number;
}

/** A long poll's answer (refusals only when refusals_after was asked). */
export interface SinkDeliveriesAnswer {
  cursor: number;
  deliveries: SinkDelivery[];
  refusals_cursor?: number;
  refusals?: SinkRefusal[];
}

/** Reads a sink's deliveries into `arrivals` while the run goes. */
export class SinkSource implements DeliverySource {
  readonly description: string;
  /** The last request's failure, said once by the caller; undefined while requests succeed. */
  lastError: string | undefined;
  private readonly url: string;
  private readonly arrivals: ArrivalSink;
  private cursor = 0;
  private refusalsCursor = 0;
  private isRunning = false;
  private loop: Promise<void> | undefined;
  private controller: AbortController | undefined;
  private onError: ((message: string) => void) | undefined;
  private wakePause: (() => void) | undefined;
  /** Keep-alive: one connection to the sink for the whole run (closed by stop()). */
  private readonly agent: HttpAgent;

  constructor(url: string, arrivals: ArrivalSink, onError?: (message: string) => void) {
    this.url = url.replace(/\/+$/, '');
    this.arrivals = arrivals;
    this.description = `sink ${this.url}`;
    this.agent = this.url.startsWith('https:') ? new (loadBuiltin('node:https').Agent)({ keepAlive: true, maxSockets: 1 }) : new (loadBuiltin('node:http').Agent)({ keepAlive: true, maxSockets: 1 });
    this.onError = onError;
  }

  /**
   * Fails (with the reason) when the URL does not answer, or answers as no sink does (the proxy's
   * admin port, say): GET /__deliveries?after=0&wait_ms=0 must give the deliveries answer at once.
   */
  async check(): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    try {
      const { status, text } = await getText(`${this.url}/__deliveries?after=0&wait_ms=0`, controller.signal, this.agent);
      let answer: Partial<SinkDeliveriesAnswer> | undefined;
      try {
        answer = JSON.parse(text) as Partial<SinkDeliveriesAnswer>;
      } catch {
        answer = undefined;
      }
      if (status !== 200 || !answer || !Array.isArray(answer.deliveries)) {
        throw new Error(`it answers, but not as a runner sink's admin port (GET /__deliveries: HTTP ${status}${status === 200 ? ', not a deliveries answer' : ''}); is it the proxy's admin URL?`);
      }
    } finally {
      clearTimeout(timer);
    }
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
    this.wakePause?.();
    await this.loop;
    this.loop = undefined;
    // Until an answer comes back empty: the sink gives ≤ 5000 per answer
    for (let attempt = 0; attempt < 1000; attempt++) {
      try {
        if ((await this.poll(0)) === 0) break;
      } catch (error) {
        this.report(error);
        break;
      }
    }
    this.agent.destroy();
  }

  private async run(): Promise<void> {
    while (this.isRunning) {
      const startMs = performance.now();
      try {
        const count = await this.poll(LONG_POLL_WAIT_MS);
        this.lastError = undefined;
        // A full answer means more is waiting: ask again at once; else let deliveries gather
        const restMs = MIN_POLL_INTERVAL_MS - (performance.now() - startMs);
        if (count < MAX_PER_ANSWER && restMs > 0 && this.isRunning) await this.pause(restMs);
      } catch (error) {
        if (!this.isRunning) return;
        this.report(error);
        await this.pause(RETRY_PAUSE_MS);
      }
    }
  }

  /** Waits `ms`, or until stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakePause = done;
    });
  }

  /** One request; returns how many entries it brought (the longer list: a full one means more is waiting). */
  private async poll(waitMs: number): Promise<number> {
    const controller = new AbortController();
    this.controller = controller;
    const timer = setTimeout(() => controller.abort(), waitMs + REQUEST_SLACK_MS);
    try {
      const refusals = this.arrivals.refuse ? `&refusals_after=${this.refusalsCursor}` : '';
      const response = await getText(`${this.url}/__deliveries?after=${this.cursor}${refusals}&wait_ms=${waitMs}`, controller.signal, this.agent);
      if (response.status !== 200) throw new Error(`GET /__deliveries answered ${response.status}`);
      const answer = JSON.parse(response.text) as SinkDeliveriesAnswer;
      if (!answer || !Array.isArray(answer.deliveries) || typeof answer.cursor !== 'number') throw new Error('GET /__deliveries: not a deliveries answer ({cursor, deliveries})');
      // Deliveries first: a message refused, then delivered by a retry in the same answer ends delivered
      for (const delivery of answer.deliveries) this.arrivals.arrive(delivery.trace, delivery.arrived_at_ms);
      if (answer.cursor > this.cursor) this.cursor = answer.cursor;
      let count = answer.deliveries.length;
      if (this.arrivals.refuse && Array.isArray(answer.refusals) && typeof answer.refusals_cursor === 'number') {
        for (const refusal of answer.refusals) this.arrivals.refuse(refusal.trace, refusal.refused_at_ms);
        if (answer.refusals_cursor > this.refusalsCursor) this.refusalsCursor = answer.refusals_cursor;
        count = Math.max(count, answer.refusals.length);
      }
      return count;
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

/**
 * GET `url` with node:http(s), its body as text. Not fetch(): loading undici costs a run ~0.1 s
 * of CPU at start-up, measured as a tenth of a 10,000-message run's whole CPU.
 */
function getText(url: string, signal: AbortSignal, agent: HttpAgent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? loadBuiltin('node:https').get : loadBuiltin('node:http').get;
    const request = get(url, { signal, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}
