/**
 * What the two arrival-rate executors (constant-arrival-rate, ramping-arrival-rate) share: the
 * VU pool and queue options (preAllocatedVUs, maxVUs, maxQueueWait, timeUnit), their checks,
 * resolution, the --vus override and the results-file fields, and `runArrivals`, the loop that
 * starts iterations at planned instants. Both are open models: iterations start on schedule
 * whatever the responses, timed from their planned instant (coordinated omission).
 */
import type { Duration } from '../scenario/base-config.ts';
import type { ResolvedScenarioBase, ResolvedStage } from '../scenario/resolved-base.ts';
import { Checker, quote, type PathSegments } from '../scenario/checks.ts';
import { formatDurationMs, parseDurationMs } from '../scenario/duration.ts';
import { arrivalsBeforeMs, countArrivals, stagesDurationMs, type SteerableArrivals } from './schedule.ts';
import { ArrivalQueue } from './arrival-queue.ts';
import { endScenario } from './end-of-scenario.ts';
import type { ExecutorContext, ScheduleEstimate, SchedulePlan, SegmentShare, Vu } from './executor.ts';
import { noVuProblem, shareOf, type SegmentStripe } from './segment.ts';

/** Defaults of the arrival-rate options. */
export const ARRIVAL_DEFAULTS = { timeUnit: '1s', maxQueueWait: '30s' } as const;

/** What both arrival-rate executors do with an arrival that finds every VU busy. */
export interface ArrivalQueueConfig {
  /**
   * How long an arrival that finds every VU busy (and `maxVUs` reached) may wait for one. It
   * waits in a first-in-first-out queue and starts on the next VU that frees up, timed from
   * its *planned* instant: the wait counts in the response time (what a sender waiting in line
   * sees), not in the service time (from the actual start). One that has waited this long is
   * dropped and counted in `dropped_iterations`, as are those still waiting when the
   * scenario's duration ends or the test stops. `'0s'` drops at once: k6's behaviour.
   *
   * Why 30 s: long enough that a stall of the server (seconds: a GC pause, an upstream token
   * refresh) is charged in full to the response time instead of vanishing as drops; the same
   * as the default reply timeout, so an arrival never waits for a VU longer than runner waits
   * for a reply (a real sender would have given up by then too); and bounded, so a rate the
   * server cannot sustain keeps a backlog of at most rate × 30 s planned instants (8 bytes
   * each: 240 KB at 1000/s) while `dropped_iterations` still counts what could not be served,
   * as k6 users expect. Like the timeouts, `--scale` leaves it as it is.
   * @default '30s'
   */
  maxQueueWait?: Duration;
}

/** The pool options both arrival-rate configs have, as written. */
export interface ArrivalPoolOptions extends ArrivalQueueConfig {
  /** The unit the rates are per. @default '1s' */ timeUnit?: Duration;
  /** VUs allocated before the start. */
  preAllocatedVUs: number;
  /** VUs the executor may grow to when all are busy. @default preAllocatedVUs */
  maxVUs?: number;
}

/** Resolved pool options. */
export interface ResolvedArrivalPool {
  /** The unit rates are given per, ms. */
  timeUnitMs: number;
  preAllocatedVUs: number;
  maxVUs: number;
  /** How long an arrival may wait for a free VU once maxVUs are busy before it is dropped, ms (0: dropped at once, as in k6). */
  maxQueueWaitMs: number;
}

/** timeUnit > 0, the VU pool (preAllocatedVUs >= 0, maxVUs >= preAllocatedVUs, at least one VU), maxQueueWait >= 0. */
export function checkArrivalPool(check: Checker, config: Readonly<Record<string, unknown>>, path: PathSegments): void {
  check.duration(config['timeUnit'], [...path, 'timeUnit'], true);
  const preAllocated = check.integer(config['preAllocatedVUs'], [...path, 'preAllocatedVUs'], 0);
  const max = check.integer(config['maxVUs'], [...path, 'maxVUs'], 1);
  if (preAllocated !== undefined && max !== undefined && max < preAllocated) {
    check.add([...path, 'maxVUs'], `must be >= preAllocatedVUs (${preAllocated})`);
  }
  if (preAllocated === 0 && config['maxVUs'] === undefined) {
    check.add([...path, 'preAllocatedVUs'], 'must be >= 1, or set maxVUs: an arrival-rate scenario needs at least one VU');
  }
}

/**
 * maxQueueWait: a duration >= 0. Its own messages say what the option does, since '0s' (drop
 * at once) is a meaningful value that a generic "must be > 0" would hide.
 */
export function checkMaxQueueWait(check: Checker, value: unknown, path: PathSegments): void {
  if (typeof value !== 'string' && typeof value !== 'number') return;
  const fix = `use how long an arrival may wait for a free VU, e.g. '10s', or '0s' to drop it at once as k6 does`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) check.add(path, `must be a number of milliseconds >= 0 (got ${value}): ${fix}`);
    return;
  }
  if (/^\s*-/.test(value)) {
    check.add(path, `${quote(value)} is negative: ${fix}`);
    return;
  }
  try {
    parseDurationMs(value);
  } catch {
    check.add(path, `${quote(value)} is not a duration: ${fix}`);
  }
}

export function resolveArrivalPool(config: ArrivalPoolOptions): ResolvedArrivalPool {
  return {
    timeUnitMs: parseDurationMs(config.timeUnit ?? ARRIVAL_DEFAULTS.timeUnit),
    preAllocatedVUs: config.preAllocatedVUs,
    maxVUs: config.maxVUs ?? config.preAllocatedVUs,
    maxQueueWaitMs: parseDurationMs(config.maxQueueWait ?? ARRIVAL_DEFAULTS.maxQueueWait),
  };
}

/** --vus N raises preAllocatedVUs (and maxVUs) to at least N. */
export function applyPoolVus(pool: ResolvedArrivalPool, vus: number | undefined): void {
  if (vus === undefined) return;
  pool.preAllocatedVUs = Math.max(pool.preAllocatedVUs, vus);
  pool.maxVUs = Math.max(pool.maxVUs, pool.preAllocatedVUs);
}

/** The results file's fields for the pool. */
export function describePoolConfig(pool: ResolvedArrivalPool): Record<string, unknown> {
  return { pre_allocated_vus: pool.preAllocatedVUs, max_vus: pool.maxVUs, max_queue_wait_ms: pool.maxQueueWaitMs };
}

/**
 * An arrival-rate scenario's share for one segment: its share of preAllocatedVUs and maxVUs,
 * and the stripe (run starts only the arrivals it owns). `arrivals`: the whole plan's count.
 */
export function segmentPool<Scenario extends ResolvedScenarioBase & ResolvedArrivalPool>(scenario: Scenario, stripe: SegmentStripe, arrivals: number): SegmentShare<Scenario> {
  const share: Scenario = { ...scenario, segment: stripe, preAllocatedVUs: shareOf(stripe, scenario.preAllocatedVUs), maxVUs: shareOf(stripe, scenario.maxVUs) };
  const ownArrivals = shareOf(stripe, arrivals);
  const problem = ownArrivals > 0 && share.maxVUs === 0 ? noVuProblem(stripe, `${ownArrivals} of the ${arrivals} arrivals`, 'maxVUs', scenario.maxVUs) : undefined;
  return problem === undefined ? { scenario: share } : { scenario: share, problem };
}

/**
 * Starts an iteration at each planned instant of `arrivals` (ms, increasing, all before
 * `endMs`), then waits for `endMs` and drains with the scenario's gracefulStop. Shared by both
 * arrival-rate executors.
 *
 * One timer per wake-up, not per iteration: each wake starts every iteration whose instant has
 * passed (catching up after a late timer), then sleeps until the next instant, or until the
 * oldest queued arrival expires if that comes first (so drops are counted when they happen,
 * even in a rate-0 stage).
 *
 * An arrival that finds no free VU (and maxVUs reached) is queued; a VU that finishes takes the
 * oldest queued arrival at once, timed from its planned instant. An arrival whose planned
 * instant is `maxQueueWait` or more in the past when it would get a VU is dropped and counted
 * (`dropped_iterations`); with maxQueueWait 0 every arrival without a free VU is dropped at
 * once, as in k6. So the queue only holds arrivals planned within the last maxQueueWait: at
 * most rate × maxQueueWait numbers. Nothing queued starts at or after `endMs`, nor once the
 * test stops: what is still queued then is dropped and counted, so every planned instant that
 * was reached is either started or dropped. Every change of the queue's length is reported
 * (ctx.setQueuedArrivals), so the backlog shows while it builds, not only as response time later.
 */
export async function runArrivals(
  ctx: ExecutorContext,
  scenario: ResolvedScenarioBase & ResolvedArrivalPool,
  arrivals: Iterator<number, unknown>,
  endMs: number,
  steerable?: SteerableArrivals,
): Promise<void> {
  const maxVus = Math.max(scenario.maxVUs, scenario.preAllocatedVUs);
  const maxQueueWaitMs = scenario.maxQueueWaitMs;
  // Free VUs, most recently used last: reusing the warmest keeps fewer connections open.
  const idle: Vu[] = [];
  for (let i = 0; i < scenario.preAllocatedVUs; i++) idle.push(ctx.allocateVu());
  let allocatedVus = idle.length;
  let busyVus = 0;
  let onIdle: (() => void) | undefined;
  // Invariant: the queue is non-empty only while no VU is idle and maxVUs are allocated
  // (a freed VU takes the head before going idle), so a new arrival never overtakes it.
  const queue = new ArrivalQueue();
  let isTakingQueued = true;

  // `plannedMs + maxQueueWaitMs <= nowMs` is the one expiry test (also the wake instant
  // below), so a wake at exactly the expiry always drops the head: no zero-delay spinning.
  const dropExpired = (nowMs: number): void => {
    while (queue.length > 0 && queue.peek() + maxQueueWaitMs <= nowMs) {
      queue.shift();
      ctx.dropIterations(1);
    }
  };

  const runOn = async (vu: Vu, intendedStartMs: number): Promise<void> => {
    let plannedMs = intendedStartMs;
    for (;;) {
      await ctx.runIteration(vu, plannedMs);
      if (!isTakingQueued || queue.length === 0 || ctx.isStopping) break;
      const nowMs = ctx.now();
      if (nowMs >= endMs) break;
      dropExpired(nowMs);
      if (queue.length === 0) {
        ctx.setQueuedArrivals(0);
        break;
      }
      // Still busy: this VU goes straight on to the oldest waiting arrival.
      plannedMs = queue.shift();
      ctx.setQueuedArrivals(queue.length);
    }
    busyVus--;
    idle.push(vu);
    ctx.setActiveVus(busyVus);
    if (busyVus === 0) onIdle?.();
  };

  const nextArrivalMs = (): number => {
    const next = arrivals.next();
    return next.done === true ? Infinity : next.value;
  };

  ctx.setActiveVus(0);
  let arrivalMs = nextArrivalMs();
  // A rate change (the REST API) moves the next instant: the wait for the old one ends early.
  let wakeForChange: (() => void) | undefined;
  let isScheduling = true;
  if (steerable !== undefined) {
    ctx.acceptRateControl((ratePerSecond) => {
      if (!isScheduling || ctx.isStopping) return false;
      const isMoved = steerable.setRate((ratePerSecond * scenario.timeUnitMs) / 1000, ctx.now());
      if (isMoved || arrivalMs === Infinity) arrivalMs = nextArrivalMs();
      wakeForChange?.();
      return true;
    }, (steerable.ratePerUnit * 1000) / scenario.timeUnitMs);
  }
  const waitForChange = () => new Promise<boolean>((resolve) => (wakeForChange = () => resolve(true)));
  for (;;) {
    const isPlanDone = arrivalMs === Infinity;
    let wakeMs = isPlanDone ? endMs : arrivalMs;
    if (queue.length > 0 && queue.peek() + maxQueueWaitMs < wakeMs) wakeMs = queue.peek() + maxQueueWaitMs;
    if (wakeMs > ctx.now()) {
      const isReached = await (steerable === undefined ? ctx.waitUntil(wakeMs) : Promise.race([ctx.waitUntil(wakeMs), waitForChange()]));
      wakeForChange = undefined;
      if (!isReached) break;
    }
    if (ctx.isStopping) break;
    const nowMs = ctx.now();
    const queuedBefore = queue.length;
    dropExpired(nowMs);
    if (arrivalMs <= nowMs) {
      let reached = 0;
      do {
        reached++;
        let vu = idle.pop();
        if (vu === undefined && allocatedVus < maxVus) {
          vu = ctx.allocateVu();
          allocatedVus++;
        }
        if (vu !== undefined) {
          busyVus++;
          void runOn(vu, arrivalMs);
        } else if (arrivalMs + maxQueueWaitMs <= nowMs) {
          ctx.dropIterations(1); // maxQueueWait 0, or a wake so late the arrival has already waited that long
        } else {
          queue.push(arrivalMs);
        }
        arrivalMs = nextArrivalMs();
      } while (arrivalMs <= nowMs);
      ctx.arrivalsPlanned(reached);
      ctx.setActiveVus(busyVus);
    }
    // Once per wake, not per arrival: nothing else runs in between, so the highest length the
    // queue reached is still seen (expiries come before the new arrivals).
    if (queue.length !== queuedBefore) ctx.setQueuedArrivals(queue.length);
    // (When the plan is done no arrival was started above: arrivalMs is Infinity.)
    if (arrivalMs === Infinity && nowMs >= endMs) break;
  }
  isScheduling = false;
  // The open model's end (end-of-scenario.ts): what is still queued was reached but never
  // started, so it is dropped even when the test is stopping.
  isTakingQueued = false;
  const leftover = queue.clear();
  if (leftover > 0) {
    ctx.dropIterations(leftover, true);
    ctx.setQueuedArrivals(0);
  }
  await endScenario(ctx, scenario.gracefulStopMs, {
    stopStarting: () => (isTakingQueued = false),
    whenSettled: () => (busyVus > 0 ? new Promise<void>((resolve) => (onIdle = resolve)) : Promise.resolve()),
  });
}

/**
 * The planned schedule of an arrival-rate scenario whose rate starts at `startRate` and follows
 * `stages` (per timeUnit): arrivals per interval exactly as `arrivalTimesMs` plans them, the
 * total, the peak rate per second and the VU pool (allocated between preAllocatedVUs and maxVUs,
 * as the responses require).
 */
export function arrivalSchedule(pool: ResolvedArrivalPool, startRate: number, stages: readonly ResolvedStage[], estimate: ScheduleEstimate): SchedulePlan {
  const lengthMs = stagesDurationMs(stages);
  let peak = startRate;
  for (const stage of stages) peak = Math.max(peak, stage.target);
  const peakRatePerSecond = (peak * 1000) / pool.timeUnitMs;
  const maxVus = Math.max(pool.maxVUs, pool.preAllocatedVUs);
  // Little's law: VUs busy = arrival rate × time each iteration holds its VU.
  const neededVus = Math.ceil((peakRatePerSecond * estimate.iterationMs) / 1000 - 1e-9);
  const at = `the peak rate of ${Math.round(peakRatePerSecond * 100) / 100}/s and an expected iteration time of ${formatDurationMs(estimate.iterationMs)}`;
  const warnings: string[] = [];
  if (neededVus > maxVus) {
    warnings.push(
      `maxVUs ${maxVus} is too low: at ${at}, Little's law needs about ${neededVus} VUs busy; arrivals will queue (their wait counts in response time) ` +
        `and drop after maxQueueWait: raise maxVUs to at least ${neededVus}`,
    );
  } else if (neededVus > pool.preAllocatedVUs) {
    warnings.push(`preAllocatedVUs ${pool.preAllocatedVUs} is below the ${neededVus} VUs needed at ${at}: VUs will be allocated during the run (raise preAllocatedVUs to have them ready)`);
  }
  return {
    warnings,
    unit: 'arrivals',
    lengthMs,
    isEstimated: false,
    valueIn: (fromMs, toMs) => arrivalsBeforeMs(startRate, stages, pool.timeUnitMs, toMs) - arrivalsBeforeMs(startRate, stages, pool.timeUnitMs, fromMs),
    vusMax: { min: pool.preAllocatedVUs, max: Math.max(pool.maxVUs, pool.preAllocatedVUs) },
    iterations: countArrivals(startRate, stages, pool.timeUnitMs),
    peakRatePerSecond,
  };
}
