/**
 * bench/smtp-source.ts as a user meets it: a mistyped flag is named (exit 2, no stack trace), and
 * the bench stopped from outside (SIGTERM) leaves neither a process it started nor a temporary
 * folder behind. Reads dist/cli.cjs (--no-build): run `node build.mjs`. The SIGTERM case needs
 * Postfix's smtp-sink and smtp-source (skipped without).
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

const BENCH = join(ROOT, 'bench/smtp-source.ts');
const bench = suite('bench (smtp-source.ts): flags and what it leaves');

bench('an unknown flag: exit 2, named, no stack trace', () => {
  const ran = spawnSync(process.execPath, ['--import', 'tsx', BENCH, '--mesages', '10'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.is(ran.status, 2, ran.stderr);
  assert.match(ran.stderr, /^bench: Unknown option '--mesages'/);
  assert.not.match(ran.stderr, /\n\s+at /);
});

/** Postfix's smtp-sink and smtp-source, which the run needs (.ci/run installs postfix): why it cannot run, or undefined. */
const missing = ['smtp-sink', 'smtp-source'].map((tool) => (findProgram(`/usr/sbin/${tool}`) || findProgram(tool) ? undefined : missingProgram(tool, 'postfix'))).find((reason) => reason !== undefined);
const sigtermName = 'SIGTERM mid-run: no process it started and no temporary folder outlive it';

if (missing && !IS_CI) {
  process.stderr.write(`\nSKIPPED bench signal test: ${missing}\n`);
  bench.skip(`${sigtermName} (skipped: ${missing})`, () => {});
} else bench(sigtermName, async () => {
  if (missing) assert.unreachable(missingUnderCi(missing));
  const child = spawn(process.execPath, ['--import', 'tsx', BENCH, '--no-build', '--tools', 'runner', '--mode', 'new', '--messages', '400000'], { cwd: ROOT, stdio: 'ignore' });
  try {
    // The sink and the measured runner (under /usr/bin/time) of the 400,000-message run
    let started: number[] = [];
    let cmdlines = '';
    for (let i = 0; i < 400 && !/--num-emails\x00400000/.test(cmdlines); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      started = childrenOf(child.pid!);
      cmdlines = started.map((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
        } catch {
          return '';
        }
      }).join('\n');
    }
    assert.match(cmdlines, /--num-emails\x00400000/, 'the long run did not start');
    const all = [...started, ...started.flatMap(childrenOf)];
    // Its folders: the CPU file's (-o DIR/cpu), the results' (--out DIR/...), the bare client's bundle
    const dirs = [...cmdlines.matchAll(/\0(\/[^\0]*runner-bench-[^\0/]+)\//g)].map((match) => match[1]!);
    assert.ok(dirs.length >= 2 && dirs.every((dir) => dir.startsWith(tmpdir()) && existsSync(dir)), `folders: ${dirs.join(' ')}`);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.is(await exited, 130);
    for (let i = 0; i < 40 && all.some(isAlive); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(all.filter(isAlive), [], 'processes the bench started outlived it');
    assert.equal(dirs.filter((dir) => existsSync(dir)), [], 'temporary folders left behind');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

bench.run();
