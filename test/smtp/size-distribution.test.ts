/** Message size distributions: parsing, buckets, and a seeded sample's moments against the law, by table. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { momentsOf, normalCdf, normalQuantile, parseSizeBytes, pickBucket, resolveMessageSize, type MessageSizeSpec } from '../../runner/smtp/size-distribution.ts';
import { createSeededRandom } from '../../runner/random.ts';

const MAX = 64 * 1024 * 1024;
const K = 1024;

const sizes = suite('parseSizeBytes: bytes and k/m suffixes');
const SIZES: Array<[string | number, number]> = [[4096, 4096], ['20k', 20 * K], ['2m', 2 * K * K], ['1.5k', 1536], [' 10 KB ', 10 * K], ['0', 0]];
for (const [text, bytes] of SIZES) sizes(`${JSON.stringify(text)} → ${bytes}`, () => assert.is(parseSizeBytes(text), bytes));
sizes('refused: negative, fractional bytes, unknown unit', () => {
  for (const bad of [-1, 1.5, '12g', 'big', '']) assert.throws(() => parseSizeBytes(bad as string | number), RangeError);
});

/** Draws `n` sizes with a seeded PRNG: their mean and standard deviation. */
function sampleMoments(spec: MessageSizeSpec, n: number): { mean: number; sd: number } {
  const buckets = resolveMessageSize(spec, MAX);
  const random = createSeededRandom(7);
  let sum = 0;
  let square = 0;
  for (let i = 0; i < n; i++) {
    const size = buckets.sizesBytes[pickBucket(buckets.cumulative, random())]!;
    sum += size;
    square += size * size;
  }
  const mean = sum / n;
  return { mean, sd: Math.sqrt(square / n - mean * mean) };
}

const moments = suite('a seeded sample of 200,000 sizes: mean and sd within tolerance of the law');
const sigma = 1;
const lognormalMean = 20 * K * Math.exp((sigma * sigma) / 2);
const lognormalSd = lognormalMean * Math.sqrt(Math.exp(sigma * sigma) - 1);
const MOMENTS: Array<[string, MessageSizeSpec, number, number, number, number]> = [
  // name, spec, true mean, true sd, tolerance on the mean, tolerance on the sd (relative)
  ['fixed 4096', 4096, 4096, 0, 0, 0],
  ['uniform 1k-100k', '1k-100k', (K + 100 * K) / 2, (99 * K) / Math.sqrt(12), 0.01, 0.02],
  ['lognormal median 20k sigma 1', { lognormal: { median: '20k', sigma: 1 } }, lognormalMean, lognormalSd, 0.02, 0.12],
  ['sizes 1k ×0.7, 2m ×0.3', { sizes: [[1024, 0.7], ['2m', 0.3]] }, 0.7 * 1024 + 0.3 * 2 * K * K, Math.sqrt(0.7 * 0.3) * (2 * K * K - 1024), 0.01, 0.01],
];
for (const [name, spec, mean, sd, meanTolerance, sdTolerance] of MOMENTS) {
  moments(name, () => {
    const sample = sampleMoments(spec, 200_000);
    assert.ok(Math.abs(sample.mean - mean) <= meanTolerance * mean + 1e-9, `mean ${sample.mean} vs ${mean}`);
    assert.ok(Math.abs(sample.sd - sd) <= sdTolerance * sd + 1e-9, `sd ${sample.sd} vs ${sd}`);
    // The buckets themselves carry the law's mean (exactly for lognormal: conditional means)
    const exact = momentsOf(resolveMessageSize(spec, MAX));
    assert.ok(Math.abs(exact.mean - mean) <= 0.005 * mean + 1e-9, `bucket mean ${exact.mean} vs ${mean}`);
  });
}

const buckets = suite('buckets: few, bounded, and every problem named');
buckets('a continuous law has at most 64 buckets; a range narrower than that, one per size', () => {
  assert.is(resolveMessageSize('1k-100k', MAX).sizesBytes.length, 64);
  assert.equal(resolveMessageSize('100-103', MAX).sizesBytes, [100, 101, 102, 103]);
});
buckets('pickBucket: the first bucket whose cumulative probability is above the draw', () => {
  const cumulative = [0.25, 0.5, 1];
  assert.equal([0, 0.2499, 0.25, 0.7, 0.999999].map((r) => pickBucket(cumulative, r)), [0, 0, 1, 2, 2]);
});
buckets('sizes above the bounded-input limit, reversed ranges, bad sigma or weights are refused', () => {
  assert.throws(() => resolveMessageSize('1k-100m', MAX), /above the limit/);
  assert.throws(() => resolveMessageSize('100k-1k', MAX), /smaller size to the larger/);
  assert.throws(() => resolveMessageSize({ lognormal: { median: '20k', sigma: 0 } }, MAX), /sigma/);
  assert.throws(() => resolveMessageSize({ sizes: [[1024, 0]] }, MAX), /weights/);
  assert.throws(() => resolveMessageSize({ sizes: [] }, MAX), /sizes/);
});
buckets('a wide lognormal\'s far tail is capped at the limit', () => {
  const wide = resolveMessageSize({ lognormal: { median: '1m', sigma: 4 } }, MAX);
  assert.ok(Math.max(...wide.sizesBytes) <= MAX);
});

const normal = suite('normal CDF and quantile against known values');
const NORMAL: Array<[number, number]> = [[0, 0.5], [1, 0.841344746], [-1.959963985, 0.025], [2.326347874, 0.99], [-3, 0.001349898]];
for (const [z, p] of NORMAL) {
  normal(`Φ(${z}) = ${p}`, () => assert.ok(Math.abs(normalCdf(z) - p) < 1e-6));
  normal(`Φ⁻¹(${p}) = ${z}`, () => assert.ok(Math.abs(normalQuantile(p) - z) < 1e-6));
}

sizes.run();
moments.run();
buckets.run();
normal.run();
