/**
 * `runner check`: the whole check of one target, in the order a person debugs (the guide's
 * "Troubleshooting"): the SMTP walk on one connection (connect, greeting, EHLO, AUTH PLAIN or
 * the --auth mechanism, MAIL FROM + RSET, QUIT; with --tls, the TLS handshake), then the admin API (GET /health, GET /admin/accounts),
 * with --delivery the sink (GET /__stats), then the diagnosis. Steps are reported as they finish.
 */
import { readExtensions, type OfferedExtensions } from '../smtp/extensions.ts';
import { diagnose, checkExitCode, describeAccountsStep, describeHealthStep, isAuthOk, type Problem } from './diagnose.ts';
import {
  normalizeAdminUrl,
  probeHttp,
  probeSmtp,
  readAccounts,
  readHealth,
  skippedStep,
  uniformTimeoutsMs,
  type AccountsFacts,
  type CheckStep,
  type HealthFacts,
  type ProbeSecurity,
  type StepListener,
} from './steps.ts';
import type { SaslMechanism } from '../smtp/auth.ts';
import { checkDeliverySink } from './delivery-sink.ts';
import type { TlsMode } from '../scenario/types.ts';

/** What to check. */
export interface CheckOptions {
  host: string;
  port: number;
  /** The account to AUTH as and to look for in /admin/accounts. */
  from: string;
  /** The proxy's admin API base URL, e.g. 'http://127.0.0.1:9090'. */
  adminUrl: string;
  /** Send AUTH (the mechanism is security.auth). @default true */
  isAuth?: boolean;
  /** AUTH PLAIN/LOGIN password (the XOAUTH2 proxy ignores it). @default DEFAULTS.password */
  password?: string;
  /** AUTH mechanism, XOAUTH2 token and TLS settings, as `runner run` takes them (tlsCa: PEM text). @default PLAIN, no TLS */
  security?: ProbeSecurity;
  /** Check the admin API. @default true */
  isAdminChecked?: boolean;
  /** Timeout of each step (every SMTP reply, every HTTP request), milliseconds. */
  timeoutMs: number;
  /** Source addresses (--local-ips): the probe connects from the first. */
  localAddresses?: readonly string[];
  /** A runner sink's admin URL (`--delivery sink=URL`, no trailing slash): checked last. */
  deliverySink?: string;
}

/** The outcome of a check: every step, what is wrong, and the exit code. */
export interface CheckReport {
  host: string;
  port: number;
  from: string;
  adminUrl: string;
  isAuth: boolean;
  /** The AUTH mechanism used (when isAuth). */
  mechanism: SaslMechanism;
  tls: TlsMode;
  /** Whether the server certificate was verified (meaningful with tls). */
  isTlsVerified: boolean;
  isAdminChecked: boolean;
  steps: CheckStep[];
  /** What the EHLO reply offered (the last one heard); undefined when EHLO was not answered. */
  extensions: OfferedExtensions | undefined;
  problems: Problem[];
  warnings: Problem[];
  /** 0, 110 (SMTP side failed) or 112 (only the admin API failed). */
  exitCode: number;
}

/** Runs every step against the target; never throws for what the target does. */
export async function runCheck(options: CheckOptions, onStep?: StepListener): Promise<CheckReport> {
  const adminUrl = normalizeAdminUrl(options.adminUrl);
  const isAuth = options.isAuth ?? true;
  const steps: CheckStep[] = [];
  const emit = (step: CheckStep) => {
    steps.push(step);
    onStep?.(step);
  };
  const probe = await probeSmtp(
    { host: options.host, port: options.port, localAddresses: options.localAddresses },
    { from: options.from, isAuth, password: options.password, isMailChecked: true, timeoutsMs: uniformTimeoutsMs(options.timeoutMs), security: options.security },
    emit,
  );

  const isAdminChecked = options.isAdminChecked ?? true;
  let health: HealthFacts | undefined;
  let accounts: AccountsFacts | undefined;
  if (isAdminChecked) {
    health = readHealth(await probeHttp(`${adminUrl}/health`, options.timeoutMs));
    emit(describeHealthStep(health));
    if (health.http.httpStatus === undefined) {
      emit(skippedStep('accounts', options.from, 'the admin API is unreachable'));
    } else {
      accounts = readAccounts(await probeHttp(`${adminUrl}/admin/accounts`, options.timeoutMs));
      emit(describeAccountsStep(accounts, isAuth ? options.from : undefined, isAuthOk(probe)));
    }
  } else {
    emit(skippedStep('health', options.from, '--no-admin'));
    emit(skippedStep('accounts', options.from, '--no-admin'));
  }

  const sink = options.deliverySink === undefined ? undefined : await checkDeliverySink(options.deliverySink, options.timeoutMs);
  if (sink) emit(sink.step);

  const { problems, warnings } = diagnose({
    host: options.host,
    port: options.port,
    adminUrl,
    probes: [probe],
    health,
    accounts,
    untestedSenders: [],
    isAdminRequired: true,
  });
  if (sink?.problem) problems.push(sink.problem);
  return {
    host: options.host,
    port: options.port,
    from: options.from,
    adminUrl,
    isAuth,
    mechanism: probe.mechanism ?? 'plain',
    tls: probe.tls ?? 'none',
    isTlsVerified: options.security?.isTlsVerified !== false,
    isAdminChecked,
    steps,
    extensions: probe.capabilities === undefined ? undefined : readExtensions(probe.capabilities),
    problems,
    warnings,
    exitCode: checkExitCode(problems),
  };
}
