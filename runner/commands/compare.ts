/** `runner compare BEFORE AFTER`: its flags → runCompareCommand (analysis/compare-command.ts). */
import type { Command } from 'commander';
import { ExitCode } from '../errors.ts';
import { runCompareCommand } from '../analysis/compare-command.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { percent, probability } from './flags.ts';
import { SIGNIFICANCE_ALPHA } from '../analysis/significance.ts';

/** Adds `compare` to the program. */
export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare two results files (before, after): throughput ratio, success rate, latency per percentile and phase, each with its significance')
    .argument('<before>', 'results file of the baseline run (runner\'s or the old tool\'s)')
    .argument('<after>', 'results file of the run to judge')
    .option('--fail-on-regression <percent>', `exit ${ExitCode.thresholdsFailed} when requests/s or accepted msgs/s drop, or p95 latency rises (with delivery tracked in both: delivered msgs/s drops or the delivery lag's p95 rises), by more than this (e.g. 10%) and the change is significant (an untestable row counts on its size); no other row gates`, percent)
    .option('--alpha <p>', `significance level of the tests (default: ${SIGNIFICANCE_ALPHA}, the rule runner's trend verdicts use too)`, probability)
    .option('--json', 'print the comparison as JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (before: string, after: string, flags: { failOnRegression?: number; alpha?: number; json?: boolean }) => {
      process.exitCode = await runCompareCommand({ before, after, failOnRegression: flags.failOnRegression, alpha: flags.alpha, json: flags.json });
    });
}
