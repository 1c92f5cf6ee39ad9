/** `runner compare BEFORE AFTER`: flags → analysis/compare.ts → a table (or JSON) and an exit code. */
import { InvalidArgumentError, type Command } from 'commander';
import { ExitCode } from '../errors.ts';
import { shouldColor } from '../util/color.ts';
import { compareRuns, findRegressions, formatComparison, formatRegressions } from '../analysis/compare.ts';
import { readResultsFile } from '../results/read.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { percent } from './flags.ts';
import { SIGNIFICANCE_ALPHA } from '../analysis/significance.ts';

function probability(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number > 0 && number < 1)) throw new InvalidArgumentError(`--alpha must be between 0 and 1 (e.g. 0.01), got '${value}'`);
  return number;
}

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

/** Adds `compare` to the program. */
export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare two results files (before, after): throughput ratio, success rate, latency per percentile and phase, each with its significance')
    .argument('<before>', 'results file of the baseline run (runner\'s or the old tool\'s)')
    .argument('<after>', 'results file of the run to judge')
    .option('--fail-on-regression <percent>', `exit ${ExitCode.thresholdsFailed} when requests/s or accepted msgs/s drop, or p95 latency rises, by more than this (e.g. 10%) and the change is significant (an untestable row counts on its size); no other row gates`, percent)
    .option('--alpha <p>', `significance level of the tests (default: ${SIGNIFICANCE_ALPHA}, the rule runner's trend verdicts use too)`, probability)
    .option('--json', 'print the comparison as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (before: string, after: string, flags: { failOnRegression?: number; alpha?: number; json?: boolean }) => {
      process.exitCode = await runCompareCommand({ before, after, failOnRegression: flags.failOnRegression, alpha: flags.alpha, json: flags.json });
    });
}
