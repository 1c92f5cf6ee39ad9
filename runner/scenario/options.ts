/**
 * From a scenario file's options (or none: a flags-only run) and the command line to the
 * `ResolvedOptions` the engine runs:
 *
 *   strip code fields → JSON schema + semantic checks (every problem at once) → defaults merged
 *   (top-level target/smtp/accounts, then each scenario's own) → accounts files read → CLI
 *   overrides applied → durations in ms, recipients as arrays, every field present.
 *
 * Any problem throws one InvalidOptionsError listing them all.
 */
import { hasPemCertificate } from '../util/pem.ts';
import { loadBuiltin } from '../util/builtin.ts';
import { resolveDelivery } from '../delivery/options.ts';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { buildMessage, MessageBuildError, type MessageSpec } from '../smtp/builder.ts';
import { generatedBody } from '../smtp/message.ts';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { isIP } from 'node:net';
import { unbracketHost } from '../listen-address.ts';
import { findNonLocalAddresses, parseLocalIps } from '../smtp/local-addresses.ts';
import { TLS_VERSIONS } from '../smtp/settings.ts';
import { addSecret } from '../redact.ts';
import { InvalidOptionsError, RunnerError } from '../errors.ts';
import { PHASES, type Phase } from '../smtp/phases.ts';
import { SYSTEM_TAGS } from '../metrics/catalogue.ts';
import { planThinkTime, type ThinkTimePlan } from '../script/sleep.ts';
import { parseTrendStats } from '../results/trend-stats.ts';
import { isEmailAddress, readAccountsFile, singleSender, buildWeightedCycle } from './accounts.ts';
import { DEFAULTS } from './defaults.ts';
import { parseDurationMs } from './duration.ts';
import type { ResolvedAccounts, ResolvedOptions, ResolvedScenario, ResolvedScenarioBase, ResolvedSmtp, ResolvedTarget } from './resolved.ts';
import { executorOf, executorsTaking } from '../executors/index.ts';
import type { ExecutorOverrides } from '../executors/executor.ts';
import { scaleMs } from '../executors/profile.ts';
import { parseAccountRate } from '../engine/account-limits.ts';
import { MAX_RETRY_ATTEMPTS, RETRY_DEFAULTS, parseRetryCodes, parseRetryFlag, type RetryPolicy } from '../engine/retry-policy.ts';
import { SegmentSyntaxError, parseSegment, parseSequence, stripeOf, type SegmentStripe } from '../executors/segment.ts';
import type { AccountsOptions, RetryOptions, AuthMechanism, PipeliningMode, SmtpProtocol, TlsMode, TlsVersion, ScenarioConfig, ScenarioFileOptions, SmtpOptions, TargetOptions, ThresholdSpec } from './types.ts';
import { formatPath, messageSizeProblem, quote, validateScenarioFile } from './validate.ts';
import { exceedsLimit, LIMITS, type LimitName } from './limits.ts';
import { isSingleSize, messageSizesOf, momentsOf, parseSizeBytes, type MessageSizeSpec } from '../smtp/size-distribution.ts';
import { checkResolvedLimits, checkWarmup } from './check-limits.ts';
import { parseClientFaultFlag } from './client-fault-flag.ts';
import { checkClientFaultChances, type ClientFaultChance } from '../smtp/client-faults.ts';

/**
 * Command-line overrides, applied on top of the file in this order:
 *
 * - `--scenario NAME` (repeatable): run only the named scenarios; an unknown name is an error
 *   that lists the file's names.
 * - `--scale F` (F > 0): multiplies every time span of the profile (startTime, duration, stage
 *   durations, maxDuration, thresholds' delayAbortEval) and every iteration count (rounded, at
 *   least 1) by F; rates, VUs, timeUnit, gracefulStop, maxQueueWait and SMTP timeouts are kept. The shipped
 *   one-hour soak runs in 3.6 s with `--scale 0.001`.
 * - `--duration D`: sets `duration` of constant-vus and constant-arrival-rate, rescales the
 *   stages of ramping-vus and ramping-arrival-rate proportionally so they last D in total, and
 *   sets maxDuration of shared-iterations, per-vu-iterations and batches. With --scale, D is
 *   applied after scaling, so it is exact.
 * - `--vus N`: sets `vus` of shared-iterations, per-vu-iterations, constant-vus and batches;
 *   scales ramping-vus' startVUs and stage targets so the peak is N; raises arrival-rate
 *   scenarios' preAllocatedVUs (and maxVUs) to at least N.
 * - `--iterations N`: sets `iterations` of shared-iterations, per-vu-iterations (per VU) and
 *   batches; an error when no selected scenario is iteration-based.
 * - `--rate R`: sets `rate` of constant-arrival-rate scenarios (per their timeUnit); an error
 *   when there is none.
 * - `--host`, `--port`, `--admin-url`, `--from`, `--to`, `--no-auth`, `--message-size`,
 *   `--messages-per-connection`, `--timeout`: replace that setting in every scenario
 *   (`--timeout` sets every phase's timeout; `--from` also replaces an accounts file: the run
 *   sends as that one sender).
 * - `--env KEY=VALUE`: merged over the process environment into `ctx.env`.
 * - `--tag k=v`: added to every scenario's tags (over the file's).
 *
 * shared-iterations and batches never run more VUs than iterations (extra VUs would idle).
 *
 * What --scale, --duration, --vus, --iterations and --rate do to one executor's options is that
 * executor's `applyOverrides` (runner/executors/<name>.ts); this list is the user's summary.
 */
export interface CliOverrides {
  host?: string;
  port?: number;
  adminUrl?: string;
  from?: string;
  to?: string[];
  auth?: AuthMechanism;
  /** AUTH PLAIN/LOGIN password. */
  password?: string;
  /** XOAUTH2 bearer token. */
  token?: string;
  tls?: TlsMode;
  /** true: --insecure-skip-tls-verify. */
  insecureSkipTlsVerify?: boolean;
  /** PEM file of CA certificates to trust. */
  tlsCa?: string;
  tlsServername?: string;
  /** --tls-cert, --tls-key: PEM files for mutual TLS (absolute). */
  tlsCert?: string;
  tlsKey?: string;
  tlsMinVersion?: TlsVersion;
  tlsMaxVersion?: TlsVersion;
  tlsCiphers?: string;
  /** true: --tls-resumption. */
  tlsResumption?: boolean;
  /** Body bytes, or a distribution ('1k-100k'). */
  messageSize?: MessageSizeSpec;
  messagesPerConnection?: number;
  /** false: --no-rset. */
  rsetBetweenMessages?: boolean;
  /** --local-ips: source addresses as k6 writes them ('127.0.0.2-127.0.0.9,::1'). */
  localIps?: string;
  /** --protocol lmtp (RFC 2033). */
  protocol?: SmtpProtocol;
  /** 'off': --no-pipelining. */
  pipelining?: PipeliningMode;
  /** true: --chunking. */
  chunking?: boolean;
  /** --chunk-size, bytes. */
  chunkSizeBytes?: number;
  /** Reply timeout of every phase, milliseconds. */
  timeoutMs?: number;
  vus?: number;
  iterations?: number;
  /** A duration such as '30s'. */
  duration?: string;
  /** Iterations per timeUnit. */
  rate?: number;
  /** Time-compression factor, > 0. */
  scale?: number;
  env?: Record<string, string>;
  tags?: Record<string, string>;
  /** Only run these scenarios. */
  scenario?: string[];
  /** `--warmup 30s` or `--warmup 100` (messages): overrides the file's warmup. */
  warmup?: string | number;
  /** `--delivery sink=URL`: overrides the file's delivery source. */
  delivery?: string;
  /** `--delivery-timeout 30s`. */
  deliveryTimeout?: string;
  /** `--summary-trend-stats 'avg,p(99.9),max'`: overrides the file's summaryTrendStats. */
  summaryTrendStats?: string;
  /** `--think-time 200ms..2s` (or `1s`): a pause after each message of the default iteration. */
  thinkTime?: string;
  /** `--retry 451,421:5`: retries of deferred messages for every scenario (over the file's). */
  retry?: string;
  /** `--header 'X-Campaign: q4'` (repeatable): a header on every message of the default flow (built with buildMessage). */
  headers?: string[];
  /** `--body-file body.txt`: the text body of every message of the default flow (a template: {{vu}}, {{iteration}}, {{seq}}). */
  bodyFile?: string;
  /** `--attach report.pdf` (repeatable): a file attached to every message of the default flow. */
  attach?: string[];
  /** `--client-fault abort-data:0.05` (repeatable): client-side faults drawn per message of the default flow, every scenario. */
  clientFaults?: string[];
  /** `--execution-segment 1/4:2/4`: run only this segment of the plan (executors/segment.ts). */
  executionSegment?: string;
  /** `--execution-segment-sequence 0,1/4,2/4,3/4,1`: the sequence the segment is one of. */
  executionSegmentSequence?: string;
}

/** Where the options come from: the scenario file (absolute), the folder relative paths start from, the environment. */
export interface ResolveContext {
  file?: string;
  baseDir: string;
  env: NodeJS.ProcessEnv;
}

/** Option names whose values are code; they pass through to ResolvedOptions, not through the schema. */
const CODE_FIELDS = ['iteration', 'setup', 'teardown', 'handleSummary'] as const;

/** The scenario of a run without a scenario file: the guide's defaults (100 emails, 10 at a time). */
export function flagsOnlyOptions(): ScenarioFileOptions {
  return { scenarios: { default: { executor: 'shared-iterations', vus: DEFAULTS.concurrent, iterations: DEFAULTS.numEmails } } };
}

/** Resolves a scenario file's options and the CLI overrides into what the engine runs. */
export async function resolveOptions(
  fileOptions: ScenarioFileOptions | undefined,
  cli: CliOverrides,
  context: ResolveContext,
): Promise<ResolvedOptions> {
  const raw: Record<string, unknown> = { ...(fileOptions ?? flagsOnlyOptions()) };
  const code: Partial<Record<(typeof CODE_FIELDS)[number], unknown>> = {};
  const problems: string[] = [];
  for (const field of CODE_FIELDS) {
    if (!(field in raw)) continue;
    const value = raw[field];
    delete raw[field];
    if (typeof value === 'function') code[field] = value;
    else if (value !== undefined) problems.push(`${field}: must be a function (custom code needs a TypeScript or JavaScript scenario file)`);
  }
  problems.push(...validateScenarioFile(raw));
  const scenariosValue = raw['scenarios'];
  const names = scenariosValue !== null && typeof scenariosValue === 'object' ? Object.keys(scenariosValue) : [];
  problems.push(...checkCliOverrides(cli, names));
  // --warmup is checked with the flags (it wins); the file's warmup here: its shape is the
  // schema's to report, its size the limit's.
  if (cli.warmup === undefined) {
    const warmupProblem = checkWarmup(raw['warmup'], 'warmup');
    if (warmupProblem && !problems.some((problem) => problem.startsWith('warmup'))) problems.push(warmupProblem);
  }
  if (problems.length > 0) throw invalid(problems);
  const options = raw as unknown as ScenarioFileOptions;

  const selected = cli.scenario && cli.scenario.length > 0 ? names.filter((name) => cli.scenario!.includes(name)) : names;
  const accountsCache = new Map<string, Promise<string[]>>();
  const retryFlag = cli.retry === undefined ? undefined : parseRetryFlag(cli.retry, problems);
  const scenarios: ResolvedScenario[] = [];
  for (const name of selected) {
    const config = options.scenarios[name]!;
    const accountsPath = ['scenarios', name, 'accounts'];
    const scenario = resolveScenario(name, config, options);
    const accountsOptions = config.accounts ?? options.accounts;
    if (cli.from !== undefined) scenario.accounts = singleSender(cli.from);
    else if (accountsOptions) {
      const where = config.accounts ? formatPath(accountsPath) : 'accounts';
      const accounts = await resolveAccounts(accountsOptions, context.baseDir, where, problems, accountsCache);
      if (accounts) scenario.accounts = accounts;
    }
    const retryOptions = retryFlag ?? config.retry ?? options.retry;
    if (retryOptions !== undefined) {
      const where = retryFlag !== undefined ? '--retry' : config.retry ? formatPath(['scenarios', name, 'retry']) : 'retry';
      const retry = resolveRetry(retryOptions, where, problems);
      if (retry !== undefined) scenario.retry = retry;
    }
    scenarios.push(scenario);
  }

  const scale = cli.scale ?? 1;
  const trendStatsValue = cli.summaryTrendStats ?? options.summaryTrendStats;
  const summaryTrendStats = trendStatsValue === undefined ? undefined : parseTrendStats(trendStatsValue, cli.summaryTrendStats !== undefined ? '--summary-trend-stats' : 'summaryTrendStats', problems);
  const thinkTime = resolveThinkTime(cli.thinkTime, code.iteration !== undefined, scale, problems);
  applyCliOverrides(scenarios, cli, problems);
  // The bounded-input policy (limits.ts), on what will run: the file and every flag applied.
  if (problems.length === 0) problems.push(...checkResolvedLimits(scenarios));
  if (problems.length === 0) segmentScenarios(scenarios, cli, problems);
  const setupTimeoutMs = ms(options.setupTimeout ?? DEFAULTS.setupTimeout);
  const teardownTimeoutMs = ms(options.teardownTimeout ?? DEFAULTS.teardownTimeout);
  for (const [name, valueMs] of [['setupTimeout', setupTimeoutMs], ['teardownTimeout', teardownTimeoutMs]] as const) {
    const problem = exceedsLimit('durationMs', valueMs);
    if (problem) problems.push(`${name}: ${problem}`);
  }
  const delivery = resolveDelivery(options.delivery, cli, problems);
  if (problems.length === 0) await resolveSecurity(scenarios, context.baseDir, problems);
  if (problems.length === 0) await resolveLocalAddresses(scenarios, cli, problems);
  if (problems.length > 0) throw invalid(problems);

  return {
    file: context.file,
    description: options.description,
    warmup: resolveWarmup(cli.warmup ?? options.warmup, scale),
    ...(thinkTime ? { thinkTime } : {}),
    ...(summaryTrendStats ? { summaryTrendStats } : {}),
    scenarios,
    delivery,
    thresholds: resolveThresholds(options.thresholds, scale),
    env: { ...context.env, ...cli.env },
    iteration: code.iteration as ResolvedOptions['iteration'],
    setup: code.setup as ResolvedOptions['setup'],
    setupTimeoutMs,
    teardownTimeoutMs,
    teardown: code.teardown as ResolvedOptions['teardown'],
    handleSummary: code.handleSummary as ResolvedOptions['handleSummary'],
  };
}

/** `--think-time`, checked and scaled (`--scale`); a problem when it is wrong or the file has its own iteration. */
function resolveThinkTime(text: string | undefined, hasIteration: boolean, scale: number, problems: string[]): ThinkTimePlan | undefined {
  if (text === undefined) return undefined;
  if (hasIteration) {
    problems.push(`--think-time: the scenario file has its own iteration(ctx); call sleep() or ctx.sleep() in it instead`);
    return undefined;
  }
  try {
    const plan = planThinkTime(text, '--think-time');
    switch (plan.kind) {
      case 'fixed': return { kind: 'fixed', ms: plan.ms * scale };
      case 'uniform': return { kind: 'uniform', minMs: plan.minMs * scale, maxMs: plan.maxMs * scale };
      case 'exponential': return { kind: 'exponential', meanMs: plan.meanMs * scale };
      case 'normal': return { kind: 'normal', meanMs: plan.meanMs * scale, stddevMs: plan.stddevMs * scale };
    }
  } catch (error) {
    problems.push((error as Error).message);
    return undefined;
  }
}

/** The problems as one error; the hint names where the options are described: --help for flags, the schema for a file's. */
function invalid(problems: string[]): InvalidOptionsError {
  const isFlagsOnly = problems.every((problem) => problem.startsWith('--'));
  return new InvalidOptionsError(problems, isFlagsOnly ? 'add --help to see each flag, what it applies to and its default' : 'every option, with its default, is described in schemas/scenario.schema.json');
}

function ms(value: string | number): number {
  return parseDurationMs(value);
}

/** Top-level target, then the scenario's, then the defaults. */
function resolveTarget(top: TargetOptions | undefined, own: TargetOptions | undefined): ResolvedTarget {
  return {
    host: unbracketHost(own?.host ?? top?.host ?? DEFAULTS.host),
    port: own?.port ?? top?.port ?? DEFAULTS.port,
    adminUrl: own?.adminUrl ?? top?.adminUrl ?? DEFAULTS.adminUrl,
    ...localIpsOf(own?.localIps ?? top?.localIps),
  };
}

function localIpsOf(spec: string | string[] | undefined): Pick<ResolvedTarget, 'localIps'> {
  return spec === undefined ? {} : { localIps: typeof spec === 'string' ? [spec] : [...spec] };
}

/**
 * Expands each scenario's source addresses (target.localIps, --local-ips) and checks that the
 * target can be reached from them: the family of an IP target, and that each address is on this
 * machine (one check per address for the whole run).
 */
async function resolveLocalAddresses(scenarios: ResolvedScenario[], cli: CliOverrides, problems: string[]): Promise<void> {
  const isLocalChecked = new Set<string>();
  for (const scenario of scenarios) {
    const target = scenario.target;
    if (target.localIps === undefined) continue;
    const where = cli.localIps !== undefined ? '--local-ips' : `scenarios.${scenario.name}.target.localIps`;
    const { addresses, problems: listProblems } = parseLocalIps(target.localIps);
    problems.push(...listProblems.map((problem) => `${where}: ${problem}`));
    if (listProblems.length > 0) continue;
    const hostFamily = isIP(target.host);
    const wrongFamily = hostFamily === 0 ? [] : addresses.filter((address) => isIP(address) !== hostFamily);
    if (wrongFamily.length > 0) {
      problems.push(`${where}: ${wrongFamily.slice(0, 3).join(', ')}${wrongFamily.length > 3 ? ', …' : ''} cannot reach ${target.host} (IPv${hostFamily}): give IPv${hostFamily} source addresses, or a host name that resolves to both families`);
      continue;
    }
    const unchecked = addresses.filter((address) => !isLocalChecked.has(address));
    for (const address of unchecked) isLocalChecked.add(address);
    const missing = await findNonLocalAddresses(unchecked);
    if (missing.length > 0) {
      problems.push(
        `${where}: not an address of this machine: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}; ` +
          'add it to an interface first (Linux: sudo ip addr add ADDRESS/32 dev lo), or list only addresses that `ip addr` shows',
      );
      continue;
    }
    target.localAddresses = addresses;
  }
}

/** A checked message size: one size as messageSize, a distribution as its buckets (messageSize: their mean). */
function resolveMessageSizes(spec: MessageSizeSpec, seed: number | undefined): Pick<ResolvedSmtp, 'messageSize' | 'messageSizes'> {
  // One size is bounded by check-limits.ts (its message names the limit); a distribution's sizes here
  if (isSingleSize(spec)) return { messageSize: parseSizeBytes(spec) };
  const sizes = messageSizesOf(spec, LIMITS.messageSizeBytes.max, seed);
  if (sizes.sizesBytes.length === 1) return { messageSize: sizes.sizesBytes[0]! };
  return { messageSize: Math.round(momentsOf(sizes).mean), messageSizes: sizes };
}

/** Top-level smtp, then the scenario's, field by field (timeouts phase by phase), then the defaults. */
function resolveSmtp(top: SmtpOptions | undefined, own: SmtpOptions | undefined): ResolvedSmtp {
  const merged: SmtpOptions = { ...top, ...own, timeouts: { ...top?.timeouts, ...own?.timeouts } };
  const defaultTimeoutMs = ms(merged.timeout ?? DEFAULTS.timeout);
  const timeoutsMs = {} as Record<Phase, number>;
  for (const phase of PHASES) {
    const value = merged.timeouts![phase];
    timeoutsMs[phase] = value === undefined ? defaultTimeoutMs : ms(value);
  }
  const to = merged.to ?? DEFAULTS.to;
  return {
    from: merged.from ?? DEFAULTS.from,
    to: Array.isArray(to) ? [...to] : [to],
    auth: merged.auth ?? DEFAULTS.auth,
    password: merged.password ?? DEFAULTS.password,
    token: merged.token ?? DEFAULTS.token,
    tls: merged.tls ?? DEFAULTS.tls,
    isTlsVerified: !(merged.insecureSkipTlsVerify ?? DEFAULTS.insecureSkipTlsVerify),
    tlsServername: merged.tlsServername,
    // The path for now; resolveOptions replaces it with the file's PEM text (readTlsCa)
    tlsCa: merged.tlsCa,
    // Paths too until resolveSecurity reads them
    tlsCert: merged.tlsCert,
    tlsKey: merged.tlsKey,
    tlsMinVersion: merged.tlsMinVersion,
    tlsMaxVersion: merged.tlsMaxVersion,
    tlsCiphers: merged.tlsCiphers,
    tlsResumption: merged.tlsResumption ?? DEFAULTS.tlsResumption,
    protocol: merged.protocol ?? DEFAULTS.protocol,
    ehloName: merged.ehloName ?? DEFAULTS.ehloName,
    ...resolveMessageSizes(merged.messageSize ?? DEFAULTS.messageSize, merged.messageSizeSeed),
    messagesPerConnection: merged.messagesPerConnection ?? DEFAULTS.messagesPerConnection,
    rsetBetweenMessages: merged.rsetBetweenMessages ?? DEFAULTS.rsetBetweenMessages,
    pipelining: merged.pipelining ?? DEFAULTS.pipelining,
    chunking: merged.chunking ?? DEFAULTS.chunking,
    chunkSizeBytes: merged.chunkSize ?? DEFAULTS.chunkSize,
    dsn: merged.dsn === undefined ? undefined : { ...merged.dsn, notify: merged.dsn.notify === undefined ? undefined : [...merged.dsn.notify] },
    timeoutsMs,
  };
}

/** One scenario: the shared fields here, its executor's own options by its module. */
function resolveScenario(name: string, config: ScenarioConfig, file: ScenarioFileOptions): ResolvedScenario {
  const smtp = resolveSmtp(file.smtp, config.smtp);
  const base: ResolvedScenarioBase = {
    name,
    startTimeMs: ms(config.startTime ?? DEFAULTS.startTime),
    gracefulStopMs: ms(config.gracefulStop ?? DEFAULTS.gracefulStop),
    tags: { ...config.tags },
    target: resolveTarget(file.target, config.target),
    smtp,
    accounts: singleSender(smtp.from),
  };
  return executorOf(config).resolve(config, base);
}

/** A `retry` block (or `--retry`) with its defaults, times in ms; problems pushed with `where`. */
function resolveRetry(options: RetryOptions, where: string, problems: string[]): RetryPolicy | undefined {
  const before = problems.length;
  const { codes, isAny4xx } = parseRetryCodes(options.on ?? RETRY_DEFAULTS.on, `${where}.on`, problems);
  const attempts = options.attempts ?? RETRY_DEFAULTS.attempts;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > MAX_RETRY_ATTEMPTS) problems.push(`${where}.attempts: must be a whole number 1..${MAX_RETRY_ATTEMPTS} (attempts in all, the first included)`);
  const backoff = options.backoff ?? {};
  const durationOf = (key: 'initial' | 'max'): number => {
    try {
      const valueMs = ms(backoff[key] ?? RETRY_DEFAULTS[key]);
      const problem = exceedsLimit('durationMs', valueMs);
      if (problem) problems.push(`${where}.backoff.${key}: ${problem}`);
      return valueMs;
    } catch (error) {
      problems.push(`${where}.backoff.${key}: ${(error as Error).message}`);
      return 0;
    }
  };
  const initialMs = durationOf('initial');
  const maxMs = durationOf('max');
  if (maxMs < initialMs) problems.push(`${where}.backoff.max: must be >= backoff.initial (${initialMs} ms)`);
  const factor = backoff.factor ?? RETRY_DEFAULTS.factor;
  if (!(factor >= 1) || !Number.isFinite(factor)) problems.push(`${where}.backoff.factor: must be a number >= 1 (2 doubles each wait)`);
  if (problems.length > before) return undefined;
  return { codes, isAny4xx, attempts, initialMs, maxMs, factor, isJittered: backoff.jitter ?? RETRY_DEFAULTS.jitter };
}

/** Reads an accounts file (once per path) into ResolvedAccounts; a problem is pushed instead of thrown. */
async function resolveAccounts(
  options: AccountsOptions,
  baseDir: string,
  where: string,
  problems: string[],
  cache: Map<string, Promise<string[]>>,
): Promise<ResolvedAccounts | undefined> {
  const file = isAbsolute(options.file) ? options.file : resolvePath(baseDir, options.file);
  let read = cache.get(file);
  if (!read) {
    read = readAccountsFile(file);
    cache.set(file, read);
  }
  let emails: string[];
  try {
    emails = await read;
  } catch (error) {
    if (!(error instanceof RunnerError)) throw error;
    const problem = `${where}.file: ${error.message}${error.hint ? ` (${error.hint})` : ''}`;
    if (!problems.includes(problem)) problems.push(problem);
    return undefined;
  }
  const pick = options.pick ?? DEFAULTS.accountsPick;
  const weights = emails.map((email) => options.weights?.[email] ?? 1);
  if (pick === 'weighted') {
    const known = new Set(emails);
    for (const email of Object.keys(options.weights ?? {})) {
      if (!known.has(email)) problems.push(`${where}.weights[${quote(email)}]: not an account of ${options.file} (it has ${emails.slice(0, 5).join(', ')}${emails.length > 5 ? ', …' : ''})`);
    }
    try {
      buildWeightedCycle(weights);
    } catch (error) {
      problems.push(`${where}.weights: ${(error as Error).message}`);
    }
  }
  const limits: Pick<ResolvedAccounts, 'maxInFlight' | 'rateIntervalMs'> = {};
  if (options.maxInFlight !== undefined) {
    if (Number.isInteger(options.maxInFlight) && options.maxInFlight >= 1) limits.maxInFlight = options.maxInFlight;
    else problems.push(`${where}.maxInFlight: must be a whole number >= 1 (got ${options.maxInFlight})`);
  }
  if (options.rate !== undefined) {
    try {
      limits.rateIntervalMs = parseAccountRate(options.rate);
    } catch (error) {
      problems.push(`${where}.rate: ${(error as Error).message}`);
    }
  }
  return { pick, emails, weights, file, ...limits };
}

/** Problems with the overrides themselves, each named by its flag. */
export function checkCliOverrides(cli: CliOverrides, scenarioNames: readonly string[]): string[] {
  const problems: string[] = [];
  const positiveInteger = (value: number | undefined, flag: string, min: number, limit?: LimitName) => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min) problems.push(`${flag}: must be a whole number >= ${min} (got ${value})`);
    else if (limit !== undefined && exceedsLimit(limit, value)) problems.push(`${flag}: ${exceedsLimit(limit, value)}`);
  };
  const limitedMs = (valueMs: number | undefined, flag: string, shown: string | number | undefined) => {
    const problem = valueMs === undefined ? undefined : exceedsLimit('durationMs', valueMs, shown);
    if (problem) problems.push(`${flag}: ${problem}`);
  };
  if (cli.host !== undefined && (cli.host === '' || /\s/.test(cli.host))) problems.push(`--host: ${quote(cli.host)} is not a host name or IP`);
  if (cli.port !== undefined && (!Number.isInteger(cli.port) || cli.port < 1 || cli.port > 65535)) problems.push(`--port: ${cli.port} is out of range 1-65535`);
  if (cli.from !== undefined && !isEmailAddress(cli.from)) problems.push(`--from: ${quote(cli.from)} is not an email address`);
  if (cli.to !== undefined) {
    if (cli.to.length === 0) problems.push('--to: give at least one recipient');
    for (const to of cli.to) if (!isEmailAddress(to)) problems.push(`--to: ${quote(to)} is not an email address`);
    const tooMany = exceedsLimit('recipients', cli.to.length, `${cli.to.length} recipients`);
    if (tooMany) problems.push(`--to: ${tooMany}`);
  }
  if (typeof cli.messageSize === 'number') positiveInteger(cli.messageSize, '--message-size', 0, 'messageSizeBytes');
  else if (cli.messageSize !== undefined) {
    const problem = messageSizeProblem(cli.messageSize);
    if (problem) problems.push(`--message-size: ${problem}`);
  }
  positiveInteger(cli.messagesPerConnection, '--messages-per-connection', 1, 'iterations');
  if (cli.timeoutMs !== undefined && !(cli.timeoutMs > 0 && Number.isFinite(cli.timeoutMs))) problems.push(`--timeout: must be > 0 (got ${cli.timeoutMs} ms)`);
  else limitedMs(cli.timeoutMs, '--timeout', `${cli.timeoutMs} ms`);
  positiveInteger(cli.vus, '--vus', 1, 'vus');
  positiveInteger(cli.iterations, '--iterations', 1, 'iterations');
  const warmupProblem = checkWarmup(cli.warmup, '--warmup');
  if (warmupProblem) problems.push(warmupProblem);
  if (cli.duration !== undefined) {
    try {
      const durationMs = parseDurationMs(cli.duration);
      if (!(durationMs > 0)) problems.push(`--duration: must be > 0 (got ${quote(cli.duration)})`);
      else limitedMs(durationMs, '--duration', quote(cli.duration));
    } catch {
      problems.push(`--duration: ${quote(cli.duration)} is not a duration: use e.g. '30s', '5m'`);
    }
  }
  if (cli.rate !== undefined && !(cli.rate > 0 && Number.isFinite(cli.rate))) problems.push(`--rate: must be > 0 (got ${cli.rate})`);
  if (cli.scale !== undefined && !(cli.scale > 0 && Number.isFinite(cli.scale))) problems.push(`--scale: must be > 0 (got ${cli.scale})`);
  for (const key of Object.keys(cli.env ?? {})) if (key === '') problems.push('--env: a variable needs a name: KEY=VALUE');
  for (const key of Object.keys(cli.tags ?? {})) {
    if ((SYSTEM_TAGS as readonly string[]).includes(key)) problems.push(`--tag: '${key}' is set by runner on every sample: choose another name`);
    else if (!/^[A-Za-z0-9_.-]+$/.test(key)) problems.push(`--tag: ${quote(key)}: tag names may only contain letters, digits, '_', '.' and '-'`);
  }
  for (const name of cli.scenario ?? []) {
    if (!scenarioNames.includes(name)) problems.push(`--scenario: no scenario named ${quote(name)}: the file has ${scenarioNames.join(', ')}`);
  }
  return problems;
}

/**
 * After the overrides: XOAUTH2 needs a token; a tlsCa path is read into its PEM text (a
 * scenario file's relative to its folder, --tls-ca's to the working directory, which is the
 * base of a flags-only run); every password and token is registered with redact.ts so no
 * output can show it.
 */
async function resolveSecurity(scenarios: ResolvedScenario[], baseDir: string, problems: string[]): Promise<void> {
  const caByPath = new Map<string, string | undefined>();
  for (const scenario of scenarios) {
    const smtp = scenario.smtp;
    if (smtp.auth === 'xoauth2' && smtp.token === '') {
      problems.push(`scenarios.${scenario.name}.smtp.token: auth 'xoauth2' needs a bearer token: set smtp.token, or pass --token (e.g. --token "$TOKEN")`);
    }
    if (smtp.password !== DEFAULTS.password) addSecret(smtp.password);
    addSecret(smtp.token ?? '');
    if ((smtp.tlsCert === undefined) !== (smtp.tlsKey === undefined)) {
      problems.push(`scenarios.${scenario.name}.smtp.${smtp.tlsCert === undefined ? 'tlsCert' : 'tlsKey'}: mutual TLS needs both the client certificate and its key: give smtp.tlsCert and smtp.tlsKey (--tls-cert and --tls-key)`);
    }
    const min = smtp.tlsMinVersion === undefined ? -1 : TLS_VERSIONS.indexOf(smtp.tlsMinVersion);
    const max = smtp.tlsMaxVersion === undefined ? TLS_VERSIONS.length : TLS_VERSIONS.indexOf(smtp.tlsMaxVersion);
    if (min > max) problems.push(`scenarios.${scenario.name}.smtp.tlsMinVersion: ${smtp.tlsMinVersion} is newer than tlsMaxVersion ${smtp.tlsMaxVersion}: swap them`);
    for (const field of ['tlsCa', 'tlsCert', 'tlsKey'] as const) {
      const path = smtp[field];
      if (path === undefined) continue;
      const file = isAbsolute(path) ? path : resolvePath(baseDir, path);
      if (!caByPath.has(file)) {
        try {
          caByPath.set(file, await readFile(file, 'utf8'));
        } catch (error) {
          caByPath.set(file, undefined);
          problems.push(`smtp.${field}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
      }
      const text = caByPath.get(file);
      if (field === 'tlsCa' && text !== undefined && !hasPemCertificate(text)) {
        problems.push(`smtp.tlsCa: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA certificate(s) of the server (--tls-ca)`);
        caByPath.set(file, undefined);
      }
      smtp[field] = caByPath.get(file);
    }
    problems.push(...checkClientTlsMaterial(scenario));
  }
}

/**
 * The client's own TLS material (certificate, key, cipher list) tried here, before any
 * connection: a mistake in it would otherwise surface as a failed handshake that blames the server.
 */
function checkClientTlsMaterial(scenario: ResolvedScenario): string[] {
  const smtp = scenario.smtp;
  const problems: string[] = [];
  if (smtp.tlsCert === undefined && smtp.tlsKey === undefined && smtp.tlsCiphers === undefined) return problems;
  const { createSecureContext } = loadBuiltin('node:tls');
  const at = `scenarios.${scenario.name}.smtp`;
  const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  let isPairUsable = smtp.tlsCert !== undefined && smtp.tlsKey !== undefined;
  if (smtp.tlsCert !== undefined) {
    try {
      createSecureContext({ cert: smtp.tlsCert });
    } catch (error) {
      isPairUsable = false;
      problems.push(`${at}.tlsCert: not a usable PEM certificate (${codeOf(error)}): give the client certificate in PEM (--tls-cert)`);
    }
  }
  if (smtp.tlsKey !== undefined) {
    try {
      createSecureContext({ key: smtp.tlsKey });
    } catch (error) {
      isPairUsable = false;
      problems.push(`${at}.tlsKey: not a usable PEM private key (${codeOf(error)}): give the client certificate's private key in PEM (--tls-key)`);
    }
  }
  if (isPairUsable) {
    try {
      createSecureContext({ cert: smtp.tlsCert, key: smtp.tlsKey });
    } catch (error) {
      problems.push(`${at}.tlsKey: the key does not go with the certificate (${codeOf(error)}): give the key the client certificate was made with`);
    }
  }
  if (smtp.tlsCiphers !== undefined) {
    try {
      createSecureContext({ ciphers: smtp.tlsCiphers });
    } catch (error) {
      problems.push(`${at}.tlsCiphers: '${smtp.tlsCiphers}' names no cipher this Node (OpenSSL) knows (${codeOf(error)}): e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256 (openssl ciphers lists them)`);
    }
  }
  return problems;
}

/**
 * --execution-segment (with --execution-segment-sequence): replaces each scenario by its
 * executor's share for that segment (executors/segment.ts), after every other flag, so the
 * segments of one sequence split exactly the plan a single process would run.
 */
function segmentScenarios(scenarios: ResolvedScenario[], cli: CliOverrides, problems: string[]): void {
  if (cli.executionSegment === undefined) {
    if (cli.executionSegmentSequence !== undefined) problems.push('--execution-segment-sequence: needs --execution-segment (the segment of it this process runs)');
    return;
  }
  let stripe: SegmentStripe;
  try {
    const segment = parseSegment(cli.executionSegment);
    const sequence = cli.executionSegmentSequence === undefined ? undefined : parseSequence(cli.executionSegmentSequence);
    stripe = stripeOf(segment, sequence);
  } catch (error) {
    if (!(error instanceof SegmentSyntaxError)) throw error;
    problems.push(`--execution-segment: ${error.message}`);
    return;
  }
  if (stripe.isWhole) return;
  scenarios.forEach((scenario, index) => {
    const share = executorOf(scenario).segment(scenario, stripe);
    if (share.problem !== undefined) problems.push(`scenarios.${scenario.name}: ${share.problem}`);
    scenarios[index] = share.scenario;
  });
}

/**
 * Applies the CLI overrides (see CliOverrides for their meaning and order) in place: --scale
 * of startTime here, the executor's own options by its module; then the target and SMTP flags.
 */
function applyCliOverrides(scenarios: ResolvedScenario[], cli: CliOverrides, problems: string[]): void {
  const clientFaults = resolveClientFaults(cli.clientFaults, problems);
  const composed = resolveComposedFlags(cli, problems);
  for (const flag of ['iterations', 'rate'] as const) {
    if (cli[flag] === undefined) continue;
    const takers = executorsTaking(flag);
    if (scenarios.some((s) => takers.includes(s.executor))) continue;
    const hint = flag === 'iterations' ? ': use --duration or --scale' : '';
    problems.push(`--${flag}: applies to ${listNames(takers)} scenarios; this run has ${describeExecutors(scenarios)}${hint}`);
  }
  const overrides: ExecutorOverrides = {
    scale: cli.scale,
    durationMs: cli.duration === undefined ? undefined : parseDurationMs(cli.duration),
    vus: cli.vus,
    iterations: cli.iterations,
    rate: cli.rate,
  };
  for (const scenario of scenarios) {
    if (cli.scale !== undefined) scenario.startTimeMs = scaleMs(scenario.startTimeMs, cli.scale);
    executorOf(scenario).applyOverrides(scenario, overrides);

    const { target, smtp } = scenario;
    if (cli.host !== undefined) target.host = cli.host;
    if (cli.port !== undefined) target.port = cli.port;
    if (cli.adminUrl !== undefined) target.adminUrl = cli.adminUrl;
    if (cli.localIps !== undefined) target.localIps = [cli.localIps];
    if (cli.from !== undefined) smtp.from = cli.from;
    if (cli.to !== undefined) smtp.to = [...cli.to];
    if (cli.auth !== undefined) smtp.auth = cli.auth;
    if (cli.password !== undefined) smtp.password = cli.password;
    if (cli.token !== undefined) smtp.token = cli.token;
    if (cli.tls !== undefined) smtp.tls = cli.tls;
    if (cli.insecureSkipTlsVerify) smtp.isTlsVerified = false;
    if (cli.tlsCa !== undefined) smtp.tlsCa = cli.tlsCa;
    if (cli.tlsServername !== undefined) smtp.tlsServername = cli.tlsServername;
    if (cli.tlsCert !== undefined) smtp.tlsCert = cli.tlsCert;
    if (cli.tlsKey !== undefined) smtp.tlsKey = cli.tlsKey;
    if (cli.tlsMinVersion !== undefined) smtp.tlsMinVersion = cli.tlsMinVersion;
    if (cli.tlsMaxVersion !== undefined) smtp.tlsMaxVersion = cli.tlsMaxVersion;
    if (cli.tlsCiphers !== undefined) smtp.tlsCiphers = cli.tlsCiphers;
    if (cli.tlsResumption !== undefined) smtp.tlsResumption = cli.tlsResumption;
    if (cli.messageSize !== undefined) {
      const sizes = resolveMessageSizes(cli.messageSize, smtp.messageSizes?.seed);
      smtp.messageSize = sizes.messageSize;
      if (sizes.messageSizes !== undefined) smtp.messageSizes = sizes.messageSizes;
      else delete smtp.messageSizes;
    }
    if (cli.messagesPerConnection !== undefined) smtp.messagesPerConnection = cli.messagesPerConnection;
    if (cli.rsetBetweenMessages !== undefined) smtp.rsetBetweenMessages = cli.rsetBetweenMessages;
    if (cli.protocol !== undefined) smtp.protocol = cli.protocol;
    if (cli.pipelining !== undefined) smtp.pipelining = cli.pipelining;
    if (cli.chunking !== undefined) smtp.chunking = cli.chunking;
    if (cli.chunkSizeBytes !== undefined) smtp.chunkSizeBytes = cli.chunkSizeBytes;
    if (cli.timeoutMs !== undefined) for (const phase of PHASES) smtp.timeoutsMs[phase] = cli.timeoutMs;
    if (clientFaults !== undefined) smtp.clientFaults = clientFaults;
    if (composed !== undefined) {
      // Without --body-file, the generated body of the scenario's (mean) size, the same for every message
      smtp.composed = { ...composed, text: composed.text ?? generatedBody(smtp.messageSize).toString('latin1') };
    }
    if (cli.tags) Object.assign(scenario.tags, cli.tags);
  }
}

/**
 * --header, --body-file, --attach as a buildMessage() spec (Subject as the generated message's);
 * undefined when none was given or one is invalid (its problem said, with the flag's name).
 */
function resolveComposedFlags(cli: CliOverrides, problems: string[]): MessageSpec | undefined {
  if (cli.headers === undefined && cli.bodyFile === undefined && cli.attach === undefined) return undefined;
  const before = problems.length;
  const headers: Record<string, string> = {};
  for (const line of cli.headers ?? []) {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problems.push(`--header ${quote(line)}: give 'Name: value', e.g. --header 'X-Campaign: q4'`);
      continue;
    }
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  let text: string | undefined;
  if (cli.bodyFile !== undefined) {
    try {
      text = readFileSync(cli.bodyFile, 'utf8');
    } catch (error) {
      problems.push(`--body-file ${cli.bodyFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a readable text file`);
    }
  }
  const spec: MessageSpec = { subject: 'runner load test #{{seq}}', headers, attachments: (cli.attach ?? []).map((path) => ({ path })) };
  if (text !== undefined) spec.text = text;
  // Each part on its own, so a bad header and an unreadable file are both said
  for (const [flag, part] of [['--header', { headers }], ['--attach', { attachments: spec.attachments }]] as const) {
    try {
      buildMessage(part);
    } catch (error) {
      if (!(error instanceof MessageBuildError)) throw error;
      problems.push(`${flag}: ${error.message.replace(/^(headers|attachments\[\d+\]\.path): /, '')}`);
    }
  }
  return problems.length === before ? spec : undefined;
}

/** `--client-fault` values (repeatable) as the chances per message; undefined when none was given or one is invalid. */
function resolveClientFaults(values: readonly string[] | undefined, problems: string[]): ClientFaultChance[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const before = problems.length;
  const chances: ClientFaultChance[] = [];
  for (const value of values) {
    const chance = parseClientFaultFlag(value, problems);
    if (chance !== undefined) chances.push(chance);
  }
  checkClientFaultChances(chances, problems);
  return problems.length === before ? chances : undefined;
}

/** 'a', 'a and b', 'a, b and c'. */
function listNames(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function describeExecutors(scenarios: ResolvedScenario[]): string {
  return scenarios.map((s) => `${s.name} (${s.executor})`).join(', ');
}

/**
 * Thresholds as written (run.ts compiles them with runner/thresholds once custom metrics are
 * known), copied; with --scale, an object form's delayAbortEval is scaled like the run.
 */
function resolveThresholds(thresholds: Record<string, ThresholdSpec[]> | undefined, scale: number): ResolvedOptions['thresholds'] {
  const resolved: ResolvedOptions['thresholds'] = {};
  for (const [metricKey, specs] of Object.entries(thresholds ?? {})) {
    resolved[metricKey] = specs.map((spec) =>
      typeof spec === 'string' || spec.delayAbortEval === undefined || scale === 1
        ? typeof spec === 'string' ? spec : { ...spec }
        : { ...spec, delayAbortEval: Math.round(parseDurationMs(spec.delayAbortEval) * scale) },
    );
  }
  return resolved;
}

/**
 * The warm-up as the engine uses it: a duration string is time (scaled with --scale), a whole
 * number is a count of messages; a numeric string ('100') counts messages too.
 */
export function resolveWarmup(warmup: string | number | undefined, scale: number): ResolvedOptions['warmup'] {
  if (warmup === undefined || warmup === 0 || warmup === '0') return { durationMs: 0, messages: 0 };
  if (typeof warmup === 'number' || /^\d+$/.test(warmup)) return { durationMs: 0, messages: Number(warmup) };
  return { durationMs: Math.round(parseDurationMs(warmup) * scale), messages: 0 };
}

