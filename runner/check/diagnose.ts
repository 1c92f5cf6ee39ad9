/**
 * What the facts of a check mean, in the guide's terms: each failure becomes a problem that
 * says what failed and the likely fix ("Connection refused to 127.0.0.1:2525 — is the proxy
 * running?", "535 at AUTH for test@example.com: the account is not configured; /admin/accounts
 * lists: …"). Pure functions of the probes' results: tested without sockets.
 */
import { ExitCode } from '../errors.ts';
import type { Failure } from '../smtp/api.ts';
import { isCertificateError, TLS_VERIFY_HINT } from '../smtp/tls.ts';
import {
  formatFailure,
  hasAuthMechanism,
  listsAccount,
  stepTitle,
  type AccountsFacts,
  type CheckStep,
  type CheckStepId,
  type HealthFacts,
  type SmtpProbe,
} from './steps.ts';

/** A finding: what is wrong (or odd) and what to do about it. */
export interface Problem {
  /** The step it was found at. */
  step: CheckStepId;
  /** smtp: the load would fail (or the target is unreachable); admin: only the admin API (or the --delivery sink) is wrong. */
  side: 'smtp' | 'admin';
  /** What failed, in one line. */
  message: string;
  /** The likely fix, in one line. */
  hint: string;
  /** The sender it concerns, when it concerns one (an AUTH refusal, an account missing from /admin/accounts). */
  from?: string;
}

/** Everything the probes found about one target. */
export interface CheckFacts {
  host: string;
  port: number;
  /** Admin base URL, no trailing slash. */
  adminUrl: string;
  /** One SMTP probe per sender tried (one connection each: RFC 4954 §4 allows one AUTH per session). */
  probes: SmtpProbe[];
  /** /health, or undefined when not asked. */
  health: HealthFacts | undefined;
  /** /admin/accounts, or undefined when not asked (or skipped because the admin API is unreachable). */
  accounts: AccountsFacts | undefined;
  /** Senders that should be configured but were not tried with AUTH (a run's other accounts). */
  untestedSenders: readonly string[];
  /** Whether admin failures are problems (`runner check`) or only context for SMTP problems (`runner run`). */
  isAdminRequired: boolean;
}

/** Problems (the check fails) and warnings (it passes, but look). */
export interface Diagnosis {
  problems: Problem[];
  warnings: Problem[];
}

/** The log the guide tails when something fails. */
const PROXY_LOG = '/var/log/xoauth2/xoauth2_proxy.log';

/** At most this many addresses are named in one message. */
const MAX_LISTED = 5;

/** 'a, b, c' or 'a, b, c, d, e, … (12 in all)', or '(none)'. */
export function listAddresses(emails: readonly string[]): string {
  if (emails.length === 0) return '(none)';
  if (emails.length <= MAX_LISTED) return emails.join(', ');
  return `${emails.slice(0, MAX_LISTED).join(', ')}, … (${emails.length} in all)`;
}

/**
 * 0 when there is no problem, 110 (targetUnreachable) when any problem is on the SMTP side,
 * else ExitCode.adminCheckFailed (only the admin API failed).
 */
export function checkExitCode(problems: readonly Problem[]): number {
  if (problems.length === 0) return ExitCode.ok;
  return problems.some((problem) => problem.side === 'smtp') ? ExitCode.targetUnreachable : ExitCode.adminCheckFailed;
}

/** Turns the facts into problems and warnings, each with its fix. */
export function diagnose(facts: CheckFacts): Diagnosis {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  for (const probe of facts.probes) {
    if (probe.failure !== undefined) {
      const problem = explainSmtpFailure(facts, probe, probe.failure);
      if (problem.step === 'auth' || problem.step === 'mail') problem.from = probe.from;
      problems.push(problem);
    }
    const ehloWarning = probe.steps.find((step) => step.id === 'ehlo' && step.status === 'warn');
    const authFailed = probe.failure?.phase === 'auth';
    if (ehloWarning && !authFailed) {
      warnings.push({
        step: 'ehlo',
        side: 'smtp',
        message: `${where(facts)} does not offer AUTH ${mechanismName(probe)} in its EHLO reply`,
        hint: `AUTH worked anyway here${offeredNote(probe)}; for a server without authentication (smtp-sink) use --no-auth`,
      });
    }
    const quitWarning = probe.steps.find((step) => step.id === 'quit' && step.status === 'warn');
    if (quitWarning) {
      warnings.push({
        step: 'quit',
        side: 'smtp',
        message: `QUIT was not answered cleanly: ${quitWarning.detail}`,
        hint: `harmless for the check; if the proxy drops sessions at QUIT under load, its log says why: tail -f ${PROXY_LOG}`,
      });
    }
  }
  const smtpConnectFailed = facts.probes.some((probe) => probe.failure?.phase === 'connect');
  if (facts.isAdminRequired && facts.health !== undefined) {
    const problem = explainHealth(facts, facts.health, smtpConnectFailed);
    if (problem) problems.push(problem);
  }
  if (facts.accounts !== undefined) {
    const found = explainAccounts(facts, facts.accounts);
    problems.push(...found.problems);
    warnings.push(...found.warnings);
  }
  return { problems, warnings };
}

function where(facts: CheckFacts): string {
  return `${facts.host}:${facts.port}`;
}

/** The probe's AUTH mechanism as SMTP writes it: 'PLAIN', 'LOGIN', 'XOAUTH2'. */
function mechanismName(probe: SmtpProbe): string {
  return (probe.mechanism ?? 'plain').toUpperCase();
}

/** '; it offers AUTH LOGIN PLAIN (--auth login, --auth plain)' when EHLO lists mechanisms runner speaks, else ''. */
function offeredNote(probe: SmtpProbe): string {
  const offered = probe.capabilities?.get('AUTH');
  if (!offered) return '';
  const usable = offered.toLowerCase().split(/\s+/).filter((name) => name === 'plain' || name === 'login' || name === 'xoauth2');
  return `; it offers AUTH ${offered}${usable.length === 0 ? '' : ` (${usable.map((name) => `--auth ${name}`).join(', ')})`}`;
}

/** What the admin API says, to append to a connect problem's hint (the guide's first debug step is curl /health). */
function healthNote(facts: CheckFacts): string {
  const health = facts.health;
  const url = `${facts.adminUrl}/health`;
  if (health === undefined) return `check it: curl ${url}`;
  if (health.http.httpStatus === undefined) return `health endpoint unreachable (${url}: ${health.http.error})`;
  return `yet ${url} answers, so the proxy runs: is ${facts.port} really its SMTP port (its --port)? see what listens: ss -ltnp`;
}

function startProxyHint(facts: CheckFacts): string {
  return `start it with \`python xoauth2_proxy_v2.py --config accounts.json --port ${facts.port}\` (or try \`runner fixture\`)`;
}

/** A failed SMTP step → what failed and its likely fix. */
export function explainSmtpFailure(facts: CheckFacts, probe: SmtpProbe, failure: Failure): Problem {
  const at = where(facts);
  const what = formatFailure(failure);
  switch (failure.phase) {
    case 'connect':
      switch (failure.error) {
        case 'ECONNREFUSED':
          return { step: 'connect', side: 'smtp', message: `Connection refused to ${at} — is the proxy running?`, hint: `${startProxyHint(facts)}; ${healthNote(facts)}` };
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
          return { step: 'connect', side: 'smtp', message: `Host ${facts.host} does not resolve (${failure.error})`, hint: 'check the --host spelling, or use an IP address such as 127.0.0.1' };
        case 'EHOSTUNREACH':
        case 'ENETUNREACH':
          return { step: 'connect', side: 'smtp', message: `${at} is unreachable (${failure.error})`, hint: `check the host address and the network route; ${healthNote(facts)}` };
        case 'TIMEOUT':
          return { step: 'connect', side: 'smtp', message: `No TCP connection to ${at}: ${failure.text}`, hint: `a firewall may drop the packets, or the host is down: check --host and --port; ${healthNote(facts)}` };
        default:
          return { step: 'connect', side: 'smtp', message: `Cannot connect to ${at}: ${what}`, hint: `check --host and --port; ${healthNote(facts)}` };
      }
    case 'greeting':
      if (failure.code === 421) {
        return {
          step: 'greeting',
          side: 'smtp',
          message: `${at} greeted with ${what} instead of 220`,
          hint: `the proxy refuses new sessions (at its connection limit, or shutting down): wait and retry, lower --concurrent, and check its log: tail -f ${PROXY_LOG}`,
        };
      }
      if (failure.code !== undefined) {
        return { step: 'greeting', side: 'smtp', message: `${at} greeted with ${what} instead of 220`, hint: `is ${facts.port} the proxy's SMTP --port (2525 in the guide), not another service?` };
      }
      if (failure.error === 'TIMEOUT') {
        return {
          step: 'greeting',
          side: 'smtp',
          message: `No greeting from ${at}: ${failure.text}`,
          hint: `the port accepts connections but does not greet: is it the SMTP port (not the admin port)? is the proxy overloaded? ${healthNote(facts)}`,
        };
      }
      if (failure.error === 'PROTOCOL') {
        return { step: 'greeting', side: 'smtp', message: `${at} does not speak SMTP: ${failure.text}`, hint: `is ${facts.port} the proxy's SMTP --port, not its admin HTTP port?` };
      }
      return {
        step: 'greeting',
        side: 'smtp',
        message: `${at} closed the connection before greeting (${what})`,
        hint: `the proxy may be at its connection limit or failing on new sessions: check its log: tail -f ${PROXY_LOG}`,
      };
    case 'tls':
      return explainTlsFailure(facts, probe, failure);
    case 'ehlo':
      // RFC 2033 §4.1: an LMTP server answers LHLO; an SMTP server does not know the command
      if (probe.protocol === 'lmtp') {
        const isUnknownCommand = failure.code === 500 || failure.code === 502;
        return {
          step: 'ehlo',
          side: 'smtp',
          message: `LHLO failed at ${at}: ${what}`,
          hint: isUnknownCommand
            ? `the server at ${at} does not speak LMTP (RFC 2033), likely SMTP: drop --protocol lmtp (protocol: 'lmtp' in the scenario), or give the port of an LMTP server`
            : `the server does not accept LHLO from runner: check its log`,
        };
      }
      return { step: 'ehlo', side: 'smtp', message: `EHLO failed at ${at}: ${what}`, hint: `the server does not accept EHLO from runner: check its log: tail -f ${PROXY_LOG}` };
    case 'auth':
      return explainAuthFailure(facts, probe, failure);
    case 'mail':
    case 'rset':
      return {
        step: 'mail',
        side: 'smtp',
        message: `${failure.phase === 'mail' ? `MAIL FROM:<${probe.from}>` : 'RSET'} failed at ${at}: ${what}`,
        hint: !probe.isAuth
          ? // RFC 4954 §6: 530 = authentication required; the check was told to skip AUTH
            failure.code === 530
            ? 'the server wants AUTH before MAIL (530) and the check skipped it (--no-auth / --auth none): drop that flag (AUTH PLAIN as --from is the default)'
            : `the server refuses the envelope without AUTH (the check skipped it: --no-auth / --auth none): try with AUTH, or look for errors: tail -f ${PROXY_LOG} | grep -i "error"`
          : `the proxy accepted AUTH but refuses the envelope: is --from the authenticated account? look for errors: tail -f ${PROXY_LOG} | grep -i "error"`,
      };
    default:
      return { step: 'quit', side: 'smtp', message: `${failure.phase} failed at ${at}: ${what}`, hint: `check the proxy's log: tail -f ${PROXY_LOG}` };
  }
}

/**
 * TLS failures (--tls): a refused certificate gets the remedy `runner run` gives (TLS_VERIFY_HINT);
 * a server without STARTTLS, a refused STARTTLS and a failed handshake say which --tls to try.
 */
function explainTlsFailure(facts: CheckFacts, probe: SmtpProbe, failure: Failure): Problem {
  const at = where(facts);
  const what = formatFailure(failure);
  const isImplicit = probe.tls === 'implicit';
  const problem = (message: string, hint: string): Problem => ({ step: 'tls', side: 'smtp', message, hint });
  if (failure.error !== undefined && isCertificateError(failure.error)) return problem(`TLS with ${at} failed: ${what}`, TLS_VERIFY_HINT);
  if (failure.error === 'STARTTLS_NOT_OFFERED') {
    return problem(
      `${at} does not offer STARTTLS in its EHLO reply`,
      'for a port-465-style server (TLS from the first byte) use --tls implicit; for a plain-text server, such as the guide\'s proxy, use --tls none',
    );
  }
  if (failure.code !== undefined) {
    return problem(`STARTTLS refused at ${at}: ${what}`, `the server cannot start TLS now: check its TLS setup and its log (tail -f ${PROXY_LOG}), or use --tls none`);
  }
  const message = failure.error === 'TIMEOUT' ? `No TLS handshake with ${at}: ${what}` : `TLS handshake with ${at} failed: ${what}`;
  if (isImplicit) {
    return problem(message, `is ${facts.port} an implicit-TLS port (port 465 style)? for a plain-text server use --tls none, or --tls starttls if its EHLO offers STARTTLS`);
  }
  return problem(message, `the server answered STARTTLS but the handshake failed: check its TLS setup (certificate, protocol versions) and its log: tail -f ${PROXY_LOG}`);
}

/** Whether the probe's AUTH was answered with success. */
export function isAuthOk(probe: SmtpProbe): boolean {
  return probe.steps.some((step) => step.id === 'auth' && step.status === 'ok');
}

/** 535 (the real proxy) or 454 (what the guide says) at AUTH: the proxy's answer for an account it does not know. */
function isUnknownAccountReply(failure: Failure): boolean {
  return failure.phase === 'auth' && (failure.code === 535 || failure.code === 454);
}

/** AUTH failures: the guide's "All Requests Failed" (account not configured), or credentials, or no AUTH PLAIN. */
function explainAuthFailure(facts: CheckFacts, probe: SmtpProbe, failure: Failure): Problem {
  const from = probe.from;
  const what = formatFailure(failure);
  const emails = facts.accounts?.emails;
  const grepLog = `tail -f ${PROXY_LOG} | grep -i "auth\\|error"`;
  const mechanism = mechanismName(probe);
  // RFC 7628 §3.2.2: the error challenge before the 535 says the token itself was refused
  if (probe.mechanism === 'xoauth2' && failure.text.includes('XOAUTH2 token refused')) {
    return {
      step: 'auth',
      side: 'smtp',
      message: `XOAUTH2 bearer token refused for ${from}: ${what}`,
      hint: 'pass a valid, unexpired access token for this account with --token (e.g. --token "$TOKEN"; OAuth2 access tokens usually expire within an hour)',
    };
  }
  if (isUnknownAccountReply(failure)) {
    if (emails !== undefined && listsAccount(emails, from)) {
      return {
        step: 'auth',
        side: 'smtp',
        message: `${failure.code} at AUTH for ${from}: the account is configured (listed by /admin/accounts) but authentication failed`,
        hint: `its OAuth2 credentials may be invalid or expired (client_id, client_secret, refresh_token): authorize it again; see why: ${grepLog}`,
      };
    }
    let listNote = '';
    if (emails !== undefined) listNote = `; /admin/accounts lists: ${listAddresses(emails)}`;
    else if (facts.accounts?.http.error !== undefined) listNote = `; /admin/accounts unreachable (${facts.accounts.http.error})`;
    const suggestion = emails !== undefined && emails.length > 0 ? ` such as ${emails[0]}` : '';
    return {
      step: 'auth',
      side: 'smtp',
      message: `${failure.code} at AUTH for ${from}: the account is not configured${listNote}`,
      hint: `add ${from} to accounts.json (with its OAuth2 credentials) and restart the proxy, or use --from with a configured account${suggestion}; check: curl ${facts.adminUrl}/admin/accounts`,
    };
  }
  if (failure.error === 'TIMEOUT') {
    return {
      step: 'auth',
      side: 'smtp',
      message: `No answer to AUTH for ${from} at ${where(facts)}: ${failure.text}`,
      hint: `the proxy refreshes the OAuth2 token at the first AUTH and a slow provider delays it: retry, or raise --timeout; see why: ${grepLog}`,
    };
  }
  const capabilities = probe.capabilities;
  if (capabilities !== undefined && !hasAuthMechanism(capabilities, probe.mechanism ?? 'plain')) {
    // Many servers offer AUTH only once TLS is up (RFC 3207 §4.2 lets the EHLO reply change)
    const tlsNote = (probe.tls ?? 'none') === 'none' && capabilities.has('STARTTLS') ? '; it offers STARTTLS and may allow AUTH only over TLS: try --tls starttls' : '';
    return {
      step: 'auth',
      side: 'smtp',
      message: `AUTH ${mechanism} refused for ${from}: ${what}`,
      hint: `the server does not offer AUTH ${mechanism} (its EHLO lists ${[...capabilities.keys()].join(', ') || 'no extensions'})${offeredNote(probe)}${tlsNote}; for a server without authentication use --no-auth`,
    };
  }
  return { step: 'auth', side: 'smtp', message: `AUTH ${mechanism} failed for ${from}: ${what}`, hint: `see why in the proxy's log: ${grepLog}` };
}

/** /health problems, for `runner check` only. A refused SMTP connect already names an unreachable health endpoint. */
function explainHealth(facts: CheckFacts, health: HealthFacts, smtpConnectFailed: boolean): Problem | undefined {
  const url = health.http.url;
  if (health.http.httpStatus === undefined) {
    if (smtpConnectFailed) return undefined;
    return {
      step: 'health',
      side: 'admin',
      message: `health endpoint unreachable: ${url} (${health.http.error})`,
      hint: `the SMTP side answers, so the admin API is elsewhere: pass --admin-url with the proxy's admin address (http://127.0.0.1:9090 in the guide), or --no-admin to skip it`,
    };
  }
  if (health.isHealthy) return undefined;
  if (health.http.httpStatus === 404) {
    return { step: 'health', side: 'admin', message: `${url} answered HTTP 404`, hint: `is --admin-url the proxy's admin API? it answers GET /health with {"status": "healthy", …}` };
  }
  return {
    step: 'health',
    side: 'admin',
    message: `${url} answered ${health.problem ?? 'something else'} (HTTP ${health.http.httpStatus}) instead of {"status": "healthy"}`,
    hint: `the proxy reports a problem: check its log: tail -f ${PROXY_LOG}`,
  };
}

/** /admin/accounts: unreadable answers, and senders it does not list. */
function explainAccounts(facts: CheckFacts, accounts: AccountsFacts): Diagnosis {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const url = accounts.http.url;
  if (accounts.emails === undefined) {
    if (!facts.isAdminRequired) return { problems, warnings };
    const reason = accounts.http.httpStatus === undefined ? `unreachable (${accounts.http.error})` : `answered ${accounts.problem}`;
    problems.push({ step: 'accounts', side: 'admin', message: `${url} ${reason}`, hint: `is --admin-url the proxy's admin API? it answers GET /admin/accounts with {"accounts": [{"email": …}, …]}` });
    return { problems, warnings };
  }
  const emails = accounts.emails;
  const authOk = facts.probes.filter(isAuthOk);
  const unlistedButOk = authOk.filter((probe) => !listsAccount(emails, probe.from));
  if (unlistedButOk.length > 0) {
    // AUTH is the truth; a list that misses an account that authenticates belongs to another proxy
    warnings.push({
      step: 'accounts',
      side: 'admin',
      message: `${unlistedButOk.map((p) => p.from).join(', ')} authenticated, yet /admin/accounts does not list it (it lists: ${listAddresses(emails)})`,
      hint: `is --admin-url (${facts.adminUrl}) the admin API of the proxy at ${where(facts)}?`,
    });
    return { problems, warnings };
  }
  // Senders AUTH said nothing about (an earlier step failed, or a timeout), and a run's other accounts;
  // a 535/454 at AUTH is already explained with the list
  const untried = [
    ...facts.probes
      .filter((probe) => probe.isAuth && !isAuthOk(probe) && !(probe.failure !== undefined && isUnknownAccountReply(probe.failure)))
      .map((probe) => probe.from),
    ...facts.untestedSenders,
  ];
  const missing = untried.filter((email) => !listsAccount(emails, email));
  if (missing.length > 0) {
    const total = untried.length + authOk.length;
    const subject = missing.length === 1 && total === 1 ? `${missing[0]} is` : `${missing.length} of ${total} senders are`;
    problems.push({
      step: 'accounts',
      side: 'smtp',
      message: `${subject} not configured on the proxy${missing.length === 1 && total === 1 ? '' : `: ${listAddresses(missing)}`}; /admin/accounts lists: ${listAddresses(emails)}`,
      from: missing[0],
      hint: `add ${missing.length === 1 ? 'it' : 'them'} to accounts.json (with OAuth2 credentials) and restart the proxy, or send from configured accounts (--from, or the scenario's accounts file)`,
    });
  }
  return { problems, warnings };
}

/** The /health line of a check. */
export function describeHealthStep(health: HealthFacts): CheckStep {
  const http = health.http;
  const base = { id: 'health' as const, title: stepTitle('health', ''), durationMs: http.durationMs };
  if (http.httpStatus === undefined) return { ...base, status: 'fail', detail: `unreachable: ${http.error}` };
  if (health.isHealthy) return { ...base, status: 'ok', detail: `healthy${health.service ? ` (${health.service})` : ''}` };
  return { ...base, status: 'fail', detail: `HTTP ${http.httpStatus}: ${health.problem ?? 'not healthy'}` };
}

/** The /admin/accounts line of a check: how many accounts, and whether the sender is among them. */
export function describeAccountsStep(accounts: AccountsFacts, from: string | undefined, authOk: boolean): CheckStep {
  const http = accounts.http;
  const base = { id: 'accounts' as const, title: stepTitle('accounts', ''), durationMs: http.durationMs };
  if (http.httpStatus === undefined) return { ...base, status: 'fail', detail: `unreachable: ${http.error}` };
  if (accounts.emails === undefined) return { ...base, status: 'fail', detail: accounts.problem ?? `HTTP ${http.httpStatus}` };
  const count = `${accounts.emails.length} account${accounts.emails.length === 1 ? '' : 's'}`;
  if (from === undefined) return { ...base, status: 'ok', detail: count };
  if (listsAccount(accounts.emails, from)) return { ...base, status: 'ok', detail: `${count}, ${from} among them` };
  return { ...base, status: authOk ? 'warn' : 'fail', detail: `${count}, ${from} not among them` };
}
