/**
 * The `runner` command: parses flags with commander and delegates. Mistakes of the user come
 * out as one `error:` line with a `hint:`, and a documented exit code; never a stack trace.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { runCommand } from './run.ts';
import { runFixtureCommand } from './fixture-command.ts';
import { DEFAULTS } from './scenario/defaults.ts';
import { parseDurationMs } from './scenario/duration.ts';
import { ExitCode, RunnerError } from './errors.ts';
import type { CliOverrides } from './scenario/options.ts';

const EXIT_CODES_HELP = `
Exit codes:
  ${ExitCode.ok}    the run completed and every threshold passed
  ${ExitCode.failure}    unexpected failure (a bug: please report it)
  ${ExitCode.usage}    wrong command-line usage
  ${ExitCode.thresholdsFailed}   a threshold failed
  ${ExitCode.invalidOptions}  invalid options (scenario file, flags, thresholds)
  ${ExitCode.interrupted}  interrupted (SIGINT/SIGTERM); outputs are written and marked interrupted
  ${ExitCode.scriptError}  the scenario script failed to build or load, or setup() threw
  ${ExitCode.abortedByThreshold}  a threshold with abortOnFail stopped the run
  ${ExitCode.targetUnreachable}  the target could not be reached (preflight)
  ${ExitCode.outputError}  a results file could not be written`;

function integer(min: number, what: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) throw new InvalidArgumentError(`${what} must be a whole number, got '${value}'`);
    if (number < min) throw new InvalidArgumentError(`${what} must be ≥ ${min}, got ${number}`);
    return number;
  };
}

function positiveNumber(what: string) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0) throw new InvalidArgumentError(`${what} must be a number > 0, got '${value}'`);
    return number;
  };
}

function port(value: string): number {
  const number = integer(0, 'port')(value);
  if (number > 65535) throw new InvalidArgumentError(`port must be 1-65535, got ${number}`);
  return number;
}

function duration(value: string): string {
  try {
    parseDurationMs(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function keyValues(pairs: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new RunnerError(`${flag} '${pair}' is not KEY=VALUE`, { code: 'E_USAGE', exit: 'usage', hint: `write ${flag} NAME=value` });
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}

/** Builds the command tree (exported for tests of --help and parsing). */
export function buildProgram(): Command {
  const program = new Command('runner')
    .description('Scripted load testing for SMTP: scenarios as code, exact numbers, CI gates.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Before any subcommand is added, so they inherit it: errors come back to main().
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('run')
    .description('run a load test: a scenario file, or the old tool\'s flags (--num-emails, --concurrent)')
    .argument('[scenario]', 'scenario file: .ts/.js (export default defineScenario(...)) or .yaml/.yml/.json')
    .option('--num-emails <n>', `total emails (without a scenario file; with one it overrides iterations)`, integer(1, '--num-emails'))
    .option('--concurrent <n>', `concurrent connections (VUs) (default without a scenario file: ${DEFAULTS.concurrent})`, integer(1, '--concurrent'))
    .option('--batches', 'send in batches of --concurrent, each waiting for the previous (the old tool\'s model, with per-batch lines)')
    .option('--host <host>', `SMTP host (default: ${DEFAULTS.host})`)
    .option('--port <port>', `SMTP port (default: ${DEFAULTS.port})`, port)
    .option('--admin-url <url>', `proxy admin API, for hints (default: ${DEFAULTS.adminUrl})`)
    .option('--from <email>', `sender and AUTH user; must be a configured account (default: ${DEFAULTS.from})`)
    .option('--to <email>', `recipient; repeat for several (default: ${DEFAULTS.to})`, collect)
    .option('--no-auth', 'skip AUTH (plain SMTP servers such as smtp-sink)')
    .option('--message-size <bytes>', `body size in bytes (default: ${DEFAULTS.messageSize})`, integer(0, '--message-size'))
    .option('--messages-per-connection <n>', `messages per connection, RSET between (default: ${DEFAULTS.messagesPerConnection})`, integer(1, '--messages-per-connection'))
    .option('--timeout <duration>', `reply timeout per phase, e.g. 10s (default: ${DEFAULTS.timeout})`, duration)
    .option('--vus <n>', 'override VUs of every scenario', integer(1, '--vus'))
    .option('--iterations <n>', 'override iterations of iteration-based scenarios', integer(1, '--iterations'))
    .option('--duration <duration>', 'override duration (stages are rescaled to it), e.g. 30s', duration)
    .option('--rate <n>', 'override the rate of constant-arrival-rate scenarios (per timeUnit)', positiveNumber('--rate'))
    .option('--scale <factor>', 'multiply every duration and iteration count, e.g. 0.01 for a quick smoke run', positiveNumber('--scale'))
    .option('--scenario <name>', 'run only this named scenario; repeat for several', collect)
    .option('--env <KEY=VALUE>', 'environment for scenario code (ctx.env); repeatable', collect)
    .option('--tag <key=value>', 'tag every sample; repeatable', collect)
    .option('--out <file>', 'results file (default: load_test_results_<unix time>.json)')
    .option('--no-out', 'write no results file')
    .option('--quiet', 'print only the summary')
    .addOption(new Option('--progress-interval <seconds>', 'seconds between progress lines when not on a terminal').default(5).argParser(positiveNumber('--progress-interval')))
    .option('--no-check', 'skip the preflight connect to the target')
    .option('--with-fixture', 'start the built-in fake proxy in its own process and run against it')
    .option('--fixture-delay <phase=spec>', 'with --with-fixture: a server delay, e.g. message=50 (see runner fixture --help)', collect)
    .option('--fixture-failure <phase=spec>', 'with --with-fixture: injected failures, e.g. message=451:0.1', collect)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (scenario: string | undefined, flags: Record<string, any>) => {
      const overrides: CliOverrides = {
        host: flags['host'],
        port: flags['port'],
        adminUrl: flags['adminUrl'],
        from: flags['from'],
        to: flags['to'],
        auth: flags['auth'] === false ? 'none' : undefined,
        messageSize: flags['messageSize'],
        messagesPerConnection: flags['messagesPerConnection'],
        timeoutMs: flags['timeout'] === undefined ? undefined : parseDurationMs(flags['timeout']),
        vus: flags['vus'],
        iterations: flags['iterations'],
        duration: flags['duration'],
        rate: flags['rate'],
        scale: flags['scale'],
        env: keyValues(flags['env'], '--env'),
        tags: keyValues(flags['tag'], '--tag'),
        scenario: flags['scenario'],
      };
      const fixtureArgs = [
        ...(flags['fixtureDelay'] ?? []).flatMap((d: string) => ['--delay', d]),
        ...(flags['fixtureFailure'] ?? []).flatMap((f: string) => ['--failure', f]),
      ];
      const outcome = await runCommand({
        scenarioFile: scenario,
        overrides,
        numEmails: flags['numEmails'],
        concurrent: flags['concurrent'],
        batches: flags['batches'],
        out: flags['out'],
        quiet: flags['quiet'],
        progressIntervalMs: flags['progressInterval'] * 1000,
        check: flags['check'],
        withFixture: flags['withFixture'],
        fixtureArgs,
        handleSignals: true,
      });
      process.exitCode = outcome.exitCode;
    });

  program
    .command('fixture')
    .description('run the built-in fake XOAUTH2 proxy (SMTP + admin HTTP) until interrupted')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'SMTP port (0: any free port)', port, 2525)
    .option('--admin-port <port>', 'admin HTTP port (0: any free port)', port, 9090)
    .option('--accounts <file>', 'accounts.json in the proxy\'s format (default: the built-in fixtures/accounts.json)')
    .option('--delay <phase=spec>', 'server-side delay before replying: phase=ms | phase=uniform:MIN-MAX | phase=lognormal:MEDIAN,SIGMA; repeatable', collect)
    .option('--failure <phase=spec>', 'inject failures: phase=CODE:PROBABILITY | phase=disconnect|reset|silence:PROBABILITY; repeatable', collect)
    .option('--first-auth-delay <ms>', 'one-off delay on each account\'s first AUTH (token refresh)', integer(0, '--first-auth-delay'))
    .addOption(new Option('--unknown-account-code <code>', 'reply code for an account not configured').choices(['535', '454']).default('535'))
    .option('--max-clients <n>', 'concurrent connections before 421', integer(1, '--max-clients'))
    .option('--max-in-flight-per-account <n>', 'messages in DATA at once per account before 451 4.4.5', integer(1, '--max-in-flight-per-account'))
    .option('--seed <n>', 'seed for delays and failures', integer(0, '--seed'))
    .option('--json', 'print one JSON line {port, adminPort} when ready (for scripts)')
    .action(async (flags: Record<string, any>) => {
      await runFixtureCommand(flags);
    });

  return program;
}

/** Runs the CLI with process.argv; sets process.exitCode (bin/runner.js exits with it). */
export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

/** Prints an error for people and returns the exit code it maps to. */
function reportError(error: unknown): number {
  const code = (error as { code?: string })?.code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    // commander already printed the message (or the help/version it was asked for).
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (error instanceof RunnerError) {
    process.stderr.write(`error: ${error.message}\n`);
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  process.stderr.write(`error: unexpected failure (a bug in runner; please report it):\n${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.failure;
}
