/**
 * Percentiles and bootstrap intervals from HDR histograms: the flattened buckets give exactly the
 * percentiles TrendSink reports, and the bootstrap says "no difference" for one distribution and
 * "different" for shifted ones, at about its nominal error rate.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TrendSink } from '../../runner/metrics/trend.ts';
import { bootstrapPercentileDifference, percentileOf, toBucketDistribution, valueAtRank } from '../../runner/analysis/bootstrap.ts';
import { createRandom, sampleNormal, type RandomSource } from '../../runner/analysis/stats.ts';

function sinkOf(values: readonly number[]): TrendSink {
  const sink = new TrendSink();
  for (const value of values) sink.record(value);
  return sink;
}

const generators: Record<string, (random: RandomSource) => number> = {
  uniform: (random) => 1000 + Math.floor(random() * 9000),
  lognormal: (random) => Math.max(1, Math.round(20_000 * Math.exp(0.5 * sampleNormal(random)))),
  bimodal: (random) => (random() < 0.8 ? 2000 + Math.floor(random() * 500) : 200_000 + Math.floor(random() * 50_000)),
};

const percentiles = suite('bootstrap: percentiles from buckets');

percentiles('the flattened histogram gives TrendSink\'s percentiles exactly, and true percentiles within 0.1%', () => {
  for (const [name, generate] of Object.entries(generators)) {
    const random = createRandom(3);
    const values = Array.from({ length: 5000 }, () => generate(random));
    const sink = sinkOf(values);
    const distribution = toBucketDistribution(sink);
    assert.is(distribution.count, 5000, name);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [1, 10, 50, 90, 95, 99, 99.9]) {
      const fromBuckets = percentileOf(distribution, p);
      assert.is(fromBuckets, sink.percentile(p), `${name} p${p}`);
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      assert.ok(Math.abs(fromBuckets - exact) <= exact * 1e-3, `${name} p${p}: ${fromBuckets} vs exact ${exact}`);
    }
    assert.is(valueAtRank(distribution, 1), sink.min, `${name} rank 1 is the min`);
    assert.is(valueAtRank(distribution, 5000), sink.max, `${name} last rank is the max`);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    assert.is(distribution.mean, mean, `${name} mean is exact`);
  }
});

percentiles('a decoded histogram (as read from a results file) flattens to the same buckets', () => {
  const random = createRandom(5);
  const sink = sinkOf(Array.from({ length: 1000 }, () => generators['lognormal']!(random)));
  const decoded = TrendSink.decode(sink.encode());
  const a = toBucketDistribution(sink);
  const b = toBucketDistribution(decoded);
  assert.equal([...b.values], [...a.values]);
  assert.equal([...b.cumulative], [...a.cumulative]);
});

percentiles.run();

const intervals = suite('bootstrap: intervals of a difference');

intervals('one histogram against itself: no difference, an interval around zero', () => {
  const random = createRandom(11);
  const distribution = toBucketDistribution(sinkOf(Array.from({ length: 2000 }, () => generators['lognormal']!(random))));
  for (const p of [50, 95, 99]) {
    const interval = bootstrapPercentileDifference(distribution, distribution, p, createRandom(1));
    assert.ok(interval.pValue > 0.2, `p${p}: p-value ${interval.pValue}`);
    assert.ok(interval.low <= 0 && interval.high >= 0, `p${p}: [${interval.low}, ${interval.high}]`);
  }
});

intervals('20 ms against 5 ms: significant, and the interval holds the true difference', () => {
  const random = createRandom(12);
  const slow = toBucketDistribution(sinkOf(Array.from({ length: 300 }, () => Math.round(20_000 * Math.exp(0.2 * sampleNormal(random))))));
  const fast = toBucketDistribution(sinkOf(Array.from({ length: 300 }, () => Math.round(5_000 * Math.exp(0.2 * sampleNormal(random))))));
  const interval = bootstrapPercentileDifference(slow, fast, 50, createRandom(1));
  assert.ok(interval.pValue < 0.001, `p ${interval.pValue}`);
  // True medians 20 ms and 5 ms: a difference of −15 ms.
  assert.ok(interval.low < -15_000 * 0.9 && interval.high > -15_000 * 1.1, `[${interval.low}, ${interval.high}]`);
  assert.ok(interval.high < 0);
});

intervals('two samples of one distribution: false alarms near the nominal 5%', () => {
  const random = createRandom(21);
  let alarms = 0;
  const pairs = 40;
  for (let i = 0; i < pairs; i++) {
    const a = toBucketDistribution(sinkOf(Array.from({ length: 1000 }, () => generators['lognormal']!(random))));
    const b = toBucketDistribution(sinkOf(Array.from({ length: 1000 }, () => generators['lognormal']!(random))));
    if (bootstrapPercentileDifference(a, b, 95, createRandom(i), { replicates: 1000 }).pValue < 0.05) alarms++;
  }
  // Expected 2 of 40; allow for chance.
  assert.ok(alarms <= 6, `${alarms} false alarms of ${pairs}`);
});

intervals('the same seed gives the same interval', () => {
  const random = createRandom(2);
  const a = toBucketDistribution(sinkOf(Array.from({ length: 500 }, () => generators['uniform']!(random))));
  const b = toBucketDistribution(sinkOf(Array.from({ length: 500 }, () => generators['uniform']!(random))));
  assert.equal(bootstrapPercentileDifference(a, b, 95, createRandom(9)), bootstrapPercentileDifference(a, b, 95, createRandom(9)));
});

intervals.run();
