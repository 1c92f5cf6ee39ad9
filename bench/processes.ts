/**
 * What the benches share about the programs they start: finding Postfix's tools, a free port,
 * waiting for smtp-sink's greeting, and killing a child with its process group.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** A program's path on PATH or in the sbin folders Postfix installs to (not always on a user's PATH); undefined when absent. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Kills `child` and its process group (it was spawned detached), unless it has ended. */
export function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** A port free a moment ago on 127.0.0.1 (for a program that must be told its port). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Resolves once something on the port greets with 220; throws after `limitMs`. */
export async function waitForGreeting(port: number, limitMs: number): Promise<void> {
  const deadlineMs = performance.now() + limitMs;
  while (performance.now() < deadlineMs) {
    const isUp = await new Promise<boolean>((resolveUp) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(500);
      socket.once('data', (chunk) => {
        socket.destroy();
        resolveUp(chunk.toString('latin1').startsWith('220'));
      });
      socket.once('error', () => resolveUp(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolveUp(false);
      });
    });
    if (isUp) return;
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  throw new Error(`smtp-sink did not greet on 127.0.0.1:${port} within ${limitMs} ms`);
}
