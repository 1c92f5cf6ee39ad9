/**
 * Issue 19's reproductions against the built CLI, each checked against the fake proxy's own
 * counts: huge iteration counts, outputs that fail (one at a time, every other still written),
 * device nodes and FIFOs as outputs, outputs on one path, scenario code that never settles
 * (setup, teardown, iteration), a second Ctrl+C with messages in flight, a signal during the
 * preflight with --with-fixture. Waits are logical (a line printed, a count reached), never a
 * judgement of the machine's speed.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { FakeProxy } from '../../fixtures/fake-proxy.ts';
import { runCli, startCli } from '../cli-process.ts';

/** Flags that aim a run at an in-process fake proxy, mailing a reserved test domain (RFC 2606). */
const target = (proxy: FakeProxy) => ['--host', '127.0.0.1', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--to', 'load@example.com'];
const isRoot = process.getuid?.() === 0;

/** A copy of a character device (mknod needs root): /dev/null is 1,3, /dev/full 1,7. */
function makeDevice(path: string, minor: 3 | 7): void {
  const made = spawnSync('mknod', [path, 'c', '1', String(minor)]);
  assert.is(made.status, 0, String(made.stderr));
}

/** Whether a process exists (signal 0). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once `check()` holds, polling each 50 ms; rejects after `limitMs` (a bound, not a measurement). */
async function until(check: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const huge = suite('issue 19 item 1: --num-emails far beyond what --duration allows');

huge('--num-emails 1000000000000 --duration 1s --with-fixture: ends on time, results written, the unstarted counted as dropped, the duration without the counting', async () => {
  const temp = createTempDir();
  try {
    const results = join(temp.dir, 'results.json');
    const ran = await runCli(['run', '--with-fixture', '--num-emails', '1000000000000', '--duration', '1s', '--to', 'load@example.com', '--out', results]);
    assert.is(ran.code, ExitCode.ok, ran.stderr);
    const r = JSON.parse(readFileSync(results, 'utf8'));
    assert.match(ran.stdout, `Fake proxy received: ${r.results.successful} messages`);
    assert.is(r.results.dropped_iterations + r.results.iterations, 1_000_000_000_000, 'every iteration either ran or was dropped');
    // The run lasts its 1 s plus at most gracefulStop (30 s): counting a trillion one by one did not.
    assert.ok(r.results.total_time_seconds < 31, `total_time_seconds ${r.results.total_time_seconds}`);
  } finally {
    temp.remove();
  }
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  huge(`--num-emails 1000000000000 --duration 60s: ${signal} is honoured (105) and the results written`, async () => {
    const temp = createTempDir();
    try {
      const results = join(temp.dir, 'results.json');
      let sent = false;
      const ran = await runCli(['run', '--with-fixture', '--num-emails', '1000000000000', '--duration', '60s', '--to', 'load@example.com', '--progress-interval', '0.2', '--out', results], {
        onStdout: (text, child) => {
          if (!sent && /Success: [1-9]/.test(text)) {
            sent = true;
            child.kill(signal);
          }
        },
      });
      assert.ok(sent, ran.stdout + ran.stderr);
      assert.is(ran.code, ExitCode.interrupted, ran.stderr);
      const r = JSON.parse(readFileSync(results, 'utf8'));
      assert.is(r.status, 'interrupted');
      assert.match(ran.stdout, `Fake proxy received: ${r.results.successful} messages`);
    } finally {
      temp.remove();
    }
  });
}

huge.run();

const outputs = suite('issue 19 items 2, 4, 17, 18: every output attempted and reported');

outputs('the results file\'s folder vanishes before it is written: summary printed, JUnit, summary JSON and HTML report written, the failure named, exit 111', async () => {
  const temp = createTempDir();
  const gone = createTempDir();
  try {
    await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
      const paths = { results: join(gone.dir, 'results.json'), junit: join(temp.dir, 'junit.xml'), summary: join(temp.dir, 'summary.json'), report: join(temp.dir, 'report.html') };
      let removed = false;
      // 200 messages × 20 ms server delay / 2 VUs: at least 2 s, several progress lines.
      const ran = await runCli(['run', ...target(proxy), '--num-emails', '200', '--concurrent', '2', '--progress-interval', '0.2', '--out', paths.results, '--junit', paths.junit, '--summary-json', paths.summary, '--report', paths.report], {
        onStdout: (text) => {
          if (!removed && /Success: [1-9]/.test(text)) {
            removed = true;
            gone.remove();
          }
        },
      });
      assert.ok(removed, ran.stdout);
      assert.is(ran.code, ExitCode.outputError, ran.stderr);
      assert.match(ran.stdout, 'LOAD TEST RESULTS');
      assert.not.match(ran.stdout, 'Results saved to');
      assert.match(ran.stderr, `error: results file`);
      assert.match(ran.stderr, paths.results);
      assert.match(ran.stderr, /ENOENT/);
      const summary = JSON.parse(readFileSync(paths.summary, 'utf8'));
      assert.is(summary.results.successful, proxy.stats.messagesAccepted);
      assert.match(readFileSync(paths.junit, 'utf8'), /<\/testsuites>\s*$/);
      assert.match(readFileSync(paths.report, 'utf8'), /<\/html>\s*$/);
    });
  } finally {
    temp.remove();
    gone.remove();
  }
});

outputs('the results file on a full disk (a copy of /dev/full, as root): ENOSPC reported, every other output written, exit 111; the device stays a device', async () => {
  if (!isRoot) {
    console.log('  skipped: mknod needs root');
    return;
  }
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const full = join(temp.dir, 'full');
      makeDevice(full, 7);
      const junit = join(temp.dir, 'junit.xml');
      const report = join(temp.dir, 'report.html');
      const ran = await runCli(['run', ...target(proxy), '--num-emails', '10', '--out', full, '--junit', junit, '--report', report]);
      assert.is(ran.code, ExitCode.outputError, ran.stderr);
      assert.match(ran.stderr, /error: results file.*full.*ENOSPC/);
      assert.match(ran.stdout, 'Successful: 10');
      assert.ok(existsSync(junit) && existsSync(report));
      assert.ok(statSync(full).isCharacterDevice(), 'still a device');
    });
  } finally {
    temp.remove();
  }
});

outputs('--junit on a device node (a copy of /dev/null, as root) stays a device: written directly, never by rename', async () => {
  if (!isRoot) {
    console.log('  skipped: mknod needs root');
    return;
  }
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const nul = join(temp.dir, 'null');
      makeDevice(nul, 3);
      const ran = await runCli(['run', ...target(proxy), '--num-emails', '3', '--no-out', '--junit', nul, '--report', nul]);
      assert.is(ran.code, ExitCode.ok, ran.stderr);
      assert.ok(statSync(nul).isCharacterDevice(), 'still a device');
    });
  } finally {
    temp.remove();
  }
});

outputs('--junit on a FIFO: the reader at the other end gets the XML, and the FIFO stays a FIFO', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const fifo = join(temp.dir, 'junit.fifo');
      assert.is(spawnSync('mkfifo', [fifo]).status, 0);
      let received = '';
      const reader = createReadStream(fifo, 'utf8');
      reader.on('data', (chunk) => (received += chunk));
      const ran = await runCli(['run', ...target(proxy), '--num-emails', '3', '--no-out', '--junit', fifo]);
      assert.is(ran.code, ExitCode.ok, ran.stderr);
      await until(() => received.includes('</testsuites>'), 'the JUnit text through the FIFO');
      reader.destroy();
      assert.match(received, /^<\?xml /);
      assert.ok(statSync(fifo).isFIFO(), 'still a FIFO');
    });
  } finally {
    temp.remove();
  }
});

outputs('an NDJSON stream that fails mid-run (ENOSPC on a copy of /dev/full, as root) is reported, not listed as written, exit 111', async () => {
  if (!isRoot) {
    console.log('  skipped: mknod needs root');
    return;
  }
  const temp = createTempDir();
  try {
    await withFakeProxy({ delays: { message: 50 } }, async (proxy) => {
      const full = join(temp.dir, 'full');
      makeDevice(full, 7);
      const results = join(temp.dir, 'results.json');
      const ran = await runCli(['run', ...target(proxy), '--num-emails', '60', '--concurrent', '2', '--out', results, '--out', `ndjson=${full}`]);
      assert.is(ran.code, ExitCode.outputError, ran.stderr);
      assert.match(ran.stderr, /error: NDJSON timeline: cannot append to .*full: ENOSPC/);
      assert.not.match(ran.stdout, 'NDJSON timeline:');
      assert.is(JSON.parse(readFileSync(results, 'utf8')).results.successful, proxy.stats.messagesAccepted);
    });
  } finally {
    temp.remove();
  }
});

outputs('two outputs on one path, or --out on the scenario file: refused before the run (exit 2), nothing sent or overwritten', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const scenario = join(temp.dir, 'scenario.yaml');
      const text = 'scenarios:\n  main:\n    executor: shared-iterations\n    iterations: 2\n';
      writeFileSync(scenario, text);
      const same = join(temp.dir, 'out.xml');
      const cases: Array<[string[], RegExp]> = [
        [['run', scenario, ...target(proxy), '--out', scenario], /results file .*scenario\.yaml is the scenario file/],
        [['run', scenario, ...target(proxy), '--out', `ndjson=${scenario}`], /NDJSON timeline .*scenario\.yaml is the scenario file/],
        [['run', ...target(proxy), '--junit', same, '--report', same], /JUnit file and HTML report are both .*out\.xml/],
        [['run', ...target(proxy), '--out', same, '--summary-json', same], /results file and summary file are both/],
      ];
      for (const [args, expected] of cases) {
        const ran = await runCli(args);
        assert.is(ran.code, ExitCode.usage, `${args.join(' ')}: ${ran.stderr}`);
        assert.match(ran.stderr, expected);
      }
      assert.is(readFileSync(scenario, 'utf8'), text, 'the scenario file is untouched');
      assert.is(proxy.stats.connections, 0, 'nothing was sent');
    });
  } finally {
    temp.remove();
  }
});

outputs.run();

const code = suite('issue 19 items 3, 6: scenario code that never settles gets a deadline');

/** Writes a TypeScript scenario into `dir` and returns its path. */
function scenarioFile(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `import { defineScenario } from 'runner';\nexport default defineScenario(${body});\n`);
  return path;
}

code('teardown() that never settles: reported by name after teardownTimeout, outputs written, counts equal the server\'s, exit 101', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const file = scenarioFile(temp.dir, 'hang.ts', `{ teardownTimeout: '200ms', scenarios: { main: { executor: 'shared-iterations', vus: 2, iterations: 6 } }, teardown: () => new Promise(() => {}) }`);
      const results = join(temp.dir, 'results.json');
      const junit = join(temp.dir, 'junit.xml');
      const ran = await runCli(['run', file, ...target(proxy), '--out', results, '--junit', junit]);
      assert.is(ran.code, ExitCode.teardownTimeout, ran.stderr);
      assert.match(ran.stderr, 'teardown() did not settle within 200ms (teardownTimeout)');
      assert.match(ran.stdout, 'LOAD TEST RESULTS');
      assert.is(JSON.parse(readFileSync(results, 'utf8')).results.successful, 6);
      assert.is(proxy.stats.messagesAccepted, 6);
      assert.ok(existsSync(junit));
    });
  } finally {
    temp.remove();
  }
});

code('setup() that never settles: reported by name after setupTimeout, no load sent, exit 100', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const file = scenarioFile(temp.dir, 'hang.ts', `{ setupTimeout: '200ms', scenarios: { main: { executor: 'shared-iterations', vus: 2, iterations: 6 } }, setup: () => new Promise(() => {}) }`);
      const ran = await runCli(['run', file, ...target(proxy), '--no-out']);
      assert.is(ran.code, ExitCode.setupTimeout, ran.stderr);
      assert.match(ran.stderr, 'error: setup() did not settle within 200ms (setupTimeout): no load was sent');
      assert.is(proxy.stats.messagesAccepted, 0);
    });
  } finally {
    temp.remove();
  }
});

code('setup() that never settles: every output written (aborted in setup, zero load, the reason), the JUnit case names the hang, summary printed, exit 100', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const file = scenarioFile(temp.dir, 'hang.ts', `{ setupTimeout: '200ms', scenarios: { main: { executor: 'shared-iterations', vus: 2, iterations: 6 } }, setup: () => new Promise(() => {}) }`);
      const [results, junit, summaryJson, report] = ['results.json', 'junit.xml', 'summary.json', 'report.html'].map((name) => join(temp.dir, name)) as [string, string, string, string];
      const ran = await runCli(['run', file, ...target(proxy), '--out', results, '--junit', junit, '--summary-json', summaryJson, '--report', report]);
      assert.is(ran.code, ExitCode.setupTimeout, ran.stderr);
      assert.match(ran.stderr, 'error: setup() did not settle within 200ms (setupTimeout): no load was sent');
      assert.match(ran.stdout, 'LOAD TEST RESULTS');
      assert.match(ran.stdout, 'Run aborted: setup() did not settle');
      assert.is(proxy.stats.messagesAccepted, 0);
      for (const written of [results, summaryJson]) {
        const r = JSON.parse(readFileSync(written, 'utf8'));
        assert.is(r.status, 'aborted', written);
        assert.match(r.abort_reason, 'setup() did not settle within 200ms (setupTimeout)');
        assert.is(r.results.total_requests, 0);
        assert.is(r.results.successful, 0);
      }
      const xml = readFileSync(junit, 'utf8');
      assert.match(xml, /<failure type="aborted" message="run aborted: setup\(\) did not settle within 200ms \(setupTimeout\)/);
      assert.match(readFileSync(report, 'utf8'), 'setup() did not settle');
    });
  } finally {
    temp.remove();
  }
});

code('an iteration() that never settles is abandoned at gracefulStop and counted as interrupted; the run ends and reports (exit 0)', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      // Each of 3 VUs sends two messages, then waits forever on its third iteration.
      const file = scenarioFile(
        temp.dir,
        'hang.ts',
        `{ scenarios: { main: { executor: 'constant-vus', vus: 3, duration: '1s', gracefulStop: '300ms' } }, iteration: async (ctx) => { if (ctx.iteration >= 2) await new Promise(() => {}); await ctx.smtp.send(); } }`,
      );
      const results = join(temp.dir, 'results.json');
      const ran = await runCli(['run', file, ...target(proxy), '--out', results]);
      assert.is(ran.code, ExitCode.ok, ran.stderr);
      const r = JSON.parse(readFileSync(results, 'utf8')).results;
      assert.is(r.successful, 6);
      assert.is(proxy.stats.messagesAccepted, 6);
      assert.is(r.interrupted, 3, 'one abandoned iteration per VU');
      assert.is(r.failed, 0);
    });
  } finally {
    temp.remove();
  }
});

code.run();

const signals = suite('issue 19 items 9, 10: signals');

signals('a second Ctrl+C with messages in flight counts them as interrupted (the server accepted none)', async () => {
  const temp = createTempDir();
  try {
    // Every message waits 60 s for its 250: all 5 are in flight when the signals come.
    await withFakeProxy({ delays: { message: 60_000 } }, async (proxy) => {
      const results = join(temp.dir, 'results.json');
      let signalled = false;
      const ran = await runCli(['run', ...target(proxy), '--num-emails', '5', '--concurrent', '5', '--debug=5', '--out', results], {
        onStderr: (text, child) => {
          // The transcript shows each message's data written: then all five are in flight.
          if (!signalled && (text.match(/bytes of message data/g) ?? []).length >= 5) {
            signalled = true;
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGINT'), 200);
          }
        },
      });
      assert.ok(signalled, ran.stderr);
      assert.is(ran.code, ExitCode.interrupted, ran.stderr);
      const r = JSON.parse(readFileSync(results, 'utf8')).results;
      assert.is(proxy.stats.messagesAccepted, 0);
      assert.is(r.successful, 0);
      assert.is(r.failed, 0);
      assert.is(r.interrupted, 5, 'every message in flight counted as interrupted');
    });
  } finally {
    temp.remove();
  }
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  signals(`${signal} during the preflight with --with-fixture: exit 105, and the fake proxy (its own process group) is ended, not orphaned`, async () => {
    let fixturePid: number | undefined;
    const cli = startCli(['run', '--with-fixture', '--fixture-delay', 'greeting=60000', '--num-emails', '1', '--to', 'load@example.com', '--no-out']);
    try {
      // The fixture is our child; the preflight then waits 60 s for its greeting.
      await until(() => {
        const children = readFileSync(`/proc/${cli.pid}/task/${cli.pid}/children`, 'utf8').trim();
        fixturePid = children === '' ? undefined : Number(children.split(/\s+/)[0]);
        return fixturePid !== undefined;
      }, 'the fixture child');
      cli.child.kill(signal);
      const ran = await cli.done;
      assert.is(ran.code, ExitCode.interrupted, ran.stderr);
      assert.match(ran.stderr, `${signal} before the load started`);
      await until(() => !isAlive(fixturePid!), 'the fixture to exit');
    } finally {
      cli.child.kill('SIGKILL');
      if (fixturePid !== undefined && isAlive(fixturePid)) process.kill(fixturePid, 'SIGKILL');
    }
  });
}

signals('SIGHUP (the terminal closed) during the load with --with-fixture: a graceful stop like SIGTERM, results written, counts equal the fake proxy\'s, exit 105 (before: exit 129, no results)', async () => {
  const temp = createTempDir();
  try {
    const results = join(temp.dir, 'results.json');
    let sent = false;
    const ran = await runCli(['run', '--with-fixture', '--num-emails', '100000', '--concurrent', '5', '--to', 'load@example.com', '--progress-interval', '0.2', '--out', results], {
      onStdout: (text, child) => {
        if (!sent && /Success: [1-9]/.test(text)) {
          sent = true;
          child.kill('SIGHUP');
        }
      },
    });
    assert.ok(sent, ran.stdout);
    assert.is(ran.code, ExitCode.interrupted, ran.stderr);
    assert.match(ran.stderr, 'SIGHUP: stopping');
    const r = JSON.parse(readFileSync(results, 'utf8'));
    assert.is(r.status, 'interrupted');
    assert.ok(r.results.successful > 0);
    assert.match(ran.stdout, `Fake proxy received: ${r.results.successful} messages`);
  } finally {
    temp.remove();
  }
});

signals.run();

const controls = suite('issue 19 item 8: control characters from scenario files and scenario code');

controls('a description, a teardown() error, a handleSummary() error and a failed output path with escape sequences are printed escaped', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const file = scenarioFile(
        temp.dir,
        'esc.ts',
        `{ description: 'desc \\x1b[2J\\x1b]0;TITLE\\x07 ALL GOOD', scenarios: { main: { executor: 'shared-iterations', vus: 1, iterations: 1 } }, teardown: () => { throw new Error('teardown \\x1b[2J boom'); }, handleSummary: () => { throw new Error('hs \\x1b]0;T\\x07 boom'); } }`,
      );
      // A JUnit path whose folder is a file: the failure quotes the path, escape included
      const junit = join(temp.dir, 'file\x1b[2J', 'junit.xml');
      writeFileSync(join(temp.dir, 'file\x1b[2J'), '');
      const ran = await runCli(['run', file, ...target(proxy), '--no-out', '--junit', junit]);
      assert.is(proxy.stats.messagesAccepted, 0, 'the bad JUnit path is refused before the load');
      assert.not.match(ran.stderr, '\x1b', ran.stderr);
      assert.match(ran.stderr, 'file\\x1b[2J');
      const ok = await runCli(['run', file, ...target(proxy), '--no-out']);
      for (const text of [ok.stdout, ok.stderr]) assert.not.match(text, /[\x1b\x07]/, text);
      assert.match(ok.stdout, 'Description: desc \\x1b[2J\\x1b]0;TITLE\\x07 ALL GOOD');
      assert.match(ok.stdout + ok.stderr, 'teardown \\x1b[2J boom');
      assert.match(ok.stderr, 'hs \\x1b]0;T\\x07 boom');
    });
  } finally {
    temp.remove();
  }
});

controls.run();

const stall = suite('issue 19 item 12: a synchronous endless loop in iteration()');

stall('the watchdog writes the results, JUnit and summary files of the last snapshot, prints the summary, ends the fixture, says why, and exits 102 (a documented code)', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
      // VU 1 spins for ever at its 100th iteration: at least 2 s (100 × 20 ms) of load first.
      const file = scenarioFile(
        temp.dir,
        'spin.ts',
        `{ scenarios: { main: { executor: 'per-vu-iterations', vus: 2, iterations: 1000 } }, iteration: async (ctx) => { await ctx.smtp.send(); if (ctx.vu === 1 && ctx.iteration === 100) while (true) {} } }`,
      );
      const [results, junit, summaryJson] = ['results.json', 'junit.xml', 'summary.json'].map((name) => join(temp.dir, name)) as [string, string, string];
      const ran = await runCli(['run', file, ...target(proxy), '--stall-limit', '1s', '--out', results, '--junit', junit, '--summary-json', summaryJson]);
      assert.is(ran.signal, null, `${ran.code} ${ran.stderr}`);
      assert.is(ran.code, ExitCode.stalled, ran.stderr);
      assert.match(ran.stderr, 'error: the event loop has been blocked for 1 s');
      assert.match(ran.stderr, `partial results written to ${results}`);
      assert.match(ran.stderr, `partial results written to ${junit}`);
      assert.not.match(ran.stderr, 'debugger');
      assert.match(ran.stdout, 'LOAD TEST RESULTS');
      for (const written of [results, summaryJson]) {
        const r = JSON.parse(readFileSync(written, 'utf8'));
        assert.is(r.status, 'interrupted', written);
        assert.match(r.abort_reason, /event loop blocked/);
        assert.ok(r.results.successful >= 1 && r.results.successful <= proxy.stats.messagesAccepted, `${r.results.successful} of ${proxy.stats.messagesAccepted}`);
      }
      assert.match(readFileSync(junit, 'utf8'), /<failure type="interrupted" message="run interrupted: event loop blocked for 1 s/);
    });
  } finally {
    temp.remove();
  }
});

stall.run();
