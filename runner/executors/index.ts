/**
 * The executors, by name: one explicit map the engine looks scenarios up in, and the planned
 * length of each scenario for progress bars and the summary.
 */
import type { Executor } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import type { ExecutorName } from '../scenario/types.ts';
import { stagesDurationMs } from './schedule.ts';
import { createSharedIterations } from './shared-iterations.ts';
import { createPerVuIterations } from './per-vu-iterations.ts';
import { createConstantVus } from './constant-vus.ts';
import { createRampingVus } from './ramping-vus.ts';
import { createConstantArrivalRate } from './constant-arrival-rate.ts';
import { createRampingArrivalRate } from './ramping-arrival-rate.ts';
import { createBatches } from './batches.ts';

/** Every executor, by the name a scenario's `executor` option gives. */
export const EXECUTORS: Record<ExecutorName, (scenario: ResolvedScenario) => Executor> = {
  'shared-iterations': createSharedIterations,
  'per-vu-iterations': createPerVuIterations,
  'constant-vus': createConstantVus,
  'ramping-vus': createRampingVus,
  'constant-arrival-rate': createConstantArrivalRate,
  'ramping-arrival-rate': createRampingArrivalRate,
  batches: createBatches,
};

/**
 * Planned length of a scenario in ms, without its gracefulStop: `duration`, the sum of the
 * stages, or for iteration-based executors (which usually end sooner) their `maxDuration`.
 */
export function scenarioDurationMs(s: ResolvedScenario): number {
  switch (s.executor) {
    case 'shared-iterations':
    case 'per-vu-iterations':
    case 'batches':
      return s.maxDurationMs;
    case 'constant-vus':
    case 'constant-arrival-rate':
      return s.durationMs;
    case 'ramping-vus':
    case 'ramping-arrival-rate':
      return stagesDurationMs(s.stages);
  }
}

/**
 * Iterations an iteration-based scenario is planned to run (each is one message in the default
 * flow), or undefined for duration-based executors, whose count depends on the server.
 */
export function plannedIterations(scenario: ResolvedScenario): number | undefined {
  switch (scenario.executor) {
    case 'shared-iterations':
    case 'batches':
      return scenario.iterations;
    case 'per-vu-iterations':
      return scenario.iterations * scenario.vus;
    default:
      return undefined;
  }
}
