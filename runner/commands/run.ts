/** `runner run`: flags → RunCommandOptions → run.ts. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolve as resolvePath } from 'node:path';
import { isatty } from 'node:tty';
import { REAL_MAIL_FREE_MESSAGES } from '../safety.ts';
import { runCommand } from '../run.ts';
import { DEFAULTS } from '../scenario/defaults.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import type { CliOverrides } from '../scenario/options.ts';
import { addSmtpSecurityOptions, collect, duration, integer, keyValues, port, positiveNumber, targetPort } from './flags.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { DEFAULT_METRICS_HOST, DEFAULT_METRICS_LINGER_MS, type MetricsEndpointOptions } from '../outputs/prometheus.ts';
import { importModule } from '../dynamic-import.ts';
import { UsageError } from '../errors.ts';
import { DEFAULT_DEBUG_SESSIONS } from '../engine/transcript.ts';

/** Adds `run` to the program. */
export function registerRunCommand(program: Command): void {
  // --no-out and --out share one value, which the later flag overwrites: both are kept apart here.
  let isNoOutGiven = false;
  let outSpecs: string[] = [];
  const collectOut = (spec: string) => {
    outSpecs.push(spec);
    return outSpecs;
  };
  const command = program
    .command('run')
    .on('option:no-out', () => (isNoOutGiven = true))
    .description('run a load test: a scenario file, or the old tool\'s flags (--num-emails, --concurrent)')
    .argument('[scenario]', 'scenario file: .ts/.js (export default defineScenario(...)) or .yaml/.yml/.json')
    .option('--num-emails <n>', `total emails (without a scenario file; with one it overrides iterations)`, integer(1, '--num-emails'))
    .option('--concurrent <n>', `concurrent connections (VUs) (default without a scenario file: ${DEFAULTS.concurrent})`, integer(1, '--concurrent'))
    .option('--batches', 'send in batches of --concurrent, each waiting for the previous (the old tool\'s model, with per-batch lines)')
    .option('--host <host>', `SMTP host (default: ${DEFAULTS.host})`)
    .option('--port <port>', `SMTP port (default: ${DEFAULTS.port})`, targetPort)
    .option('--admin-url <url>', `proxy admin API, for hints (default: ${DEFAULTS.adminUrl})`)
    .option('--from <email>', `sender and AUTH user; must be a configured account (default: ${DEFAULTS.from})`)
    .option('--to <email>', `recipient; repeat for several (default: ${DEFAULTS.to})`, collect);
  // --auth, --no-auth, --password, --token and the --tls flags, shared with `runner check`
  addSmtpSecurityOptions(command)
    .option('--allow-real-recipients', `acknowledge sending more than ${REAL_MAIL_FREE_MESSAGES} messages to recipients outside reserved test domains (example.com, *.test, *.invalid): real mailboxes through the proxy`)
    .option('--message-size <bytes>', `body size in bytes (default: ${DEFAULTS.messageSize})`, integer(0, '--message-size'))
    .option('--messages-per-connection <n>', `messages per connection, RSET between (default: ${DEFAULTS.messagesPerConnection})`, integer(1, '--messages-per-connection'))
    .option('--no-rset', 'on a reused connection, send RSET only after a failed message, not between accepted ones (as smtp-source and MTAs do)')
    .option('--timeout <duration>', `reply timeout per phase, e.g. 10s (default: ${DEFAULTS.timeout})`, duration)
    .option('--vus <n>', 'override VUs of every scenario', integer(1, '--vus'))
    .option('--iterations <n>', 'override iterations of iteration-based scenarios', integer(1, '--iterations'))
    .option('--duration <duration>', 'override duration (stages are rescaled to it), e.g. 30s', duration)
    .option('--rate <n>', 'override the rate of constant-arrival-rate scenarios (per timeUnit)', positiveNumber('--rate'))
    .option('--warmup <duration|messages>', 'leave the start out of the summary and thresholds: a duration (30s) or a number of messages')
    .option('--scale <factor>', 'multiply every duration and iteration count, e.g. 0.01 for a quick smoke run', positiveNumber('--scale'))
    .option('--scenario <name>', 'run only this named scenario; repeat for several', collect)
    .option('--env <KEY=VALUE>', 'environment for scenario code (ctx.env); repeatable', collect)
    .option('--tag <key=value>', 'tag every sample; repeatable', collect)
    .option('--out <file|kind=target>', 'results file (default: load_test_results_<unix time>.json); KIND=TARGET for more outputs; repeatable', collectOut)
    .option('--no-out', 'write no results file (--out KIND=TARGET outputs are still written)')
    .option('--report <file>', 'also write the self-contained HTML report (charts, phases, errors, thresholds) to this file')
    .option('--quiet', 'print only the summary')
    .option('--debug [sessions]', `print the SMTP protocol transcript of the first N sessions to stderr, secrets redacted (default N: ${DEFAULT_DEBUG_SESSIONS})`, debugSessions)
    .addOption(new Option('--progress-interval <seconds>', 'seconds between progress lines when not on a terminal').default(5).argParser(positiveNumber('--progress-interval')))
    .option('--watch-pid <pid>', 'sample this process\'s CPU and memory during the run (default: the local process listening on the target port)', integer(1, '--watch-pid'))
    .option('--no-watch', 'do not sample the server process')
    .option('--no-check', 'skip the preflight (connect, greeting, EHLO and AUTH with each sender, before any load)')
    .option('--junit <file>', 'write the thresholds as JUnit XML test cases (one per threshold, plus "run completed") for CI')
    .option('--summary-json <file>', 'write the end-of-test summary as JSON (the results file without timeline and histograms)')
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics during the run (e.g. 9464; 0: any free port)', port)
    .option('--metrics-host <host>', `address the metrics endpoint listens on (default: ${DEFAULT_METRICS_HOST}; 0.0.0.0 for every interface)`)
    .option('--metrics-linger <duration>', `if it was scraped during the run, keep serving after it until a scrape reads the final values, at most this long (default: ${DEFAULT_METRICS_LINGER_MS / 1000}s; 0 to stop at once)`, duration)
    .option('--with-fixture', 'start the built-in fake proxy in its own process and run against it')
    .option('--fixture-delay <phase=spec>', 'with --with-fixture: a server delay, e.g. message=50 (see runner fixture --help)', collect)
    .option('--fixture-failure <phase=spec>', 'with --with-fixture: injected failures, e.g. message=451:0.1', collect)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (scenario: string | undefined, flags: Record<string, any>) => {
      const noResultsFile = isNoOutGiven;
      const out = outSpecs.length > 0 ? outSpecs : noResultsFile ? false : undefined;
      isNoOutGiven = false;
      outSpecs = [];
      const overrides: CliOverrides = {
        host: flags['host'],
        port: flags['port'],
        adminUrl: flags['adminUrl'],
        from: flags['from'],
        to: flags['to'],
        auth: flags['auth'] === false ? 'none' : flags['auth'],
        password: flags['password'],
        token: flags['token'],
        tls: flags['tls'],
        insecureSkipTlsVerify: flags['insecureSkipTlsVerify'],
        // Relative to where the command runs, not to the scenario file
        tlsCa: flags['tlsCa'] === undefined ? undefined : resolvePath(flags['tlsCa']),
        tlsServername: flags['tlsServername'],
        messageSize: flags['messageSize'],
        messagesPerConnection: flags['messagesPerConnection'],
        // commander sets rset to true unless --no-rset: only the flag overrides the scenario
        rsetBetweenMessages: flags['rset'] === false ? false : undefined,
        timeoutMs: flags['timeout'] === undefined ? undefined : parseDurationMs(flags['timeout']),
        vus: flags['vus'],
        iterations: flags['iterations'],
        duration: flags['duration'],
        rate: flags['rate'],
        scale: flags['scale'],
        warmup: flags['warmup'],
        env: keyValues(flags['env'], '--env'),
        tags: keyValues(flags['tag'], '--tag'),
        scenario: flags['scenario'],
      };
      const fixtureArgs = [
        ...(flags['fixtureDelay'] ?? []).flatMap((d: string) => ['--delay', d]),
        ...(flags['fixtureFailure'] ?? []).flatMap((f: string) => ['--failure', f]),
        ...(flags['tls'] === undefined ? [] : ['--tls', flags['tls']]),
      ];
      const outcome = await runCommand({
        scenarioFile: scenario,
        overrides,
        numEmails: flags['numEmails'],
        concurrent: flags['concurrent'],
        batches: flags['batches'],
        out,
        noResultsFile,
        report: flags['report'],
        quiet: flags['quiet'],
        debugSessions: flags['debug'] === true ? DEFAULT_DEBUG_SESSIONS : flags['debug'],
        progressIntervalMs: flags['progressInterval'] * 1000,
        check: flags['check'],
        watchPid: flags['watch'] === false ? false : flags['watchPid'],
        withFixture: flags['withFixture'],
        fixtureArgs,
        handleSignals: true,
        safety: { isAllowed: flags['allowRealRecipients'] === true, ask: terminalQuestion() },
        junit: flags['junit'],
        summaryJson: flags['summaryJson'],
        metrics: metricsEndpoint(flags),
      });
      process.exitCode = outcome.exitCode;
    });

}

/** `--debug [sessions]`: a count ≥ 1; anything else was probably the scenario file taken as the count. */
function debugSessions(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new InvalidArgumentError(`--debug takes a number of sessions, got '${value}' (write --debug=N, or put --debug after the scenario file)`);
  }
  return Number(value);
}

/** Asks on the terminal (stdin and stderr both TTYs), or undefined when there is none (CI). */
function terminalQuestion(): ((question: string) => Promise<string>) | undefined {
  // isatty, not process.stdin.isTTY: that getter sets up the stdin stream, which most runs never read.
  if (!isatty(0) || !isatty(2)) return undefined;
  return async (question) => {
    const { createInterface } = await importModule<typeof import('node:readline/promises')>('node:readline/promises');
    const lines = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await lines.question(question);
    } finally {
      lines.close();
    }
  };
}

/** `--metrics-port/-host/-linger` → the endpoint's options; host or linger alone is a usage error. */
function metricsEndpoint(flags: Record<string, any>): MetricsEndpointOptions | undefined {
  if (flags['metricsPort'] === undefined) {
    const alone = flags['metricsHost'] !== undefined ? '--metrics-host' : flags['metricsLinger'] !== undefined ? '--metrics-linger' : undefined;
    if (alone) throw new UsageError(`${alone} needs --metrics-port`, 'add e.g. --metrics-port 9464');
    return undefined;
  }
  return {
    port: flags['metricsPort'],
    host: flags['metricsHost'],
    lingerMs: flags['metricsLinger'] === undefined ? undefined : parseDurationMs(flags['metricsLinger']),
  };
}
