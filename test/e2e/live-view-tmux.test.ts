/**
 * The live view in a real terminal: `runner run` inside tmux at 50, 80 and 160 columns, two
 * scenarios (a 20/s arrival rate beside two closed-model VUs). After a few redraws the screen
 * (capture-pane) holds the header and exactly one live view below it: no stale or wrapped line,
 * no line reaching the last column, one line at 50 columns; its counts are the run's (per
 * scenario they add up to the total, which is at most what the fake proxy accepted by then), the
 * arrival-rate scenario shows its own planned rate, and its own msgs/s, not the run's.
 * tmux is a Debian package (.ci/run installs it); without it the test skips, under CI it fails.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { BIN, ROOT } from '../cli-process.ts';
import { IS_CI, missingProgram, missingUnderCi } from '../tools.ts';

const missing = missingProgram('tmux', 'tmux');
const live = suite('live view under tmux');

const SCENARIO = `scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 20
    timeUnit: 1s
    duration: 12s
    preAllocatedVUs: 4
    maxVUs: 50
  fast:
    executor: constant-vus
    vus: 2
    duration: 12s
`;

/** tmux on a server of its own (-L), so the test never touches a user's sessions; asynchronous, so the in-process fake proxy keeps answering. */
async function tmux(socket: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  return stdout;
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

for (const columns of [50, 80, 160]) {
  live(`${columns} columns: one live view below the header, every line within the width, figures the run's`, async () => {
    if (missing) {
      if (IS_CI) assert.unreachable(missingUnderCi(missing));
      console.log(`  skipped: ${missing}`);
      return;
    }
    const temp = createTempDir();
    const socket = `runner-test-${process.pid}-${columns}`;
    try {
      await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
        const file = join(temp.dir, 'two.yaml');
        writeFileSync(file, SCENARIO);
        const command = [process.execPath, BIN, 'run', file, '--host', '127.0.0.1', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--to', 'load@example.com', '--no-out', '--no-check']
          .map(shellQuote).join(' ');
        await tmux(socket, ['new-session', '-d', '-x', String(columns), '-y', '50', '-c', ROOT, `env NO_COLOR=1 ${command}; sleep 60`]);
        // A few redraws: until the run is 5 s in (the totals line's elapsed time)
        let screen = '';
        let isFiveSecondsIn = false;
        for (let i = 0; i < 200 && !isFiveSecondsIn; i++) {
          await sleep(100);
          screen = await tmux(socket, ['capture-pane', '-p']);
          const elapsed = /(?:running |\] \d+% )(\d+)s\/12s/.exec(screen);
          isFiveSecondsIn = elapsed !== null && Number(elapsed[1]) >= 5;
          if (process.env.DEBUG_TMUX) console.log(i, JSON.stringify(screen.trimEnd().split("\n").slice(-2)));
        }
        assert.ok(isFiveSecondsIn, `no live view 5 s into the run:\n${screen}`);
        const accepted = proxy.stats.messagesAccepted;
        const lines = screen.split('\n').map((line) => line.trimEnd());
        while (lines.length && lines[lines.length - 1] === '') lines.pop();
        // The header ends with its rule (an 80-column rule wraps on a narrower terminal: it is
        // printed once, never redrawn); everything below it is the live view, drawn once
        const ruleAt = lines.length - 1 - [...lines].reverse().findIndex((line) => /^=+$/.test(line));
        assert.ok(ruleAt < lines.length, `no header rule:\n${screen}`);
        // A warning (all VUs busy, on a loaded machine) is printed once, above the live view; no
        // line of an earlier redraw may be left anywhere (a stale line shows its elapsed time)
        const below = lines.slice(ruleAt + 1);
        const liveStart = below.findIndex((line) => (columns <= 60 ? /^\[[=>-]{8}\] / : /^running \d+s\//).test(line));
        assert.ok(liveStart >= 0, `no live view below the header:\n${screen}`);
        assert.ok(below.slice(0, liveStart).every((line) => !/\d+s\/12s/.test(line)), `a stale live line above the live view:\n${screen}`);
        const view = below.slice(liveStart);
        for (const line of view) assert.ok([...line].length <= columns - 1, `a line reaches the last column (${[...line].length}): ${line}\n${screen}`);
        if (columns <= 60) {
          assert.is(view.length, 1, `one line at ${columns} columns:\n${screen}`);
          const match = /^\[[=>-]{8}\] \d+% \d+s\/12s ok (\d+) fail (\d+) [\d.]+\/s p95 /.exec(view[0]!);
          assert.ok(match, `the one line: ${view[0]}`);
          assert.ok(Number(match![1]) <= accepted, `ok ${match![1]} > the proxy's ${accepted}`);
          assert.ok(Number(match![1]) > 0);
          assert.is(Number(match![2]), 0);
          return;
        }
        assert.is(view.length, 3, `the totals line and two scenario lines, nothing stale:\n${screen}`);
        const compact = columns < 120;
        const totals = compact ? /ok (\d+) err (\d+)/.exec(view[0]!) : /Success: (\d+)  Failed: (\d+)/.exec(view[0]!);
        assert.match(view[0]!, /^running \d+s\/12s /);
        const steady = view.find((line) => line.startsWith('steady'))!;
        const fast = view.find((line) => line.startsWith('fast'))!;
        assert.ok(steady && fast, screen);
        const okOf = (line: string) => Number((compact ? /ok (\d+)/ : /Success: (\d+)/).exec(line)![1]);
        const rateOf = (line: string) => Number(/([\d.]+) msgs?\/s/.exec(line)![1]);
        assert.ok(totals, view[0]);
        // Per scenario the counts add up to the total, which the proxy had accepted by then
        assert.is(okOf(steady) + okOf(fast), Number(totals![1]));
        assert.ok(Number(totals![1]) <= accepted, `total ${totals![1]} > the proxy's ${accepted}`);
        assert.is(Number(totals![2]), 0);
        // steady plans 20/s: at most 20 a second since its start, plus the first
        const elapsed = Number(/^running (\d+)s/.exec(view[0]!)![1]);
        assert.ok(okOf(steady) <= 20 * (elapsed + 1) + 1, `steady ${okOf(steady)} after ${elapsed}s`);
        // Its own rate (planned 20/s), not the run's: at most a window's arrivals plus every VU's backlog
        assert.match(steady, compact ? /plan 20\.0\/s/ : /of 20\.0\/s planned/);
        assert.ok(rateOf(steady) <= 20 * 1.5 + 10, `steady shows ${rateOf(steady)} msgs/s: the run's figure?\n${screen}`);
        assert.match(steady, compact ? /VUs \d+\/\d+/ : /VUs \d+ busy\/\d+ allocated/);
        assert.not.match(fast, /planned|plan /);
      });
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      temp.remove();
    }
  });
}

live.run();
