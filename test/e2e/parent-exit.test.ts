/**
 * `npx runner …` is npm → sh → runner. A supervisor's SIGTERM to npm, or a terminal's Ctrl+C
 * to the whole group, kills npm and the shell at once; runner must still stop gracefully, write
 * its results and end with exit 105, never keep sending orphaned. Here a small parent process
 * stands in for npm and its shell: it starts runner with inherited output, as they do, and dies
 * of the signal as they do (no handlers).
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { BIN, ROOT } from '../cli-process.ts';
import type { FakeProxy } from '../../fixtures/fake-proxy.ts';

/** The stand-in for npm and its shell: starts runner with stdio inherited, prints its pid, waits to be killed. */
const PARENT_SOURCE = `
import { spawn } from 'node:child_process';
const child = spawn(process.execPath, process.argv.slice(2), { stdio: 'inherit' });
process.stderr.write('RUNNER_PID=' + child.pid + '\\n');
setInterval(() => {}, 1 << 30);
`;

interface Family {
  parent: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once every writer of the output pipes (parent and runner) has closed them. */
  closed: Promise<void>;
  runnerPid(): number | undefined;
}

function startFamily(dir: string, runnerArgs: string[], options: { detached?: boolean } = {}): Family {
  const parentFile = join(dir, 'parent.mjs');
  writeFileSync(parentFile, PARENT_SOURCE);
  const parent = spawn(process.execPath, [parentFile, BIN, ...runnerArgs], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, detached: options.detached ?? false });
  let stdout = '';
  let stderr = '';
  parent.stdout!.on('data', (chunk) => (stdout += chunk));
  parent.stderr!.on('data', (chunk) => (stderr += chunk));
  // 'end' on both pipes: the runner (which inherited them) has exited too.
  const closed = Promise.all([new Promise((resolve) => parent.stdout!.on('end', resolve)), new Promise((resolve) => parent.stderr!.on('end', resolve))]).then(() => undefined);
  return {
    parent,
    stdout: () => stdout,
    stderr: () => stderr,
    closed,
    runnerPid: () => {
      const match = /RUNNER_PID=(\d+)/.exec(stderr);
      return match ? Number(match[1]) : undefined;
    },
  };
}

/** Whether `pid` still runs: an orphan that exited may stay a zombie until its new parent reaps it, which is not running. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

/** Waits until `predicate` holds, checking every 50 ms; fails after `limitMs` with `what`. */
async function waitFor(predicate: () => boolean, limitMs: number, what: () => string): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for the runner's output pipes to close; kills it (and fails) if it keeps going. */
async function waitForRunnerEnd(family: Family, limitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'limit'>((resolve) => (timer = setTimeout(() => resolve('limit'), limitMs)));
  const outcome = await Promise.race([family.closed, limit]);
  clearTimeout(timer);
  if (outcome === 'limit') {
    const pid = family.runnerPid();
    if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
    assert.unreachable(`runner still running ${limitMs} ms after its parent died (orphaned):\n${family.stdout()}\n${family.stderr()}`);
  }
}

const target = (proxy: FakeProxy) => ['--host', '127.0.0.1', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--to', 'load@example.com'];

/** The run's own results file, checked: interrupted, graceful (nothing in flight lost), counts equal to what the proxy accepted. */
function assertGracefulResults(file: string, proxy: FakeProxy, family: Family): void {
  const results = JSON.parse(readFileSync(file, 'utf8'));
  assert.is(results.status, 'interrupted');
  assert.is(results.abort_reason, null, 'a parent\'s exit after the signal must not count as a second signal');
  assert.ok(results.results.successful > 0);
  assert.is(results.results.failed, 0, JSON.stringify(results.results.errors));
  assert.is(results.results.successful, proxy.stats.messagesAccepted);
  assert.match(family.stdout(), 'LOAD TEST RESULTS');
  // The verdict, last, with the exit code the process ended with
  assert.match(family.stdout().trimEnd().split('\n').at(-1)!, /^■ INTERRUPTED: .* — exit 105$/);
}

const parentExit = suite('parent exit: runner started by a parent that dies (npx) stops gracefully, writes results, exits 105');

parentExit('SIGTERM to the parent only (a supervisor stopping `npx runner`): runner notices, stops, writes its results', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
      const out = join(temp.dir, 'results.json');
      const family = startFamily(temp.dir, ['run', ...target(proxy), '--num-emails', '100000', '--concurrent', '4', '--progress-interval', '0.5', '--out', out]);
      await waitFor(() => /Success: [1-9]/.test(family.stdout()), 30_000, () => `no progress: ${family.stdout()}${family.stderr()}`);
      const runnerPid = family.runnerPid()!;
      family.parent.kill('SIGTERM');
      await waitForRunnerEnd(family, 20_000);
      assert.not.ok(isAlive(runnerPid));
      assert.match(family.stderr(), 'the parent process exited: stopping');
      assertGracefulResults(out, proxy, family);
    });
  } finally {
    temp.remove();
  }
});

parentExit('Ctrl+C to the whole group (a terminal under npx): one graceful stop, the parent\'s death is not a second signal', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
      const out = join(temp.dir, 'results.json');
      const family = startFamily(temp.dir, ['run', ...target(proxy), '--num-emails', '100000', '--concurrent', '4', '--progress-interval', '0.5', '--out', out], { detached: true });
      await waitFor(() => /Success: [1-9]/.test(family.stdout()), 30_000, () => `no progress: ${family.stdout()}${family.stderr()}`);
      process.kill(-family.parent.pid!, 'SIGINT');
      await waitForRunnerEnd(family, 20_000);
      assert.match(family.stderr(), 'SIGINT: stopping');
      assert.not.match(family.stderr(), 'again: partial results written');
      assertGracefulResults(out, proxy, family);
    });
  } finally {
    temp.remove();
  }
});

parentExit('`runner fixture` whose parent dies: the fake proxy closes instead of serving on, orphaned', async () => {
  const temp = createTempDir();
  try {
    const family = startFamily(temp.dir, ['fixture', '--port', '0', '--admin-port', '0', '--json']);
    await waitFor(() => /"port"/.test(family.stdout()), 15_000, () => `fixture did not start: ${family.stderr()}`);
    const fixturePid = family.runnerPid()!;
    family.parent.kill('SIGKILL');
    await waitForRunnerEnd(family, 10_000);
    assert.not.ok(isAlive(fixturePid));
  } finally {
    temp.remove();
  }
});

parentExit.run();
