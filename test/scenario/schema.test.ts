import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../../runner/scenario/defaults.ts';
import { checkSchema } from '../../runner/scenario/validate.ts';

const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/scenario.schema.json', import.meta.url));
const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as unknown;

/** Every `default` in the schema with the name of the property it belongs to. */
function collectDefaults(node: unknown, name: string, out: Array<{ name: string; value: unknown }>): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) collectDefaults(item, name, out);
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'default') out.push({ name, value });
    else if (key === 'properties' && value && typeof value === 'object') {
      for (const [property, child] of Object.entries(value)) collectDefaults(child, property, out);
    } else collectDefaults(value, name, out);
  }
}

/** Schema property name → DEFAULTS key, where they differ. */
const DEFAULTS_KEY: Record<string, keyof typeof DEFAULTS> = { pick: 'accountsPick' };
/** DEFAULTS that are not scenario-file options (flags of `runner run` without a file). */
const NOT_IN_SCHEMA = new Set(['numEmails', 'concurrent']);

const Defaults = suite('schema: defaults');

Defaults('every default in the schema equals DEFAULTS', () => {
  const found: Array<{ name: string; value: unknown }> = [];
  collectDefaults(schema, '', found);
  assert.ok(found.length >= 15, `found ${found.length} defaults`);
  for (const { name, value } of found) {
    const key = DEFAULTS_KEY[name] ?? (name as keyof typeof DEFAULTS);
    assert.ok(key in DEFAULTS, `schema default for '${name}' has no entry in DEFAULTS`);
    assert.equal(value, DEFAULTS[key], `default of '${name}'`);
  }
});

Defaults('every file-level DEFAULTS entry appears in the schema', () => {
  const found: Array<{ name: string; value: unknown }> = [];
  collectDefaults(schema, '', found);
  const names = new Set<string>(found.map(({ name }) => DEFAULTS_KEY[name] ?? name));
  for (const key of Object.keys(DEFAULTS)) {
    if (!NOT_IN_SCHEMA.has(key)) assert.ok(names.has(key), `DEFAULTS.${key} is not a default in the schema`);
  }
});

const Shape = suite('schema: shape checks');

const validCases: Array<{ name: string; options: unknown }> = [
  { name: 'minimal', options: { scenarios: { a: { executor: 'shared-iterations' } } } },
  { name: '$schema and description', options: { $schema: '../schemas/scenario.schema.json', description: 'x', scenarios: { a: { executor: 'constant-vus', duration: 1000 } } } },
  {
    name: 'every executor',
    options: {
      scenarios: {
        a: { executor: 'shared-iterations', vus: 2, iterations: 10, maxDuration: '1m' },
        b: { executor: 'per-vu-iterations', vus: 2, iterations: 10 },
        c: { executor: 'constant-vus', vus: 2, duration: '1m' },
        d: { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '10s', target: 5 }], gracefulRampDown: '5s' },
        e: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1m', preAllocatedVUs: 5, maxVUs: 10 },
        f: { executor: 'ramping-arrival-rate', startRate: 1, stages: [{ duration: '10s', target: 5 }], preAllocatedVUs: 5 },
        g: { executor: 'batches', vus: 10, iterations: 100 },
      },
    },
  },
  {
    name: 'thresholds in both forms and tag filters',
    options: {
      thresholds: { smtp_txn_duration: ['p(95)<500', { threshold: 'p(99)<1s', abortOnFail: true, delayAbortEval: '10s' }], 'smtp_txn_failed{scenario:a}': ['rate<0.01'] },
      scenarios: { a: { executor: 'shared-iterations' } },
    },
  },
  {
    name: 'top-level and per-scenario settings',
    options: {
      target: { host: 'proxy.example.com', port: 587, adminUrl: 'http://proxy.example.com:9090' },
      smtp: { from: 'a@example.com', to: ['b@example.com', 'c@example.com'], auth: 'none', timeouts: { message: '2m' }, timeout: '10s' },
      accounts: { file: 'accounts.json', pick: 'weighted', weights: { 'a@example.com': 2 } },
      scenarios: { a: { executor: 'shared-iterations', tags: { run: 'x' }, smtp: { messageSize: 10 }, target: { port: 2526 } } },
    },
  },
];
for (const { name, options } of validCases) {
  Shape(`valid: ${name}`, () => assert.equal(checkSchema(options), []));
}

const invalidCases: Array<{ name: string; options: unknown; problem: string }> = [
  { name: 'missing scenarios', options: {}, problem: 'scenarios: is required' },
  { name: 'unknown top-level option with a suggestion', options: { scenarios: { a: { executor: 'shared-iterations' } }, threshold: {} }, problem: "threshold: unknown option: did you mean 'thresholds'?" },
  { name: 'unknown executor with a suggestion', options: { scenarios: { a: { executor: 'constant-vu', duration: '1m' } } }, problem: "scenarios.a.executor: 'constant-vu' is not one of" },
  { name: 'missing executor', options: { scenarios: { a: { vus: 1 } } }, problem: 'scenarios.a.executor: is required: one of shared-iterations' },
  { name: 'executor-specific required option', options: { scenarios: { a: { executor: 'constant-vus' } } }, problem: 'scenarios.a.duration: is required by executor constant-vus' },
  { name: "another executor's option", options: { scenarios: { a: { executor: 'constant-vus', duration: '1m', rate: 5 } } }, problem: 'scenarios.a.rate: is not an option of executor constant-vus (it belongs to constant-arrival-rate)' },
  { name: 'wrong type', options: { scenarios: { a: { executor: 'shared-iterations', vus: '10' } } }, problem: "scenarios.a.vus: must be a whole number (got '10')" },
  { name: 'duration pattern', options: { scenarios: { a: { executor: 'constant-vus', duration: '10 minutes' } } }, problem: "scenarios.a.duration: '10 minutes' is not a duration" },
  { name: 'stage without target', options: { scenarios: { a: { executor: 'ramping-vus', stages: [{ duration: '1m' }] } } }, problem: 'scenarios.a.stages[0].target: is required' },
  { name: 'scenario name', options: { scenarios: { 'a b': { executor: 'shared-iterations' } } }, problem: "scenarios['a b']: scenario names may only contain" },
  { name: 'unknown phase timeout', options: { smtp: { timeouts: { mesage: '1s' } }, scenarios: { a: { executor: 'shared-iterations' } } }, problem: "smtp.timeouts.mesage: unknown option: did you mean 'message'?" },
  { name: 'threshold object without threshold', options: { thresholds: { x: [{ abortOnFail: true }] }, scenarios: { a: { executor: 'shared-iterations' } } }, problem: 'thresholds.x[0].threshold: is required' },
];
for (const { name, options, problem } of invalidCases) {
  Shape(`invalid: ${name}`, () => {
    const problems = checkSchema(options).map((p) => `${p.path}: ${p.message}`);
    assert.ok(problems.some((text) => text.startsWith(problem)), `expected '${problem}' in:\n${problems.join('\n')}`);
  });
}

Defaults.run();
Shape.run();
