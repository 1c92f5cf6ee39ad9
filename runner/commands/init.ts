/** `runner init [dir]`: flags → runInit (init.ts). */
import type { Command } from 'commander';
import { ExitCode } from '../errors.ts';
import { runInit } from '../init.ts';

/** Adds `init` to the program. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('start a TypeScript project of your own (as k6 new): package.json, tsconfig.json, an example scenario and an accounts file')
    .argument('[dir]', 'the project folder, created when missing', '.')
    .option('--runner <spec>', 'how package.json names the runner dependency, e.g. a git URL (default: file: and this runner\'s folder)')
    .option('--force', 'overwrite files that already exist')
    .action((dir: string, flags: { runner?: string; force?: boolean }) => {
      runInit({ dir, runnerSpec: flags.runner, force: flags.force });
      process.exitCode = ExitCode.ok;
    });
}
