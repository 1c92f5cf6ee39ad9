/**
 * `runner sweep` end to end against the fake proxy, with a capacity whose knee is known: the
 * proxy works on at most K = 5 messages at once, each for d = 100 ms, and queues the rest. So
 * throughput is C/(d + ε) below K concurrent and caps at K/d = 50 msgs/s above, where extra
 * VUs only wait in line (Little's law: latency = C / (K/d), 200 ms at 10, 400 ms at 20).
 * Steps 2, 4, 10, 20: 4 is below the cap; 10 keeps the line full (5 VUs waiting while 5 are
 * served, even when a loaded machine slows the VUs' round trips), so it grows about +25% and is
 * the knee; 20 gains nothing and doubles the latency. d is long so that the client's own
 * overhead (ε, a few ms, more on a busy machine) is small beside it.
 *
 * The p95 factor is 3 here, not the default 2: at the first saturated step every message waits
 * a whole service time in line, so its p95 is twice the unloaded one, right at the default
 * bound (the knee would be 4 or 10 by noise). The rule itself is table-tested in
 * test/analysis/knee.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, createTextSink, withFakeProxy } from '../helpers.ts';
import { runCli } from '../cli-process.ts';
import { runSweep, type SweepOptions, type SweepReport } from '../../runner/sweep.ts';
import { loadList } from '../../runner/commands/flags.ts';
import type { FakeProxy } from '../../fixtures/fake-proxy.ts';
import { ExitCode, UsageError } from '../../runner/errors.ts';

const SLOTS = 5;
const MESSAGE_DELAY_MS = 100;
const CAPACITY_PER_SECOND = (SLOTS * 1000) / MESSAGE_DELAY_MS;

/** runSweep against `proxy`, output collected, no preflight or process watching. */
async function sweepAgainst(proxy: FakeProxy, options: Partial<SweepOptions> & Pick<SweepOptions, 'mode' | 'loads'>) {
  const stdout = createTextSink();
  const stderr = createTextSink();
  const outcome = await runSweep({
    pauseMs: 200,
    check: false,
    watchPid: false,
    ...options,
    overrides: { host: '127.0.0.1', port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}`, ...options.overrides },
    stdout,
    stderr,
  });
  return { ...outcome, output: stdout.text() + stderr.text() };
}

const capacity = suite('sweep: finds the knee of a known capacity');

capacity('5 slots × 100 ms: concurrent 2,4,10,20 → knee at 10, throughput capped near 50 msgs/s, latency grows past it', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({ delays: { message: MESSAGE_DELAY_MS }, maxConcurrentMessages: SLOTS }, async (proxy) => {
      const out = join(temp.dir, 'sweep.json');
      const { exitCode, report, output } = await sweepAgainst(proxy, {
        mode: 'concurrent',
        loads: [2, 4, 10, 20],
        stepDurationMs: 2000,
        rule: { p95Factor: 3 },
        out,
        outDir: temp.dir,
        check: true,
      });
      assert.is(exitCode, ExitCode.ok);
      assert.is(report.status, 'completed');
      const curve = report.steps.map((step) => `${step.load}: ${step.msgs_per_second}/s p95 ${step.p95_ms} ms`).join('; ');
      assert.equal(report.steps.map((step) => step.load), [2, 4, 10, 20]);
      assert.is(report.knee?.load, 10, `knee at ${report.knee?.load}: ${curve}`);
      assert.is(report.knee?.is_within_sweep, true);

      // Ground truth: the fixture accepted every message the steps counted, and no step beat the capacity
      assert.is(report.steps.reduce((sum, step) => sum + step.summary.results.successful, 0), proxy.stats.messagesAccepted);
      for (const step of report.steps) {
        assert.is(step.success_rate, 1, `step ${step.load} had failures`);
        assert.ok(step.msgs_per_second <= CAPACITY_PER_SECOND * 1.05, `step ${step.load}: ${step.msgs_per_second}/s beats the capacity ${CAPACITY_PER_SECOND}/s`);
      }
      const [two, four, ten, twenty] = report.steps as [SweepReport['steps'][number], SweepReport['steps'][number], SweepReport['steps'][number], SweepReport['steps'][number]];
      // Twice the VUs, ideally twice the msgs/s; the client's own cost per message, which a loaded
      // machine inflates (seen: ×1.49 at load average 7), takes some of it: growth is what the knee rule needs
      assert.ok(four.msgs_per_second > two.msgs_per_second * 1.3, `below the cap throughput grows with the VUs: ${curve}`);
      assert.ok(ten.msgs_per_second >= CAPACITY_PER_SECOND * 0.8 && twenty.msgs_per_second >= CAPACITY_PER_SECOND * 0.8, `saturated steps near ${CAPACITY_PER_SECOND}/s: ${curve}`);
      assert.ok(twenty.p95_ms! > ten.p95_ms! * 1.4, `past the knee latency grows with the line: ${curve}`);
      const stepScenario = (four.summary.config['scenarios'] as Record<string, Record<string, unknown>>)['sweep']!;
      assert.equal([stepScenario['executor'], stepScenario['vus'], stepScenario['duration_ms']], ['constant-vus', 4, 2000]);

      // Console: one line per step, the table with the knee marked, where the file went
      assert.match(output, /step 3\/4: 10 concurrent … [\d.]+ msgs\/s, p95 [\d.]+ ms, success 100\.0%/);
      assert.match(output, /SWEEP RESULTS/);
      assert.match(output, /^\s+10\s.*◀ knee$/m);
      assert.match(output, /Knee: 10 concurrent — [\d.]+ msgs\/s, p95 [\d.]+ ms; above it throughput grew by 5% or less/);

      // The sweep file: the same curve, the rule, and each step's summary; each step's results file
      const written = JSON.parse(readFileSync(out, 'utf8')) as SweepReport;
      assert.is(written.kind, 'runner-sweep');
      assert.is(written.status, 'completed');
      assert.equal(written.rule, { min_gain: 0.05, p95_factor: 3, max_p95_ms: null });
      assert.equal(written.knee, report.knee);
      assert.equal(written.steps.map((step) => step.msgs_per_second), report.steps.map((step) => step.msgs_per_second));
      assert.is(written.steps[2]!.summary.results.total_requests, ten.total_requests);
      for (const [index, step] of written.steps.entries()) {
        assert.is(step.results_file, join(temp.dir, `step-${index + 1}-concurrent-${step.load}.json`));
        assert.ok(existsSync(step.results_file!), `missing ${step.results_file}`);
        assert.is(JSON.parse(readFileSync(step.results_file!, 'utf8')).results.total_requests, step.total_requests);
      }
    });
  } finally {
    temp.remove();
  }
});

const modes = suite('sweep: the other step kinds');

modes('--rate 600,1200 --time-unit 1m: constant-arrival-rate steps at 10/s and 20/s', async () => {
  // A server delay well above the client's own few ms keeps the p95 of the two steps comparable
  await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
    // The rule's latency limit is set out of reach: this test is about rate steps, and a p95 of 10
    // or 20 samples at 20 ms doubles with two slow samples on a loaded machine (seen: 34 → 182 ms)
    const { report } = await sweepAgainst(proxy, { mode: 'rate', loads: [600, 1200], timeUnitMs: 60_000, stepDurationMs: 1000, rule: { maxP95Ms: 5000 } });
    assert.is(report.time_unit_ms, 60_000);
    assert.equal(report.steps.map((step) => step.total_requests), [10, 20]);
    assert.equal(report.steps.map((step) => step.dropped_iterations), [0, 0]);
    const config = report.steps[1]!.summary.config['scenarios'] as Record<string, Record<string, unknown>>;
    assert.is(config['sweep']!['executor'], 'constant-arrival-rate');
    assert.is(config['sweep']!['rate'], 1200);
    assert.is(config['sweep']!['time_unit_ms'], 60_000);
    assert.is(config['sweep']!['max_vus'], 50);
    assert.is(proxy.stats.messagesAccepted, 30);
    // Throughput still doubles at the highest step: the knee is the last step, maybe not the end
    assert.is(report.knee?.load, 1200);
    assert.is(report.knee?.is_within_sweep, false);
    assert.match(report.knee_reason, /the knee may lie beyond this sweep/);
  });
});

modes('--concurrent with --num-emails: the guide\'s flags-only run per step', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { report } = await sweepAgainst(proxy, { mode: 'concurrent', loads: [1, 3], numEmails: 12 });
    assert.is(report.num_emails, 12);
    assert.is(report.step_duration_ms, null);
    assert.equal(report.steps.map((step) => [step.summary.config['num_emails'], step.summary.config['concurrent'], step.total_requests]), [[12, 1, 12], [12, 3, 12]]);
    assert.is(proxy.stats.messagesAccepted, 24);
  });
});

const stopping = suite('sweep: interrupted');

stopping('an abort during step 1 of 3 finishes that step, prints the curve so far, writes it, exits 105', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 200);
      const out = join(temp.dir, 'sweep.json');
      const startedMs = performance.now();
      const { exitCode, report, output } = await sweepAgainst(proxy, {
        mode: 'concurrent', loads: [1, 2, 4], stepDurationMs: 600, pauseMs: 5000, out, signal: controller.signal,
      });
      clearTimeout(timer);
      assert.is(exitCode, ExitCode.interrupted);
      assert.is(report.status, 'interrupted');
      assert.is(report.steps.length, 1);
      assert.ok(report.steps[0]!.total_requests > 0, 'the current step was not finished');
      assert.ok(performance.now() - startedMs < 4000, 'waited for the pause or the next step');
      assert.match(output, /Stopped: interrupted after 1 of 3 steps/);
      assert.match(output, /^\s+1\s.*◀ knee$/m);
      const written = JSON.parse(readFileSync(out, 'utf8')) as SweepReport;
      assert.is(written.status, 'interrupted');
      assert.is(written.steps.length, 1);
      assert.equal(written.loads, [1, 2, 4]);
    });
  } finally {
    temp.remove();
  }
});

const usage = suite('sweep: usage errors');

const USAGE_CASES: Array<[string, Partial<SweepOptions> & Pick<SweepOptions, 'mode' | 'loads'>, RegExp]> = [
  ['loads must increase', { mode: 'concurrent', loads: [10, 5] }, /values must increase \(10 then 5\)/],
  ['no loads', { mode: 'rate', loads: [] }, /--rate: give at least one value/],
  ['--num-emails with --step-duration', { mode: 'concurrent', loads: [1], numEmails: 5, stepDurationMs: 1000 }, /give one of them/],
  ['--num-emails with --rate', { mode: 'rate', loads: [1], numEmails: 5 }, /--num-emails works with --concurrent/],
  ['--time-unit without --rate', { mode: 'concurrent', loads: [1], timeUnitMs: 1000 }, /--time-unit works with --rate only/],
  ['fractional VUs', { mode: 'concurrent', loads: [1.5] }, /whole number of VUs/],
];

for (const [name, options, message] of USAGE_CASES) {
  usage(name, async () => {
    const error = await runSweep({ overrides: {}, stdout: createTextSink(), ...options }).then(() => undefined, (caught: unknown) => caught);
    assert.instance(error, UsageError);
    assert.match((error as Error).message, message);
  });
}

usage('list flags: comma-separated, whole VUs, positive rates', () => {
  assert.equal(loadList('--concurrent', true)('5, 10,25'), [5, 10, 25]);
  assert.equal(loadList('--rate', false)('0.5,1.5'), [0.5, 1.5]);
  for (const [isWhole, text] of [[true, '5,x'], [true, '0,5'], [true, ''], [false, '-1'], [true, '2.5']] as const) {
    assert.throws(() => loadList('--flag', isWhole)(text), /--flag/, text);
  }
});

const shared = suite('sweep: the flags it shares with run (flag-groups.ts), through the CLI');

shared('--tls implicit --tls-ca FILE --auth login --password: every step speaks TLS from the first byte and logs in', async () => {
  await withFakeProxy({ tls: 'implicit' }, async (proxy) => {
    const ran = await runCli(
      ['sweep', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--concurrent', '1,2', '--num-emails', '4', '--pause', '100ms', '--no-watch',
        '--tls', 'implicit', '--tls-ca', proxy.caFile!, '--auth', 'login', '--password', 'sweep-secret', '--to', 'load@example.com'],
      { limitMs: 30_000 },
    );
    assert.is(ran.code, ExitCode.ok, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /step 2\/2: 2 concurrent … [\d.]+ msgs\/s, p95 [\d.]+ ms, success 100\.0%/);
    // Plain SMTP to an implicit-TLS port gets no greeting: the messages prove the TLS flags arrived
    assert.is(proxy.stats.messagesAccepted, 8);
    assert.ok(proxy.stats.authOk >= 8, `AUTH LOGIN: ${proxy.stats.authOk}`);
    assert.not.match(ran.stdout + ran.stderr, 'sweep-secret');
  });
});

capacity.run();
modes.run();
shared.run();
stopping.run();
usage.run();
