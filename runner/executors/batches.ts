/**
 * batches (the old Python tool's model, kept for before/after comparisons with it):
 * `iterations` messages sent `vus` at a time; a batch starts all of its messages together and
 * the next batch starts only when every message of this one is done. After each batch it
 * reports `{index (1-based), count, sent so far, total, durationMs}` (the tool's
 * "[Batch 2/10] Sent: 20/100 … Batch time" lines); the last batch may be smaller. At
 * `maxDuration` no new batch starts and the running one gets `gracefulStop`; it is still
 * reported, and the messages never started count as dropped (not when the test was stopped).
 */
import type { Executor, ExecutorContext } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { allocateVus, waitForOrUntil, yieldToEventLoop } from './vu-loops.ts';

/** A batch that took less than this (ms) may not have waited on I/O: yield before the next. */
const STARVATION_GUARD_MS = 1;

/** Creates the batches executor for `scenario`. */
export function createBatches(scenario: ResolvedScenario): Executor {
  return {
    async run(ctx: ExecutorContext): Promise<void> {
      const total = scenario.iterations;
      const endMs = scenario.maxDurationMs;
      const vus = allocateVus(ctx, Math.min(scenario.vus, total));
      const running: Promise<void>[] = [];
      let sent = 0;
      let index = 0;
      let activeVus = 0;
      ctx.setActiveVus(0);
      while (vus.length > 0 && sent < total && !ctx.isStopping && ctx.now() < endMs) {
        const count = Math.min(vus.length, total - sent);
        index++;
        if (count !== activeVus) ctx.setActiveVus((activeVus = count));
        const beganMs = ctx.now();
        running.length = 0;
        for (let i = 0; i < count; i++) running.push(ctx.runIteration(vus[i]!));
        const batch = Promise.all(running);
        const isComplete = await waitForOrUntil(ctx, batch, endMs);
        if (!isComplete) {
          await ctx.drain(scenario.gracefulStopMs);
          await batch;
        }
        sent += count;
        const durationMs = ctx.now() - beganMs;
        ctx.reportBatch({ index, count, sent, total, durationMs });
        if (!isComplete) break;
        if (durationMs < STARVATION_GUARD_MS) await yieldToEventLoop();
      }
      await ctx.drain(scenario.gracefulStopMs);
      ctx.setActiveVus(0);
      if (!ctx.isStopping) for (let i = sent; i < total; i++) ctx.dropIteration();
    },
  };
}
