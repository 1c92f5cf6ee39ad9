/**
 * Custom metrics with tags (k6's `add(value, tags)`): samples kept per distinct tag set, the total
 * the sum over sets, a filter the sum over the sets that carry it, a bound on the number of sets,
 * the warm-up reset, and thresholds that name a tagged custom metric.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  clearCustomMetrics,
  Counter,
  CustomMetric,
  customMetrics,
  Gauge,
  MAX_TAG_SETS_PER_METRIC,
  OVERFLOW_TAGS,
  Rate,
  tagSetKey,
  Trend,
} from '../../runner/metrics/custom.ts';
import { MetricsRegistry } from '../../runner/metrics/registry.ts';
import { BUILT_IN_METRICS, SYSTEM_TAGS, type MetricInfo } from '../../runner/metrics/catalogue.ts';
import { compileThresholds } from '../../runner/thresholds/parse.ts';
import { evaluateThresholds } from '../../runner/thresholds/evaluate.ts';
import { InvalidOptionsError } from '../../runner/errors.ts';

/** A fresh catalogue and a registry reading it; warnings collected instead of printed. */
function setUp(): { registry: MetricsRegistry; warnings: string[] } {
  const warnings: string[] = [];
  clearCustomMetrics((message) => warnings.push(message));
  return { registry: new MetricsRegistry(0, customMetrics()), warnings };
}

const TEN_SECONDS_MS = 10_000;

const Sums = suite('custom metrics: per tag set, total and filters');

Sums('a trend: each tag set its own distribution; the total is all of them; a filter the matching sets', () => {
  const { registry } = setUp();
  const trend = new Trend('send_ms', true);
  for (let i = 1; i <= 10; i++) trend.add(i, { kind: 'small' });
  for (let i = 1; i <= 5; i++) trend.add(1000 + i, { kind: 'big', region: 'eu' });
  for (let i = 1; i <= 5; i++) trend.add(2000 + i, { region: 'us', kind: 'big' });
  trend.add(7);
  const cases: Array<[Record<string, string>, number, number, number]> = [
    // filter, count, min, max
    [{}, 21, 1, 2005],
    [{ kind: 'small' }, 10, 1, 10],
    [{ kind: 'big' }, 10, 1001, 2005],
    [{ kind: 'big', region: 'us' }, 5, 2001, 2005],
    [{ region: 'eu' }, 5, 1001, 1005],
    [{ kind: 'medium' }, 0, NaN, NaN],
  ];
  for (const [filter, count, min, max] of cases) {
    const values = registry.values('send_ms', filter, TEN_SECONDS_MS)!;
    assert.is(values.type, 'trend');
    assert.is(values.count, count, JSON.stringify(filter));
    if (count === 0) continue;
    assert.is(values.min!(), min, `${JSON.stringify(filter)} min`);
    assert.is(values.max!(), max, `${JSON.stringify(filter)} max`);
  }
  assert.is(registry.values('send_ms', { kind: 'small' }, TEN_SECONDS_MS)!.avg!(), 5.5);
  // Within the histogram's 3 significant digits (samples are kept ×1000: 1005 ms is 1 005 000).
  const median = registry.values('send_ms', { kind: 'big' }, TEN_SECONDS_MS)!.percentile!(50);
  assert.ok(median >= 1005 && median < 1005 * 1.001, `median ${median}`);
  const metric = customMetrics().get('send_ms')!;
  assert.is(metric.tagSets.size, 4, 'untagged, small, big+eu, big+us');
  assert.equal(metric.tagSetsWithSamples().map((set) => set.tags), [{}, { kind: 'big', region: 'eu' }, { kind: 'big', region: 'us' }, { kind: 'small' }]);
});

Sums('counter, rate and gauge: sums over the matching sets', () => {
  const { registry } = setUp();
  const bytes = new Counter('bytes_out');
  const hits = new Rate('cache_hit');
  const depth = new Gauge('queue_depth');
  bytes.add(100, { kind: 'big' });
  bytes.add(3, { kind: 'small' });
  bytes.add(4, { kind: 'small' });
  bytes.add();
  hits.add(true, { kind: 'big' });
  hits.add(false, { kind: 'big' });
  hits.add(1, { kind: 'small' });
  hits.add(0);
  depth.add(5, { kind: 'big' });
  depth.add(9, { kind: 'small' });
  depth.add(2, { kind: 'big' });
  depth.add(4, { kind: 'small' });
  const table: Array<[string, Record<string, string>, Record<string, number>]> = [
    ['bytes_out', {}, { count: 108, rate: 10.8 }],
    ['bytes_out', { kind: 'small' }, { count: 7, rate: 0.7 }],
    ['bytes_out', { kind: 'none' }, { count: 0, rate: 0 }],
    ['cache_hit', {}, { count: 4, rate: 0.5 }],
    ['cache_hit', { kind: 'big' }, { count: 2, rate: 0.5 }],
    ['cache_hit', { kind: 'small' }, { count: 1, rate: 1 }],
    // A gauge's value is the last one added, over the matching sets.
    ['queue_depth', {}, { count: 4, value: 4, min: 2, max: 9 }],
    ['queue_depth', { kind: 'big' }, { count: 2, value: 2, min: 2, max: 5 }],
    ['queue_depth', { kind: 'small' }, { count: 2, value: 4, min: 4, max: 9 }],
  ];
  for (const [name, filter, expected] of table) {
    const values = registry.values(name, filter, TEN_SECONDS_MS)!;
    const actual: Record<string, number> = { count: values.count };
    if ('rate' in expected) actual['rate'] = values.rate!();
    if ('value' in expected) Object.assign(actual, { value: values.value!(), min: values.min!(), max: values.max!() });
    assert.equal(actual, expected, `${name} ${JSON.stringify(filter)}`);
  }
});

Sums('untagged samples go to the untagged set itself; {} and undefined values are untagged too', () => {
  setUp();
  const trend = new Trend('plain');
  const metric = customMetrics().get('plain')!;
  trend.add(1);
  trend.add(2, {});
  trend.add(3, { kind: undefined as unknown as string });
  assert.is(metric.tagSets.size, 1);
  assert.is(metric.untagged.trend!.count, 3);
  assert.is(metric.aggregate(), metric.untagged, 'one set: the total is that set, no copy');
});

Sums.run();

const Keys = suite('custom metrics: tag set keys');

Keys('the key is canonical: tag order does not matter, values are strings, parts cannot run together', () => {
  const same: Array<[Record<string, unknown>, Record<string, unknown>]> = [
    [{ a: '1', b: '2' }, { b: '2', a: '1' }],
    [{ n: 5 }, { n: '5' }],
    [{ a: '1', gone: undefined }, { a: '1' }],
  ];
  for (const [x, y] of same) assert.is(tagSetKey(x), tagSetKey(y), `${JSON.stringify(x)} ~ ${JSON.stringify(y)}`);
  const different: Array<[Record<string, unknown>, Record<string, unknown>]> = [
    [{ a: 'b:c' }, { 'a:b': 'c' }],
    [{ a: '1', b: '2' }, { a: '12' }],
    [{ a: '' }, {}],
    [{ a: '1' }, { a: '1 ' }],
  ];
  for (const [x, y] of different) assert.is.not(tagSetKey(x), tagSetKey(y), `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  assert.is(tagSetKey({}), '');
});

Keys('a tag set stores its tags sorted, as strings, frozen', () => {
  setUp();
  const counter = new Counter('tagged');
  counter.add(1, { z: 'last', a: 7 as unknown as string });
  const set = customMetrics().get('tagged')!.tagSetFor({ a: '7', z: 'last' });
  assert.equal(Object.keys(set.tags), ['a', 'z']);
  assert.equal(set.tags, { a: '7', z: 'last' });
  assert.ok(Object.isFrozen(set.tags));
  assert.is(set.sum, 1);
});

Keys.run();

const Bound = suite('custom metrics: the number of tag sets is bounded');

Bound('past its most tag sets, new ones fold into {overflow:"true"}, with one warning', () => {
  const warnings: string[] = [];
  const info: MetricInfo = { name: 'by_id', type: 'counter', isTime: false, description: 'test' };
  const metric = new CustomMetric(info, { maxTagSets: 3, warn: (message) => warnings.push(message) });
  /** What Counter.add(1, tags) does. */
  const addOne = (tags: Record<string, string>) => {
    const set = metric.tagSetFor(tags);
    set.sum += 1;
    set.samples++;
  };
  for (let id = 0; id < 10; id++) addOne({ id: String(id) });
  // Untagged + id 0 + id 1 are the 3 sets; ids 2..9 overflow.
  assert.equal(metric.tagSetsWithSamples().map((set) => set.tags), [{ id: '0' }, { id: '1' }, OVERFLOW_TAGS]);
  assert.is(metric.aggregate({ overflow: 'true' }).sum, 8);
  assert.is(metric.aggregate().sum, 10, 'nothing is lost from the total');
  // Known sets still get their samples.
  addOne({ id: '1' });
  assert.is(metric.aggregate({ id: '1' }).sum, 2);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /custom metric by_id has 3 tag sets.*\{overflow:"true"\}/);
});

Bound(`the default bound (${MAX_TAG_SETS_PER_METRIC}) holds for a Trend tagged with an id`, () => {
  const { registry, warnings } = setUp();
  const trend = new Trend('per_message');
  for (let id = 0; id < MAX_TAG_SETS_PER_METRIC + 500; id++) trend.add(id, { id: `m${id}` });
  const metric = customMetrics().get('per_message')!;
  assert.is(metric.tagSets.size, MAX_TAG_SETS_PER_METRIC + 1, 'the sets, untagged included, and the overflow set');
  assert.is(registry.values('per_message', {}, TEN_SECONDS_MS)!.count, MAX_TAG_SETS_PER_METRIC + 500);
  assert.is(registry.values('per_message', OVERFLOW_TAGS, TEN_SECONDS_MS)!.count, 501);
  assert.is(warnings.length, 1);
});

Bound.run();

const Warmup = suite('custom metrics: the end of the warm-up');

Warmup('endWarmup forgets every tag set of every custom metric; samples after it count from zero', () => {
  const { registry } = setUp();
  const trend = new Trend('send_ms', true);
  const counter = new Counter('sent');
  const gauge = new Gauge('depth');
  const rate = new Rate('ok');
  for (const kind of ['big', 'small']) {
    trend.add(100, { kind });
    counter.add(5, { kind });
    gauge.add(50, { kind });
    rate.add(true, { kind });
  }
  trend.add(100);
  registry.endWarmup(1000);
  for (const name of ['send_ms', 'sent', 'depth', 'ok']) {
    for (const filter of [{}, { kind: 'big' }, { kind: 'small' }] as Array<Record<string, string>>) {
      assert.is(registry.values(name, filter, TEN_SECONDS_MS)!.count, 0, `${name} ${JSON.stringify(filter)}`);
    }
    assert.equal(customMetrics().get(name)!.tagSetsWithSamples(), [], `${name}: no set has samples`);
  }
  trend.add(3, { kind: 'big' });
  gauge.add(2, { kind: 'small' });
  assert.is(registry.values('send_ms', { kind: 'big' }, TEN_SECONDS_MS)!.max!(), 3);
  assert.is(registry.values('send_ms', {}, TEN_SECONDS_MS)!.count, 1);
  assert.equal([registry.values('depth', {}, TEN_SECONDS_MS)!.value!(), registry.values('depth', {}, TEN_SECONDS_MS)!.max!()], [2, 2]);
});

Warmup.run();

const Invalid = suite('custom metrics: values they cannot hold');

Invalid('each type ignores what it cannot hold: figures only from the good values, one warning per metric', () => {
  const { registry, warnings } = setUp();
  const trend = new Trend('send_ms', true);
  const counter = new Counter('sent');
  const rate = new Rate('ok');
  const gauge = new Gauge('depth');
  const junk = [NaN, Infinity, -Infinity, '5', undefined, null, {}] as unknown as number[];
  for (const value of junk) {
    trend.add(value);
    counter.add(value === undefined ? NaN : value, { kind: 'big' });
    rate.add(value);
    gauge.add(value);
  }
  trend.add(-3, { kind: 'big' });
  for (const value of [1, 2, 3]) trend.add(value);
  counter.add(2, { kind: 'big' });
  counter.add(-1);
  rate.add(true);
  rate.add(0);
  gauge.add(7);
  const values = (name: string) => registry.values(name, {}, TEN_SECONDS_MS)!;
  const sendMs = values('send_ms');
  assert.equal([sendMs.count, sendMs.min!(), sendMs.max!(), sendMs.avg!(), sendMs.percentile!(50)], [3, 1, 3, 2, 2]);
  assert.is(registry.values('send_ms', { kind: 'big' }, TEN_SECONDS_MS)!.count, 0, 'the negative value made no sample');
  assert.equal([values('sent').count, values('ok').count, values('ok').rate!(), values('depth').value!(), values('depth').max!()], [1, 4, 0.75, 7, 7]);
  // Counter: undefined is add()'s default of 1, so NaN stood in for it; a negative counter value is
  // kept. Rate: ±Infinity are non-zero numbers, so hits (with true: 3 of 4).
  assert.equal(['send_ms', 'sent', 'ok', 'depth'].map((name) => customMetrics().get(name)!.ignoredValues), [8, 7, 5, 7]);
  assert.equal(warnings, [
    'custom metric send_ms: add(NaN) ignored: values must be finite numbers; this and any later such values are left out of every figure (is a value computed from a missing field?)',
    'custom metric sent: add(NaN) ignored: values must be finite numbers; this and any later such values are left out of every figure (is a value computed from a missing field?)',
    'custom metric ok: add(NaN) ignored: values must be booleans or numbers; this and any later such values are left out of every figure (is a value computed from a missing field?)',
    'custom metric depth: add(NaN) ignored: values must be finite numbers; this and any later such values are left out of every figure (is a value computed from a missing field?)',
  ]);
});

Invalid('a negative trend value: its own reason; the end of the warm-up forgets the count', () => {
  const { registry, warnings } = setUp();
  const skew = new Trend('skew');
  skew.add(-0.5);
  skew.add(-0);
  skew.add(4);
  assert.match(warnings[0]!, /^custom metric skew: add\(-0\.5\) ignored: a trend keeps values of 0 or more \(record a magnitude, or add an offset\)/);
  const values = registry.values('skew', {}, TEN_SECONDS_MS)!;
  assert.equal([values.count, values.min!(), values.percentile!(50), values.max!()], [2, 0, 0, 4]);
  assert.is(customMetrics().get('skew')!.ignoredValues, 1);
  registry.endWarmup(1000);
  assert.is(customMetrics().get('skew')!.ignoredValues, 0);
  skew.add(-2);
  assert.is(customMetrics().get('skew')!.ignoredValues, 1);
  assert.is(warnings.length, 1, 'still one warning');
});

Invalid.run();

const Thresholds = suite('custom metrics: thresholds with tag filters');

Thresholds('a tag filter on a custom metric is accepted with any tag; built-ins keep their known tags', () => {
  setUp();
  new Trend('send_ms', true);
  const known = new Map<string, MetricInfo>(BUILT_IN_METRICS);
  for (const [name, metric] of customMetrics()) known.set(name, metric.info);
  const definitions = compileThresholds({ 'send_ms{kind:big}': ['p(95)<200'], 'send_ms{kind:small,region:eu}': ['avg<1s'] }, known, SYSTEM_TAGS);
  assert.equal(definitions.map((d) => d.metric.tags), [{ kind: 'big' }, { kind: 'small', region: 'eu' }]);
  try {
    compileThresholds({ 'smtp_txn_duration{kind:big}': ['p(95)<200'] }, known, SYSTEM_TAGS);
    assert.unreachable('an unknown tag on a built-in metric must be refused');
  } catch (error) {
    assert.instance(error, InvalidOptionsError);
    assert.match((error as Error).message, /unknown tag kind/);
  }
});

Thresholds('judged on the filtered samples only', () => {
  const { registry } = setUp();
  const trend = new Trend('send_ms', true);
  for (let i = 0; i < 20; i++) trend.add(i % 2 ? 500 : 5, { kind: i % 2 ? 'big' : 'small' });
  const known = new Map<string, MetricInfo>(BUILT_IN_METRICS);
  for (const [name, metric] of customMetrics()) known.set(name, metric.info);
  const definitions = compileThresholds({
    'send_ms{kind:small}': ['p(95)<10'],
    'send_ms{kind:big}': ['p(95)<10', 'min>=500', 'count==10'],
    send_ms: ['max==500', 'count==20'],
    'send_ms{kind:medium}': ['count==0'],
  }, known, SYSTEM_TAGS);
  const results = evaluateThresholds(definitions, (key) => registry.values(key.metric, key.tags, TEN_SECONDS_MS));
  assert.equal(results.map((r) => [r.metricKey, r.source, r.ok, r.actual]), [
    ['send_ms{kind:small}', 'p(95)<10', true, 5],
    ['send_ms{kind:big}', 'p(95)<10', false, 500],
    ['send_ms{kind:big}', 'min>=500', true, 500],
    ['send_ms{kind:big}', 'count==10', true, 10],
    ['send_ms', 'max==500', true, 500],
    ['send_ms', 'count==20', true, 20],
    ['send_ms{kind:medium}', 'count==0', true, 0],
  ]);
});

Thresholds.run();
