/**
 * constant-vus (k6): `vus` VUs loop iterations back to back for `duration`. At the end the
 * scenario ends as end-of-scenario.ts states: no new iteration, running ones get `gracefulStop`.
 */
import type { BaseScenarioConfig, Duration } from '../scenario/base-config.ts';
import type { ResolvedScenarioBase } from '../scenario/resolved-base.ts';
import { Checker } from '../scenario/checks.ts';
import { formatDurationMs, parseDurationMs } from '../scenario/duration.ts';
import type { ExecutorDefinition } from './executor.ts';
import { endScenario } from './end-of-scenario.ts';
import { scaleMs } from './profile.ts';
import { allocateVus, runVuLoops } from './vu-loops.ts';
import { describeSegmentConfig, shareOf } from './segment.ts';

/** A fixed number of VUs looping for a duration (k6 `constant-vus`). */
export interface ConstantVusConfig extends BaseScenarioConfig {
  executor: 'constant-vus';
  /** @default 1 */ vus?: number;
  duration: Duration;
}

export interface ResolvedConstantVus extends ResolvedScenarioBase {
  executor: 'constant-vus';
  vus: number;
  durationMs: number;
}

/** Defaults of its own options. */
const CONSTANT_VUS_DEFAULTS = { vus: 1 } as const;

export const constantVus: ExecutorDefinition<ConstantVusConfig, ResolvedConstantVus> = {
  name: 'constant-vus',
  isOpenModel: false,
  defaults: CONSTANT_VUS_DEFAULTS,
  takesIterationsFlag: false,
  takesRateFlag: false,

  validate(config, path) {
    const check = new Checker();
    check.integer(config['vus'], [...path, 'vus'], 1);
    check.duration(config['duration'], [...path, 'duration'], true);
    return check.problems;
  },

  resolve: (config, base) => ({
    ...base,
    executor: 'constant-vus',
    vus: config.vus ?? CONSTANT_VUS_DEFAULTS.vus,
    durationMs: parseDurationMs(config.duration),
  }),

  /** --scale scales duration, --duration sets it, --vus sets vus. */
  applyOverrides(scenario, overrides) {
    if (overrides.scale !== undefined) scenario.durationMs = scaleMs(scenario.durationMs, overrides.scale);
    if (overrides.durationMs !== undefined) scenario.durationMs = overrides.durationMs;
    if (overrides.vus !== undefined) scenario.vus = overrides.vus;
  },

  /** Its share of the VUs; the duration is the whole plan's. */
  segment: (scenario, stripe) => ({ scenario: { ...scenario, segment: stripe, vus: shareOf(stripe, scenario.vus) } }),

  plannedDurationMs: (scenario) => scenario.durationMs,
  plannedIterations: () => undefined,
  schedule: (scenario) => {
    const vus = scenario.durationMs > 0 ? scenario.vus : 0;
    return { warnings: [], unit: 'vus', lengthMs: scenario.durationMs, isEstimated: false, valueIn: () => vus, vusMax: { min: vus, max: vus }, iterations: undefined };
  },
  describe: (scenario) => `Constant VUs: ${scenario.vus} for ${formatDurationMs(scenario.durationMs)}`,
  describeConfig: (scenario) => ({ vus: scenario.vus, duration_ms: scenario.durationMs, ...describeSegmentConfig(scenario.segment) }),

  async run(scenario, ctx) {
    const endMs = scenario.durationMs;
    const vus = allocateVus(ctx, endMs > 0 ? scenario.vus : 0);
    let isEnded = false;
    // The loops also check the clock: a timer that fires late must not let them start
    // iterations past the planned end.
    const loops = runVuLoops(ctx, vus, () => !isEnded && !ctx.isStopping && ctx.now() < endMs);
    await ctx.waitUntil(endMs);
    await endScenario(ctx, scenario.gracefulStopMs, { stopStarting: () => (isEnded = true), whenSettled: () => loops });
  },
};
