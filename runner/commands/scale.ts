/** `runner scale --vus N | --rate R`: --api, --api-token, --json → controlCommand (api/client.ts). */
import type { Command, OptionValues } from 'commander';
import { controlCommand } from '../api/client.ts';
import { integer, ratePerSecond } from './flags.ts';
import { API_FLAGS } from './flag-groups.ts';

/** Adds `scale` to the program. */
export function registerScaleCommand(program: Command): void {
  const command = program
    .command('scale')
    .description(
      'change a run started with --api while it goes: --vus sets the VUs of its externally-controlled scenarios (0 to their maxVUs); ' +
        '--rate sets the arrival rate of its running constant-arrival-rate scenarios from now on (the schedule goes on at the new rate: ' +
        'no burst to catch up, no arrival lost; still bounded by maxVUs; marked in the timeline). A ramping-arrival-rate scenario follows its stages and refuses it',
    )
    .option('--vus <n>', 'VUs to run from now on', integer(0, '--vus', 'vus'))
    .option('--rate <rate>', "arrivals from now on: per second (20) or per unit ('200/m', '5/s', '3600/h')", ratePerSecond);
  API_FLAGS.add(command).option('--json', 'print the status as JSON');
  command.action(async (flags: OptionValues) => {
    const own = flags as { vus?: number; rate?: number; json?: boolean };
    await controlCommand({ action: 'scale', vus: own.vus, ratePerSecond: own.rate, ...API_FLAGS.read(flags), json: own.json });
  });
}
