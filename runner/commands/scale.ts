/** `runner scale --vus N`: --api, --api-token, --json → controlCommand (api/client.ts). */
import type { Command, OptionValues } from 'commander';
import { controlCommand } from '../api/client.ts';
import { integer } from './flags.ts';
import { API_FLAGS } from './flag-groups.ts';

/** Adds `scale` to the program. */
export function registerScaleCommand(program: Command): void {
  const command = program
    .command('scale')
    .description('set the VUs of the externally-controlled scenarios of a run started with --api (0 to their maxVUs)')
    .requiredOption('--vus <n>', 'VUs to run from now on', integer(0, '--vus', 'vus'));
  API_FLAGS.add(command).option('--json', 'print the status as JSON');
  command.action(async (flags: OptionValues) => {
    const own = flags as { vus: number; json?: boolean };
    await controlCommand({ action: 'scale', vus: own.vus, ...API_FLAGS.read(flags), json: own.json });
  });
}
