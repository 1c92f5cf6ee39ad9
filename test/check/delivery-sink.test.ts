/**
 * `runner check --delivery sink=URL`: a runner sink that answers is shown with what it holds (its
 * own counts); a URL where nothing answers, or where something that is no sink answers (the fake
 * proxy's admin port), fails with exit 112 and says which; a URL that is no sink URL at all is
 * refused before anything is probed. The target of the SMTP walk is the sink itself.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startSink, type Sink } from '../../fixtures/sink.ts';
import { startFakeProxy } from '../../fixtures/fake-proxy.ts';
import { relayMessage } from '../../fixtures/relay-client.ts';
import { runCheckCommand } from '../../runner/check/check-command.ts';
import { ExitCode, InvalidOptionsError } from '../../runner/errors.ts';
import { createTextSink } from '../helpers.ts';
import { createServer } from 'node:net';

/** A port nothing listens on (taken, then let go). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const USER = 'test@example.com';

/** `runner check` against the sink's SMTP port, no proxy admin API, `--delivery` as given. */
async function check(sink: Sink, delivery: string, json = false) {
  const stdout = createTextSink();
  const exitCode = await runCheckCommand({ host: '127.0.0.1', port: sink.smtpPort, from: USER, auth: 'plain', password: 'sink-password', tls: 'none', admin: false, timeout: '5s', delivery, json, stdout, env: {} });
  return { exitCode, text: stdout.text() };
}

async function send(sink: Sink, index: number): Promise<boolean> {
  const body = Buffer.from(`From: ${USER}\r\nTo: a@example.net\r\nX-Runner-Trace: run1.${index}\r\nSubject: m\r\n\r\nbody\r\n`);
  const outcome = await relayMessage({ host: '127.0.0.1', port: sink.smtpPort, tls: 'none', timeoutMs: 5000 }, { mechanism: 'plain', user: USER, password: 'sink-password' }, { from: USER, to: ['a@example.net'] }, body);
  return outcome.ok;
}

const sinkCheck = suite('check --delivery sink=URL');

sinkCheck('a sink that answers: ✓ with the deliveries and refusals it holds (its own counts)', async () => {
  const sink = await startSink({ tls: 'none', seed: 3, failures: [{ phase: 'message', kind: 'reply', code: 454, probability: 0.5 }] });
  try {
    for (let index = 0; index < 8; index++) await send(sink, index);
    const held = sink.deliveries.length;
    const refused = sink.refusals.length;
    assert.ok(held > 0 && refused > 0, `seed 3 gave ${held} delivered, ${refused} refused`);
    const url = `http://127.0.0.1:${sink.adminPort}`;
    const { exitCode, text } = await check(sink, `sink=${url}/`);
    assert.is(exitCode, ExitCode.ok, text);
    assert.match(text, new RegExp(`✓ delivery sink .* ${url.replace(/[.]/g, '\\.')} answers: holds ${held} deliver(y|ies) and ${refused} refused \\(since its last reset: ${held} delivered, ${refused} refused\\)`));
    const json = JSON.parse((await check(sink, `sink=${url}`, true)).text);
    assert.equal(json.steps.at(-1).id, 'delivery');
    assert.is(json.steps.at(-1).status, 'ok');
  } finally {
    await sink.close();
  }
});

sinkCheck('nothing answers at the URL, or the fake proxy\'s admin port does: ✗, exit 112, and which it is', async () => {
  const sink = await startSink({ tls: 'none' });
  const proxy = await startFakeProxy({ seed: 1 });
  try {
    const port = await freePort();
    const down = await check(sink, `sink=http://127.0.0.1:${port}`);
    assert.is(down.exitCode, ExitCode.adminCheckFailed, down.text);
    assert.match(down.text, new RegExp(`✗ delivery sink .* http://127\\.0\\.0\\.1:${port}: no answer: ECONNREFUSED`));
    assert.match(down.text, new RegExp(`The delivery sink at http://127\\.0\\.0\\.1:${port} does not answer \\(ECONNREFUSED\\)`));
    assert.match(down.text, /runner sink --admin-port/);
    const wrong = await check(sink, `sink=http://127.0.0.1:${proxy.adminPort}`);
    assert.is(wrong.exitCode, ExitCode.adminCheckFailed, wrong.text);
    assert.match(wrong.text, /not a runner sink: GET \/__stats answered/);
    assert.match(wrong.text, /not the proxy's admin URL/);
  } finally {
    await proxy.close();
    await sink.close();
  }
});

sinkCheck('a --delivery that is no sink URL: refused before any probe, saying what to give', async () => {
  const sink = await startSink({ tls: 'none' });
  try {
    for (const [value, expected] of [['http://127.0.0.1:9190', /--delivery: 'http:\/\/127\.0\.0\.1:9190' is not a delivery source: use --delivery sink=/], ['sink=ftp://h', /--delivery sink: "ftp:\/\/h" is not an http URL/]] as const) {
      let error: unknown;
      try {
        await check(sink, value);
      } catch (caught) {
        error = caught;
      }
      assert.instance(error, InvalidOptionsError);
      assert.match((error as InvalidOptionsError).message, expected);
    }
    assert.is(sink.stats.connections, 0, 'no SMTP probe was made');
  } finally {
    await sink.close();
  }
});

sinkCheck.run();
