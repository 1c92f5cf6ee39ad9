/** `runner archive`: run's scenario flags and -o → archiveCommand (archive/archive.ts). */
import type { Command, OptionValues } from 'commander';
import { archiveCommand } from '../archive/archive.ts';
import { SCENARIO_OVERRIDE_GROUPS, readScenarioOverrides } from './flag-groups.ts';

/** Adds `archive` to the program. */
export function registerArchiveCommand(program: Command): void {
  const command = program
    .command('archive')
    .description('pack a scenario into one .tar that runs anywhere unchanged (runner run FILE.tar): the scenario bundled with its imports, its accounts and TLS CA files, the flags given here (passwords and tokens left out), the resolved options and runner\'s version')
    .argument('<scenario>', 'scenario file (.ts/.js/.yaml/.yml/.json)')
    .requiredOption('-o, --out <file>', 'the archive to write (.tar)');
  for (const group of SCENARIO_OVERRIDE_GROUPS) group.add(command);
  command.action(async (scenario: string, flags: OptionValues) => {
    await archiveCommand({ scenarioFile: scenario, overrides: readScenarioOverrides(flags), out: (flags as { out: string }).out });
  });
}
