/** `runner inspect`: run's scenario flags, --expected-latency and --json → inspectCommand (inspect/inspect.ts). */
import type { Command, OptionValues } from 'commander';
import { inspectCommand } from '../inspect/inspect.ts';
import { DEFAULT_EXPECTED_LATENCY } from '../inspect/plan.ts';
import { duration } from './flags.ts';
import { SCENARIO_OVERRIDE_GROUPS, readScenarioOverrides } from './flag-groups.ts';

/** Adds `inspect` to the program. */
export function registerInspectCommand(program: Command): void {
  const command = program
    .command('inspect')
    .description('show what a run would do, sending nothing: the resolved options, each scenario\'s planned schedule (table and sparkline), iterations and length, the thresholds as parsed, and warnings')
    .argument('<scenario>', 'scenario file (.ts/.js/.yaml/.yml/.json) or an archive from runner archive (.tar)');
  for (const group of SCENARIO_OVERRIDE_GROUPS) group.add(command);
  command
    .option('--expected-latency <duration>', `how long one message is assumed to take, for the plans that depend on it (Little's law for arrival-rate VUs, the length of iteration counts); a measured p(95) is a good choice (default: ${DEFAULT_EXPECTED_LATENCY})`, duration)
    .option('--json', 'print the report as JSON (for machines)')
    .action(async (scenario: string, flags: OptionValues) => {
      const own = flags as { expectedLatency?: string; json?: boolean };
      await inspectCommand({ scenarioFile: scenario, overrides: readScenarioOverrides(flags), expectedLatency: own.expectedLatency, json: own.json });
    });
}
