/**
 * The probes behind `runner check` and the preflight of `runner run`: the guide's debug steps
 * ("Troubleshooting", "Interpreting Results": telnet, EHLO, AUTH PLAIN, curl /health, curl
 * /admin/accounts) done by the program. Each probe returns plain facts and timed steps; what
 * the facts mean, and what to do about them, is diagnose.ts's job.
 *
 * The SMTP probe drives the load's own SmtpSession through its step API (read-only use, with a
 * recorder that only keeps phase times), so a check talks to the server exactly like the load will.
 */
import { SmtpSession, type SessionRecorder, type SessionTarget } from '../smtp/session.ts';
import { SmtpStepError, type Failure, type Reply } from '../smtp/api.ts';
import { PHASES, PHASE_INDEX, type Phase } from '../smtp/phases.ts';
import { TLS_VERIFY_HINT } from '../smtp/tls.ts';
import type { SaslMechanism } from '../smtp/auth.ts';
import type { ResolvedSmtp } from '../scenario/resolved.ts';
import type { SmtpProtocol, TlsMode } from '../scenario/types.ts';
import { DEFAULTS } from '../scenario/defaults.ts';
import { formatBytes } from '../util/format.ts';
import { readExtensions, type OfferedExtensions } from '../smtp/extensions.ts';

/**
 * The steps of a check, in the order they run and print. 'tls' only with --tls: right after
 * connect for implicit TLS, after EHLO for STARTTLS (RFC 3207: the client asks once it has
 * seen STARTTLS in the EHLO reply).
 */
export const CHECK_STEP_IDS = ['connect', 'tls', 'greeting', 'ehlo', 'auth', 'mail', 'quit', 'health', 'accounts', 'delivery'] as const;

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
  /** Send AUTH (false: plain SMTP servers such as smtp-sink); the mechanism is security.auth. */
  isAuth: boolean;
  /** AUTH PLAIN/LOGIN password (the proxy ignores it). @default DEFAULTS.password */
  password?: string;
  /** Send MAIL FROM then RSET (nothing is sent). */
  isMailChecked: boolean;
  /** Reply timeout per phase, milliseconds. */
  timeoutsMs: Record<Phase, number>;
  /** The run's AUTH mechanism, token and TLS settings (issue 6), so the probe speaks as the load will. @default PLAIN, no TLS */
  security?: ProbeSecurity;
}

/** The settings of a scenario's smtp that change how a probe talks (mechanism, secrets, TLS). */
export type ProbeSecurity = Partial<Pick<ResolvedSmtp, 'auth' | 'token' | 'tls' | 'isTlsVerified' | 'tlsServername' | 'tlsCa' | 'protocol' | 'tlsCert' | 'tlsKey' | 'tlsMinVersion' | 'tlsMaxVersion' | 'tlsCiphers'>>;

/** What one SMTP probe found. */
export interface SmtpProbe {
  from: string;
  isAuth: boolean;
  /** The AUTH mechanism it used (or would have). @default 'plain' */
  mechanism?: SaslMechanism;
  /** How it secured the connection. @default 'none' */
  tls?: TlsMode;
  /** 'lmtp': it said LHLO, not EHLO (RFC 2033). @default 'smtp' */
  protocol?: SmtpProtocol;
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

/** How a check talks, as far as step titles are concerned. @default PLAIN, no TLS */
export interface StepNaming {
  mechanism?: SaslMechanism;
  tls?: TlsMode;
  /** 'lmtp': the hello step is LHLO (RFC 2033). @default 'smtp' */
  protocol?: SmtpProtocol;
}

/** Title of each step; AUTH names its mechanism and user, TLS how it starts. */
export function stepTitle(id: CheckStepId, from: string, naming: StepNaming = {}): string {
  switch (id) {
    case 'connect': return 'TCP connect';
    case 'tls': return naming.tls === 'implicit' ? 'TLS handshake' : 'STARTTLS + handshake';
    case 'greeting': return 'greeting';
    case 'ehlo': return naming.protocol === 'lmtp' ? 'LHLO' : 'EHLO';
    case 'auth': return `AUTH ${(naming.mechanism ?? 'plain').toUpperCase()} as ${from}`;
    case 'mail': return 'MAIL FROM / RSET (nothing sent)';
    case 'quit': return 'QUIT';
    case 'health': return 'GET /health';
    case 'accounts': return 'GET /admin/accounts';
    case 'delivery': return 'delivery sink';
  }
}

/** A step that was not tried, and why (`reason` follows 'skipped: '). */
export function skippedStep(id: CheckStepId, from: string, reason: string, naming?: StepNaming): CheckStep {
  return { id, title: stepTitle(id, from, naming), status: 'skip', durationMs: undefined, detail: `skipped: ${reason}` };
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
  // A refused certificate's text ends with the remedy, which a problem gives as its fix
  if (failure.phase === 'tls' && failure.text.endsWith(`; ${TLS_VERIFY_HINT}`)) return failure.text.slice(0, -TLS_VERIFY_HINT.length - 2);
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
    case 'tls':
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

/**
 * EHLO keywords (upper case) → parameters from the reply as a transcript shows it ('250-SIZE 52428800'):
 * RFC 5321 §4.1.1.1, the first line greets, each next one is a keyword and its parameters.
 */
function readCapabilities(replyLines: readonly string[]): Map<string, string> {
  const capabilities = new Map<string, string>();
  for (let i = 1; i < replyLines.length; i++) {
    const line = replyLines[i]!.slice(4).trim();
    if (line === '') continue;
    const space = line.indexOf(' ');
    if (space < 0) capabilities.set(line.toUpperCase(), '');
    else capabilities.set(line.slice(0, space).toUpperCase(), line.slice(space + 1));
  }
  return capabilities;
}

/** EHLO keywords as one line: 'AUTH PLAIN · SIZE 52428800 · 8BITMIME'. */
function formatCapabilities(capabilities: ReadonlyMap<string, string>): string {
  if (capabilities.size === 0) return 'no extensions';
  const parts: string[] = [];
  for (const [keyword, parameters] of capabilities) parts.push(parameters ? `${keyword} ${parameters}` : keyword);
  return parts.join(' · ');
}

/** Whether EHLO offers AUTH with `mechanism` (RFC 4954 §3: `AUTH mech mech …`). */
export function hasAuthMechanism(capabilities: ReadonlyMap<string, string>, mechanism: SaslMechanism): boolean {
  const mechanisms = capabilities.get('AUTH');
  return mechanisms !== undefined && mechanisms.toUpperCase().split(/\s+/).includes(mechanism.toUpperCase());
}

/** Where the EHLO reply a check describes was heard: plain text (no --tls, or before a STARTTLS that failed), after STARTTLS, or over implicit TLS. */
type EhloChannel = 'plain' | 'before-starttls' | 'starttls' | 'implicit';

/** The EHLO line: the keywords, then what matters to a load test (SIZE, PIPELINING, STARTTLS, the AUTH mechanism). */
function describeEhlo(capabilities: ReadonlyMap<string, string>, isAuth: boolean, mechanism: SaslMechanism, channel: EhloChannel): { detail: string; isWarn: boolean } {
  const notes: string[] = [];
  const size = Number(capabilities.get('SIZE'));
  // RFC 1870: SIZE 0 (or no parameter) means no fixed limit
  if (capabilities.has('SIZE')) notes.push(size > 0 ? `messages up to ${formatBytes(size)}` : 'no fixed size limit');
  notes.push(capabilities.has('PIPELINING') ? 'PIPELINING offered (runner pipelines; --no-pipelining sends one command at a time)' : 'no PIPELINING');
  if (channel === 'starttls') notes.push('sent again after STARTTLS');
  else if (channel === 'implicit') notes.push('over TLS');
  else if (channel === 'before-starttls') notes.push(capabilities.has('STARTTLS') ? 'STARTTLS offered' : 'no STARTTLS');
  else notes.push(capabilities.has('STARTTLS') ? 'STARTTLS offered (runner stays in plain text; --tls starttls uses it)' : 'no STARTTLS');
  const isWarn = isAuth && !hasAuthMechanism(capabilities, mechanism);
  const name = mechanism.toUpperCase();
  if (isWarn) notes.unshift(capabilities.has('AUTH') ? `AUTH ${name} not offered (only ${capabilities.get('AUTH') || 'no mechanism'})` : 'AUTH not offered');
  const missing = missingExtensions(readExtensions(capabilities));
  const missingNote = missing.length === 0 ? '' : `; not offered: ${missing.join(', ')}`;
  return { detail: `${formatCapabilities(capabilities)}; ${notes.join(', ')}${missingNote}`, isWarn };
}

/** The extensions runner can use that the server does not offer (PIPELINING and STARTTLS have their own notes). */
function missingExtensions(offered: OfferedExtensions): string[] {
  const missing: string[] = [];
  if (!offered.chunking) missing.push('CHUNKING');
  if (!offered.size) missing.push('SIZE');
  if (!offered.eightBitMime) missing.push('8BITMIME');
  if (!offered.smtpUtf8) missing.push('SMTPUTF8');
  if (!offered.enhancedStatusCodes) missing.push('ENHANCEDSTATUSCODES');
  if (!offered.dsn) missing.push('DSN');
  return missing;
}

/** The TLS line once the handshake is done: whose certificate was checked, and against what. */
function describeTls(host: string, smtp: ResolvedSmtp): string {
  if (smtp.isTlsVerified === false) return 'TLS up; certificate not verified (--insecure-skip-tls-verify)';
  const name = smtp.tlsServername ?? host;
  return `TLS up; certificate verified for ${name}${smtp.tlsCa === undefined ? '' : ' (with the --tls-ca CA)'}`;
}

/**
 * One SMTP connection through the guide's manual test: connect, greeting, EHLO, AUTH (PLAIN
 * unless security.auth says otherwise), optionally MAIL FROM + RSET (no message is sent), QUIT;
 * with security.tls, the TLS handshake too (its own step). Steps after a failure are skipped;
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
  let mechanism: SaslMechanism = 'plain';
  if (options.security !== undefined) {
    const { auth, ...rest } = options.security;
    Object.assign(smtp, rest);
    if (auth !== undefined && auth !== 'none') mechanism = auth;
    if (options.isAuth) smtp.auth = mechanism;
  }
  const tls: TlsMode = smtp.tls ?? 'none';
  const naming: StepNaming = { mechanism, tls, protocol: smtp.protocol };
  const times = new PhaseTimes();
  const session = new SmtpSession(target, smtp, times);
  const probe: SmtpProbe = { from: options.from, isAuth: options.isAuth, mechanism, tls, protocol: smtp.protocol, steps: [], failure: undefined, capabilities: undefined };
  const push = (id: CheckStepId, status: CheckStatus, durationMs: number | undefined, detail: string) => {
    const step: CheckStep = { id, title: stepTitle(id, options.from, naming), status, durationMs, detail };
    probe.steps.push(step);
    onStep?.(step);
  };
  const phaseMs = (phase: Phase): number | undefined => {
    const us = times.durationUs[PHASE_INDEX[phase]];
    return us === undefined ? undefined : us / 1000;
  };
  /** Shows every SMTP step after `failedAt` but QUIT (quitPolitely decides) as skipped with `reason`. */
  const skipAfter = (failedAt: CheckStepId, reason: string) => {
    const order: CheckStepId[] =
      tls === 'implicit' ? ['connect', 'tls', 'greeting', 'ehlo', 'auth', 'mail']
      : tls === 'starttls' ? ['connect', 'greeting', 'ehlo', 'tls', 'auth', 'mail']
      : ['connect', 'greeting', 'ehlo', 'auth', 'mail'];
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
    // The failure's text already says what to do, which the problem's fix repeats
    const detail = failure.error === 'STARTTLS_NOT_OFFERED' ? 'STARTTLS not offered in the EHLO reply' : formatFailure(failure);
    push(id, 'fail', performance.now() - startedMs, detail);
    return id;
  };
  // The EHLO reply before STARTTLS: the session forgets it when STARTTLS fails, the check still shows it
  let plainEhloLines: string[] = [];
  if (tls === 'starttls') {
    let isEhloReply = false;
    session.transcript = (direction, text) => {
      if (direction === 'C') {
        isEhloReply = text.startsWith('EHLO ');
        if (isEhloReply) plainEhloLines = [];
      } else if (direction === 'S' && isEhloReply) {
        plainEhloLines.push(text);
      }
    };
  }

  try {
    // connect (+ implicit TLS) + greeting are one session step; the recorder's phase times split them
    let startedMs = performance.now();
    try {
      const greeting = await session.connect();
      const totalMs = performance.now() - startedMs;
      const connectMs = phaseMs('connect') ?? 0;
      const tlsMs = tls === 'implicit' ? phaseMs('tls') ?? 0 : 0;
      push('connect', 'ok', connectMs, `${target.host}:${target.port}`);
      if (tls === 'implicit') push('tls', 'ok', tlsMs, describeTls(target.host, smtp));
      push('greeting', 'ok', totalMs - connectMs - tlsMs, formatReply(greeting));
    } catch (error) {
      const failure = failureOf(error);
      if (failure.phase !== 'connect') {
        const connectMs = phaseMs('connect');
        if (connectMs !== undefined) {
          push('connect', 'ok', connectMs, `${target.host}:${target.port}`);
          startedMs += connectMs;
        }
        const tlsMs = phaseMs('tls');
        if (failure.phase === 'greeting' && tls === 'implicit' && tlsMs !== undefined) {
          push('tls', 'ok', tlsMs, describeTls(target.host, smtp));
          startedMs += tlsMs;
        }
      }
      const id = fail(error, startedMs);
      skipAfter(id, id === 'connect' ? 'no connection' : id === 'tls' ? 'no TLS' : 'no SMTP session');
      return probe;
    }

    // With STARTTLS, ehlo() is EHLO, STARTTLS, the handshake and EHLO again (RFC 3207 §4.2)
    startedMs = performance.now();
    try {
      await session.ehlo();
      probe.capabilities = session.capabilities;
      const tlsMs = tls === 'starttls' ? phaseMs('tls') ?? 0 : 0;
      const { detail, isWarn } = describeEhlo(session.capabilities, options.isAuth, mechanism, tls === 'none' ? 'plain' : tls);
      push('ehlo', isWarn ? 'warn' : 'ok', performance.now() - startedMs - tlsMs, detail);
      if (tls === 'starttls') push('tls', 'ok', tlsMs, describeTls(target.host, smtp));
    } catch (error) {
      const failure = failureOf(error);
      const tlsMs = phaseMs('tls');
      if (failure.phase === 'tls') {
        // The first EHLO was answered: show what it offered (STARTTLS or not) before the failure;
        // no AUTH warning, as many servers offer AUTH only over TLS
        probe.capabilities = readCapabilities(plainEhloLines);
        const ehloMs = phaseMs('ehlo') ?? 0;
        push('ehlo', 'ok', ehloMs, describeEhlo(probe.capabilities, false, mechanism, 'before-starttls').detail);
        startedMs += ehloMs;
      } else if (tls === 'starttls' && tlsMs !== undefined) {
        // TLS is up: the EHLO sent again over it failed
        fail(error, startedMs + tlsMs);
        push('tls', 'ok', tlsMs, describeTls(target.host, smtp));
        skipAfter('tls', 'EHLO failed');
        return probe;
      }
      skipAfter(fail(error, startedMs), failure.phase === 'tls' ? 'no TLS' : 'EHLO failed');
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
 * GET `url` within `timeoutMs` (one deadline for connect, headers and body); never throws: no
 * answer comes back as `error` ('ECONNREFUSED', 'TIMEOUT (no answer within 500 ms)', …). Sends
 * `connection: close`, so the probe leaves no pooled socket open to the admin API.
 */
export async function probeHttp(url: string, timeoutMs: number): Promise<HttpProbe> {
  const startedMs = performance.now();
  const probe = (httpStatus: number | undefined, body: string | undefined, error: string | undefined): HttpProbe =>
    ({ url, httpStatus, body, error, durationMs: performance.now() - startedMs });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return probe(undefined, undefined, 'invalid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return probe(undefined, undefined, `unsupported protocol ${parsed.protocol}`);
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    const response = await fetch(parsed, { headers: { accept: 'application/json', connection: 'close' }, signal });
    return probe(response.status, await readBodyStart(response), undefined);
  } catch (error) {
    return probe(undefined, undefined, describeFetchError(error, parsed, timeoutMs));
  }
}

/** The first MAX_ADMIN_BODY_CHARS of a body; the rest is not read (a runaway answer costs nothing). */
async function readBodyStart(response: Response): Promise<string> {
  if (response.body === null) return '';
  const decoder = new TextDecoder();
  let body = '';
  // Leaving the loop early cancels the stream.
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    body += decoder.decode(chunk, { stream: true });
    if (body.length >= MAX_ADMIN_BODY_CHARS) break;
  }
  return body.slice(0, MAX_ADMIN_BODY_CHARS);
}

/** Why fetch got no answer: the socket's code (ECONNREFUSED, …) that fetch wraps in 'fetch failed', or the timeout. */
function describeFetchError(error: unknown, url: URL, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `TIMEOUT (no answer within ${timeoutMs} ms)`;
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  // The Fetch standard blocks some ports (6000, 6665-6669, 10080, …) before connecting.
  if (cause?.message === 'bad port') return `port ${url.port} refused by fetch (a Fetch-standard "bad port")`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
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
