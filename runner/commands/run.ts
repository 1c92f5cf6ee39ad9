/** `runner run`: its own flags and the shared groups (flag-groups.ts) → runCommand (run.ts). */
import { Option, type Command, type OptionValues } from 'commander';
import { readFileSync } from 'node:fs';
import { runCommand, type RunCommandOptions } from '../run.ts';
import { readTokenFile } from '../agents/wire.ts';
import type { AgentAddress } from '../agents/remote.ts';
import { UsageError } from '../errors.ts';
import { DEFAULTS } from '../scenario/defaults.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import { DEFAULT_STALL_LIMIT } from '../engine/stall-watchdog.ts';
import { DEFAULT_DEBUG_SESSIONS } from '../engine/transcript.ts';
import { agentList, collect, debugSessions, duration, integer, keyValues, positiveNumber, warmup, workerCount } from './flags.ts';
import { AUTH_FLAGS, DELIVERY_FLAGS, endHelpGroups, FIXTURE_FLAGS, HELP_GROUPS, MESSAGE_FLAGS, OUTPUT_FLAGS, PREFLIGHT_WATCH_FLAGS, RECIPIENT_FLAGS, TARGET_FLAGS, TLS_FLAGS } from './flag-groups.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';

/** What commander parses for run's own flags (the groups type theirs). */
interface RunFlags {
  numEmails?: number;
  concurrent?: number;
  batches?: boolean;
  vus?: number;
  iterations?: number;
  duration?: string;
  rate?: number;
  warmup?: string;
  summaryTrendStats?: string;
  scale?: number;
  scenario?: string[];
  env?: string[];
  quiet?: boolean;
  debug?: true | number;
  progressInterval: number;
  stallLimit: string;
  executionSegment?: string;
  executionSegmentSequence?: string;
  workers?: number;
  agents?: AgentAddress[];
  tokenFile?: string;
  agentTlsCa?: string;
  onAgentLoss: 'continue' | 'stop';
  agentConnectTimeout: string;
}

/** Adds `run` to the program. */
export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description('run a load test: a scenario file, or the old tool\'s flags (--num-emails, --concurrent)')
    .argument('[scenario]', 'scenario file: .ts/.js (export default defineScenario(...)) or .yaml/.yml/.json');
  // Grouped in --help as k6 groups its flags (flag-groups.ts HELP_GROUPS), in this order.
  for (const group of [TARGET_FLAGS, FIXTURE_FLAGS]) group.add(command);
  command
    .optionsGroup(HELP_GROUPS.load)
    .option('--num-emails <n>', `total emails (without a scenario file; with one it overrides iterations)`, integer(1, '--num-emails', 'iterations'))
    .option('--concurrent <n>', `concurrent connections (VUs) (default without a scenario file: ${DEFAULTS.concurrent})`, integer(1, '--concurrent', 'vus'))
    .option('--batches', 'send in batches of --concurrent, each waiting for the previous (the old tool\'s model, with per-batch lines)')
    .option('--vus <n>', 'override VUs of every scenario', integer(1, '--vus', 'vus'))
    .option('--iterations <n>', 'override iterations of iteration-based scenarios', integer(1, '--iterations', 'iterations'))
    .option('--duration <duration>', 'override duration (stages are rescaled to it), e.g. 30s', duration)
    .option('--rate <n>', 'override the rate of constant-arrival-rate scenarios (per timeUnit)', positiveNumber('--rate'))
    .option('--warmup <duration|messages>', 'leave the start out of the summary and thresholds: a duration (30s) or a number of messages', warmup)
    .option('--summary-trend-stats <list>', "trend figures the console summary, --summary-json and --junit list, e.g. 'avg,min,med,p(90),p(99.9),max,count' (default: the fixed Latency and Phases blocks only)")
    .option('--scale <factor>', 'multiply every duration and iteration count, e.g. 0.01 for a quick smoke run', positiveNumber('--scale'))
    .option('--scenario <name>', 'run only this named scenario; repeat for several', collect)
    .option('--env <KEY=VALUE>', 'environment for scenario code (ctx.env); repeatable', collect)
    .option('--execution-segment <from:to>', "run only this part of the plan, as k6 does: e.g. 1/4:2/4 (fractions, decimals or percentages); every count (VUs, iterations, arrivals) is split so the segments of one sequence add up exactly to the whole")
    .option('--execution-segment-sequence <points>', 'the sequence the segment is one of, e.g. 0,1/4,2/4,3/4,1 (default: 0, the segment\'s ends, 1); give every process of one run the same sequence')
    .option('--workers <n|auto>', 'run the load in N worker processes on this machine (auto: one per core), each one execution segment of the plan; one live view, thresholds judged on the merged figures, one results file', workerCount)
    .option('--agents <host:port,...>', 'run the load on runner agents on other machines (one execution segment each, in this order); this process coordinates: one live view, thresholds on the whole, one results file', agentList)
    .option('--token-file <file>', 'with --agents: the agents\' shared secret (their --token-file; not the SMTP --token)')
    .option('--agent-tls-ca <file>', 'with --agents: connect to the agents over TLS, verifying their certificates (runner agent --tls-cert) with this PEM CA')
    .addOption(new Option('--on-agent-loss <what>', 'with --agents: when an agent drops out, the others go on (continue) or the run stops (stop); either way it is reported and what it measured is kept').choices(['continue', 'stop']).default('continue'))
    .addOption(new Option('--agent-connect-timeout <duration>', 'with --agents: how long to keep trying an agent that is not listening yet (its pod still starting)').default('60s').argParser(duration));
  for (const group of [MESSAGE_FLAGS, AUTH_FLAGS, TLS_FLAGS, OUTPUT_FLAGS]) group.add(command);
  command
    .optionsGroup(HELP_GROUPS.outputs)
    .option('--quiet', 'print only the summary')
    .option('--debug [sessions]', `print the SMTP protocol transcript of the first N sessions to stderr, secrets redacted (default N: ${DEFAULT_DEBUG_SESSIONS})`, debugSessions)
    .addOption(new Option('--stall-limit <duration>', 'if scenario code blocks the event loop this long (a synchronous endless loop), write partial results and kill the run (exit status 137); 0 turns the watchdog off').default(DEFAULT_STALL_LIMIT).argParser(duration))
    .addOption(new Option('--progress-interval <seconds>', 'seconds between progress lines when not on a terminal').default(5).argParser(positiveNumber('--progress-interval')));
  for (const group of [RECIPIENT_FLAGS, PREFLIGHT_WATCH_FLAGS, DELIVERY_FLAGS]) group.add(command);
  endHelpGroups(command);
  command.addHelpText('after', EXIT_CODES_HELP).action(async (scenario: string | undefined, flags: OptionValues) => {
    const own = flags as RunFlags;
    const recipients = RECIPIENT_FLAGS.read(flags);
    const delivery = DELIVERY_FLAGS.read(flags);
    const outcome = await runCommand({
      scenarioFile: scenario,
      overrides: {
        ...TARGET_FLAGS.read(flags),
        ...AUTH_FLAGS.read(flags),
        to: recipients.to,
        ...TLS_FLAGS.read(flags),
        ...MESSAGE_FLAGS.read(flags),
        vus: own.vus,
        iterations: own.iterations,
        duration: own.duration,
        rate: own.rate,
        scale: own.scale,
        warmup: own.warmup,
        summaryTrendStats: own.summaryTrendStats,
        env: keyValues(own.env, '--env'),
        scenario: own.scenario,
        delivery: delivery.delivery,
        deliveryTimeout: delivery.deliveryTimeout,
        executionSegment: own.executionSegment,
        executionSegmentSequence: own.executionSegmentSequence,
      },
      numEmails: own.numEmails,
      concurrent: own.concurrent,
      batches: own.batches,
      ...OUTPUT_FLAGS.read(flags),
      quiet: own.quiet,
      debugSessions: own.debug === true ? DEFAULT_DEBUG_SESSIONS : own.debug,
      progressIntervalMs: own.progressInterval * 1000,
      stallLimitMs: parseDurationMs(own.stallLimit),
      ...PREFLIGHT_WATCH_FLAGS.read(flags),
      ...FIXTURE_FLAGS.read(flags),
      withSink: delivery.withSink,
      sinkArgs: delivery.sinkArgs,
      workers: own.workers,
      agents: agentsOf(own),
      handleSignals: true,
      safety: recipients.safety,
    });
    process.exitCode = outcome.exitCode;
  });
}

/** --agents with its companions, checked together: --token-file is required, the others need --agents. */
function agentsOf(own: RunFlags): RunCommandOptions['agents'] {
  if (own.agents === undefined) {
    const stray = [own.tokenFile !== undefined && '--token-file', own.agentTlsCa !== undefined && '--agent-tls-ca'].filter(Boolean);
    if (stray.length > 0) throw new UsageError(`${stray.join(' and ')} only apply with --agents`, 'add --agents host:port,... or leave them out');
    return undefined;
  }
  if (own.tokenFile === undefined) throw new UsageError('--agents needs --token-file (the same file the agents were started with)', 'runner run scenario.ts --agents host1:6565,host2:6565 --token-file token');
  let tlsCa: string | undefined;
  if (own.agentTlsCa !== undefined) {
    try {
      tlsCa = readFileSync(own.agentTlsCa, 'utf8');
    } catch (error) {
      throw new UsageError(`--agent-tls-ca ${own.agentTlsCa}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'give the PEM file of the CA that signed the agents\' certificates');
    }
  }
  return {
    addresses: own.agents,
    connection: { token: readTokenFile(own.tokenFile), tlsCa, connectTimeoutMs: parseDurationMs(own.agentConnectTimeout) },
    onLoss: own.onAgentLoss,
  };
}
