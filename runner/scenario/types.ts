/**
 * The options a scenario file (TypeScript or YAML) gives, as the user writes them. The
 * normalized, defaults-merged form the engine runs is `ResolvedOptions` in options.ts.
 * Every option documents its unit and default; defaults live in one place (defaults.ts).
 */
import type { AccountsOptions, Duration, RetryOptions, SmtpOptions, TargetOptions } from './base-config.ts';
import type { ScenarioConfig } from '../executors/index.ts';
import type { Summary } from '../results/types.ts';
import type { DeliveryOptions } from '../delivery/options.ts';

export type { DeliveryOptions, ImapDeliveryOptions } from '../delivery/options.ts';

export type { Summary } from '../results/types.ts';

export type {
  Duration,
  TargetOptions,
  AuthMechanism,
  TlsMode,
  PipeliningMode,
  SmtpProtocol,
  TlsVersion,
  DsnSettings,
  SmtpOptions,
  AccountsOptions,
  RetryOptions,
  Stage,
  BaseScenarioConfig,
} from './base-config.ts';
// Each executor's config lives in its module (runner/executors/<name>.ts); the registry builds
// the union of them all. Named here so scenario files can import them from 'runner'.
export type { ExecutorName, ScenarioConfig } from '../executors/index.ts';
export type { SharedIterationsConfig } from '../executors/shared-iterations.ts';
export type { PerVuIterationsConfig } from '../executors/per-vu-iterations.ts';
export type { ConstantVusConfig } from '../executors/constant-vus.ts';
export type { RampingVusConfig } from '../executors/ramping-vus.ts';
export type { ArrivalQueueConfig } from '../executors/arrivals.ts';
export type { ConstantArrivalRateConfig } from '../executors/constant-arrival-rate.ts';
export type { RampingArrivalRateConfig } from '../executors/ramping-arrival-rate.ts';
export type { BatchesConfig } from '../executors/batches.ts';
export type { ExternallyControlledConfig } from '../executors/externally-controlled.ts';

/** A threshold as a string (`'p(95)<0.5s'`) or with abort options, as in k6. */
export type ThresholdSpec =
  | string
  | {
      threshold: string;
      /** Stop the whole run as soon as this threshold fails. @default false */
      abortOnFail?: boolean;
      /** With abortOnFail: do not judge before this much of the run has passed. @default '0s' */
      delayAbortEval?: Duration;
    };

/** Everything a scenario file may export (TypeScript: `export default defineScenario({...})`). */
export interface ScenarioFileOptions<SetupData = unknown> {
  /** JSON schema reference, for editor completion in YAML/JSON files. */
  $schema?: string;
  /** What this scenario is for; printed in the header. */
  description?: string;
  /**
   * The start of the run to leave out of the summary and thresholds (still in the timeline):
   * a duration such as `'30s'`, or a whole number of messages. The old guide's "high latency on
   * the first batch only" (token refresh, cold pools) is what it keeps out of the figures.
   */
  warmup?: string | number;
  /**
   * The figures of each trend the console summary, summary JSON and JUnit list (k6's
   * summaryTrendStats), e.g. `['avg', 'min', 'med', 'p(90)', 'p(99.9)', 'max', 'count']`.
   * @default none: the fixed Latency and Phases blocks only
   */
  summaryTrendStats?: string[];
  target?: TargetOptions;
  smtp?: SmtpOptions;
  accounts?: AccountsOptions;
  /** Retries of deferred messages for every scenario (a scenario's own `retry` wins). @default none */
  retry?: RetryOptions;
  /** Metric name (optionally with `{tag:value,...}`) → conditions; any failing one fails the run. */
  thresholds?: Record<string, ThresholdSpec[]>;
  /** Named scenarios, run in parallel (each from its own `startTime`). */
  scenarios: Record<string, ScenarioConfig>;
  /**
   * Delivery truth: where to learn which accepted messages arrived upstream (a `runner sink`'s
   * admin URL, or a real mailbox over IMAP), and how long one may take (`timeout`, default 60s).
   * Adds smtp_delivered, smtp_lost, smtp_duplicated, smtp_delivery_lag and smtp_e2e_duration.
   */
  delivery?: DeliveryOptions;
  /** Replaces the default transaction (one message A→Z) with custom code. */
  iteration?: (ctx: import('../smtp/api.ts').IterationContext<SetupData>) => Promise<void> | void;
  /** Runs once before the load; its result is passed to every iteration as `ctx.data`. */
  setup?: () => Promise<SetupData> | SetupData;
  /** Runs once after the load with the setup data. */
  teardown?: (data: SetupData) => Promise<void> | void;
  /** Longest `setup()` may take before the run stops with exit 100 (as k6). @default '60s' */
  setupTimeout?: string | number;
  /** Longest `teardown()` may take; past it the outputs are written and the run exits 101 (as k6). @default '60s' */
  teardownTimeout?: string | number;
  /**
   * Replaces the end-of-test console summary, as k6's `handleSummary`: called once after the
   * run (after the results file is written) with the summary; see {@link HandleSummary}.
   */
  handleSummary?: HandleSummary;
}

/** What `handleSummary` may write: text (UTF-8) or bytes. */
export type SummaryContent = string | Uint8Array | ArrayBuffer;

/** Helpers passed to `handleSummary` beside the summary. */
export interface SummaryHelpers {
  /** The default console summary as text (what is printed without handleSummary). */
  textSummary(options?: { color?: boolean }): string;
  /** Absolute path of the results file written for this run, if any. */
  resultsFile: string | undefined;
}

/**
 * Custom end-of-test output (k6 semantics): return an object whose keys say where each value
 * goes: `'stdout'`, `'stderr'`, or a file path (relative to the working directory, written
 * atomically). When a scenario has it, the default console summary is not printed unless
 * the result has it under 'stdout' (`{ stdout: helpers.textSummary() }`). If it throws or
 * returns something else, the error is reported, the default summary is printed instead and
 * the run exits 107 (unless it already failed for another reason); the results file is
 * written before it is called, so it is never lost.
 */
export type HandleSummary = (
  summary: Summary,
  helpers: SummaryHelpers,
) => Record<string, SummaryContent> | Promise<Record<string, SummaryContent>>;
