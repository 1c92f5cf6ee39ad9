// test-tier: real-time
/**
 * Ctrl+C while messages wait for their retries (issue 16, found by a hostile review): the first
 * Ctrl+C stops starting messages, and a retry is a message started again. So the deferred are
 * counted as pending at once, no attempt starts after the signal beyond those already on the
 * wire, and the run ends without waiting out gracefulStop. Judged on the fake proxy's own count
 * of the 451s it gave, before and after the signal.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { startCli } from '../cli-process.ts';

const test = suite('retry: Ctrl+C with messages deferred');

const MESSAGES = 4;

test('SIGINT while every message waits for a retry: no new attempt after it, each message pending, exit 105 well before gracefulStop', async () => {
  const temp = createTempDir();
  try {
    // Every message is deferred forever; retries come every 20-80 ms (100 attempts: longer than gracefulStop); gracefulStop would allow 20 s more of them
    await withFakeProxy({ failures: [{ phase: 'message', probability: 1, kind: 'reply', code: 451 }] }, async (proxy) => {
      const file = join(temp.dir, 'deferred.ts');
      writeFileSync(
        file,
        `import { defineScenario } from 'runner';\nexport default defineScenario({ retry: { on: ['451'], attempts: 100, backoff: { initial: '20ms', max: '80ms' } }, scenarios: { main: { executor: 'shared-iterations', vus: 2, iterations: ${MESSAGES}, maxDuration: '60s', gracefulStop: '20s' } } });\n`,
      );
      const results = join(temp.dir, 'results.json');
      const deferrals = () => proxy.stats.rejections['message:451'] ?? 0;
      const cli = startCli(['run', file, '--host', '127.0.0.1', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--to', 'load@example.com', '--out', results]);
      // Each message deferred at least three times: all of them are in the retry queue's cycle
      let atSignal = 0;
      for (let waited = 0; deferrals() < 3 * MESSAGES; waited += 20) {
        if (waited >= 30_000) { cli.child.kill('SIGKILL'); const ran = await cli.done; assert.unreachable(`the proxy deferred only ${deferrals()} attempts: ${ran.stderr}`); }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      atSignal = deferrals();
      cli.child.kill('SIGINT');
      const ran = await cli.done;
      assert.is(ran.code, ExitCode.interrupted, ran.stderr);
      // At most the attempts already on the wire when the signal came (one per message) are answered after it
      assert.ok(deferrals() - atSignal <= MESSAGES, `${deferrals() - atSignal} attempts answered after Ctrl+C (at most ${MESSAGES} were in flight)`);
      const written = JSON.parse(readFileSync(results, 'utf8'));
      assert.is(proxy.stats.messagesAccepted, 0);
      assert.is(written.results.successful, 0);
      assert.is(written.retries.pending, MESSAGES, JSON.stringify(written.retries));
      assert.is(written.retries.deferred, deferrals());
    });
  } finally {
    temp.remove();
  }
});

test.run();
