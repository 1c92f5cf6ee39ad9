/**
 * `--out prometheus-rw=URL`: the encodings by hand (protobuf WriteRequest, snappy literals),
 * checked byte by byte; then a real Prometheus (Debian's `prometheus`, started with
 * --web.enable-remote-write-receiver) receives a run of the CLI, and its HTTP API must give
 * back the run's own counts: messages per scenario and per account, failures by code, a custom
 * counter and trend per tag.
 *
 * The prometheus binary is not installed here by the tests: .ci/run installs it. When missing
 * the real-Prometheus test is skipped, saying why, except under CI (CI=true), where it fails.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createRemoteWriteOutput, encodeWriteRequest, parseRemoteWriteUrl, snappyEncodeLiterals } from '../../runner/outputs/remote-write.ts';
import { MetricsRegistry } from '../../runner/metrics/registry.ts';
import type { OutputContext } from '../../runner/outputs/output.ts';
import type { TestResult } from '../../runner/engine/engine.ts';
import { formatOutputFailure } from '../../runner/outputs/index.ts';
import { clearSecrets, redact } from '../../runner/redact.ts';
import { OutputError } from '../../runner/errors.ts';
import { createTextSink } from '../helpers.ts';
import { parseOutSpec } from '../../runner/outputs/index.ts';
import { ExitCode, UsageError } from '../../runner/errors.ts';
import { createTempDir } from '../helpers.ts';
import { ROOT, runCli } from '../cli-process.ts';
import { IS_CI, findProgram, missingProgram, missingUnderCi } from '../tools.ts';
import type { Summary } from '../../runner/results/types.ts';

const encoding = suite('prometheus remote write: encodings');

encoding('a WriteRequest: one series, labels sorted by name, a double and a varint timestamp', () => {
  const bytes = encodeWriteRequest([{ labels: { b: '2', __name__: 'x' }, value: 1.5, timestampMs: 300 }]);
  const label = (name: string, value: string) => [0x0a, 2 + name.length + 2 + value.length, 0x0a, name.length, ...Buffer.from(name), 0x12, value.length, ...Buffer.from(value)];
  const double = [...Buffer.from(new Float64Array([1.5]).buffer)];
  const sample = [0x09, ...double, 0x10, 0xac, 0x02];
  const series = [...label('__name__', 'x'), ...label('b', '2'), 0x12, sample.length, ...sample];
  assert.equal([...bytes], [0x0a, series.length, ...series]);
});

encoding('zero values and timestamps are left out (proto3 defaults)', () => {
  const bytes = encodeWriteRequest([{ labels: { __name__: 'z' }, value: 0, timestampMs: 0 }]);
  assert.equal([...bytes], [0x0a, 17, 0x0a, 13, 0x0a, 8, ...Buffer.from('__name__'), 0x12, 1, 0x7a, 0x12, 0]);
});

encoding('snappy literals: the length as a varint, then tagged literal runs (short, 1-byte and 2-byte lengths, 64 KiB chunks)', () => {
  assert.equal([...snappyEncodeLiterals(Uint8Array.from([1, 2, 3]))], [3, 2 << 2, 1, 2, 3]);
  const hundred = new Uint8Array(100).fill(7);
  assert.equal([...snappyEncodeLiterals(hundred).subarray(0, 3)], [100, 60 << 2, 99]);
  const big = new Uint8Array(70_000).fill(1);
  const encoded = snappyEncodeLiterals(big);
  // varint(70000) = f0 a2 04; a 65536-byte literal (61: 2-byte length 0xffff); then 4464 bytes.
  assert.equal([...encoded.subarray(0, 6)], [0xf0, 0xa2, 0x04, 61 << 2, 0xff, 0xff]);
  assert.equal([...encoded.subarray(6 + 65536, 6 + 65536 + 3)], [61 << 2, (4464 - 1) & 0xff, (4464 - 1) >> 8]);
  assert.is(encoded.length, 3 + 3 + 65536 + 3 + 4464);
});

encoding('--out prometheus-rw=URL keeps the URL; a bad one is a usage error that shows a good one', () => {
  assert.equal(parseOutSpec('prometheus-rw=http://127.0.0.1:9090/api/v1/write', '/tmp'), { kind: 'prometheus-rw', target: 'http://127.0.0.1:9090/api/v1/write' });
  for (const bad of ['localhost:9090', 'ftp://x/api/v1/write']) {
    try {
      parseRemoteWriteUrl(bad);
      assert.unreachable(bad);
    } catch (error) {
      assert.instance(error, UsageError);
      assert.match((error as UsageError).hint ?? '', 'http://127.0.0.1:9090/api/v1/write');
    }
  }
});

encoding.run();

const receivers = suite('prometheus remote write: a receiver that fails, hangs or wants a password');

/** A named fake receiver on port 0: answers each push with `answer` (or never, when it returns undefined). */
async function startReceiver(answer: (headers: IncomingHttpHeaders) => { status: number; body: string } | undefined): Promise<{ url: string; pushes: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const pushes: IncomingHttpHeaders[] = [];
  const server = createHttpServer((request, response) => {
    request.resume();
    pushes.push(request.headers);
    const reply = answer(request.headers);
    if (reply) response.writeHead(reply.status).end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    pushes,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Prepares the output, then runs its final push as run.ts does at the end; the error it throws, if any. */
async function finalPush(target: string, pushTimeoutMs?: number): Promise<{ error: unknown; stderr: string }> {
  const output = createRemoteWriteOutput(target, pushTimeoutMs === undefined ? {} : { pushTimeoutMs });
  const stderr = createTextSink();
  const context = { options: { scenarios: [] } as unknown as OutputContext['options'], cwd: ROOT, stdout: createTextSink(), stderr };
  await output.prepare!(context);
  const result: TestResult = { registry: new MetricsRegistry(0), startedAt: new Date(), durationMs: 1000, stopReason: undefined, scenarios: [], setupData: undefined };
  const error = await output.finish!({} as Summary, { ...context, result }).then(() => undefined, (caught: unknown) => caught);
  await output.close!({ linger: false });
  return { error, stderr: stderr.text() };
}

receivers('a 500 with a page of text: one line, cut with an ellipsis, control characters escaped, the prefix said once', async () => {
  const receiver = await startReceiver(() => ({ status: 500, body: `boom\n${'x'.repeat(50)}\n\u001b[31mred\u001b[0m\n${'y'.repeat(300)}` }));
  try {
    const { error } = await finalPush(receiver.url);
    assert.instance(error, OutputError);
    assert.is((error as OutputError).exitCode, ExitCode.outputError);
    const text = formatOutputFailure({ output: { description: 'Prometheus remote write' }, error: error as Error });
    const [first, second, third] = text.split('\n');
    assert.match(first!, new RegExp(`^error: Prometheus remote write: the final push to ${receiver.url.replace(/[./]/g, '\\$&')} failed: HTTP 500: boom x{50} .*red.* y+…$`));
    assert.not.match(first!, /Prometheus remote write: Prometheus remote write/);
    assert.not.match(first!, /\u001b/, 'no raw escape from the receiver');
    assert.ok(first!.length < 400, `one bounded line (${first!.length} chars)`);
    assert.match(second!, /^hint: check the URL/);
    assert.is(third, '');
    assert.is(receiver.pushes.length, 1);
  } finally {
    await receiver.close();
  }
});

receivers('a receiver that never answers: the push gives up after its timeout and says so', async () => {
  const receiver = await startReceiver(() => undefined);
  try {
    const { error } = await finalPush(receiver.url, 100);
    assert.instance(error, OutputError);
    assert.match((error as Error).message, /failed: no answer within 0\.1 s$/);
  } finally {
    await receiver.close();
  }
});

receivers('nothing listening: the reason, not just "fetch failed"', async () => {
  const receiver = await startReceiver(() => ({ status: 204, body: '' }));
  const { url } = receiver;
  await receiver.close();
  const { error } = await finalPush(url);
  assert.match((error as Error).message, /failed: ECONNREFUSED/);
});

receivers('user:password@ in the URL: sent as HTTP Basic, never in a message', async () => {
  const receiver = await startReceiver(() => ({ status: 401, body: 'unauthorized' }));
  try {
    const target = receiver.url.replace('http://', 'http://rw-user:s3cr%40t-pw@');
    const { error, stderr } = await finalPush(target);
    assert.is(receiver.pushes[0]!['authorization'], `Basic ${Buffer.from('rw-user:s3cr@t-pw').toString('base64')}`);
    const message = (error as Error).message;
    assert.match(message, /HTTP 401: unauthorized/);
    for (const text of [message, stderr]) {
      assert.not.match(text, /s3cr/);
      assert.not.match(text, /rw-user/);
    }
    assert.not.match(redact('the password s3cr@t-pw'), /s3cr@t-pw/, 'the password is redacted from every output');
  } finally {
    clearSecrets();
    await receiver.close();
  }
});

receivers.run();

const real = suite('prometheus remote write: a real Prometheus receives a run');

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until `check` returns a value (polling every 200 ms), or fails after `limitMs`. */
async function waitFor<T>(what: string, limitMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + limitMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

real('the series Prometheus received equal the run summary: per scenario, per account, failures by code, custom metrics by tag', async () => {
  const path = findProgram('prometheus');
  if (!path) {
    const missing = missingProgram('prometheus', 'prometheus')!;
    if (IS_CI) assert.unreachable(missingUnderCi(missing));
    console.log(`\n  SKIPPED (real Prometheus): ${missing}`);
    return;
  }
  const temp = createTempDir();
  let prometheus: ChildProcess | undefined;
  try {
    const prometheusPort = await freePort();
    writeFileSync(join(temp.dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
    let prometheusLog = '';
    prometheus = spawn(path, [
      `--config.file=${join(temp.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(temp.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    prometheus.stderr!.on('data', (chunk) => (prometheusLog += chunk));
    const api = `http://127.0.0.1:${prometheusPort}`;
    await waitFor('Prometheus to be ready', 20_000, async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined)).catch((error) => {
      throw new Error(`${error.message}\nprometheus said:\n${prometheusLog}`);
    });

    // 20 iterations of the tagged-metrics scenario (custom Counter and Trends with a `kind` tag); 10% 451s at the final dot.
    const run = await runCli([
      'run', join(ROOT, 'test/e2e/data/tagged-metrics.ts'), '--with-fixture', '--fixture-failure', 'message=451:0.1',
      '--out', `prometheus-rw=${api}/api/v1/write`, '--summary-json', 'summary.json', '--no-out', '--quiet',
    ], { cwd: temp.dir, limitMs: 60_000 });
    assert.match(run.stderr, `metrics: Prometheus remote write to ${api}/api/v1/write every 5 s`);
    assert.ok(run.code === ExitCode.ok || run.code === ExitCode.thresholdsFailed, `exit ${run.code}: ${run.stderr}`);
    const summary = JSON.parse(readFileSync(join(temp.dir, 'summary.json'), 'utf8')) as Summary;
    const r = summary.results;
    assert.is(r.total_requests, 20);

    const query = async (promql: string): Promise<number | undefined> => {
      const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; error?: string; data: { result: Array<{ value: [number, string] }> } };
      assert.is(body.status, 'success', `${promql}: ${body.error}`);
      const first = body.data.result[0];
      return first ? Number(first.value[1]) : undefined;
    };
    await waitFor('the final push in Prometheus', 10_000, async () => ((await query('max_over_time(runner_run_finished[5m])')) === 1 ? true : undefined)).catch((error) => {
      throw new Error(`${error.message}\nprometheus said:\n${prometheusLog}`);
    });
    const last = async (selector: string) => (await query(`sum(last_over_time(${selector}[5m]))`)) ?? 0;
    assert.is(await last('runner_smtp_txns_total{scenario="tagged"}'), r.total_requests);
    assert.is(await last('runner_smtp_messages_accepted_total{scenario="tagged"}'), r.successful);
    assert.is(await last('runner_smtp_messages_failed_total{scenario="tagged",phase="message",code="451"}'), r.failed);
    assert.is(await last('runner_smtp_txn_duration_seconds_count{scenario="tagged"}'), r.successful);
    for (const [account, figures] of Object.entries(summary.accounts)) {
      assert.is(await last(`runner_account_smtp_txns_total{account="${account}"}`), figures.total_requests, `${account} txns`);
      assert.is(await last(`runner_account_smtp_messages_accepted_total{account="${account}"}`), figures.successful, `${account} accepted`);
    }
    // Custom metrics, by tag: the counter's sum and the trend's count per kind are the summary's.
    const bySet = (name: string, kind: string) => summary.custom_metrics[name]!.tag_sets!.find((set) => set.tags['kind'] === kind)!;
    for (const kind of ['big', 'small']) {
      assert.is(await last(`runner_custom_sent_by_kind_total{kind="${kind}"}`), bySet('sent_by_kind', kind).count, `sent_by_kind ${kind}`);
      assert.is(await last(`runner_custom_send_ms{kind="${kind}",stat="count"}`), bySet('send_ms', kind).count, `send_ms count ${kind}`);
      assert.is(await last(`runner_custom_message_bytes{kind="${kind}",stat="max"}`), bySet('message_bytes', kind).max, `message_bytes max ${kind}`);
    }
  } finally {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      const killer = setTimeout(() => prometheus!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    temp.remove();
  }
});

real.run();
