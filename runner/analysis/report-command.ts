/** `runner report FILES…` (commands/report.ts declares its flags): a table over runs with the mean and spread of each figure. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode } from '../errors.ts';
import { shouldColor } from '../util/color.ts';
import { readResultsFiles, ResultsFileError } from '../results/read.ts';
import { buildReport, formatReport } from './report.ts';

/** What `runner report` takes. */
export interface ReportCommandOptions {
  /** Results files, or folders whose *.json files are all results files. */
  files: string[];
  json?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/** Expands folders into their *.json files (sorted), keeping files as given. */
async function expandFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
    if (names.length === 0) throw new ResultsFileError(path, `${path} is a folder without .json files`, 'give results files, e.g. runner report results/*.json');
    files.push(...names.map((name) => join(path, name)));
  }
  return files;
}

/** Builds and prints the report; returns the exit code. */
export async function runReportCommand(command: ReportCommandOptions): Promise<number> {
  const stdout = command.stdout ?? process.stdout;
  const runs = await readResultsFiles(await expandFiles(command.files));
  const report = buildReport(runs);
  if (command.json) stdout.write(JSON.stringify(report, null, 2) + '\n');
  else stdout.write(formatReport(report, { color: shouldColor(stdout, command.env ?? process.env) }) + '\n');
  return ExitCode.ok;
}
