/**
 * ramping-vus (k6): the number of looping VUs follows `startVUs` and the stages (see
 * `vusAt` for the rounding). The executor waits only for the instants where the wanted count
 * changes (`vuChanges`). Ramping up starts more VU loops at once; ramping down lets the
 * excess VUs (the most recently added first, as k6) finish their current iteration and
 * stop. A VU still finishing when the count rises again simply carries on. At the end of the
 * last stage the scenario ends as end-of-scenario.ts states (running ones get `gracefulStop`).
 *
 * `gracefulRampDown` is not enforced: ExecutorContext can only interrupt everything at once
 * (`drain`), not one VU, so a VU removed by a ramp-down always finishes its iteration (or is
 * cut by the end's `gracefulStop`).
 */
import type { BaseScenarioConfig, Duration, Stage } from '../scenario/base-config.ts';
import type { ResolvedScenarioBase, ResolvedStage } from '../scenario/resolved-base.ts';
import { Checker } from '../scenario/checks.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import type { ExecutorDefinition, Vu } from './executor.ts';
import { endScenario } from './end-of-scenario.ts';
import { describeStages, fitStages, resolveStages, scaleStages } from './profile.ts';
import { maxStageVus, maxVusIn, stagesDurationMs, vuChanges } from './schedule.ts';
import { allocateVus, loopIterations } from './vu-loops.ts';
import { WHOLE_STRIPE, describeSegmentConfig, describeSegmentSuffix, shareOf, segmentVuSteps } from './segment.ts';

/** VUs ramped through stages (k6 `ramping-vus`). */
export interface RampingVusConfig extends BaseScenarioConfig {
  executor: 'ramping-vus';
  /** @default 1 */ startVUs?: number;
  stages: Stage[];
  /** Time a VU removed by a ramp-down may take to finish its iteration. @default '30s' */
  gracefulRampDown?: Duration;
}

export interface ResolvedRampingVus extends ResolvedScenarioBase {
  executor: 'ramping-vus';
  startVUs: number;
  gracefulRampDownMs: number;
  /** Targets are VUs. */
  stages: ResolvedStage[];
}

/** Defaults of its own options. */
const RAMPING_VUS_DEFAULTS = { startVUs: 1, gracefulRampDown: '30s' } as const;

export const rampingVus: ExecutorDefinition<RampingVusConfig, ResolvedRampingVus> = {
  name: 'ramping-vus',
  isOpenModel: false,
  defaults: RAMPING_VUS_DEFAULTS,
  takesIterationsFlag: false,
  takesRateFlag: false,

  validate(config, path) {
    const check = new Checker();
    const at = (key: string) => [...path, key];
    const startVUs = check.integer(config['startVUs'], at('startVUs'), 0);
    check.duration(config['gracefulRampDown'], at('gracefulRampDown'), false);
    const stages = check.stages(config['stages'], at('stages'), true);
    if (stages && stages.totalMs > 0 && stages.peak === 0 && startVUs === 0) {
      check.add(at('stages'), 'startVUs and every stage target are 0, so no VU would ever run: raise a target');
    }
    return check.problems;
  },

  resolve: (config, base) => ({
    ...base,
    executor: 'ramping-vus',
    startVUs: config.startVUs ?? RAMPING_VUS_DEFAULTS.startVUs,
    gracefulRampDownMs: parseDurationMs(config.gracefulRampDown ?? RAMPING_VUS_DEFAULTS.gracefulRampDown),
    stages: resolveStages(config.stages),
  }),

  /** --scale scales the stages, --duration rescales them to last that long, --vus scales startVUs and targets so the peak is N. */
  applyOverrides(scenario, overrides) {
    if (overrides.scale !== undefined) scaleStages(scenario.stages, overrides.scale);
    if (overrides.durationMs !== undefined) fitStages(scenario.stages, overrides.durationMs);
    if (overrides.vus !== undefined) {
      const peak = maxStageVus(scenario.startVUs, scenario.stages);
      if (peak === 0) return;
      scenario.startVUs = Math.round((scenario.startVUs * overrides.vus) / peak);
      for (const stage of scenario.stages) stage.target = Math.round((stage.target * overrides.vus) / peak);
    }
  },

  /**
   * Keeps the whole plan's profile and notes the stripe: at every instant the segment runs its
   * share of the VUs the whole plan wants then (segmentVuSteps), which a linear ramp of scaled
   * targets would not give exactly.
   */
  segment: (scenario, stripe) => ({ scenario: { ...scenario, segment: stripe } }),

  plannedDurationMs: (scenario) => stagesDurationMs(scenario.stages),
  plannedIterations: () => undefined,
  schedule: (scenario) => {
    const lengthMs = stagesDurationMs(scenario.stages);
    const vusMax = lengthMs > 0 ? maxStageVus(scenario.startVUs, scenario.stages) : 0;
    return {
      warnings: [],
      unit: 'vus',
      lengthMs,
      isEstimated: false,
      valueIn: (fromMs, toMs) => maxVusIn(scenario.startVUs, scenario.stages, fromMs, toMs),
      vusMax: { min: vusMax, max: vusMax },
      iterations: undefined,
    };
  },
  describe: (scenario) => `Ramping VUs: ${scenario.startVUs} → ${describeStages(scenario.stages)}${describeSegmentSuffix(scenario.segment)}`,
  describeConfig: (scenario) => ({ start_vus: scenario.startVUs, stages: scenario.stages, ...describeSegmentConfig(scenario.segment) }),

  async run(scenario, ctx) {
    const endMs = stagesDurationMs(scenario.stages);
    // k6 initialises the most VUs the profile needs before the start; so do we (no socket
    // opens until a VU's first iteration).
    // A segment runs its share of the whole plan's count at every step (segment.ts).
    const stripe = scenario.segment ?? WHOLE_STRIPE;
    const vus = allocateVus(ctx, endMs > 0 ? shareOf(stripe, maxStageVus(scenario.startVUs, scenario.stages)) : 0);
    const isRunning = new Array<boolean>(vus.length).fill(false);
    let wantedVus = 0;
    let runningVus = 0;
    let isEnded = false;
    let onAllStopped: (() => void) | undefined;

    // VU i loops while it is among the first `wantedVus`: lowering the count retires the
    // highest indexes after their current iteration.
    const loop = async (vuIndex: number, vu: Vu): Promise<void> => {
      await loopIterations(ctx, vu, () => vuIndex < wantedVus && !isEnded && !ctx.isStopping && ctx.now() < endMs);
      isRunning[vuIndex] = false;
      runningVus--;
      ctx.setActiveVus(runningVus);
      if (runningVus === 0) onAllStopped?.();
    };
    const setWanted = (count: number): void => {
      wantedVus = count;
      let isChanged = false;
      for (let i = 0; i < count; i++) {
        if (isRunning[i]) continue;
        isRunning[i] = true;
        runningVus++;
        isChanged = true;
        void loop(i, vus[i]!);
      }
      if (isChanged) ctx.setActiveVus(runningVus);
    };

    ctx.setActiveVus(0);
    setWanted(shareOf(stripe, scenario.startVUs));
    for (const change of segmentVuSteps(stripe, scenario.startVUs, vuChanges(scenario.startVUs, scenario.stages))) {
      if (change.atMs >= endMs) break;
      if (change.atMs > ctx.now() && !(await ctx.waitUntil(change.atMs))) break;
      if (ctx.isStopping) break;
      setWanted(change.vus);
    }
    if (!ctx.isStopping) await ctx.waitUntil(endMs);
    await endScenario(ctx, scenario.gracefulStopMs, {
      stopStarting: () => (isEnded = true),
      whenSettled: () => (runningVus > 0 ? new Promise<void>((resolve) => (onAllStopped = resolve)) : Promise.resolve()),
    });
  },
};
