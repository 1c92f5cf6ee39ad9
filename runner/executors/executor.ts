/**
 * The one interface every executor implements. An executor decides *when* iterations start
 * and on which VU; the engine (run.ts) does everything else: VUs, SMTP, metrics, stopping.
 * Schedules are planned by the pure functions in schedule.ts; an executor only waits for the
 * planned instants.
 */
import type { ResolvedScenario } from '../scenario/resolved.ts';

/** A virtual user: one sequential stream of iterations with its own SMTP connection. */
export interface Vu {
  /** 1-based, unique in the test. */
  readonly id: number;
  /** Iterations this VU has started in this scenario. */
  iterations: number;
}

/** What the engine gives an executor. All times are ms since this scenario started. */
export interface ExecutorContext {
  readonly scenario: ResolvedScenario;
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
   * Counts an iteration that never started (dropped_iterations); warns once. Arrival-rate
   * executors: no VU came free within maxQueueWait of its planned start, or it was still queued
   * when the scenario ended (`isAtEnd`); iteration-count executors: maxDuration ended first.
   */
  dropIteration(isAtEnd?: boolean): void;
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
  /** Tells listeners a batch finished (the `batches` executor's per-batch lines). */
  reportBatch(batch: { index: number; count: number; sent: number; total: number; durationMs: number }): void;
}

/** An executor: runs a scenario's schedule to the end, or until the test stops. */
export interface Executor {
  run(ctx: ExecutorContext): Promise<void>;
}
