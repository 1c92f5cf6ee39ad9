/**
 * ramping-arrival-rate (k6): iterations start on a planned schedule whose rate moves from
 * `startRate` through the stages (per `timeUnit`), whatever the responses (open model). Each
 * planned instant takes a free VU; when all are busy it allocates one more, up to `maxVUs`;
 * past that the iteration is dropped (`dropped_iterations`). Iterations are timed from their
 * planned instant, so a late start (a slow event loop, a stalled host) counts as latency
 * instead of hiding it (coordinated omission). The active VU count is the number of VUs
 * running an iteration now.
 */
import type { Executor, ExecutorContext, Vu } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { arrivalTimesMs, stagesDurationMs } from './schedule.ts';

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
 * `endMs`), then waits for `endMs` and drains with the scenario's gracefulStop. One timer per
 * wake-up, not per iteration: each wake starts every iteration whose instant has passed
 * (catching up after a late timer), then sleeps until the next instant. Shared by both
 * arrival-rate executors.
 */
export async function runArrivals(
  ctx: ExecutorContext,
  scenario: ResolvedScenario,
  arrivals: Iterator<number, unknown>,
  endMs: number,
): Promise<void> {
  const maxVus = Math.max(scenario.maxVUs, scenario.preAllocatedVUs);
  // Free VUs, most recently used last: reusing the warmest keeps fewer connections open.
  const idle: Vu[] = [];
  for (let i = 0; i < scenario.preAllocatedVUs; i++) idle.push(ctx.allocateVu());
  let allocatedVus = idle.length;
  let busyVus = 0;
  let onIdle: (() => void) | undefined;

  const startOn = async (vu: Vu, intendedStartMs: number): Promise<void> => {
    await ctx.runIteration(vu, intendedStartMs);
    busyVus--;
    idle.push(vu);
    ctx.setActiveVus(busyVus);
    if (busyVus === 0) onIdle?.();
  };

  ctx.setActiveVus(0);
  let next = arrivals.next();
  while (next.done !== true) {
    if (next.value > ctx.now() && !(await ctx.waitUntil(next.value))) break;
    if (ctx.isStopping) break;
    const nowMs = ctx.now();
    do {
      const intendedStartMs = next.value;
      let vu = idle.pop();
      if (vu === undefined && allocatedVus < maxVus) {
        vu = ctx.allocateVu();
        allocatedVus++;
      }
      if (vu === undefined) {
        ctx.dropIteration();
      } else {
        busyVus++;
        void startOn(vu, intendedStartMs);
      }
      next = arrivals.next();
    } while (next.done !== true && next.value <= nowMs);
    ctx.setActiveVus(busyVus);
  }
  if (!ctx.isStopping) await ctx.waitUntil(endMs);
  await ctx.drain(scenario.gracefulStopMs);
  if (busyVus > 0) await new Promise<void>((resolve) => (onIdle = resolve));
  ctx.setActiveVus(0);
}
