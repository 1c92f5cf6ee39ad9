/** `runner report FILES…`: its flags → runReportCommand (analysis/report-command.ts). */
import type { Command } from 'commander';
import { runReportCommand } from '../analysis/report-command.ts';

/** Adds `report` to the program. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('a table over several runs (results files or folders of them): one row per run, then mean, stddev, min–max and CV of each figure')
    .argument('<files...>', 'results files, e.g. results/*.json (runner\'s or the old tool\'s), or folders')
    .option('--json', 'print the report as JSON')
    .action(async (files: string[], flags: { json?: boolean }) => {
      process.exitCode = await runReportCommand({ files, json: flags.json });
    });
}
