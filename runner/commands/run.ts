/** `runner run`: its own flags and the shared groups (flag-groups.ts) → runCommand (run.ts). */
import { Option, type Command, type OptionValues } from 'commander';
import { runCommand } from '../run.ts';
import type { AgentRunFlags } from '../agents/agent-flags.ts';
import { DEFAULTS } from '../scenario/defaults.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import { DEFAULT_STALL_LIMIT } from '../engine/stall-watchdog.ts';
import { DEFAULT_DEBUG_SESSIONS } from '../engine/transcript.ts';
import { agentList, debugSessions, duration, integer, positiveNumber, workerCount } from './flags.ts';
import { API_FLAGS, AUTH_FLAGS, DELIVERY_FLAGS, endHelpGroups, FIXTURE_FLAGS, HELP_GROUPS, LOAD_FLAGS, MESSAGE_FLAGS, OUTPUT_FLAGS, PREFLIGHT_WATCH_FLAGS, RECIPIENT_FLAGS, TARGET_FLAGS, TLS_FLAGS, readScenarioOverrides } from './flag-groups.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';

/** What commander parses for run's own flags (the groups type theirs). */
interface RunFlags extends AgentRunFlags {
  numEmails?: number;
  concurrent?: number;
  batches?: boolean;
  quiet?: boolean;
  debug?: true | number;
  progressInterval: number;
  apiAllowRemote?: boolean;
  stallLimit: string;
  executionSegment?: string;
  executionSegmentSequence?: string;
  workers?: number;
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
    .option('--batches', 'send in batches of --concurrent, each waiting for the previous (the old tool\'s model, with per-batch lines)');
  // The size and selection of the run: the group inspect and archive share (flag-groups.ts)
  LOAD_FLAGS.add(command);
  command
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
    .addOption(new Option('--stall-limit <duration>', 'if scenario code blocks the event loop this long (a synchronous endless loop), write the results/JUnit/summary files of the last snapshot and end the run (exit 102); 0 turns the watchdog off').default(DEFAULT_STALL_LIMIT).argParser(duration))
    .addOption(new Option('--progress-interval <seconds>', 'seconds between progress lines when not on a terminal').default(5).argParser(positiveNumber('--progress-interval')));
  for (const group of [RECIPIENT_FLAGS, PREFLIGHT_WATCH_FLAGS, DELIVERY_FLAGS, API_FLAGS]) group.add(command);
  command.option('--api-allow-remote', 'let --api listen on an address other machines reach (needs --api-token): whoever reaches it can pause and rescale the load');
  endHelpGroups(command);
  command.addHelpText('after', EXIT_CODES_HELP).action(async (scenario: string | undefined, flags: OptionValues) => {
    const own = flags as RunFlags;
    const recipients = RECIPIENT_FLAGS.read(flags);
    const delivery = DELIVERY_FLAGS.read(flags);
    const outcome = await runCommand({
      scenarioFile: scenario,
      overrides: {
        ...readScenarioOverrides(flags),
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
      ...API_FLAGS.read(flags),
      apiAllowRemote: own.apiAllowRemote,
      agentFlags: own,
      handleSignals: true,
      safety: recipients.safety,
    });
    process.exitCode = outcome.exitCode;
  });
}
