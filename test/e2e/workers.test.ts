/**
 * `runner run --workers N` against the fake proxy: the workers' merged figures equal what the
 * proxy received, thresholds are judged on the sum (one crossed only in the sum fails the run),
 * abortOnFail stops every worker, a killed worker is named and the others finish, Ctrl+C loses
 * nothing. The workers are real processes of the built CLI (bin/runner.js: run `node build.mjs`).
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode, InvalidOptionsError, UsageError } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { startCli } from '../cli-process.ts';

const TO = { to: ['load@example.com'] };
const DATA = fileURLToPath(new URL('./data/', import.meta.url));

/** The pids of this process's children that are `runner worker` processes. */
function workerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes('worker')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const merged = suite('--workers: merged figures are the ground truth');

merged('3 workers, shared-iterations 90 × 6 VUs: 90 messages, as the proxy counted; connections too', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'shared-iterations', vus: 6, iterations: 90 } } };
    // No preflight: its connection would be the proxy's and not the load's.
    const outcome = await runAgainst(proxy, { scenario, workers: 3, overrides: TO, check: false });
    assert.is(outcome.exitCode, ExitCode.ok, outcome.output);
    const { results } = outcome.summary;
    assert.is(results.total_requests, 90);
    assert.is(results.successful, proxy.stats.messagesAccepted);
    assert.is(results.connections, proxy.stats.connections);
    assert.is(results.iterations, 90);
    assert.is(outcome.summary.histograms.txn_duration.count, 90);
    assert.is(outcome.summary.status, 'completed');
    // The plan is the whole one: the results file describes what the three ran together.
    const config = outcome.summary.config['scenarios'] as Record<string, Record<string, unknown>>;
    assert.is(config['main']!['iterations'], 90);
  });
});

merged('2 workers: {{seq}} and {{vu}} count in the whole plan (no two messages share a sequence, no two VUs an id)', async () => {
  const seqs: string[] = [];
  const vus = new Set<string>();
  await withFakeProxy({ onMessage: (message) => {
    const text = message.toString('latin1');
    seqs.push(/^X-Seq: (\d+)\r$/m.exec(text)?.[1] ?? 'none');
    vus.add(/^X-Vu: (\d+)\r$/m.exec(text)?.[1] ?? 'none');
  } }, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'shared-iterations', vus: 4, iterations: 40 } } };
    const outcome = await runAgainst(proxy, { scenario, workers: 2, overrides: { ...TO, headers: ['X-Seq: {{seq}}', 'X-Vu: {{vu}}'] }, check: false });
    assert.is(outcome.exitCode, ExitCode.ok, outcome.output);
    assert.is(seqs.length, 40);
    assert.is(new Set(seqs).size, 40, `sequences repeat: ${seqs.sort((a, b) => Number(a) - Number(b)).join(' ')}`);
    assert.equal([...vus].sort(), ['1', '2', '3', '4']);
  });
});

merged('2 workers, constant-arrival-rate 300/s for 1 s: 300 arrivals, every one sent once', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'constant-arrival-rate', rate: 300, duration: '1s', preAllocatedVUs: 20, maxVUs: 40 } } };
    const outcome = await runAgainst(proxy, { scenario, workers: 2, overrides: TO });
    assert.is(outcome.exitCode, ExitCode.ok, outcome.output);
    const { results } = outcome.summary;
    assert.is(results.total_requests + results.dropped_iterations, 300);
    assert.is(results.successful, proxy.stats.messagesAccepted);
    const planned = outcome.summary.timeline.reduce((sum, point) => sum + (point.planned ?? 0), 0);
    assert.is(planned, 300, 'the merged timeline planned every arrival once');
  });
});

merged('setup() runs once in the parent and its data (a Date too) reaches every worker; teardown() once; custom metrics merge', async () => {
  await withFakeProxy({}, async (proxy) => {
    const temp = createTempDir();
    const log = join(temp.dir, 'setup.log');
    const previous = process.env['SETUP_LOG'];
    process.env['SETUP_LOG'] = log;
    try {
      const outcome = await runAgainst(proxy, { scenarioFile: join(DATA, 'workers-setup.ts'), workers: 3, overrides: TO, check: false });
      assert.is(outcome.exitCode, ExitCode.ok, outcome.output);
      assert.is(readFileSync(log, 'utf8'), 'setup\nteardown abc\n');
      const seen = outcome.summary.custom_metrics['seen_setup_data']!;
      assert.is(seen.count, 6);
      assert.equal(seen.tag_sets?.map((set) => set.tags), [{ is_date: 'true', token: 'abc' }]);
      assert.ok(outcome.summary.thresholds[0]!.ok);
    } finally {
      if (previous === undefined) delete process.env['SETUP_LOG'];
      else process.env['SETUP_LOG'] = previous;
      temp.remove();
    }
  });
});

const thresholds = suite('--workers: thresholds on the whole');

thresholds('a threshold crossed only in the sum fails the run (each worker\'s 50 pass count<100, the 150 do not)', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = {
      scenarios: { main: { executor: 'per-vu-iterations', vus: 3, iterations: 50 } },
      thresholds: { smtp_txns: ['count<100'] },
    };
    const outcome = await runAgainst(proxy, { scenario, workers: 3, overrides: TO });
    assert.is(outcome.summary.results.total_requests, 150);
    assert.is(proxy.stats.messagesAccepted, 150);
    assert.is(outcome.summary.thresholds.length, 1);
    assert.is(outcome.summary.thresholds[0]!.ok, false);
    assert.is(outcome.summary.thresholds[0]!.actual, 150);
    assert.is(outcome.exitCode, ExitCode.thresholdsFailed);
  });
});

thresholds('abortOnFail on the sum stops every worker: the counts stop far below the plan, and what was sent is what was counted', async () => {
  // Each message takes >= 20 ms: 3 workers × 2 VUs plan ~300/s × 30 s; the run must stop after ~60.
  await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
    const scenario: ScenarioFileOptions = {
      scenarios: { main: { executor: 'constant-vus', vus: 6, duration: '30s' } },
      thresholds: { smtp_txns: [{ threshold: 'count<60', abortOnFail: true }] },
    };
    const outcome = await runAgainst(proxy, { scenario, workers: 3, overrides: TO });
    assert.is(outcome.exitCode, ExitCode.abortedByThreshold, outcome.output);
    assert.is(outcome.summary.status, 'aborted');
    const sent = outcome.summary.results.total_requests;
    assert.ok(sent >= 60, `${sent}`);
    // Stopped: a run that went on would have sent thousands in its 30 s.
    assert.ok(outcome.summary.results.total_time_seconds < 30, `${outcome.summary.results.total_time_seconds}`);
    assert.is(outcome.summary.results.successful, proxy.stats.messagesAccepted, 'every worker reported up to its end');
    assert.equal(workerPids(), [], 'no worker left running');
  });
});

const failures = suite('--workers: a worker that dies, options it cannot take');

failures('a killed worker is reported by name, its figures until then are kept, and the others finish', async () => {
  await withFakeProxy({ delays: { message: 10 } }, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'constant-vus', vus: 3, duration: '3s' } } };
    let killed: number | undefined;
    // After 1.5 s (past the first reports), kill one of our own workers.
    const killer = setInterval(() => {
      const pids = workerPids();
      if (pids.length === 3 && proxy.stats.messagesAccepted > 30 && killed === undefined) {
        killed = pids[1]!;
        process.kill(killed, 'SIGKILL');
      }
    }, 1500);
    try {
      const outcome = await runAgainst(proxy, { scenario, workers: 3, overrides: TO });
      assert.ok(killed !== undefined, 'a worker was killed');
      assert.is(outcome.exitCode, ExitCode.generatorLost, outcome.output);
      assert.match(outcome.output, new RegExp(`worker \\d \\(segment [0-9/]+:[0-9/]+, pid ${killed}\\) was killed \\(SIGKILL\\)`));
      const lost = outcome.summary.config['lost_workers'] as string[];
      assert.is(lost.length, 1);
      assert.match(outcome.summary.abort_reason ?? '', /was killed/);
      // The others ran to the end of the 3 s; the killed one's last second may be missing.
      assert.ok(outcome.summary.results.successful > 0);
      assert.ok(outcome.summary.results.successful <= proxy.stats.messagesAccepted);
      assert.ok(outcome.summary.results.total_time_seconds >= 2.9, `${outcome.summary.results.total_time_seconds}`);
    } finally {
      clearInterval(killer);
    }
  });
});

failures('options --workers cannot take are refused before any load, each with what to do', async () => {
  await withFakeProxy({}, async (proxy) => {
    const tooFew: ScenarioFileOptions = { scenarios: { main: { executor: 'shared-iterations', vus: 1, iterations: 10 } } };
    try {
      await runAgainst(proxy, { scenario: tooFew, workers: 2, overrides: TO });
      assert.unreachable('2 workers of 1 VU');
    } catch (error) {
      assert.instance(error, InvalidOptionsError);
      assert.match((error as Error).message, /--workers 2: scenarios.main: segment 1\/2:1 gets 5 of the 10 iterations but none of the 1 vus/);
    }
    try {
      await runAgainst(proxy, { scenario: tooFew, workers: 2, overrides: { ...TO, executionSegment: '0:1/2' } });
      assert.unreachable('--workers with --execution-segment');
    } catch (error) {
      assert.instance(error, UsageError);
      assert.is((error as UsageError).hint, 'leave --workers out, or leave --execution-segment out');
    }
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

const signals = suite('--workers: Ctrl+C');

signals('SIGINT stops every worker gracefully: exit 105, and the results file counts what the proxy received', async () => {
  await withFakeProxy({ delays: { message: 10 } }, async (proxy) => {
    const temp = createTempDir();
    try {
      const results = join(temp.dir, 'results.json');
      const run = startCli(
        ['run', '--concurrent', '4', '--num-emails', '1000000', '--workers', '2', '--host', '127.0.0.1', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--to', 'load@example.com', '--out', results, '--no-check', '--no-watch'],
        { detached: true, limitMs: 60_000 },
      );
      // Once load flows, Ctrl+C as a terminal sends it: to the whole process group.
      const poll = setInterval(() => {
        if (proxy.stats.messagesAccepted > 50) {
          clearInterval(poll);
          process.kill(-run.pid, 'SIGINT');
        }
      }, 100);
      const ran = await run.done;
      clearInterval(poll);
      assert.is(ran.code, ExitCode.interrupted, ran.stderr);
      const file = JSON.parse(readFileSync(results, 'utf8'));
      assert.is(file.status, 'interrupted');
      assert.is(file.results.successful, proxy.stats.messagesAccepted, 'nothing the workers sent is lost');
    } finally {
      temp.remove();
    }
  });
});

merged.run();
thresholds.run();
failures.run();
signals.run();
