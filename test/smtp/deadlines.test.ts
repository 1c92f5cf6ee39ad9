// test-tier: real-time
/**
 * The shared deadline ticker (runner/smtp/deadlines.ts) under a stalled event loop: a reply that
 * reached the socket before its deadline wins, even when the loop was held up past the deadline
 * and the ticker runs before the socket is read. The stall is a synchronous busy loop, so the
 * outcome does not depend on the machine's speed.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEADLINE_RESOLUTION_MS, unwatchDeadline, watchDeadline, type DeadlineTarget } from '../../runner/smtp/deadlines.ts';

const test = suite('reply deadlines: a reply in the socket beats a late ticker');

/** Holds the event loop for `ms` (a stall, as on a machine busy with other work). */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer, no I/O runs meanwhile
  }
}

async function withPair<T>(body: (client: Socket, server: Socket) => Promise<T>): Promise<T> {
  const listener: Server = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as { port: number }).port;
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  try {
    return await body(client, server);
  } finally {
    client.destroy();
    server.destroy();
    listener.close();
  }
}

const waitTicks = (ticks: number) => new Promise((resolve) => setTimeout(resolve, DEADLINE_RESOLUTION_MS * ticks));

test('the reply was written before the deadline, the loop stalled past it: no timeout', async () => {
  await withPair(async (client, server) => {
    let timedOut = 0;
    const target: DeadlineTarget = { deadlineMs: performance.now() + 20, onDeadline: () => timedOut++ };
    // The reply clears the deadline, as the session does when a reply arrives
    client.on('data', () => (target.deadlineMs = 0));
    watchDeadline(target);
    try {
      server.write('250 2.0.0 OK\r\n');
      stall(4 * DEADLINE_RESOLUTION_MS);
      await waitTicks(3);
      assert.is(timedOut, 0, 'a reply that was in the socket before the deadline was counted as a timeout');
      assert.is(target.deadlineMs, 0);
    } finally {
      unwatchDeadline(target);
    }
  });
});

test('no reply at all: the same stall ends in a timeout, once', async () => {
  await withPair(async (client) => {
    let timedOut = 0;
    const target: DeadlineTarget = { deadlineMs: performance.now() + 20, onDeadline: () => timedOut++ };
    client.on('data', () => (target.deadlineMs = 0));
    watchDeadline(target);
    try {
      stall(4 * DEADLINE_RESOLUTION_MS);
      await waitTicks(3);
      assert.is(timedOut, 1);
    } finally {
      unwatchDeadline(target);
    }
  });
});

test.run();
