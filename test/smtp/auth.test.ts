import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Failure } from '../../runner/smtp/api.ts';
import type { ResolvedSmtp } from '../../runner/scenario/resolved.ts';
import { SmtpSession, type SessionRecorder } from '../../runner/smtp/session.ts';
import { authContinuationLine, authInitialLine, describeXoauth2Challenge, xoauth2Payload } from '../../runner/smtp/auth.ts';
import { startFakeProxy, type FakeProxy, type FakeProxyOptions } from '../../fixtures/fake-proxy.ts';
import { fixtureCertificate } from '../../fixtures/tls.ts';
import { smtpOptions as sharedSmtpOptions } from './scripted-server.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const Lines = suite('SASL lines: what each mechanism sends');

const LINE_CASES: Array<{ name: string; actual: () => string | undefined; expected: string | undefined }> = [
  { name: 'PLAIN: initial response \\0user\\0password (RFC 4616)', actual: () => authInitialLine('plain', 'a@x.test', 'pw'), expected: `AUTH PLAIN ${b64('\0a@x.test\0pw')}\r\n` },
  { name: 'LOGIN: no initial response', actual: () => authInitialLine('login', 'a@x.test', 'pw'), expected: 'AUTH LOGIN\r\n' },
  { name: 'LOGIN: first 334 → base64(user)', actual: () => authContinuationLine('login', 0, 'a@x.test', 'pw'), expected: `${b64('a@x.test')}\r\n` },
  { name: 'LOGIN: second 334 → base64(password)', actual: () => authContinuationLine('login', 1, 'a@x.test', 'pw'), expected: `${b64('pw')}\r\n` },
  { name: 'LOGIN: a third 334 is a failure', actual: () => authContinuationLine('login', 2, 'a@x.test', 'pw'), expected: undefined },
  { name: 'XOAUTH2: user=…^Aauth=Bearer token^A^A', actual: () => authInitialLine('xoauth2', 'a@x.test', 'tok'), expected: `AUTH XOAUTH2 ${b64('user=a@x.test\x01auth=Bearer tok\x01\x01')}\r\n` },
  { name: 'XOAUTH2: the error challenge is answered with an empty line', actual: () => authContinuationLine('xoauth2', 0, 'a@x.test', 'tok'), expected: '\r\n' },
  { name: 'XOAUTH2: a second 334 is a failure', actual: () => authContinuationLine('xoauth2', 1, 'a@x.test', 'tok'), expected: undefined },
  { name: 'PLAIN: a 334 after the initial response is a failure', actual: () => authContinuationLine('plain', 0, 'a@x.test', 'pw'), expected: undefined },
];
for (const { name, actual, expected } of LINE_CASES) Lines(name, () => assert.is(actual(), expected));

Lines('XOAUTH2 payload and its error challenge', () => {
  assert.is(Buffer.from(xoauth2Payload('u@x.test', 'T'), 'base64').toString(), 'user=u@x.test\x01auth=Bearer T\x01\x01');
  assert.match(describeXoauth2Challenge(b64('{"status":"401","schemes":"bearer"}')) ?? '', /token refused: \{"status":"401"/);
  assert.is(describeXoauth2Challenge('not base64 json'), undefined);
});

// ---------------------------------------------------------------------------------------------

class Recorder implements SessionRecorder {
  acceptedCount = 0;
  failures: Failure[] = [];
  connectionOpened(): void {}
  phase(): void {}
  accepted(): void {
    this.acceptedCount++;
  }
  failed(failure: Failure): void {
    this.failures.push(failure);
  }
  afterAcceptError(): void {}
  connectionClosed(): void {}
}

/** The shared session options (scripted-server.ts) with a 128-byte body. */
function smtpOptions(overrides: Partial<ResolvedSmtp>): ResolvedSmtp {
  return sharedSmtpOptions({ messageSize: 128, ...overrides });
}

async function sendOne(proxyOptions: FakeProxyOptions, smtp: Partial<ResolvedSmtp>, messages = 1): Promise<{ recorder: Recorder; proxy: FakeProxy }> {
  const proxy = await startFakeProxy({ adminPort: null, seed: 1, ...proxyOptions });
  const recorder = new Recorder();
  const session = new SmtpSession({ host: '127.0.0.1', port: proxy.port }, smtpOptions(smtp), recorder);
  try {
    for (let i = 0; i < messages; i++) await session.sendMessage();
  } finally {
    session.close();
    await proxy.close();
  }
  return { recorder, proxy };
}

const Mechanisms = suite('AUTH mechanisms against the fixture (smtp-server authMethods)');

const MECHANISM_CASES: Array<{ name: string; proxy: FakeProxyOptions; smtp: Partial<ResolvedSmtp> }> = [
  { name: 'PLAIN', proxy: {}, smtp: { auth: 'plain' } },
  { name: 'LOGIN', proxy: {}, smtp: { auth: 'login', password: 'secret-pw' } },
  { name: 'XOAUTH2 (any token)', proxy: {}, smtp: { auth: 'xoauth2', token: 'ya29.token' } },
  { name: 'XOAUTH2 (the expected token)', proxy: { xoauth2Token: 'ya29.right' }, smtp: { auth: 'xoauth2', token: 'ya29.right' } },
  { name: 'LOGIN over STARTTLS', proxy: { tls: 'starttls' }, smtp: { auth: 'login', tls: 'starttls', tlsCa: fixtureCertificate().cert } },
  { name: 'XOAUTH2 over implicit TLS', proxy: { tls: 'implicit' }, smtp: { auth: 'xoauth2', token: 't', tls: 'implicit', tlsCa: fixtureCertificate().cert } },
];

for (const { name, proxy: proxyOptions, smtp } of MECHANISM_CASES) {
  Mechanisms(`${name}: 3 messages, one AUTH per connection`, async () => {
    const { recorder, proxy } = await sendOne(proxyOptions, smtp, 3);
    assert.equal(recorder.failures, []);
    assert.is(recorder.acceptedCount, 3);
    assert.is(proxy.stats.authOk, 3);
    assert.is(proxy.stats.messagesAccepted, 3);
  });
}

Mechanisms('XOAUTH2 refused: 334 challenge, empty line, 535 counted once at auth with the decoded status', async () => {
  const { recorder, proxy } = await sendOne({ xoauth2Token: 'ya29.right' }, { auth: 'xoauth2', token: 'ya29.wrong' });
  assert.is(recorder.failures.length, 1);
  const failure = recorder.failures[0]!;
  assert.is(failure.phase, 'auth');
  assert.is(failure.code, 535);
  assert.match(failure.text, /XOAUTH2 token refused: .*"status":"401"/);
  assert.is(proxy.stats.authOk, 0);
  assert.is(proxy.stats.messagesAccepted, 0);
});

Mechanisms('LOGIN for an account the proxy does not know: 535 at auth', async () => {
  const { recorder } = await sendOne({}, { auth: 'login', from: 'nobody@unknown.test' });
  assert.is(recorder.failures.length, 1);
  assert.is(recorder.failures[0]!.phase, 'auth');
  assert.is(recorder.failures[0]!.code, 535);
});

Lines.run();
Mechanisms.run();
