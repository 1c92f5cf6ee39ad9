/**
 * Bootstrap confidence intervals for the difference of two latency distributions, computed from
 * their HDR histograms (the only per-sample record a results file keeps).
 *
 * Method. The ordinary bootstrap of a percentile draws n values with replacement from the sample
 * and takes the k-th smallest (k = ⌈p·n⌉). That k-th order statistic of a resample is F⁻¹(U) where
 * F is the sample's distribution function and U ~ Beta(k, n − k + 1) (the k-th order statistic of
 * n uniforms). So each bootstrap replicate costs one Beta draw and one lookup in the histogram's
 * cumulative counts, instead of n draws: the same distribution of replicates, affordable for runs of
 * millions of messages. Replicates of the two runs are independent; the difference's 95% interval
 * is the 2.5–97.5% range of (after − before) over the replicates, and the two-sided p-value is
 * twice the smaller tail share of differences below or above zero (ties at zero count half).
 *
 * Assumptions, and what they mean for a reader of `runner compare`:
 * - the messages of a run are independent draws from one distribution. Real latencies are
 *   correlated in time (a slow second makes many slow messages), so the intervals are somewhat
 *   too narrow for long runs; compare's minimum relative change keeps tiny "significant" shifts
 *   from being called a change;
 * - values are the histogram's bucket values (3 significant digits, ≤ 0.1% from the true sample),
 *   clamped into the exact [min, max] as TrendSink.percentile does;
 * - the bootstrap sees the variation within each run, not between runs of the same build: repeat
 *   runs and use `runner report` to see how much whole runs differ.
 */
import type { JsHistogram } from 'hdr-histogram-js';
import type { TrendSink } from '../metrics/trend.ts';
import { sampleBeta, type RandomSource } from './stats.ts';

/** A histogram flattened into its non-empty buckets: values ascending and cumulative counts. */
export interface BucketDistribution {
  count: number;
  /** Bucket values (the highest value equivalent to the bucket, as HDR reports percentiles), ascending. */
  values: Float64Array;
  /** cumulative[i]: samples in buckets 0..i. */
  cumulative: Float64Array;
  /** Exact extremes and mean, from the sink's exact fields. */
  min: number;
  max: number;
  mean: number;
  /** Sample standard deviation from the bucket values. */
  stddev: number;
}

/** Flattens a trend's histogram into its non-empty buckets (one pass over the counts array). */
export function toBucketDistribution(trend: TrendSink): BucketDistribution {
  // TrendSink builds its histograms without WebAssembly, so they are JsHistogram instances.
  const histogram = trend.histogram as unknown as JsHistogram;
  const values: number[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < histogram.countsArrayLength; i++) {
    const count = histogram.getCountAtIndex(i);
    if (count === 0) continue;
    total += count;
    const value = histogram.highestEquivalentValue(histogram.valueFromIndex(i));
    values.push(Math.min(trend.max, Math.max(trend.min, value)));
    cumulative.push(total);
  }
  const mean = trend.count ? trend.sum / trend.count : NaN;
  let squares = 0;
  let previous = 0;
  for (let i = 0; i < values.length; i++) {
    squares += (cumulative[i]! - previous) * (values[i]! - mean) ** 2;
    previous = cumulative[i]!;
  }
  return {
    count: total,
    values: Float64Array.from(values),
    cumulative: Float64Array.from(cumulative),
    min: trend.min,
    max: trend.max,
    mean,
    stddev: total > 1 ? Math.sqrt(squares / (total - 1)) : 0,
  };
}

/** The smallest bucket value v with (samples ≤ v) ≥ `rank` (1-based rank among the samples). */
export function valueAtRank(distribution: BucketDistribution, rank: number): number {
  const { cumulative, values } = distribution;
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (cumulative[mid]! >= rank) high = mid;
    else low = mid + 1;
  }
  return values[low]!;
}

/** The percentile `p` (0 < p < 100) of a bucket distribution, as HDR computes it (⌈p·n⌉-th sample). */
export function percentileOf(distribution: BucketDistribution, p: number): number {
  return valueAtRank(distribution, rankOf(distribution.count, p));
}

function rankOf(count: number, p: number): number {
  // The small epsilon keeps p·n that is an integer in floating point from rounding up one rank.
  return Math.min(count, Math.max(1, Math.ceil((p / 100) * count - 1e-9)));
}

/** A confidence interval of a difference (after − before) and its two-sided p-value. */
export interface DifferenceInterval {
  /** Lower and upper end of the (1 − alpha) interval, in the unit of the values. */
  low: number;
  high: number;
  pValue: number;
}

/** Options of the bootstrap; every one has a default. */
export interface BootstrapOptions {
  /** Replicates drawn. @default 2000 */
  replicates?: number;
  /** 1 − confidence of the interval. @default 0.05 */
  alpha?: number;
}

/**
 * Bootstrap interval of percentile(after, p) − percentile(before, p) (see the module comment),
 * using `random` for the draws (seeded by the caller, so results repeat).
 */
export function bootstrapPercentileDifference(
  before: BucketDistribution,
  after: BucketDistribution,
  p: number,
  random: RandomSource,
  options: BootstrapOptions = {},
): DifferenceInterval {
  const replicates = options.replicates ?? 2000;
  const alpha = options.alpha ?? 0.05;
  const draw = (distribution: BucketDistribution): number => {
    const n = distribution.count;
    const k = rankOf(n, p);
    // U ~ Beta(k, n−k+1) is the k-th smallest of n uniforms; F⁻¹(U) is the resample's percentile.
    const u = sampleBeta(k, n - k + 1, random);
    return valueAtRank(distribution, Math.max(1, Math.ceil(u * n - 1e-9)));
  };
  const differences = new Float64Array(replicates);
  let below = 0;
  let above = 0;
  for (let i = 0; i < replicates; i++) {
    const difference = draw(after) - draw(before);
    differences[i] = difference;
    if (difference < 0) below++;
    else if (difference > 0) above++;
  }
  differences.sort();
  const ties = replicates - below - above;
  const tail = Math.min(below, above) + ties / 2;
  const at = (q: number) => differences[Math.min(replicates - 1, Math.max(0, Math.floor(q * (replicates - 1))))]!;
  return {
    low: at(alpha / 2),
    high: at(1 - alpha / 2),
    pValue: Math.min(1, (2 * (tail + 1)) / (replicates + 1)),
  };
}
