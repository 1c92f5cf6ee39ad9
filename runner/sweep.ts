/**
 * `runner sweep`: the guide's "increase --concurrent gradually until throughput peaks", done by
 * the tool. One step per load value, each a `runner run` (run.ts) with a generated scenario:
 *
 * - `--concurrent 5,10,25` with `--num-emails N`: the guide's flags-only run (N emails shared by
 *   that many VUs) per step;
 * - `--concurrent …` with `--step-duration D` (the default, 30s): constant-vus for D;
 * - `--rate 600,1200 [--time-unit 1m]`: constant-arrival-rate for D (open model: latency is
 *   response time from the planned start; arrivals beyond --max-vus wait for a free VU, their
 *   wait in response time, and are dropped, and shown, if none comes free within maxQueueWait).
 *
 * A pause between steps lets the target settle. Then the curve (load → msgs/s, response-time
 * p50/p95/p99, success, dropped) and its knee (analysis/knee.ts) are printed, and `--out` writes
 * them with every step's summary. No thresholds are judged. The first Ctrl+C lets the current
 * step finish and stops there (the curve so far is printed and written, exit 105); a second
 * quits at once, after writing the same.
 */
import { Writable } from 'node:stream';
import { join, resolve as resolvePath } from 'node:path';
import { stat } from 'node:fs/promises';
import { runCommand, type RunCommandOptions, type RunOutcome } from './run.ts';
import type { CliOverrides } from './scenario/options.ts';
import type { ScenarioFileOptions } from './scenario/types.ts';
import type { ResolvedOptions } from './scenario/resolved.ts';
import { formatDurationMs, parseDurationMs } from './scenario/duration.ts';
import { DEFAULTS } from './scenario/defaults.ts';
import { SWEEP_FILE_KIND, sweepStep, type SweepStep } from './results/sweep.ts';
import { RESULTS_SCHEMA_VERSION } from './results/version.ts';
import { assertWritable, writeJsonAtomic } from './outputs/atomic-write.ts';
import { paint, shouldColor } from './util/color.ts';
import { formatTable, type Align } from './util/table.ts';
import { formatMs } from './util/format.ts';
import { DEFAULT_KNEE_RULE, findKnee, type KneeRule, type KneeVerdict } from './analysis/knee.ts';
import { ExitCode, OutputError, UsageError } from './errors.ts';
import { installInterruptHandlers } from './interrupt.ts';
import { planRealMail, type RealMailPlan } from './safety.ts';

/** What is swept: VUs (closed model) or the arrival rate (open model). */
export type SweepMode = 'concurrent' | 'rate';

/** Length of a step when neither --num-emails nor --step-duration is given, ms. */
export const DEFAULT_STEP_DURATION_MS = 30_000;
/** Pause between steps, ms. */
export const DEFAULT_PAUSE_MS = 2_000;
/** Rate mode: VUs ready before a step starts, as seconds of arrivals (0.1 s: 10 VUs at 100/s). */
const PREALLOCATED_SECONDS = 0.1;
/** Rate mode without --max-vus: VUs for this many seconds of arrivals (Little's law: 2 s of latency), at least MIN_MAX_VUS. */
const MAX_VUS_SECONDS = 2;
export const MIN_MAX_VUS = 50;

/** Everything `runner sweep` takes. */
export interface SweepOptions {
  mode: SweepMode;
  /** Load per step, strictly increasing: VUs, or iterations per `timeUnitMs`. */
  loads: number[];
  /** Concurrent mode: emails per step (a flags-only run); excludes stepDurationMs. */
  numEmails?: number;
  /** Length of each step, ms. @default DEFAULT_STEP_DURATION_MS (unless numEmails) */
  stepDurationMs?: number;
  /** Rate mode: the unit of `loads`, ms. @default 1000 */
  timeUnitMs?: number;
  /** Rate mode: most VUs a step may use. @default rate per second × 2 s, at least 50 */
  maxVus?: number;
  /** Pause between steps, ms. @default DEFAULT_PAUSE_MS */
  pauseMs?: number;
  /** Knee rule overrides (analysis/knee.ts). */
  rule?: Partial<KneeRule>;
  /** Target, sender and message settings, as for `runner run`. */
  overrides: CliOverrides;
  /** The sweep file (curve, knee, each step's summary). */
  out?: string;
  /** Folder for each step's results file (step-<n>-<mode>-<load>.json). */
  outDir?: string;
  /** Preflight before the first step. @default true */
  check?: boolean;
  /** As `runner run --watch-pid` / `--no-watch` (false). */
  watchPid?: number | false;
  /** Start the built-in fake proxy (per step) and aim at it. */
  withFixture?: boolean;
  fixtureArgs?: string[];
  /**
   * Ask before mailing real people (safety.ts), as `runner run` does: once, in the first step
   * (after its preflight, before its first message), for the messages of every step. The CLI
   * passes it; without it (in-process callers, tests) nothing is asked.
   */
  safety?: RunCommandOptions['safety'];
  /** Print each step's own header, progress and summary. */
  verbose?: boolean;
  /** Aborting it stops the sweep after the current step. */
  signal?: AbortSignal;
  /** Called after each step with the report so far (the CLI prints it on a second Ctrl+C). */
  onStep?: (report: SweepReport) => void;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export type { SweepStep };

/** The sweep file written by `--out`. */
export interface SweepReport {
  kind: typeof SWEEP_FILE_KIND;
  /** The results format of the steps' summaries (results/version.ts). */
  schema_version: typeof RESULTS_SCHEMA_VERSION;
  /** ISO 8601 start of the sweep. */
  timestamp: string;
  /** host:port of the target. */
  target: string;
  mode: SweepMode;
  /** 'running' while steps remain: the file is rewritten after every step, so a hard stop keeps the finished ones. */
  status: 'running' | 'completed' | 'interrupted' | 'failed';
  /** Why the sweep ended early (interrupted or a step failed), else null. */
  stop_reason: string | null;
  /** Rate mode: the unit of each load, ms; null in concurrent mode. */
  time_unit_ms: number | null;
  step_duration_ms: number | null;
  num_emails: number | null;
  pause_ms: number;
  /** The knee rule applied. */
  rule: { min_gain: number; p95_factor: number; max_p95_ms: number | null };
  /** The knee, or null when no step qualified. */
  knee: { step: number; load: number; msgs_per_second: number; p95_ms: number | null; is_within_sweep: boolean; reason: string } | null;
  /** Why there is no knee, when there is none. */
  knee_reason: string;
  /** Loads asked for, in order (steps[] may be shorter when interrupted). */
  loads: number[];
  steps: SweepStep[];
}

/** What a finished sweep produced. */
export interface SweepOutcome {
  exitCode: number;
  report: SweepReport;
  verdict: KneeVerdict;
}

/** Runs the steps, prints the curve and the knee, writes --out; returns exit code 0, or 105 when interrupted. */
export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  checkSweepOptions(options);
  const stepDurationMs = options.numEmails === undefined ? (options.stepDurationMs ?? DEFAULT_STEP_DURATION_MS) : undefined;
  const pauseMs = options.pauseMs ?? DEFAULT_PAUSE_MS;
  if (options.out !== undefined) await assertWritable(resolvePath(cwd, options.out), 'sweep file');
  if (options.outDir !== undefined) await assertFolder(resolvePath(cwd, options.outDir));

  const report: SweepReport = {
    kind: SWEEP_FILE_KIND,
    schema_version: RESULTS_SCHEMA_VERSION,
    timestamp: new Date().toISOString(),
    target: '',
    mode: options.mode,
    status: 'running',
    stop_reason: null,
    time_unit_ms: options.mode === 'rate' ? (options.timeUnitMs ?? 1000) : null,
    step_duration_ms: stepDurationMs ?? null,
    num_emails: options.numEmails ?? null,
    pause_ms: pauseMs,
    rule: ruleOf(options.rule),
    knee: null,
    knee_reason: '',
    loads: [...options.loads],
    steps: [],
  };
  stdout.write(`Sweep: ${describeSweep(options, stepDurationMs)}\n`);
  let failure: unknown;
  for (let index = 0; index < options.loads.length; index++) {
    if (options.signal?.aborted) break;
    if (index > 0 && !(await pause(pauseMs, options.signal))) break;
    const load = options.loads[index]!;
    // The step's result completes this line; with --verbose the step's own output comes between
    stdout.write(`step ${index + 1}/${options.loads.length}: ${describeLoad(options, load)} … ${options.verbose ? '\n' : ''}`);
    const resultsFile = options.outDir === undefined ? undefined : join(resolvePath(cwd, options.outDir), `step-${index + 1}-${options.mode}-${load}.json`);
    let outcome: RunOutcome;
    try {
      outcome = await runCommand({
        ...stepRun(options, load, stepDurationMs),
        overrides: { ...options.overrides },
        out: resultsFile === undefined ? false : [resultsFile],
        quiet: !options.verbose,
        check: options.check !== false && index === 0,
        watchPid: options.watchPid,
        withFixture: options.withFixture,
        fixtureArgs: options.fixtureArgs,
        safety: index === 0 && options.safety ? { ...options.safety, planOf: (stepOptions) => wholeSweepPlan(stepOptions, options.loads.length) } : undefined,
        handleSignals: false,
        stdout: options.verbose ? stdout : createDiscardSink(),
        stderr,
        env,
        cwd,
      });
    } catch (error) {
      stdout.write('failed\n');
      failure = error;
      break;
    }
    const step = describeStep(load, outcome, resultsFile);
    report.steps.push(step);
    if (report.target === '') report.target = outcome.summary.target;
    stdout.write(`${formatStepLine(step)}\n`);
    judgeSweep(report);
    options.onStep?.(report);
    if (options.out !== undefined && index < options.loads.length - 1) await writeSweepFile(resolvePath(cwd, options.out), report);
  }

  if (failure !== undefined) {
    report.status = 'failed';
    report.stop_reason = (failure as Error)?.message ?? String(failure);
  } else if (report.steps.length < options.loads.length) {
    report.status = 'interrupted';
    report.stop_reason = `interrupted after ${report.steps.length} of ${options.loads.length} steps`;
  } else {
    report.status = 'completed';
  }
  const verdict = judgeSweep(report);
  // A first step that failed (target down, bad option) leaves nothing to show: the error says it all
  if (report.steps.length > 0 || failure === undefined) stdout.write('\n' + formatSweep(report, verdict, { color: shouldColor(stdout, env) }) + '\n');
  if (options.out !== undefined) {
    await writeSweepFile(resolvePath(cwd, options.out), report);
    stdout.write(`Sweep written to ${options.out}\n`);
  }
  if (failure !== undefined) throw failure;
  return { exitCode: report.status === 'interrupted' ? ExitCode.interrupted : ExitCode.ok, report, verdict };
}

/** What `runner sweep` takes from its flags: the loads as --concurrent or --rate (one of them). */
export interface SweepCommandOptions extends Omit<SweepOptions, 'mode' | 'loads' | 'signal' | 'onStep'> {
  concurrent?: number[];
  rate?: number[];
}

/**
 * `runner sweep`: runSweep with Ctrl+C handled as `runner run` handles it (interrupt.ts): the
 * first stops after the current step, the second prints the curve of the finished steps (--out
 * already holds them) and quits; the current step is lost. Returns the exit code.
 */
export async function runSweepCommand(command: SweepCommandOptions): Promise<number> {
  const { concurrent, rate, ...rest } = command;
  if ((concurrent === undefined) === (rate === undefined)) {
    throw new UsageError('give either --concurrent or --rate', 'e.g. runner sweep --concurrent 5,10,25,50,100');
  }
  const stdout = command.stdout ?? process.stdout;
  const stderr = command.stderr ?? process.stderr;
  const controller = new AbortController();
  let latest: SweepReport | undefined;
  const removeHandlers = installInterruptHandlers({
    onFirst(signal) {
      stderr.write(`\n${signal}: the sweep stops after the current step; press Ctrl+C again to quit at once\n`);
      controller.abort();
    },
    onSecond(signal) {
      if (latest) stdout.write('\n' + formatSweep(latest, judgeSweep(latest)) + '\n');
      stderr.write(`${signal} again: quitting; the current step is lost\n`);
    },
  });
  try {
    const options: SweepOptions = { ...rest, mode: concurrent ? 'concurrent' : 'rate', loads: concurrent ?? rate!, signal: controller.signal, onStep: (report) => (latest = report) };
    return (await runSweep(options)).exitCode;
  } finally {
    removeHandlers();
  }
}

/**
 * The first step's real-mail plan (safety.ts) for the whole sweep: every step sends as many
 * messages as the first (--num-emails each, or duration-based: unbounded) to the same recipients.
 */
function wholeSweepPlan(firstStep: ResolvedOptions, steps: number): RealMailPlan {
  const plan = planRealMail(firstStep);
  return { ...plan, messages: plan.messages * steps };
}

/** Applies the knee rule to the report's steps and fills in `knee` / `knee_reason`. */
export function judgeSweep(report: SweepReport): KneeVerdict {
  const verdict = findKnee(
    report.steps.map((step) => ({ load: step.load, msgsPerSecond: step.msgs_per_second, p95Ms: step.p95_ms })),
    { minGain: report.rule.min_gain, p95Factor: report.rule.p95_factor, maxP95Ms: report.rule.max_p95_ms ?? undefined },
  );
  report.knee_reason = verdict.reason;
  const step = verdict.index === undefined ? undefined : report.steps[verdict.index]!;
  report.knee =
    step === undefined
      ? null
      : { step: verdict.index! + 1, load: step.load, msgs_per_second: step.msgs_per_second, p95_ms: step.p95_ms, is_within_sweep: verdict.isWithinSweep, reason: verdict.reason };
  return verdict;
}

/** Writes the sweep file atomically (a reader never sees half of it). */
export function writeSweepFile(path: string, report: SweepReport): Promise<void> {
  return writeJsonAtomic(path, report);
}

/** Every usage problem of the options, as one UsageError. */
function checkSweepOptions(options: SweepOptions): void {
  const problems: string[] = [];
  const flag = `--${options.mode}`;
  if (options.loads.length === 0) problems.push(`${flag}: give at least one value, e.g. ${options.mode === 'rate' ? '600,1200,2400' : '5,10,25,50,100'}`);
  options.loads.forEach((load, i) => {
    if (!(load > 0) || !Number.isFinite(load)) problems.push(`${flag}: ${load} must be > 0`);
    if (options.mode === 'concurrent' && !Number.isInteger(load)) problems.push(`${flag}: ${load} must be a whole number of VUs`);
    if (i > 0 && !(load > options.loads[i - 1]!)) problems.push(`${flag}: values must increase (${options.loads[i - 1]} then ${load})`);
  });
  // Zero lengths would reach the step's scenario as derived values (maxVUs: Infinity) or judge every step a failure
  if (options.stepDurationMs !== undefined && !(options.stepDurationMs > 0)) problems.push(`--step-duration: must be more than 0, e.g. ${formatDurationMs(DEFAULT_STEP_DURATION_MS)}`);
  if (options.timeUnitMs !== undefined && !(options.timeUnitMs > 0)) problems.push('--time-unit: must be more than 0, e.g. 1s');
  if (options.rule?.maxP95Ms !== undefined && !(options.rule.maxP95Ms > 0)) problems.push('--max-p95: must be more than 0, e.g. 250ms');
  if (options.numEmails !== undefined && options.stepDurationMs !== undefined) problems.push('--num-emails and --step-duration: give one of them');
  if (options.mode === 'rate' && options.numEmails !== undefined) problems.push('--num-emails works with --concurrent; a rate step runs for --step-duration');
  if (options.mode !== 'rate' && options.timeUnitMs !== undefined) problems.push('--time-unit works with --rate only');
  if (options.mode !== 'rate' && options.maxVus !== undefined) problems.push('--max-vus works with --rate only');
  if (problems.length > 0) {
    throw new UsageError(problems.join('; '), 'e.g. runner sweep --concurrent 5,10,25,50,100 --step-duration 30s, or runner sweep --rate 10,20,40 --step-duration 30s');
  }
}

async function assertFolder(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) throw new OutputError(`--out-dir ${path}: no such folder`, `create it first (mkdir -p ${path})`);
}

function ruleOf(rule: Partial<KneeRule> | undefined): SweepReport['rule'] {
  const merged = { ...DEFAULT_KNEE_RULE, ...rule };
  return { min_gain: merged.minGain, p95_factor: merged.p95Factor, max_p95_ms: merged.maxP95Ms ?? null };
}

/** The runCommand options that make one step: a flags-only run or a generated scenario. */
function stepRun(options: SweepOptions, load: number, stepDurationMs: number | undefined): { numEmails?: number; concurrent?: number; scenario?: ScenarioFileOptions } {
  if (options.mode === 'concurrent') {
    if (options.numEmails !== undefined) return { numEmails: options.numEmails, concurrent: load };
    return { scenario: { scenarios: { sweep: { executor: 'constant-vus', vus: load, duration: stepDurationMs! } } } };
  }
  const timeUnitMs = options.timeUnitMs ?? 1000;
  const ratePerSecond = (load * 1000) / timeUnitMs;
  const maxVUs = options.maxVus ?? Math.max(MIN_MAX_VUS, Math.ceil(ratePerSecond * MAX_VUS_SECONDS));
  const preAllocatedVUs = Math.min(maxVUs, Math.max(1, Math.ceil(ratePerSecond * PREALLOCATED_SECONDS)));
  return {
    scenario: {
      scenarios: {
        sweep: { executor: 'constant-arrival-rate', rate: load, timeUnit: timeUnitMs, duration: stepDurationMs!, preAllocatedVUs, maxVUs },
      },
    },
  };
}

function describeStep(load: number, outcome: RunOutcome, resultsFile: string | undefined): SweepStep {
  return sweepStep(load, outcome.summary, outcome.resultsFile ?? resultsFile ?? null);
}

function describeSweep(options: SweepOptions, stepDurationMs: number | undefined): string {
  const what = options.mode === 'rate' ? `arrival rate (per ${formatDurationMs(options.timeUnitMs ?? 1000)})` : 'concurrent VUs';
  const size = stepDurationMs === undefined ? `${options.numEmails} emails per step` : `${formatDurationMs(stepDurationMs)} per step`;
  return `${what} ${options.loads.join(', ')}; ${size}, ${formatDurationMs(options.pauseMs ?? DEFAULT_PAUSE_MS)} pause between steps`;
}

function describeLoad(options: SweepOptions, load: number): string {
  return options.mode === 'rate' ? `rate ${load}/${formatDurationMs(options.timeUnitMs ?? 1000)}` : `${load} concurrent`;
}

function formatStepLine(step: SweepStep): string {
  const dropped = step.dropped_iterations > 0 ? `, ${step.dropped_iterations} dropped` : '';
  return `${step.msgs_per_second.toFixed(1)} msgs/s, p95 ${formatMs(step.p95_ms)}, success ${(step.success_rate * 100).toFixed(1)}%${dropped}`;
}

/** The curve as a table and the knee line, for people. */
export function formatSweep(report: SweepReport, verdict: KneeVerdict, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const loadHeader = report.mode === 'rate' ? `rate/${formatDurationMs(report.time_unit_ms ?? 1000)}` : 'concurrent';
  // The headers name the unit; the cells hold the numbers
  const cell = { isUnitShown: false };
  const rows: string[][] = [[loadHeader, 'msgs/s', 'gain', 'p50 ms', 'p95 ms', 'p99 ms', 'success', 'dropped', '']];
  report.steps.forEach((step, i) => {
    const gain = verdict.steps[i]?.gain;
    rows.push([
      String(step.load),
      step.msgs_per_second.toFixed(1),
      gain === null || gain === undefined ? '' : `${gain >= 0 ? '+' : '−'}${Math.abs(gain * 100).toFixed(0)}%`,
      formatMs(step.p50_ms, cell),
      formatMs(step.p95_ms, cell),
      formatMs(step.p99_ms, cell),
      `${(step.success_rate * 100).toFixed(1)}%`,
      String(step.dropped_iterations),
      i === verdict.index ? '◀ knee' : '',
    ]);
  });
  const align: Align[] = ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'];
  const lines = [`SWEEP RESULTS${report.target ? ` (${report.target})` : ''}: latency is response time; gain is over the best lower step`];
  lines.push(report.steps.length > 0 ? formatTable(rows, align, false) : '(no step finished)');
  if (report.stop_reason) lines.push(`Stopped: ${report.stop_reason}`);
  const knee = report.knee;
  const kneeLine =
    knee === null
      ? `No knee: ${verdict.reason}`
      : `Knee: ${report.mode === 'rate' ? `rate ${knee.load}/${formatDurationMs(report.time_unit_ms ?? 1000)}` : `${knee.load} concurrent`}` +
        ` — ${knee.msgs_per_second.toFixed(1)} msgs/s, p95 ${formatMs(knee.p95_ms)}; ${verdict.reason}`;
  lines.push(paint(knee === null ? 'yellow' : 'green', kneeLine, color));
  return lines.join('\n');
}

/** Waits `pauseMs`; false when the signal aborts first. */
function pause(pauseMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, pauseMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function createDiscardSink(): Writable & { isTTY: false } {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() }) as Writable & { isTTY: false };
  sink.isTTY = false;
  return sink;
}

