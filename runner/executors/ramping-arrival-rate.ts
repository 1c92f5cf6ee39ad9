/**
 * ramping-arrival-rate (k6): iterations start on a planned schedule whose rate moves from
 * `startRate` through the stages (per `timeUnit`), whatever the responses (open model). Each
 * planned instant takes a free VU; when all are busy it allocates one more, up to `maxVUs`.
 * Past that, unlike k6, the arrival is not dropped at once: it waits in a FIFO queue for the
 * next VU that frees up, for at most `maxQueueWait` (wrk2's model). Iterations are timed from
 * their planned instant, so a late start (waiting for a VU, a slow event loop, a stalled host)
 * counts as response time instead of hiding it (coordinated omission); service time still runs
 * from the actual start, and the difference is the wait. The active VU count is the number of
 * VUs running an iteration now.
 */
import type { Executor, ExecutorContext, Vu } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { arrivalTimesMs, stagesDurationMs } from './schedule.ts';
import { ArrivalQueue } from './arrival-queue.ts';

/** Creates the ramping-arrival-rate executor for `scenario`. */
export function createRampingArrivalRate(scenario: ResolvedScenario): Executor {
  return {
    run(ctx: ExecutorContext): Promise<void> {
      const arrivals = arrivalTimesMs(scenario.startRate, scenario.stages, scenario.timeUnitMs);
      return runArrivals(ctx, scenario, arrivals, stagesDurationMs(scenario.stages));
    },
  };
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
  scenario: ResolvedScenario,
  arrivals: Iterator<number, unknown>,
  endMs: number,
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
      ctx.dropIteration();
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
  for (;;) {
    const isPlanDone = arrivalMs === Infinity;
    let wakeMs = isPlanDone ? endMs : arrivalMs;
    if (queue.length > 0 && queue.peek() + maxQueueWaitMs < wakeMs) wakeMs = queue.peek() + maxQueueWaitMs;
    if (wakeMs > ctx.now() && !(await ctx.waitUntil(wakeMs))) break;
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
          ctx.dropIteration(); // maxQueueWait 0, or a wake so late the arrival has already waited that long
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
    if (isPlanDone && nowMs >= endMs) break;
  }
  isTakingQueued = false;
  const leftover = queue.clear();
  for (let i = leftover; i > 0; i--) ctx.dropIteration(true);
  if (leftover > 0) ctx.setQueuedArrivals(0);
  await ctx.drain(scenario.gracefulStopMs);
  if (busyVus > 0) await new Promise<void>((resolve) => (onIdle = resolve));
  ctx.setActiveVus(0);
}
