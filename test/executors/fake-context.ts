/**
 * A fake ExecutorContext on a virtual clock, shared by the executor tests: waits advance a fake
 * time, iterations finish after a fake service time, so every count and instant is exact and a
 * whole file runs in milliseconds.
 */
import type { Executor, ExecutorContext, Vu } from '../../runner/executors/executor.ts';
import type { ResolvedScenario, ResolvedStage } from '../../runner/scenario/resolved.ts';
import type { ResolvedSharedIterations } from '../../runner/executors/shared-iterations.ts';
import type { ResolvedConstantVus } from '../../runner/executors/constant-vus.ts';
import type { ResolvedRampingVus } from '../../runner/executors/ramping-vus.ts';
import type { ResolvedConstantArrivalRate } from '../../runner/executors/constant-arrival-rate.ts';
import type { ResolvedRampingArrivalRate } from '../../runner/executors/ramping-arrival-rate.ts';
import type { ExecutorName } from '../../runner/scenario/types.ts';
import { PHASES, type Phase } from '../../runner/smtp/phases.ts';
import { createExecutor } from '../../runner/executors/index.ts';

/** A safety bound: no test here needs more timer steps than this. */
const MAX_STEPS = 200_000;

export interface StartedIteration {
  vuId: number;
  atMs: number;
  intendedStartMs: number | undefined;
}

export type BatchReport = Parameters<ExecutorContext['reportBatch']>[0];

export interface FakeContextOptions {
  /** Service time of each iteration in ms (≥ 1): fixed, or per VU id. @default 100 */
  serviceMs?: number | ((vuId: number) => number);
  /** Scenario time at which the test starts stopping (as on SIGINT). */
  stopAtMs?: number;
  /** Every wait wakes this many ms after the instant it asked for (a busy event loop). @default 0 */
  wakeLateMs?: number;
  /** Things done to the running executor at virtual instants (the REST API's VU changes). */
  actions?: Array<{ atMs: number; run(ctx: FakeContext): void }>;
  /**
   * This many ms into each iteration, ask for the VU's next iteration early (Vu.takeNextIteration,
   * as the SMTP session does when it writes a message's data); undefined: never asked.
   */
  askNextAtMs?: number;
}

/** The fake context plus what it saw. */
export interface FakeContext extends ExecutorContext {
  readonly started: StartedIteration[];
  /** `[atMs, count]` for every setActiveVus call. */
  readonly activeVus: Array<[number, number]>;
  /** `[atMs, count]` for every setQueuedArrivals call. */
  readonly queued: Array<[number, number]>;
  /** arrivalsPlanned calls: [nowMs, count]. */
  readonly planned: Array<[number, number]>;
  readonly batches: BatchReport[];
  readonly drains: Array<{ atMs: number; graceMs: number }>;
  readonly allocatedVus: Vu[];
  dropped: number;
  /** dropIterations calls (each may count many). */
  dropIterationsCalls: number;
  /** The virtual instant of every dropped iteration, in order (not filled past a million drops). */
  readonly droppedAtMs: number[];
  /** dropIterations' isAtEnd flag, per dropped iteration. */
  readonly droppedAtEnd: boolean[];
  completed: number;
  interrupted: number;
  /** waitUntil calls. */
  waits: number;
  /** Every early ask (askNextAtMs): [atMs, vuId, granted]; a VU without a loop's grant is not asked. */
  readonly asks: Array<[number, number, boolean]>;
  /** What an externally-controlled executor registered (acceptVusControl). */
  vusControl?: { setVus(vus: number): void; maxVus: number };
  /** What a constant-arrival-rate executor registered (acceptRateControl). */
  rateControl?: { setRate(ratePerSecond: number): boolean; ratePerSecond: number };
  /** Runs `executor` to its end on the virtual clock; resolves with the virtual end time (ms). */
  drive(executor: Executor): Promise<number>;
}

interface FakeTimer {
  atMs: number;
  seq: number;
  fire(): void;
  isCancelled: boolean;
}

/**
 * A fake ExecutorContext whose clock only moves when every promise has settled: then the
 * earliest pending timer (a wait, an iteration's end, a drain's grace, the stop) fires, in
 * the order they were scheduled when instants tie.
 */
export function createFakeContext(scenario: AnyScenario, options: FakeContextOptions = {}): FakeContext {
  const serviceMs = options.serviceMs ?? 100;
  const wakeLateMs = options.wakeLateMs ?? 0;
  let nowMs = 0;
  let seq = 0;
  let isStopping = false;
  const timers: FakeTimer[] = [];
  const stopWaiters = new Set<() => void>();
  const inFlight = new Set<{ timer: FakeTimer; finish(): void }>();
  let onIdle: (() => void) | undefined;

  const schedule = (atMs: number, fire: () => void): FakeTimer => {
    const timer = { atMs: Math.max(atMs, nowMs), seq: seq++, fire, isCancelled: false };
    timers.push(timer);
    return timer;
  };
  const popEarliest = (): FakeTimer | undefined => {
    let best = -1;
    for (let i = 0; i < timers.length; i++) {
      const t = timers[i]!;
      if (t.isCancelled) continue;
      const b = timers[best];
      if (b === undefined || t.atMs < b.atMs || (t.atMs === b.atMs && t.seq < b.seq)) best = i;
    }
    if (best < 0) return undefined;
    const [timer] = timers.splice(best, 1);
    return timer;
  };

  const ctx: FakeContext = {
    scenario,
    started: [],
    activeVus: [],
    queued: [],
    planned: [],
    batches: [],
    drains: [],
    allocatedVus: [],
    dropped: 0,
    dropIterationsCalls: 0,
    droppedAtMs: [],
    droppedAtEnd: [],
    completed: 0,
    interrupted: 0,
    waits: 0,
    asks: [],
    now: () => nowMs,
    get isStopping() {
      return isStopping;
    },
    waitUntil(atMs: number): Promise<boolean> {
      ctx.waits++;
      if (isStopping) return Promise.resolve(false);
      return new Promise((resolve) => {
        const wake = (): void => {
          timer.isCancelled = true;
          resolve(false);
        };
        const timer = schedule(atMs + wakeLateMs, () => {
          stopWaiters.delete(wake);
          resolve(!isStopping);
        });
        stopWaiters.add(wake);
      });
    },
    allocateVu(): Vu {
      const vu = { id: ctx.allocatedVus.length + 1, iterations: 0 };
      ctx.allocatedVus.push(vu);
      return vu;
    },
    runIteration(vu: Vu, intendedStartMs?: number): Promise<void> {
      ctx.started.push({ vuId: vu.id, atMs: nowMs, intendedStartMs });
      vu.iterations++;
      const durationMs = typeof serviceMs === 'number' ? serviceMs : serviceMs(vu.id);
      const askNextAtMs = options.askNextAtMs;
      if (askNextAtMs !== undefined && askNextAtMs < durationMs) {
        schedule(nowMs + askNextAtMs, () => {
          if (vu.takeNextIteration !== undefined) ctx.asks.push([nowMs, vu.id, vu.takeNextIteration()]);
        });
      }
      return new Promise((resolve) => {
        const entry = {
          timer: schedule(nowMs + durationMs, () => {
            ctx.completed++;
            entry.finish();
          }),
          finish: () => {
            inFlight.delete(entry);
            resolve();
            if (inFlight.size === 0) onIdle?.();
          },
        };
        inFlight.add(entry);
      });
    },
    setActiveVus(count: number): void {
      ctx.activeVus.push([nowMs, count]);
    },
    setQueuedArrivals(count: number): void {
      ctx.queued.push([nowMs, count]);
    },
    arrivalsPlanned(count: number): void {
      ctx.planned.push([nowMs, count]);
    },
    dropIterations(count: number, isAtEnd = false): void {
      ctx.dropIterationsCalls++;
      ctx.dropped += count;
      // A huge count (the one-call test) is only counted.
      if (ctx.droppedAtMs.length + count > 1_000_000) return;
      for (let i = 0; i < count; i++) {
        ctx.droppedAtMs.push(nowMs);
        ctx.droppedAtEnd.push(isAtEnd);
      }
    },
    drain(graceMs: number): Promise<void> {
      ctx.drains.push({ atMs: nowMs, graceMs });
      if (inFlight.size === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const grace = schedule(nowMs + graceMs, () => {
          // Grace is over: cut off whatever still runs.
          for (const entry of [...inFlight]) {
            entry.timer.isCancelled = true;
            ctx.interrupted++;
            entry.finish();
          }
        });
        onIdle = () => {
          onIdle = undefined;
          grace.isCancelled = true;
          resolve();
        };
      });
    },
    reportBatch(batch: BatchReport): void {
      ctx.batches.push({ ...batch });
    },
    acceptVusControl(setVus: (vus: number) => void, maxVus: number): void {
      ctx.vusControl = { setVus, maxVus };
    },
    acceptRateControl(setRate: (ratePerSecond: number) => boolean, ratePerSecond: number): void {
      ctx.rateControl = { setRate, ratePerSecond };
    },
    async drive(executor: Executor): Promise<number> {
      for (const action of options.actions ?? []) schedule(action.atMs, () => action.run(ctx));
      if (options.stopAtMs !== undefined) {
        schedule(options.stopAtMs, () => {
          isStopping = true;
          for (const wake of [...stopWaiters]) wake();
          stopWaiters.clear();
        });
      }
      let isDone = false;
      let failure: unknown;
      executor.run(ctx).then(
        () => (isDone = true),
        (error: unknown) => {
          failure = error;
          isDone = true;
        },
      );
      for (let steps = 0; ; steps++) {
        // Let every pending promise settle before the clock moves.
        await new Promise((resolve) => setImmediate(resolve));
        if (isDone) break;
        if (steps > MAX_STEPS) throw new Error(`executor still running after ${MAX_STEPS} timer steps`);
        const timer = popEarliest();
        if (timer === undefined) throw new Error(`executor stalled at ${nowMs} ms: not done and nothing scheduled`);
        nowMs = timer.atMs;
        timer.fire();
      }
      if (failure !== undefined) throw failure;
      return nowMs;
    },
  };
  return ctx;
}

/**
 * A resolved scenario with every executor's options (the tests build them flat, so the
 * executor under test finds its own whatever it is).
 */
export type AnyScenario = ResolvedScenario &
  Omit<ResolvedSharedIterations, 'executor'> &
  Omit<ResolvedConstantVus, 'executor'> &
  Omit<ResolvedRampingVus, 'executor'> &
  Omit<ResolvedConstantArrivalRate, 'executor'> &
  Omit<ResolvedRampingArrivalRate, 'executor'>;

/** A resolved scenario for `executor` with test-friendly defaults; `options` override. */
export function scenarioFor(executor: ExecutorName, options: Partial<AnyScenario> = {}): AnyScenario {
  const timeoutsMs = Object.fromEntries(PHASES.map((phase) => [phase, 30_000])) as Record<Phase, number>;
  return {
    name: 'test',
    executor,
    startTimeMs: 0,
    gracefulStopMs: 30_000,
    tags: {},
    target: { host: '127.0.0.1', port: 2525, adminUrl: 'http://127.0.0.1:9090' },
    smtp: {
      from: 'test@example.com',
      to: ['recipient@outlook.com'],
      auth: 'plain',
      password: 'placeholder',
      ehloName: 'runner.localhost',
      messageSize: 1024,
      messagesPerConnection: 1,
      timeoutsMs,
    },
    accounts: { pick: 'round-robin', emails: ['test@example.com'], weights: [1], file: undefined },
    vus: 1,
    iterations: 1,
    durationMs: 0,
    maxDurationMs: 600_000,
    startVUs: 1,
    gracefulRampDownMs: 30_000,
    stages: [],
    rate: 0,
    startRate: 0,
    timeUnitMs: 1000,
    preAllocatedVUs: 1,
    maxVUs: 1,
    maxQueueWaitMs: 30_000,
    ...options,
  } as AnyScenario;
}

/** Runs the named executor for `scenario` on a fresh fake context. */
export async function runOnFake(scenario: AnyScenario, options?: FakeContextOptions): Promise<{ ctx: FakeContext; endMs: number }> {
  const ctx = createFakeContext(scenario, options);
  const endMs = await ctx.drive(createExecutor(scenario));
  return { ctx, endMs };
}

/** Iterations started per VU id. */
export function countByVu(started: readonly StartedIteration[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const s of started) counts.set(s.vuId, (counts.get(s.vuId) ?? 0) + 1);
  return counts;
}

/** The values an active-VU trace went through, with repeats removed. */
export function distinctSteps(trace: ReadonlyArray<[number, number]>): Array<[number, number]> {
  const steps: Array<[number, number]> = [];
  for (const [atMs, count] of trace) if (steps.length === 0 || steps[steps.length - 1]![1] !== count) steps.push([atMs, count]);
  return steps;
}

export function stage(durationMs: number, target: number): ResolvedStage {
  return { durationMs, target };
}
