/**
 * Issue 19's reproductions against the built CLI, each checked against the fake proxy's own
 * counts: huge iteration counts (--num-emails far beyond what --duration allows) and signals during them. Waits are logical (a line printed, a count reached), never a judgement of the
 * machine's speed. (The other reliability-*.test.ts files hold the rest; reliability-support.ts
 * what they share.)
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { runCli } from '../cli-process.ts';


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
