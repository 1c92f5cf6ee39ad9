/**
 * ramping-arrival-rate (k6): iterations start on a planned schedule whose rate moves from
 * `startRate` through the stages (per `timeUnit`), whatever the responses (open model). Each
 * planned instant takes a free VU; when all are busy it allocates one more, up to `maxVUs`.
 * Past that, unlike k6, the arrival is not dropped at once: it waits in a FIFO queue for the
 * next VU that frees up, for at most `maxQueueWait` (wrk2's model). Iterations are timed from
 * their planned instant, so a late start (waiting for a VU, a slow event loop, a stalled host)
 * counts as response time instead of hiding it (coordinated omission); service time still runs
 * from the actual start, and the difference is the wait. The active VU count is the number of
 * VUs running an iteration now.
 */
import type { BaseScenarioConfig, Stage } from '../scenario/base-config.ts';
import type { ResolvedScenarioBase, ResolvedStage } from '../scenario/resolved-base.ts';
import { Checker } from '../scenario/checks.ts';
import { formatDurationMs } from '../scenario/duration.ts';
import type { ExecutorDefinition } from './executor.ts';
import {
  ARRIVAL_DEFAULTS,
  applyPoolVus,
  arrivalSchedule,
  checkArrivalPool,
  checkMaxQueueWait,
  describePoolConfig,
  resolveArrivalPool,
  runArrivals,
  segmentPool,
  type ArrivalPoolOptions,
  type ResolvedArrivalPool,
} from './arrivals.ts';
import { describeStages, fitStages, resolveStages, scaleStages } from './profile.ts';
import { arrivalTimesMs, countArrivals, rateAt, stagesDurationMs } from './schedule.ts';
import { describeSegmentConfig, describeSegmentSuffix, segmentArrivals } from './segment.ts';

/** Arrival rate ramped through stages (k6 `ramping-arrival-rate`). */
export interface RampingArrivalRateConfig extends BaseScenarioConfig, ArrivalPoolOptions {
  executor: 'ramping-arrival-rate';
  /** Iterations per `timeUnit` at the start. @default 0 */
  startRate?: number;
  /** Targets are iterations per `timeUnit`. */
  stages: Stage[];
}

export interface ResolvedRampingArrivalRate extends ResolvedScenarioBase, ResolvedArrivalPool {
  executor: 'ramping-arrival-rate';
  /** Iterations per timeUnit at the start. */
  startRate: number;
  /** Targets are iterations per timeUnit. */
  stages: ResolvedStage[];
}

/** Defaults of its own options. */
const RAMPING_ARRIVAL_RATE_DEFAULTS = { ...ARRIVAL_DEFAULTS, startRate: 0 } as const;

export const rampingArrivalRate: ExecutorDefinition<RampingArrivalRateConfig, ResolvedRampingArrivalRate> = {
  name: 'ramping-arrival-rate',
  isOpenModel: true,
  defaults: RAMPING_ARRIVAL_RATE_DEFAULTS,
  takesIterationsFlag: false,
  takesRateFlag: false,

  validate(config, path) {
    const check = new Checker();
    const at = (key: string) => [...path, key];
    const startRate = config['startRate'];
    const isStartRateBad = typeof startRate === 'number' && startRate < 0;
    if (isStartRateBad) check.add(at('startRate'), `must be >= 0 (got ${startRate})`);
    const stages = check.stages(config['stages'], at('stages'), false);
    if (stages && !isStartRateBad && stages.totalMs > 0 && stages.peak === 0 && !(typeof startRate === 'number' && startRate > 0)) {
      check.add(at('stages'), 'startRate and every stage target are 0, so no iteration would ever start: raise a target');
    }
    checkArrivalPool(check, config, path);
    checkMaxQueueWait(check, config['maxQueueWait'], at('maxQueueWait'));
    return check.problems;
  },

  resolve: (config, base) => ({
    ...base,
    executor: 'ramping-arrival-rate',
    startRate: config.startRate ?? RAMPING_ARRIVAL_RATE_DEFAULTS.startRate,
    stages: resolveStages(config.stages),
    ...resolveArrivalPool(config),
  }),

  /** --scale scales the stages, --duration rescales them to last that long, --vus raises the pool. */
  applyOverrides(scenario, overrides) {
    if (overrides.scale !== undefined) scaleStages(scenario.stages, overrides.scale);
    if (overrides.durationMs !== undefined) fitStages(scenario.stages, overrides.durationMs);
    applyPoolVus(scenario, overrides.vus);
  },

  /** Its share of the VU pool and of the arrivals (every segment's are the whole plan's at the same instants). */
  segment: (scenario, stripe) => segmentPool(scenario, stripe, countArrivals(scenario.startRate, scenario.stages, scenario.timeUnitMs)),

  plannedDurationMs: (scenario) => stagesDurationMs(scenario.stages),
  plannedIterations: () => undefined,
  schedule: (s, estimate) => arrivalSchedule(s, s.startRate, s.stages, estimate),
  plannedRatePerSecond: (scenario, elapsedMs) => (rateAt(scenario.startRate, scenario.stages, elapsedMs) * 1000) / scenario.timeUnitMs,
  describe: (s) =>
    `Ramping arrival rate per ${formatDurationMs(s.timeUnitMs)}: ${s.startRate} → ${describeStages(s.stages)} (VUs ${s.preAllocatedVUs}..${s.maxVUs})${describeSegmentSuffix(s.segment)}`,
  describeConfig: (s) => ({ start_rate: s.startRate, time_unit_ms: s.timeUnitMs, stages: s.stages, ...describePoolConfig(s), ...describeSegmentConfig(s.segment) }),

  run(scenario, ctx) {
    const arrivals = arrivalTimesMs(scenario.startRate, scenario.stages, scenario.timeUnitMs);
    return runArrivals(ctx, scenario, scenario.segment ? segmentArrivals(scenario.segment, arrivals) : arrivals, stagesDurationMs(scenario.stages));
  },
};
