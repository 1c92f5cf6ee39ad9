/**
 * The engine: runs every scenario of a resolved test with its executor, ticks the timeline once
 * a second, tells listeners, and stops early on an interrupt or a threshold's abortOnFail.
 */
import { performance } from 'node:perf_hooks';
import { createExecutor, executorOf, plannedIterations, scenarioDurationMs } from '../executors/index.ts';
import { globalIndexOf, type SegmentStripe } from '../executors/segment.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { customMetrics } from '../metrics/custom.ts';
import type { ResolvedOptions } from '../scenario/resolved.ts';
import { exceedsLimit } from '../scenario/limits.ts';
import { ScriptError, ScriptTimeoutError } from '../errors.ts';
import { formatDurationMs } from '../scenario/duration.ts';
import { settleWithin } from './script-deadline.ts';
import type { IterationContext } from '../smtp/api.ts';
import type { EngineListener, ScenarioProgress } from './events.ts';
import { ScenarioRun, type ScenarioHost } from './scenario-run.ts';
import type { SessionTranscripts } from './transcript.ts';
import { setCheckWarningSink } from '../script/check.ts';
import { setSleepWarningSink, wakeSleepers, type ThinkTimePlan } from '../script/sleep.ts';

/** How often the timeline closes a window and listeners hear progress. */
export const TICK_MS = 1000;

/** Why a run ended before its plan ('setup': setup() did not settle, no load was sent). */
export type StopReason = 'interrupt' | 'threshold' | 'setup';

export interface TestResult {
  registry: MetricsRegistry;
  /** Wall-clock start. */
  startedAt: Date;
  /** Monotonic duration of the load (setup and teardown excluded). */
  durationMs: number;
  stopReason: StopReason | undefined;
  scenarios: ScenarioProgress[];
  setupData: unknown;
  /** Set when teardown() did not settle within teardownTimeout: what to report (exit 101). */
  teardownTimedOut?: string;
}

/** Called on each tick once the run is underway; returns a reason to abort, or undefined. */
export type AbortCheck = (registry: MetricsRegistry, elapsedMs: number) => string | undefined;

export class Engine implements ScenarioHost {
  readonly registry: MetricsRegistry;
  readonly iteration: ((ctx: IterationContext<any>) => Promise<void> | void) | undefined;
  readonly env: Record<string, string | undefined>;
  readonly thinkTime: ThinkTimePlan | undefined;
  setupData: unknown = undefined;
  stopReason: StopReason | undefined;
  /** Message of the threshold that aborted the run. */
  abortMessage: string | undefined;
  private readonly options: ResolvedOptions;
  private readonly listeners: EngineListener[];
  private readonly abortCheck: AbortCheck | undefined;
  private readonly runs: ScenarioRun[];
  private readonly stopWaiters = new Set<() => void>();
  private readonly warned = new Set<string>();
  private vuCounter = 0;
  /** Messages (iterations) still to go before a count-based warm-up ends. */
  private warmupMessagesLeft = 0;
  /** performance.now() when the warm-up ended; undefined without one (or before it ends). */
  private warmupEndMs: number | undefined;
  private sequence = 0;
  /** This process's execution segment (every scenario runs the same one), or undefined for the whole plan. */
  private readonly stripe: SegmentStripe | undefined;
  readonly transcripts: SessionTranscripts | undefined;
  /** performance.now() when the current pause began; undefined while running. */
  private pausedSinceMs: number | undefined;
  /** Time paused by pauses that have ended, ms. */
  private pausedTotalMs = 0;
  pauseCount = 0;
  private readonly resumeWaiters = new Set<() => void>();
  /** Whether the load has started (setup done) and not yet ended: pause and scale apply only then. */
  private phase: 'setup' | 'running' | 'done' = 'setup';

  /** `transcripts`: `--debug` protocol transcripts of the first sessions (transcript.ts). */
  constructor(options: ResolvedOptions, listeners: EngineListener[] = [], abortCheck?: AbortCheck, transcripts?: SessionTranscripts) {
    this.options = options;
    this.transcripts = transcripts;
    this.listeners = listeners;
    this.abortCheck = abortCheck;
    this.iteration = options.iteration;
    this.thinkTime = options.thinkTime;
    this.stripe = options.scenarios.find((scenario) => scenario.segment !== undefined && !scenario.segment.isWhole)?.segment;
    this.env = options.env;
    this.registry = new MetricsRegistry(performance.now(), customMetrics());
    this.runs = options.scenarios.map((scenario) => new ScenarioRun(scenario, this));
    setCheckWarningSink((message) => this.warnOnce(`check:${message}`, message));
    setSleepWarningSink((message) => this.warnOnce(`sleep:${message}`, message));
  }

  get isStopping(): boolean {
    return this.stopReason !== undefined;
  }

  get isPaused(): boolean {
    return this.pausedSinceMs !== undefined;
  }

  pausedMs(): number {
    return this.pausedTotalMs + (this.pausedSinceMs === undefined ? 0 : performance.now() - this.pausedSinceMs);
  }

  onResume(wake: () => void): () => void {
    this.resumeWaiters.add(wake);
    return () => this.resumeWaiters.delete(wake);
  }

  /**
   * Pauses the run (the REST API's PATCH /v1/status {paused: true}): no iteration starts, the
   * scenarios' clocks stand still (arrival-rate schedules stop and restart where they were;
   * durations are extended by the pause), iterations already running finish. The timeline
   * marks the paused part of each window. Returns false when there is nothing to pause.
   */
  pause(): boolean {
    if (this.isPaused || this.isStopping || this.phase !== 'running') return false;
    this.pausedSinceMs = performance.now();
    this.pauseCount++;
    this.registry.setPaused(true, this.pausedSinceMs);
    return true;
  }

  /** Resumes a paused run; returns false when it was not paused. */
  resume(): boolean {
    if (this.pausedSinceMs === undefined) return false;
    const nowMs = performance.now();
    this.pausedTotalMs += nowMs - this.pausedSinceMs;
    this.pausedSinceMs = undefined;
    this.registry.setPaused(false, nowMs);
    this.wakeResumeWaiters();
    return true;
  }

  private wakeResumeWaiters(): void {
    const waiters = [...this.resumeWaiters];
    this.resumeWaiters.clear();
    for (const wake of waiters) wake();
  }

  /** The scenarios whose VUs the API may set (externally-controlled), with their limits. */
  controllableScenarios(): Array<{ name: string; maxVus: number }> {
    return this.runs.filter((run) => run.vusControl !== undefined && run.state !== 'done').map((run) => ({ name: run.scenario.name, maxVus: run.vusControl!.maxVus }));
  }

  /**
   * Sets the VUs of every running externally-controlled scenario (PATCH /v1/status {vus: N}).
   * Returns a problem (a sentence) instead when there is none, or N is out of its range.
   * `isCheckOnly`: only say whether the change would be taken (the API checks every field first).
   */
  scaleVus(vus: number, isCheckOnly = false): string | undefined {
    const runs = this.runs.filter((run) => run.vusControl !== undefined && run.state !== 'done');
    if (runs.length === 0) return 'no externally-controlled scenario is running: only its VUs can be changed while a run goes';
    if (!Number.isInteger(vus) || vus < 0) return `vus must be a whole number >= 0, got ${vus}`;
    const tooFew = runs.find((run) => vus > run.vusControl!.maxVus);
    if (tooFew) return `vus ${vus} is above maxVUs ${tooFew.vusControl!.maxVus} of scenario ${tooFew.scenario.name}: raise its maxVUs`;
    if (!isCheckOnly) for (const run of runs) run.vusControl!.setVus(vus);
    return undefined;
  }

  /**
   * Sets the arrival rate (per second, > 0) of every running constant-arrival-rate scenario
   * (PATCH /v1/status {rate: R}) from now on: its schedule goes on at the new rate without a
   * burst or a gap (SteerableArrivals), still bounded by maxVUs; the change is marked in the
   * timeline. Returns a problem (a sentence) instead when no such scenario runs, or R is not > 0.
   * A ramping-arrival-rate scenario keeps its stages: a rate set from outside would contradict
   * the plan they state (steer a constant-arrival-rate scenario instead). `isCheckOnly`: as for scaleVus.
   */
  scaleRate(ratePerSecond: number, isCheckOnly = false): string | undefined {
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) return `rate must be a number > 0 per second, got ${ratePerSecond}`;
    // The scenario files' bound: far above it the arrival loop never catches up and blocks the event loop
    const tooFast = exceedsLimit('ratePerSecond', ratePerSecond);
    if (tooFast) return `rate ${tooFast}`;
    const runs = this.runs.filter((run) => run.rateControl !== undefined && run.state === 'running');
    if (runs.length === 0) {
      const planned = this.runs.find((run) => run.state !== 'done' && executorOf(run.scenario).isOpenModel);
      if (planned !== undefined) {
        return `scenario ${planned.scenario.name} (${planned.scenario.executor}) takes no rate change${planned.state === 'waiting' ? ' before it starts' : ''}: only a running constant-arrival-rate scenario's rate can be changed (a ramping-arrival-rate scenario follows its stages)`;
      }
      return 'no constant-arrival-rate scenario is running: only its rate can be changed while a run goes';
    }
    if (isCheckOnly) return undefined;
    const nowMs = performance.now();
    let changed = 0;
    for (const run of runs) {
      if (!run.rateControl!.setRate(ratePerSecond)) continue;
      run.rateControl!.ratePerSecond = ratePerSecond;
      this.registry.noteRateChange(run.scenario.name, ratePerSecond, nowMs);
      changed++;
    }
    return changed === 0 ? 'no constant-arrival-rate scenario is running: their schedules are over' : undefined;
  }

  /** Where the run is: for GET /v1/status. */
  status(): { phase: 'setup' | 'running' | 'done'; isPaused: boolean; isStopping: boolean; pausedMs: number; elapsedMs: number; vus: number; vusMax: number; scenarios: ScenarioProgress[] } {
    return {
      phase: this.phase,
      isPaused: this.isPaused,
      isStopping: this.isStopping,
      pausedMs: this.pausedMs(),
      elapsedMs: this.phase === 'setup' ? 0 : performance.now() - this.registry.startMs,
      vus: this.registry.vus,
      vusMax: this.registry.vusMax,
      scenarios: this.progress(),
    };
  }

  /** Stops starting iterations; running ones get their scenario's gracefulStop. */
  stop(reason: StopReason, message?: string): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.abortMessage = message;
    for (const wake of [...this.stopWaiters]) wake();
    this.stopWaiters.clear();
    // Think time ends with the test: a stop must not wait out a long sleep().
    wakeSleepers();
    // A stop while paused ends the pause: waiters go on to see the stop.
    if (this.isPaused) this.resume();
  }

  onStop(wake: () => void): () => void {
    this.stopWaiters.add(wake);
    return () => this.stopWaiters.delete(wake);
  }

  iterationDone(): void {
    if (this.warmupMessagesLeft > 0 && --this.warmupMessagesLeft === 0) this.endWarmup();
  }

  /** Ends the warm-up: totals start from zero, throughput is measured from now. */
  private endWarmup(): void {
    if (this.warmupEndMs !== undefined) return;
    this.warmupEndMs = performance.now();
    this.registry.endWarmup(this.warmupEndMs);
  }

  /**
   * VU ids and message sequence numbers ({{vu}}, {{seq}}, Subject, Message-ID) count in the whole
   * plan: a process running an execution segment (a worker, an agent, --execution-segment) takes
   * the positions its segment owns, so the processes of one run never give out the same number.
   */
  nextVuId(): number {
    return this.wholePlanNumber(this.vuCounter++);
  }

  nextSequence(): number {
    return this.wholePlanNumber(this.sequence++);
  }

  /** The 1-based number in the whole plan of this process's `localIndex`-th (0-based). */
  private wholePlanNumber(localIndex: number): number {
    const stripe = this.stripe;
    return (stripe === undefined ? localIndex : globalIndexOf(stripe, localIndex)) + 1;
  }

  vusChanged(): void {
    let active = 0;
    let allocated = 0;
    for (const run of this.runs) {
      active += run.activeVus;
      allocated += run.vus.length;
    }
    this.registry.setVus(active, allocated);
  }

  warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.emit((listener) => listener.onWarning?.(message));
  }

  reportBatch(scenario: string, batch: { index: number; count: number; sent: number; total: number; durationMs: number }): void {
    const totals = this.registry.aggregate({ scenario });
    this.emit((listener) => listener.onBatch?.(scenario, batch, totals.accepted, totals.failed));
  }

  /** Progress of every scenario now. */
  progress(): ScenarioProgress[] {
    return this.runs.map((run) => {
      const progress = run.progress();
      progress.plannedMs = scenarioDurationMs(run.scenario);
      progress.plannedIterations = plannedIterations(run.scenario);
      return progress;
    });
  }

  /**
   * Runs setup, every scenario, and teardown. Rejects only with a ScriptError from setup (a
   * ScriptTimeoutError when it did not settle: then `setupTimedOut()` is the zero-load result).
   */
  async run(): Promise<TestResult> {
    const { options } = this;
    if (options.setup) this.setupData = await runSetup(options);
    this.emit((listener) => listener.onStart?.(options));
    const startedAt = new Date();
    const startMs = performance.now();
    this.registry.resetClock(startMs);
    this.phase = 'running';
    const ticker = setInterval(() => this.tick(), TICK_MS);
    this.warmupMessagesLeft = options.warmup.messages;
    const warmupTimer = options.warmup.durationMs > 0 ? setTimeout(() => this.endWarmup(), options.warmup.durationMs) : undefined;
    try {
      await Promise.all(this.runs.map((run) => this.runScenario(run, startMs)));
    } finally {
      clearInterval(ticker);
      clearTimeout(warmupTimer);
      this.phase = 'done';
    }
    const endMs = performance.now();
    this.registry.tick(endMs, true);
    const isWarmupAsked = options.warmup.durationMs > 0 || options.warmup.messages > 0;
    if (isWarmupAsked && this.warmupEndMs === undefined) {
      this.warnOnce('warmup', 'the run ended during its warm-up: the figures include the warm-up (shorten warmup or lengthen the run)');
    }
    const measuredFromMs = this.warmupEndMs ?? startMs;
    const teardownTimedOut = await runTeardown(options, this.setupData, (message) => this.warnOnce('teardown', message));
    return {
      registry: this.registry,
      startedAt,
      durationMs: endMs - measuredFromMs,
      stopReason: this.stopReason,
      scenarios: this.progress(),
      setupData: this.setupData,
      teardownTimedOut,
    };
  }

  /**
   * The result of a run whose setup() did not settle: no load, status aborted, so every output
   * can still be written and say why (issue 19 item 3).
   */
  setupTimedOut(): TestResult {
    this.stopReason ??= 'setup';
    return { registry: this.registry, startedAt: new Date(), durationMs: 0, stopReason: 'setup', scenarios: this.progress(), setupData: undefined };
  }

  /**
   * Cuts off every running iteration now (a second Ctrl+C): connections destroyed, the messages
   * in flight counted as interrupted, so a partial result counts everything that was started.
   */
  interruptAll(): void {
    for (const run of this.runs) run.interruptBusy();
  }

  private async runScenario(run: ScenarioRun, testStartMs: number): Promise<void> {
    const startAtMs = testStartMs + run.scenario.startTimeMs;
    if (run.scenario.startTimeMs > 0) {
      run.setStart(testStartMs);
      const started = await run.waitUntil(run.scenario.startTimeMs);
      if (!started) {
        run.state = 'done';
        return;
      }
    }
    // (After a wait for startTime, the scenario's clock is the test's, pauses left out: starts now.)
    run.setStart(startAtMs > performance.now() ? startAtMs : performance.now());
    run.state = 'running';
    const executor = createExecutor(run.scenario);
    await executor.run(run);
    run.state = 'done';
    await run.closeConnections();
  }

  private tick(): void {
    const point = this.registry.tick()!;
    const scenarios = this.progress();
    this.emit((listener) => listener.onTick?.(point, scenarios, this.registry));
    if (this.abortCheck && !this.isStopping) {
      const reason = this.abortCheck(this.registry, performance.now() - this.registry.startMs);
      if (reason) this.stop('threshold', reason);
    }
  }

  private emit(call: (listener: EngineListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (error) {
        // An output must never take the engine down; say it once and go on.
        const message = `an output failed: ${describe(error)}`;
        if (!this.warned.has(message)) {
          this.warned.add(message);
          process.stderr.write(`warning: ${message}\n`);
        }
      }
    }
  }
}

/**
 * Runs the scenario's setup() within setupTimeout and returns its data (the engine's, or
 * `runner run --workers`'s parent, which runs it once for every worker). Throws a ScriptError.
 */
export async function runSetup(options: Pick<ResolvedOptions, 'setup' | 'setupTimeoutMs'>): Promise<unknown> {
  if (!options.setup) return undefined;
  let settled;
  try {
    settled = await settleWithin(options.setup, options.setupTimeoutMs);
  } catch (error) {
    throw new ScriptError(`setup() threw: ${describe(error)}`, 'fix setup() in the scenario file', error);
  }
  if (settled.isTimedOut) {
    throw new ScriptTimeoutError(
      `setup() did not settle within ${formatDurationMs(options.setupTimeoutMs)} (setupTimeout): no load was sent`,
      'setupTimeout',
      'make every promise setup() awaits settle (a request without a timeout, a forgotten resolve), or raise setupTimeout',
    );
  }
  return settled.value;
}

/**
 * Runs teardown(data) within teardownTimeout; a throw or the timeout is told to `warn`. Returns
 * what to report when it timed out (exit 101), else undefined.
 */
export async function runTeardown(options: Pick<ResolvedOptions, 'teardown' | 'teardownTimeoutMs'>, data: unknown, warn: (message: string) => void): Promise<string | undefined> {
  const teardown = options.teardown;
  if (!teardown) return undefined;
  try {
    const settled = await settleWithin(() => teardown(data), options.teardownTimeoutMs);
    if (settled.isTimedOut) {
      const timedOut = `teardown() did not settle within ${formatDurationMs(options.teardownTimeoutMs)} (teardownTimeout); the outputs are written without waiting for it`;
      warn(timedOut);
      return timedOut;
    }
  } catch (error) {
    warn(`teardown() threw: ${describe(error)}`);
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
