/**
 * The diagnosis of a check, fed facts by hand: each failure gives the guide's message and fix,
 * and the exit code says which side failed. No sockets.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkExitCode, diagnose, listAddresses, type CheckFacts } from '../../runner/check/diagnose.ts';
import { CHECK_STEP_IDS, readAccounts, readHealth, type CheckStep, type CheckStepId, type HttpProbe, type SmtpProbe } from '../../runner/check/steps.ts';
import type { Failure } from '../../runner/smtp/api.ts';
import type { SaslMechanism } from '../../runner/smtp/auth.ts';
import { TLS_VERIFY_HINT } from '../../runner/smtp/tls.ts';
import type { TlsMode } from '../../runner/scenario/types.ts';
import { ExitCode } from '../../runner/errors.ts';

const ADMIN = 'http://127.0.0.1:9090';
const PROXY_CAPABILITIES = new Map([['AUTH', 'PLAIN'], ['SIZE', '52428800'], ['8BITMIME', '']]);

/** A probe that got as far as `failure` (or all the way). */
function probeWith(failure: Failure | undefined, options: { from?: string; capabilities?: Map<string, string>; isAuth?: boolean; mechanism?: SaslMechanism; tls?: TlsMode } = {}): SmtpProbe {
  const failedAt: CheckStepId | undefined = failure === undefined ? undefined : failure.phase === 'rset' ? 'mail' : (failure.phase as CheckStepId);
  const steps: CheckStep[] = [];
  let isFailed = false;
  // The SMTP steps (a 'tls' one only with --tls)
  for (const id of CHECK_STEP_IDS.filter((id) => id !== 'tls' || options.tls !== undefined).slice(0, options.tls === undefined ? 6 : 7)) {
    const status = isFailed ? 'skip' : id === failedAt ? 'fail' : 'ok';
    if (id === failedAt) isFailed = true;
    steps.push({ id, title: id, status, durationMs: status === 'skip' ? undefined : 1, detail: '' });
  }
  return { from: options.from ?? 'test@example.com', isAuth: options.isAuth ?? true, mechanism: options.mechanism, tls: options.tls, steps, failure, capabilities: options.capabilities ?? PROXY_CAPABILITIES };
}

function answered(path: string, httpStatus: number, body: unknown): HttpProbe {
  return { url: `${ADMIN}${path}`, httpStatus, body: typeof body === 'string' ? body : JSON.stringify(body), error: undefined, durationMs: 1 };
}

function unanswered(path: string, error = 'ECONNREFUSED'): HttpProbe {
  return { url: `${ADMIN}${path}`, httpStatus: undefined, body: undefined, error, durationMs: 1 };
}

const LISTING = readAccounts(answered('/admin/accounts', 200, { success: true, accounts: [{ email: 'sales@company.com' }, { email: 'support@company.com' }] }));
const HEALTHY = readHealth(answered('/health', 200, { status: 'healthy', service: 'xoauth2-proxy-admin' }));

function facts(overrides: Partial<CheckFacts>): CheckFacts {
  return { host: '127.0.0.1', port: 2525, adminUrl: ADMIN, probes: [probeWith(undefined)], health: undefined, accounts: undefined, untestedSenders: [], isAdminRequired: true, ...overrides };
}

const smtp = suite('diagnose: SMTP failures in the guide\'s terms');

const SMTP_CASES: Array<{ name: string; facts: CheckFacts; message: RegExp; hint: RegExp }> = [
  {
    name: 'connection refused, health unreachable',
    facts: facts({ probes: [probeWith({ phase: 'connect', error: 'ECONNREFUSED', text: 'connect ECONNREFUSED' })], health: readHealth(unanswered('/health')) }),
    message: /^Connection refused to 127\.0\.0\.1:2525 — is the proxy running\?$/,
    hint: /start it with `python xoauth2_proxy_v2\.py --config accounts\.json --port 2525` \(or try `runner fixture`\); health endpoint unreachable/,
  },
  {
    name: 'connection refused, health answers: the port is wrong',
    facts: facts({ probes: [probeWith({ phase: 'connect', error: 'ECONNREFUSED', text: '' })], health: HEALTHY }),
    message: /Connection refused/,
    hint: /health answers, so the proxy runs: is 2525 really its SMTP port/,
  },
  {
    name: '--protocol lmtp against an SMTP server: LHLO refused, and the hint says the server does not speak LMTP',
    facts: facts({ probes: [{ ...probeWith({ phase: 'ehlo', code: 500, text: '500 Error: command not recognized' }), protocol: 'lmtp' }] }),
    message: /^LHLO failed at 127\.0\.0\.1:2525: 500/,
    hint: /does not speak LMTP.*drop --protocol lmtp/,
  },
  {
    name: 'connection refused, health not asked',
    facts: facts({ probes: [probeWith({ phase: 'connect', error: 'ECONNREFUSED', text: '' })] }),
    message: /Connection refused/,
    hint: /check it: curl http:\/\/127\.0\.0\.1:9090\/health/,
  },
  {
    name: 'host does not resolve',
    facts: facts({ probes: [probeWith({ phase: 'connect', error: 'ENOTFOUND', text: '' })] }),
    message: /^Host 127\.0\.0\.1 does not resolve/,
    hint: /--host spelling/,
  },
  {
    name: 'greeting 421',
    facts: facts({ probes: [probeWith({ phase: 'greeting', code: 421, enhanced: '4.3.2', text: 'Too many connected clients' })] }),
    message: /^127\.0\.0\.1:2525 greeted with 421 4\.3\.2 Too many connected clients instead of 220$/,
    hint: /connection limit.*tail -f \/var\/log\/xoauth2\/xoauth2_proxy\.log/,
  },
  {
    name: 'no greeting in time',
    facts: facts({ probes: [probeWith({ phase: 'greeting', error: 'TIMEOUT', text: 'no reply within 100 ms' })] }),
    message: /^No greeting from 127\.0\.0\.1:2525: no reply within 100 ms$/,
    hint: /not the admin port/,
  },
  {
    name: '535 at AUTH, the list known',
    facts: facts({ probes: [probeWith({ phase: 'auth', code: 535, enhanced: '5.7.8', text: 'Authentication failed' })], accounts: LISTING }),
    message: /^535 at AUTH for test@example\.com: the account is not configured; \/admin\/accounts lists: sales@company\.com, support@company\.com$/,
    hint: /add test@example\.com to accounts\.json.*--from with a configured account such as sales@company\.com/,
  },
  {
    name: '454 at AUTH (the guide\'s code), admin unreachable',
    facts: facts({
      probes: [probeWith({ phase: 'auth', code: 454, enhanced: '4.7.0', text: 'Temporary authentication failure' })],
      accounts: readAccounts(unanswered('/admin/accounts')),
      isAdminRequired: false,
    }),
    message: /^454 at AUTH for test@example\.com: the account is not configured; \/admin\/accounts unreachable \(ECONNREFUSED\)$/,
    hint: /curl http:\/\/127\.0\.0\.1:9090\/admin\/accounts/,
  },
  {
    name: '535 for a listed account: its credentials',
    facts: facts({ probes: [probeWith({ phase: 'auth', code: 535, text: 'x' }, { from: 'SALES@company.com' })], accounts: LISTING }),
    message: /the account is configured \(listed by \/admin\/accounts\) but authentication failed/,
    hint: /OAuth2 credentials may be invalid or expired/,
  },
  {
    name: 'AUTH refused by a server without AUTH PLAIN',
    facts: facts({ probes: [probeWith({ phase: 'auth', code: 503, text: 'Bad sequence' }, { capabilities: new Map([['SIZE', '0']]) })] }),
    message: /^AUTH PLAIN refused for test@example\.com: 503 Bad sequence$/,
    hint: /--no-auth/,
  },
  {
    name: 'AUTH LOGIN refused by a server that offers only PLAIN: the mechanism to use instead',
    facts: facts({ probes: [probeWith({ phase: 'auth', code: 504, text: 'Unrecognized authentication type' }, { mechanism: 'login' })] }),
    message: /^AUTH LOGIN refused for test@example\.com: 504 Unrecognized authentication type$/,
    hint: /does not offer AUTH LOGIN .*it offers AUTH PLAIN \(--auth plain\)/,
  },
  {
    name: 'AUTH refused in plain text by a server that offers STARTTLS (AUTH only over TLS)',
    facts: facts({ probes: [probeWith({ phase: 'auth', code: 530, enhanced: '5.7.0', text: 'Must issue a STARTTLS command first' }, { capabilities: new Map([['STARTTLS', '']]) })] }),
    message: /^AUTH PLAIN refused for test@example\.com: 530 5\.7\.0 Must issue a STARTTLS command first$/,
    hint: /try --tls starttls/,
  },
  {
    name: 'XOAUTH2 token refused (the RFC 7628 error challenge, then 535): the token, not the account',
    facts: facts({ probes: [probeWith({ phase: 'auth', code: 535, text: 'not accepted (XOAUTH2 token refused: {"status":"401"})' }, { mechanism: 'xoauth2' })], accounts: LISTING }),
    message: /^XOAUTH2 bearer token refused for test@example\.com: 535 /,
    hint: /valid, unexpired access token .* --token/,
  },
  {
    name: 'a refused certificate: the remedy `runner run` gives',
    facts: facts({ probes: [probeWith({ phase: 'tls', error: 'DEPTH_ZERO_SELF_SIGNED_CERT', text: `server certificate not accepted (DEPTH_ZERO_SELF_SIGNED_CERT): self-signed certificate; ${TLS_VERIFY_HINT}` }, { tls: 'starttls' })] }),
    message: /^TLS with 127\.0\.0\.1:2525 failed: server certificate not accepted \(DEPTH_ZERO_SELF_SIGNED_CERT\): self-signed certificate$/,
    hint: new RegExp(`^${TLS_VERIFY_HINT.replace(/[()]/g, '\\$&')}$`),
  },
  {
    name: 'STARTTLS not offered',
    facts: facts({ probes: [probeWith({ phase: 'tls', error: 'STARTTLS_NOT_OFFERED', text: 'the server does not offer STARTTLS' }, { tls: 'starttls' })] }),
    message: /^127\.0\.0\.1:2525 does not offer STARTTLS in its EHLO reply$/,
    hint: /--tls implicit.*--tls none/,
  },
  {
    name: 'STARTTLS answered 454',
    facts: facts({ probes: [probeWith({ phase: 'tls', code: 454, enhanced: '4.7.0', text: 'TLS not available' }, { tls: 'starttls' })] }),
    message: /^STARTTLS refused at 127\.0\.0\.1:2525: 454 4\.7\.0 TLS not available$/,
    hint: /--tls none/,
  },
  {
    name: 'implicit TLS against a plain-text port',
    facts: facts({ probes: [probeWith({ phase: 'tls', error: 'ERR_SSL_WRONG_VERSION_NUMBER', text: 'TLS handshake failed: wrong version number' }, { tls: 'implicit' })] }),
    message: /^TLS handshake with 127\.0\.0\.1:2525 failed: ERR_SSL_WRONG_VERSION_NUMBER$/,
    hint: /is 2525 an implicit-TLS port/,
  },
  {
    name: 'MAIL refused after AUTH',
    facts: facts({ probes: [probeWith({ phase: 'mail', code: 550, text: 'no' })] }),
    message: /^MAIL FROM:<test@example\.com> failed at 127\.0\.0\.1:2525: 550 no$/,
    hint: /is --from the authenticated account/,
  },
  {
    name: 'MAIL refused with 530 when the check skipped AUTH (--no-auth)',
    facts: facts({ probes: [probeWith({ phase: 'mail', code: 530, enhanced: '5.7.0', text: 'Authentication required' }, { isAuth: false })] }),
    message: /^MAIL FROM:<test@example\.com> failed at 127\.0\.0\.1:2525: 530/,
    hint: /wants AUTH before MAIL \(530\) and the check skipped it \(--no-auth/,
  },
  {
    name: 'MAIL refused otherwise without AUTH',
    facts: facts({ probes: [probeWith({ phase: 'mail', code: 550, text: 'no' }, { isAuth: false })] }),
    message: /^MAIL FROM:<test@example\.com> failed at 127\.0\.0\.1:2525: 550 no$/,
    hint: /refuses the envelope without AUTH/,
  },
];

for (const c of SMTP_CASES) {
  smtp(c.name, () => {
    const { problems } = diagnose(c.facts);
    assert.is(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]!.message, c.message);
    assert.match(problems[0]!.hint, c.hint);
    assert.is(problems[0]!.side, 'smtp');
    assert.is(checkExitCode(problems), ExitCode.targetUnreachable);
  });
}

smtp.run();

const admin = suite('diagnose: the admin API');

admin('all good: no problem, exit 0', () => {
  const { problems, warnings } = diagnose(facts({ health: HEALTHY, accounts: readAccounts(answered('/admin/accounts', 200, [{ email: 'Test@Example.com' }])) }));
  assert.equal(problems, []);
  assert.equal(warnings, []);
  assert.is(checkExitCode(problems), ExitCode.ok);
});

const ADMIN_CASES: Array<{ name: string; health: ReturnType<typeof readHealth>; message: RegExp }> = [
  { name: 'health unreachable while SMTP works', health: readHealth(unanswered('/health')), message: /^health endpoint unreachable: http:\/\/127\.0\.0\.1:9090\/health \(ECONNREFUSED\)$/ },
  { name: 'health says degraded', health: readHealth(answered('/health', 503, { status: 'degraded' })), message: /answered status "degraded" \(HTTP 503\) instead of \{"status": "healthy"\}/ },
  { name: 'health answers HTML', health: readHealth(answered('/health', 200, '<html>hello</html>')), message: /answered not JSON: <html>hello<\/html>/ },
  { name: 'health 404', health: readHealth(answered('/health', 404, 'nope')), message: /answered HTTP 404/ },
];

for (const c of ADMIN_CASES) {
  admin(`${c.name}: an admin problem, exit ${ExitCode.adminCheckFailed}`, () => {
    const { problems } = diagnose(facts({ health: c.health }));
    assert.is(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]!.message, c.message);
    assert.is(problems[0]!.side, 'admin');
    assert.is(checkExitCode(problems), ExitCode.adminCheckFailed);
  });
}

admin('a runner run (admin not required): admin trouble is no problem', () => {
  const { problems } = diagnose(facts({ health: readHealth(unanswered('/health')), accounts: readAccounts(answered('/admin/accounts', 500, 'boom')), isAdminRequired: false }));
  assert.equal(problems, []);
});

admin('AUTH works but the list lacks the sender: a warning (another proxy\'s admin API?), exit 0', () => {
  const { problems, warnings } = diagnose(facts({ health: HEALTHY, accounts: LISTING }));
  assert.equal(problems, []);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!.message, 'test@example.com authenticated, yet /admin/accounts does not list it');
});

admin('SMTP refused and the list lacks the sender: both said', () => {
  const { problems } = diagnose(facts({ probes: [probeWith({ phase: 'connect', error: 'ECONNREFUSED', text: '' })], health: HEALTHY, accounts: LISTING }));
  assert.equal(problems.map((p) => p.step), ['connect', 'accounts']);
  assert.match(problems[1]!.message, /^test@example\.com is not configured on the proxy; \/admin\/accounts lists: sales@company\.com, support@company\.com$/);
});

admin('a run\'s untested senders missing from the list', () => {
  const { problems } = diagnose(facts({ probes: [probeWith(undefined, { from: 'sales@company.com' })], accounts: LISTING, untestedSenders: ['support@company.com', 'ghost@company.com'], isAdminRequired: false }));
  assert.is(problems.length, 1);
  assert.match(problems[0]!.message, /^1 of 3 senders are not configured on the proxy: ghost@company\.com; \/admin\/accounts lists: /);
  assert.is(problems[0]!.from, 'ghost@company.com');
  assert.is(checkExitCode(problems), ExitCode.targetUnreachable);
});

admin('readAccounts: the real proxy\'s shape, a bare array, and odd answers', () => {
  assert.equal(LISTING.emails, ['sales@company.com', 'support@company.com']);
  assert.equal(readAccounts(answered('/admin/accounts', 200, ['a@b.c', { email: 'd@e.f' }])).emails, ['a@b.c', 'd@e.f']);
  assert.is(readAccounts(answered('/admin/accounts', 200, { ok: 1 })).problem, 'no "accounts" list in {"ok":1}');
  assert.is(readAccounts(answered('/admin/accounts', 401, 'no')).problem, 'HTTP 401');
});

admin('listAddresses: five at most, then how many in all', () => {
  assert.is(listAddresses([]), '(none)');
  assert.is(listAddresses(['a@x', 'b@x']), 'a@x, b@x');
  assert.is(listAddresses(['1@x', '2@x', '3@x', '4@x', '5@x', '6@x', '7@x']), '1@x, 2@x, 3@x, 4@x, 5@x, … (7 in all)');
});

admin.run();
