/**
 * shared-iterations (k6): `vus` VUs pull from one shared pool of `iterations`; a VU starts the
 * next one as soon as its last is done, so fast VUs do more. No iteration runs twice, and
 * exactly `iterations` run unless the test stops or `maxDuration` passes first. At
 * `maxDuration` no new iteration starts, running ones get `gracefulStop`, and the ones never
 * started count as dropped (as k6 counts them; not when the test was stopped).
 */
import type { Executor, ExecutorContext } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { allocateVus, runVuLoops, waitForOrUntil } from './vu-loops.ts';

/** Creates the shared-iterations executor for `scenario`. */
export function createSharedIterations(scenario: ResolvedScenario): Executor {
  return {
    async run(ctx: ExecutorContext): Promise<void> {
      const total = scenario.iterations;
      const endMs = scenario.maxDurationMs;
      // More VUs than iterations would only sit idle.
      const vus = allocateVus(ctx, Math.min(scenario.vus, total));
      let started = 0;
      let isEnded = false;
      const loops = runVuLoops(ctx, vus, () => {
        if (isEnded || started >= total || ctx.isStopping || ctx.now() >= endMs) return false;
        started++;
        return true;
      });
      await waitForOrUntil(ctx, loops, endMs);
      isEnded = true;
      await ctx.drain(scenario.gracefulStopMs);
      await loops;
      ctx.setActiveVus(0);
      if (!ctx.isStopping) for (let i = started; i < total; i++) ctx.dropIteration();
    },
  };
}
