/** `runner pause`: --api, --api-token, --json → controlCommand (api/client.ts). */
import type { Command, OptionValues } from 'commander';
import { controlCommand } from '../api/client.ts';
import { API_FLAGS } from './flag-groups.ts';

/** Adds `pause` to the program. */
export function registerPauseCommand(program: Command): void {
  const command = program.command('pause').description('pause a run started with --api: no iteration starts (arrival-rate schedules stop and restart where they were; durations are extended by the pause), running ones finish; the timeline marks the pause');
  API_FLAGS.add(command).option('--json', 'print the status as JSON');
  command.action(async (flags: OptionValues) => {
    await controlCommand({ action: 'pause', ...API_FLAGS.read(flags), json: (flags as { json?: boolean }).json });
  });
}
