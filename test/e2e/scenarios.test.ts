/**
 * Scenario files end to end against the fake proxy: rates, ramps, thresholds and their exit
 * codes, custom iterations and metrics, accounts, and every shipped scenario time-compressed.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode, InvalidOptionsError } from '../../runner/errors.ts';

const data = (name: string) => fileURLToPath(new URL(`./data/${name}`, import.meta.url));
const shipped = (name: string) => fileURLToPath(new URL(`../../scenarios/${name}`, import.meta.url));

const rates = suite('scenarios: arrival rates and ramps');

rates('constant-arrival-rate 6000/min for 5 s starts 500 ± 1% iterations and the fixture receives them', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode } = await runAgainst(proxy, { scenarioFile: data('arrival-6000.yaml'), check: false });
    assert.is(exitCode, ExitCode.ok);
    const started = summary.results.iterations + summary.results.dropped_iterations;
    assert.ok(started >= 495 && started <= 505, `started ${started}`);
    assert.is(summary.results.dropped_iterations, 0);
    assert.is(proxy.stats.messagesAccepted, summary.results.successful);
    assert.is(summary.results.successful, summary.results.iterations);
    // The per-second timeline carries the rate too: full windows near 100 starts each.
    const full = summary.timeline.filter((p) => p.window_ms >= 990 && p.window_ms <= 1010);
    assert.ok(full.length >= 3, `only ${full.length} full windows`);
    for (const point of full) assert.ok(point.started >= 90 && point.started <= 110, `window started ${point.started}`);
  });
});

rates('ramping-vus follows its stages: up to 5 VUs, never more, and back to 0', async () => {
  await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
    const { summary, exitCode } = await runAgainst(proxy, { scenarioFile: data('ramping-vus.yaml'), check: false });
    assert.is(exitCode, ExitCode.ok);
    assert.is(summary.results.vus_max, 5);
    const peak = Math.max(...summary.timeline.map((p) => p.vus));
    assert.is(peak, 5);
    // In the hold stage (1 s..2 s) all five VUs run.
    const hold = summary.timeline.find((p) => p.t_seconds > 1.4 && p.t_seconds < 2.1);
    assert.ok(hold && hold.vus === 5, `vus in hold: ${hold?.vus}`);
    assert.is(summary.timeline.at(-1)!.vus, 0);
    assert.is(proxy.stats.messagesAccepted, summary.results.successful);
  });
});

rates.run();

const thresholds = suite('scenarios: thresholds and exit codes');

thresholds('a 300 ms server delay fails p(95)<0.1s: exit 99, the threshold shown with its value', async () => {
  await withFakeProxy({ delays: { message: 300 } }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile: data('slow-threshold.yaml') });
    assert.is(exitCode, ExitCode.thresholdsFailed);
    assert.is(summary.thresholds.length, 1);
    assert.is(summary.thresholds[0]!.ok, false);
    assert.ok(summary.thresholds[0]!.actual! >= 300, `actual ${summary.thresholds[0]!.actual}`);
    assert.match(output, /✗ smtp_txn_duration {2}p\(95\)<0\.1s {2}actual 3\d\d\.\d\dms/);
  });
});

thresholds('a threshold on an unknown metric is an error before anything is sent', async () => {
  await withFakeProxy({}, async (proxy) => {
    try {
      await runAgainst(proxy, { scenarioFile: data('unknown-metric.yaml') });
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.instance(error, InvalidOptionsError);
      assert.is((error as InvalidOptionsError).exitCode, ExitCode.invalidOptions);
      assert.match((error as Error).message, 'smtp_txn_durration');
      assert.match((error as Error).message, 'smtp_txn_duration');
    }
    assert.is(proxy.stats.connections, 0);
  });
});

thresholds('abortOnFail stops a 30 s run within seconds: exit 108, marked aborted', async () => {
  await withFakeProxy({}, async (proxy) => {
    const started = performance.now();
    // --no-check: the preflight would stop an unknown sender before the load
    const { summary, exitCode } = await runAgainst(proxy, { scenarioFile: data('abort.yaml'), check: false, overrides: { from: 'unknown@nowhere.test' } });
    const elapsedMs = performance.now() - started;
    assert.is(exitCode, ExitCode.abortedByThreshold);
    assert.is(summary.status, 'aborted');
    assert.match(summary.abort_reason ?? '', 'smtp_txn_failed');
    assert.ok(elapsedMs < 15_000, `took ${elapsedMs} ms`);
    assert.is(summary.results.failed, proxy.stats.authFailed);
  });
});

thresholds.run();

const code = suite('scenarios: custom iterations, metrics and accounts');

code('a custom iteration drives the SMTP steps; custom metrics are counted and judged', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode } = await runAgainst(proxy, { scenarioFile: data('custom-iteration.ts'), check: false });
    assert.is(exitCode, ExitCode.ok, JSON.stringify(summary.thresholds));
    assert.is(proxy.stats.messagesAccepted, 20);
    assert.is(proxy.stats.recipientsAccepted, 40);
    assert.is(proxy.stats.connections, 10);
    assert.is(summary.results.successful, 20);
    assert.is(summary.results.iterations, 10);
    assert.is(summary.custom_metrics['messages_by_hand']!.count, 20);
    assert.is(summary.custom_metrics['mail_to_accept_ms']!.count, 20);
    assert.ok(summary.thresholds.every((t) => t.ok));
  });
});

code('senders from an accounts file, round robin: the summary breaks down per account like the fixture', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary } = await runAgainst(proxy, { scenarioFile: data('accounts.yaml'), check: false });
    const accounts = Object.keys(summary.accounts).sort();
    assert.equal(accounts, ['sales@company.com', 'support@company.com', 'test@example.com']);
    for (const account of accounts) {
      assert.is(summary.accounts[account]!.successful, 10);
      assert.is(proxy.stats.perAccount[account]!.messagesAccepted, 10);
    }
  });
});

code('--batches reproduces the old tool\'s per-batch lines', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, output } = await runAgainst(proxy, { numEmails: 25, concurrent: 10, batches: true });
    assert.is(summary.results.successful, 25);
    assert.match(output, /\[Batch 1\/3\] Sent: 10\/25 \| Success: 10 \| Failed: 0 \| Batch time: \d+\.\d\ds \| Throughput: [\d.]+ req\/s/);
    assert.match(output, /\[Batch 3\/3\] Sent: 25\/25 \| Success: 25/);
    assert.match(output, /Will send in 3 batches of 10/);
  });
});

code.run();

const compressed = suite('scenarios: every shipped scenario, time-compressed');

const SHIPPED: Array<[file: string, scale: number]> = [
  ['baseline.ts', 0.2],
  ['baseline.yaml', 0.2],
  ['moderate.ts', 0.1],
  ['stress.ts', 0.05],
  ['soak.ts', 0.0005],
  ['production.ts', 0.004],
  ['peak-load.ts', 0.006],
  ['custom-ramp.ts', 0.003],
];

for (const [file, scale] of SHIPPED) {
  compressed(`${file} at --scale ${scale}: runs, passes its thresholds (latency ones allowing for a loaded machine), counts match the fixture`, async () => {
    await withFakeProxy({}, async (proxy) => {
      const { summary, exitCode } = await runAgainst(proxy, { scenarioFile: shipped(file), overrides: { scale }, check: false });
      // Latency bounds judge this machine as much as the scenario: the runs and the fixture share
      // one event loop, and a loaded machine was seen to take soak's p95 (50 VUs starting cold
      // within 1.8 s) to 676 ms against its 0.5 s. They must be evaluated; every other threshold
      // (failures, rates, drops) must pass, and the exit code must follow the verdicts.
      const failing = summary.thresholds.filter((threshold) => !threshold.ok);
      const isLatency = (threshold: (typeof failing)[number]) => threshold.is_time && threshold.actual !== null;
      assert.equal(failing.filter((threshold) => !isLatency(threshold)), [], JSON.stringify(summary.thresholds));
      assert.is(exitCode, failing.length === 0 ? ExitCode.ok : ExitCode.thresholdsFailed, JSON.stringify(summary.thresholds));
      assert.ok(summary.results.successful > 0);
      assert.is(summary.results.failed, 0);
      assert.is(proxy.stats.messagesAccepted, summary.results.successful);
      assert.ok(summary.thresholds.length >= 2);
    });
  });
}

compressed.run();
