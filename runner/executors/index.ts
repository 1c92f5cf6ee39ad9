/**
 * The registry: every executor by the name a scenario's `executor` option gives, in one
 * explicit map. Everything outside runner/executors/ asks this map about an executor (its
 * checks, resolution, overrides, planned length, description, open model or not) instead of
 * matching on its name. Adding an executor: its module, one line here, and its part of
 * schemas/scenario.schema.json (see the README, "Adding an executor").
 */
import type { Executor, ExecutorDefinition } from './executor.ts';
import { sharedIterations } from './shared-iterations.ts';
import { perVuIterations } from './per-vu-iterations.ts';
import { constantVus } from './constant-vus.ts';
import { rampingVus } from './ramping-vus.ts';
import { constantArrivalRate } from './constant-arrival-rate.ts';
import { rampingArrivalRate } from './ramping-arrival-rate.ts';
import { batches } from './batches.ts';
import { externallyControlled } from './externally-controlled.ts';

/** Every executor, by name. */
export const EXECUTORS = {
  'shared-iterations': sharedIterations,
  'per-vu-iterations': perVuIterations,
  'constant-vus': constantVus,
  'ramping-vus': rampingVus,
  'constant-arrival-rate': constantArrivalRate,
  'ramping-arrival-rate': rampingArrivalRate,
  batches,
  'externally-controlled': externallyControlled,
} as const;

type Registry = typeof EXECUTORS;

/** The value of a scenario's `executor` option. */
export type ExecutorName = keyof Registry;

/** One scenario as a file writes it: the union of every executor's config. */
export type ScenarioConfig = { [Name in ExecutorName]: Registry[Name] extends ExecutorDefinition<infer Config, any> ? Config : never }[ExecutorName];

/** One scenario as the engine runs it: a union on `executor`, each member with only its executor's options. */
export type ResolvedScenario = { [Name in ExecutorName]: Registry[Name] extends ExecutorDefinition<any, infer Resolved> ? Resolved : never }[ExecutorName];

/** An executor's definition, for code that holds any scenario (pass it that scenario only). */
export type AnyExecutorDefinition = ExecutorDefinition<ScenarioConfig, ResolvedScenario>;

/** The definition of `scenario`'s executor. */
export function executorOf(scenario: { executor: ExecutorName }): AnyExecutorDefinition {
  return EXECUTORS[scenario.executor] as AnyExecutorDefinition;
}

/** The definition for a name that may not be an executor's (from a file): undefined then. */
export function findExecutor(name: unknown): AnyExecutorDefinition | undefined {
  return typeof name === 'string' && Object.hasOwn(EXECUTORS, name) ? (EXECUTORS[name as ExecutorName] as AnyExecutorDefinition) : undefined;
}

/**
 * Whether an executor name from a summary or results file is an open model. A merged file
 * joins its parts' executors with '+': open when any part is. Unknown names are closed.
 */
export function isOpenModelExecutor(name: string): boolean {
  return name.split('+').some((part) => findExecutor(part)?.isOpenModel === true);
}

/** The executors, in registry order, that take `--iterations` or `--rate`. */
export function executorsTaking(flag: 'iterations' | 'rate'): ExecutorName[] {
  const names = Object.keys(EXECUTORS) as ExecutorName[];
  return names.filter((name) => (flag === 'iterations' ? EXECUTORS[name].takesIterationsFlag : EXECUTORS[name].takesRateFlag));
}

/**
 * Every executor's defaults in one object (merged into DEFAULTS). Two executors that share an
 * option must agree on its default: the schema has one `default` per option name.
 */
export function executorDefaults(): Readonly<Record<string, string | number>> {
  const merged: Record<string, string | number> = {};
  for (const definition of Object.values(EXECUTORS)) {
    for (const [option, value] of Object.entries(definition.defaults)) {
      if (option in merged && merged[option] !== value) throw new Error(`executors disagree on the default of ${option}: ${merged[option]} and ${value}`);
      merged[option] = value;
    }
  }
  return merged;
}

/** Binds `scenario` to its executor's `run`: what the engine starts. */
export function createExecutor(scenario: ResolvedScenario): Executor {
  const definition = executorOf(scenario);
  return { run: (ctx) => definition.run(scenario, ctx) };
}

/**
 * Planned length of a scenario in ms, without its gracefulStop: `duration`, the sum of the
 * stages, or for iteration-based executors (which usually end sooner) their `maxDuration`.
 */
export function scenarioDurationMs(scenario: ResolvedScenario): number {
  return executorOf(scenario).plannedDurationMs(scenario);
}

/**
 * Iterations an iteration-based scenario is planned to run (each is one message in the default
 * flow), or undefined for duration-based executors, whose count depends on the server.
 */
export function plannedIterations(scenario: ResolvedScenario): number | undefined {
  return executorOf(scenario).plannedIterations(scenario);
}

/** The rate an open-model scenario plans at `elapsedMs` into it (iterations/s), or undefined for a closed model. */
export function plannedRatePerSecond(scenario: ResolvedScenario, elapsedMs: number): number | undefined {
  const definition = executorOf(scenario);
  return definition.plannedRatePerSecond?.(scenario, elapsedMs);
}
