/**
 * When a worker process has ended, for the parent: on the child's 'close', not its 'exit'. Node
 * emits 'exit' as soon as the process is gone, which can be before the IPC messages it sent last
 * (its final report) have been read from the pipe; 'close' comes once the IPC channel and the
 * stdio pipes are closed too, so every message it sent has been delivered by then.
 */
import type { ChildProcess } from 'node:child_process';

/** How `child` ended ("exited with code 0", "was killed (SIGTERM)"), once its last message has arrived. */
export function childEnded(child: ChildProcess): Promise<{ how: string }> {
  return new Promise((resolve) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      resolve({ how: signal ? `was killed (${signal})` : `exited with code ${code}` });
    });
  });
}
