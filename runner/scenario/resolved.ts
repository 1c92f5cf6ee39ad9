/**
 * The normalized form of a scenario file after defaults, CLI overrides and validation: what
 * the engine runs. Durations are milliseconds, recipients arrays, every field present.
 */
import type { ResolvedSmtp } from '../smtp/settings.ts';
import type { ExecutorName, ScenarioFileOptions, ThresholdSpec } from './types.ts';
import type { IterationContext } from '../smtp/api.ts';

export interface ResolvedTarget {
  host: string;
  port: number;
  adminUrl: string;
}

/** The SMTP settings a session uses; defined by the smtp layer, which must not import scenario/. */
export type { ResolvedSmtp } from '../smtp/settings.ts';

/** Senders for a scenario: one entry per account, with its weight (1 for round robin). */
export interface ResolvedAccounts {
  pick: 'round-robin' | 'weighted';
  emails: string[];
  weights: number[];
  /** The file they came from, for messages. */
  file: string | undefined;
}

export interface ResolvedStage {
  durationMs: number;
  target: number;
}

/** One named scenario, every executor option resolved (those irrelevant to its executor are 0/[]). */
export interface ResolvedScenario {
  name: string;
  executor: ExecutorName;
  startTimeMs: number;
  gracefulStopMs: number;
  tags: Record<string, string>;
  target: ResolvedTarget;
  smtp: ResolvedSmtp;
  accounts: ResolvedAccounts;
  /** shared-iterations, per-vu-iterations, constant-vus, batches. */
  vus: number;
  /** shared-iterations (total), per-vu-iterations (per VU), batches (total). */
  iterations: number;
  /** constant-vus, constant-arrival-rate. */
  durationMs: number;
  /** shared-iterations, per-vu-iterations, batches. */
  maxDurationMs: number;
  /** ramping-vus. */
  startVUs: number;
  gracefulRampDownMs: number;
  /** ramping-vus and ramping-arrival-rate. */
  stages: ResolvedStage[];
  /** constant-arrival-rate: iterations per timeUnit. */
  rate: number;
  /** ramping-arrival-rate: iterations per timeUnit at start. */
  startRate: number;
  timeUnitMs: number;
  preAllocatedVUs: number;
  maxVUs: number;
  /**
   * constant-arrival-rate and ramping-arrival-rate: how long an arrival may wait for a free VU
   * once maxVUs are busy before it is dropped, ms (0: dropped at once, as in k6).
   */
  maxQueueWaitMs: number;
}

export interface ResolvedOptions {
  /** Absolute path of the scenario file, or undefined for a flags-only run. */
  file: string | undefined;
  description: string | undefined;
  /** Warm-up left out of the summary: by time (ms) or by messages; both 0 for none. */
  warmup: { durationMs: number; messages: number };
  scenarios: ResolvedScenario[];
  /** As written in the file (run.ts compiles them with thresholds/parse.ts once custom metrics are known). */
  thresholds: Record<string, ThresholdSpec[]>;
  /** Environment for iterations: process.env plus --env overrides. */
  env: Record<string, string | undefined>;
  iteration: ((ctx: IterationContext<any>) => Promise<void> | void) | undefined;
  setup: ScenarioFileOptions['setup'];
  teardown: ScenarioFileOptions['teardown'];
  /** Custom end-of-test output; replaces the console summary (run.ts calls it). */
  handleSummary: ScenarioFileOptions['handleSummary'];
}
