/**
 * The stall watchdog alone, in a child process whose main thread blocks: in JavaScript (a
 * `while (true) {}`) it writes its snapshot and ends the process with the documented exit code
 * through the inspector; blocked in a system call, where even that cannot reach the thread,
 * SIGKILL remains (status 137).
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';

const WATCHDOG = fileURLToPath(new URL('../../runner/engine/stall-watchdog.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a script that starts the watchdog (300 ms limit), snapshots `file`, then blocks as `block` says. */
function runBlocked(dir: string, block: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; file: string }> {
  const file = join(dir, 'partial.json');
  const script = join(dir, 'blocked.ts');
  writeFileSync(script, [
    `import { startStallWatchdog } from ${JSON.stringify(WATCHDOG)};`,
    `const watchdog = startStallWatchdog({ stallLimitMs: 300 });`,
    `watchdog.snapshot({ files: [{ path: ${JSON.stringify(file)}, text: '{"status":"interrupted"}\\n' }], stdout: 'SUMMARY\\n' });`,
    // Blocks once the snapshot has reached the worker.
    `setTimeout(async () => { ${block} }, 200);`,
  ].join('\n'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const limit = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr, file });
    });
  });
}

const watchdog = suite('stall watchdog');

watchdog('a main thread stuck in a JavaScript loop: snapshot written, summary printed, exit 102 (no "Waiting for the debugger" line)', async () => {
  const temp = createTempDir();
  try {
    const ran = await runBlocked(temp.dir, 'while (true) {}');
    assert.is(ran.signal, null, ran.stderr);
    assert.is(ran.code, ExitCode.stalled, ran.stderr);
    assert.is(readFileSync(ran.file, 'utf8'), '{"status":"interrupted"}\n');
    assert.is(ran.stdout, 'SUMMARY\n');
    assert.match(ran.stderr, `partial results written to ${ran.file}`);
    assert.match(ran.stderr, 'exit code 102');
    assert.not.match(ran.stderr, 'debugger');
  } finally {
    temp.remove();
  }
});

watchdog('a main thread blocked in Atomics.wait (V8 serves interrupts there too): exit 102', async () => {
  const temp = createTempDir();
  try {
    const ran = await runBlocked(temp.dir, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);');
    assert.is(ran.code, ExitCode.stalled, ran.stderr);
  } finally {
    temp.remove();
  }
});

watchdog('a main thread blocked in a system call (opening a FIFO nobody writes): the inspector cannot reach it, SIGKILL ends it after the files are written', async () => {
  const temp = createTempDir();
  try {
    const fifo = join(temp.dir, 'fifo');
    assert.is(spawnSync('mkfifo', [fifo]).status, 0);
    const ran = await runBlocked(temp.dir, `(await import('node:fs')).readFileSync(${JSON.stringify(fifo)});`);
    assert.is(ran.signal, 'SIGKILL', `${ran.code} ${ran.stderr}`);
    assert.is(readFileSync(ran.file, 'utf8'), '{"status":"interrupted"}\n');
  } finally {
    temp.remove();
  }
});

watchdog.run();
