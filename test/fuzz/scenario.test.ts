/**
 * Scenario files from anyone (issue 19, "Fuzzing"): random option objects, written as YAML and
 * JSON, mutated YAML text, and bytes, through load (loadScenarioFile) and validation
 * (resolveOptions). Whatever the file says, runner either resolves it or throws a RunnerError
 * whose exit code is not 1 ("a bug in runner", which a user's mistake must never be); it never
 * hangs (a fixed time budget bounds the suite) and never writes anything.
 * Seeded: FUZZ_SEED=<n> replays a failure (the seed is printed with it); FUZZ_RUNS=<n> sets the count.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ExitCode, RunnerError } from '../../runner/errors.ts';
import { loadScenarioFile } from '../../runner/scenario/load.ts';
import { resolveOptions } from '../../runner/scenario/options.ts';
import { EXECUTORS } from '../../runner/executors/index.ts';
import { clearSecrets } from '../../runner/redact.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 19_2025);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 250);
/** Each property stops after this long even if runs are left (a busy CI machine): no hang, whatever the input. */
const BUDGET_MS = Number(process.env['FUZZ_BUDGET_MS'] ?? 15_000);

// ---------------------------------------------------------------------------------------------
// Option values: right, wrong and odd ones, of every JSON/YAML type

const number = fc.oneof(
  fc.integer({ min: -5, max: 200 }),
  fc.constantFrom(0, -1, 0.5, 1e9, 1e12, 1e21, Number.MAX_SAFE_INTEGER, -0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const duration = fc.oneof(
  fc.constantFrom('1s', '500ms', '2m', '0s', '-3s', '1h30m', '10', 's', '', '1e3s', '999999999h'),
  fc.tuple(fc.integer({ min: -10, max: 10_000 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'x', '')).map(([n, unit]) => `${n}${unit}`),
  number,
);
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('a@b.test', 'test@example.com', '127.0.0.1', 'plain', 'none', 'starttls', 'p(95)<500', '${ENV}'));
/** Any small JSON value (objects and lists of depth ≤ 2). */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: number },
  { weight: 3, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
  { weight: 1, arbitrary: fc.array(fc.oneof(number, text), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(number, text), { maxKeys: 3 }) },
);
/** A field's value: mostly of a plausible kind for it, else anything. */
const valueOf = (plausible: fc.Arbitrary<unknown>) => fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 1, arbitrary: anyValue });

const stage = fc.record({ duration: valueOf(duration), target: valueOf(number) }, { requiredKeys: [] });
const scenario = fc.record(
  {
    executor: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...Object.keys(EXECUTORS)) }, { weight: 1, arbitrary: text }),
    vus: valueOf(number),
    maxVUs: valueOf(number),
    preAllocatedVUs: valueOf(number),
    iterations: valueOf(number),
    duration: valueOf(duration),
    maxDuration: valueOf(duration),
    rate: valueOf(number),
    timeUnit: valueOf(duration),
    startRate: valueOf(number),
    startVUs: valueOf(number),
    stages: valueOf(fc.array(stage, { maxLength: 3 })),
    gracefulStop: valueOf(duration),
    startTime: valueOf(duration),
    tags: valueOf(fc.dictionary(fc.string({ maxLength: 6 }), text, { maxKeys: 2 })),
  },
  { requiredKeys: ['executor'] },
);
const smtp = fc.record(
  {
    from: valueOf(text),
    to: valueOf(fc.array(text, { maxLength: 2 })),
    auth: valueOf(fc.constantFrom('plain', 'login', 'xoauth2', 'none', 'cram-md5')),
    password: valueOf(text),
    token: valueOf(text),
    tls: valueOf(fc.constantFrom('none', 'starttls', 'implicit', 'yes')),
    messageSize: valueOf(number),
    messagesPerConnection: valueOf(number),
    timeout: valueOf(duration),
    timeouts: valueOf(fc.dictionary(fc.constantFrom('connect', 'greeting', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'message', 'quit', 'bogus'), duration, { maxKeys: 3 })),
    ehloName: valueOf(text),
  },
  { requiredKeys: [] },
);
const options = fc.record(
  {
    scenarios: fc.oneof(
      { weight: 6, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom('main', 'peak', 'a-b_c'), fc.string({ maxLength: 6 })), scenario, { minKeys: 1, maxKeys: 2 }) },
      { weight: 1, arbitrary: anyValue },
    ),
    smtp: valueOf(smtp),
    target: valueOf(fc.record({ host: valueOf(text), port: valueOf(number), adminUrl: valueOf(text) }, { requiredKeys: [] })),
    thresholds: valueOf(fc.dictionary(fc.constantFrom('smtp_txn_duration', 'smtp_failed', 'checks', 'bogus'), fc.array(text, { maxLength: 2 }), { maxKeys: 2 })),
    warmup: valueOf(duration),
    description: valueOf(text),
    extra: anyValue,
  },
  { requiredKeys: [] },
);

/** YAML text: a random option object written as YAML, then cut and spliced at random points. */
const mutatedYaml = fc
  .tuple(options, fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('', ':', '- ', '  ', '\n', '"', '&a ', '*a', '!!binary ', '{', ']', '\t', '#', '%YAML 1.2\n---\n')), { maxLength: 3 }))
  .map(([value, edits]) => {
    let yaml = stringify(value);
    for (const [at, cut, insert] of edits) {
      const start = yaml.length === 0 ? 0 : at % yaml.length;
      yaml = yaml.slice(0, start) + insert + yaml.slice(start + (cut % 4));
    }
    return yaml;
  });

// ---------------------------------------------------------------------------------------------
// The property

/** Resolves the options as `runner run` does; the outcome, or the error thrown. */
async function loadAndResolve(file: string, dir: string): Promise<unknown> {
  try {
    const loaded = await loadScenarioFile(file);
    await resolveOptions(loaded.options, {}, { file: loaded.file, baseDir: dir, env: {} });
    return undefined;
  } catch (error) {
    return error;
  } finally {
    clearSecrets();
  }
}

function assertTyped(error: unknown, input: string): void {
  if (error === undefined) return;
  assert.ok(error instanceof RunnerError, `not a RunnerError (a user would see "a bug in runner"): ${(error as Error)?.stack ?? String(error)}\ninput:\n${input}`);
  assert.is.not((error as RunnerError).exitCode, ExitCode.failure, `exit 1 for ${(error as Error).message}`);
  assert.ok((error as RunnerError).message.length > 0);
}

async function checkAsync(property: fc.IAsyncProperty<any>): Promise<void> {
  const details = await fc.check(property, { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false });
  if (details.failed) {
    throw new Error(`property failed (replay with FUZZ_SEED=${SEED}) after ${details.numRuns} runs:\n${String((details.errorInstance as Error)?.message ?? details.errorInstance)}\ncounterexample: ${JSON.stringify(details.counterexample)?.slice(0, 2000)}`);
  }
}

const scenarios = suite('fuzz: scenario files from anyone');
let dir = '';
scenarios.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'runner-fuzz-scenario-'));
});
scenarios.after(() => rmSync(dir, { recursive: true, force: true }));

scenarios('random option objects as YAML and JSON: resolved, or a RunnerError (never exit 1)', async () => {
  await checkAsync(
    fc.asyncProperty(options, fc.boolean(), async (value, isJson) => {
      const file = join(dir, isJson ? 'scenario.json' : 'scenario.yaml');
      const textOf = isJson ? JSON.stringify(value) : stringify(value);
      writeFileSync(file, textOf);
      assertTyped(await loadAndResolve(file, dir), textOf);
    }),
  );
});

scenarios('mutated YAML text and random bytes: a RunnerError (never exit 1), or resolved', async () => {
  const input = fc.oneof(
    { weight: 4, arbitrary: mutatedYaml.map((yaml) => Buffer.from(yaml, 'utf8')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
  );
  await checkAsync(
    fc.asyncProperty(input, async (bytes) => {
      const file = join(dir, 'mutated.yaml');
      writeFileSync(file, bytes);
      assertTyped(await loadAndResolve(file, dir), bytes.toString('utf8'));
    }),
  );
});

scenarios('found by this fuzz: an alias without its anchor is a file error, not exit 1', async () => {
  for (const yaml of ['*x', '*\u0000', 'scenarios: *missing\n', 'a: *b\nc: &b 1\n']) {
    const file = join(dir, 'alias.yaml');
    writeFileSync(file, yaml);
    const error = await loadAndResolve(file, dir);
    assert.ok(error instanceof RunnerError, String(error));
    assertTyped(error, yaml);
  }
});

scenarios.run();
