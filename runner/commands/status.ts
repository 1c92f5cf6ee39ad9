/** `runner status`: --api, --api-token, --json → controlCommand (api/client.ts). */
import type { Command, OptionValues } from 'commander';
import { controlCommand } from '../api/client.ts';
import { API_FLAGS } from './flag-groups.ts';

/** Adds `status` to the program. */
export function registerStatusCommand(program: Command): void {
  const command = program.command('status').description('print the status of a run started with --api: phase, paused, VUs, elapsed');
  API_FLAGS.add(command).option('--json', 'print the status as JSON');
  command.action(async (flags: OptionValues) => {
    await controlCommand({ action: 'status', ...API_FLAGS.read(flags), json: (flags as { json?: boolean }).json });
  });
}
