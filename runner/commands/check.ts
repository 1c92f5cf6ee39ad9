/** `runner check`: flags → runCheck → one line per step, then each problem with its fix (or --json). */
import type { Command } from 'commander';
import { runCheck, type CheckReport } from '../check/check.ts';
import { normalizeAdminUrl } from '../check/steps.ts';
import { formatCheckFooter, formatCheckHeader, formatCheckJson, formatStepLine, titleWidth } from '../check/report.ts';
import { DEFAULTS } from '../scenario/defaults.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import { isEmailAddress } from '../scenario/accounts.ts';
import { shouldColor } from '../outputs/console.ts';
import { InvalidOptionsError } from '../errors.ts';
import { duration, targetPort } from './flags.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';

/** Timeout of each check step unless --timeout says otherwise. */
export const DEFAULT_CHECK_TIMEOUT = '10s';

/** What `runner check` takes. */
export interface CheckCommandOptions {
  host?: string;
  port?: number;
  from?: string;
  adminUrl?: string;
  /** Per-step timeout as written, e.g. '5s'. @default DEFAULT_CHECK_TIMEOUT */
  timeout?: string;
  /** AUTH PLAIN as --from. @default true */
  auth?: boolean;
  /** Check /health and /admin/accounts. @default true */
  admin?: boolean;
  /** Print one JSON object instead of lines. */
  json?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/** Adds `check` to the program. */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check a target before a run, like the guide\'s troubleshooting: connect, greeting, EHLO, AUTH as --from, MAIL/RSET (nothing is sent), QUIT, GET /health and /admin/accounts')
    .option('--host <host>', `SMTP host (default: ${DEFAULTS.host})`)
    .option('--port <port>', `SMTP port (default: ${DEFAULTS.port})`, targetPort)
    .option('--from <email>', `the account to AUTH as; must be configured in the proxy (default: ${DEFAULTS.from})`)
    .option('--admin-url <url>', `the proxy's admin API (default: ${DEFAULTS.adminUrl})`)
    .option('--timeout <duration>', `timeout of each step, e.g. 5s (default: ${DEFAULT_CHECK_TIMEOUT})`, duration)
    .option('--no-auth', 'skip AUTH (plain SMTP servers such as smtp-sink)')
    .option('--no-admin', 'skip the admin API (/health, /admin/accounts)')
    .option('--json', 'print one JSON object (steps, problems, exit_code) instead of lines')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: Record<string, any>) => {
      process.exitCode = await runCheckCommand({
        host: flags['host'],
        port: flags['port'],
        from: flags['from'],
        adminUrl: flags['adminUrl'],
        timeout: flags['timeout'],
        auth: flags['auth'],
        admin: flags['admin'],
        json: flags['json'],
      });
    });
}

/** Runs the check, printing each step as it finishes (or JSON at the end); returns the exit code. Throws InvalidOptionsError for bad flags. */
export async function runCheckCommand(command: CheckCommandOptions): Promise<number> {
  const stdout = command.stdout ?? process.stdout;
  const options = {
    host: command.host ?? DEFAULTS.host,
    port: command.port ?? DEFAULTS.port,
    from: command.from ?? DEFAULTS.from,
    adminUrl: normalizeAdminUrl(command.adminUrl ?? DEFAULTS.adminUrl),
    isAuth: command.auth ?? true,
    isAdminChecked: command.admin ?? true,
    timeoutMs: parseDurationMs(command.timeout ?? DEFAULT_CHECK_TIMEOUT),
  };
  const problems: string[] = [];
  if (options.port === 0) problems.push('--port: 0 is not a port to connect to; the proxy listens on 2525 in the guide');
  if (!isEmailAddress(options.from)) problems.push(`--from: '${options.from}' is not an email address`);
  if (!/^https?:\/\/[^\s/]+/.test(options.adminUrl)) problems.push(`--admin-url: '${options.adminUrl}' is not an http:// URL, e.g. ${DEFAULTS.adminUrl}`);
  if (!(options.timeoutMs > 0)) problems.push('--timeout: must be more than 0, e.g. 5s');
  if (problems.length > 0) throw new InvalidOptionsError(problems);

  let report: CheckReport;
  if (command.json) {
    report = await runCheck(options);
    stdout.write(formatCheckJson(report) + '\n');
  } else {
    const color = shouldColor(stdout, command.env ?? process.env);
    const width = titleWidth(options.from);
    stdout.write(formatCheckHeader(options) + '\n');
    report = await runCheck(options, (step) => stdout.write(formatStepLine(step, { color, titleWidth: width }) + '\n'));
    stdout.write(formatCheckFooter(report, { color }) + '\n');
  }
  return report.exitCode;
}
