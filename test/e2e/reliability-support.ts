/**
 * What the reliability tests share (issue 19's reproductions against the built CLI, split into
 * files by subject so they run side by side): the fake-proxy target flags, device nodes, a
 * process probe and a logical wait.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeProxy } from '../../fixtures/fake-proxy.ts';

/** Flags that aim a run at an in-process fake proxy, mailing a reserved test domain (RFC 2606). */
export const target = (proxy: FakeProxy) => ['--host', '127.0.0.1', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--to', 'load@example.com'];
export const isRoot = process.getuid?.() === 0;

/** A copy of a character device (mknod needs root): /dev/null is 1,3, /dev/full 1,7. */
export function makeDevice(path: string, minor: 3 | 7): void {
  const made = spawnSync('mknod', [path, 'c', '1', String(minor)]);
  assert.is(made.status, 0, String(made.stderr));
}

/** Whether a process exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once `check()` holds, polling each 50 ms; rejects after `limitMs` (a bound, not a measurement). */
export async function until(check: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Writes a TypeScript scenario into `dir` and returns its path. */
export function scenarioFile(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `import { defineScenario } from 'runner';\nexport default defineScenario(${body});\n`);
  return path;
}
