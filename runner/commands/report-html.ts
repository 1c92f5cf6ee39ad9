/** `runner report-html`: the HTML report of an existing results file. */
import type { Command } from 'commander';
import { resolve, basename } from 'node:path';
import { UsageError } from '../errors.ts';
import { readResultsFile, ResultsFileError } from '../results/read.ts';
import { renderHtmlReport } from '../outputs/html-report.ts';
import { assertWritable, writeFileAtomic } from '../outputs/atomic-write.ts';
import type { Summary } from '../results/types.ts';

/** The report's default path beside a results file: run.json → run.html. */
export function defaultReportPath(resultsFile: string): string {
  return resultsFile.replace(/(\.json)?$/i, '.html');
}

/**
 * Reads a results file (validated, and upgraded to version 2, by results/read.ts) and returns its Summary. The old
 * Python tool's files have no timeline, phases or histograms to draw, so they are refused with the fix.
 */
export async function readReportSummary(path: string): Promise<Summary> {
  const loaded = await readResultsFile(path);
  if (!loaded.summary) {
    throw new ResultsFileError(path, `${path} was written by the old Python tool: it has no timeline, phases or histograms to draw`, 'run the test with `runner run --report report.html` (or `runner compare` / `runner report` read this file as it is)');
  }
  return loaded.summary;
}

/** Adds `report-html` to the program. */
export function registerReportHtmlCommand(program: Command): void {
  program
    .command('report-html')
    .description('write the self-contained HTML report (charts, phases, errors, thresholds) of a results file')
    .argument('<results>', 'results file written by `runner run` (JSON)')
    .option('-o, --output <file>', 'report file (default: the results file with .html)')
    .action(async (results: string, flags: { output?: string }) => {
      const resultsPath = resolve(results);
      const reportPath = resolve(flags.output ?? defaultReportPath(results));
      const summary = await readReportSummary(resultsPath);
      await assertWritable(reportPath, 'HTML report');
      await writeFileAtomic(reportPath, renderHtmlReport(summary, { source: basename(resultsPath) }));
      process.stdout.write(`HTML report written to: ${reportPath}\n`);
    });
}

