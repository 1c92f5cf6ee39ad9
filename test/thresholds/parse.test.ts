import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidOptionsError, ExitCode } from '../../runner/errors.ts';
import { BUILT_IN_METRICS, SYSTEM_TAGS, type MetricInfo } from '../../runner/metrics/catalogue.ts';
import {
  compileThresholds,
  parseCondition,
  parseMetricKey,
  ThresholdSyntaxError,
  type ParsedCondition,
  type ThresholdInput,
} from '../../runner/thresholds/parse.ts';

/** Runs fn and returns what it threw, failing the test when it did not throw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.unreachable('expected a throw');
  return undefined;
}

const ValidConditions = suite('parseCondition: valid conditions');

const validConditions: Array<[string, Omit<ParsedCondition, 'source'>]> = [
  ['avg<200', { aggregation: 'avg', op: '<', value: 200 }],
  ['min>=1', { aggregation: 'min', op: '>=', value: 1 }],
  ['max<=2000', { aggregation: 'max', op: '<=', value: 2000 }],
  ['med>150', { aggregation: 'med', op: '>', value: 150 }],
  ['count>100', { aggregation: 'count', op: '>', value: 100 }],
  ['rate<0.01', { aggregation: 'rate', op: '<', value: 0.01 }],
  ['value==3', { aggregation: 'value', op: '==', value: 3 }],
  ['value!=0', { aggregation: 'value', op: '!=', value: 0 }],
  ['value===3', { aggregation: 'value', op: '==', value: 3 }], // k6 accepts ===
  ['p(95)<500', { aggregation: 'p', percentile: 95, op: '<', value: 500 }],
  ['p(99.9)<1s', { aggregation: 'p', percentile: 99.9, op: '<', value: 1000, unit: 's' }],
  ['p(100)<=5', { aggregation: 'p', percentile: 100, op: '<=', value: 5 }],
  ['p(0.1)>0', { aggregation: 'p', percentile: 0.1, op: '>', value: 0 }],
  ['p(95)<0.5s', { aggregation: 'p', percentile: 95, op: '<', value: 500, unit: 's' }],
  ['p(95)<500ms', { aggregation: 'p', percentile: 95, op: '<', value: 500, unit: 'ms' }],
  ['avg<250us', { aggregation: 'avg', op: '<', value: 0.25, unit: 'us' }],
  ['avg<250µs', { aggregation: 'avg', op: '<', value: 0.25, unit: 'us' }],
  ['avg<250μs', { aggregation: 'avg', op: '<', value: 0.25, unit: 'us' }],
  ['max<1.1s', { aggregation: 'max', op: '<', value: 1100, unit: 's' }], // 1.1*1000 would be 1100.0000000000002
  ['max<.5s', { aggregation: 'max', op: '<', value: 500, unit: 's' }],
  ['max<1e3', { aggregation: 'max', op: '<', value: 1000 }],
  ['max<2e-1s', { aggregation: 'max', op: '<', value: 200, unit: 's' }],
  ['value>-5', { aggregation: 'value', op: '>', value: -5 }],
  ['  p( 95 ) <  0.5 s  ', { aggregation: 'p', percentile: 95, op: '<', value: 500, unit: 's' }],
  ['avg <= 200', { aggregation: 'avg', op: '<=', value: 200 }],
  ['rate\t<\t0.05', { aggregation: 'rate', op: '<', value: 0.05 }],
];

for (const [source, expected] of validConditions) {
  ValidConditions(JSON.stringify(source), () => {
    assert.equal(parseCondition(source), { source: source.trim(), ...expected });
  });
}

ValidConditions('0.5s, 500 and 500ms are the same value', () => {
  const values = ['p(95)<0.5s', 'p(95)<500', 'p(95)<500ms', 'p(95)<500000us'].map((source) => parseCondition(source).value);
  assert.equal(values, [500, 500, 500, 500]);
});

const InvalidConditions = suite('parseCondition: invalid conditions');

// [source, a part of the message, 0-based position]
const invalidConditions: Array<[string, string, number]> = [
  ['p95<1', `'p95<1' is not a threshold: write p(95)<1`, 1],
  ['p99.9 < 1s', 'write p(99.9) < 1s', 1],
  ['p(0)<1', 'percentile 0 is out of range at column 3', 2],
  ['p(101)<1', 'percentile 101 is out of range', 2],
  ['p(-5)<1', 'percentile -5 is out of range', 2],
  ['p()<1', 'expected the percentile inside p( )', 2],
  ['p(95<1', `expected ')' to close p(`, 4],
  ['p<1', `expected '(' after p`, 1],
  ['avg<', `missing value after '<' at column 5; e.g. avg<200`, 4],
  ['avg<1x', `unknown unit 'x' at column 6`, 5],
  ['avg<1 m', `unknown unit 'm'`, 6],
  ['rate<5ms', `rate takes no unit ('ms') at column 7`, 6],
  ['count>5s', 'count takes no unit', 7],
  ['value<5ms', 'value takes no unit', 7],
  ['rate<5%', `'%' is not a unit at column 7; write a fraction: rate<0.05`, 6],
  ['foo<1', `unknown aggregation 'foo' at column 1`, 0],
  ['mean<1', 'write avg<1', 0],
  ['median<1', 'write med<1', 0],
  ['AVG<1', 'write avg<1', 0],
  ['P(95)<1', 'a percentile is written p(N) in lower case', 0],
  ['', 'empty threshold', 0],
  ['   ', 'empty threshold', 3],
  ['<5', 'expected an aggregation', 0],
  ['avg', 'missing operator', 3],
  ['avg 5', `expected an operator instead of '5'`, 4],
  ['avg=5', `'=' is not an operator`, 3],
  ['avg=<5', `'=<' is not an operator at column 4; write <=`, 3],
  ['avg<abc', `expected a number instead of 'abc'`, 4],
  ['avg<5 6', `unexpected '6'`, 6],
  ['avg<5ms extra', `unexpected 'extra'`, 8],
  ['avg<<5', `expected a number instead of '<5'`, 4],
  ['avg<1e999', 'is not a finite number', 4],
];

for (const [source, messagePart, position] of invalidConditions) {
  InvalidConditions(JSON.stringify(source), () => {
    const error = thrown(() => parseCondition(source));
    assert.instance(error, ThresholdSyntaxError);
    const syntaxError = error as ThresholdSyntaxError;
    assert.ok(syntaxError.message.includes(messagePart), `message: ${syntaxError.message}`);
    assert.is(syntaxError.position, position);
    assert.is(syntaxError.exitCode, ExitCode.invalidOptions);
    assert.ok(syntaxError.hint && /p\(95\)|e\.g\./.test(syntaxError.hint), `hint: ${syntaxError.hint}`);
  });
}

const MetricKeys = suite('parseMetricKey');

const validKeys: Array<[string, string, Record<string, string>]> = [
  ['smtp_txn_duration', 'smtp_txn_duration', {}],
  ['  smtp_txns  ', 'smtp_txns', {}],
  ['smtp_txn_duration{scenario:peak}', 'smtp_txn_duration', { scenario: 'peak' }],
  ['smtp_txn_duration{scenario:peak,account:sales@company.com}', 'smtp_txn_duration', { scenario: 'peak', account: 'sales@company.com' }],
  ['smtp_txn_duration { scenario : peak , account : sales@company.com }', 'smtp_txn_duration', { scenario: 'peak', account: 'sales@company.com' }],
  [`smtp_txn_duration{account:"sales@company.com"}`, 'smtp_txn_duration', { account: 'sales@company.com' }],
  [`smtp_txn_duration{account:'a,b@x.io', scenario:"peak"}`, 'smtp_txn_duration', { account: 'a,b@x.io', scenario: 'peak' }],
  ['my_metric{name:Send mail}', 'my_metric', { name: 'Send mail' }],
  ['my_metric{url:http://host:8080/x}', 'my_metric', { url: 'http://host:8080/x' }],
  ['my_metric{tag.with-dots_1:v}', 'my_metric', { 'tag.with-dots_1': 'v' }],
  ['_private2', '_private2', {}],
];

for (const [key, metric, tags] of validKeys) {
  MetricKeys(`valid ${JSON.stringify(key)}`, () => {
    assert.equal(parseMetricKey(key), { key, metric, tags });
  });
}

const invalidKeys: Array<[string, string, number]> = [
  ['', 'empty metric key', 0],
  ['2fast', `starts with a letter or _, not '2'`, 0],
  ['smtp-txn', `a metric name holds only letters, digits and _, not '-'`, 4],
  ['smtp_txn_duration{', `missing '}'`, 18],
  ['smtp_txn_duration{scenario:peak', `missing '}'`, 31],
  ['smtp_txn_duration{}', 'empty tag filter', 18],
  ['smtp_txn_duration{scenario}', `tag 'scenario' has no value`, 26],
  ['smtp_txn_duration{scenario:}', `tag 'scenario' has an empty value`, 27],
  ['smtp_txn_duration{:peak}', 'expected a tag name', 18],
  ['smtp_txn_duration{scenario:peak,}', 'expected a tag name', 32],
  ['smtp_txn_duration{scenario:peak}x', `unexpected 'x' after '}'`, 32],
  ['smtp_txn_duration{a:1,a:2}', `tag 'a' given twice`, 22],
  [`smtp_txn_duration{a:"open}`, 'unterminated " quote', 20],
  [`smtp_txn_duration{a:"x"y}`, `expected ',' or '}' instead of 'y'`, 23],
  ['smtp_txn_duration{a:b{c}}', `unexpected '{' in the value of tag 'a'`, 21],
  ['smtp_txn_duration{__proto__:x}', `'__proto__' cannot be a tag name`, 18],
  ['m'.repeat(129), 'longer than 128', 0],
];

for (const [key, messagePart, position] of invalidKeys) {
  MetricKeys(`invalid ${JSON.stringify(key.length > 40 ? key.slice(0, 10) + '…' : key)}`, () => {
    const error = thrown(() => parseMetricKey(key));
    assert.instance(error, ThresholdSyntaxError);
    assert.ok((error as Error).message.includes(messagePart), `message: ${(error as Error).message}`);
    assert.is((error as ThresholdSyntaxError).position, position);
  });
}

const Compile = suite('compileThresholds');

const customMetrics = new Map<string, MetricInfo>([
  ...BUILT_IN_METRICS,
  ['queue_depth', { name: 'queue_depth', type: 'gauge', isTime: false, description: 'a custom gauge' }],
  ['body_bytes', { name: 'body_bytes', type: 'trend', isTime: false, description: 'a custom non-time trend' }],
]);

/** The problems compileThresholds reports for these thresholds (fails when it reports none). */
function problemsOf(thresholds: Record<string, unknown>, knownTags?: readonly string[]): string[] {
  const error = thrown(() => compileThresholds(thresholds as Record<string, ThresholdInput[]>, customMetrics, knownTags));
  assert.instance(error, InvalidOptionsError);
  assert.is((error as InvalidOptionsError).exitCode, ExitCode.invalidOptions);
  return (error as InvalidOptionsError).problems;
}

Compile('no thresholds gives no definitions', () => {
  assert.equal(compileThresholds(undefined, BUILT_IN_METRICS), []);
  assert.equal(compileThresholds({}, BUILT_IN_METRICS), []);
});

Compile('valid thresholds on built-in metrics, sub-metrics and every type', () => {
  const definitions = compileThresholds(
    {
      smtp_txn_duration: ['p(95)<0.5s', { threshold: 'p(99.9)<1s', abortOnFail: true, delayAbortEval: '10s' }],
      'smtp_txn_duration{scenario:peak,account:sales@company.com}': ['avg<200'],
      smtp_txn_failed: ['rate<0.01', { threshold: 'rate<0.5', abortOnFail: true }],
      smtp_txns: ['count>100', 'rate>10'],
      dropped_iterations: ['count==0'],
      vus: ['value<=100', 'max<200', 'min>=0'],
      smtp_auth_duration: ['med<50ms'],
      body_bytes: ['p(50)<2048', 'count>0'],
    },
    customMetrics,
  );
  assert.equal(definitions.map((d) => [d.metric.key, d.type, d.isTime, d.conditions.length]), [
    ['smtp_txn_duration', 'trend', true, 2],
    ['smtp_txn_duration{scenario:peak,account:sales@company.com}', 'trend', true, 1],
    ['smtp_txn_failed', 'rate', false, 2],
    ['smtp_txns', 'counter', false, 2],
    ['dropped_iterations', 'counter', false, 1],
    ['vus', 'gauge', false, 3],
    ['smtp_auth_duration', 'trend', true, 1],
    ['body_bytes', 'trend', false, 2],
  ]);
  assert.equal(definitions[1]!.metric.tags, { scenario: 'peak', account: 'sales@company.com' });
  assert.equal(definitions[0]!.conditions, [
    { source: 'p(95)<0.5s', aggregation: 'p', percentile: 95, op: '<', value: 500, unit: 's', abortOnFail: false, delayAbortEvalMs: 0 },
    { source: 'p(99.9)<1s', aggregation: 'p', percentile: 99.9, op: '<', value: 1000, unit: 's', abortOnFail: true, delayAbortEvalMs: 10_000 },
  ]);
  assert.is(definitions[2]!.conditions[1]!.abortOnFail, true);
  assert.is(definitions[2]!.conditions[1]!.delayAbortEvalMs, 0);
});

Compile('reports every problem at once, each with its path', () => {
  const problems = problemsOf({
    smtp_txn_duration: ['p95<500', 'p(95)<0.5s', 'avg<1x'],
    smtp_nope: ['p(95)<500'],
    smtp_txn_failed: ['p(95)<500'],
  });
  assert.equal(problems, [
    `thresholds["smtp_txn_duration"][0]: 'p95<500' is not a threshold: write p(95)<500`,
    `thresholds["smtp_txn_duration"][2]: 'avg<1x' is not a threshold: unknown unit 'x' at column 6; use ms, s or us, or no unit for milliseconds, e.g. p(95)<1.5s`,
    `thresholds["smtp_nope"]: unknown metric smtp_nope; known: ${[...customMetrics.keys()].join(', ')}`,
    `thresholds["smtp_txn_failed"][0]: rate metric smtp_txn_failed cannot give p(95); use rate`,
  ]);
});

Compile('an unknown metric names the known ones and a close match', () => {
  const [problem] = problemsOf({ smtp_txn_duratoin: ['p(95)<500'] });
  assert.ok(problem!.startsWith(`thresholds["smtp_txn_duratoin"]: unknown metric smtp_txn_duratoin (did you mean smtp_txn_duration?); known: smtp_txn_duration, smtp_txn_response_time, smtp_txns,`), problem);
  const [far] = problemsOf({ 'zzz{scenario:peak}': ['count>0'] });
  assert.ok(far!.startsWith(`thresholds["zzz{scenario:peak}"]: unknown metric zzz; known: `), far);
});

// k6 issue 1526: k6 accepts an aggregation the metric's type cannot give; we refuse it before the run.
const typeMismatches: Array<[string, string, string]> = [
  ['smtp_txn_failed', 'p(95)<500', 'rate metric smtp_txn_failed cannot give p(95); use rate'],
  ['smtp_txn_failed', 'count>10', 'rate metric smtp_txn_failed cannot give count; use rate'],
  ['smtp_txn_duration', 'rate<0.01', 'trend metric smtp_txn_duration cannot give rate; use avg, min, max, med, p(N) or count'],
  ['smtp_txn_duration', 'value<1', 'trend metric smtp_txn_duration cannot give value'],
  ['smtp_txns', 'avg<5', 'counter metric smtp_txns cannot give avg; use count or rate'],
  ['smtp_txns', 'p(99)<5', 'counter metric smtp_txns cannot give p(99); use count or rate'],
  ['vus', 'avg<5', 'gauge metric vus cannot give avg; use value, min or max'],
  ['vus', 'count<5', 'gauge metric vus cannot give count'],
  ['vus', 'max<5ms', `gauge metric vus is not a duration, so 'max<5ms' cannot have a unit; write a plain number`],
  ['body_bytes', 'p(95)<2s', `trend metric body_bytes is not a duration, so 'p(95)<2s' cannot have a unit`],
  ['smtp_txn_failed', 'rate<5', 'rate metric smtp_txn_failed gives a fraction between 0 and 1, not 5; for 5% write rate<0.05'],
  ['smtp_txn_failed', 'rate>=-1', 'gives a fraction between 0 and 1, not -1'],
];

for (const [metric, condition, messagePart] of typeMismatches) {
  Compile(`refuses ${metric}: ${condition}`, () => {
    const problems = problemsOf({ [metric]: [condition] });
    assert.is(problems.length, 1);
    assert.ok(problems[0]!.startsWith(`thresholds[${JSON.stringify(metric)}][0]: `), problems[0]);
    assert.ok(problems[0]!.includes(messagePart), problems[0]);
  });
}

const shapeProblems: Array<[string, Record<string, unknown>, string]> = [
  ['a string instead of a list', { smtp_txns: 'count>1' }, `thresholds["smtp_txns"]: must be a list of conditions, e.g. ["count>1"]`],
  ['an empty list', { smtp_txns: [] }, `thresholds["smtp_txns"]: no conditions`],
  ['a number as condition', { smtp_txns: [5] }, `thresholds["smtp_txns"][0]: must be a condition string`],
  ['an object without threshold', { smtp_txns: [{ abortOnFail: true }] }, `thresholds["smtp_txns"][0].threshold: must be a condition string`],
  ['an unknown object field', { smtp_txns: [{ threshold: 'count>1', abortOnFailure: true }] }, `thresholds["smtp_txns"][0].abortOnFailure: unknown field; use threshold, abortOnFail, delayAbortEval`],
  ['a non-boolean abortOnFail', { smtp_txns: [{ threshold: 'count>1', abortOnFail: 'yes' }] }, `thresholds["smtp_txns"][0].abortOnFail: must be true or false`],
  ['a bad delayAbortEval', { smtp_txns: [{ threshold: 'count>1', abortOnFail: true, delayAbortEval: '10 minutes' }] }, `thresholds["smtp_txns"][0].delayAbortEval: '10 minutes' is not a duration`],
  ['delayAbortEval without abortOnFail', { smtp_txns: [{ threshold: 'count>1', delayAbortEval: '10s' }] }, `thresholds["smtp_txns"][0].delayAbortEval: only applies with abortOnFail: true`],
  ['a malformed metric key', { 'smtp_txns{scenario}': ['count>1'] }, `thresholds["smtp_txns{scenario}"]: 'smtp_txns{scenario}' is not a metric key: tag 'scenario' has no value`],
];

for (const [name, thresholds, expected] of shapeProblems) {
  Compile(`reports ${name}`, () => {
    const problems = problemsOf(thresholds);
    assert.ok(problems.some((problem) => problem.startsWith(expected)), problems.join('\n'));
  });
}

Compile('an object with a bad field still reports its condition syntax', () => {
  const problems = problemsOf({ smtp_txns: [{ threshold: 'cnt>1', abortOnFail: 'yes' }] });
  assert.equal(problems.length, 2);
  assert.ok(problems[1]!.startsWith(`thresholds["smtp_txns"][0]: 'cnt>1' is not a threshold: unknown aggregation 'cnt'`), problems[1]);
});

Compile('tag keys: any without knownTags, only known ones with it', () => {
  const thresholds = { 'smtp_txn_duration{scenario:peak,customer:acme}': ['p(95)<500'] };
  assert.is(compileThresholds(thresholds, BUILT_IN_METRICS).length, 1);
  const problems = problemsOf(thresholds, SYSTEM_TAGS);
  assert.equal(problems, [`thresholds["smtp_txn_duration{scenario:peak,customer:acme}"]: unknown tag customer; known: scenario, account`]);
  assert.is(compileThresholds({ 'smtp_txn_duration{account:a@b.c}': ['p(95)<500'] }, BUILT_IN_METRICS, SYSTEM_TAGS).length, 1);
});

Compile('the error message lists the problems and carries a hint', () => {
  const error = thrown(() => compileThresholds({ nope: ['avg<1'], smtp_txns: ['p(95)<1'] }, BUILT_IN_METRICS)) as InvalidOptionsError;
  assert.ok(error.message.startsWith('invalid options:\n  - thresholds["nope"]: unknown metric nope'), error.message);
  assert.ok(error.hint?.includes('p(95)<500'));
});

ValidConditions.run();
InvalidConditions.run();
MetricKeys.run();
Compile.run();
