/**
 * The fast part of `runner check`, before a run's load: per target, connect, greeting, EHLO and
 * AUTH PLAIN with each distinct sender (at most MAX_PREFLIGHT_SENDERS, one connection each),
 * then QUIT. A run against a stopped proxy or with an unconfigured account stops here with one
 * message and its fix, instead of counting thousands of refused connections or 535s.
 *
 * The admin API is only asked when it helps: /health when the SMTP port fails (is the proxy up
 * at all?), /admin/accounts when AUTH is refused (which accounts are configured?) or when the
 * run has more senders than were tried (are they all configured?). Anything wrong with the
 * admin API itself is ignored here: `runner check` reports it.
 *
 * Side effect worth knowing: the proxy refreshes an account's OAuth2 token at its first AUTH,
 * so after the preflight the load no longer sees that one-off delay (`--no-check` keeps it).
 */
import { TargetUnreachableError } from './errors.ts';
import type { ResolvedOptions, ResolvedScenario } from './scenario/resolved.ts';
import { PHASES, type Phase } from './smtp/phases.ts';
import { diagnose, type Problem } from './check/diagnose.ts';
import { normalizeAdminUrl, probeHttp, probeSmtp, readAccounts, readHealth, type AccountsFacts, type HealthFacts, type ProbeSecurity, type SmtpProbe } from './check/steps.ts';

/** Longest wait for connect, greeting and EHLO replies in the preflight, ms: an unreachable target is reported quickly. */
export const PREFLIGHT_TIMEOUT_MS = 10_000;

/** Timeout of the admin requests the preflight makes for its hints, ms. */
export const PREFLIGHT_ADMIN_TIMEOUT_MS = 2_000;

/** Senders tried with AUTH per target; the others are looked up in /admin/accounts. */
export const MAX_PREFLIGHT_SENDERS = 3;

/** What the preflight checks on one target. */
export interface PreflightTarget {
  host: string;
  port: number;
  adminUrl: string;
  /** Whether any scenario on this target authenticates. */
  isAuth: boolean;
  /** Distinct senders of the authenticating scenarios, in scenario and accounts-file order. */
  senders: string[];
  /** Reply timeout per phase, ms: the first scenario's, capped at PREFLIGHT_TIMEOUT_MS except AUTH. */
  timeoutsMs: Record<Phase, number>;
  /** The first scenario's AUTH mechanism, token and TLS settings. @default PLAIN, no TLS */
  security?: ProbeSecurity;
  /** The first scenario's source addresses (--local-ips), round robin with its load. */
  localAddresses?: readonly string[];
}

/** Groups the run's scenarios by target (host:port) with their senders. Pure. */
export function planPreflight(options: ResolvedOptions): PreflightTarget[] {
  const targets = new Map<string, PreflightTarget>();
  for (const scenario of options.scenarios) {
    const key = `${scenario.target.host}:${scenario.target.port}`;
    let target = targets.get(key);
    if (target === undefined) {
      target = {
        host: scenario.target.host,
        port: scenario.target.port,
        adminUrl: normalizeAdminUrl(scenario.target.adminUrl),
        isAuth: false,
        senders: [],
        timeoutsMs: preflightTimeoutsMs(scenario),
        security: probeSecurity(scenario),
        // The preflight connects from the scenario's source addresses too (a per-IP limit sees it)
        ...(scenario.target.localAddresses === undefined ? {} : { localAddresses: scenario.target.localAddresses }),
      };
      targets.set(key, target);
    }
    if (scenario.smtp.auth === 'none') continue;
    target.isAuth = true;
    for (const email of scenario.accounts.emails) {
      const lower = email.toLowerCase();
      if (!target.senders.some((sender) => sender.toLowerCase() === lower)) target.senders.push(email);
    }
  }
  return [...targets.values()];
}

/** How the scenario authenticates and secures its connections, for its probes. */
function probeSecurity(scenario: ResolvedScenario): ProbeSecurity {
  const { auth, token, tls, isTlsVerified, tlsServername, tlsCa, protocol, tlsCert, tlsKey, tlsMinVersion, tlsMaxVersion, tlsCiphers } = scenario.smtp;
  return { auth, token, tls, isTlsVerified, tlsServername, tlsCa, protocol, tlsCert, tlsKey, tlsMinVersion, tlsMaxVersion, tlsCiphers };
}

/** The scenario's timeouts, connect/greeting/EHLO/QUIT capped; AUTH keeps its own (a token refresh may be slow). */
function preflightTimeoutsMs(scenario: ResolvedScenario): Record<Phase, number> {
  const timeoutsMs = {} as Record<Phase, number>;
  for (const phase of PHASES) {
    const own = scenario.smtp.timeoutsMs[phase];
    timeoutsMs[phase] = phase === 'auth' ? own : Math.min(own, PREFLIGHT_TIMEOUT_MS);
  }
  return timeoutsMs;
}

/** Checks one target; returns its problems (empty when the load can start). Never throws for what the target does. */
export async function checkPreflightTarget(target: PreflightTarget): Promise<Problem[]> {
  const senders = target.isAuth ? target.senders : [];
  const tried = senders.slice(0, MAX_PREFLIGHT_SENDERS);
  const probes: SmtpProbe[] = [];
  // Without AUTH one connection checks the target; the address is not sent (no MAIL in the preflight)
  for (const from of tried.length > 0 ? tried : ['preflight@runner.localhost']) {
    const probe = await probeSmtp(target, { from, isAuth: target.isAuth, isMailChecked: false, timeoutsMs: target.timeoutsMs, security: target.security });
    probes.push(probe);
    if (probe.failure !== undefined) break; // one clear message; no need to hammer a failing target
  }
  const failure = probes[probes.length - 1]!.failure;
  const untested = failure === undefined ? senders.slice(tried.length) : [];
  let health: HealthFacts | undefined;
  let accounts: AccountsFacts | undefined;
  if (failure !== undefined && (failure.phase === 'connect' || failure.phase === 'greeting')) {
    health = readHealth(await probeHttp(`${target.adminUrl}/health`, PREFLIGHT_ADMIN_TIMEOUT_MS));
  }
  if (failure?.phase === 'auth' || untested.length > 0) {
    accounts = readAccounts(await probeHttp(`${target.adminUrl}/admin/accounts`, PREFLIGHT_ADMIN_TIMEOUT_MS));
  }
  return diagnose({
    host: target.host,
    port: target.port,
    adminUrl: target.adminUrl,
    probes,
    health,
    accounts,
    untestedSenders: untested,
    isAdminRequired: false,
  }).problems;
}

/**
 * The `runner check` flags that make it talk like this target's probes: mechanism, TLS mode and
 * settings. Secrets and the CA file (only its PEM text is known here) appear as placeholders.
 */
function checkSecurityFlags(target: PreflightTarget): string {
  const security = target.security ?? {};
  let flags = '';
  if (target.isAuth && security.auth === 'xoauth2') flags += ' --auth xoauth2 --token "$TOKEN"';
  else if (target.isAuth && security.auth === 'login') flags += ' --auth login';
  if (security.tls === undefined || security.tls === 'none') return flags;
  flags += ` --tls ${security.tls}`;
  if (security.tlsCa !== undefined) flags += ' --tls-ca FILE';
  if (security.tlsServername !== undefined) flags += ` --tls-servername ${security.tlsServername}`;
  if (security.isTlsVerified === false) flags += ' --insecure-skip-tls-verify';
  return flags;
}

/**
 * Runs the preflight on every target of the run; throws TargetUnreachableError (exit 110) with the
 * first problem and its fix, pointing at `runner check` for the full list of steps.
 */
export async function runPreflight(options: ResolvedOptions): Promise<void> {
  for (const target of planPreflight(options)) {
    const problems = await checkPreflightTarget(target);
    if (problems.length === 0) continue;
    const [first, ...others] = problems as [Problem, ...Problem[]];
    const also = others.length === 0 ? '' : `; also: ${others.map((problem) => problem.message).join('; ')}`;
    const from = first.from ?? target.senders[0];
    const checkCommand = `runner check --host ${target.host} --port ${target.port}${from ? ` --from ${from}` : ' --no-auth'} --admin-url ${target.adminUrl}${checkSecurityFlags(target)}`;
    throw new TargetUnreachableError(
      first.message + also,
      `${first.hint}; see every step: ${checkCommand} (or skip this check with --no-check)`,
    );
  }
}
