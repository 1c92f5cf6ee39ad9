/**
 * The normalized form of a scenario file after defaults, CLI overrides and validation: what
 * the engine runs. Durations are milliseconds, recipients arrays, every field present.
 */
import type { ScenarioFileOptions, ThresholdSpec } from './types.ts';
import type { IterationContext } from '../smtp/api.ts';
import type { ThinkTimePlan } from '../script/sleep.ts';
import type { ResolvedScenario } from '../executors/index.ts';
import type { ResolvedDelivery } from '../delivery/options.ts';

export type { ResolvedTarget, ResolvedSmtp, ResolvedAccounts, ResolvedStage, ResolvedScenarioBase } from './resolved-base.ts';
/**
 * One named scenario, resolved: a union on `executor`, each member holding only the options
 * its executor uses (see runner/executors/<name>.ts).
 */
export type { ResolvedScenario } from '../executors/index.ts';

export interface ResolvedOptions {
  /** Absolute path of the scenario file, or undefined for a flags-only run. */
  file: string | undefined;
  description: string | undefined;
  /** Warm-up left out of the summary: by time (ms) or by messages; both 0 for none. */
  warmup: { durationMs: number; messages: number };
  /** `--summary-trend-stats` / `summaryTrendStats`: the trend figures summaries list (absent: the default blocks only). */
  summaryTrendStats?: string[];
  /** `--think-time`: a pause after each message of the default iteration (absent: none). */
  thinkTime?: ThinkTimePlan;
  scenarios: ResolvedScenario[];
  /** Delivery tracking (runner/delivery/); undefined when not asked. */
  delivery: ResolvedDelivery | undefined;
  /** As written in the file (run.ts compiles them with thresholds/parse.ts once custom metrics are known). */
  thresholds: Record<string, ThresholdSpec[]>;
  /** Environment for iterations: process.env plus --env overrides. */
  env: Record<string, string | undefined>;
  iteration: ((ctx: IterationContext<any>) => Promise<void> | void) | undefined;
  setup: ScenarioFileOptions['setup'];
  /** Longest setup() / teardown() may take, ms (engine/script-deadline.ts). */
  setupTimeoutMs: number;
  teardownTimeoutMs: number;
  teardown: ScenarioFileOptions['teardown'];
  /** Custom end-of-test output; replaces the console summary (run.ts calls it). */
  handleSummary: ScenarioFileOptions['handleSummary'];
}
