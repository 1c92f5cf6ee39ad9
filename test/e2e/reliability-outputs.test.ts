/**
 * Issue 19's reproductions against the built CLI, each checked against the fake proxy's own
 * counts: outputs that fail one at a time (every other still written), device nodes and FIFOs as outputs, outputs on one path. Waits are logical (a line printed, a count reached), never a judgement of the
 * machine's speed. (The other reliability-*.test.ts files hold the rest; reliability-support.ts
 * what they share.)
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { runCli } from '../cli-process.ts';

import { target, isRoot, makeDevice, until } from './reliability-support.ts';
import type { FakeProxy, FakeProxyOptions } from '../../fixtures/fake-proxy.ts';

/**
 * Runs `body` as root only (mknod needs it; otherwise the test says it is skipped), with a temp
 * folder and a fake proxy, both removed afterwards.
 */
async function asRootWithProxy(options: FakeProxyOptions, body: (dir: string, proxy: FakeProxy) => Promise<void>): Promise<void> {
  if (!isRoot) {
    console.log('  skipped: mknod needs root');
    return;
  }
  const temp = createTempDir();
  try {
    await withFakeProxy(options, (proxy) => body(temp.dir, proxy));
  } finally {
    temp.remove();
  }
}

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
  await asRootWithProxy({}, async (dir, proxy) => {
    const full = join(dir, 'full');
    makeDevice(full, 7);
    const junit = join(dir, 'junit.xml');
    const report = join(dir, 'report.html');
    const ran = await runCli(['run', ...target(proxy), '--num-emails', '10', '--out', full, '--junit', junit, '--report', report]);
    assert.is(ran.code, ExitCode.outputError, ran.stderr);
    assert.match(ran.stderr, /error: results file.*full.*ENOSPC/);
    assert.match(ran.stdout, 'Successful: 10');
    assert.ok(existsSync(junit) && existsSync(report));
    assert.ok(statSync(full).isCharacterDevice(), 'still a device');
  });
});

outputs('--junit on a device node (a copy of /dev/null, as root) stays a device: written directly, never by rename', async () => {
  await asRootWithProxy({}, async (dir, proxy) => {
    const nul = join(dir, 'null');
    makeDevice(nul, 3);
    const ran = await runCli(['run', ...target(proxy), '--num-emails', '3', '--no-out', '--junit', nul, '--report', nul]);
    assert.is(ran.code, ExitCode.ok, ran.stderr);
    assert.ok(statSync(nul).isCharacterDevice(), 'still a device');
  });
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
  await asRootWithProxy({ delays: { message: 50 } }, async (dir, proxy) => {
    const full = join(dir, 'full');
    makeDevice(full, 7);
    const results = join(dir, 'results.json');
    const ran = await runCli(['run', ...target(proxy), '--num-emails', '60', '--concurrent', '2', '--out', results, '--out', `ndjson=${full}`]);
    assert.is(ran.code, ExitCode.outputError, ran.stderr);
    assert.match(ran.stderr, /error: NDJSON timeline: cannot append to .*full: ENOSPC/);
    assert.not.match(ran.stdout, 'NDJSON timeline:');
    assert.is(JSON.parse(readFileSync(results, 'utf8')).results.successful, proxy.stats.messagesAccepted);
  });
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
