/** `runner check`: its own flags and the shared groups (flag-groups.ts) → runCheckCommand (check/check-command.ts). */
import type { Command, OptionValues } from 'commander';
import { DEFAULT_CHECK_TIMEOUT, runCheckCommand } from '../check/check-command.ts';
import { duration } from './flags.ts';
import { AUTH_FLAGS, endHelpGroups, TARGET_FLAGS, TLS_FLAGS } from './flag-groups.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';

/** What commander parses for check's own flags (the groups type theirs). */
interface CheckFlags {
  timeout?: string;
  admin?: boolean;
  json?: boolean;
  delivery?: string;
}

/** Adds `check` to the program. */
export function registerCheckCommand(program: Command): void {
  const command = program
    .command('check')
    .description('check a target before a run, like the guide\'s troubleshooting: connect, TLS (--tls), greeting, EHLO, AUTH as --from, MAIL/RSET (nothing is sent), QUIT, GET /health and /admin/accounts; with --delivery, the runner sink');
  // The same target, sender, AUTH and TLS flags as `runner run`; no recipients: check sends no mail
  for (const group of [TARGET_FLAGS, AUTH_FLAGS, TLS_FLAGS]) group.add(command);
  command
    .optionsGroup('Check:')
    .option('--timeout <duration>', `timeout of each step, e.g. 5s (default: ${DEFAULT_CHECK_TIMEOUT})`, duration)
    .option('--no-admin', 'skip the admin API (/health, /admin/accounts)')
    .option('--json', 'print one JSON object (steps, problems, exit_code) instead of lines')
    .option('--delivery <source>', 'also check the delivery source a run would read: sink=http://HOST:ADMIN_PORT (a runner sink\'s admin URL: does it answer, how many deliveries it holds)');
  endHelpGroups(command)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: OptionValues) => {
      const own = flags as CheckFlags;
      process.exitCode = await runCheckCommand({
        ...TARGET_FLAGS.read(flags),
        ...AUTH_FLAGS.read(flags),
        ...TLS_FLAGS.read(flags),
        timeout: own.timeout,
        admin: own.admin,
        json: own.json,
        delivery: own.delivery,
      });
    });
}
