/**
 * constant-arrival-rate (k6): `rate` iterations per `timeUnit` for `duration`, evenly spaced
 * (the first at 0), whatever the responses (open model). VU allocation, the queue of arrivals
 * waiting for a free VU (maxQueueWait), dropped iterations and timing from the planned instant
 * are as in ramping-arrival-rate, of which this is the one-flat-stage case.
 */
import type { BaseScenarioConfig, Duration } from '../scenario/base-config.ts';
import type { ResolvedScenarioBase } from '../scenario/resolved-base.ts';
import { Checker } from '../scenario/checks.ts';
import { formatDurationMs, parseDurationMs } from '../scenario/duration.ts';
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
import { scaleMs } from './profile.ts';
import { constantArrivalTimesMs, countArrivals, SteerableArrivals } from './schedule.ts';
import { describeSegmentConfig, describeSegmentSuffix, segmentArrivals } from './segment.ts';

/** Iterations started at a fixed rate regardless of responses (k6 `constant-arrival-rate`). */
export interface ConstantArrivalRateConfig extends BaseScenarioConfig, ArrivalPoolOptions {
  executor: 'constant-arrival-rate';
  /** Iterations per `timeUnit`. */
  rate: number;
  duration: Duration;
}

export interface ResolvedConstantArrivalRate extends ResolvedScenarioBase, ResolvedArrivalPool {
  executor: 'constant-arrival-rate';
  /** Iterations per timeUnit. */
  rate: number;
  durationMs: number;
}

export const constantArrivalRate: ExecutorDefinition<ConstantArrivalRateConfig, ResolvedConstantArrivalRate> = {
  name: 'constant-arrival-rate',
  isOpenModel: true,
  defaults: ARRIVAL_DEFAULTS,
  takesIterationsFlag: false,
  takesRateFlag: true,

  validate(config, path) {
    const check = new Checker();
    const at = (key: string) => [...path, key];
    const rate = config['rate'];
    if (typeof rate === 'number' && !(rate > 0)) check.add(at('rate'), `must be > 0 (got ${rate})`);
    check.duration(config['duration'], at('duration'), true);
    checkArrivalPool(check, config, path);
    checkMaxQueueWait(check, config['maxQueueWait'], at('maxQueueWait'));
    return check.problems;
  },

  resolve: (config, base) => ({
    ...base,
    executor: 'constant-arrival-rate',
    rate: config.rate,
    durationMs: parseDurationMs(config.duration),
    ...resolveArrivalPool(config),
  }),

  /** --scale scales duration, --duration sets it, --vus raises the pool, --rate sets the rate. */
  applyOverrides(scenario, overrides) {
    if (overrides.scale !== undefined) scenario.durationMs = scaleMs(scenario.durationMs, overrides.scale);
    if (overrides.durationMs !== undefined) scenario.durationMs = overrides.durationMs;
    applyPoolVus(scenario, overrides.vus);
    if (overrides.rate !== undefined) scenario.rate = overrides.rate;
  },

  /** Its share of the VU pool and of the arrivals (every segment's are the whole plan's at the same instants). */
  segment: (scenario, stripe) => segmentPool(scenario, stripe, countArrivals(scenario.rate, [{ durationMs: scenario.durationMs, target: scenario.rate }], scenario.timeUnitMs)),

  plannedDurationMs: (scenario) => scenario.durationMs,
  plannedIterations: () => undefined,
  schedule: (s, estimate) => arrivalSchedule(s, s.rate, [{ durationMs: s.durationMs, target: s.rate }], estimate),
  plannedRatePerSecond: (scenario, elapsedMs) => (elapsedMs < scenario.durationMs ? (scenario.rate * 1000) / scenario.timeUnitMs : 0),
  describe: (s) =>
    `Arrival rate: ${s.rate} per ${formatDurationMs(s.timeUnitMs)} for ${formatDurationMs(s.durationMs)} (VUs ${s.preAllocatedVUs}..${s.maxVUs})${describeSegmentSuffix(s.segment)}`,
  describeConfig: (s) => ({ rate: s.rate, time_unit_ms: s.timeUnitMs, duration_ms: s.durationMs, ...describePoolConfig(s), ...describeSegmentConfig(s.segment) }),

  /**
   * Its rate can be changed while it runs (runner scale --rate): from that instant on the
   * schedule goes on at the new rate (SteerableArrivals). A segment's share keeps its plan: its
   * arrivals are a stripe of the whole plan's, which no one process steers.
   */
  run(scenario, ctx) {
    if (scenario.segment) {
      const arrivals = constantArrivalTimesMs(scenario.rate, scenario.timeUnitMs, scenario.durationMs);
      return runArrivals(ctx, scenario, segmentArrivals(scenario.segment, arrivals), scenario.durationMs);
    }
    const arrivals = new SteerableArrivals(scenario.rate, scenario.timeUnitMs, scenario.durationMs);
    return runArrivals(ctx, scenario, arrivals, scenario.durationMs, arrivals);
  },
};
