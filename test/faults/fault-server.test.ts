/**
 * The fault server itself (fixtures/fault-server.ts), spoken to over a raw socket: without a fault
 * it is a correct SMTP server for runner's flow; a fault fires once per drawn connection, at its
 * phase, drawn the same way for the same seed; its bounds hold.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { LONG_LINE_BYTES, OVERLONG_LINE_BYTES, startFaultServer, type Fault, type FaultServer } from '../../fixtures/fault-server.ts';

/** A raw SMTP client: reads whole replies (up to a final `ddd ` line), sends lines; bounded waits. */
interface RawClient {
  /** The next complete reply's text, or what arrived before the close / the wait ran out. */
  reply(waitMs?: number): Promise<string>;
  send(line: string): void;
  /** Whether the server closed or reset the connection. */
  readonly isClosed: boolean;
  close(): void;
}

function openClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let buffer = '';
    let isClosed = false;
    let wake: (() => void) | undefined;
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      isClosed = true;
      wake?.();
    });
    const takeReply = (): string | undefined => {
      // A reply ends with a line "ddd" or "ddd text" (RFC 5321 §4.2.1)
      const match = /^\d{3}(?: [^\n]*)?\r?\n/m.exec(buffer);
      if (match === null) return undefined;
      const end = match.index + match[0].length;
      const reply = buffer.slice(0, end);
      buffer = buffer.slice(end);
      return reply;
    };
    socket.once('connect', () =>
      resolve({
        async reply(waitMs = 1000) {
          const deadline = Date.now() + waitMs;
          for (;;) {
            const reply = takeReply();
            if (reply !== undefined) return reply;
            if (isClosed || Date.now() >= deadline) {
              const rest = buffer;
              buffer = '';
              return rest;
            }
            await new Promise<void>((done) => {
              const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
              wake = () => {
                clearTimeout(timer);
                done();
              };
            });
            wake = undefined;
          }
        },
        send: (line) => void socket.write(line + '\r\n'),
        get isClosed() {
          return isClosed;
        },
        close: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

async function withServer(options: Parameters<typeof startFaultServer>[0], body: (server: FaultServer) => Promise<void>): Promise<void> {
  const server = await startFaultServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** One full transaction; returns every reply in order. */
async function transact(client: RawClient, message = 'Subject: t\r\n\r\n..dot-stuffed line\r\nbody'): Promise<string[]> {
  const replies = [await client.reply()];
  for (const line of ['EHLO c.test', 'AUTH PLAIN AHVAcA==', 'MAIL FROM:<a@example.com>', 'RCPT TO:<b@example.com>', 'DATA']) {
    client.send(line);
    replies.push(await client.reply());
  }
  client.send(message + '\r\n.');
  replies.push(await client.reply());
  client.send('QUIT');
  replies.push(await client.reply());
  return replies;
}

const correct = suite('fault server: without a fault, a correct SMTP server');

correct('greeting, EHLO with AUTH PLAIN, 235, 250, 250, 354, 250 after end-of-data, 221 and close; counted', async () => {
  await withServer({}, async (server) => {
    const client = await openClient(server.port);
    const replies = await transact(client);
    assert.equal(replies.map((reply) => reply.slice(0, 3)), ['220', '250', '235', '250', '250', '354', '250', '221']);
    assert.match(replies[1]!, /^250-fault\.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n$/);
    assert.is(await client.reply(200), '');
    assert.ok(client.isClosed, 'not closed after QUIT');
    assert.equal({ connections: server.stats.connections, accepted: server.stats.messagesAccepted }, { connections: 1, accepted: 1 });
  });
});

correct('AUTH PLAIN without an initial response gets an empty 334 first (RFC 4954 §4)', async () => {
  await withServer({}, async (server) => {
    const client = await openClient(server.port);
    await client.reply();
    client.send('AUTH PLAIN');
    assert.is(await client.reply(), '334 \r\n');
    client.send('AHVAcA==');
    assert.match(await client.reply(), /^235 /);
    client.close();
  });
});

correct('out-of-order commands get 503; a command line past 4 KiB gets 500 and a close', async () => {
  await withServer({}, async (server) => {
    const client = await openClient(server.port);
    await client.reply();
    client.send('DATA');
    assert.match(await client.reply(), /^503 /);
    client.send('X'.repeat(5000));
    assert.match(await client.reply(), /^500 /);
    await client.reply(200);
    assert.ok(client.isClosed);
  });
});

correct.run();

const faults = suite('fault server: faults');

const FAULT_CASES: Array<{ fault: Fault; check: (replies: string[], client: RawClient) => void }> = [
  { fault: { phase: 'mail', kind: 'reply-4xx' }, check: (r) => assert.match(r[3]!, /^451 4\.3\.0 /) },
  { fault: { phase: 'rcpt', kind: 'reply-5xx', code: 550 }, check: (r) => assert.match(r[4]!, /^550 /) },
  { fault: { phase: 'ehlo', kind: 'long-line' }, check: (r) => assert.is(r[1]!.indexOf('\r\n') + 2, LONG_LINE_BYTES) },
  { fault: { phase: 'auth', kind: 'overlong-line' }, check: (r) => assert.ok(r[2]!.length >= OVERLONG_LINE_BYTES - 1) },
  { fault: { phase: 'data', kind: 'mixed-multiline' }, check: (r) => assert.match(r[5]!, /^354-.*\r\n451-/) },
  { fault: { phase: 'message', kind: 'fragmented', pieceBytes: 1, pieceDelayMs: 1 }, check: (r) => assert.is(r[6], '250 2.0.0 OK\r\n') },
  { fault: { phase: 'greeting', kind: 'slow', byteDelayMs: 1 }, check: (r) => assert.match(r[0]!, /^220 fault\.test/) },
  { fault: { phase: 'quit', kind: 'not-a-reply' }, check: (r) => assert.is(r[7], 'this is not an SMTP reply\r\n') },
];

for (const { fault, check } of FAULT_CASES) {
  faults(`${fault.phase} × ${fault.kind}: the reply it gives, counted once at its phase`, async () => {
    await withServer({ fault }, async (server) => {
      const client = await openClient(server.port);
      const replies = await transact(client);
      check(replies, client);
      client.close();
      assert.is(server.stats.faultsInjected[fault.phase], 1);
      assert.is(Object.values(server.stats.faultsInjected).reduce((sum, count) => sum + count, 0), 1);
    });
  });
}

faults('reply-421 answers and closes; close and reset end the connection without a reply; silence says nothing', async () => {
  await withServer({ fault: { phase: 'mail', kind: 'reply-421' } }, async (server) => {
    const client = await openClient(server.port);
    await client.reply();
    client.send('MAIL FROM:<a@example.com>');
    assert.match(await client.reply(), /^421 /);
    await client.reply(200);
    assert.ok(client.isClosed);
  });
  for (const kind of ['close', 'reset'] as const) {
    await withServer({ fault: { phase: 'mail', kind } }, async (server) => {
      const client = await openClient(server.port);
      await client.reply();
      client.send('MAIL FROM:<a@example.com>');
      assert.is(await client.reply(500), '');
      assert.ok(client.isClosed, `${kind}: still open`);
      assert.is(server.stats.faultsInjected.mail, 1);
    });
  }
  await withServer({ fault: { phase: 'mail', kind: 'silence' } }, async (server) => {
    const client = await openClient(server.port);
    await client.reply();
    client.send('MAIL FROM:<a@example.com>');
    assert.is(await client.reply(150), '');
    assert.not.ok(client.isClosed);
    client.close();
  });
});

faults('a fraction of connections, drawn from the seed: the same seed faults the same connections', async () => {
  const draw = async (seed: number): Promise<boolean[]> => {
    const faulted: boolean[] = [];
    await withServer({ fault: { phase: 'greeting', kind: 'reply-4xx', fraction: 0.5 }, seed }, async (server) => {
      for (let i = 0; i < 16; i++) {
        const client = await openClient(server.port);
        faulted.push((await client.reply()).startsWith('451'));
        client.close();
      }
      assert.is(server.stats.faultedConnections, faulted.filter(Boolean).length);
      assert.is(server.stats.faultsInjected.greeting, server.stats.faultedConnections);
    });
    return faulted;
  };
  const first = await draw(3);
  assert.equal(await draw(3), first);
  assert.ok(first.includes(true) && first.includes(false), JSON.stringify(first));
});

faults.run();

const bounds = suite('fault server: bounds');

bounds('past maxConnections: 421 Too many connected clients and close', async () => {
  await withServer({ maxConnections: 1 }, async (server) => {
    const first = await openClient(server.port);
    await first.reply();
    const second = await openClient(server.port);
    assert.match(await second.reply(), /^421 4\.7\.0 .*Too many connected clients/);
    await second.reply(200);
    assert.ok(second.isClosed);
    assert.is(server.stats.refusedConnections, 1);
    first.close();
  });
});

bounds('an idle connection is closed after idleTimeoutMs; close() ends every connection and is idempotent', async () => {
  const server = await startFaultServer({ idleTimeoutMs: 100 });
  const idle = await openClient(server.port);
  await idle.reply();
  await idle.reply(400);
  assert.ok(idle.isClosed, 'idle connection still open');
  const open = await openClient(server.port);
  await open.reply();
  await Promise.all([server.close(), server.close()]);
  await open.reply(200);
  assert.ok(open.isClosed);
});

bounds('invalid options are refused', async () => {
  for (const fault of [
    { phase: 'helo', kind: 'close' },
    { phase: 'mail', kind: 'explode' },
    { phase: 'mail', kind: 'slow', byteDelayMs: 10_000 },
    { phase: 'mail', kind: 'close', fraction: 2 },
  ]) {
    const started: FaultServer | Error = await startFaultServer({ fault: fault as Fault }).catch((error: Error) => error);
    if (!(started instanceof Error)) {
      await started.close();
      assert.unreachable(`accepted ${JSON.stringify(fault)}`);
    }
  }
});

bounds.run();
