/**
 * constant-vus (k6): `vus` VUs loop iterations back to back for `duration`. At the end no new
 * iteration starts and running ones get `gracefulStop` before they are interrupted.
 */
import type { Executor, ExecutorContext } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { allocateVus, runVuLoops } from './vu-loops.ts';

/** Creates the constant-vus executor for `scenario`. */
export function createConstantVus(scenario: ResolvedScenario): Executor {
  return {
    async run(ctx: ExecutorContext): Promise<void> {
      const endMs = scenario.durationMs;
      const vus = allocateVus(ctx, endMs > 0 ? scenario.vus : 0);
      let isEnded = false;
      // The loops also check the clock: a timer that fires late must not let them start
      // iterations past the planned end.
      const loops = runVuLoops(ctx, vus, () => !isEnded && !ctx.isStopping && ctx.now() < endMs);
      await ctx.waitUntil(endMs);
      isEnded = true;
      await ctx.drain(scenario.gracefulStopMs);
      await loops;
      ctx.setActiveVus(0);
    },
  };
}
