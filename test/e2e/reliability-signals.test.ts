/**
 * Issue 19's reproductions against the built CLI, each checked against the fake proxy's own
 * counts: a second Ctrl+C with messages in flight, SIGHUP with --with-fixture, control characters from scenario files and code. Waits are logical (a line printed, a count reached), never a judgement of the
 * machine's speed. (The other reliability-*.test.ts files hold the rest; reliability-support.ts
 * what they share.)
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { runCli, startCli } from '../cli-process.ts';

import { target, isAlive, until, scenarioFile } from './reliability-support.ts';

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
