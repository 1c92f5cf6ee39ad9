/**
 * shared-iterations (k6): `vus` VUs pull from one shared pool of `iterations`; a VU starts the
 * next one as soon as its last is done, so fast VUs do more. No iteration runs twice, and
 * exactly `iterations` run unless the test stops or `maxDuration` passes first. At
 * `maxDuration` the scenario ends as end-of-scenario.ts states: running iterations get
 * `gracefulStop`, and the ones never started count as dropped (as k6 counts them).
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
import { allocateVus, runVuLoops, waitForOrUntil } from './vu-loops.ts';

/** A fixed number of iterations shared by all VUs (k6 `shared-iterations`). */
export interface SharedIterationsConfig extends BaseScenarioConfig {
  executor: 'shared-iterations';
  /** @default 1 */ vus?: number;
  /** Total iterations across all VUs. @default 1 */ iterations?: number;
  /** Hard stop. @default '10m' */ maxDuration?: Duration;
}

export interface ResolvedSharedIterations extends ResolvedScenarioBase, ResolvedIterationCount {
  executor: 'shared-iterations';
}

export const sharedIterations: ExecutorDefinition<SharedIterationsConfig, ResolvedSharedIterations> = {
  name: 'shared-iterations',
  isOpenModel: false,
  defaults: ITERATION_COUNT_DEFAULTS,
  takesIterationsFlag: true,
  takesRateFlag: false,
  validate: validateIterationCount,
  resolve: (config, base) => ({ ...base, executor: 'shared-iterations', ...resolveIterationCount(config) }),
  applyOverrides: (scenario, overrides) => applyIterationCountOverrides(scenario, overrides, true),
  segment: (scenario, stripe) => segmentIterationCount(scenario, stripe, true),
  plannedDurationMs: (scenario) => scenario.maxDurationMs,
  plannedIterations: (scenario) => scenario.iterations,
  schedule: (scenario, estimate) => iterationCountSchedule(scenario, estimate, false),
  describe: (scenario) => `Total emails: ${scenario.iterations}\nConcurrent connections: ${scenario.vus}`,
  describeConfig: describeIterationCountConfig,
  guideCounts: (scenario) => ({ emails: scenario.iterations, concurrent: scenario.vus }),

  async run(scenario, ctx) {
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
    await endScenario(ctx, scenario.gracefulStopMs, {
      stopStarting: () => (isEnded = true),
      whenSettled: () => loops,
      countUnstarted: () => total - started,
    });
  },
};
