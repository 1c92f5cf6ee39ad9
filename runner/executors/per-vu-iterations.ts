/**
 * per-vu-iterations (k6): each of `vus` VUs runs exactly `iterations` iterations, back to
 * back, whatever the others do (vus × iterations in all). At `maxDuration` no new iteration
 * starts, running ones get `gracefulStop`, and the ones never started count as dropped (as
 * k6 counts them; not when the test was stopped).
 */
import type { Executor, ExecutorContext } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { allocateVus, runVuLoops, waitForOrUntil } from './vu-loops.ts';

/** Creates the per-vu-iterations executor for `scenario`. */
export function createPerVuIterations(scenario: ResolvedScenario): Executor {
  return {
    async run(ctx: ExecutorContext): Promise<void> {
      const perVu = scenario.iterations;
      const endMs = scenario.maxDurationMs;
      const vus = allocateVus(ctx, perVu > 0 ? scenario.vus : 0);
      const startedByVu = new Array<number>(vus.length).fill(0);
      let isEnded = false;
      const loops = runVuLoops(ctx, vus, (vuIndex) => {
        if (isEnded || startedByVu[vuIndex]! >= perVu || ctx.isStopping || ctx.now() >= endMs) return false;
        startedByVu[vuIndex]!++;
        return true;
      });
      await waitForOrUntil(ctx, loops, endMs);
      isEnded = true;
      await ctx.drain(scenario.gracefulStopMs);
      await loops;
      ctx.setActiveVus(0);
      if (!ctx.isStopping) {
        for (const started of startedByVu) for (let i = started; i < perVu; i++) ctx.dropIteration();
      }
    },
  };
}
