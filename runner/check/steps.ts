/**
 * The probes behind `runner check` and the preflight of `runner run`: the guide's debug steps
 * ("Troubleshooting", "Interpreting Results": telnet, EHLO, AUTH PLAIN, curl /health, curl
 * /admin/accounts) done by the program. Each probe returns plain facts and timed steps; what
 * the facts mean, and what to do about them, is diagnose.ts's job.
 *
 * The SMTP probe drives the load's own SmtpSession through its step API (read-only use, with a
 * recorder that only keeps phase times), so a check talks to the server exactly like the load will.
 */
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { SmtpSession, type SessionRecorder, type SessionTarget } from '../smtp/session.ts';
import { SmtpStepError, type Failure, type Reply } from '../smtp/api.ts';
import { PHASES, PHASE_INDEX, type Phase } from '../smtp/phases.ts';
import type { ResolvedSmtp } from '../scenario/resolved.ts';
import { DEFAULTS } from '../scenario/defaults.ts';

/** The steps of a check, in the order they run and print. */
export const CHECK_STEP_IDS = ['connect', 'greeting', 'ehlo', 'auth', 'mail', 'quit', 'health', 'accounts'] as const;

/** One step of a check. */
export type CheckStepId = (typeof CHECK_STEP_IDS)[number];

/** ok; warn (works, but something deserves a look); fail; skip (not tried: a step it needs failed, or not asked for). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One printed line of a check. */
export interface CheckStep {
  id: CheckStepId;
  /** What a person reads, e.g. 'AUTH PLAIN as test@example.com'. */
  title: string;
  status: CheckStatus;
  /** Time the step took, milliseconds; undefined when skipped. */
  durationMs: number | undefined;
  /** One line: the reply, the capabilities, or why the step was skipped. */
  detail: string;
}

/** Called as each step finishes, so a person sees progress against a slow server. */
export type StepListener = (step: CheckStep) => void;

/** Options of one SMTP probe (one connection). */
export interface SmtpProbeOptions {
  /** AUTH user and MAIL FROM address. */
  from: string;
  /** Send AUTH PLAIN (false: plain SMTP servers such as smtp-sink). */
  isAuth: boolean;
  /** AUTH PLAIN password (the proxy ignores it). @default DEFAULTS.password */
  password?: string;
  /** Send MAIL FROM then RSET (nothing is sent). */
  isMailChecked: boolean;
  /** Reply timeout per phase, milliseconds. */
  timeoutsMs: Record<Phase, number>;
  /** The run's AUTH mechanism, token and TLS settings (issue 6), so the probe speaks as the load will. @default PLAIN, no TLS */
  security?: ProbeSecurity;
}

/** The settings of a scenario's smtp that change how a probe talks (mechanism, secrets, TLS). */
export type ProbeSecurity = Partial<Pick<ResolvedSmtp, 'auth' | 'token' | 'tls' | 'isTlsVerified' | 'tlsServername' | 'tlsCa'>>;

/** What one SMTP probe found. */
export interface SmtpProbe {
  from: string;
  isAuth: boolean;
  steps: CheckStep[];
  /** The first failure, or undefined when every tried step succeeded. */
  failure: Failure | undefined;
  /** EHLO keywords (upper case) → parameters; undefined when EHLO was not answered. */
  capabilities: ReadonlyMap<string, string> | undefined;
}

/** What an admin GET found. */
export interface HttpProbe {
  url: string;
  /** HTTP status, undefined when there was no answer. */
  httpStatus: number | undefined;
  /** The body (first 64 KiB), undefined when there was no answer. */
  body: string | undefined;
  /** Why there was no answer ('ECONNREFUSED', 'TIMEOUT', …), undefined when there was one. */
  error: string | undefined;
  durationMs: number;
}

/** Largest admin body read, bytes: /admin/accounts of a big proxy fits, a runaway answer does not. */
const MAX_ADMIN_BODY_CHARS = 65_536;

/** Title of each SMTP step; AUTH names its user. */
export function stepTitle(id: CheckStepId, from: string): string {
  switch (id) {
    case 'connect': return 'TCP connect';
    case 'greeting': return 'greeting';
    case 'ehlo': return 'EHLO';
    case 'auth': return `AUTH PLAIN as ${from}`;
    case 'mail': return 'MAIL FROM / RSET (nothing sent)';
    case 'quit': return 'QUIT';
    case 'health': return 'GET /health';
    case 'accounts': return 'GET /admin/accounts';
  }
}

/** A step that was not tried, and why (`reason` follows 'skipped: '). */
export function skippedStep(id: CheckStepId, from: string, reason: string): CheckStep {
  return { id, title: stepTitle(id, from), status: 'skip', durationMs: undefined, detail: `skipped: ${reason}` };
}

/** Every phase's timeout set to `timeoutMs`. */
export function uniformTimeoutsMs(timeoutMs: number): Record<Phase, number> {
  return Object.fromEntries(PHASES.map((phase) => [phase, timeoutMs])) as Record<Phase, number>;
}

/** A reply as one line: '235 2.7.0 Authentication successful'. */
export function formatReply(reply: Pick<Reply, 'code' | 'enhanced' | 'lines'>): string {
  return `${reply.code}${reply.enhanced ? ' ' + reply.enhanced : ''} ${reply.lines[0] ?? ''}`.trimEnd();
}

/** A failure as one line: the reply when there was one, else the socket error or what happened. */
export function formatFailure(failure: Failure): string {
  if (failure.code !== undefined) return `${failure.code}${failure.enhanced ? ' ' + failure.enhanced : ''} ${failure.text}`.trimEnd();
  // Socket errors (ECONNREFUSED, …) say it all in their code; TIMEOUT/CLOSED/PROTOCOL in their text
  if (failure.error !== undefined && failure.error.startsWith('E')) return failure.error;
  return failure.text;
}

/** Keeps the last duration of each phase; the rest of what a session reports does not matter to a check. */
class PhaseTimes implements SessionRecorder {
  readonly durationUs: (number | undefined)[] = PHASES.map(() => undefined);
  connectionOpened(): void {}
  phase(phaseIndex: number, durationUs: number): void {
    this.durationUs[phaseIndex] = durationUs;
  }
  accepted(): void {}
  failed(): void {}
  afterAcceptError(): void {}
  connectionClosed(): void {}
}

/** Which step a session phase belongs to (MAIL and RSET are one step). */
function stepOfPhase(phase: Phase): CheckStepId {
  switch (phase) {
    case 'connect':
    case 'greeting':
    case 'ehlo':
    case 'auth':
    case 'quit':
      return phase;
    default:
      return 'mail';
  }
}

function failureOf(error: unknown): Failure {
  if (error instanceof SmtpStepError) return error.failure;
  return { phase: 'connect', error: 'ERROR', text: (error as Error)?.message ?? String(error) };
}

/** EHLO keywords as one line: 'AUTH PLAIN · SIZE 52428800 · 8BITMIME'. */
function formatCapabilities(capabilities: ReadonlyMap<string, string>): string {
  if (capabilities.size === 0) return 'no extensions';
  const parts: string[] = [];
  for (const [keyword, parameters] of capabilities) parts.push(parameters ? `${keyword} ${parameters}` : keyword);
  return parts.join(' · ');
}

/** Whether EHLO offers AUTH with the PLAIN mechanism (RFC 4954 §3: `AUTH mech mech …`). */
export function hasAuthPlain(capabilities: ReadonlyMap<string, string>): boolean {
  const mechanisms = capabilities.get('AUTH');
  return mechanisms !== undefined && mechanisms.toUpperCase().split(/\s+/).includes('PLAIN');
}

/** The EHLO line: the keywords, then what matters to a load test (SIZE, PIPELINING, STARTTLS, AUTH PLAIN). */
function describeEhlo(capabilities: ReadonlyMap<string, string>, isAuth: boolean): { detail: string; isWarn: boolean } {
  const notes: string[] = [];
  const size = Number(capabilities.get('SIZE'));
  // RFC 1870: SIZE 0 (or no parameter) means no fixed limit
  if (capabilities.has('SIZE')) notes.push(size > 0 ? `messages up to ${formatBytes(size)}` : 'no fixed size limit');
  notes.push(capabilities.has('PIPELINING') ? 'PIPELINING offered (runner sends one command at a time)' : 'no PIPELINING');
  notes.push(capabilities.has('STARTTLS') ? 'STARTTLS offered (runner stays in plain text)' : 'no STARTTLS');
  const isWarn = isAuth && !hasAuthPlain(capabilities);
  if (isWarn) notes.unshift(capabilities.has('AUTH') ? `AUTH PLAIN not offered (only ${capabilities.get('AUTH') || 'no mechanism'})` : 'AUTH not offered');
  return { detail: `${formatCapabilities(capabilities)}; ${notes.join(', ')}`, isWarn };
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/**
 * One SMTP connection through the guide's manual test: connect, greeting, EHLO, AUTH PLAIN,
 * optionally MAIL FROM + RSET (no message is sent), QUIT. Steps after a failure are skipped;
 * QUIT is still sent when the connection survived the failure. Never throws.
 */
export async function probeSmtp(target: SessionTarget, options: SmtpProbeOptions, onStep?: StepListener): Promise<SmtpProbe> {
  const smtp: ResolvedSmtp = {
    from: options.from,
    to: [options.from],
    auth: options.isAuth ? 'plain' : 'none',
    password: options.password ?? DEFAULTS.password,
    ehloName: DEFAULTS.ehloName,
    messageSize: 0,
    messagesPerConnection: 1,
    timeoutsMs: options.timeoutsMs,
  };
  if (options.security !== undefined) {
    const { auth, ...rest } = options.security;
    Object.assign(smtp, rest);
    if (options.isAuth && auth !== undefined && auth !== 'none') smtp.auth = auth;
  }
  const times = new PhaseTimes();
  const session = new SmtpSession(target, smtp, times);
  const probe: SmtpProbe = { from: options.from, isAuth: options.isAuth, steps: [], failure: undefined, capabilities: undefined };
  const push = (id: CheckStepId, status: CheckStatus, durationMs: number | undefined, detail: string) => {
    const step: CheckStep = { id, title: stepTitle(id, options.from), status, durationMs, detail };
    probe.steps.push(step);
    onStep?.(step);
  };
  /** Shows every SMTP step after `failedAt` but QUIT (quitPolitely decides) as skipped with `reason`. */
  const skipAfter = (failedAt: CheckStepId, reason: string) => {
    const order: CheckStepId[] = ['connect', 'greeting', 'ehlo', 'auth', 'mail'];
    for (const id of order.slice(order.indexOf(failedAt) + 1)) {
      if (id === 'auth' && !options.isAuth) push('auth', 'skip', undefined, 'skipped: --no-auth');
      else if (id === 'mail' && !options.isMailChecked) continue;
      else push(id, 'skip', undefined, `skipped: ${reason}`);
    }
  };
  const fail = (error: unknown, startedMs: number): CheckStepId => {
    const failure = failureOf(error);
    probe.failure = failure;
    const id = stepOfPhase(failure.phase);
    push(id, 'fail', performance.now() - startedMs, formatFailure(failure));
    return id;
  };

  try {
    // connect + greeting are one session step; the recorder's connect time splits them
    let startedMs = performance.now();
    try {
      const greeting = await session.connect();
      const totalMs = performance.now() - startedMs;
      const connectMs = (times.durationUs[PHASE_INDEX.connect] ?? 0) / 1000;
      push('connect', 'ok', connectMs, `${target.host}:${target.port}`);
      push('greeting', 'ok', totalMs - connectMs, formatReply(greeting));
    } catch (error) {
      const failure = failureOf(error);
      if (failure.phase !== 'connect') {
        const connectUs = times.durationUs[PHASE_INDEX.connect];
        if (connectUs !== undefined) {
          push('connect', 'ok', connectUs / 1000, `${target.host}:${target.port}`);
          startedMs += connectUs / 1000;
        }
      }
      const id = fail(error, startedMs);
      skipAfter(id, id === 'connect' ? 'no connection' : 'no SMTP session');
      return probe;
    }

    startedMs = performance.now();
    try {
      await session.ehlo();
      probe.capabilities = session.capabilities;
      const { detail, isWarn } = describeEhlo(session.capabilities, options.isAuth);
      push('ehlo', isWarn ? 'warn' : 'ok', performance.now() - startedMs, detail);
    } catch (error) {
      skipAfter(fail(error, startedMs), 'EHLO failed');
      return probe;
    }

    if (options.isAuth) {
      startedMs = performance.now();
      try {
        const reply = await session.auth(options.from);
        push('auth', 'ok', performance.now() - startedMs, formatReply(reply));
      } catch (error) {
        skipAfter(fail(error, startedMs), 'AUTH failed');
        return probe;
      }
    } else {
      push('auth', 'skip', undefined, 'skipped: --no-auth');
    }

    if (options.isMailChecked) {
      startedMs = performance.now();
      try {
        const mail = await session.mail(options.from);
        const rset = await session.rset();
        push('mail', 'ok', performance.now() - startedMs, `MAIL ${formatReply(mail)}, then RSET ${formatReply(rset)}`);
      } catch (error) {
        fail(error, startedMs);
        return probe;
      }
    }
    return probe;
  } finally {
    await quitPolitely(session, probe, push);
  }
}

/** QUIT when the connection is still open (a failed MAIL keeps it); shown as skipped otherwise. */
async function quitPolitely(
  session: SmtpSession,
  probe: SmtpProbe,
  push: (id: CheckStepId, status: CheckStatus, durationMs: number | undefined, detail: string) => void,
): Promise<void> {
  if (!session.isConnected) {
    const wasConnected = probe.steps.some((step) => step.id === 'connect' && step.status === 'ok');
    push('quit', 'skip', undefined, wasConnected ? 'skipped: the connection is closed' : 'skipped: no connection');
    return;
  }
  const startedMs = performance.now();
  try {
    const reply = await session.quit();
    push('quit', 'ok', performance.now() - startedMs, formatReply(reply));
  } catch (error) {
    // The work was done: a server that fumbles QUIT deserves a look, not a failed check
    push('quit', 'warn', performance.now() - startedMs, formatFailure(failureOf(error)));
  } finally {
    session.close();
  }
}

/** The admin base URL without a trailing slash, so paths join cleanly. */
export function normalizeAdminUrl(adminUrl: string): string {
  return adminUrl.replace(/\/+$/, '');
}

/**
 * GET `url` with a timeout; never throws: no answer comes back as `error`. node:http rather than
 * fetch(): fetch refuses some ports outright ("bad port") and keeps pooled sockets open after.
 */
export function probeHttp(url: string, timeoutMs: number): Promise<HttpProbe> {
  const startedMs = performance.now();
  return new Promise((resolve) => {
    let isSettled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (httpStatus: number | undefined, body: string | undefined, error: string | undefined) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      resolve({ url, httpStatus, body, error, durationMs: performance.now() - startedMs });
    };
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      settle(undefined, undefined, 'invalid URL');
      return;
    }
    const get = parsed.protocol === 'https:' ? httpsGet : parsed.protocol === 'http:' ? httpGet : undefined;
    if (get === undefined) {
      settle(undefined, undefined, `unsupported protocol ${parsed.protocol}`);
      return;
    }
    // One deadline for the whole exchange (connect, headers, body)
    timer = setTimeout(() => {
      request.destroy();
      settle(undefined, undefined, `TIMEOUT (no answer within ${timeoutMs} ms)`);
    }, timeoutMs);
    const request = get(parsed, { agent: false, headers: { accept: 'application/json' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < MAX_ADMIN_BODY_CHARS) body += chunk;
      });
      response.on('end', () => settle(response.statusCode, body.slice(0, MAX_ADMIN_BODY_CHARS), undefined));
      response.on('error', (error: NodeJS.ErrnoException) => settle(undefined, undefined, error.code ?? error.message));
    });
    request.on('error', (error: NodeJS.ErrnoException) => settle(undefined, undefined, error.code ?? error.message));
  });
}

/** The health verdict of a /health answer: healthy when the JSON says `"status": "healthy"`. */
export interface HealthFacts {
  http: HttpProbe;
  isHealthy: boolean;
  /** The service name the proxy gives, when it gives one. */
  service: string | undefined;
  /** The `status` field when it is not 'healthy' (e.g. 'degraded'), or a note on an odd body. */
  problem: string | undefined;
}

/** Reads a /health answer (expected: `{"status": "healthy", "service": "xoauth2-proxy-admin"}`). */
export function readHealth(http: HttpProbe): HealthFacts {
  const facts: HealthFacts = { http, isHealthy: false, service: undefined, problem: undefined };
  if (http.httpStatus === undefined) return facts;
  let data: unknown;
  try {
    data = JSON.parse(http.body ?? '');
  } catch {
    facts.problem = `not JSON: ${oneLine(http.body ?? '')}`;
    return facts;
  }
  const record = data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  if (typeof record['service'] === 'string') facts.service = record['service'];
  const isOk = http.httpStatus >= 200 && http.httpStatus < 300;
  if (record['status'] === 'healthy' && isOk) facts.isHealthy = true;
  else if (record['status'] === 'healthy') facts.problem = `"healthy" with HTTP ${http.httpStatus}`;
  else if (typeof record['status'] === 'string') facts.problem = `status "${record['status']}"`;
  else facts.problem = `no "status" in ${oneLine(http.body ?? '')}`;
  return facts;
}

/** The accounts a /admin/accounts answer lists. */
export interface AccountsFacts {
  http: HttpProbe;
  /** The configured emails, in the proxy's order; undefined when the answer could not be read. */
  emails: string[] | undefined;
  /** Why the answer could not be read. */
  problem: string | undefined;
}

/** Reads a /admin/accounts answer: `{"accounts": [{"email": …}, …]}` (the real proxy) or a bare array. */
export function readAccounts(http: HttpProbe): AccountsFacts {
  const facts: AccountsFacts = { http, emails: undefined, problem: undefined };
  if (http.httpStatus === undefined) return facts;
  if (http.httpStatus < 200 || http.httpStatus >= 300) {
    facts.problem = `HTTP ${http.httpStatus}`;
    return facts;
  }
  let data: unknown;
  try {
    data = JSON.parse(http.body ?? '');
  } catch {
    facts.problem = `not JSON: ${oneLine(http.body ?? '')}`;
    return facts;
  }
  const list = Array.isArray(data)
    ? data
    : data !== null && typeof data === 'object' && Array.isArray((data as { accounts?: unknown }).accounts)
      ? (data as { accounts: unknown[] }).accounts
      : undefined;
  if (list === undefined) {
    facts.problem = `no "accounts" list in ${oneLine(http.body ?? '')}`;
    return facts;
  }
  facts.emails = [];
  for (const entry of list) {
    const email = typeof entry === 'string' ? entry : entry !== null && typeof entry === 'object' ? (entry as { email?: unknown }).email : undefined;
    if (typeof email === 'string' && email !== '') facts.emails.push(email);
  }
  return facts;
}

/** Whether `emails` holds `address`, ignoring case: an accounts.json and a --from often differ only in case. */
export function listsAccount(emails: readonly string[], address: string): boolean {
  const wanted = address.toLowerCase();
  return emails.some((email) => email.toLowerCase() === wanted);
}

/** A body on one short line, for messages. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}…` : flat === '' ? '(empty)' : flat;
}
