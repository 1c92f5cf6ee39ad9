/** `runner report-html RESULTS` (commands/report-html.ts declares its flags): the HTML report of an existing results file. */
import { resolve, basename } from 'node:path';
import { readResultsFile, ResultsFileError } from '../results/read.ts';
import type { Summary } from '../results/types.ts';
import { renderHtmlReport } from './html-report.ts';
import { assertWritable, writeFileAtomic } from './atomic-write.ts';

/** What `runner report-html` takes. */
export interface ReportHtmlCommandOptions {
  /** The results file to draw. */
  results: string;
  /** The report file. @default the results file with .html (defaultReportPath) */
  output?: string;
  stdout?: NodeJS.WritableStream;
}

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

/** Reads the results file, writes its report atomically and says where. */
export async function runReportHtmlCommand(command: ReportHtmlCommandOptions): Promise<void> {
  const stdout = command.stdout ?? process.stdout;
  const resultsPath = resolve(command.results);
  const reportPath = resolve(command.output ?? defaultReportPath(command.results));
  const summary = await readReportSummary(resultsPath);
  await assertWritable(reportPath, 'HTML report');
  await writeFileAtomic(reportPath, renderHtmlReport(summary, { source: basename(resultsPath) }));
  stdout.write(`HTML report written to: ${reportPath}\n`);
}
