import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUILT_IN_METRICS, type MetricInfo } from '../../runner/metrics/catalogue.ts';
import { compileThresholds, type ParsedMetricKey, type ThresholdDefinition } from '../../runner/thresholds/parse.ts';
import {
  evaluateThresholds,
  findAbortingFailures,
  formatThresholdMs,
  formatThresholdResult,
  hasFailedThreshold,
  type MetricValues,
  type ThresholdResult,
} from '../../runner/thresholds/evaluate.ts';

/** A time trend whose samples are these milliseconds (percentiles by nearest rank, exact). */
function trendOf(samplesMs: number[]): MetricValues {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    type: 'trend',
    count: sorted.length,
    avg: () => sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    min: () => sorted[0]!,
    max: () => sorted[sorted.length - 1]!,
    percentile: (p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!,
  };
}

/** A counter that summed `sum` over `seconds` of test time. */
function counterOf(sum: number, seconds: number): MetricValues {
  return { type: 'counter', count: sum, rate: () => sum / seconds };
}

/** A rate metric with `nonZero` of `total` samples non-zero. */
function rateOf(nonZero: number, total: number): MetricValues {
  return { type: 'rate', count: total, rate: () => nonZero / total };
}

/** A gauge whose samples were these values, last one current. */
function gaugeOf(values: number[]): MetricValues {
  return { type: 'gauge', count: values.length, value: () => values[values.length - 1]!, min: () => Math.min(...values), max: () => Math.max(...values) };
}

const metrics = new Map<string, MetricInfo>([
  ...BUILT_IN_METRICS,
  ['queue_depth', { name: 'queue_depth', type: 'gauge', isTime: false, description: 'custom gauge' }],
]);

/** Compiles `{ [metric]: [condition] }` and evaluates it against `values`. */
function judgeOne(metric: string, condition: string, values: MetricValues | undefined): ThresholdResult {
  const definitions = compileThresholds({ [metric]: [condition] }, metrics);
  const results = evaluateThresholds(definitions, () => values);
  assert.is(results.length, 1);
  return results[0]!;
}

// Samples 1..100 ms: avg 50.5, min 1, max 100, med 50, p(95) 95, p(99.9) 100, count 100.
const trend = trendOf(Array.from({ length: 100 }, (_, index) => index + 1));

const Aggregations = suite('evaluateThresholds: each aggregation reads its value');

const aggregationCases: Array<[string, string, MetricValues, number]> = [
  ['smtp_txn_duration', 'avg<1000', trend, 50.5],
  ['smtp_txn_duration', 'min<1000', trend, 1],
  ['smtp_txn_duration', 'max<1000', trend, 100],
  ['smtp_txn_duration', 'med<1000', trend, 50],
  ['smtp_txn_duration', 'p(95)<1000', trend, 95],
  ['smtp_txn_duration', 'p(99.9)<1000', trend, 100],
  ['smtp_txn_duration', 'count>0', trend, 100],
  ['smtp_txns', 'count>0', counterOf(600, 60), 600],
  ['smtp_txns', 'rate>0', counterOf(600, 60), 10],
  ['smtp_txn_failed', 'rate<1', rateOf(3, 100), 0.03],
  ['queue_depth', 'value<100', gaugeOf([4, 9, 2]), 2],
  ['queue_depth', 'min<100', gaugeOf([4, 9, 2]), 2],
  ['queue_depth', 'max<100', gaugeOf([4, 9, 2]), 9],
];

for (const [metric, condition, values, actual] of aggregationCases) {
  Aggregations(`${metric} ${condition}`, () => {
    const result = judgeOne(metric, condition, values);
    assert.is(result.actual, actual);
    assert.is(result.ok, true);
    assert.is(result.metricKey, metric);
    assert.is(result.source, condition);
  });
}

const Operators = suite('evaluateThresholds: every operator, passing, failing and at the boundary');

// p(95) of `trend` is 95 ms.
const operatorCases: Array<[string, boolean]> = [
  ['p(95)<96', true], ['p(95)<95', false], ['p(95)<94', false],
  ['p(95)<=96', true], ['p(95)<=95', true], ['p(95)<=94', false],
  ['p(95)>94', true], ['p(95)>95', false], ['p(95)>96', false],
  ['p(95)>=94', true], ['p(95)>=95', true], ['p(95)>=96', false],
  ['p(95)==95', true], ['p(95)==94', false],
  ['p(95)!=94', true], ['p(95)!=95', false],
];

for (const [condition, ok] of operatorCases) {
  Operators(`${condition} → ${ok ? 'pass' : 'fail'}`, () => {
    assert.is(judgeOne('smtp_txn_duration', condition, trend).ok, ok);
  });
}

Operators('rate boundary: 1 failure in 100 against rate<0.01 fails, rate<=0.01 passes', () => {
  assert.is(judgeOne('smtp_txn_failed', 'rate<0.01', rateOf(1, 100)).ok, false);
  assert.is(judgeOne('smtp_txn_failed', 'rate<=0.01', rateOf(1, 100)).ok, true);
});

const Units = suite('evaluateThresholds: units are converted to ms');

const unitCases: Array<[string, boolean]> = [
  ['p(95)==0.5s', true], ['p(95)==500', true], ['p(95)==500ms', true], ['p(95)==500000us', true], ['p(95)==500000µs', true],
  ['p(95)<=0.5s', true], ['p(95)<=500', true], ['p(95)<=500ms', true],
  ['p(95)<0.5s', false], ['p(95)<500', false], ['p(95)<500ms', false],
  ['p(95)<0.5001s', true], ['p(95)<500001us', true], ['p(95)<499999µs', false], ['p(95)>0.4999s', true], ['p(95)>0.5s', false],
];

// 100 samples whose 95th (nearest rank) is exactly 500 ms.
const trend500 = trendOf([...Array.from({ length: 94 }, () => 100), 500, 600, 700, 800, 900, 1000]);

for (const [condition, ok] of unitCases) {
  Units(`p(95)=500ms vs ${condition}`, () => {
    const result = judgeOne('smtp_txn_duration', condition, trend500);
    assert.is(result.actual, 500);
    assert.is(result.ok, ok);
  });
}

const Empty = suite('evaluateThresholds: metrics with no samples are judged as 0, like k6');

const emptyCases: Array<[string, string, MetricValues | undefined, number | undefined, boolean]> = [
  ['smtp_txn_duration', 'p(95)<500', trendOf([]), undefined, true],
  ['smtp_txn_duration', 'avg>1', trendOf([]), undefined, false],
  ['smtp_txn_duration', 'p(95)<500', undefined, undefined, true],
  ['smtp_txn_duration', 'count>0', trendOf([]), 0, false],
  ['smtp_txn_duration', 'count==0', undefined, 0, true],
  ['smtp_txn_failed', 'rate<0.01', rateOf(0, 0), undefined, true],
  ['smtp_txn_failed', 'rate>0.5', undefined, undefined, false],
  ['smtp_txns', 'count>100', counterOf(0, 10), 0, false],
  ['smtp_txns', 'rate<5', undefined, 0, true],
  ['dropped_iterations', 'count==0', undefined, 0, true],
  ['queue_depth', 'value<10', gaugeOf([]), undefined, true],
];

for (const [metric, condition, values, actual, ok] of emptyCases) {
  Empty(`${metric} ${condition} with ${values ? 'an empty sink' : 'no sink at all'}`, () => {
    const result = judgeOne(metric, condition, values);
    assert.is(result.actual, actual);
    assert.is(result.ok, ok);
  });
}

const Lookup = suite('evaluateThresholds: sub-metrics and order');

Lookup('each definition is looked up by its parsed key, results keep definition order', () => {
  const definitions = compileThresholds(
    {
      smtp_txn_duration: ['p(95)<200', 'max<50'],
      'smtp_txn_duration{scenario:peak}': [{ threshold: 'p(95)<200', abortOnFail: true }],
      smtp_txn_failed: ['rate<0.01'],
    },
    metrics,
  );
  const asked: ParsedMetricKey[] = [];
  const results = evaluateThresholds(definitions, (key) => {
    asked.push(key);
    if (key.metric === 'smtp_txn_failed') return rateOf(0, 50);
    return key.tags.scenario === 'peak' ? trendOf([300, 400]) : trend;
  });
  assert.equal(asked.map((key) => key.key), ['smtp_txn_duration', 'smtp_txn_duration{scenario:peak}', 'smtp_txn_failed']);
  assert.equal(asked[1]!.tags, { scenario: 'peak' });
  assert.equal(
    results.map((r) => [r.metricKey, r.source, r.ok, r.actual, r.abortOnFail]),
    [
      ['smtp_txn_duration', 'p(95)<200', true, 95, false],
      ['smtp_txn_duration', 'max<50', false, 100, false],
      ['smtp_txn_duration{scenario:peak}', 'p(95)<200', false, 400, true],
      ['smtp_txn_failed', 'rate<0.01', true, 0, false],
    ],
  );
  assert.is(hasFailedThreshold(results), true);
  assert.is(hasFailedThreshold(results.filter((r) => r.ok)), false);
});

Lookup('a metrics layer that lacks an aggregation is a loud bug, not a silent pass', () => {
  const definitions = compileThresholds({ smtp_txn_duration: ['avg<1'] }, metrics);
  assert.throws(() => evaluateThresholds(definitions, () => ({ type: 'trend', count: 3 })), /metrics layer bug: trend metric smtp_txn_duration has no avg\(\)/);
});

const Abort = suite('findAbortingFailures');

Abort('only failing abortOnFail conditions past their delay, skipping metrics without samples', () => {
  const definitions: ThresholdDefinition[] = compileThresholds(
    {
      smtp_txn_duration: [
        { threshold: 'p(95)<50', abortOnFail: true, delayAbortEval: '10s' },
        { threshold: 'max<50', abortOnFail: true },
        'avg<10', // fails, but does not abort
        { threshold: 'min<50', abortOnFail: true }, // passes
      ],
      smtp_txn_failed: [{ threshold: 'rate<0.5', abortOnFail: true }], // no samples yet
    },
    metrics,
  );
  const lookup = (key: ParsedMetricKey): MetricValues | undefined => (key.metric === 'smtp_txn_duration' ? trend : rateOf(0, 0));
  assert.equal(findAbortingFailures(definitions, lookup, 5_000).map((r) => r.source), ['max<50']);
  assert.equal(findAbortingFailures(definitions, lookup, 10_000).map((r) => r.source), ['p(95)<50', 'max<50']);
  assert.equal(findAbortingFailures(definitions, () => undefined, 60_000), []);
});

const Format = suite('formatThresholdResult');

const formatCases: Array<[string, string, MetricValues | undefined, string]> = [
  ['smtp_txn_duration', 'p(95)<0.5s', trendOf([231.4]), '✓ smtp_txn_duration  p(95)<0.5s  actual 231.4ms'],
  ['smtp_txn_duration', 'p(95)<0.1s', trendOf([1234.4]), '✗ smtp_txn_duration  p(95)<0.1s  actual 1.234s'],
  ['smtp_txn_duration', 'avg<1', trendOf([0.85]), '✓ smtp_txn_duration  avg<1  actual 850µs'],
  ['smtp_txn_duration', 'count>10', trendOf([5, 6]), '✗ smtp_txn_duration  count>10  actual 2'],
  ['smtp_txn_failed', 'rate<0.01', rateOf(1, 200), '✓ smtp_txn_failed  rate<0.01  actual 0.005 (0.5%)'],
  ['smtp_txns', 'rate>100', counterOf(1000, 8), '✓ smtp_txns  rate>100  actual 125/s'],
  ['queue_depth', 'value<5', gaugeOf([7]), '✗ queue_depth  value<5  actual 7'],
  ['smtp_txn_duration', 'p(95)<500', undefined, '✓ smtp_txn_duration  p(95)<500  no samples (judged as 0, like k6)'],
];

for (const [metric, condition, values, line] of formatCases) {
  Format(line, () => {
    const info = metrics.get(metric)!;
    assert.is(formatThresholdResult(judgeOne(metric, condition, values), info.isTime), line);
  });
}

Format('formatThresholdMs picks µs, ms or s', () => {
  assert.equal([0.25, 0.9999, 1, 12.345, 999.99, 1000, 61_234.4].map(formatThresholdMs), ['250µs', '999.9µs', '1ms', '12.35ms', '999.99ms', '1s', '61.234s']);
});

Aggregations.run();
Operators.run();
Units.run();
Empty.run();
Lookup.run();
Abort.run();
Format.run();
