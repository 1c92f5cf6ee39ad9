/** `runner sweep`: its own flags and the shared groups (flag-groups.ts) → runSweepCommand (sweep.ts). */
import type { Command, OptionValues } from 'commander';
import { runSweepCommand, DEFAULT_PAUSE_MS, DEFAULT_STEP_DURATION_MS, MIN_MAX_VUS } from '../sweep.ts';
import { DEFAULT_KNEE_RULE } from '../analysis/knee.ts';
import { DEFAULTS } from '../scenario/defaults.ts';
import { formatDurationMs, parseDurationMs } from '../scenario/duration.ts';
import { duration, integer, loadList, percent, positiveNumber } from './flags.ts';
import { AUTH_FLAGS, endHelpGroups, FIXTURE_FLAGS, HELP_GROUPS, MESSAGE_FLAGS, PREFLIGHT_WATCH_FLAGS, RECIPIENT_FLAGS, TARGET_FLAGS, TLS_FLAGS } from './flag-groups.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';

/** What commander parses for sweep's own flags (the groups type theirs). */
interface SweepFlags {
  concurrent?: number[];
  rate?: number[];
  numEmails?: number;
  stepDuration?: string;
  timeUnit?: string;
  maxVus?: number;
  pause?: string;
  minGain?: number;
  p95Factor?: number;
  maxP95?: string;
  out?: string;
  outDir?: string;
  verbose?: boolean;
}

/** Adds `sweep` to the program. */
export function registerSweepCommand(program: Command): void {
  const command = program
    .command('sweep')
    .description('run one step per load (--concurrent or --rate) and report the throughput/latency curve and its knee')
    .optionsGroup('Steps (the loads swept and the knee rule):')
    .option('--concurrent <list>', 'VUs per step, increasing, e.g. 5,10,25,50,100 (closed model: each VU sends back to back)', loadList('--concurrent', true))
    .option('--rate <list>', 'arrivals per --time-unit per step, increasing, e.g. 600,1200,2400 (open model: constant-arrival-rate)', loadList('--rate', false))
    .option('--num-emails <n>', 'with --concurrent: emails per step (the guide\'s flags-only run) instead of a duration', integer(1, '--num-emails', 'iterations'))
    .option('--step-duration <duration>', `length of each step (default: ${formatDurationMs(DEFAULT_STEP_DURATION_MS)})`, duration)
    .option('--time-unit <duration>', 'with --rate: the unit of the rates (default: 1s), e.g. 1m', duration)
    .option('--max-vus <n>', `with --rate: most VUs a step may use; further arrivals wait for a free VU (the wait counts in response time), dropped after ${DEFAULTS.maxQueueWait} (default: 2 s worth of arrivals, at least ${MIN_MAX_VUS})`, integer(1, '--max-vus', 'vus'))
    .option('--pause <duration>', `pause between steps (default: ${formatDurationMs(DEFAULT_PAUSE_MS)})`, duration)
    .option('--min-gain <percent>', `knee rule: throughput must grow by more than this over every lower step (default: ${DEFAULT_KNEE_RULE.minGain * 100}%)`, percent)
    .option('--p95-factor <x>', `knee rule: p95 may be at most this multiple of the lowest step's (default: ${DEFAULT_KNEE_RULE.p95Factor})`, positiveNumber('--p95-factor'))
    .option('--max-p95 <duration>', 'knee rule: an absolute p95 bound instead of --p95-factor, e.g. 250ms', duration)
    .optionsGroup(HELP_GROUPS.outputs)
    .option('--out <file>', 'write the curve, the knee and each step\'s summary as JSON')
    .option('--out-dir <folder>', 'write each step\'s results file there (step-<n>-<mode>-<load>.json)')
    .option('--verbose', 'print each step\'s own header, progress and summary');
  // The same target, sender, recipient, TLS, message, preflight and fixture flags as `runner run`
  for (const group of [TARGET_FLAGS, FIXTURE_FLAGS, MESSAGE_FLAGS, AUTH_FLAGS, TLS_FLAGS, RECIPIENT_FLAGS, PREFLIGHT_WATCH_FLAGS]) group.add(command);
  endHelpGroups(command);
  command
    .addHelpText(
      'after',
      `
The knee is the highest load where throughput (accepted msgs/s) grew by more than --min-gain over
every lower step and p95 (response time) stayed within --p95-factor × the lowest step's (or
--max-p95). Ctrl+C finishes the current step, then prints the curve so far; twice quits at once.
More than 10 messages in all to real recipients (outside example.com, *.test, *.invalid) are
asked for once, before the first step's load, as runner run does.
${EXIT_CODES_HELP}`,
    )
    .action(async (flags: OptionValues) => {
      const own = flags as SweepFlags;
      const ms = (text: string | undefined) => (text === undefined ? undefined : parseDurationMs(text));
      const recipients = RECIPIENT_FLAGS.read(flags);
      process.exitCode = await runSweepCommand({
        concurrent: own.concurrent,
        rate: own.rate,
        numEmails: own.numEmails,
        stepDurationMs: ms(own.stepDuration),
        timeUnitMs: ms(own.timeUnit),
        maxVus: own.maxVus,
        pauseMs: ms(own.pause),
        // Only the rules given: an undefined one would hide its default (DEFAULT_KNEE_RULE)
        rule: {
          ...(own.minGain === undefined ? {} : { minGain: own.minGain }),
          ...(own.p95Factor === undefined ? {} : { p95Factor: own.p95Factor }),
          ...(own.maxP95 === undefined ? {} : { maxP95Ms: ms(own.maxP95) }),
        },
        overrides: { ...TARGET_FLAGS.read(flags), ...AUTH_FLAGS.read(flags), to: recipients.to, ...TLS_FLAGS.read(flags), ...MESSAGE_FLAGS.read(flags) },
        out: own.out,
        outDir: own.outDir,
        verbose: own.verbose,
        ...PREFLIGHT_WATCH_FLAGS.read(flags),
        ...FIXTURE_FLAGS.read(flags),
        safety: recipients.safety,
      });
    });
}
