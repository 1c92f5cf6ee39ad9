/**
 * The one interface every executor implements, as k6's lib/executor does: an
 * `ExecutorDefinition` owns one executor's whole life (its config and defaults, its semantic
 * checks, its resolved form, the CLI overrides, its planned length and iteration count, its
 * description, whether it is an open model, and `run`). The registry (index.ts) lists them.
 *
 * At run time an executor decides *when* iterations start and on which VU; the engine does
 * everything else: VUs, SMTP, metrics, stopping. Schedules are planned by the pure functions in
 * schedule.ts; an executor only waits for the planned instants.
 */
import type { BaseScenarioConfig } from '../scenario/base-config.ts';
import type { ResolvedScenarioBase } from '../scenario/resolved-base.ts';
import type { PathSegments, Problem } from '../scenario/checks.ts';
import type { SegmentStripe } from './segment.ts';

/** The count and length flags of `runner run` as an executor sees them (see CliOverrides in options.ts). */
export interface ExecutorOverrides {
  /** --scale: time-compression factor (> 0) for time spans and iteration counts. */
  scale?: number;
  /** --duration, ms (applied after --scale). */
  durationMs?: number;
  /** --vus. */
  vus?: number;
  /** --iterations. */
  iterations?: number;
  /** --rate: iterations per timeUnit. */
  rate?: number;
}

/**
 * One executor: everything runner knows about it, in one object. `Config` is what a scenario
 * file writes (`executor: Name` plus its options), `Resolved` what the engine runs.
 */
export interface ExecutorDefinition<
  Config extends BaseScenarioConfig & { executor: string },
  Resolved extends ResolvedScenarioBase & { executor: Config['executor'] },
> {
  /** The value of a scenario's `executor` option. */
  readonly name: Config['executor'];
  /**
   * Open model: iterations start on a planned schedule whatever the responses, timed from
   * their planned start (response time, coordinated omission). Closed model: a VU starts its
   * next iteration when its last is done.
   */
  readonly isOpenModel: boolean;
  /** Defaults of its own options (merged into DEFAULTS, which --help and the schema's `default`s match). */
  readonly defaults: Readonly<Record<string, string | number>>;
  /** Whether `--iterations` / `--rate` apply to it (a run where no scenario takes a given one is an error). */
  readonly takesIterationsFlag: boolean;
  readonly takesRateFlag: boolean;
  /**
   * Every problem of its own options, each with its path under `path` (the scenario's). Runs
   * after and beside the schema, on data that may have the wrong types (skip those: the schema
   * reports them).
   */
  validate(config: Readonly<Record<string, unknown>>, path: PathSegments): Problem[];
  /** Its options with defaults merged and durations in ms, on top of the shared `base`. */
  resolve(config: Config, base: ResolvedScenarioBase): Resolved;
  /**
   * Applies --scale, --duration, --vus, --iterations and --rate in that order, in place (their
   * meaning per executor is documented on CliOverrides). Called for every scenario, flags or not.
   */
  applyOverrides(scenario: Resolved, overrides: ExecutorOverrides): void;
  /**
   * This execution segment's share of the scenario (segment.ts): a copy with its counts (VUs,
   * iterations, the VU pool) split by `stripe` and its arrivals (or VU steps) limited to the ones
   * the stripe owns, so that the segments of one sequence add up exactly to the whole plan.
   * Times (startTime, durations, stages' lengths) are kept. `problem`: the share cannot run
   * (work but no VU to do it), said with what to change.
   */
  segment(scenario: Resolved, stripe: SegmentStripe): SegmentShare<Resolved>;
  /** Planned length (ms) without gracefulStop; for iteration counts, their maxDuration. */
  plannedDurationMs(scenario: Resolved): number;
  /** Iterations it is planned to run, or undefined when that depends on the server. */
  plannedIterations(scenario: Resolved): number | undefined;
  /**
   * Its planned schedule (VUs or arrivals over time), a pure function of the options, for
   * `runner inspect`; `estimate` says how long one iteration is expected to take, for the
   * executors whose length depends on it (iteration counts).
   */
  schedule(scenario: Resolved, estimate: ScheduleEstimate): SchedulePlan;
  /**
   * Open models: the rate the schedule asks for at `elapsedMs` into the scenario, iterations per
   * second (the live view's "planned", beside the achieved rate). Absent for closed models.
   */
  plannedRatePerSecond?(scenario: Resolved, elapsedMs: number): number;
  /** Its line(s) of the console header, e.g. 'Constant VUs: 10 for 5m'. */
  describe(scenario: Resolved): string;
  /** Its options in the results file's `config.scenarios.<name>` (snake_case, ms). */
  describeConfig(scenario: Resolved): Record<string, unknown>;
  /** The guide's `num_emails`/`concurrent`, for an executor that is "N emails, C at a time". */
  guideCounts?(scenario: Resolved): { emails: number; concurrent: number };
  /** Runs the scenario's schedule to the end (see end-of-scenario.ts), or until the test stops. */
  run(scenario: Resolved, ctx: ExecutorContext): Promise<void>;
}

/** One segment's share of a scenario; `problem` says why it cannot run. */
export interface SegmentShare<Resolved> {
  scenario: Resolved;
  problem?: string;
}

/** What a plan may assume about the server: how long one iteration takes (ms, > 0). */
export interface ScheduleEstimate {
  iterationMs: number;
}

/** A scenario's planned schedule, as `runner inspect` shows it. All times are ms since the scenario started. */
export interface SchedulePlan {
  /** What `valueIn` counts: VUs looping (closed model) or arrivals planned (open model). */
  unit: 'vus' | 'arrivals';
  /** Length the schedule covers (ms): the planned length, or for iteration counts the estimate, at most maxDuration. */
  lengthMs: number;
  /** Whether `lengthMs` (and `valueIn`) depend on the estimate (iteration counts). */
  isEstimated: boolean;
  /** 'vus': the most VUs looping at any moment of [fromMs, toMs); 'arrivals': the arrivals planned in it. */
  valueIn(fromMs: number, toMs: number): number;
  /** VUs allocated in all (the vus_max gauge): one number for closed models, a range for open ones (preAllocatedVUs..maxVUs). */
  vusMax: { min: number; max: number };
  /** Iterations planned: the count, the arrivals of an arrival-rate scenario, undefined when the server decides (duration-based closed models). */
  iterations: number | undefined;
  /** Arrival-rate executors: the highest rate, per second (Little's law needs it). */
  peakRatePerSecond?: number;
  /** What may go wrong with this plan at the estimate, each a sentence with its fix (inspect prefixes the scenario). */
  warnings: string[];
}

/** A virtual user: one sequential stream of iterations with its own SMTP connection. */
export interface Vu {
  /** 1-based, unique in the test. */
  readonly id: number;
  /** Iterations this VU has started in this scenario. */
  iterations: number;
  /**
   * Set by a closed-model VU loop (vu-loops.ts runVuLoops) while it runs: grants this VU's next
   * iteration now, during the current one (the loop then starts it as soon as this one ends,
   * unless the test is stopping). The SMTP session asks it when it could write the next message's
   * transaction with this one's end-of-data (RFC 2920 §3.1). Undefined: the executor decides later.
   */
  takeNextIteration?: () => boolean;
}

/** What the engine gives an executor. All times are ms since this scenario started. */
export interface ExecutorContext {
  readonly scenario: ResolvedScenarioBase;
  /** Milliseconds since the scenario started (monotonic clock). */
  now(): number;
  /**
   * Waits until scenario time `atMs`. Resolves true at that instant, false as soon as the
   * test is stopping (then the executor must stop starting iterations and return).
   */
  waitUntil(atMs: number): Promise<boolean>;
  /** True once the test is stopping (SIGINT, a threshold's abortOnFail). */
  readonly isStopping: boolean;
  /** Creates and initialises a new VU (counts toward vus_max). */
  allocateVu(): Vu;
  /**
   * Runs one iteration on `vu` and resolves when it is done. Never rejects: failures are
   * recorded as metrics. `intendedStartMs` is the planned start of an arrival-rate iteration
   * (response time is measured from it); closed-model executors omit it.
   */
  runIteration(vu: Vu, intendedStartMs?: number): Promise<void>;
  /** Reports how many VUs are active now (the `vus` gauge). */
  setActiveVus(count: number): void;
  /**
   * Counts `count` iterations that never started (dropped_iterations) in one call, whatever the
   * count; warns once. Arrival-rate executors: no VU came free within maxQueueWait of the planned
   * start, or they were still queued when the scenario ended (`isAtEnd`); iteration-count
   * executors: maxDuration ended first (see end-of-scenario.ts).
   */
  dropIterations(count: number, isAtEnd?: boolean): void;
  /**
   * Reports how many arrivals wait in an arrival-rate executor's queue for a free VU now (the
   * arrivals_queued gauge), whenever that changes; warns once when arrivals first queue. A number
   * store: cheap enough to call per arrival.
   */
  setQueuedArrivals(count: number): void;
  /**
   * Arrival-rate executors: `count` planned instants were reached now (started, queued or dropped
   * alike). The timeline's `planned` column: the load an open model was asked to carry, whatever
   * the server did (trend analysis finds the steady part of the run from it).
   */
  arrivalsPlanned(count: number): void;
  /**
   * Waits for iterations still running to finish, up to `graceMs`; those still running then are
   * interrupted (their connection closed, counted as interrupted, not as failed).
   */
  drain(graceMs: number): Promise<void>;
  /**
   * Lets the REST API change this scenario's VUs while it runs (the externally-controlled
   * executor): `setVus` is called with a count from 0 to `maxVus`, checked before the call.
   */
  acceptVusControl(setVus: (vus: number) => void, maxVus: number): void;
  /**
   * Lets the REST API change this scenario's arrival rate while it runs (constant-arrival-rate):
   * `setRate` is called with a rate per second > 0, checked before the call, and answers false
   * when the schedule is over (nothing changed). `ratePerSecond`: the rate at the start.
   */
  acceptRateControl(setRate: (ratePerSecond: number) => boolean, ratePerSecond: number): void;
  /** Tells listeners a batch finished (the `batches` executor's per-batch lines). */
  reportBatch(batch: { index: number; count: number; sent: number; total: number; durationMs: number }): void;
}

/** An executor: runs a scenario's schedule to the end, or until the test stops. */
export interface Executor {
  run(ctx: ExecutorContext): Promise<void>;
}
