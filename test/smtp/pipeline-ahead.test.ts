/**
 * The next transaction written with a message's end-of-data (RFC 2920 §3.1, session.ts
 * writeAhead), read by read against a scripted server: when it goes, what each reply then counts
 * for, and what happens when no message comes for it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Phase } from '../../runner/smtp/phases.ts';
import type { ResolvedSmtp } from '../../runner/scenario/resolved.ts';
import { SmtpSession } from '../../runner/smtp/session.ts';
import { startScriptedServer, smtpOptions, TestRecorder, type Script, type ScriptedServer } from './scripted-server.ts';

const EHLO_PIPELINING = '250-fake.test Hello\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250 SMTPUTF8';

interface Ahead {
  session: SmtpSession;
  recorder: TestRecorder;
  server: ScriptedServer;
  /** How many times the session asked for the next iteration. */
  grants: number;
}

/**
 * A session on a PIPELINING server whose engine grants every next iteration it is asked for
 * (`isGranted` false: none), as a closed-model VU loop does.
 */
async function withAhead(script: Script, smtp: Partial<ResolvedSmtp>, body: (ahead: Ahead) => Promise<void>, isGranted = true, timeoutMs = 5000): Promise<void> {
  const server = await startScriptedServer({ ehlo: EHLO_PIPELINING, ...script });
  const recorder = new TestRecorder();
  const session = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtpOptions(smtp, timeoutMs), recorder);
  const ahead: Ahead = { session, recorder, server, grants: 0 };
  session.nextIterationGrant = () => {
    ahead.grants++;
    return isGranted;
  };
  try {
    await body(ahead);
  } finally {
    session.close();
    await server.close();
  }
}

/** The reads after AUTH's, each as its lines' verbs ('<message>' for a message's end). */
function verbsAfterAuth(server: ScriptedServer): string[][] {
  const at = server.reads.findIndex((read) => read.some((line) => line.startsWith('AUTH ')));
  return server.reads
    .slice(at + 1)
    .filter((read) => read.length > 0)
    .map((read) => read.map((line) => line.split(/[ :]/)[0]!));
}

/** Resolves once `condition` holds (checked every 5 ms, up to 5 s). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

const count = (recorder: TestRecorder, phase: Phase) => recorder.phaseNames().filter((name) => name === phase).length;

const Ahead = suite('session: the next transaction with the message (RFC 2920 §3.1)');

Ahead('granted: RSET, MAIL, RCPT and DATA of the next message go with the data; one write per message', async () => {
  await withAhead({}, { messagesPerConnection: 3 }, async (ahead) => {
    const { session, recorder, server } = ahead;
    for (let i = 0; i < 3; i++) assert.is(await session.sendMessage(), undefined);
    assert.equal(verbsAfterAuth(server), [
      ['MAIL', 'RCPT', 'DATA'],
      ['<message>', 'RSET', 'MAIL', 'RCPT', 'DATA'],
      ['<message>', 'RSET', 'MAIL', 'RCPT', 'DATA'],
      ['<message>', 'QUIT'],
    ]);
    // Asked for messages 1 and 2 (the third is the connection's last: QUIT goes with it)
    assert.is(ahead.grants, 2);
    assert.equal([recorder.acceptedMessages.length, recorder.failures.length, server.messages.length, server.connections], [3, 0, 3, 1]);
    // Every phase once per message: mail, rcpt, data and message 3 times, rset between them
    assert.equal([count(recorder, 'mail'), count(recorder, 'rcpt'), count(recorder, 'data'), count(recorder, 'message'), count(recorder, 'rset'), count(recorder, 'quit')], [3, 3, 3, 3, 2, 1]);
    // A transaction written ahead declares an estimate: never less than its message, at most 64 bytes more
    const declared = server.commands.filter((line) => line.startsWith('MAIL')).map((line) => Number(/SIZE=(\d+)/.exec(line)![1]));
    server.messages.forEach((message, i) => {
      assert.ok(declared[i]! >= message.length && declared[i]! <= message.length + 64, `message ${i}: SIZE=${declared[i]} for ${message.length} bytes`);
    });
    assert.is(declared[0], server.messages[0]!.length, 'the first transaction declares its exact size');
  });
});

Ahead('the grant is asked once per message that has a next one on the connection, and not for the last', async () => {
  const server = await startScriptedServer({ ehlo: EHLO_PIPELINING });
  const recorder = new TestRecorder();
  const session = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtpOptions({ messagesPerConnection: 3 }), recorder);
  let asked = 0;
  session.nextIterationGrant = () => ++asked > 0;
  try {
    for (let i = 0; i < 6; i++) assert.is(await session.sendMessage(), undefined);
    // Two connections of three messages: messages 1-2 and 4-5 carry the next one
    assert.equal([asked, server.connections, recorder.acceptedMessages.length], [4, 2, 6]);
  } finally {
    session.close();
    await server.close();
  }
});

Ahead('not granted, or smtp.pipelining "transaction": the next MAIL waits for the message\'s reply', async () => {
  const expected = [['MAIL', 'RCPT', 'DATA'], ['<message>'], ['RSET', 'MAIL', 'RCPT', 'DATA'], ['<message>', 'QUIT']];
  await withAhead({}, { messagesPerConnection: 2 }, async ({ session, server }) => {
    for (let i = 0; i < 2; i++) assert.is(await session.sendMessage(), undefined);
    assert.equal(verbsAfterAuth(server), expected);
  }, false);
  await withAhead({}, { messagesPerConnection: 2, pipelining: 'transaction' }, async ({ session, server }) => {
    for (let i = 0; i < 2; i++) assert.is(await session.sendMessage(), undefined);
    assert.equal(verbsAfterAuth(server), expected);
  });
});

Ahead('rsetBetweenMessages false: MAIL, RCPT and DATA alone go with the data', async () => {
  await withAhead({}, { messagesPerConnection: 2, rsetBetweenMessages: false }, async ({ session, server }) => {
    for (let i = 0; i < 2; i++) assert.is(await session.sendMessage(), undefined);
    assert.equal(verbsAfterAuth(server), [['MAIL', 'RCPT', 'DATA'], ['<message>', 'MAIL', 'RCPT', 'DATA'], ['<message>', 'QUIT']]);
  });
});

Ahead('the next MAIL refused (451 4.4.5): counted once, as the next message\'s failure, when that message starts', async () => {
  const script: Script = { mail: (n) => (n === 1 ? '451 4.4.5 too many messages in flight' : '250 2.1.0 OK') };
  await withAhead(script, { messagesPerConnection: 5 }, async ({ session, recorder, server }) => {
    assert.is(await session.sendMessage(), undefined);
    // The refused transaction's DATA got 354: the connection is closed, no lone dot (nothing delivered)
    await until(() => !session.isConnected, 'the connection to close');
    assert.equal([recorder.acceptedMessages.length, recorder.failures.length], [1, 0], 'nothing is counted before its message starts');
    const failure = await session.sendMessage();
    assert.equal([failure?.phase, failure?.code, failure?.enhanced], ['mail', 451, '4.4.5']);
    assert.is(recorder.failures.length, 1);
    // The next message starts over on a new connection
    assert.is(await session.sendMessage(), undefined);
    assert.equal([recorder.acceptedMessages.length, recorder.failures.length, server.messages.length, server.connections], [2, 1, 2, 2]);
  });
});

Ahead('a refused message (554) fails alone: the transaction written after it goes on, on the same connection', async () => {
  const script: Script = { message: (n) => (n === 0 ? '554 5.7.1 message refused' : '250 2.0.0 OK') };
  await withAhead(script, { messagesPerConnection: 2 }, async ({ session, recorder, server }) => {
    const failure = await session.sendMessage();
    assert.equal([failure?.phase, failure?.code], ['message', 554]);
    assert.is(await session.sendMessage(), undefined);
    assert.equal([recorder.failures.length, recorder.acceptedMessages.length, server.connections], [1, 1, 1]);
    assert.equal(verbsAfterAuth(server), [['MAIL', 'RCPT', 'DATA'], ['<message>', 'RSET', 'MAIL', 'RCPT', 'DATA'], ['<message>', 'QUIT']]);
  });
});

Ahead('421 to the message: it fails and the connection ends; the next message connects again', async () => {
  const script: Script = { message: (n) => (n === 0 ? { kind: 'close', reply: '421 4.7.0 closing' } : '250 2.0.0 OK') };
  await withAhead(script, { messagesPerConnection: 3 }, async ({ session, recorder, server }) => {
    const failure = await session.sendMessage();
    assert.equal([failure?.phase, failure?.code], ['message', 421]);
    assert.is(await session.sendMessage(), undefined);
    assert.equal([recorder.failures.length, recorder.acceptedMessages.length, server.connections], [1, 1, 2]);
  });
});

Ahead('no message comes (the run ends): quit() closes the connection without an end of data; nothing is counted', async () => {
  await withAhead({}, { messagesPerConnection: 5 }, async ({ session, recorder, server }) => {
    for (let i = 0; i < 2; i++) assert.is(await session.sendMessage(), undefined);
    await until(() => server.commands.filter((line) => line === 'DATA').length === 3, 'the third DATA');
    const reply = await session.quit();
    assert.is(reply.code, 221);
    assert.is(session.isConnected, false);
    await until(() => recorder.closed === 1, 'the connection to close');
    // Three transactions opened, two messages: the third was never ended, so never delivered
    assert.equal([server.messages.length, recorder.acceptedMessages.length, recorder.failures.length, recorder.afterAccept.length], [2, 2, 0, 0]);
    assert.ok(!server.commands.includes('QUIT'));
  });
});

Ahead('another sender next: the transaction written ahead is given up (connection closed), the message goes on a new one', async () => {
  await withAhead({}, { messagesPerConnection: 5 }, async ({ session, recorder, server }) => {
    assert.is(await session.sendMessage(), undefined);
    session.from = 'other@example.com';
    assert.is(await session.sendMessage(), undefined);
    assert.equal([server.messages.length, recorder.acceptedMessages.length, recorder.failures.length, server.connections], [2, 2, 0, 2]);
    const senders = server.commands.filter((line) => line.startsWith('MAIL')).map((line) => /<(.*)>/.exec(line)![1]);
    // test@ twice (the second never got a message), then other@, then other@ again ahead of a message that never came
    assert.equal(senders.slice(0, 3), ['test@example.com', 'test@example.com', 'other@example.com']);
  });
});

Ahead('a step after a transaction written ahead gives it up first (ctx.smtp steps start from no connection)', async () => {
  await withAhead({}, { messagesPerConnection: 5 }, async ({ session, recorder, server }) => {
    assert.is(await session.sendMessage(), undefined);
    await session.connect();
    assert.is((await session.ehlo()).code, 250);
    assert.equal([server.connections, server.messages.length, recorder.acceptedMessages.length, recorder.failures.length], [2, 1, 1, 0]);
  });
});

Ahead('no reply to the next MAIL: a timeout, counted for the next message when it starts', async () => {
  const silentSecond = (reply: string) => (n: number) => (n === 1 ? { kind: 'silent' as const } : reply);
  const script: Script = { mail: silentSecond('250 2.1.0 OK'), rcpt: silentSecond('250 2.1.5 OK'), data: silentSecond('354 go ahead') };
  await withAhead(script, { messagesPerConnection: 5 }, async ({ session, recorder }) => {
    assert.is(await session.sendMessage(), undefined);
    await until(() => !session.isConnected, 'the timeout to close the connection');
    assert.is(recorder.failures.length, 0);
    const failure = await session.sendMessage();
    assert.equal([failure?.phase, failure?.error], ['mail', 'TIMEOUT']);
    assert.is(recorder.failures.length, 1);
    assert.is(await session.sendMessage(), undefined);
  }, true, 300);
});

Ahead('the next message arrives before its replies: the flow takes them over as they come', async () => {
  // Replies one byte at a time: the next sendMessage() starts while MAIL/RCPT/DATA replies are still due
  await withAhead({ isByteByByte: true }, { messagesPerConnection: 3 }, async ({ session, recorder, server }) => {
    for (let i = 0; i < 3; i++) assert.is(await session.sendMessage(), undefined);
    assert.equal([recorder.acceptedMessages.length, recorder.failures.length, server.messages.length, server.connections], [3, 0, 3, 1]);
    assert.equal(verbsAfterAuth(server).flat().filter((verb) => verb === '<message>').length, 3);
  });
});

Ahead("its message comes late (a pause, a slow VU loop): the wait after the 354 is the client's, in no latency", async () => {
  await withAhead({}, { messagesPerConnection: 3 }, async ({ session, recorder, server }) => {
    assert.is(await session.sendMessage(), undefined);
    await until(() => server.commands.filter((line) => line === 'DATA').length === 2, 'the second DATA');
    // The 354 is in long before the message comes (the run paused between two iterations)
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.is(await session.sendMessage(), undefined);
    const [first, second] = recorder.acceptedMessages;
    assert.ok(second!.txnUs < 200_000, `the second message's latency ${second!.txnUs} µs holds the 400 ms the client waited (the first took ${first!.txnUs} µs)`);
    assert.ok(second!.txnUs > 0);
  });
});

Ahead('a size distribution: the next MAIL declares its own message\'s size (not the largest bucket), so a server limit refuses only the messages above it', async () => {
  // Mostly 200-byte bodies, one in ten 60 kB; the server takes up to 20 kB (RFC 1870 §6.1: 552 to a larger SIZE)
  const limitBytes = 20_000;
  const script: Script = { mail: '250 2.1.0 OK' };
  const server = await startScriptedServer({ ehlo: EHLO_PIPELINING, ...script });
  const recorder = new TestRecorder();
  const smtp = smtpOptions({ messagesPerConnection: 40, messageSizes: { sizesBytes: [200, 60_000], cumulative: [0.9, 1], seed: 7 } });
  const session = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtp, recorder);
  session.nextIterationGrant = () => true;
  try {
    for (let i = 0; i < 40; i++) await session.sendMessage();
    const declared = server.commands.filter((line) => line.startsWith('MAIL')).map((line) => Number(/SIZE=(\d+)/.exec(line)![1]));
    assert.is(server.messages.length, 40);
    server.messages.forEach((message, i) => {
      assert.ok(declared[i]! >= message.length && declared[i]! <= message.length + 64, `message ${i}: SIZE=${declared[i]} for ${message.length} bytes`);
    });
    const small = server.messages.filter((message) => message.length < limitBytes).length;
    const refusable = declared.slice(0, 40).filter((bytes) => bytes > limitBytes).length;
    assert.is(refusable, 40 - small, 'only the large messages declare more than the limit');
  } finally {
    session.close();
    await server.close();
  }
});

Ahead("a message near the server's SIZE limit: no transaction written ahead whose estimate would pass the limit (its MAIL would be refused where the exact size is not)", async () => {
  // The message's exact size first, from a server without a limit
  let exactBytes = 0;
  await withAhead({}, { messagesPerConnection: 1 }, async ({ session, server }) => {
    assert.is(await session.sendMessage(), undefined);
    exactBytes = server.messages[0]!.length;
  });
  const limitBytes = exactBytes + 20;
  const ehlo = EHLO_PIPELINING.replace('SIZE 52428800', `SIZE ${limitBytes}`);
  const server = await startScriptedServer({ ehlo });
  const recorder = new TestRecorder();
  const session = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtpOptions({ messagesPerConnection: 3 }), recorder);
  session.nextIterationGrant = () => true;
  try {
    for (let i = 0; i < 3; i++) assert.is(await session.sendMessage(), undefined);
    const declared = server.commands.filter((line) => line.startsWith('MAIL')).map((line) => Number(/SIZE=(\d+)/.exec(line)![1]));
    assert.ok(declared.every((bytes) => bytes <= limitBytes), `SIZE= ${declared.join(', ')} against SIZE ${limitBytes} offered`);
    assert.equal([recorder.acceptedMessages.length, server.messages.length, server.connections], [3, 3, 1]);
  } finally {
    session.close();
    await server.close();
  }
});

Ahead('the server closes right after answering the message (no 421): the next message starts over on a new connection, no failure', async () => {
  // A server that ends a connection after some messages without saying so: with one transaction
  // per write the next MAIL would find the connection gone and reconnect; written ahead it must too
  for (const kind of ['close', 'reset'] as const) {
    const script: Script = { message: (n) => (n === 0 ? { kind, reply: '250 2.0.0 OK' } : '250 2.0.0 OK') };
    await withAhead(script, { messagesPerConnection: 5 }, async ({ session, recorder, server }) => {
      for (let i = 0; i < 3; i++) assert.is(await session.sendMessage(), undefined, `${kind}: message ${i}`);
      assert.equal([recorder.acceptedMessages.length, recorder.failures.length, server.messages.length, server.connections], [3, 0, 3, 2], kind);
    });
  }
});

Ahead('the server closes right after answering the message, and refuses the next one on the new connection: that refusal is counted', async () => {
  for (const kind of ['close', 'reset'] as const) {
    const script: Script = { message: (n) => (n === 0 ? { kind, reply: '250 2.0.0 OK' } : n === 1 ? '554 5.7.1 refused' : '250 2.0.0 OK') };
    await withAhead(script, { messagesPerConnection: 5 }, async ({ session, recorder }) => {
      // Granted for the first message only: the refused one goes alone on the new connection
      let grants = 0;
      session.nextIterationGrant = () => ++grants === 1;
      assert.is(await session.sendMessage(), undefined, kind);
      const failure = await session.sendMessage();
      assert.equal([failure?.phase, failure?.code], ['message', 554], kind);
      assert.equal([recorder.acceptedMessages.length, recorder.failures.length], [1, 1], kind);
    });
  }
});

Ahead.run();
