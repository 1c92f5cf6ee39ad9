/**
 * `runner run` end to end against the fake proxy: every count checked against what the
 * fixture itself saw, latency checked against delays the fixture was told to add.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { runAgainst, withFakeProxy, createTempDir, createTextSink } from '../helpers.ts';
import { runCommand } from '../../runner/run.ts';
import { ExitCode, TargetUnreachableError } from '../../runner/errors.ts';

const Ajv = AjvModule.default ?? AjvModule;

const counts = suite('run: counts match the fixture');

counts('200 messages at 20 concurrent: all accepted, and the fixture received exactly those', async () => {
  await withFakeProxy({}, async (proxy) => {
    // No preflight connect, so the fixture's connection count is the load's alone.
    const { summary, exitCode, output } = await runAgainst(proxy, { numEmails: 200, concurrent: 20, check: false });
    assert.is(exitCode, ExitCode.ok);
    assert.is(summary.results.total_requests, 200);
    assert.is(summary.results.successful, 200);
    assert.is(summary.results.failed, 0);
    assert.is(proxy.stats.messagesAccepted, 200);
    assert.is(summary.results.connections, proxy.stats.connections);
    assert.is(summary.results.success_rate, 1);
    assert.match(output, /LOAD TEST RESULTS/);
    assert.match(output, /Successful: 200/);
    assert.match(output, /Per minute: \d+ requests\/minute/);
  });
});

counts('10% injected 451 at end-of-data: failures equal the fixture\'s rejections, under phase message, code 451', async () => {
  await withFakeProxy({ failures: [{ phase: 'message', probability: 0.1, kind: 'reply', code: 451, enhanced: '4.3.0', text: 'Try again later' }] }, async (proxy) => {
    const { summary } = await runAgainst(proxy, { numEmails: 300, concurrent: 10 });
    const rejected = proxy.stats.rejections['message:451'] ?? 0;
    assert.ok(rejected > 10 && rejected < 60, `rejections ${rejected} not near 10% of 300`);
    assert.is(summary.results.failed, rejected);
    assert.is(summary.results.successful, proxy.stats.messagesAccepted);
    assert.is(summary.results.successful + summary.results.failed, 300);
    assert.equal(summary.results.errors.map((e) => [e.phase, e.code, e.count]), [['message', 451, rejected]]);
  });
});

counts('an unknown account: every message fails at auth with 535', async () => {
  await withFakeProxy({}, async (proxy) => {
    // --no-check: the preflight would stop this run before the load (see 'run: preflight')
    const { summary, output } = await runAgainst(proxy, { numEmails: 30, concurrent: 5, check: false, overrides: { from: 'nobody@nowhere.test' } });
    assert.is(summary.results.failed, 30);
    assert.is(summary.results.successful, 0);
    assert.is(proxy.stats.authFailed, 30);
    assert.is(proxy.stats.messagesAccepted, 0);
    assert.equal(summary.results.errors.map((e) => [e.phase, e.code, e.count]), [['auth', 535, 30]]);
    assert.match(output, /Success rate: 0\.0%/);
  });
});

counts('messages per connection: 60 messages, 5 per connection on one VU → 12 connections, RSET between', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary } = await runAgainst(proxy, { numEmails: 60, concurrent: 1, check: false, overrides: { messagesPerConnection: 5 } });
    assert.is(summary.results.successful, 60);
    assert.is(proxy.stats.messagesAccepted, 60);
    assert.is(proxy.stats.connections, 12);
    assert.is(summary.results.connections, 12);
    assert.is(summary.results.phases['rset']?.count, 48);
  });
});

counts('messages per connection with 3 VUs sharing 60 messages: each VU leaves at most one short connection', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary } = await runAgainst(proxy, { numEmails: 60, concurrent: 3, check: false, overrides: { messagesPerConnection: 5 } });
    assert.is(proxy.stats.messagesAccepted, 60);
    assert.is(summary.results.connections, proxy.stats.connections);
    assert.ok(proxy.stats.connections >= 12 && proxy.stats.connections <= 14, `connections ${proxy.stats.connections}`);
  });
});

counts.run();

const latency = suite('run: latency against known delays');

latency('a fixed 50 ms delay before the end-of-data reply: message p50 in [50, 60] ms, transaction p50 no lower', async () => {
  await withFakeProxy({ delays: { message: 50 } }, async (proxy) => {
    const { summary } = await runAgainst(proxy, { numEmails: 100, concurrent: 10 });
    const message = summary.results.phases['message']!;
    assert.ok(message.p50_seconds! >= 0.05 && message.p50_seconds! <= 0.06, `message p50 ${message.p50_seconds}`);
    // Node timers fire on a millisecond loop clock, so the fixture's 50 ms can end a fraction early.
    assert.ok(message.min_seconds! >= 0.049, `message min ${message.min_seconds} below the fixture's delay`);
    assert.ok(summary.results.latency.p50_seconds! >= message.p50_seconds!);
    // Ten VUs each waiting ~50 ms per message: throughput cannot exceed 10 / 0.05 = 200 msgs/s.
    assert.ok(summary.results.throughput_rps <= 200, `throughput ${summary.results.throughput_rps}`);
  });
});

latency.run();

const files = suite('run: results file');

files('the results file has the guide\'s fields and validates against schemas/results.schema.json', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const out = join(temp.dir, 'results.json');
      const { resultsFile } = await runAgainst(proxy, { numEmails: 20, concurrent: 4, out: [out] });
      assert.is(resultsFile, out);
      const results: any = JSON.parse(readFileSync(out, 'utf8'));
      const schema = JSON.parse(readFileSync(new URL('../../schemas/results.schema.json', import.meta.url), 'utf8'));
      const ajv = new Ajv({ allErrors: true, strict: false });
      const validate = ajv.compile(schema);
      const isValid: boolean = validate(results);
      assert.ok(isValid, JSON.stringify(validate.errors));
      assert.equal(results.config.num_emails, 20);
      assert.equal(results.config.concurrent, 4);
      assert.is(results.target, `127.0.0.1:${proxy.port}`);
      for (const field of ['total_requests', 'successful', 'failed', 'success_rate', 'throughput_rps', 'throughput_rpm']) {
        assert.ok(field in results.results, `results.${field} missing`);
      }
      for (const field of ['min_seconds', 'max_seconds', 'avg_seconds', 'p50_seconds', 'p95_seconds', 'p99_seconds']) {
        assert.type(results.results.latency[field], 'number');
      }
    });
  } finally {
    temp.remove();
  }
});

files('a results file in a missing folder is refused before any message is sent', async () => {
  await withFakeProxy({}, async (proxy) => {
    try {
      await runAgainst(proxy, { numEmails: 5, out: ['/nonexistent-folder/x/results.json'] });
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.is((error as { exitCode?: number }).exitCode, ExitCode.outputError);
    }
    assert.is(proxy.stats.connections, 0);
  });
});

files.run();

const preflight = suite('run: preflight');

preflight('an unknown account: the run stops before the load with exit 110 and the 535 hint; no message sent', async () => {
  await withFakeProxy({}, async (proxy) => {
    try {
      await runAgainst(proxy, { numEmails: 5000, concurrent: 50, overrides: { from: 'nobody@nowhere.test' } });
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.instance(error, TargetUnreachableError);
      assert.is((error as TargetUnreachableError).exitCode, ExitCode.targetUnreachable);
      assert.is(
        (error as Error).message,
        '535 at AUTH for nobody@nowhere.test: the account is not configured; /admin/accounts lists: test@example.com, sales@company.com, support@company.com',
      );
      assert.match((error as TargetUnreachableError).hint!, 'add nobody@nowhere.test to accounts.json');
      assert.match((error as TargetUnreachableError).hint!, '--no-check');
    }
    assert.is(proxy.stats.messagesAccepted, 0);
    assert.is(proxy.stats.authFailed, 1);
    assert.is(proxy.stats.connections, 1);
  });
});

preflight('a configured account: the preflight costs one connection and one AUTH, then the load runs', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode } = await runAgainst(proxy, { numEmails: 20, concurrent: 4 });
    assert.is(exitCode, ExitCode.ok);
    assert.is(proxy.stats.messagesAccepted, 20);
    assert.is(proxy.stats.connections, summary.results.connections + 1);
    assert.is(proxy.stats.authOk, summary.results.connections + 1);
  });
});

preflight.run();

const unreachable = suite('run: unreachable target');

unreachable('connection refused: one clear line, exit code for an unreachable target', async () => {
  const stdout = createTextSink();
  try {
    // Port 1 on loopback: nothing listens there (tcpmux is never enabled on these machines).
    await runCommand({ overrides: { host: '127.0.0.1', port: 1 }, numEmails: 5, out: false, stdout, stderr: stdout });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, TargetUnreachableError);
    assert.match((error as Error).message, 'Connection refused to 127.0.0.1:1 — is the proxy running?');
    assert.is((error as TargetUnreachableError).exitCode, ExitCode.targetUnreachable);
  }
});

unreachable.run();
