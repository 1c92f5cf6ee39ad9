/** `runner compare BEFORE AFTER` (commands/compare.ts declares its flags): read both files, compare, print, exit code. */
import { ExitCode } from '../errors.ts';
import { shouldColor } from '../util/color.ts';
import { readResultsFile } from '../results/read.ts';
import { compareRuns, findRegressions, formatComparison, formatRegressions } from './compare.ts';

/** What `runner compare` takes. */
export interface CompareCommandOptions {
  before: string;
  after: string;
  /** Fail (exit 99) on a significant regression larger than this fraction (0.1 for 10%). */
  failOnRegression?: number;
  /** Significance level. @default SIGNIFICANCE_ALPHA (0.01) */
  alpha?: number;
  /** Print JSON instead of the table. */
  json?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/** Compares two results files, prints the result and returns the exit code (0, or 99 on regression). */
export async function runCompareCommand(command: CompareCommandOptions): Promise<number> {
  const stdout = command.stdout ?? process.stdout;
  const before = await readResultsFile(command.before);
  const after = await readResultsFile(command.after);
  const comparison = compareRuns(before, after, { alpha: command.alpha });
  const limit = command.failOnRegression;
  const regressions = limit === undefined ? [] : findRegressions(comparison, limit);
  if (command.json) {
    const regression = limit === undefined ? null : { maxFraction: limit, failed: regressions.length > 0, regressions };
    stdout.write(JSON.stringify({ ...comparison, regression }, null, 2) + '\n');
  } else {
    const color = shouldColor(stdout, command.env ?? process.env);
    let text = formatComparison(comparison, { color });
    if (limit !== undefined) text += `\n${formatRegressions(regressions, limit)}`;
    stdout.write(text + '\n');
  }
  return regressions.length > 0 ? ExitCode.thresholdsFailed : ExitCode.ok;
}
