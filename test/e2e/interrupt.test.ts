/**
 * Never lose the run: a stopped, interrupted or killed `runner run` (a real process) leaves
 * every output whole and marked, and outputs that could not be written are refused before the
 * load. test/e2e/cli.test.ts has the plain SIGINT case (results file only); this extends it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { FakeProxy } from '../../fixtures/fake-proxy.ts';
import { ROOT, runCli, startCli, type Ran } from '../cli-process.ts';

const Ajv = AjvModule.default ?? AjvModule;
const validateResults = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/results.schema.json'), 'utf8')));

/** Parses a results file and checks it against the schema; returns it. */
function readValidResults(path: string): any {
  const results = JSON.parse(readFileSync(path, 'utf8'));
  assert.ok(validateResults(results), `${path}: ${JSON.stringify(validateResults.errors)}`);
  return results;
}

/** Flags that aim a run at an in-process fake proxy, mailing a reserved test domain (RFC 2606). */
const target = (proxy: FakeProxy) => ['--host', '127.0.0.1', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--to', 'load@example.com'];

/** Every output kind a run writes to a file, in `dir`. */
function allOutputs(dir: string) {
  const paths = {
    results: join(dir, 'results.json'),
    ndjson: join(dir, 'timeline.ndjson'),
    junit: join(dir, 'junit.xml'),
    report: join(dir, 'report.html'),
    summary: join(dir, 'summary.json'),
  };
  const args = ['--out', paths.results, '--out', `ndjson=${paths.ndjson}`, '--junit', paths.junit, '--report', paths.report, '--summary-json', paths.summary];
  return { paths, args };
}

/** Checks every output is whole, marked interrupted and agrees with the results file; returns the results. */
function assertOutputsInterrupted(paths: ReturnType<typeof allOutputs>['paths']): any {
  const results = readValidResults(paths.results);
  assert.is(results.status, 'interrupted');

  const lines = readFileSync(paths.ndjson, 'utf8').split('\n');
  assert.is(lines.pop(), '', 'the NDJSON timeline ends with a whole line');
  const points = lines.map((line) => JSON.parse(line));
  assert.ok(points.length >= 1, 'no timeline lines');
  assert.is(points.reduce((sum, p) => sum + p.accepted, 0), results.results.successful, 'timeline accepted adds up to successful');

  const summary = JSON.parse(readFileSync(paths.summary, 'utf8'));
  assert.is(summary.status, 'interrupted');
  assert.is(summary.results.successful, results.results.successful);
  assert.not.ok('timeline' in summary);

  const junit = readFileSync(paths.junit, 'utf8');
  assert.match(junit, /^<\?xml /);
  assert.match(junit, /<property name="status" value="interrupted"\s*\/>/);
  assert.match(junit, /<testcase [^>]*name="run completed"[^>]*>\s*<failure/);
  assert.match(junit, /<\/testsuites>\s*$/);

  const report = readFileSync(paths.report, 'utf8');
  assert.match(report, /^<!doctype html>/i);
  assert.match(report, 'data-status="interrupted"');
  assert.match(report, /<\/html>\s*$/);
  return results;
}

const once = suite('interrupt: one signal stops starting, waits, reports, writes every output marked interrupted (105)');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  once(`${signal}: summary printed; results, NDJSON, JUnit, HTML report and summary JSON written; counts match the fixture`, async () => {
    const temp = createTempDir();
    try {
      await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
        const { paths, args } = allOutputs(temp.dir);
        let sentAtMs = 0;
        const ran = await runCli(['run', ...target(proxy), '--num-emails', '100000', '--concurrent', '5', '--progress-interval', '0.5', ...args], {
          onStdout: (text, child) => {
            // Once messages flow, let a timeline window or two close, then stop.
            if (sentAtMs === 0 && /Success: [1-9]/.test(text)) {
              sentAtMs = performance.now();
              setTimeout(() => child.kill(signal), 1500);
            }
          },
        });
        assert.ok(sentAtMs > 0, `never saw progress: ${ran.stdout}${ran.stderr}`);
        assert.is(ran.code, ExitCode.interrupted, ran.stderr);
        assert.match(ran.stderr, `${signal}: stopping`);
        assert.match(ran.stdout, 'LOAD TEST RESULTS');
        assert.match(ran.stdout, 'Run interrupted');
        const results = assertOutputsInterrupted(paths);
        assert.ok(results.results.successful > 0);
        // Graceful: what was in flight was let finish, so the fixture saw nothing the runner did not count.
        assert.is(results.results.successful, proxy.stats.messagesAccepted);
        assert.is(results.results.failed, 0);
      });
    } finally {
      temp.remove();
    }
  });
}

once('Ctrl+C on a terminal with --with-fixture (SIGINT to the whole process group): the fixture keeps serving through the graceful stop', async () => {
  const temp = createTempDir();
  try {
    const results = join(temp.dir, 'results.json');
    let sent = false;
    const ran = await runCli(
      ['run', '--with-fixture', '--fixture-delay', 'message=200', '--num-emails', '100000', '--concurrent', '5', '--to', 'load@example.com', '--progress-interval', '0.5', '--out', results],
      {
        detached: true,
        onStdout: (text, child) => {
          if (!sent && /Success: [1-9]/.test(text)) {
            sent = true;
            // As a terminal does: to every process of the foreground group, the runner and its fixture.
            process.kill(-child.pid!, 'SIGINT');
          }
        },
      },
    );
    assert.ok(sent, `never saw progress: ${ran.stdout}${ran.stderr}`);
    assert.is(ran.code, ExitCode.interrupted, ran.stderr);
    assert.not.match(ran.stderr, /unexpected failure/);
    const r = readValidResults(results).results;
    assert.is(r.failed, 0, JSON.stringify(r.errors));
    assert.ok(r.successful > 0);
    assert.match(ran.stdout, `Fake proxy received: ${r.successful} messages`);
  } finally {
    temp.remove();
  }
});

once.run();

const twice = suite('interrupt: a second signal exits at once (105), still leaving whole outputs');

twice('SIGINT twice while messages take up to 20 s: out within seconds, partial results valid and marked interrupted', async () => {
  const temp = createTempDir();
  try {
    // Long, spread-out server delays: a graceful stop would wait for up to 20 s of them.
    await withFakeProxy({ delays: { message: { uniform: [200, 20_000] } } }, async (proxy) => {
      const { paths, args } = allOutputs(temp.dir);
      let secondAtMs = 0;
      const ran = await runCli(['run', ...target(proxy), '--num-emails', '100000', '--concurrent', '20', '--progress-interval', '0.2', ...args], {
        onStdout: (text, child) => {
          if (secondAtMs === 0 && /Success: [1-9]/.test(text)) {
            secondAtMs = -1;
            child.kill('SIGINT');
            setTimeout(() => {
              secondAtMs = performance.now();
              child.kill('SIGINT');
            }, 300);
          }
        },
      });
      const exitedAfterMs = performance.now() - secondAtMs;
      assert.ok(secondAtMs > 0, `never saw progress: ${ran.stdout}${ran.stderr}`);
      assert.is(ran.code, ExitCode.interrupted, ran.stderr);
      assert.match(ran.stderr, 'SIGINT again: partial results written; exiting');
      assert.ok(exitedAfterMs < 5000, `exited ${exitedAfterMs.toFixed(0)} ms after the second SIGINT`);
      const results = assertOutputsInterrupted(paths);
      assert.is(results.abort_reason, 'interrupted twice');
      assert.ok(results.results.successful >= 1);
      assert.ok(results.results.successful <= proxy.stats.messagesAccepted);
    });
  } finally {
    temp.remove();
  }
});

twice.run();

const killed = suite('interrupt: SIGKILL at any moment never leaves a half-written results file');

killed('killed at random moments around the end of short runs, and the instant its temp file appears: the target is absent or whole', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const results = join(temp.dir, 'results.json');
      const runArgs = ['run', ...target(proxy), '--num-emails', '200', '--concurrent', '10', '--no-check', '--no-watch', '--quiet', '--out', results];
      // One whole run first: how long a run takes here, and the file it leaves.
      const startedMs = performance.now();
      const whole = await runCli(runArgs);
      const wholeMs = performance.now() - startedMs;
      assert.is(whole.code, ExitCode.ok, whole.stderr);
      assert.is(readValidResults(results).results.successful, 200);

      const tally = { absent: 0, whole: 0, tempLeft: 0 };
      const KILLS = 10;
      for (let i = 0; i < KILLS; i++) {
        rmSync(results, { force: true });
        let watcher: FSWatcher | undefined;
        const run = startCli(runArgs);
        if (i % 2 === 0) {
          // The instant the temp file beside the target appears, the write has begun.
          watcher = watch(temp.dir, (_event, name) => {
            if (name?.includes('results.json') && name.endsWith('.tmp')) run.child.kill('SIGKILL');
          });
        } else {
          // Anywhere from late in the load to past a whole run's end (runs take longer on a busy machine).
          setTimeout(() => run.child.kill('SIGKILL'), wholeMs * (0.8 + Math.random() * 0.8));
        }
        const ran: Ran = await run.done;
        watcher?.close();
        if (existsSync(results)) {
          const text = readFileSync(results, 'utf8');
          assert.ok(text.endsWith('}\n'), `run ${i} (${ran.signal ?? ran.code}): results file cut at ${text.length} bytes`);
          readValidResults(results);
          tally.whole++;
        } else {
          tally.absent++;
        }
        const leftovers = readdirSync(temp.dir).filter((name) => name.endsWith('.tmp'));
        if (leftovers.length) tally.tempLeft++;
        for (const name of leftovers) rmSync(join(temp.dir, name));
      }
      console.log(`    ${KILLS} kills: results file absent ${tally.absent}×, whole ${tally.whole}×; a temp file left beside it ${tally.tempLeft}×`);
    });
  } finally {
    temp.remove();
  }
});

killed.run();

const refused = suite('outputs: one that cannot be written is refused before any connection (111)');

const OUTPUT_CASES: Array<{ flags: (bad: string) => string[]; names: RegExp }> = [
  { flags: (bad) => ['--junit', bad], names: /JUnit file/ },
  { flags: (bad) => ['--report', bad], names: /HTML report/ },
  { flags: (bad) => ['--summary-json', bad], names: /summary file/ },
  { flags: (bad) => ['--out', `ndjson=${bad}`], names: /ndjson timeline/ },
  { flags: (bad) => ['--out', `csv=${bad}`], names: /csv timeline/ },
  { flags: (bad) => ['--out', `html=${bad}`], names: /HTML report/ },
];

refused('each output kind, in a missing folder, under a file, or where files cannot be created: exit 111 naming it, the fixture never contacted', async () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'a-file'), 'not a folder\n');
    const places = [join(temp.dir, 'missing', 'out'), join(temp.dir, 'a-file', 'out'), '/proc/out'];
    await withFakeProxy({}, async (proxy) => {
      const runs = OUTPUT_CASES.map((c, i) => {
        const bad = places[i % places.length]!;
        return { c, bad, ran: runCli(['run', ...target(proxy), '--num-emails', '5', '--no-out', ...c.flags(bad)]) };
      });
      for (const { c, bad, ran } of runs) {
        const { code, stderr } = await ran;
        const shown = `${c.flags(bad).join(' ')} → ${code}: ${stderr}`;
        assert.is(code, ExitCode.outputError, shown);
        assert.match(stderr, c.names, shown);
        assert.match(stderr, /^hint: /m, shown);
      }
      assert.is(proxy.stats.connections, 0, 'a connection was made before the outputs were checked');
    });
  } finally {
    temp.remove();
  }
});

refused.run();
