/**
 * The options a scenario file (TypeScript or YAML) gives, as the user writes them. The
 * normalized, defaults-merged form the engine runs is `ResolvedOptions` in options.ts.
 * Every option documents its unit and default; defaults live in one place (defaults.ts).
 */
import type { Phase } from '../smtp/phases.ts';
import type { AuthMechanism, TlsMode } from '../smtp/settings.ts';
import type { Summary } from '../outputs/summary-types.ts';

export type { Summary } from '../outputs/summary-types.ts';
export type { AuthMechanism, TlsMode } from '../smtp/settings.ts';

/** A duration: `'250ms'`, `'30s'`, `'5m'`, `'1h'`, `'1h30m'`, or a number of milliseconds. */
export type Duration = string | number;

/** Where to send load. */
export interface TargetOptions {
  /** SMTP server host name or IP. @default '127.0.0.1' */
  host?: string;
  /** SMTP server port. @default 2525 */
  port?: number;
  /** Base URL of the proxy's admin HTTP API, used by preflight checks. @default 'http://127.0.0.1:9090' */
  adminUrl?: string;
}

/** How each message is sent. */
export interface SmtpOptions {
  /** Envelope sender and AUTH PLAIN user; must be an account the proxy knows. @default 'test@example.com' */
  from?: string;
  /** One or more recipients (one RCPT TO each). @default 'recipient@outlook.com' */
  to?: string | string[];
  /**
   * AUTH mechanism (RFC 4954): `'plain'` (RFC 4616, with an initial response), `'login'` (the
   * two-challenge LOGIN), `'xoauth2'` (a bearer token, `token`), or `'none'` to skip AUTH. @default 'plain'
   */
  auth?: AuthMechanism;
  /** AUTH PLAIN/LOGIN password; the XOAUTH2 proxy ignores it. Redacted in every output. @default 'placeholder' */
  password?: string;
  /** OAuth2 bearer token for `auth: 'xoauth2'`. Redacted in every output. @default '' */
  token?: string;
  /**
   * `'starttls'`: upgrade after EHLO (RFC 3207); `'implicit'`: TLS from the first byte (port 465
   * style, RFC 8314); `'none'`: plain text. @default 'none'
   */
  tls?: TlsMode;
  /** Accept any server certificate (self-signed, wrong name, expired). @default false */
  insecureSkipTlsVerify?: boolean;
  /** Name checked against the certificate and sent as SNI. @default the target host (no SNI for an IP) */
  tlsServername?: string;
  /** PEM file of extra CA certificates to trust (a self-signed setup), relative to the working directory. */
  tlsCa?: string;
  /** Name sent with EHLO. @default 'runner.localhost' */
  ehloName?: string;
  /** Size of the generated message body in bytes (headers come on top). @default 1024 */
  messageSize?: number;
  /** Messages sent on one connection before QUIT (RSET between them). @default 1 */
  messagesPerConnection?: number;
  /**
   * Send RSET before each further message on a reused connection. false: only after a
   * transaction that did not end with an accepted message (RFC 5321 needs no RSET after a 250 to
   * end-of-data; an MTA such as Postfix's smtp client, or smtp-source, sends none). @default true
   */
  rsetBetweenMessages?: boolean;
  /** Per-phase reply timeouts; a phase not listed uses `timeout`. */
  timeouts?: Partial<Record<Phase, Duration>>;
  /** Default timeout for every phase. @default '30s' */
  timeout?: Duration;
}

/** Senders taken from a proxy-style accounts.json (an array of `{email, provider, ...}`). */
export interface AccountsOptions {
  /** Path to accounts.json, relative to the scenario file. */
  file: string;
  /** How each iteration picks its sender. @default 'round-robin' */
  pick?: 'round-robin' | 'weighted';
  /** With `pick: 'weighted'`: relative weight per email; unlisted accounts weigh 1. */
  weights?: Record<string, number>;
}

/** One `{duration, target}` step of a ramp: move linearly to `target` over `duration`. */
export interface Stage {
  duration: Duration;
  /** VUs (ramping-vus) or iterations per `timeUnit` (ramping-arrival-rate) at the end of the stage. */
  target: number;
}

/** Options every executor accepts. */
export interface BaseScenarioConfig {
  /** Delay from the start of the test before this scenario begins. @default '0s' */
  startTime?: Duration;
  /** How long iterations still running at the scenario's end may take to finish. @default '30s' */
  gracefulStop?: Duration;
  /** Tags added to every metric sample of this scenario. */
  tags?: Record<string, string>;
  /** Per-scenario overrides of the top-level target. */
  target?: TargetOptions;
  /** Per-scenario overrides of the top-level SMTP settings. */
  smtp?: SmtpOptions;
  /** Per-scenario sender accounts. */
  accounts?: AccountsOptions;
}

/** A fixed number of iterations shared by all VUs (k6 `shared-iterations`). */
export interface SharedIterationsConfig extends BaseScenarioConfig {
  executor: 'shared-iterations';
  /** @default 1 */ vus?: number;
  /** Total iterations across all VUs. @default 1 */ iterations?: number;
  /** Hard stop. @default '10m' */ maxDuration?: Duration;
}

/** Each VU runs exactly `iterations` iterations (k6 `per-vu-iterations`). */
export interface PerVuIterationsConfig extends BaseScenarioConfig {
  executor: 'per-vu-iterations';
  /** @default 1 */ vus?: number;
  /** Iterations per VU. @default 1 */ iterations?: number;
  /** Hard stop. @default '10m' */ maxDuration?: Duration;
}

/** A fixed number of VUs looping for a duration (k6 `constant-vus`). */
export interface ConstantVusConfig extends BaseScenarioConfig {
  executor: 'constant-vus';
  /** @default 1 */ vus?: number;
  duration: Duration;
}

/** VUs ramped through stages (k6 `ramping-vus`). */
export interface RampingVusConfig extends BaseScenarioConfig {
  executor: 'ramping-vus';
  /** @default 1 */ startVUs?: number;
  stages: Stage[];
  /** Time a VU removed by a ramp-down may take to finish its iteration. @default '30s' */
  gracefulRampDown?: Duration;
}

/** What both arrival-rate executors do with an arrival that finds every VU busy. */
export interface ArrivalQueueConfig {
  /**
   * How long an arrival that finds every VU busy (and `maxVUs` reached) may wait for one. It
   * waits in a first-in-first-out queue and starts on the next VU that frees up, timed from
   * its *planned* instant: the wait counts in the response time (what a sender waiting in line
   * sees), not in the service time (from the actual start). One that has waited this long is
   * dropped and counted in `dropped_iterations`, as are those still waiting when the
   * scenario's duration ends or the test stops. `'0s'` drops at once: k6's behaviour.
   *
   * Why 30 s: long enough that a stall of the server (seconds: a GC pause, an upstream token
   * refresh) is charged in full to the response time instead of vanishing as drops; the same
   * as the default reply timeout, so an arrival never waits for a VU longer than runner waits
   * for a reply (a real sender would have given up by then too); and bounded, so a rate the
   * server cannot sustain keeps a backlog of at most rate × 30 s planned instants (8 bytes
   * each: 240 KB at 1000/s) while `dropped_iterations` still counts what could not be served,
   * as k6 users expect. Like the timeouts, `--scale` leaves it as it is.
   * @default '30s'
   */
  maxQueueWait?: Duration;
}

/** Iterations started at a fixed rate regardless of responses (k6 `constant-arrival-rate`). */
export interface ConstantArrivalRateConfig extends BaseScenarioConfig, ArrivalQueueConfig {
  executor: 'constant-arrival-rate';
  /** Iterations per `timeUnit`. */
  rate: number;
  /** @default '1s' */ timeUnit?: Duration;
  duration: Duration;
  /** VUs allocated before the start. */
  preAllocatedVUs: number;
  /** VUs the executor may grow to when all are busy. @default preAllocatedVUs */
  maxVUs?: number;
}

/** Arrival rate ramped through stages (k6 `ramping-arrival-rate`). */
export interface RampingArrivalRateConfig extends BaseScenarioConfig, ArrivalQueueConfig {
  executor: 'ramping-arrival-rate';
  /** Iterations per `timeUnit` at the start. @default 0 */
  startRate?: number;
  /** @default '1s' */ timeUnit?: Duration;
  stages: Stage[];
  preAllocatedVUs: number;
  /** @default preAllocatedVUs */ maxVUs?: number;
}

/**
 * The old Python tool's model: `iterations` messages sent in batches of `vus`, each batch
 * waiting for the previous one to finish. Kept for before/after comparisons with it.
 */
export interface BatchesConfig extends BaseScenarioConfig {
  executor: 'batches';
  /** Batch size. @default 1 */ vus?: number;
  /** Total messages. @default 1 */ iterations?: number;
  /** Hard stop. @default '10m' */ maxDuration?: Duration;
}

export type ScenarioConfig =
  | SharedIterationsConfig
  | PerVuIterationsConfig
  | ConstantVusConfig
  | RampingVusConfig
  | ConstantArrivalRateConfig
  | RampingArrivalRateConfig
  | BatchesConfig;

export type ExecutorName = ScenarioConfig['executor'];

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
  target?: TargetOptions;
  smtp?: SmtpOptions;
  accounts?: AccountsOptions;
  /** Metric name (optionally with `{tag:value,...}`) → conditions; any failing one fails the run. */
  thresholds?: Record<string, ThresholdSpec[]>;
  /** Named scenarios, run in parallel (each from its own `startTime`). */
  scenarios: Record<string, ScenarioConfig>;
  /** Replaces the default transaction (one message A→Z) with custom code. */
  iteration?: (ctx: import('../smtp/api.ts').IterationContext<SetupData>) => Promise<void> | void;
  /** Runs once before the load; its result is passed to every iteration as `ctx.data`. */
  setup?: () => Promise<SetupData> | SetupData;
  /** Runs once after the load with the setup data. */
  teardown?: (data: SetupData) => Promise<void> | void;
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
