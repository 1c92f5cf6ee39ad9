/**
 * The preflight of `runner run`: which targets and senders it checks (pure), and what it says
 * against the fake proxy, counted on the fixture's side: a few connections, no message.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type AddressInfo } from 'node:net';
import { withFakeProxy } from '../helpers.ts';
import { checkPreflightTarget, MAX_PREFLIGHT_SENDERS, planPreflight, PREFLIGHT_TIMEOUT_MS, runPreflight, type PreflightTarget } from '../../runner/preflight.ts';
import type { ResolvedOptions } from '../../runner/scenario/resolved.ts';
import { PHASES, type Phase } from '../../runner/smtp/phases.ts';
import { ExitCode, TargetUnreachableError } from '../../runner/errors.ts';

const TIMEOUTS_30S = Object.fromEntries(PHASES.map((phase) => [phase, 30_000])) as Record<Phase, number>;

/** The fields of a resolved scenario the preflight reads. */
function scenario(host: string, port: number, emails: string[], auth: 'plain' | 'none' = 'plain') {
  return { target: { host, port, adminUrl: 'http://127.0.0.1:9090/' }, smtp: { auth, timeoutsMs: TIMEOUTS_30S }, accounts: { emails } };
}

function optionsOf(...scenarios: ReturnType<typeof scenario>[]): ResolvedOptions {
  return { scenarios } as unknown as ResolvedOptions;
}

const plan = suite('preflight: the plan');

plan('one target per host:port; senders distinct regardless of case, in order; plain-SMTP scenarios add none', () => {
  const targets = planPreflight(
    optionsOf(
      scenario('127.0.0.1', 2525, ['a@x.test', 'b@x.test']),
      scenario('127.0.0.1', 2525, ['B@x.test', 'c@x.test']),
      scenario('127.0.0.1', 2526, ['d@x.test'], 'none'),
    ),
  );
  assert.equal(
    targets.map((t) => [t.host, t.port, t.adminUrl, t.isAuth, t.senders]),
    [
      ['127.0.0.1', 2525, 'http://127.0.0.1:9090', true, ['a@x.test', 'b@x.test', 'c@x.test']],
      ['127.0.0.1', 2526, 'http://127.0.0.1:9090', false, []],
    ],
  );
});

plan('timeouts: the scenario\'s, capped for a quick verdict, except AUTH (a token refresh may be slow)', () => {
  const [target] = planPreflight(optionsOf(scenario('127.0.0.1', 2525, ['a@x.test'])));
  assert.is(target!.timeoutsMs.connect, PREFLIGHT_TIMEOUT_MS);
  assert.is(target!.timeoutsMs.greeting, PREFLIGHT_TIMEOUT_MS);
  assert.is(target!.timeoutsMs.auth, 30_000);
});

plan.run();

const live = suite('preflight: against the fake proxy');

function targetOf(port: number, adminPort: number | undefined, senders: string[]): PreflightTarget {
  return { host: '127.0.0.1', port, adminUrl: `http://127.0.0.1:${adminPort ?? 9}`, isAuth: true, senders, timeoutsMs: { ...TIMEOUTS_30S, connect: 5000, greeting: 5000, ehlo: 5000, quit: 5000 } };
}

const CONFIGURED = ['test@example.com', 'sales@company.com', 'support@company.com'];

live('all configured: no problem; one connection and one AUTH per sender tried, no message', async () => {
  await withFakeProxy({}, async (proxy) => {
    const problems = await checkPreflightTarget(targetOf(proxy.port, proxy.adminPort, CONFIGURED));
    assert.equal(problems, []);
    assert.is(proxy.stats.connections, 3);
    assert.is(proxy.stats.authOk, 3);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

live(`more senders than ${MAX_PREFLIGHT_SENDERS}: the rest looked up in /admin/accounts; the missing ones named`, async () => {
  await withFakeProxy({}, async (proxy) => {
    const problems = await checkPreflightTarget(targetOf(proxy.port, proxy.adminPort, [...CONFIGURED, 'ghost@company.com']));
    assert.is(problems.length, 1);
    assert.is(problems[0]!.message, '1 of 4 senders are not configured on the proxy: ghost@company.com; /admin/accounts lists: test@example.com, sales@company.com, support@company.com');
    assert.is(proxy.stats.connections, MAX_PREFLIGHT_SENDERS);
  });
});

live('…and without an admin API that lookup is skipped silently', async () => {
  await withFakeProxy({ adminPort: null }, async (proxy) => {
    const problems = await checkPreflightTarget(targetOf(proxy.port, undefined, [...CONFIGURED, 'ghost@company.com']));
    assert.equal(problems, []);
  });
});

live('an unknown first sender: one connection, then the 535 with the configured accounts', async () => {
  await withFakeProxy({}, async (proxy) => {
    const problems = await checkPreflightTarget(targetOf(proxy.port, proxy.adminPort, ['nobody@nowhere.test', ...CONFIGURED]));
    assert.is(problems[0]!.message, '535 at AUTH for nobody@nowhere.test: the account is not configured; /admin/accounts lists: test@example.com, sales@company.com, support@company.com');
    assert.is(proxy.stats.connections, 1);
    assert.is(proxy.stats.authFailed, 1);
  });
});

live('an unknown sender without an admin API: the 535, no list', async () => {
  await withFakeProxy({ adminPort: null, unknownAccountCode: 454 }, async (proxy) => {
    const problems = await checkPreflightTarget(targetOf(proxy.port, undefined, ['nobody@nowhere.test']));
    assert.match(problems[0]!.message, /^454 at AUTH for nobody@nowhere\.test: the account is not configured; \/admin\/accounts unreachable/);
  });
});

live('runPreflight: the first problem as a TargetUnreachableError (exit 110) pointing at `runner check`', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    await runPreflight(optionsOf(scenario('127.0.0.1', port, ['test@example.com'])));
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, TargetUnreachableError);
    assert.is((error as TargetUnreachableError).exitCode, ExitCode.targetUnreachable);
    assert.is((error as Error).message, `Connection refused to 127.0.0.1:${port} — is the proxy running?`);
    assert.match((error as TargetUnreachableError).hint!, `runner check --host 127.0.0.1 --port ${port} --from test@example.com --admin-url http://127.0.0.1:9090`);
    assert.match((error as TargetUnreachableError).hint!, '/health');
  }
});

live.run();
