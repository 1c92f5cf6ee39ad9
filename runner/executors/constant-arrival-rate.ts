/**
 * constant-arrival-rate (k6): `rate` iterations per `timeUnit` for `duration`, evenly spaced
 * (the first at 0), whatever the responses (open model). VU allocation, the queue of arrivals
 * waiting for a free VU (maxQueueWait), dropped iterations and timing from the planned instant
 * are as in ramping-arrival-rate, of which this is the one-flat-stage case.
 */
import type { Executor, ExecutorContext } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { constantArrivalTimesMs } from './schedule.ts';
import { runArrivals } from './ramping-arrival-rate.ts';

/** Creates the constant-arrival-rate executor for `scenario`. */
export function createConstantArrivalRate(scenario: ResolvedScenario): Executor {
  return {
    run(ctx: ExecutorContext): Promise<void> {
      const arrivals = constantArrivalTimesMs(scenario.rate, scenario.timeUnitMs, scenario.durationMs);
      return runArrivals(ctx, scenario, arrivals, scenario.durationMs);
    },
  };
}
