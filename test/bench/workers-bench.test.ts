/**
 * bench/workers.ts as a user meets it: a mistyped flag is named (exit 2, no stack trace, nothing
 * built or started), and the bench stopped from outside (SIGTERM, as `timeout` sends) takes every
 * process it started with it (smtp-sink, /usr/bin/time and the runner under it) and removes its
 * results folder. Reads dist/cli.cjs (--no-build): run `node build.mjs`. The SIGTERM case needs
 * Postfix's smtp-sink (skipped without).
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../cli-process.ts';
import { IS_CI, findProgram, missingProgram, missingUnderCi } from '../tools.ts';
import { childrenOf, isAlive } from './processes.ts';

const BENCH = join(ROOT, 'bench/workers.ts');
const bench = suite('bench:workers: flags and its children');

function runBench(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', BENCH, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

for (const [args, said] of [
  [['--messages', 'abc'], /--messages must be a whole number >= 1, got 'abc'/],
  [['--rounds', '0'], /--rounds must be a whole number >= 1, got '0'/],
  [['--concurrency', '2.5'], /--concurrency must be a whole number >= 1, got '2.5'/],
  [['--mesages', '10'], /Unknown option '--mesages'/],
  [['--only', 'no such row'], /no row's name holds 'no such row'/],
  [['--pin', '--only', 'fake proxy'], /among the smtp-sink rows/],
] as const) {
  bench(`${args.join(' ')}: exit 2, the flag named, no stack trace`, () => {
    const ran = runBench([...args]);
    assert.is(ran.status, 2, ran.stderr);
    assert.match(ran.stderr, said);
    assert.match(ran.stderr, /^usage: npm run bench:workers/m);
    assert.not.match(ran.stderr, /\n\s+at /);
  });
}

/** Postfix's smtp-sink, which the run needs (.ci/run installs postfix): why it cannot run, or undefined. */
const missing = findProgram('/usr/sbin/smtp-sink') || findProgram('smtp-sink') ? undefined : missingProgram('smtp-sink', 'postfix');
const sigtermName = 'SIGTERM mid-run: the bench exits and every process it started ends with it';

if (missing && !IS_CI) {
  process.stderr.write(`\nSKIPPED bench:workers signal test: ${missing}\n`);
  bench.skip(`${sigtermName} (skipped: ${missing})`, () => {});
} else bench(sigtermName, async () => {
  if (missing) assert.unreachable(missingUnderCi(missing));
  // Long enough that the run is still going when the signal comes; --no-build: a build here would
  // replace dist/ under the tests running beside this one
  const child = spawn(process.execPath, ['--import', 'tsx', BENCH, '--no-build', '--only', 'smtp-sink, new connection, 1 process', '--messages', '400000', '--rounds', '1'], { cwd: ROOT, stdio: 'ignore' });
  try {
    // The sink, then /usr/bin/time with runner under it: both children of the bench, and a grandchild
    let started: number[] = [];
    for (let i = 0; i < 300 && started.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      started = childrenOf(child.pid!);
    }
    assert.ok(started.length >= 2, `the bench started ${started.length} children`);
    const all = [...started, ...started.flatMap(childrenOf)];
    // The running row's results folder (--out of the runner under /usr/bin/time)
    const resultsDirs = all.flatMap((pid) => {
      try {
        const out = /--out\0([^\0]+)\/results\.json/.exec(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
        return out ? [out[1]!] : [];
      } catch {
        return [];
      }
    });
    assert.ok(resultsDirs.length > 0 && resultsDirs.every((dir) => dir.startsWith(tmpdir())), `results folders: ${resultsDirs.join(' ')}`);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.is(await exited, 143);
    for (let i = 0; i < 40 && all.some(isAlive); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(all.filter(isAlive), [], 'processes the bench started outlived it');
    assert.equal(resultsDirs.filter((dir) => existsSync(dir)), [], 'results folders left behind');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

bench.run();
