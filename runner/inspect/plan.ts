/**
 * What `runner inspect` shows, computed without a clock or a socket: per scenario its planned
 * schedule (VUs or arrivals per interval, from the executor's own `schedule`), its planned
 * iterations and length, and the warnings its executor gives before anything is sent (Little's
 * law for arrival-rate pools, iteration counts that cannot finish within maxDuration).
 */
import type { ResolvedOptions, ResolvedScenario } from '../scenario/resolved.ts';
import { executorOf } from '../executors/index.ts';
import type { SchedulePlan } from '../executors/executor.ts';
import type { ThinkTimePlan } from '../script/sleep.ts';
import { formatSparkline } from '../util/sparkline.ts';

/**
 * `--expected-latency`'s default: how long one message is assumed to take when the plan depends
 * on it. One second is on the safe side for a relaying proxy (connect, TLS, AUTH, DATA and the
 * upstream's answer); pass a measured p(95) for a sharper plan.
 */
export const DEFAULT_EXPECTED_LATENCY = '1s';

/** Most intervals a schedule table has; the interval is the first round step that keeps under it. */
export const MAX_INTERVALS = 20;

/** Interval lengths a schedule table may use (ms). */
const INTERVAL_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400].map((s) => s * 1000);

/** One row of a schedule table. */
export interface PlannedInterval {
  startMs: number;
  endMs: number;
  /** VUs (the most at any moment of the interval) or arrivals planned in it. */
  value: number;
}

/** One scenario's plan as inspect shows it (and `--json` prints). */
export interface ScenarioPlan {
  name: string;
  executor: string;
  /** The executor's one-line description (the run's header says the same). */
  description: string;
  startTimeMs: number;
  gracefulStopMs: number;
  /** Planned length (duration, stages, or for iteration counts maxDuration), without gracefulStop. */
  plannedDurationMs: number;
  /** Length the schedule covers; for iteration counts an estimate at the expected iteration time. */
  scheduleLengthMs: number;
  isScheduleEstimated: boolean;
  unit: SchedulePlan['unit'];
  /** Iterations planned (arrivals for arrival-rate executors); null when the server decides. */
  iterations: number | null;
  /** VUs allocated in all: exact for closed models, preAllocatedVUs..maxVUs for open ones. */
  vusMax: { min: number; max: number };
  /** Arrival-rate executors: the highest rate per second. */
  peakRatePerSecond?: number;
  intervalMs: number;
  intervals: PlannedInterval[];
  sparkline: string;
}

/** The mean of a think-time plan, ms (0 without one). */
export function thinkTimeMeanMs(plan: ThinkTimePlan | undefined): number {
  if (plan === undefined) return 0;
  switch (plan.kind) {
    case 'fixed': return plan.ms;
    case 'uniform': return (plan.minMs + plan.maxMs) / 2;
    case 'exponential': return plan.meanMs;
    case 'normal': return plan.meanMs;
  }
}

/** The interval of a schedule table for a schedule of `lengthMs`: a round step giving at most MAX_INTERVALS rows. */
export function chooseIntervalMs(lengthMs: number): number {
  for (const stepMs of INTERVAL_STEPS_MS) if (Math.ceil(lengthMs / stepMs) <= MAX_INTERVALS) return stepMs;
  return Math.ceil(lengthMs / MAX_INTERVALS / 1000) * 1000;
}

/** One scenario's plan at an expected iteration time of `iterationMs`. */
export function planScenario(scenario: ResolvedScenario, iterationMs: number, intervalMs?: number): ScenarioPlan & { warnings: string[] } {
  const executor = executorOf(scenario);
  const schedule = executor.schedule(scenario, { iterationMs });
  const stepMs = intervalMs ?? chooseIntervalMs(schedule.lengthMs);
  const intervals: PlannedInterval[] = [];
  for (let startMs = 0; startMs < schedule.lengthMs; startMs += stepMs) {
    const endMs = Math.min(schedule.lengthMs, startMs + stepMs);
    intervals.push({ startMs, endMs, value: schedule.valueIn(startMs, endMs) });
  }
  const plan: ScenarioPlan & { warnings: string[] } = {
    name: scenario.name,
    executor: scenario.executor,
    description: executor.describe(scenario).replace(/\n/g, '; '),
    startTimeMs: scenario.startTimeMs,
    gracefulStopMs: scenario.gracefulStopMs,
    plannedDurationMs: executor.plannedDurationMs(scenario),
    scheduleLengthMs: schedule.lengthMs,
    isScheduleEstimated: schedule.isEstimated,
    unit: schedule.unit,
    iterations: schedule.iterations ?? null,
    vusMax: schedule.vusMax,
    intervalMs: stepMs,
    intervals,
    sparkline: formatSparkline(intervals.map((interval) => interval.value)),
    warnings: [...(schedule.iterations === 0 ? ['plans no iteration at all: raise its rate, iterations or duration'] : []), ...schedule.warnings].map((warning) => `scenario ${scenario.name}: ${warning}`),
  };
  if (schedule.peakRatePerSecond !== undefined) plan.peakRatePerSecond = schedule.peakRatePerSecond;
  return plan;
}

/** Every scenario's plan and the warnings, at `expectedLatencyMs` per message plus the think time. */
export function planRun(options: ResolvedOptions, expectedLatencyMs: number): { iterationMs: number; scenarios: ScenarioPlan[]; warnings: string[] } {
  const iterationMs = expectedLatencyMs + thinkTimeMeanMs(options.thinkTime);
  const scenarios: ScenarioPlan[] = [];
  const warnings: string[] = [];
  for (const scenario of options.scenarios) {
    const { warnings: own, ...plan } = planScenario(scenario, iterationMs);
    scenarios.push(plan);
    warnings.push(...own);
  }
  return { iterationMs, scenarios, warnings };
}
