/** `runner report-html RESULTS`: its flags → runReportHtmlCommand (outputs/report-html-command.ts). */
import type { Command } from 'commander';
import { runReportHtmlCommand } from '../outputs/report-html-command.ts';

/** Adds `report-html` to the program. */
export function registerReportHtmlCommand(program: Command): void {
  program
    .command('report-html')
    .description('write the self-contained HTML report (charts, phases, errors, thresholds) of a results file')
    .argument('<results>', 'results file written by `runner run` (JSON)')
    .option('-o, --output <file>', 'report file (default: the results file with .html)')
    .action(async (results: string, flags: { output?: string }) => {
      await runReportHtmlCommand({ results, output: flags.output });
    });
}
