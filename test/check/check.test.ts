/**
 * `runner check` against the fake proxy and small named fake servers, as a person reads it:
 * every step's line, the problem with its fix, and the exit code.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTextSink, runAgainst, startRawServer, withFakeProxy } from '../helpers.ts';
import { runCli } from '../cli-process.ts';
import { runCheck, type CheckReport } from '../../runner/check/check.ts';
import { runCheckCommand } from '../../runner/check/check-command.ts';
import { ExitCode, InvalidOptionsError, RunnerError } from '../../runner/errors.ts';
import { TLS_VERIFY_HINT } from '../../runner/smtp/tls.ts';
import { clearSecrets } from '../../runner/redact.ts';
import { leakForms } from '../leak-forms.ts';

/** A running fake server. */
interface FakeServer {
  port: number;
  close(): Promise<void>;
}

/** An HTTP server answering every request with `answer` (a small admin API with opinions). */
async function startAdminServer(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<FakeServer> {
  const server = createHttpServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** "This admin API says it is degraded": /health answers 503 {"status": "degraded"}. */
const startDegradedAdmin = () =>
  startAdminServer((request, response) => {
    if (request.url === '/health') json(response, 503, { status: 'degraded', service: 'xoauth2-proxy-admin' });
    else json(response, 200, { success: true, accounts: [{ email: 'test@example.com' }] });
  });

/** "This admin API belongs to another proxy": healthy, but lists other accounts. */
const startOtherProxyAdmin = () =>
  startAdminServer((request, response) => {
    if (request.url === '/health') json(response, 200, { status: 'healthy', service: 'xoauth2-proxy-admin' });
    else json(response, 200, { success: true, total_accounts: 1, accounts: [{ email: 'other@elsewhere.test' }] });
  });

/** "This SMTP server is full": greets every connection with 421 and hangs up. */
function startFullSmtpServer(): Promise<FakeServer> {
  return startRawServer((socket) => socket.end('421 4.3.2 Too many connected clients, try again in a moment\r\n'));
}

/** A loopback port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The check's text output and exit code. */
async function checkText(options: Parameters<typeof runCheckCommand>[0]): Promise<{ exitCode: number; text: string }> {
  const stdout = createTextSink();
  const exitCode = await runCheckCommand({ timeout: '5s', ...options, stdout });
  return { exitCode, text: stdout.text() };
}

function statuses(report: CheckReport): string {
  return report.steps.map((step) => `${step.id}:${step.status}`).join(' ');
}

const green = suite('check: a healthy proxy');

green('every step passes; each line says what it saw; nothing is sent; exit 0', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { exitCode, text } = await checkText({ port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}` });
    assert.is(exitCode, ExitCode.ok, text);
    assert.match(text, `Checking 127.0.0.1:${proxy.port} as test@example.com, admin API http://127.0.0.1:${proxy.adminPort}`);
    assert.match(text, /✓ TCP connect +\d+\.\d+ ms {2}127\.0\.0\.1:\d+\n/);
    assert.match(text, /✓ greeting +\d+\.\d+ ms {2}220 xoauth2-proxy ESMTP service ready\n/);
    assert.match(text, /✓ EHLO +\d+\.\d+ ms {2}AUTH PLAIN · SIZE 52428800 · 8BITMIME; messages up to 50 MiB, no PIPELINING, no STARTTLS; not offered: CHUNKING, SMTPUTF8, ENHANCEDSTATUSCODES, DSN\n/);
    assert.match(text, /✓ AUTH PLAIN as test@example\.com +\d+\.\d+ ms {2}235 2\.7\.0 Authentication successful\n/);
    assert.match(text, /✓ MAIL FROM \/ RSET \(nothing sent\) +\d+\.\d+ ms {2}MAIL 250 2\.1\.0 OK, then RSET 250 2\.0\.0 OK\n/);
    assert.match(text, /✓ QUIT +\d+\.\d+ ms {2}221 2\.0\.0 Goodbye\n/);
    assert.match(text, /✓ GET \/health +\d+\.\d+ ms {2}healthy \(xoauth2-proxy-admin\)\n/);
    assert.match(text, /✓ GET \/admin\/accounts +\d+\.\d+ ms {2}3 accounts, test@example\.com among them\n/);
    assert.match(text, 'All 8 checks passed.');
    assert.not.match(text, /\u001b\[/);
    assert.is(proxy.stats.connections, 1);
    assert.is(proxy.stats.authOk, 1);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

green('the from account is matched without regard to case', async () => {
  await withFakeProxy({}, async (proxy) => {
    const report = await runCheck({ host: '127.0.0.1', port: proxy.port, from: 'Sales@Company.com', adminUrl: `http://127.0.0.1:${proxy.adminPort}`, timeoutMs: 5000 });
    assert.is(report.exitCode, ExitCode.ok, JSON.stringify(report.problems));
    assert.is(report.steps.find((step) => step.id === 'accounts')?.detail, '3 accounts, Sales@Company.com among them');
  });
});

green('--json: one object with every step, no problem, exit_code 0', async () => {
  await withFakeProxy({}, async (proxy) => {
    const stdout = createTextSink();
    const exitCode = await runCheckCommand({ port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}/`, json: true, stdout });
    const output = JSON.parse(stdout.text());
    assert.is(exitCode, 0);
    assert.is(output.ok, true);
    assert.is(output.exit_code, 0);
    assert.is(output.target.admin_url, `http://127.0.0.1:${proxy.adminPort}`);
    assert.equal(output.steps.map((s: { id: string }) => s.id), ['connect', 'greeting', 'ehlo', 'auth', 'mail', 'quit', 'health', 'accounts']);
    assert.ok(output.steps.every((s: { status: string; duration_ms: number }) => s.status === 'ok' && s.duration_ms >= 0));
    // What the fake proxy's EHLO offers (fixtures/fake-proxy.ts: AUTH PLAIN, SIZE 52428800, 8BITMIME)
    assert.equal(output.extensions, {
      pipelining: false,
      chunking: false,
      size: true,
      size_limit_bytes: 52428800,
      '8bitmime': true,
      smtputf8: false,
      starttls: false,
      auth_mechanisms: ['PLAIN'],
      enhanced_status_codes: false,
      dsn: false,
    });
  });
});

green('a server that offers every extension: the EHLO line names them, none missing, PIPELINING used', async () => {
  const ehlo = '250-sink.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250 AUTH PLAIN LOGIN\r\n';
  const server = await startRawServer((socket) => {
    socket.write('220 sink.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('latin1').split('\r\n').filter((text) => text !== '')) {
        const verb = line.slice(0, 4).toUpperCase();
        socket.write(verb === 'EHLO' ? ehlo : verb === 'QUIT' ? '221 bye\r\n' : verb === 'AUTH' ? '235 ok\r\n' : '250 ok\r\n');
      }
    });
  });
  try {
    const report = await runCheck({ host: '127.0.0.1', port: server.port, from: 'test@example.com', adminUrl: 'http://127.0.0.1:9', timeoutMs: 5000, isAdminChecked: false });
    const detail = report.steps.find((step) => step.id === 'ehlo')!.detail;
    assert.match(detail, 'PIPELINING offered (runner pipelines');
    assert.match(detail, 'messages up to 1000 bytes');
    assert.not.match(detail, 'not offered');
    assert.equal(report.extensions?.authMechanisms, ['PLAIN', 'LOGIN']);
    assert.equal([report.extensions?.chunking, report.extensions?.dsn, report.extensions?.sizeLimitBytes], [true, true, 1000]);
  } finally {
    await server.close();
  }
});

green('--no-auth and --no-admin: those steps shown as skipped', async () => {
  await withFakeProxy({ adminPort: null }, async (proxy) => {
    const report = await runCheck({ host: '127.0.0.1', port: proxy.port, from: 'test@example.com', adminUrl: 'http://127.0.0.1:9', isAuth: false, isAdminChecked: false, timeoutMs: 5000 });
    // Without AUTH the proxy refuses MAIL (530): the check says so, on the SMTP side
    assert.is(statuses(report), 'connect:ok greeting:ok ehlo:ok auth:skip mail:fail quit:ok health:skip accounts:skip');
    assert.is(report.exitCode, ExitCode.targetUnreachable);
    assert.match(report.problems[0]!.message, /^MAIL FROM:<test@example\.com> failed at 127\.0\.0\.1:\d+: 530/);
  });
});

green.run();

const smtp = suite('check: the SMTP side fails (exit 110)');

smtp('connection refused: the guide\'s message, later SMTP steps skipped, health endpoint unreachable', async () => {
  const port = await closedPort();
  const adminPort = await closedPort();
  const { exitCode, text } = await checkText({ port, adminUrl: `http://127.0.0.1:${adminPort}` });
  assert.is(exitCode, ExitCode.targetUnreachable);
  assert.match(text, /✗ TCP connect +\d+\.\d+ ms {2}ECONNREFUSED\n/);
  for (const title of ['greeting', 'EHLO', 'AUTH PLAIN as test@example.com', 'MAIL FROM / RSET (nothing sent)', 'QUIT']) {
    assert.match(text, new RegExp(`– ${title.replace(/[()/]/g, '\\$&')} +skipped: no connection\\n`));
  }
  assert.match(text, /✗ GET \/health +\d+\.\d+ ms {2}unreachable: ECONNREFUSED\n/);
  assert.match(text, /– GET \/admin\/accounts +skipped: the admin API is unreachable\n/);
  assert.match(text, '1 problem:');
  assert.match(text, `✗ Connection refused to 127.0.0.1:${port} — is the proxy running?`);
  assert.match(
    text,
    `fix: start it with \`python xoauth2_proxy_v2.py --config accounts.json --port ${port}\` (or try \`runner fixture\`); health endpoint unreachable (http://127.0.0.1:${adminPort}/health: ECONNREFUSED)`,
  );
});

for (const code of [535, 454] as const) {
  smtp(`unknown account (${code}): the account is not configured; what /admin/accounts lists`, async () => {
    await withFakeProxy({ unknownAccountCode: code }, async (proxy) => {
      const { exitCode, text } = await checkText({ port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}`, from: 'nobody@nowhere.test' });
      assert.is(exitCode, ExitCode.targetUnreachable);
      assert.match(text, new RegExp(`✗ AUTH PLAIN as nobody@nowhere\\.test +\\d+\\.\\d+ ms {2}${code} `));
      assert.match(text, /– MAIL FROM \/ RSET \(nothing sent\) +skipped: AUTH failed\n/);
      assert.match(text, /– QUIT +skipped: the connection is closed\n/);
      assert.match(text, /✗ GET \/admin\/accounts +\d+\.\d+ ms {2}3 accounts, nobody@nowhere\.test not among them\n/);
      assert.match(
        text,
        `✗ ${code} at AUTH for nobody@nowhere.test: the account is not configured; /admin/accounts lists: test@example.com, sales@company.com, support@company.com`,
      );
      assert.match(text, /fix: add nobody@nowhere\.test to accounts\.json .* or use --from with a configured account such as test@example\.com/);
      assert.is(proxy.stats.authFailed, 1);
    });
  });
}

smtp('greeting 421 from a full server: what it said, and the connection limit as the likely cause', async () => {
  const full = await startFullSmtpServer();
  try {
    const report = await runCheck({ host: '127.0.0.1', port: full.port, from: 'test@example.com', adminUrl: 'http://127.0.0.1:9', isAdminChecked: false, timeoutMs: 5000 });
    assert.is(statuses(report), 'connect:ok greeting:fail ehlo:skip auth:skip mail:skip quit:skip health:skip accounts:skip');
    assert.is(report.exitCode, ExitCode.targetUnreachable);
    assert.is(report.problems[0]!.message, `127.0.0.1:${full.port} greeted with 421 4.3.2 Too many connected clients, try again in a moment instead of 220`);
    assert.match(report.problems[0]!.hint, 'connection limit');
  } finally {
    await full.close();
  }
});

smtp('a failure injected at AUTH by the fixture is reported with its reply', async () => {
  await withFakeProxy({ failures: [{ phase: 'auth', probability: 1, kind: 'reply', code: 451 }] }, async (proxy) => {
    const report = await runCheck({ host: '127.0.0.1', port: proxy.port, from: 'test@example.com', adminUrl: `http://127.0.0.1:${proxy.adminPort}`, timeoutMs: 5000 });
    assert.is(report.exitCode, ExitCode.targetUnreachable);
    assert.match(report.problems[0]!.message, /^AUTH PLAIN failed for test@example\.com: 451 4\.3\.0 /);
  });
});

smtp('a silent AUTH: the step times out within --timeout', async () => {
  await withFakeProxy({ failures: [{ phase: 'auth', probability: 1, kind: 'silence' }] }, async (proxy) => {
    const started = performance.now();
    const report = await runCheck({ host: '127.0.0.1', port: proxy.port, from: 'test@example.com', adminUrl: `http://127.0.0.1:${proxy.adminPort}`, timeoutMs: 300 });
    assert.ok(performance.now() - started < 5000);
    assert.match(report.problems[0]!.message, /^No answer to AUTH for test@example\.com at 127\.0\.0\.1:\d+: no reply within 300 ms$/);
    assert.match(report.problems[0]!.hint, 'token');
  });
});

smtp.run();

const admin = suite('check: only the admin API fails (exit 112)');

admin('admin unreachable (no admin server): SMTP all green, the health problem says where to look', async () => {
  await withFakeProxy({ adminPort: null }, async (proxy) => {
    const adminPort = await closedPort();
    const { exitCode, text } = await checkText({ port: proxy.port, adminUrl: `http://127.0.0.1:${adminPort}` });
    assert.is(exitCode, ExitCode.adminCheckFailed);
    assert.match(text, /✓ QUIT/);
    assert.match(text, /✗ GET \/health +\d+\.\d+ ms {2}unreachable: ECONNREFUSED\n/);
    assert.match(text, `✗ health endpoint unreachable: http://127.0.0.1:${adminPort}/health (ECONNREFUSED)`);
    assert.match(text, /fix: the SMTP side answers, so the admin API is elsewhere: pass --admin-url/);
  });
});

admin('health not healthy: what it said instead of {"status": "healthy"}', async () => {
  await withFakeProxy({ adminPort: null }, async (proxy) => {
    const degraded = await startDegradedAdmin();
    try {
      const { exitCode, text } = await checkText({ port: proxy.port, adminUrl: `http://127.0.0.1:${degraded.port}` });
      assert.is(exitCode, ExitCode.adminCheckFailed);
      assert.match(text, /✗ GET \/health +\d+\.\d+ ms {2}HTTP 503: status "degraded"\n/);
      assert.match(text, `answered status "degraded" (HTTP 503) instead of {"status": "healthy"}`);
      assert.match(text, /✓ GET \/admin\/accounts/);
    } finally {
      await degraded.close();
    }
  });
});

admin('the account authenticates but /admin/accounts does not list it: a warning, exit 0', async () => {
  await withFakeProxy({ adminPort: null }, async (proxy) => {
    const other = await startOtherProxyAdmin();
    try {
      const { exitCode, text } = await checkText({ port: proxy.port, adminUrl: `http://127.0.0.1:${other.port}` });
      assert.is(exitCode, ExitCode.ok);
      assert.match(text, /⚠ GET \/admin\/accounts +\d+\.\d+ ms {2}1 account, test@example\.com not among them\n/);
      assert.match(text, 'All 8 checks passed, 1 with a warning.');
      assert.match(text, '⚠ test@example.com authenticated, yet /admin/accounts does not list it (it lists: other@elsewhere.test)');
    } finally {
      await other.close();
    }
  });
});

admin('SMTP refused and the account missing from /admin/accounts: both problems', async () => {
  const other = await startOtherProxyAdmin();
  try {
    const report = await runCheck({ host: '127.0.0.1', port: await closedPort(), from: 'test@example.com', adminUrl: `http://127.0.0.1:${other.port}`, timeoutMs: 5000 });
    assert.is(report.exitCode, ExitCode.targetUnreachable);
    assert.equal(report.problems.map((p) => p.step), ['connect', 'accounts']);
    assert.match(report.problems[0]!.hint, /health answers, so the proxy runs/);
    assert.is(report.problems[1]!.message, 'test@example.com is not configured on the proxy; /admin/accounts lists: other@elsewhere.test');
  } finally {
    await other.close();
  }
});

admin.run();

const flags = suite('check: flags');

flags('bad flags are one InvalidOptionsError listing each', async () => {
  try {
    await runCheckCommand({ port: 0, from: 'not-an-address', adminUrl: 'localhost:9090', stdout: createTextSink() });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, InvalidOptionsError);
    assert.equal(
      (error as InvalidOptionsError).problems.map((p) => p.split(':')[0]),
      ['--port', '--from', '--admin-url'],
    );
  }
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

flags('the CLI: `runner check` prints the steps and exits with the check\'s code', async () => {
  await withFakeProxy({}, async (proxy) => {
    const ran = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/runner.js'), 'check', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--from', 'nobody@nowhere.test'], {
        env: { ...process.env, NO_COLOR: '1' },
      });
      let stdout = '';
      const limit = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('close', (code) => {
        clearTimeout(limit);
        resolve({ code, stdout });
      });
    });
    assert.is(ran.code, ExitCode.targetUnreachable);
    assert.match(ran.stdout, '✗ 535 at AUTH for nobody@nowhere.test: the account is not configured');
  });
});

flags.run();

const security = suite('check: --tls and --auth, as `runner run` takes them');

/** The check's --json output, parsed, and its exit code. */
async function checkJson(options: Parameters<typeof runCheckCommand>[0]): Promise<{ exitCode: number; output: { steps: Array<{ id: string; status: string; title: string; detail: string }>; problems: Array<{ step: string; message: string; hint: string }>; warnings: Array<{ message: string; hint: string }>; auth: string; tls: string; tls_verified: boolean | null } }> {
  const stdout = createTextSink();
  const exitCode = await runCheckCommand({ timeout: '5s', ...options, json: true, stdout });
  return { exitCode, output: JSON.parse(stdout.text()) };
}

function jsonStatuses(output: { steps: Array<{ id: string; status: string }> }): string {
  return output.steps.map((step) => `${step.id}:${step.status}`).join(' ');
}

const PASSING: Array<{ name: string; proxyTls: 'starttls' | 'implicit'; flags: (caFile: string) => Parameters<typeof runCheckCommand>[0]; statuses: string; header: string; tlsLine: RegExp }> = [
  {
    name: '--tls starttls --tls-ca CERT',
    proxyTls: 'starttls',
    flags: (caFile) => ({ tls: 'starttls', tlsCa: caFile }),
    statuses: 'connect:ok greeting:ok ehlo:ok tls:ok auth:ok mail:ok quit:ok health:ok accounts:ok',
    header: 'over STARTTLS as test@example.com,',
    tlsLine: /✓ STARTTLS \+ handshake +\d+\.\d+ ms {2}TLS up; certificate verified for 127\.0\.0\.1 \(with the --tls-ca CA\)\n/,
  },
  {
    name: '--tls starttls --insecure-skip-tls-verify',
    proxyTls: 'starttls',
    flags: () => ({ tls: 'starttls', insecureSkipTlsVerify: true }),
    statuses: 'connect:ok greeting:ok ehlo:ok tls:ok auth:ok mail:ok quit:ok health:ok accounts:ok',
    header: 'over STARTTLS (certificate not verified) as test@example.com,',
    tlsLine: /✓ STARTTLS \+ handshake +\d+\.\d+ ms {2}TLS up; certificate not verified \(--insecure-skip-tls-verify\)\n/,
  },
  {
    name: '--tls implicit --tls-ca CERT against an implicit-TLS server',
    proxyTls: 'implicit',
    flags: (caFile) => ({ tls: 'implicit', tlsCa: caFile }),
    statuses: 'connect:ok tls:ok greeting:ok ehlo:ok auth:ok mail:ok quit:ok health:ok accounts:ok',
    header: 'over implicit TLS as test@example.com,',
    tlsLine: /✓ TLS handshake +\d+\.\d+ ms {2}TLS up; certificate verified for 127\.0\.0\.1 \(with the --tls-ca CA\)\n/,
  },
];

for (const c of PASSING) {
  security(`${c.name}: every step passes, the TLS step says how the certificate was checked; exit 0`, async () => {
    await withFakeProxy({ tls: c.proxyTls }, async (proxy) => {
      const adminUrl = `http://127.0.0.1:${proxy.adminPort}`;
      const { exitCode, text } = await checkText({ port: proxy.port, adminUrl, ...c.flags(proxy.caFile!) });
      assert.is(exitCode, ExitCode.ok, text);
      assert.match(text, `Checking 127.0.0.1:${proxy.port} ${c.header}`);
      assert.match(text, c.tlsLine);
      assert.match(text, 'All 9 checks passed.');
      const { output } = await checkJson({ port: proxy.port, adminUrl, ...c.flags(proxy.caFile!) });
      assert.is(jsonStatuses(output), c.statuses);
      assert.is(output.tls, c.proxyTls);
      assert.is(proxy.stats.authOk, 2);
      assert.is(proxy.stats.messagesAccepted, 0);
    });
  });
}

for (const mode of ['starttls', 'implicit'] as const) {
  security(`--tls ${mode} without --tls-ca: the TLS step fails with the code, the fix is run's certificate remedy; exit 110`, async () => {
    await withFakeProxy({ tls: mode }, async (proxy) => {
      const { exitCode, text } = await checkText({ port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}`, tls: mode });
      assert.is(exitCode, ExitCode.targetUnreachable, text);
      const title = mode === 'starttls' ? 'STARTTLS \\+ handshake' : 'TLS handshake';
      assert.match(text, new RegExp(`✗ ${title} +\\d+\\.\\d+ ms {2}server certificate not accepted \\(DEPTH_ZERO_SELF_SIGNED_CERT\\): self-signed certificate\\n`));
      assert.match(text, /– AUTH PLAIN as test@example\.com +skipped: no TLS\n/);
      assert.match(text, `✗ TLS with 127.0.0.1:${proxy.port} failed: server certificate not accepted (DEPTH_ZERO_SELF_SIGNED_CERT)`);
      assert.match(text, `    fix: ${TLS_VERIFY_HINT}\n`);
      if (mode === 'starttls') assert.match(text, /✓ EHLO +\d+\.\d+ ms {2}AUTH PLAIN · SIZE 52428800 · 8BITMIME · STARTTLS; .*STARTTLS offered; not offered: CHUNKING, SMTPUTF8, ENHANCEDSTATUSCODES, DSN\n/);
      assert.is(proxy.stats.authOk + proxy.stats.authFailed, 0);
    });
  });
}

security('`runner run` gives the same remedy in its preflight, and names the check to run with its --tls', async () => {
  await withFakeProxy({ tls: 'starttls' }, async (proxy) => {
    try {
      await runAgainst(proxy, { numEmails: 1, overrides: { tls: 'starttls' } });
      assert.unreachable('the preflight should have stopped the run');
    } catch (error) {
      assert.instance(error, RunnerError);
      assert.is((error as RunnerError).exitCode, ExitCode.targetUnreachable);
      assert.match((error as RunnerError).message, `TLS with 127.0.0.1:${proxy.port} failed: server certificate not accepted (DEPTH_ZERO_SELF_SIGNED_CERT)`);
      assert.match((error as RunnerError).hint!, `${TLS_VERIFY_HINT}; see every step: runner check --host 127.0.0.1 --port ${proxy.port}`);
      assert.match((error as RunnerError).hint!, / --tls starttls \(or skip this check with --no-check\)$/);
    }
  });
});

security('--tls starttls against a plain-text server: STARTTLS not offered, the fix names --tls implicit and --tls none', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { exitCode, output } = await checkJson({ port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}`, tls: 'starttls' });
    assert.is(exitCode, ExitCode.targetUnreachable);
    assert.is(jsonStatuses(output), 'connect:ok greeting:ok ehlo:ok tls:fail auth:skip mail:skip quit:skip health:ok accounts:ok');
    assert.is(output.problems[0]!.message, `127.0.0.1:${proxy.port} does not offer STARTTLS in its EHLO reply`);
    assert.match(output.problems[0]!.hint, /--tls implicit.*--tls none/);
  });
});

security('--tls implicit against a plain-text server: the handshake fails, the fix asks whether the port is an implicit-TLS one', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { exitCode, output } = await checkJson({ port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}`, tls: 'implicit' });
    assert.is(exitCode, ExitCode.targetUnreachable);
    assert.is(jsonStatuses(output), 'connect:ok tls:fail greeting:skip ehlo:skip auth:skip mail:skip quit:skip health:ok accounts:ok');
    assert.match(output.problems[0]!.message, `TLS handshake with 127.0.0.1:${proxy.port} failed`);
    assert.match(output.problems[0]!.hint, /implicit-TLS port .* --tls none/);
  });
});

security('--auth login: the fixture accepts it (without offering it), as `runner run` does; a warning says EHLO does not list it', async () => {
  await withFakeProxy({}, async (proxy) => {
    const adminUrl = `http://127.0.0.1:${proxy.adminPort}`;
    const { exitCode, text } = await checkText({ port: proxy.port, adminUrl, auth: 'login', password: 'secret-pw' });
    assert.is(exitCode, ExitCode.ok, text);
    assert.match(text, `Checking 127.0.0.1:${proxy.port} as test@example.com with AUTH LOGIN,`);
    assert.match(text, /⚠ EHLO +\d+\.\d+ ms {2}AUTH PLAIN · SIZE 52428800 · 8BITMIME; AUTH LOGIN not offered \(only PLAIN\)/);
    assert.match(text, /✓ AUTH LOGIN as test@example\.com +\d+\.\d+ ms {2}235 2\.7\.0 Authentication successful\n/);
    assert.match(text, 'All 8 checks passed, 1 with a warning.');
    assert.match(text, `⚠ 127.0.0.1:${proxy.port} does not offer AUTH LOGIN in its EHLO reply`);
    assert.match(text, 'hint: AUTH worked anyway here; it offers AUTH PLAIN (--auth plain)');
    const run = await runAgainst(proxy, { numEmails: 2, concurrent: 1, overrides: { auth: 'login', password: 'secret-pw', to: ['a@example.com'] } });
    assert.is(run.exitCode, ExitCode.ok, run.output);
    assert.is(run.summary.results.successful, 2);
  });
  clearSecrets();
});

const XOAUTH2_CASES: Array<{ name: string; token: string | undefined; exitCode: number; expect: (result: { text: string; error: unknown }) => void }> = [
  {
    name: 'the accepted token: every step passes',
    token: 'good-token-1',
    exitCode: ExitCode.ok,
    expect: ({ text }) => assert.match(text, /✓ AUTH XOAUTH2 as test@example\.com +\d+\.\d+ ms {2}235 /),
  },
  {
    name: 'another token: refused, the fix asks for a valid --token',
    token: 'stale-token-2',
    exitCode: ExitCode.targetUnreachable,
    expect: ({ text }) => {
      assert.match(text, '✗ XOAUTH2 bearer token refused for test@example.com: 535');
      assert.match(text, /fix: pass a valid, unexpired access token for this account with --token/);
      assert.not.match(text, 'stale-token-2');
    },
  },
  {
    name: 'no --token: invalid options (exit 104), as `runner run` says',
    token: undefined,
    exitCode: ExitCode.invalidOptions,
    expect: ({ error }) => {
      assert.instance(error, InvalidOptionsError);
      assert.match((error as Error).message, '--auth xoauth2 needs a bearer token');
    },
  },
];

for (const c of XOAUTH2_CASES) {
  security(`--auth xoauth2, ${c.name}`, async () => {
    await withFakeProxy({ tls: 'starttls', xoauth2Token: 'good-token-1' }, async (proxy) => {
      let exitCode: number;
      let error: unknown;
      let text = '';
      try {
        ({ exitCode, text } = await checkText({ port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}`, tls: 'starttls', tlsCa: proxy.caFile, auth: 'xoauth2', token: c.token }));
      } catch (caught) {
        error = caught;
        exitCode = (caught as RunnerError).exitCode;
      }
      assert.is(exitCode, c.exitCode, text);
      c.expect({ text, error });
      // `runner run` with the same flags ends the same way
      let runExit: number;
      try {
        runExit = (await runAgainst(proxy, { numEmails: 1, overrides: { tls: 'starttls', tlsCa: proxy.caFile, auth: 'xoauth2', token: c.token, to: ['a@example.com'] } })).exitCode;
      } catch (caught) {
        runExit = (caught as RunnerError).exitCode;
      }
      assert.is(runExit, c.exitCode);
    });
    clearSecrets();
  });
}

security('an unreadable --tls-ca: invalid options naming the file', async () => {
  try {
    await runCheckCommand({ tls: 'starttls', tlsCa: '/nonexistent/ca.pem', stdout: createTextSink() });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, InvalidOptionsError);
    assert.equal((error as InvalidOptionsError).problems, ['--tls-ca: cannot read /nonexistent/ca.pem: ENOENT']);
  }
});

/** "This server quotes what it was sent": refuses AUTH with the command and both secrets in its reply. */
function startEchoingServer(password: string, token: string): Promise<FakeServer> {
  return startRawServer((socket) => {
    socket.write('220 echo.test ready\r\n');
    socket.on('data', (chunk) => {
      for (const line of chunk.toString('latin1').split('\r\n').filter((text) => text !== '')) {
        if (/^EHLO/i.test(line)) socket.write('250-echo.test\r\n250 AUTH PLAIN LOGIN XOAUTH2\r\n');
        else if (/^AUTH/i.test(line)) socket.write(`535 5.7.8 refused: you sent "${line}" with ${password} and ${token}\r\n`);
        else socket.end('221 bye\r\n');
      }
    });
  });
}

security('--password and --token never show, even when the server quotes them (text and --json)', async () => {
  const password = 'Pw-Heron-4417-Secret';
  const token = 'ya29.Tok-Ibis-9923-Secret';
  const echo = await startEchoingServer(password, token);
  try {
    for (const flags of [{ password, token }, { auth: 'xoauth2' as const, token, password }]) {
      const { exitCode, text } = await checkText({ port: echo.port, admin: false, ...flags });
      assert.is(exitCode, ExitCode.targetUnreachable, text);
      assert.match(text, /✗ AUTH (PLAIN|XOAUTH2) as test@example\.com .*535 5\.7\.8 refused: you sent "AUTH (PLAIN|XOAUTH2) /);
      const { output } = await checkJson({ port: echo.port, admin: false, ...flags });
      for (const form of leakForms('test@example.com', password, token)) {
        assert.not.ok(text.includes(form), `text output contains ${form}`);
        assert.not.ok(JSON.stringify(output).includes(form), `--json output contains ${form}`);
      }
    }
  } finally {
    await echo.close();
    clearSecrets();
  }
});

security('the CLI: the flags reach the probe (--tls starttls --tls-ca FILE passes), bad --tls and --auth are usage errors (exit 2) naming the choices', async () => {
  await withFakeProxy({ tls: 'starttls' }, async (proxy) => {
    const ran = await runCli(['check', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--tls', 'starttls', '--tls-ca', proxy.caFile!, '--auth', 'login'], { limitMs: 30_000 });
    assert.is(ran.code, ExitCode.ok, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /✓ STARTTLS \+ handshake .* certificate verified/);
    assert.match(ran.stdout, /✓ AUTH LOGIN as test@example\.com/);
  });
  const badTls = await runCli(['check', '--tls', 'ssl'], { limitMs: 30_000 });
  assert.is(badTls.code, ExitCode.usage);
  assert.match(badTls.stderr, "--tls must be one of none, starttls, implicit, got 'ssl'");
  const badAuth = await runCli(['check', '--auth', 'cram-md5'], { limitMs: 30_000 });
  assert.is(badAuth.code, ExitCode.usage);
  assert.match(badAuth.stderr, "--auth must be one of plain, login, xoauth2, none, got 'cram-md5'");
});

security('--help lists the same AUTH and TLS flags, with the same help, as `runner run --help`', async () => {
  const [check, run] = await Promise.all([runCli(['check', '--help'], { limitMs: 30_000 }), runCli(['run', '--help'], { limitMs: 30_000 })]);
  const flagHelp = (help: string) => help.split('\n  --').filter((entry) => /^(auth|no-auth|password|token|tls|tls-ca|tls-servername|insecure-skip-tls-verify)[ \n]/.test(entry)).map((entry) => entry.split('\n\n')[0]!.replace(/\s+/g, ' ').trim());
  assert.is(flagHelp(check.stdout).length, 8, check.stdout);
  assert.equal(flagHelp(check.stdout), flagHelp(run.stdout));
});

security.run();
