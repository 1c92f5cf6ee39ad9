/**
 * A small stand-in for a relaying proxy and `runner sink` together, for delivery tests: an SMTP
 * server (smtp-server) that accepts every message and "delivers" it by recording its
 * X-Runner-Trace, and the sink's admin contract on HTTP (`GET /__deliveries?after=&wait_ms=` long
 * poll, `GET /health`). Knobs make it lose, duplicate or hold deliveries, or keep messages it
 * refused; its own counters are the ground truth the tests compare runner's figures with.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface StubSinkOptions {
  /** Every Nth accepted message is never delivered (N=10: 10% lost). */
  dropEvery?: number;
  /** Every Nth accepted message is delivered twice. */
  duplicateEvery?: number;
  /** Every Nth message is refused (554 at end of data) but delivered all the same. */
  refuseButDeliverEvery?: number;
  /** The reply code of those refusals. @default 554 (451: deferred, as a sender that retries sees it) */
  refuseCode?: number;
  /** Deliver nothing until release() (the wait after the load). */
  isHolding?: boolean;
}

export interface StubDelivery {
  seq: number;
  trace: string | null;
  message_id: string | null;
  account: string | null;
  bytes: number;
  arrived_at_ms: number;
}

export interface StubSink {
  smtpPort: number;
  adminUrl: string;
  /** Ground truth. */
  stats: { received: number; accepted: number; refused: number; dropped: number; duplicated: number; delivered: number };
  deliveries: StubDelivery[];
  /** Delivers what was held, and everything after. */
  release(): void;
  close(): Promise<void>;
}

const MAX_PER_ANSWER = 5000;

export async function startStubSink(options: StubSinkOptions = {}): Promise<StubSink> {
  const stats = { received: 0, accepted: 0, refused: 0, dropped: 0, duplicated: 0, delivered: 0 };
  const deliveries: StubDelivery[] = [];
  const held: Array<Omit<StubDelivery, 'seq'>> = [];
  let isHolding = options.isHolding ?? false;
  const waiters = new Set<() => void>();

  const record = (entry: Omit<StubDelivery, 'seq'>) => {
    if (isHolding) {
      held.push(entry);
      return;
    }
    deliveries.push({ seq: deliveries.length + 1, ...entry });
    stats.delivered++;
    for (const wake of [...waiters]) wake();
  };

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    hideSTARTTLS: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        const head = text.split('\r\n\r\n', 1)[0]!;
        const trace = /^X-Runner-Trace: *(.*)$/im.exec(head)?.[1]?.trim() ?? null;
        const messageId = /^Message-ID: *(.*)$/im.exec(head)?.[1]?.trim() ?? null;
        const number = ++stats.received;
        const entry = { trace, message_id: messageId, account: session.envelope.mailFrom ? session.envelope.mailFrom.address : null, bytes: text.length, arrived_at_ms: 0 };
        const stamp = () => ({ ...entry, arrived_at_ms: Date.now() });
        if (options.refuseButDeliverEvery && number % options.refuseButDeliverEvery === 0) {
          stats.refused++;
          record(stamp());
          const error = new Error('Message refused (but delivered: a test of unexpected arrivals)') as Error & { responseCode: number };
          error.responseCode = options.refuseCode ?? 554;
          callback(error);
          return;
        }
        stats.accepted++;
        // 250 first, then the delivery: as a relaying proxy does
        callback(null);
        if (options.dropEvery && number % options.dropEvery === 0) {
          stats.dropped++;
          return;
        }
        record(stamp());
        if (options.duplicateEvery && number % options.duplicateEvery === 0) {
          stats.duplicated++;
          record(stamp());
        }
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const admin = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (url.pathname !== '/__deliveries') {
      response.writeHead(404).end();
      return;
    }
    const after = Number(url.searchParams.get('after') ?? 0);
    const waitMs = Math.min(30_000, Number(url.searchParams.get('wait_ms') ?? 0));
    const answer = () => {
      const entries = deliveries.filter((d) => d.seq > after).slice(0, MAX_PER_ANSWER);
      const cursor = entries.length ? entries[entries.length - 1]!.seq : Math.max(after, 0);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cursor, deliveries: entries }));
    };
    if (deliveries.length > after || waitMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(done, waitMs);
    function done() {
      clearTimeout(timer);
      waiters.delete(done);
      if (!response.writableEnded) answer();
    }
    waiters.add(done);
    request.on('close', () => {
      clearTimeout(timer);
      waiters.delete(done);
    });
  });
  await new Promise<void>((resolve) => admin.listen(0, '127.0.0.1', resolve));
  const adminPort = (admin.address() as AddressInfo).port;

  return {
    smtpPort,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    stats,
    deliveries,
    release() {
      isHolding = false;
      // They arrive now
      for (const entry of held.splice(0)) record({ ...entry, arrived_at_ms: Date.now() });
    },
    async close() {
      for (const wake of [...waiters]) wake();
      admin.closeAllConnections();
      await new Promise<void>((resolve) => admin.close(() => resolve()));
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}
