import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, InvalidOptionsError } from '../../runner/errors.ts';
import { BUILT_IN_METRICS, SYSTEM_TAGS } from '../../runner/metrics/catalogue.ts';
import { PHASES } from '../../runner/smtp/phases.ts';
import { loadScenarioFile } from '../../runner/scenario/load.ts';
import { resolveOptions, type CliOverrides } from '../../runner/scenario/options.ts';
import type { ResolvedOptions, ResolvedScenario } from '../../runner/scenario/resolved.ts';
import type { ResolvedSharedIterations } from '../../runner/executors/shared-iterations.ts';
import type { ResolvedConstantVus } from '../../runner/executors/constant-vus.ts';
import type { ResolvedRampingVus } from '../../runner/executors/ramping-vus.ts';
import type { ResolvedConstantArrivalRate } from '../../runner/executors/constant-arrival-rate.ts';
import type { ResolvedRampingArrivalRate } from '../../runner/executors/ramping-arrival-rate.ts';
import type { ScenarioConfig, ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { compileThresholds } from '../../runner/thresholds/index.ts';
import { scenarioDurationMs } from '../../runner/executors/index.ts';

import { tmpdir } from 'node:os';
import { fixtureCertificate } from '../../fixtures/tls.ts';

const DATA = fileURLToPath(new URL('./data/', import.meta.url));
const SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const context = { baseDir: DATA, env: { HOME: '/home/test' } };

/**
 * A resolved scenario typed as if it had every executor's options, so a test can read the ones
 * of the executor it resolved (the others are absent at run time: ResolvedScenario is a union).
 */
type AnyScenario = ResolvedScenario &
  Omit<ResolvedSharedIterations, 'executor'> &
  Omit<ResolvedConstantVus, 'executor'> &
  Omit<ResolvedRampingVus, 'executor'> &
  Omit<ResolvedConstantArrivalRate, 'executor'> &
  Omit<ResolvedRampingArrivalRate, 'executor'>;
type AnyResolvedOptions = Omit<ResolvedOptions, 'scenarios'> & { scenarios: AnyScenario[] };

const resolve = (options: ScenarioFileOptions | undefined, cli: CliOverrides = {}): Promise<AnyResolvedOptions> =>
  resolveOptions(options, cli, context) as Promise<AnyResolvedOptions>;
const one = (config: ScenarioConfig, extra: Partial<ScenarioFileOptions> = {}): ScenarioFileOptions => ({ ...extra, scenarios: { s: config } });
const only = async (options: ScenarioFileOptions, cli: CliOverrides = {}): Promise<AnyScenario> => (await resolve(options, cli)).scenarios[0]!;

/** Resolves and expects InvalidOptionsError; returns its problems. */
async function problemsOf(options: unknown, cli: CliOverrides = {}): Promise<string[]> {
  try {
    await resolve(options as ScenarioFileOptions, cli);
  } catch (error) {
    assert.instance(error, InvalidOptionsError);
    assert.is((error as InvalidOptionsError).exitCode, ExitCode.invalidOptions);
    return (error as InvalidOptionsError).problems;
  }
  assert.unreachable('expected InvalidOptionsError');
  return [];
}

async function loadAndResolve(file: string, cli: CliOverrides = {}): Promise<AnyResolvedOptions> {
  const loaded = await loadScenarioFile(file);
  return resolveOptions(loaded.options, cli, { file: loaded.file, baseDir: dirname(loaded.file), env: {} }) as Promise<AnyResolvedOptions>;
}

// ---------------------------------------------------------------------------------------------

const Defaults = suite('options: defaults and merging');

Defaults('a minimal scenario gets every default', async () => {
  const resolved = await resolve(one({ executor: 'shared-iterations' }));
  assert.is(resolved.file, undefined);
  assert.equal(resolved.env, { HOME: '/home/test' });
  assert.equal(resolved.thresholds, {});
  assert.equal(resolved.scenarios, [
    {
      name: 's',
      executor: 'shared-iterations',
      startTimeMs: 0,
      gracefulStopMs: 30_000,
      tags: {},
      target: { host: '127.0.0.1', port: 2525, adminUrl: 'http://127.0.0.1:9090' },
      smtp: {
        from: 'test@example.com',
        to: ['recipient@outlook.com'],
        auth: 'plain',
        password: 'placeholder',
        token: '',
        tls: 'none',
        isTlsVerified: true,
        tlsServername: undefined,
        tlsCa: undefined,
        tlsCert: undefined,
        tlsKey: undefined,
        tlsMinVersion: undefined,
        tlsMaxVersion: undefined,
        tlsCiphers: undefined,
        tlsResumption: false,
        protocol: 'smtp',
        ehloName: 'runner.localhost',
        messageSize: 1024,
        messagesPerConnection: 1,
        rsetBetweenMessages: true,
        pipelining: 'auto',
        chunking: false,
        chunkSizeBytes: 0,
        dsn: undefined,
        timeoutsMs: Object.fromEntries(PHASES.map((phase) => [phase, 30_000])) as never,
      },
      accounts: { pick: 'round-robin', emails: ['test@example.com'], weights: [1], file: undefined },
      // Only the options of its executor: ResolvedScenario is a union on `executor`.
      vus: 1,
      iterations: 1,
      maxDurationMs: 600_000,
    },
  ]);
});

Defaults('no file: the guide defaults (100 emails, 10 concurrent)', async () => {
  const scenario = (await resolve(undefined)).scenarios[0]!;
  assert.equal([scenario.name, scenario.executor, scenario.vus, scenario.iterations], ['default', 'shared-iterations', 10, 100]);
});

Defaults('top-level target and smtp, then per-scenario overrides field by field', async () => {
  const resolved = await resolve({
    target: { host: 'proxy.example.com', port: 587 },
    smtp: { from: 'sales@company.com', to: 'a@example.com', timeout: '10s', timeouts: { message: '2m', auth: '5s' } },
    scenarios: {
      plain: { executor: 'shared-iterations' },
      own: { executor: 'shared-iterations', target: { port: 2526 }, smtp: { to: ['b@example.com', 'c@example.com'], timeouts: { auth: '1s' }, messagesPerConnection: 5 } },
    },
  });
  const [plain, own] = resolved.scenarios;
  assert.equal(plain!.target, { host: 'proxy.example.com', port: 587, adminUrl: 'http://127.0.0.1:9090' });
  assert.equal(own!.target, { host: 'proxy.example.com', port: 2526, adminUrl: 'http://127.0.0.1:9090' });
  assert.equal(plain!.smtp.to, ['a@example.com']);
  assert.equal(own!.smtp.to, ['b@example.com', 'c@example.com']);
  assert.is(own!.smtp.from, 'sales@company.com');
  assert.is(own!.smtp.messagesPerConnection, 5);
  assert.equal([plain!.smtp.timeoutsMs.ehlo, plain!.smtp.timeoutsMs.message, plain!.smtp.timeoutsMs.auth], [10_000, 120_000, 5_000]);
  assert.equal([own!.smtp.timeoutsMs.ehlo, own!.smtp.timeoutsMs.message, own!.smtp.timeoutsMs.auth], [10_000, 120_000, 1_000]);
  assert.equal(plain!.accounts.emails, ['sales@company.com']);
});

const executorCases: Array<{ name: string; config: ScenarioConfig; expected: Partial<AnyScenario> }> = [
  { name: 'per-vu-iterations', config: { executor: 'per-vu-iterations', vus: 3, iterations: 4 }, expected: { vus: 3, iterations: 4, maxDurationMs: 600_000 } },
  { name: 'constant-vus', config: { executor: 'constant-vus', vus: 5, duration: '1m30s' }, expected: { vus: 5, durationMs: 90_000, maxDurationMs: undefined } },
  {
    name: 'ramping-vus',
    config: { executor: 'ramping-vus', stages: [{ duration: '10s', target: 5 }, { duration: 2500, target: 0 }] },
    expected: { startVUs: 1, gracefulRampDownMs: 30_000, stages: [{ durationMs: 10_000, target: 5 }, { durationMs: 2500, target: 0 }], vus: undefined },
  },
  {
    name: 'constant-arrival-rate (maxVUs defaults to preAllocatedVUs)',
    config: { executor: 'constant-arrival-rate', rate: 1000, timeUnit: '1m', duration: '10m', preAllocatedVUs: 50 },
    expected: { rate: 1000, timeUnitMs: 60_000, durationMs: 600_000, preAllocatedVUs: 50, maxVUs: 50, maxQueueWaitMs: 30_000 },
  },
  {
    name: "constant-arrival-rate with maxQueueWait '0s' (k6's drop at once)",
    config: { executor: 'constant-arrival-rate', rate: 10, duration: '1m', preAllocatedVUs: 5, maxQueueWait: '0s' },
    expected: { maxQueueWaitMs: 0 },
  },
  {
    name: 'ramping-arrival-rate',
    config: { executor: 'ramping-arrival-rate', stages: [{ duration: '1m', target: 10 }], preAllocatedVUs: 2, maxVUs: 4 },
    expected: { startRate: 0, timeUnitMs: 1000, stages: [{ durationMs: 60_000, target: 10 }], preAllocatedVUs: 2, maxVUs: 4, maxQueueWaitMs: 30_000 },
  },
  {
    name: 'ramping-arrival-rate with maxQueueWait',
    config: { executor: 'ramping-arrival-rate', stages: [{ duration: '1m', target: 10 }], preAllocatedVUs: 2, maxQueueWait: '2.5s' },
    expected: { maxQueueWaitMs: 2500 },
  },
  { name: 'batches', config: { executor: 'batches', vus: 10, iterations: 100 }, expected: { vus: 10, iterations: 100 } },
];
for (const { name, config, expected } of executorCases) {
  Defaults(`executor ${name}`, async () => {
    const scenario = await only(one(config));
    for (const [key, value] of Object.entries(expected)) assert.equal(scenario[key as keyof AnyScenario], value, key);
  });
}

Defaults('thresholds pass through as written; code fields pass through', async () => {
  const iteration = async () => undefined;
  const setup = () => ({ token: 1 });
  const thresholds = { smtp_txn_duration: ['p(95)<0.5s', { threshold: 'p(99)<1s', abortOnFail: true, delayAbortEval: '10s' }] };
  const resolved = await resolve({ thresholds, iteration, setup, scenarios: { s: { executor: 'shared-iterations' } } } as ScenarioFileOptions);
  assert.equal(resolved.thresholds, thresholds);
  assert.is(resolved.iteration, iteration);
  assert.is(resolved.setup, setup);
  assert.is(resolved.teardown, undefined);
});

Defaults('shared-iterations never runs more VUs than iterations', async () => {
  assert.is((await only(one({ executor: 'shared-iterations', vus: 10, iterations: 3 }))).vus, 3);
});

// ---------------------------------------------------------------------------------------------

const Problems = suite('options: every problem at once, with its path and a fix');

Problems('many problems in one error', async () => {
  const problems = await problemsOf({
    target: { port: 70000 },
    smtp: { to: 'bob', from: 'sales@company.com' },
    scenarios: {
      peak: { executor: 'constant-arrival-rate', rate: 0, duration: '1m', preAllocatedVUs: 50, maxVUs: 10 },
      ramp: { executor: 'ramping-vus', stages: [{ duration: '1m', target: 10 }, { duration: '5x', target: 0 }] },
      typo: { executor: 'shared-iterations', iteratons: 10 },
    },
  });
  assert.equal(problems, [
    'scenarios.peak.maxVUs: must be >= preAllocatedVUs (50)',
    'scenarios.peak.rate: must be > 0 (got 0)',
    "scenarios.ramp.stages[1].duration: '5x' is not a duration: use e.g. '30s', '5m' (or a number of milliseconds)",
    "scenarios.typo.iteratons: unknown option: did you mean 'iterations'?",
    "smtp.to: 'bob' is not an email address",
    'target.port: 70000 is out of range 1-65535',
  ]);
});

Problems('client TLS material that cannot work is refused before connecting, naming the file and the flag: a PEM that is not one, a cipher list with no cipher', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-files-'));
  try {
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a PEM file\n');
    const good = fixtureCertificate();
    const goodKey = join(dir, 'key.pem');
    writeFileSync(goodKey, good.key);
    assert.equal(await problemsOf(one({ executor: 'shared-iterations' }), { tls: 'starttls', tlsCa: garbage }), [
      `smtp.tlsCa: ${garbage} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA certificate(s) of the server (--tls-ca)`,
    ]);
    // (OpenSSL's error codes vary with its version: the code in brackets is not compared)
    const pair = await problemsOf(one({ executor: 'shared-iterations' }), { tls: 'starttls', tlsCert: garbage, tlsKey: garbage });
    assert.is(pair.length, 2);
    assert.match(pair[0]!, /^scenarios\.s\.smtp\.tlsCert: not a usable PEM certificate \(ERR_\w+\): give the client certificate in PEM \(--tls-cert\)$/);
    assert.match(pair[1]!, /^scenarios\.s\.smtp\.tlsKey: not a usable PEM private key \(ERR_\w+\): give the client certificate's private key in PEM \(--tls-key\)$/);
    const ciphers = await problemsOf(one({ executor: 'shared-iterations' }), { tls: 'starttls', tlsCiphers: 'NOPE' });
    assert.is(ciphers.length, 1);
    assert.match(ciphers[0]!, /^scenarios\.s\.smtp\.tlsCiphers: 'NOPE' names no cipher this Node \(OpenSSL\) knows \(ERR_\w+\): e\.g\. /);
    // Good material passes
    const resolved = await only(one({ executor: 'shared-iterations' }), { tls: 'starttls', tlsCa: good.certFile, tlsCert: good.certFile, tlsKey: goodKey, tlsCiphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.is(resolved.smtp.tlsCert, good.cert);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const semanticCases: Array<{ name: string; options: unknown; problem: string }> = [
  { name: 'rate must be > 0', options: one({ executor: 'constant-arrival-rate', rate: -1, duration: '1m', preAllocatedVUs: 1 }), problem: 'scenarios.s.rate: must be > 0 (got -1)' },
  { name: 'zero duration', options: one({ executor: 'constant-vus', duration: '0s' }), problem: "scenarios.s.duration: must be > 0 (got '0s')" },
  { name: 'stages lasting nothing', options: one({ executor: 'ramping-vus', stages: [{ duration: 0, target: 5 }] }), problem: 'scenarios.s.stages: the stages last 0s in total' },
  { name: 'ramping-vus that never runs a VU', options: one({ executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '1m', target: 0 }] }), problem: 'scenarios.s.stages: startVUs and every stage target are 0' },
  { name: 'fractional VU target', options: one({ executor: 'ramping-vus', stages: [{ duration: '1m', target: 2.5 }] }), problem: 'scenarios.s.stages[0].target: must be a whole number (got 2.5)' },
  {
    name: 'maxQueueWait negative',
    options: one({ executor: 'constant-arrival-rate', rate: 1, duration: '1m', preAllocatedVUs: 1, maxQueueWait: '-5s' }),
    problem: "scenarios.s.maxQueueWait: '-5s' is negative: use how long an arrival may wait for a free VU, e.g. '10s', or '0s' to drop it at once as k6 does",
  },
  {
    name: 'maxQueueWait negative milliseconds',
    options: one({ executor: 'ramping-arrival-rate', stages: [{ duration: '1m', target: 5 }], preAllocatedVUs: 1, maxQueueWait: -1 }),
    problem: "scenarios.s.maxQueueWait: must be a number of milliseconds >= 0 (got -1): use how long an arrival may wait for a free VU, e.g. '10s', or '0s'",
  },
  {
    name: 'maxQueueWait not a duration',
    options: one({ executor: 'constant-arrival-rate', rate: 1, duration: '1m', preAllocatedVUs: 1, maxQueueWait: '10 seconds' }),
    problem: "scenarios.s.maxQueueWait: '10 seconds' is not a duration: use how long an arrival may wait for a free VU, e.g. '10s'",
  },
  {
    name: 'maxQueueWait on a closed-model executor',
    options: one({ executor: 'constant-vus', duration: '1m', maxQueueWait: '10s' } as never),
    problem: 'scenarios.s.maxQueueWait: is not an option of executor constant-vus (it belongs to constant-arrival-rate, ramping-arrival-rate)',
  },
  { name: 'arrival rate without any VU', options: one({ executor: 'constant-arrival-rate', rate: 1, duration: '1m', preAllocatedVUs: 0 }), problem: 'scenarios.s.preAllocatedVUs: must be >= 1, or set maxVUs' },
  { name: 'from is not an email', options: one({ executor: 'shared-iterations', smtp: { from: 'sales' } }), problem: "scenarios.s.smtp.from: 'sales' is not an email address" },
  { name: 'one recipient of several', options: { smtp: { to: ['a@example.com', 'b'] }, scenarios: { s: { executor: 'shared-iterations' } } }, problem: "smtp.to[1]: 'b' is not an email address" },
  { name: 'zero timeout', options: { smtp: { timeouts: { auth: 0 } }, scenarios: { s: { executor: 'shared-iterations' } } }, problem: 'smtp.timeouts.auth: must be > 0 (got 0)' },
  { name: 'admin URL', options: { target: { adminUrl: 'localhost:9090' }, scenarios: { s: { executor: 'shared-iterations' } } }, problem: "target.adminUrl: 'localhost:9090' is not an http(s) URL" },
  { name: 'system tag', options: one({ executor: 'shared-iterations', tags: { scenario: 'x' } }), problem: "scenarios.s.tags.scenario: tag 'scenario' is set by runner" },
  { name: 'weights without weighted', options: { accounts: { file: 'accounts.json', weights: { 'a@example.com': 2 } }, scenarios: { s: { executor: 'shared-iterations' } } }, problem: "accounts.weights: weights are only used with pick: 'weighted'" },
  { name: 'threshold not a list', options: { thresholds: { smtp_txn_failed: 'rate<0.01' }, scenarios: { s: { executor: 'shared-iterations' } } }, problem: "thresholds.smtp_txn_failed: must be a list of conditions, e.g. ['rate<0.01']" },
  { name: 'no scenarios', options: { scenarios: {} }, problem: 'scenarios: add at least one scenario' },
  { name: 'code in a data file', options: { iteration: 'send twice', scenarios: { s: { executor: 'shared-iterations' } } }, problem: 'iteration: must be a function (custom code needs a TypeScript or JavaScript scenario file)' },
];
for (const { name, options, problem } of semanticCases) {
  Problems(name, async () => {
    const problems = await problemsOf(options);
    assert.ok(problems.some((text) => text.startsWith(problem)), `expected '${problem}' in:\n${problems.join('\n')}`);
  });
}

for (const [executor, start] of [['ramping-vus', 'startVUs'], ['ramping-arrival-rate', 'startRate']] as const) {
  Problems(`${executor}: negative ${start} and targets are reported as such, not as "every stage target is 0"`, async () => {
    const problems = await problemsOf(one({ executor, [start]: 0, preAllocatedVUs: 1, stages: [{ duration: '1s', target: -5 }] } as never));
    const negative = await problemsOf(one({ executor, [start]: -1, preAllocatedVUs: 1, stages: [{ duration: '1s', target: 2 }] } as never));
    for (const list of [problems, negative]) assert.not.ok(list.some((text) => / are 0/.test(text)), list.join('\n'));
    assert.ok(problems.includes('scenarios.s.stages[0].target: must be >= 0 (got -5)'), problems.join('\n'));
    assert.ok(negative.includes(`scenarios.s.${start}: must be >= 0 (got -1)`), negative.join('\n'));
  });
}

Problems('a YAML typo: path and suggestion', async () => {
  const loaded = await loadScenarioFile(join(DATA, 'typo.yaml'));
  const problems = await problemsOf(loaded.options);
  assert.equal(problems, [
    "scenarios.peak.rat: unknown option: did you mean 'rate'?",
    'scenarios.peak.rate: is required by executor constant-arrival-rate',
    "target.hots: unknown option: did you mean 'host'?",
  ]);
});

Problems('the error message lists every problem', async () => {
  try {
    await resolve({ scenarios: { a: { executor: 'constant-vus', duration: 'x' }, b: { executor: 'shared-iterations', vus: 0 } } } as never);
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /^invalid options:\n {2}- scenarios\.a\.duration: .*\n {2}- scenarios\.b\.vus: must be >= 1/);
    assert.ok((error as InvalidOptionsError).hint);
  }
});

// ---------------------------------------------------------------------------------------------

const Accounts = suite('options: accounts files');

Accounts('weighted at the top, round robin per scenario, paths relative to the file', async () => {
  const resolved = await loadAndResolve(join(DATA, 'with-accounts.yaml'));
  const [main, other] = resolved.scenarios;
  assert.equal(main!.accounts, {
    pick: 'weighted',
    emails: ['sales@company.com', 'support@company.com', 'ops@company.com'],
    weights: [3, 1, 0],
    file: join(DATA, 'accounts.json'),
  });
  assert.equal(other!.accounts, { pick: 'round-robin', emails: ['a@example.com', 'b@example.com'], weights: [1, 1], file: join(DATA, 'accounts-wrapped.json') });
});

Accounts('--from replaces the accounts file', async () => {
  const resolved = await loadAndResolve(join(DATA, 'with-accounts.yaml'), { from: 'x@example.com' });
  for (const scenario of resolved.scenarios) {
    assert.equal(scenario.accounts.emails, ['x@example.com']);
    assert.is(scenario.smtp.from, 'x@example.com');
  }
});

Accounts('a missing accounts file and an unknown weighted email are problems', async () => {
  const problems = await problemsOf({
    accounts: { file: 'accounts.json', pick: 'weighted', weights: { 'nobody@example.com': 2 } },
    scenarios: { a: { executor: 'shared-iterations' }, b: { executor: 'shared-iterations', accounts: { file: 'missing.json' } } },
  });
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /^accounts\.weights\['nobody@example\.com'\]: not an account of accounts\.json \(it has sales@company\.com/);
  assert.match(problems[1]!, /^scenarios\.b\.accounts\.file: cannot read accounts file .*missing\.json: no such file/);
});

// ---------------------------------------------------------------------------------------------

const Cli = suite('options: command-line overrides');

const ALL_EXECUTORS: ScenarioFileOptions = {
  scenarios: {
    shared: { executor: 'shared-iterations', vus: 4, iterations: 100, maxDuration: '10m' },
    perVu: { executor: 'per-vu-iterations', vus: 2, iterations: 10 },
    constant: { executor: 'constant-vus', vus: 5, duration: '1h', startTime: '10s' },
    ramp: { executor: 'ramping-vus', startVUs: 2, stages: [{ duration: '1m', target: 10 }, { duration: '3m', target: 20 }] },
    car: { executor: 'constant-arrival-rate', rate: 100, timeUnit: '1m', duration: '10m', preAllocatedVUs: 5, maxVUs: 8 },
    rar: { executor: 'ramping-arrival-rate', stages: [{ duration: '30s', target: 10 }, { duration: '90s', target: 0 }], preAllocatedVUs: 3 },
    batches: { executor: 'batches', vus: 10, iterations: 50 },
  },
};
const byName = (resolved: AnyResolvedOptions) => Object.fromEntries(resolved.scenarios.map((s) => [s.name, s]));

Cli('an IPv6 host written as in a URL ([::1]) in a file is the address (--host: flag-groups.test.ts); a name in brackets is left as given', async () => {
  const fromFile = await resolve({ target: { host: '[2001:db8::5]' }, scenarios: { a: { executor: 'shared-iterations' } } });
  assert.is(fromFile.scenarios[0]!.target.host, '2001:db8::5');
  const name = await resolve({ target: { host: '[mx.example.com]' }, scenarios: { a: { executor: 'shared-iterations' } } });
  assert.is(name.scenarios[0]!.target.host, '[mx.example.com]');
});

Cli('target and smtp flags override every scenario', async () => {
  const resolved = await resolve(
    { target: { host: 'a.example.com' }, smtp: { timeouts: { message: '2m' } }, scenarios: { a: { executor: 'shared-iterations', target: { port: 1 } }, b: { executor: 'constant-vus', duration: '1s' } } },
    { host: 'proxy.example.com', port: 2626, adminUrl: 'http://proxy.example.com:9999', to: ['x@example.com', 'y@example.com'], auth: 'none', messageSize: 10, messagesPerConnection: 3, timeoutMs: 1500 },
  );
  for (const scenario of resolved.scenarios) {
    assert.equal(scenario.target, { host: 'proxy.example.com', port: 2626, adminUrl: 'http://proxy.example.com:9999' });
    assert.equal(scenario.smtp.to, ['x@example.com', 'y@example.com']);
    assert.equal([scenario.smtp.auth, scenario.smtp.messageSize, scenario.smtp.messagesPerConnection], ['none', 10, 3]);
    assert.ok(PHASES.every((phase) => scenario.smtp.timeoutsMs[phase] === 1500));
  }
});

Cli('--no-rset overrides the file; without it the file (or the default, true) decides', async () => {
  const file: ScenarioFileOptions = { smtp: { rsetBetweenMessages: true }, scenarios: { a: { executor: 'shared-iterations', smtp: { rsetBetweenMessages: false } }, b: { executor: 'shared-iterations' } } };
  const asFiled = byName(await resolve(file, {}));
  assert.equal([asFiled['a']!.smtp.rsetBetweenMessages, asFiled['b']!.smtp.rsetBetweenMessages], [false, true]);
  const flagged = byName(await resolve(file, { rsetBetweenMessages: false }));
  assert.equal([flagged['a']!.smtp.rsetBetweenMessages, flagged['b']!.smtp.rsetBetweenMessages], [false, false]);
  assert.is((await resolve({ scenarios: { a: { executor: 'shared-iterations' } } }, {})).scenarios[0]!.smtp.rsetBetweenMessages, true);
});

Cli('--vus', async () => {
  const s = byName(await resolve(ALL_EXECUTORS, { vus: 40 }));
  assert.equal([s['shared']!.vus, s['perVu']!.vus, s['constant']!.vus, s['batches']!.vus], [40, 40, 40, 40]);
  // ramping-vus: the profile keeps its shape, its peak becomes 40
  assert.equal([s['ramp']!.startVUs, ...s['ramp']!.stages.map((stage) => stage.target)], [4, 20, 40]);
  // arrival rate: a floor for the VU pool
  assert.equal([s['car']!.preAllocatedVUs, s['car']!.maxVUs, s['rar']!.preAllocatedVUs, s['rar']!.maxVUs], [40, 40, 40, 40]);
  const small = byName(await resolve(ALL_EXECUTORS, { vus: 4 }));
  assert.equal([small['car']!.preAllocatedVUs, small['car']!.maxVUs], [5, 8]);
});

Cli('--iterations', async () => {
  const s = byName(await resolve(ALL_EXECUTORS, { iterations: 7 }));
  assert.equal([s['shared']!.iterations, s['perVu']!.iterations, s['batches']!.iterations, s['constant']!.iterations], [7, 7, 7, undefined]);
  assert.is(s['shared']!.vus, 4);
  assert.is(s['batches']!.vus, 7); // no more VUs than iterations
});

Cli('--rate', async () => {
  const s = byName(await resolve(ALL_EXECUTORS, { rate: 250 }));
  assert.equal([s['car']!.rate, s['car']!.timeUnitMs, s['rar']!.rate], [250, 60_000, undefined]);
});

Cli('--duration', async () => {
  const s = byName(await resolve(ALL_EXECUTORS, { duration: '30s' }));
  assert.equal([s['constant']!.durationMs, s['car']!.durationMs], [30_000, 30_000]);
  assert.equal([s['shared']!.maxDurationMs, s['perVu']!.maxDurationMs, s['batches']!.maxDurationMs], [30_000, 30_000, 30_000]);
  // stages keep their proportions (1:3 and 1:3) and total exactly 30 s
  assert.equal(s['ramp']!.stages.map((stage) => stage.durationMs), [7_500, 22_500]);
  assert.equal(s['rar']!.stages.map((stage) => stage.durationMs), [7_500, 22_500]);
  assert.equal(s['constant']!.startTimeMs, 10_000);
  const odd = await only(one({ executor: 'ramping-vus', stages: [{ duration: '1s', target: 1 }, { duration: '1s', target: 2 }, { duration: '1s', target: 0 }] }), { duration: '1s' });
  assert.is(odd.stages.reduce((sum, stage) => sum + stage.durationMs, 0), 1000);
});

Cli('--scale: every time span and iteration count, not rates or VUs', async () => {
  const resolved = await resolve(
    { ...ALL_EXECUTORS, thresholds: { x: [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '1m' }, 'rate<0.01'] } },
    { scale: 0.01 },
  );
  const s = byName(resolved);
  assert.equal([s['shared']!.iterations, s['shared']!.vus, s['shared']!.maxDurationMs], [1, 1, 6_000]);
  assert.equal([s['perVu']!.iterations, s['perVu']!.vus], [1, 2]);
  assert.equal([s['constant']!.durationMs, s['constant']!.startTimeMs, s['constant']!.vus, s['constant']!.gracefulStopMs], [36_000, 100, 5, 30_000]);
  assert.equal(s['ramp']!.stages, [{ durationMs: 600, target: 10 }, { durationMs: 1800, target: 20 }]);
  assert.equal([s['car']!.durationMs, s['car']!.rate, s['car']!.timeUnitMs, s['car']!.maxQueueWaitMs], [6_000, 100, 60_000, 30_000]);
  assert.equal(resolved.thresholds['x'], [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: 600 }, 'rate<0.01']);
});

Cli('--scale then --duration: the duration is exact', async () => {
  const scenario = await only(one({ executor: 'constant-vus', duration: '1h', startTime: '1m' }), { scale: 0.5, duration: '10s' });
  assert.equal([scenario.durationMs, scenario.startTimeMs], [10_000, 30_000]);
});

Cli('--scenario keeps only the named scenarios, in file order', async () => {
  const resolved = await resolve(ALL_EXECUTORS, { scenario: ['car', 'shared'] });
  assert.equal(resolved.scenarios.map((s) => s.name), ['shared', 'car']);
});

Cli('--env merges into the environment; --tag adds to every scenario', async () => {
  const resolved = await resolve(
    { scenarios: { a: { executor: 'shared-iterations', tags: { team: 'mail', run: 'file' } }, b: { executor: 'shared-iterations' } } },
    { env: { RATE: '5', HOME: '/override' }, tags: { run: 'ci-42' } },
  );
  assert.equal(resolved.env, { HOME: '/override', RATE: '5' });
  assert.equal(resolved.scenarios.map((s) => s.tags), [{ team: 'mail', run: 'ci-42' }, { run: 'ci-42' }]);
});

const cliProblemCases: Array<{ name: string; cli: CliOverrides; options?: ScenarioFileOptions; problem: string }> = [
  { name: 'unknown scenario name', cli: { scenario: ['peak'] }, problem: "--scenario: no scenario named 'peak': the file has shared, perVu, constant, ramp, car, rar, batches" },
  { name: '--iterations with no iteration-based scenario', cli: { iterations: 5 }, options: one({ executor: 'constant-vus', duration: '1m' }), problem: '--iterations: applies to shared-iterations, per-vu-iterations and batches scenarios; this run has s (constant-vus)' },
  { name: '--rate with no constant-arrival-rate scenario', cli: { rate: 5 }, options: one({ executor: 'constant-vus', duration: '1m' }), problem: '--rate: applies to constant-arrival-rate scenarios' },
  { name: 'port out of range', cli: { port: 70000 }, problem: '--port: 70000 is out of range 1-65535' },
  { name: 'bad duration', cli: { duration: '5x' }, problem: "--duration: '5x' is not a duration" },
  { name: 'scale 0', cli: { scale: 0 }, problem: '--scale: must be > 0 (got 0)' },
  { name: 'from not an email', cli: { from: 'bob' }, problem: "--from: 'bob' is not an email address" },
  { name: 'vus 0', cli: { vus: 0 }, problem: '--vus: must be a whole number >= 1 (got 0)' },
  { name: 'system tag', cli: { tags: { account: 'x' } }, problem: "--tag: 'account' is set by runner" },
];
for (const { name, cli, options, problem } of cliProblemCases) {
  Cli(`error: ${name}`, async () => {
    const problems = await problemsOf(options ?? ALL_EXECUTORS, cli);
    assert.ok(problems.some((text) => text.startsWith(problem)), `expected '${problem}' in:\n${problems.join('\n')}`);
  });
}

Cli('file and flag problems are reported together', async () => {
  const problems = await problemsOf(one({ executor: 'constant-vus', duration: 'x' }), { port: 0, scenario: ['nope'] });
  assert.is(problems.length, 3, problems.join('\n'));
});

// ---------------------------------------------------------------------------------------------

const Shipped = suite('options: the shipped scenarios');

const shippedFiles = readdirSync(SCENARIOS).filter((name) => /\.(ts|yaml)$/.test(name)).sort();

Shipped('all of them are there', () => {
  assert.equal(shippedFiles, ['baseline.ts', 'baseline.yaml', 'custom-ramp.ts', 'moderate.ts', 'peak-load.ts', 'production.ts', 'soak.ts', 'stress.ts']);
});

for (const name of shippedFiles) {
  Shipped(`${name} loads, resolves, and its thresholds compile`, async () => {
    const resolved = await loadAndResolve(join(SCENARIOS, name));
    assert.ok(resolved.description);
    assert.ok(resolved.scenarios.length >= 1);
    const tags = [...SYSTEM_TAGS, ...resolved.scenarios.flatMap((s) => Object.keys(s.tags))];
    const thresholds = compileThresholds(resolved.thresholds, BUILT_IN_METRICS, tags);
    assert.ok(thresholds.length >= 2, `${name} has thresholds`);
  });
}

const guideCases: Array<{ file: string; expected: Partial<AnyScenario> }> = [
  { file: 'baseline.ts', expected: { executor: 'shared-iterations', vus: 10, iterations: 100 } },
  { file: 'moderate.ts', expected: { executor: 'shared-iterations', vus: 25, iterations: 500 } },
  { file: 'stress.ts', expected: { executor: 'shared-iterations', vus: 100, iterations: 2000 } },
  { file: 'soak.ts', expected: { executor: 'constant-vus', vus: 50, durationMs: 3_600_000 } },
  { file: 'production.ts', expected: { executor: 'constant-arrival-rate', rate: 1000, timeUnitMs: 60_000 } },
  { file: 'peak-load.ts', expected: { executor: 'constant-arrival-rate', rate: 5000, timeUnitMs: 60_000 } },
];
for (const { file, expected } of guideCases) {
  Shipped(`${file} is the guide's profile`, async () => {
    const scenario = (await loadAndResolve(join(SCENARIOS, file))).scenarios[0]!;
    for (const [key, value] of Object.entries(expected)) assert.equal(scenario[key as keyof AnyScenario], value, key);
  });
}

Shipped('custom-ramp.ts ramps through several stages', async () => {
  const scenario = (await loadAndResolve(join(SCENARIOS, 'custom-ramp.ts'))).scenarios[0]!;
  assert.ok(scenario.executor === 'ramping-arrival-rate' || scenario.executor === 'ramping-vus');
  assert.ok(scenario.stages.length >= 5);
});

Shipped('soak.ts with --scale 0.001 runs in seconds', async () => {
  const scenario = (await loadAndResolve(join(SCENARIOS, 'soak.ts'), { scale: 0.001 })).scenarios[0]!;
  assert.is(scenario.durationMs, 3_600);
  assert.is(scenario.vus, 50);
});

Shipped('every shipped scenario lasts at most a few seconds with --scale 0.001', async () => {
  for (const name of shippedFiles) {
    for (const scenario of (await loadAndResolve(join(SCENARIOS, name), { scale: 0.001 })).scenarios) {
      const profileMs = scenario.startTimeMs + scenarioDurationMs(scenario);
      assert.ok(profileMs <= 5_000, `${name}: ${profileMs} ms`);
    }
  }
});

Shipped('baseline.ts and baseline.yaml resolve to the same options', async () => {
  const fromTs = await loadAndResolve(join(SCENARIOS, 'baseline.ts'));
  const fromYaml = await loadAndResolve(join(SCENARIOS, 'baseline.yaml'));
  assert.equal({ ...fromYaml, file: undefined, description: undefined }, { ...fromTs, file: undefined, description: undefined });
});

const Retry = suite('retry: resolved with its defaults, every problem with its path, --retry over the file');
Retry('defaults: 4xx, 5 attempts, 1s doubling to 5m, jittered; the scenario\'s own wins over the top level', async () => {
  const resolved = await resolve({ retry: { attempts: 3 }, scenarios: { a: { executor: 'shared-iterations' }, b: { executor: 'shared-iterations', retry: { on: ['451'] } } } });
  const [a, b] = resolved.scenarios;
  assert.equal(a!.retry, { codes: new Set(), isAny4xx: true, attempts: 3, initialMs: 1000, maxMs: 300_000, factor: 2, isJittered: true });
  assert.equal(b!.retry, { codes: new Set([451]), isAny4xx: false, attempts: 5, initialMs: 1000, maxMs: 300_000, factor: 2, isJittered: true });
  assert.is((await only(one({ executor: 'shared-iterations' }))).retry, undefined);
});
Retry('problems: a 5xx, max below initial, a factor below 1, an unknown key', async () => {
  const problems = await problemsOf(one({ executor: 'shared-iterations', retry: { on: ['550'], backoff: { initial: '10s', max: '1s' } } }));
  assert.ok(problems.some((p) => /scenarios\.s\.retry\.on\[0\]: '550' is not a transient reply/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /scenarios\.s\.retry\.backoff\.max: must be >= backoff\.initial/.test(p)), problems.join('\n'));
  const factor = await problemsOf(one({ executor: 'shared-iterations', retry: { backoff: { factor: 0.5 } } }));
  assert.ok(factor.some((p) => /scenarios\.s\.retry\.backoff\.factor/.test(p)), factor.join('\n'));
  const unknown = await problemsOf(one({ executor: 'shared-iterations', retry: { tries: 3 } } as unknown as ScenarioConfig));
  assert.ok(unknown.some((p) => /retry/.test(p) && /tries/.test(p)), unknown.join('\n'));
});
Retry('--retry 451,421:2 replaces the file\'s on every scenario; a bad one is a -- problem', async () => {
  const scenario = await only(one({ executor: 'shared-iterations', retry: { on: ['4xx'], attempts: 9 } }), { retry: '451,421:2' });
  assert.equal([...scenario.retry!.codes], [451, 421]);
  assert.is(scenario.retry!.attempts, 2);
  const problems = await problemsOf(one({ executor: 'shared-iterations' }), { retry: '550' });
  assert.ok(problems.every((p) => p.startsWith('--retry')), problems.join('\n'));
});

Defaults.run();
Problems.run();
Retry.run();
Accounts.run();
Cli.run();
Shipped.run();
