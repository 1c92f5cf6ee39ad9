/**
 * The options the three iteration-count executors share (shared-iterations, per-vu-iterations,
 * batches): `vus`, `iterations` and a `maxDuration` hard stop; their checks, resolution and
 * overrides. Each executor's module says what the numbers mean for it.
 */
import type { Duration } from '../scenario/base-config.ts';
import { Checker, type PathSegments, type Problem } from '../scenario/checks.ts';
import { formatDurationMs, parseDurationMs } from '../scenario/duration.ts';
import type { ExecutorOverrides, ScheduleEstimate, SchedulePlan, SegmentShare } from './executor.ts';
import { describeSegmentConfig, noVuProblem, shareOf, type SegmentStripe } from './segment.ts';
import { scaleCount, scaleMs } from './profile.ts';

/** Defaults of the iteration-count options. */
export const ITERATION_COUNT_DEFAULTS = { vus: 1, iterations: 1, maxDuration: '10m' } as const;

/** The options of an iteration-count executor, as written. */
export interface IterationCountOptions {
  vus?: number;
  iterations?: number;
  maxDuration?: Duration;
}

/** Resolved: every field present, maxDuration in ms. */
export interface ResolvedIterationCount {
  vus: number;
  iterations: number;
  maxDurationMs: number;
}

/** vus >= 1, iterations >= 1, maxDuration > 0. */
export function validateIterationCount(config: Readonly<Record<string, unknown>>, path: PathSegments): Problem[] {
  const check = new Checker();
  check.integer(config['vus'], [...path, 'vus'], 1);
  check.integer(config['iterations'], [...path, 'iterations'], 1);
  check.duration(config['maxDuration'], [...path, 'maxDuration'], true);
  return check.problems;
}

export function resolveIterationCount(config: IterationCountOptions): ResolvedIterationCount {
  return {
    vus: config.vus ?? ITERATION_COUNT_DEFAULTS.vus,
    iterations: config.iterations ?? ITERATION_COUNT_DEFAULTS.iterations,
    maxDurationMs: parseDurationMs(config.maxDuration ?? ITERATION_COUNT_DEFAULTS.maxDuration),
  };
}

/**
 * --scale scales maxDuration and iterations; --duration sets maxDuration; --vus sets vus;
 * --iterations sets iterations. `isVusCapped`: never more VUs than iterations (extra VUs
 * would idle: shared-iterations and batches).
 */
export function applyIterationCountOverrides(scenario: ResolvedIterationCount, overrides: ExecutorOverrides, isVusCapped: boolean): void {
  if (overrides.scale !== undefined) {
    scenario.maxDurationMs = scaleMs(scenario.maxDurationMs, overrides.scale);
    scenario.iterations = scaleCount(scenario.iterations, overrides.scale);
  }
  if (overrides.durationMs !== undefined) scenario.maxDurationMs = overrides.durationMs;
  if (overrides.vus !== undefined) scenario.vus = overrides.vus;
  if (overrides.iterations !== undefined) scenario.iterations = overrides.iterations;
  if (isVusCapped) scenario.vus = Math.min(scenario.vus, scenario.iterations);
}

/** The results file's fields for these options. */
export function describeIterationCountConfig(scenario: ResolvedIterationCount & { segment?: SegmentStripe }): Record<string, unknown> {
  return { vus: scenario.vus, iterations: scenario.iterations, max_duration_ms: scenario.maxDurationMs, ...describeSegmentConfig(scenario.segment) };
}

/**
 * One segment's share of an iteration-count scenario: its share of the VUs, and of the
 * iterations when they are a total (`isIterationsTotal`: shared-iterations, batches), not when
 * they are per VU (per-vu-iterations). maxDuration is the whole plan's.
 */
export function segmentIterationCount<Scenario extends ResolvedIterationCount & { segment?: SegmentStripe }>(
  scenario: Scenario,
  stripe: SegmentStripe,
  isIterationsTotal: boolean,
): SegmentShare<Scenario> {
  const vus = shareOf(stripe, scenario.vus);
  const iterations = isIterationsTotal ? shareOf(stripe, scenario.iterations) : scenario.iterations;
  const share: Scenario = { ...scenario, segment: stripe, vus, iterations };
  if (isIterationsTotal && iterations > 0 && vus === 0) {
    return { scenario: share, problem: noVuProblem(stripe, `${iterations} of the ${scenario.iterations} iterations`, 'vus', scenario.vus) };
  }
  return { scenario: share };
}

/**
 * The planned schedule of an iteration-count executor at an expected iteration time: `vus` VUs
 * (at most one per iteration) work through the iterations in rounds of `iterationMs`, each VU one
 * iteration per round (shared-iterations and batches: the last round may be partial;
 * per-vu-iterations: every VU runs all of its own). The length is an estimate, at most maxDuration.
 */
export function iterationCountSchedule(scenario: ResolvedIterationCount, estimate: ScheduleEstimate, isPerVu: boolean): SchedulePlan {
  const iterationMs = Math.max(1, estimate.iterationMs);
  const vus = isPerVu ? (scenario.iterations > 0 ? scenario.vus : 0) : Math.min(scenario.vus, scenario.iterations);
  const total = isPerVu ? scenario.iterations * scenario.vus : scenario.iterations;
  const rounds = isPerVu ? scenario.iterations : vus > 0 ? Math.ceil(total / vus) : 0;
  const busyInRound = (round: number): number => (round >= rounds ? 0 : isPerVu ? vus : Math.min(vus, total - round * vus));
  const neededMs = rounds * iterationMs;
  const warnings: string[] = [];
  if (neededMs > scenario.maxDurationMs) {
    warnings.push(
      `at an expected iteration time of ${formatDurationMs(iterationMs)}, ${total} iterations on ${vus} VUs take about ${formatDurationMs(neededMs)}, ` +
        `longer than maxDuration ${formatDurationMs(scenario.maxDurationMs)}: the iterations not started by then are dropped; raise maxDuration or vus`,
    );
  }
  return {
    warnings,
    unit: 'vus',
    lengthMs: Math.min(neededMs, scenario.maxDurationMs),
    isEstimated: true,
    // The busy count only falls from round to round: the interval's first round has the most.
    valueIn: (fromMs) => busyInRound(Math.floor(fromMs / iterationMs)),
    vusMax: { min: vus, max: vus },
    iterations: total,
  };
}
