/**
 * per-vu-iterations (k6): each of `vus` VUs runs exactly `iterations` iterations, back to
 * back, whatever the others do (vus × iterations in all). At `maxDuration` the scenario ends as
 * end-of-scenario.ts states: running iterations get `gracefulStop`, and the ones never started
 * count as dropped (as k6 counts them).
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

/** Each VU runs exactly `iterations` iterations (k6 `per-vu-iterations`). */
export interface PerVuIterationsConfig extends BaseScenarioConfig {
  executor: 'per-vu-iterations';
  /** @default 1 */ vus?: number;
  /** Iterations per VU. @default 1 */ iterations?: number;
  /** Hard stop. @default '10m' */ maxDuration?: Duration;
}

/** `iterations` is per VU. */
export interface ResolvedPerVuIterations extends ResolvedScenarioBase, ResolvedIterationCount {
  executor: 'per-vu-iterations';
}

export const perVuIterations: ExecutorDefinition<PerVuIterationsConfig, ResolvedPerVuIterations> = {
  name: 'per-vu-iterations',
  isOpenModel: false,
  defaults: ITERATION_COUNT_DEFAULTS,
  takesIterationsFlag: true,
  takesRateFlag: false,
  validate: validateIterationCount,
  resolve: (config, base) => ({ ...base, executor: 'per-vu-iterations', ...resolveIterationCount(config) }),
  applyOverrides: (scenario, overrides) => applyIterationCountOverrides(scenario, overrides, false),
  segment: (scenario, stripe) => segmentIterationCount(scenario, stripe, false),
  plannedDurationMs: (scenario) => scenario.maxDurationMs,
  plannedIterations: (scenario) => scenario.iterations * scenario.vus,
  schedule: (scenario, estimate) => iterationCountSchedule(scenario, estimate, true),
  describe: (scenario) => `Emails per VU: ${scenario.iterations} × ${scenario.vus} VUs = ${scenario.iterations * scenario.vus}`,
  describeConfig: describeIterationCountConfig,

  async run(scenario, ctx) {
    const perVu = scenario.iterations;
    const endMs = scenario.maxDurationMs;
    const vus = allocateVus(ctx, perVu > 0 ? scenario.vus : 0);
    let started = 0;
    const startedByVu = new Array<number>(vus.length).fill(0);
    let isEnded = false;
    const loops = runVuLoops(ctx, vus, (vuIndex) => {
      if (isEnded || startedByVu[vuIndex]! >= perVu || ctx.isStopping || ctx.now() >= endMs) return false;
      startedByVu[vuIndex]!++;
      started++;
      return true;
    });
    await waitForOrUntil(ctx, loops, endMs);
    await endScenario(ctx, scenario.gracefulStopMs, {
      stopStarting: () => (isEnded = true),
      whenSettled: () => loops,
      countUnstarted: () => perVu * vus.length - started,
    });
  },
};
