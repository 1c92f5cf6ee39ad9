/**
 * batches (the old Python tool's model, kept for before/after comparisons with it):
 * `iterations` messages sent `vus` at a time; a batch starts all of its messages together and
 * the next batch starts only when every message of this one is done. After each batch it
 * reports `{index (1-based), count, sent so far, total, durationMs}` (the tool's
 * "[Batch 2/10] Sent: 20/100 … Batch time" lines); the last batch may be smaller. At
 * `maxDuration` no new batch starts and the running one gets `gracefulStop`; it is still
 * reported, and the scenario ends as end-of-scenario.ts states: the messages never started
 * count as dropped.
 */
import type { BaseScenarioConfig, Duration } from '../scenario/base-config.ts';
import type { ResolvedScenarioBase } from '../scenario/resolved-base.ts';
import type { ExecutorDefinition } from './executor.ts';
import { endScenario } from './end-of-scenario.ts';
import {
  ITERATION_COUNT_DEFAULTS,
  applyIterationCountOverrides,
  describeIterationCountConfig,
  iterationCountSchedule,
  resolveIterationCount,
  segmentIterationCount,
  validateIterationCount,
  type ResolvedIterationCount,
} from './iteration-count.ts';
import { allocateVus, waitForOrUntil, yieldToEventLoop } from './vu-loops.ts';

/** A batch that took less than this (ms) may not have waited on I/O: yield before the next. */
const STARVATION_GUARD_MS = 1;

/**
 * The old Python tool's model: `iterations` messages sent in batches of `vus`, each batch
 * waiting for the previous one to finish. Kept for before/after comparisons with it.
 */
export interface BatchesConfig extends BaseScenarioConfig {
  executor: 'batches';
  /** Batch size. @default 1 */ vus?: number;
  /** Total messages. @default 1 */ iterations?: number;
  /** Hard stop. @default '10m' */ maxDuration?: Duration;
}

/** `vus` is the batch size, `iterations` the total. */
export interface ResolvedBatches extends ResolvedScenarioBase, ResolvedIterationCount {
  executor: 'batches';
}

export const batches: ExecutorDefinition<BatchesConfig, ResolvedBatches> = {
  name: 'batches',
  isOpenModel: false,
  defaults: ITERATION_COUNT_DEFAULTS,
  takesIterationsFlag: true,
  takesRateFlag: false,
  validate: validateIterationCount,
  resolve: (config, base) => ({ ...base, executor: 'batches', ...resolveIterationCount(config) }),
  applyOverrides: (scenario, overrides) => applyIterationCountOverrides(scenario, overrides, true),
  segment: (scenario, stripe) => segmentIterationCount(scenario, stripe, true),
  plannedDurationMs: (scenario) => scenario.maxDurationMs,
  plannedIterations: (scenario) => scenario.iterations,
  schedule: (scenario, estimate) => iterationCountSchedule(scenario, estimate, false),
  describe: (s) => `Total emails: ${s.iterations}\nConcurrent connections: ${s.vus}\nWill send in ${Math.ceil(s.iterations / s.vus)} batches of ${s.vus}`,
  describeConfig: describeIterationCountConfig,
  guideCounts: (scenario) => ({ emails: scenario.iterations, concurrent: scenario.vus }),

  async run(scenario, ctx) {
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
        // maxDuration (or a stop) came during this batch: it gets gracefulStop, then is reported.
        await ctx.drain(scenario.gracefulStopMs);
        await batch;
      }
      sent += count;
      const durationMs = ctx.now() - beganMs;
      ctx.reportBatch({ index, count, sent, total, durationMs });
      if (!isComplete) break;
      if (durationMs < STARVATION_GUARD_MS) await yieldToEventLoop();
    }
    // Every batch started has settled above; the loop starts no further one.
    await endScenario(ctx, scenario.gracefulStopMs, {
      stopStarting: () => undefined,
      whenSettled: () => Promise.resolve(),
      countUnstarted: () => total - sent,
    });
  },
};
