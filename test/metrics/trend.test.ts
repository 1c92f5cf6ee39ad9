/**
 * TrendSink's numbers against ground truth: generated data sets (seeded), the exact percentile
 * computed by sorting, and the histogram's stated precision.
 *
 * The definition: hdr-histogram-js' getValueAtPercentile is *nearest rank*: the sample of rank
 * ⌈p/100 · N⌉ (at least 1) in ascending order, and it answers the *highest value equivalent*
 * to that sample's bucket. With 3 significant digits a bucket holds one integer below 2048
 * and 2^k integers in [1024·2^k, 2048·2^k), so for an integer sample v the answer r satisfies
 * v ≤ r < v + v/1024: one-sided, relative error < 0.098% (the "0.1%" the module promises), and
 * exact below 2048 µs. TrendSink clamps r into [min, max] and keeps count, sum, min and max
 * beside the histogram, so min, max and avg are exact. Every value here is an integer (µs), so
 * "rounding to integers" adds nothing on top.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { TrendSink, SIGNIFICANT_DIGITS, addHistogram, createHistogram, type EncodedTrend } from '../../runner/metrics/trend.ts';
import { createSeededRandom, type RandomSource } from '../../runner/random.ts';

const ONE_HOUR_US = 3_600_000_000;

// A histogram of another layout than ours, with the encoding installed (as trend.ts loads them).
const require = createRequire(import.meta.url);
const Int32Histogram = (require('hdr-histogram-js/dist/Int32Histogram.js') as typeof import('hdr-histogram-js/dist/Int32Histogram.js')).default;
require('hdr-histogram-js/dist/JsHistogram.encoding.js');

/** Percentiles checked, in thousandths of a percent-point (so ranks are computed in integers). */
const PERCENTILES_MILLI = [50_000, 90_000, 95_000, 99_000, 99_900] as const;

/** A standard normal draw (Box–Muller); 1 − u keeps the logarithm finite. */
function normal(random: RandomSource): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** The data sets, all integer microseconds ≥ 1, each from its own seed. */
const DATA_SETS: Record<string, () => number[]> = {
  'uniform 1 ms..1 s': () => {
    const random = createSeededRandom(11);
    return Array.from({ length: 20_000 }, () => 1_000 + Math.floor(random() * 999_001));
  },
  'log-normal median 20 ms, sigma 0.8': () => {
    const random = createSeededRandom(22);
    return Array.from({ length: 20_000 }, () => Math.max(1, Math.round(20_000 * Math.exp(0.8 * normal(random)))));
  },
  'bimodal: 70% near 5 ms, 30% near 800 ms': () => {
    const random = createSeededRandom(33);
    return Array.from({ length: 20_000 }, () => {
      const medianUs = random() < 0.7 ? 5_000 : 800_000;
      return Math.max(1, Math.round(medianUs * Math.exp(0.1 * normal(random))));
    });
  },
  'small values (exact range, < 2048 µs)': () => {
    const random = createSeededRandom(44);
    return Array.from({ length: 5_000 }, () => 1 + Math.floor(random() * 2_000));
  },
  'constant 12 345 µs': () => Array.from({ length: 1_000 }, () => 12_345),
  'a single sample': () => [777_777],
  'edges: 1 µs and 1 h, and a few between': () => {
    const random = createSeededRandom(55);
    return Array.from({ length: 2_001 }, (_, i) => (i % 2 === 0 ? 1 : i % 7 === 0 ? 1 + Math.floor(random() * ONE_HOUR_US) : ONE_HOUR_US));
  },
  'top-heavy: 1 h at and above p99.9': () => [...Array.from({ length: 999 }, (_, i) => 1_000 + i), ONE_HOUR_US, ONE_HOUR_US],
};

/** The exact nearest-rank percentile of ascending `sorted`: the sample of rank ⌈p·N⌉ (≥ 1). */
function exactPercentile(sorted: readonly number[], percentileMilli: number): number {
  const rank = Math.max(1, Math.ceil((percentileMilli * sorted.length) / 100_000));
  return sorted[rank - 1]!;
}

function record(values: readonly number[]): TrendSink {
  const sink = new TrendSink();
  for (const value of values) sink.record(value);
  return sink;
}

/** Percentiles compared for exact equality between two sinks: the whole range, with the extremes. */
const GRID = [0, 0.001, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100];

function assertSameTrend(actual: TrendSink, expected: TrendSink, what: string): void {
  assert.is(actual.count, expected.count, `${what}: count`);
  assert.is(actual.sum, expected.sum, `${what}: sum`);
  assert.is(actual.min, expected.min, `${what}: min`);
  assert.is(actual.max, expected.max, `${what}: max`);
  for (const p of GRID) assert.is(actual.percentile(p), expected.percentile(p), `${what}: p${p}`);
}

const truth = suite('trend: percentiles against exact values by sorting');

truth('the stated precision is 3 significant digits', () => {
  assert.is(SIGNIFICANT_DIGITS, 3);
});

for (const [name, generate] of Object.entries(DATA_SETS)) {
  truth(`${name}: p50…p99.9 within [exact, exact·(1 + 1/1024)); min, max, avg exact`, () => {
    const values = generate();
    const sink = record(values);
    const sorted = [...values].sort((a, b) => a - b);
    let sum = 0;
    for (const value of values) sum += value;
    assert.is(sink.count, values.length);
    assert.is(sink.sum, sum);
    assert.is(sink.percentile(0), sorted[0]);
    assert.is(sink.percentile(100), sorted[sorted.length - 1]);
    assert.is(sink.avg(), sum / values.length);
    for (const percentileMilli of PERCENTILES_MILLI) {
      const exact = exactPercentile(sorted, percentileMilli);
      const reported = sink.percentile(percentileMilli / 1000);
      const what = `p${percentileMilli / 1000}: reported ${reported}, exact ${exact}`;
      assert.ok(reported >= exact, `${what}: below the exact value`);
      assert.ok(reported - exact < exact / 1024, `${what}: error ${((100 * (reported - exact)) / exact).toFixed(4)}% ≥ 1/1024`);
      if (exact < 2048) assert.is(reported, exact, `${what}: not exact in the unit-resolution range`);
    }
  });
}

truth('nearest rank, not interpolation: p50 of [1, 2, 3, 4] is 2, p50 of [10, 20, 30] is 20, p75 of 4 samples is the 3rd', () => {
  assert.is(record([1, 2, 3, 4]).percentile(50), 2);
  assert.is(record([10, 20, 30]).percentile(50), 20);
  assert.is(record([4, 3, 2, 1]).percentile(75), 3);
  assert.is(record([4, 3, 2, 1]).percentile(75.0001), 4);
  // p99.9 of 1000 samples is the 999th: the floating-point 0.999·1000 must not round up to 1000
  const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.is(record(thousand).percentile(99.9), 999);
  assert.is(record(thousand).percentile(0.1), 1);
});

truth('an empty trend has no percentiles (NaN) and encodes to count 0', () => {
  const empty = new TrendSink();
  for (const p of [0, 50, 100]) assert.ok(Number.isNaN(empty.percentile(p)), `p${p}`);
  assert.ok(Number.isNaN(empty.avg()));
  const encoded = empty.encode();
  assert.equal([encoded.count, encoded.sum, encoded.min, encoded.max], [0, 0, 0, 0]);
  assert.is(TrendSink.decode(encoded).count, 0);
});

truth('zeros: exact in min/avg/sum and in every percentile that lands on them (the histogram\'s 0 bucket)', () => {
  const sink = record([0, 0, 0, 5]);
  assert.is(sink.min, 0);
  assert.equal([0, 50, 75, 76, 100].map((p) => sink.percentile(p)), [0, 0, 0, 5, 5]);
  for (const p of [50, 75, 76, 99]) assert.is(sink.percentile(p), sink.histogram.getValueAtPercentile(p), `p${p} as hdr-histogram-js`);
  assert.is(sink.avg(), 1.25);
  assert.is(record([0, 0]).percentile(50), 0);
  // A fraction below 1 shares the 0 bucket; the clamp into [min, max] reports the exact sample.
  assert.is(record([0.4, 0.4]).percentile(50), 0.4);
});

truth('after reset() the trend is empty and records afresh', () => {
  const sink = record([5, 6, 7]);
  sink.reset();
  assert.is(sink.count, 0);
  sink.record(9);
  assert.equal([sink.percentile(50), sink.min, sink.max, sink.sum], [9, 9, 9, 9]);
});

/** hdr-histogram-js's own answer, clamped into [min, max] as TrendSink promises. */
function libraryPercentile(sink: TrendSink, p: number): number {
  if (p <= 0) return sink.min;
  if (p >= 100) return sink.max;
  const value = sink.histogram.getValueAtPercentile(p);
  return Math.min(Math.max(value, sink.min), sink.max);
}

/** Percentiles off the common set too, and ones whose rank computation is 1 ulp off. */
const DENSE_GRID = [...GRID, 0.5, 33.3, 66.7, 80, 97.5, 99.5, 99.95, 12.5, 99.9, 50];

for (const [name, generate] of Object.entries(DATA_SETS)) {
  truth(`${name}: every percentile equals hdr-histogram-js's getValueAtPercentile (one-pass, cached)`, () => {
    const values = generate();
    const sink = record(values.slice(0, Math.ceil(values.length / 2)));
    // Asked twice (the second from the cache), then after more samples (the cache must not be stale)
    for (const round of ['first', 'cached']) {
      for (const p of DENSE_GRID) assert.is(sink.percentile(p), libraryPercentile(sink, p), `${round}: p${p}`);
    }
    for (const value of values.slice(Math.ceil(values.length / 2))) sink.record(value);
    for (const p of DENSE_GRID) assert.is(sink.percentile(p), libraryPercentile(sink, p), `after more samples: p${p}`);
    const other = record([3, 50_000, 2_000_000]);
    sink.add(other);
    for (const p of DENSE_GRID) assert.is(sink.percentile(p), libraryPercentile(sink, p), `after add(): p${p}`);
  });
}

truth('a cached percentile does not outlive reset(), even when the new samples are as many as the old', () => {
  const sink = record([100, 200, 300]);
  assert.is(sink.percentile(50), 200);
  sink.reset();
  for (const value of [7, 8, 9]) sink.record(value);
  assert.is(sink.percentile(50), 8);
  assert.is(sink.percentile(99), 9);
});

const encoding = suite('trend: encode/decode round trip is exact');

for (const [name, generate] of Object.entries(DATA_SETS)) {
  encoding(`${name}: decode(encode(t)) has every percentile, count, sum, min and max of t`, () => {
    const sink = record(generate());
    const encoded = JSON.parse(JSON.stringify(sink.encode())) as ReturnType<TrendSink['encode']>;
    assertSameTrend(TrendSink.decode(encoded), sink, name);
  });
}

encoding('a decoded trend keeps recording into the same layout (a merged file can be merged again)', () => {
  const values = DATA_SETS['log-normal median 20 ms, sigma 0.8']!();
  const decoded = TrendSink.decode(record(values.slice(0, 10_000)).encode());
  for (const value of values.slice(10_000)) decoded.record(value);
  assertSameTrend(decoded, record(values), 'decoded + recorded');
});

encoding('decode adopts the decoded histogram: same layout as a fresh sink, and adding others into it stays exact', () => {
  const values = DATA_SETS['log-normal median 20 ms, sigma 0.8']!();
  const small = [1, 2, 3, 1500, 2047];
  const large = [ONE_HOUR_US, ONE_HOUR_US - 1, 10_000_000];
  const fresh = new TrendSink().histogram;
  const decoded = TrendSink.decode(record(small).encode());
  for (const field of ['lowestDiscernibleValue', 'numberOfSignificantValueDigits', 'autoResize', 'subBucketCount', 'unitMagnitude'] as const) {
    assert.is(decoded.histogram[field], fresh[field], field);
  }
  // The decoded histogram's range is small (values < 2048): adding 1 h values makes it grow.
  decoded.add(record(large));
  decoded.add(TrendSink.decode(record(values.slice(0, 7_000)).encode()));
  decoded.add(record(values.slice(7_000, 14_000)));
  for (const value of values.slice(14_000)) decoded.record(value);
  const union = record([...small, ...large, ...values]);
  assertSameTrend(decoded, union, 'decoded + added + recorded');
  // …and into a fresh sink, and through another round trip (a merged file merged again)
  const into = new TrendSink();
  into.add(decoded);
  assertSameTrend(into, union, 'a fresh sink plus the decoded one');
  assertSameTrend(TrendSink.decode(decoded.encode()), union, 'decoded again');
});

encoding('a histogram of another layout (2 significant digits, lowest value 1000) is copied into ours', () => {
  const values = DATA_SETS['uniform 1 ms..1 s']!();
  const layouts: Array<[lowest: number, digits: number]> = [[1, 2], [1000, SIGNIFICANT_DIGITS]];
  for (const [lowest, digits] of layouts) {
    const foreign = new Int32Histogram(lowest, 2 * lowest, digits);
    foreign.autoResize = true;
    for (const value of values) foreign.recordValue(value);
    const encoded: EncodedTrend = { count: values.length, sum: values.reduce((n, v) => n + v, 0), min: Math.min(...values), max: Math.max(...values), hdr: foreign.encodeIntoCompressedBase64() };
    const decoded = TrendSink.decode(encoded);
    assert.is(decoded.histogram.lowestDiscernibleValue, 1, `${lowest}/${digits}: lowest`);
    assert.is(decoded.histogram.numberOfSignificantValueDigits, SIGNIFICANT_DIGITS, `${lowest}/${digits}: digits`);
    // The foreign buckets are coarser: its values land in ours at their bucket's start, within the foreign precision
    const expected = new TrendSink();
    expected.histogram.add(foreign);
    Object.assign(expected, { count: encoded.count, sum: encoded.sum, min: encoded.min, max: encoded.max });
    assertSameTrend(decoded, expected, `${lowest}/${digits}`);
    decoded.add(record(values));
    assert.is(decoded.count, 2 * values.length);
  }
});

const merging = suite('trend: add() of two trends equals recording the union');

for (const [name, generate] of Object.entries(DATA_SETS)) {
  merging(`${name}: random split, A.add(B) = all; also through encode/decode (runner merge)`, () => {
    const values = generate();
    const random = createSeededRandom(99);
    const left: number[] = [];
    const right: number[] = [];
    for (const value of values) (random() < 0.5 ? left : right).push(value);
    const union = record(values);
    const merged = record(left);
    merged.add(record(right));
    assertSameTrend(merged, union, `${name} (in memory)`);
    const viaFiles = TrendSink.decode(record(left).encode());
    viaFiles.add(TrendSink.decode(record(right).encode()));
    assertSameTrend(viaFiles, union, `${name} (encoded)`);
  });
}

merging('adding an empty trend changes nothing; adding into an empty trend copies', () => {
  const values = DATA_SETS['bimodal: 70% near 5 ms, 30% near 800 ms']!();
  const sink = record(values);
  sink.add(new TrendSink());
  assertSameTrend(sink, record(values), 'plus empty');
  const empty = new TrendSink();
  empty.add(record(values));
  assertSameTrend(empty, record(values), 'into empty');
});

merging('a small-range trend plus one that reached 1 h: the histogram grows, nothing is lost', () => {
  const small = [1, 2, 3, 1500, 2047];
  const large = [ONE_HOUR_US, ONE_HOUR_US - 1, 10_000_000];
  const merged = record(small);
  merged.add(record(large));
  assertSameTrend(merged, record([...small, ...large]), 'small + large');
  const reversed = record(large);
  reversed.add(record(small));
  assertSameTrend(reversed, record([...small, ...large]), 'large + small');
});

const recording = suite('trend: record() fills the histogram exactly as hdr-histogram-js\'s recordValue');

/** Values at every edge of the layout: zero and fractions, bucket borders (2^k ± 1), the fast path's end (2^31), beyond it, and a spread of each magnitude. */
function edgeValues(): number[] {
  const random = createSeededRandom(41);
  const values = [0, 0.25, 0.999, 1, 1.5, 2, 1023, 1024, 1025, 2047, 2047.9, 2048, 2049, 4095, 4096, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 0.5, 2 ** 33 + 7, ONE_HOUR_US];
  for (let k = 1; k <= 31; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 2 ** k + 0.5);
  for (let i = 0; i < 20_000; i++) values.push(Math.floor(2 ** (random() * 32)), 2 ** (random() * 32));
  return values;
}

/** The same values through the library's own recordValue, on a histogram of our layout. */
function libraryHistogram(values: readonly number[]) {
  const histogram = new TrendSink().histogram;
  for (const value of values) histogram.recordValue(value < 1 ? 0 : value);
  return histogram;
}

function assertSameHistogram(actual: TrendSink['histogram'], expected: TrendSink['histogram'], label: string): void {
  assert.is(actual.countsArrayLength, expected.countsArrayLength, `${label}: counts array length`);
  assert.is(actual.totalCount, expected.totalCount, `${label}: total count`);
  assert.is(actual.maxValue, expected.maxValue, `${label}: maxValue`);
  assert.is(actual.minNonZeroValue, expected.minNonZeroValue, `${label}: minNonZeroValue`);
  for (let i = 0; i < expected.countsArrayLength; i++) {
    if (actual.getCountAtIndex(i) !== expected.getCountAtIndex(i)) assert.unreachable(`${label}: count at index ${i}: ${actual.getCountAtIndex(i)} ≠ ${expected.getCountAtIndex(i)}`);
  }
}

recording('edge values and 40,000 spread over 32 binary magnitudes, in order, reversed and shuffled (resizes at different moments)', () => {
  const values = edgeValues();
  const shuffled = [...values];
  const random = createSeededRandom(42);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const fractions = [5.5, 2.5, 3000.25, 2.75, 9_000_000.5];
  for (const [label, order] of [['in order', values], ['reversed', [...values].reverse()], ['shuffled', shuffled], ['fractions only', fractions]] as const) {
    assertSameHistogram(record(order).histogram, libraryHistogram(order), label);
  }
});

recording('a trend read back from a results file records on exactly like one that never left memory', () => {
  const values = edgeValues();
  const half = values.length / 2;
  const encoded = record(values.slice(0, half)).encode();
  const decoded = TrendSink.decode(encoded);
  for (const value of values.slice(half)) decoded.record(value);
  // Decoding sets maxValue to its bucket's highest equivalent value, so the library's side is decoded too.
  const expected = TrendSink.decode(encoded).histogram;
  for (const value of values.slice(half)) expected.recordValue(value < 1 ? 0 : value);
  assertSameHistogram(decoded.histogram, expected, 'decoded, then recorded');
});

const adding = suite('trend: addHistogram gives what hdr-histogram-js\'s add() gives, without its slow path');

/** Every observable of a histogram: counts by index (trailing zeros left out), total, min, max, percentiles. */
function observe(histogram: ReturnType<typeof createHistogram>): unknown {
  const counts: number[] = [];
  for (let i = 0; i < histogram.countsArrayLength; i++) counts.push(histogram.getCountAtIndex(i));
  while (counts.length > 0 && counts.at(-1) === 0) counts.pop();
  // min and max by bucket: the library's by-value path sets them to their buckets' lowest values, its equal-length path (and addHistogram) to the exact ones
  const bucketOf = (value: number): number => (value === 0 || value === Number.MAX_SAFE_INTEGER ? value : histogram.lowestEquivalentValue(value));
  return { counts, total: histogram.totalCount, min: bucketOf(histogram.minNonZeroValue), max: bucketOf(histogram.maxValue), p: [0, 50, 99, 99.9, 100].map((p) => histogram.getValueAtPercentile(p)) };
}

adding('targets and sources of every relative range (empty, smaller, equal, larger, zeros only, reset), decoded sources too', () => {
  const random = createSeededRandom(17);
  const fill = (histogram: ReturnType<typeof createHistogram>, count: number, magnitude: number): void => {
    for (let i = 0; i < count; i++) histogram.recordValue(Math.floor(random() * 2 ** magnitude));
  };
  const cases = [
    { name: 'empty target, wide source', target: [0, 0], source: [5000, 30] },
    { name: 'narrow target, wide source', target: [300, 10], source: [5000, 30] },
    { name: 'wide target, narrow source', target: [5000, 30], source: [300, 10] },
    { name: 'same range', target: [2000, 20], source: [2000, 20] },
    { name: 'zeros only', target: [100, 12], source: [50, 0] },
    { name: 'into zeros only', target: [50, 0], source: [100, 25] },
  ];
  for (const { name, target, source } of cases) {
    for (const isDecoded of [false, true]) {
      for (const isReset of [false, true]) {
        const other = createHistogram();
        fill(other, source[0]!, source[1]!);
        const from = isDecoded ? TrendSink.decode({ count: other.totalCount, sum: 0, min: 0, max: 0, hdr: other.encodeIntoCompressedBase64() }).histogram : other;
        const fast = createHistogram();
        fill(fast, target[0]!, target[1]!);
        if (isReset) {
          fill(fast, 10, 31);
          fast.reset();
        }
        const slow = createHistogram();
        slow.add(fast);
        if (isReset) slow.reset();
        addHistogram(fast, from);
        slow.add(from);
        assert.equal(observe(fast), observe(slow), `${name}${isDecoded ? ', decoded' : ''}${isReset ? ', into a reset one' : ''}`);
      }
    }
  }
});

adding('a histogram of another layout is added by the library (by value)', () => {
  const other = new Int32Histogram(1, 2, 2);
  other.autoResize = true;
  for (const value of [1, 150, 12_345, 9_999_999]) other.recordValue(value);
  const fast = createHistogram();
  const slow = createHistogram();
  addHistogram(fast, other as never);
  slow.add(other);
  assert.equal(observe(fast), observe(slow));
});

truth.run();
encoding.run();
adding.run();
merging.run();
recording.run();
