/** `runner merge FILES… -o OUT`: its flags → runMergeCommand (analysis/merge-command.ts). */
import type { Command } from 'commander';
import { runMergeCommand } from '../analysis/merge-command.ts';

/** Adds `merge` to the program. */
export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('merge results files of generators that ran at the same time against one target (exact histograms, counters, aligned timelines)')
    .argument('<files...>', 'results files written by runner run')
    .requiredOption('-o, --out <file>', 'the merged results file to write')
    .action(async (files: string[], flags: { out: string }) => {
      process.exitCode = await runMergeCommand({ files, out: flags.out });
    });
}
