import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Failure } from '../../runner/smtp/api.ts';
import { PHASES, type Phase } from '../../runner/smtp/phases.ts';
import type { ResolvedSmtp } from '../../runner/scenario/resolved.ts';
import { SmtpSession, type SessionRecorder } from '../../runner/smtp/session.ts';
import { isCertificateError, tlsOptionsFor, unsentTlsBytes } from '../../runner/smtp/tls.ts';
import { startFakeProxy, type FakeProxy } from '../../fixtures/fake-proxy.ts';
import { fixtureCertificate } from '../../fixtures/tls.ts';
import { runCommand, withFixtureTls } from '../../runner/run.ts';
import type { ScenarioFileOptions, TlsMode } from '../../runner/scenario/types.ts';
import { UsageError } from '../../runner/errors.ts';
import { createTextSink, runAgainst, startRawServer } from '../helpers.ts';
import { smtpOptions as sharedSmtpOptions } from './scripted-server.ts';

/** Records what the session reports, in order. */
class Recorder implements SessionRecorder {
  phases: Phase[] = [];
  phaseUs: number[] = [];
  failures: Failure[] = [];
  opened = 0;
  closed = 0;
  connectionOpened(): void {
    this.opened++;
  }
  phase(index: number, durationUs: number): void {
    this.phases.push(PHASES[index]!);
    this.phaseUs.push(durationUs);
  }
  accepted(): void {
    this.acceptedCount++;
  }
  acceptedCount = 0;
  failed(failure: Failure): void {
    this.failures.push(failure);
  }
  afterAcceptError(): void {}
  connectionClosed(): void {
    this.closed++;
  }
}

/** The shared session options (scripted-server.ts) with a 256-byte body. */
function smtpOptions(overrides: Partial<ResolvedSmtp>): ResolvedSmtp {
  return sharedSmtpOptions({ messageSize: 256, ...overrides });
}

async function withProxy(tls: 'none' | 'starttls' | 'implicit', body: (proxy: FakeProxy) => Promise<void>): Promise<void> {
  const proxy = await startFakeProxy({ tls, adminPort: null, seed: 1 });
  try {
    await body(proxy);
  } finally {
    await proxy.close();
  }
}

async function sendThrough(proxy: FakeProxy, smtp: Partial<ResolvedSmtp>, host = '127.0.0.1', messages = 1): Promise<Recorder> {
  const recorder = new Recorder();
  const session = new SmtpSession({ host, port: proxy.port }, smtpOptions(smtp), recorder);
  try {
    for (let i = 0; i < messages; i++) await session.sendMessage();
  } finally {
    session.close();
  }
  return recorder;
}

const trusted = () => ({ tlsCa: fixtureCertificate().cert });

// ---------------------------------------------------------------------------------------------

const Depth = suite('TLS depth: client certificates, versions, ciphers, session resumption');

/**
 * A minimal implicit-TLS SMTP server (node:tls) that asks for a client certificate and refuses a
 * handshake without one it trusts (the fixture's own certificate, its own CA). It records the
 * subject of each client certificate and the protocol of each connection.
 */
async function startMutualTlsServer(options: { maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ port: number; peers: string[]; protocols: string[]; close(): Promise<void> }> {
  const { createServer } = await import('node:tls');
  const certificate = fixtureCertificate();
  const peers: string[] = [];
  const protocols: string[] = [];
  const sockets = new Set<import('node:tls').TLSSocket>();
  const server = createServer({ cert: certificate.cert, key: certificate.key, ca: certificate.cert, requestCert: true, rejectUnauthorized: true, ...options }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    peers.push(String(socket.getPeerCertificate().subject?.CN));
    protocols.push(String(socket.getProtocol()));
    socket.write('220 mtls.test ESMTP\r\n');
    let buffer = '';
    let isInData = false;
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        if (isInData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buffer = buffer.slice(end + 5);
          isInData = false;
          socket.write('250 2.0.0 OK\r\n');
          continue;
        }
        const at = buffer.indexOf('\r\n');
        if (at < 0) return;
        const verb = buffer.slice(0, 4).toUpperCase();
        buffer = buffer.slice(at + 2);
        if (verb === 'DATA') {
          isInData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 2.0.0 bye\r\n');
        else socket.write('250 2.0.0 OK\r\n');
      }
    });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    peers,
    protocols,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

async function sendTo(port: number, smtp: Partial<ResolvedSmtp>, messages = 1): Promise<Recorder> {
  const recorder = new Recorder();
  const session = new SmtpSession({ host: '127.0.0.1', port }, smtpOptions({ auth: 'none', tls: 'implicit', ...trusted(), ...smtp }), recorder);
  try {
    for (let i = 0; i < messages; i++) await session.sendMessage();
  } finally {
    session.close();
  }
  return recorder;
}

Depth('mutual TLS: with tlsCert and tlsKey the server that demands a client certificate accepts the message', async () => {
  const server = await startMutualTlsServer();
  try {
    const certificate = fixtureCertificate();
    const recorder = await sendTo(server.port, { tlsCert: certificate.cert, tlsKey: certificate.key });
    assert.equal([recorder.acceptedCount, recorder.failures.length], [1, 0], JSON.stringify(recorder.failures));
    assert.equal(server.peers, ['localhost']);
    assert.ok(recorder.phases.includes('tls'));
  } finally {
    await server.close();
  }
});

Depth('mutual TLS: without a client certificate the same server refuses: one failure at phase tls', async () => {
  const server = await startMutualTlsServer();
  try {
    const recorder = await sendTo(server.port, {});
    assert.is(recorder.acceptedCount, 0);
    assert.is(recorder.failures.length, 1);
    // Under TLS 1.3 the refusal comes after the client's handshake: still a failure at tls, with the fix
    assert.is(recorder.failures[0]!.phase, 'tls');
    assert.match(recorder.failures[0]!.text, /--tls-cert FILE --tls-key FILE/);
  } finally {
    await server.close();
  }
});

Depth('versions: tlsMaxVersion TLSv1.2 is what the server sees; tlsMinVersion TLSv1.3 against a TLSv1.2 server fails at tls', async () => {
  const certificate = fixtureCertificate();
  const mutual = { tlsCert: certificate.cert, tlsKey: certificate.key };
  const server = await startMutualTlsServer();
  try {
    const recorder = await sendTo(server.port, { ...mutual, tlsMaxVersion: 'TLSv1.2', tlsCiphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.is(recorder.acceptedCount, 1, JSON.stringify(recorder.failures));
    assert.equal(server.protocols, ['TLSv1.2']);
  } finally {
    await server.close();
  }
  const old = await startMutualTlsServer({ maxVersion: 'TLSv1.2' });
  try {
    const recorder = await sendTo(old.port, { ...mutual, tlsMinVersion: 'TLSv1.3' });
    assert.equal([recorder.acceptedCount, recorder.failures[0]?.phase], [0, 'tls']);
  } finally {
    await old.close();
  }
});

Depth('session resumption: the first handshake is full (tls), the next connections resume (tls_resumed), each counted once', async () => {
  for (const tls of ['implicit', 'starttls'] as const) {
    await withProxy(tls, async (proxy) => {
      const recorder = await sendThrough(proxy, { tls, tlsResumption: true, ...trusted() }, '127.0.0.1', 4);
      assert.is(recorder.acceptedCount, 4, `${tls}: ${JSON.stringify(recorder.failures)}`);
      const handshakes = recorder.phases.filter((phase) => phase === 'tls' || phase === 'tls_resumed');
      assert.equal(handshakes, ['tls', 'tls_resumed', 'tls_resumed', 'tls_resumed'], tls);
    });
  }
});

Depth('without tlsResumption (the default) every connection does a full handshake', async () => {
  await withProxy('implicit', async (proxy) => {
    const recorder = await sendThrough(proxy, { tls: 'implicit', ...trusted() }, '127.0.0.1', 3);
    assert.equal(recorder.phases.filter((phase) => phase.startsWith('tls')), ['tls', 'tls', 'tls']);
  });
});

Depth('a TLS write the server already answered is not unwritten while Node has yet to call its write back (no false early acceptance)', async () => {
  // TLSWrap hands the encrypted bytes to TCP at once but may call the write back only later (on a
  // later turn): the server's 250 can come first. Calling every TLS write back 100 ms late makes
  // that order certain. The message reached the server: it is accepted, not a protocol error.
  const { TLSSocket } = await import('node:tls');
  const { Socket } = await import('node:net');
  const prototype = TLSSocket.prototype as unknown as { _write: (chunk: Buffer, encoding: string, callback: (error?: Error | null) => void) => void };
  const hadOwn = Object.prototype.hasOwnProperty.call(prototype, '_write');
  const original = prototype._write;
  const netWrite = (Socket.prototype as unknown as typeof prototype)._write;
  prototype._write = function (this: unknown, chunk, encoding, callback) {
    netWrite.call(this, chunk, encoding, (error) => setTimeout(() => callback(error), 100));
  };
  try {
    for (const tls of ['implicit', 'starttls'] as const) {
      await withProxy(tls, async (proxy) => {
        const recorder = await sendThrough(proxy, { tls, ...trusted() }, '127.0.0.1', 2);
        assert.equal([recorder.acceptedCount, recorder.failures.map((failure) => failure.text)], [2, []], tls);
      });
    }
  } finally {
    if (hadOwn) prototype._write = original;
    else delete (prototype as { _write?: unknown })._write;
  }
});

Depth('unsentTlsBytes: the write in the TLS layer does not count, what TCP still holds and what waits behind it do', () => {
  const tlsOf = (writing: boolean, writelen: number, length: number) => ({ writableLength: length, _writableState: { writing, writelen, length } });
  const rawOf = (writeQueueSize: number) => ({ _handle: { writeQueueSize } });
  const cases: Array<[string, number, number]> = [
    ['handed to TCP, which took it all', unsentTlsBytes(tlsOf(true, 1417, 1417), rawOf(0)), 0],
    ['handed to TCP, part still in libuv', unsentTlsBytes(tlsOf(true, 1417, 1417), rawOf(900)), 900],
    ['a later write waiting behind it', unsentTlsBytes(tlsOf(true, 100, 1517), rawOf(0)), 1417],
    ['nothing in flight', unsentTlsBytes(tlsOf(false, 0, 0), rawOf(0)), 0],
    ['no internals: writableLength', unsentTlsBytes({ writableLength: 42 }, undefined), 42],
    ['a closed TCP handle: writableLength', unsentTlsBytes(tlsOf(true, 10, 10), { _handle: null }), 10],
  ];
  for (const [what, actual, expected] of cases) assert.is(actual, expected, what);
});

const Modes = suite('TLS modes: a message through the fixture, the handshake timed as phase tls');

const MODE_CASES: Array<{ mode: 'starttls' | 'implicit'; phases: Phase[] }> = [
  // RFC 3207 §4.2: EHLO again after the handshake (timed as a second ehlo)
  { mode: 'starttls', phases: ['connect', 'greeting', 'ehlo', 'tls', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'message', 'quit'] },
  { mode: 'implicit', phases: ['connect', 'tls', 'greeting', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'message', 'quit'] },
];

for (const { mode, phases } of MODE_CASES) {
  Modes(`${mode}: accepted, phases in protocol order, tls > 0 µs`, async () => {
    await withProxy(mode, async (proxy) => {
      const recorder = await sendThrough(proxy, { tls: mode, ...trusted() });
      assert.equal(recorder.failures, []);
      assert.is(recorder.acceptedCount, 1);
      assert.is(proxy.stats.messagesAccepted, 1);
      assert.equal(recorder.phases, phases);
      const tlsUs = recorder.phaseUs[recorder.phases.indexOf('tls')]!;
      assert.ok(Number.isInteger(tlsUs) && tlsUs > 0, `tls phase ${tlsUs} µs`);
    });
  });

  Modes(`${mode}: several messages per connection stay on the secure channel`, async () => {
    await withProxy(mode, async (proxy) => {
      const recorder = await sendThrough(proxy, { tls: mode, messagesPerConnection: 3, ...trusted() }, '127.0.0.1', 5);
      assert.equal(recorder.failures, []);
      assert.is(proxy.stats.messagesAccepted, 5);
      assert.is(recorder.phases.filter((phase) => phase === 'tls').length, 2); // two connections
      assert.is(recorder.opened, 2);
    });
  });

  Modes(`${mode}: 'localhost' is checked against the certificate's name`, async () => {
    await withProxy(mode, async (proxy) => {
      const recorder = await sendThrough(proxy, { tls: mode, ...trusted() }, 'localhost');
      assert.equal(recorder.failures, []);
      assert.is(proxy.stats.messagesAccepted, 1);
    });
  });
}

Modes('no TLS (default): the fixture hides STARTTLS as the real proxy, no tls phase', async () => {
  await withProxy('none', async (proxy) => {
    const recorder = await sendThrough(proxy, {});
    assert.is(recorder.acceptedCount, 1);
    assert.not.ok(recorder.phases.includes('tls'));
  });
});

const Verify = suite('TLS verification: on by default, failures at phase tls with the code and the fix');

const VERIFY_CASES: Array<{ name: string; smtp: Partial<ResolvedSmtp>; error?: RegExp }> = [
  { name: 'self-signed, not trusted → DEPTH_ZERO_SELF_SIGNED_CERT', smtp: {}, error: /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/ },
  { name: 'trusted CA (--tls-ca) → accepted', smtp: trusted() },
  { name: '--insecure-skip-tls-verify → accepted', smtp: { isTlsVerified: false } },
  { name: 'trusted CA but another name → ERR_TLS_CERT_ALTNAME_INVALID', smtp: { ...trusted(), tlsServername: 'mail.example.com' }, error: /^ERR_TLS_CERT_ALTNAME_INVALID$/ },
];

for (const mode of ['starttls', 'implicit'] as const) {
  for (const { name, smtp, error } of VERIFY_CASES) {
    Verify(`${mode}: ${name}`, async () => {
      await withProxy(mode, async (proxy) => {
        const recorder = await sendThrough(proxy, { tls: mode, ...smtp });
        if (error === undefined) {
          assert.equal(recorder.failures, []);
          assert.is(proxy.stats.messagesAccepted, 1);
          return;
        }
        assert.is(recorder.failures.length, 1);
        const failure = recorder.failures[0]!;
        assert.is(failure.phase, 'tls');
        assert.match(failure.error ?? '', error);
        assert.match(failure.text, /--tls-ca/);
        assert.match(failure.text, /--insecure-skip-tls-verify/);
        assert.is(proxy.stats.messagesAccepted, 0);
        assert.is(recorder.opened, recorder.closed);
      });
    });
  }
}

Verify('the certificate codes that get the hint', () => {
  for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']) assert.ok(isCertificateError(code), code);
  assert.not.ok(isCertificateError('ECONNRESET'));
});

Verify('client options: SNI only for a name, verification on unless turned off', () => {
  assert.equal(tlsOptionsFor('127.0.0.1', smtpOptions({})), { host: '127.0.0.1', servername: undefined, rejectUnauthorized: true });
  assert.equal(tlsOptionsFor('smtp.example.com', smtpOptions({ isTlsVerified: false })), { host: 'smtp.example.com', servername: 'smtp.example.com', rejectUnauthorized: false });
  assert.equal(tlsOptionsFor('127.0.0.1', smtpOptions({ tlsServername: 'mx.test', tlsCa: 'PEM' })), { host: 'mx.test', servername: 'mx.test', rejectUnauthorized: true, ca: 'PEM' });
});

const Refusals = suite('STARTTLS refused or not offered: a failure at phase tls');

Refusals('starttls against a server that does not offer it (the fixture without TLS)', async () => {
  await withProxy('none', async (proxy) => {
    const recorder = await sendThrough(proxy, { tls: 'starttls' });
    assert.is(recorder.failures.length, 1);
    assert.is(recorder.failures[0]!.phase, 'tls');
    assert.is(recorder.failures[0]!.error, 'STARTTLS_NOT_OFFERED');
    assert.match(recorder.failures[0]!.text, /does not offer STARTTLS/);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

Refusals('STARTTLS answered 454: a failure at phase tls with the code', async () => {
  const server = await startRawServer((socket) => {
    socket.write('220 scripted ready\r\n');
    socket.on('data', (chunk) => {
      const line = chunk.toString();
      if (line.startsWith('EHLO')) socket.write('250-scripted\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n');
      else if (line.startsWith('STARTTLS')) socket.write('454 4.7.0 TLS not available due to temporary reason\r\n');
      else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
    });
  });
  const recorder = new Recorder();
  const session = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtpOptions({ tls: 'starttls' }), recorder);
  try {
    const failure = await session.sendMessage();
    assert.is(failure?.phase, 'tls');
    assert.is(failure?.code, 454);
  } finally {
    session.close();
    await server.close();
  }
});

Refusals('implicit TLS against a plain-text server: a failure at phase tls, no hang', async () => {
  await withProxy('none', async (proxy) => {
    const recorder = await sendThrough(proxy, { tls: 'implicit', timeoutsMs: Object.fromEntries(PHASES.map((phase) => [phase, 2000])) as Record<Phase, number> });
    assert.is(recorder.failures.length, 1);
    assert.is(recorder.failures[0]!.phase, 'tls');
  });
});

const Steps = suite('TLS in custom iterations (ctx.smtp steps)');

Steps('starttls: ehlo() upgrades and resolves with the EHLO reply on the secure channel', async () => {
  await withProxy('starttls', async (proxy) => {
    const recorder = new Recorder();
    const session = new SmtpSession({ host: '127.0.0.1', port: proxy.port }, smtpOptions({ tls: 'starttls', ...trusted() }), recorder);
    try {
      await session.connect();
      const reply = await session.ehlo();
      assert.is(reply.code, 250);
      // RFC 3207 §4.2: the secure EHLO does not offer STARTTLS again
      assert.not.ok(session.capabilities.has('STARTTLS'));
      await session.auth();
      await session.mail();
      await session.rcpt();
      await session.data();
      await session.quit();
      assert.is(proxy.stats.messagesAccepted, 1);
    } finally {
      session.close();
    }
  });
});

const Runs = suite('runner run with TLS: the tls phase in the summary');

/** `runner run --with-fixture` in-process (the fixture a child process), its output in a text sink. */
async function runWithFixture(command: Omit<Parameters<typeof runCommand>[0], 'withFixture' | 'out' | 'watchPid' | 'progressIntervalMs' | 'stdout' | 'stderr'>) {
  const sink = createTextSink();
  const outcome = await runCommand({ ...command, withFixture: true, out: false, watchPid: false, progressIntervalMs: 60_000, stdout: sink, stderr: sink });
  return { outcome, text: sink.text() };
}

for (const mode of ['starttls', 'implicit'] as const) {
  Runs(`${mode} against the fake proxy in-process (--tls-ca its certificate), preflight included`, async () => {
    await withProxy(mode, async (proxy) => {
      const outcome = await runAgainst(proxy, { numEmails: 12, concurrent: 3, overrides: { tls: mode, tlsCa: proxy.caFile, to: ['a@example.com'] } });
      assert.is(outcome.exitCode, 0, outcome.output);
      assert.is(outcome.summary.results.successful, 12);
      assert.is(proxy.stats.messagesAccepted, 12);
      assert.ok(outcome.summary.results.phases['tls'] !== undefined, JSON.stringify(Object.keys(outcome.summary.results.phases)));
    });
  });

  Runs(`${mode} with --with-fixture --tls: the fixture's certificate is trusted, verification stays on`, async () => {
    const { outcome, text } = await runWithFixture({ fixtureArgs: ['--tls', mode], numEmails: 6, concurrent: 2, overrides: { tls: mode } });
    assert.is(outcome.exitCode, 0, text);
    assert.is(outcome.summary.results.successful, 6);
    assert.ok(outcome.options.scenarios[0]!.smtp.isTlsVerified);
    assert.match(text, /Fake proxy received: 6 messages/);
  });
}

Runs('--with-fixture follows the scenario file\'s TLS mode when --tls is not given', async () => {
  const { outcome, text } = await runWithFixture({
    scenario: { smtp: { tls: 'starttls' }, scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 4 } } },
    overrides: {},
  });
  assert.is(outcome.exitCode, 0, text);
  assert.is(outcome.summary.results.successful, 4);
  assert.ok(outcome.summary.results.phases['tls'] !== undefined, 'no tls phase: the fixture did not speak STARTTLS');
  assert.ok(outcome.options.scenarios[0]!.smtp.isTlsVerified);
});

Runs('withFixtureTls: --tls wins, else the one mode the scenarios use; two modes need --tls', () => {
  const file = (top: TlsMode | undefined, ...modes: Array<TlsMode | undefined>): ScenarioFileOptions => ({
    ...(top === undefined ? {} : { smtp: { tls: top } }),
    scenarios: Object.fromEntries(modes.map((tls, i) => [`s${i}`, { executor: 'shared-iterations', ...(tls === undefined ? {} : { smtp: { tls } }) }])),
  });
  const cases: Array<[string[], ScenarioFileOptions | undefined, TlsMode | undefined, string[]]> = [
    [[], undefined, undefined, []],
    [[], file(undefined, undefined), undefined, []],
    [[], file('starttls', undefined), undefined, ['--tls', 'starttls']],
    [[], file(undefined, 'implicit', 'implicit'), undefined, ['--tls', 'implicit']],
    [['--delay', 'message=5'], file('starttls', 'starttls'), undefined, ['--delay', 'message=5', '--tls', 'starttls']],
    [['--tls', 'none'], file('starttls', undefined), 'none', ['--tls', 'none']],
    // --tls given to runCommand without fixture args (a program, not the CLI): the fixture follows it
    [[], file('none', 'starttls', undefined), 'implicit', ['--tls', 'implicit']],
    [[], file('none', 'starttls', undefined), 'none', []],
  ];
  for (const [args, options, cliTls, expected] of cases) assert.equal(withFixtureTls(args, options, cliTls), expected, JSON.stringify([args, options, cliTls]));
  // --scenario: only the chosen scenarios' modes count (s1 wants starttls, s0 and s2 none)
  assert.equal(withFixtureTls([], file(undefined, undefined, 'starttls', undefined), undefined, ['s1']), ['--tls', 'starttls']);
  assert.equal(withFixtureTls([], file(undefined, undefined, 'starttls', undefined), undefined, ['s0', 's2']), []);
  // A misspelt mode is left to option validation (its message says "did you mean")
  assert.equal(withFixtureTls([], file('startls' as TlsMode, undefined), undefined), []);
  assert.throws(() => withFixtureTls([], file('none', 'starttls', undefined), undefined), (error: unknown) => error instanceof UsageError && /none, starttls|starttls, none/.test(error.message));
});

Runs('a self-signed server without --tls-ca: the preflight stops with the code and the fix', async () => {
  await withProxy('implicit', async (proxy) => {
    let error: unknown;
    try {
      await runAgainst(proxy, { numEmails: 2, overrides: { tls: 'implicit' } });
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof Error);
    assert.match((error as Error).message + ' ' + ((error as { hint?: string }).hint ?? ''), /SELF_SIGNED|UNABLE_TO_VERIFY/);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

Depth.run();
Modes.run();
Runs.run();
Verify.run();
Refusals.run();
Steps.run();
