/**
 * Issue 19's reproductions against the built CLI, each checked against the fake proxy's own
 * counts: scenario code that never settles (setup, teardown, iteration) and a synchronous endless loop in iteration(). Waits are logical (a line printed, a count reached), never a judgement of the
 * machine's speed. (The other reliability-*.test.ts files hold the rest; reliability-support.ts
 * what they share.)
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { runCli } from '../cli-process.ts';

import { target, scenarioFile } from './reliability-support.ts';

const code = suite('issue 19 items 3, 6: scenario code that never settles gets a deadline');

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
