/** `runner resume`: --api, --api-token, --json → controlCommand (api/client.ts). */
import type { Command, OptionValues } from 'commander';
import { controlCommand } from '../api/client.ts';
import { API_FLAGS } from './flag-groups.ts';

/** Adds `resume` to the program. */
export function registerResumeCommand(program: Command): void {
  const command = program.command('resume').description('resume a run paused with runner pause');
  API_FLAGS.add(command).option('--json', 'print the status as JSON');
  command.action(async (flags: OptionValues) => {
    await controlCommand({ action: 'resume', ...API_FLAGS.read(flags), json: (flags as { json?: boolean }).json });
  });
}
