/** `runner worker` (hidden): one worker process of `runner run --workers N`, driven over IPC by its parent (workers/worker.ts). */
import type { Command } from 'commander';
import { runWorkerCommand } from '../workers/worker.ts';

/** Adds the hidden `worker` command to the program. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker', { hidden: true })
    .description('a worker process of runner run --workers (started by it, not by people)')
    .action(async () => {
      await runWorkerCommand();
    });
}
