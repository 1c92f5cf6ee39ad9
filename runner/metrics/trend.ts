/**
 * A trend sink: the distribution of integer samples (microseconds for time trends). Percentiles
 * come from an HDR histogram (hdr-histogram-js, 3 significant digits: any percentile is within
 * 0.1% of the true sample value); count, sum, min and max are kept exactly beside it, so avg,
 * min and max carry no bucket error at all.
 */
import { createRequire } from 'node:module';
import type { JsHistogram } from 'hdr-histogram-js';

/** Defined (true) by build.mjs in the CommonJS CLI bundle only. */
declare const RUNNER_CJS_BUNDLE: true | undefined;

// hdr-histogram-js's index loads its WebAssembly build, pako and a log writer whose module set-up
// alone costs ~60 ms of every run's start-up; we need the plain JS histogram and its encoding.
// The encoding module installs encode/decode on JsHistogram's prototype when it loads: it loads
// here, before any histogram code runs hot. Loaded later (at the first timeline tick), that
// prototype change made V8 throw away every optimized function that had inlined a histogram
// call (the session's reply handler, the iteration, the recorder) and compile them again:
// ~100 ms of compiler time in a 20,000-message run, measured with --trace-opt-verbose.
//
// In the built CLI (CommonJS) these are plain require() calls, which esbuild bundles: the modules
// then come compiled from the launcher's code cache instead of being loaded and compiled on every
// run (~30 ms less start-up, measured over 12 interleaved one-message runs). Everywhere else (the sources under tsx, the ESM library entry
// dist/index.js) createRequire loads them. `typeof require` cannot tell the two apart: esbuild's
// ESM output defines a require shim that throws.
const sourceRequire = typeof RUNNER_CJS_BUNDLE !== 'undefined' ? undefined : createRequire(import.meta.url);
const Int32Histogram = ((sourceRequire?.('hdr-histogram-js/dist/Int32Histogram.js') ?? require('hdr-histogram-js/dist/Int32Histogram.js')) as typeof import('hdr-histogram-js/dist/Int32Histogram.js')).default;
/** hdr-histogram-js's V2 encoding for JsHistogram (also installs encodeIntoCompressedBase64). */
const { decompress, doDecode } = (sourceRequire?.('hdr-histogram-js/dist/JsHistogram.encoding.js') ?? require('hdr-histogram-js/dist/JsHistogram.encoding.js')) as typeof import('hdr-histogram-js/dist/JsHistogram.encoding.js');
const ulp = ((sourceRequire?.('hdr-histogram-js/dist/ulp.js') ?? require('hdr-histogram-js/dist/ulp.js')) as typeof import('hdr-histogram-js/dist/ulp.js')).default;

/** The histograms trends use: hdr-histogram-js's JsHistogram over an Int32Array of counts. */
export type Int32HdrHistogram = InstanceType<typeof Int32Histogram>;

/** Significant decimal digits the histograms keep: relative error of a percentile ≤ 10^-3. */
export const SIGNIFICANT_DIGITS = 3;

/**
 * Creates an empty HDR histogram for values ≥ 1. It starts small and grows when a larger
 * value arrives (autoResize), so memory follows the range actually seen (~40 KB up to 1 s).
 */
export function createHistogram(): Int32HdrHistogram {
  // What hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1,
  // highestTrackableValue: 2, useWebAssembly: false }) makes, without loading the index.
  const histogram = new Int32Histogram(1, 2, SIGNIFICANT_DIGITS);
  histogram.autoResize = true;
  return histogram;
}

/**
 * log2 of half the sub-buckets per bucket in our layout (10: 1024 half-buckets, for 3 significant
 * digits), computed as hdr-histogram-js does; the lowest discernible value is 1, so the unit
 * magnitude is 0.
 */
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = Math.ceil(Math.log2(2 * 10 ** SIGNIFICANT_DIGITS)) - 1;
/** Largest value the fast path of TrendSink.record takes (32-bit integer operations). */
const FAST_RECORD_MAX = 2 ** 31 - 1;

const MAX_UINT32 = 2 ** 32 - 1;

/** hdr-histogram-js's members addHistogram uses (JavaScript-public, not in its typings). */
interface HistogramInternals {
  /** A Uint32Array for an Int32Histogram (unsigned 32-bit counts). */
  _counts: Uint32Array;
  _totalCount: number;
  subBucketCount: number;
  unitMagnitude: number;
  countsArrayLength: number;
  maxValue: number;
  minNonZeroValue: number;
  startTimeStampMsec: number;
  endTimeStampMsec: number;
  countsArrayIndex(value: number): number;
  updatedMaxValue(value: number): void;
  updateMinNonZeroValue(value: number): void;
}

/**
 * Adds `other`'s counts into `target`, with the result of hdr-histogram-js's add(). Two
 * histograms of one layout (the same lowest value and significant digits: every TrendSink's)
 * give a counts index the same value whatever the arrays' lengths, so once `target` has grown
 * to hold other's largest value, the counts add index by index. hdr-histogram-js does that only
 * when the two arrays have the same length; otherwise it records each non-zero count again by
 * its value (a log2 and two pows each): ~10× the CPU, and the usual case when a reset histogram
 * takes a longer one's, as --workers' parent does for every worker's every histogram each second.
 * (That path also sets the histogram's own max and min to their buckets' lowest values; this one
 * keeps them exact, as the library's equal-length path does. Nothing runner reports reads them:
 * a TrendSink keeps its exact min and max beside the histogram, and percentiles come from counts.)
 */
export function addHistogram(target: Int32HdrHistogram, other: Int32HdrHistogram): void {
  const into = target as unknown as HistogramInternals;
  const from = other as unknown as HistogramInternals;
  if (from._totalCount === 0) return target.add(other);
  if (into.subBucketCount !== from.subBucketCount || into.unitMagnitude !== from.unitMagnitude || !(from._counts instanceof Uint32Array) || !(into._counts instanceof Uint32Array)) return target.add(other);
  const lastIndex = from.countsArrayIndex(from.maxValue);
  if (lastIndex >= into.countsArrayLength) {
    if (!target.autoResize) return target.add(other);
    target.resize(from.maxValue);
    if (lastIndex >= into.countsArrayLength) return target.add(other);
  }
  const source = from._counts;
  const counts = into._counts;
  const end = Math.min(lastIndex + 1, source.length);
  // A count past 32 bits: the library's own path (and its overflow handling), as before
  for (let i = 0; i < end; i++) if (source[i]! > 0 && counts[i]! + source[i]! > MAX_UINT32) return target.add(other);
  let added = 0;
  for (let i = 0; i < end; i++) {
    const count = source[i]!;
    if (count > 0) {
      counts[i] = counts[i]! + count;
      added += count;
    }
  }
  into._totalCount += added;
  into.updatedMaxValue(Math.max(into.maxValue, from.maxValue));
  into.updateMinNonZeroValue(Math.min(into.minNonZeroValue, from.minNonZeroValue));
  into.startTimeStampMsec = Math.min(into.startTimeStampMsec, from.startTimeStampMsec);
  into.endTimeStampMsec = Math.max(into.endTimeStampMsec, from.endTimeStampMsec);
}

/** The serialisable form of a trend, written to results files and read back for merging. */
export interface EncodedTrend {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** HDR histogram, compressed and base64-encoded (the HdrHistogram V2 format). */
  hdr: string;
}

/** The percentiles reports ask for: computed together, in one pass, on the first request. */
const COMMON_PERCENTILES = [50, 90, 95, 99, 99.9];

/** Distribution of integer samples (µs for time trends). */
export class TrendSink {
  readonly histogram: Int32HdrHistogram = createHistogram();
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Bumped by reset(): with count, it tells whether the cached percentiles are still current. */
  private generation = 0;
  private percentileCache: { generation: number; count: number; values: Map<number, number> } | undefined;

  /**
   * Records one sample (an integer ≥ 0; a fraction lands in its integer's bucket). A value below 1
   * goes to the histogram's 0 bucket, so a custom trend with many zeros (retries per message) reads
   * p50 = 0, not 0.001; min, max and sum are exact whatever the value.
   */
  record(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const histogram = this.histogram;
    if (value < 1) {
      histogram.recordValue(0);
    } else if (value <= FAST_RECORD_MAX) {
      // What hdr-histogram-js's recordValue does for our layout, in integer operations: its
      // version takes Math.log2 and two Math.pow per value (~150 ns a record against ~15 ns
      // here, measured over 2 million values; a message records 8 to 12). floor(log2(v)) is
      // 31 - clz32(v) and floor(v / 2^bucket) is v >>> bucket for v below 2^31, fractions
      // included. Counts index, min and max come out the same (test/metrics/trend.test.ts checks
      // it against recordValue); past the counts array (a resize) or an Int32 overflow, the
      // library's own path handles the value.
      const bucket = 31 - Math.clz32(value) - SUB_BUCKET_HALF_COUNT_MAGNITUDE;
      const index = bucket > 0 ? (bucket << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (value >>> bucket) : value >>> 0;
      const counts = histogram._counts;
      if (index < histogram.countsArrayLength && counts[index]! < FAST_RECORD_MAX) {
        counts[index] = counts[index]! + 1;
        if (value > histogram.maxValue) histogram.maxValue = value;
        if (value < histogram.minNonZeroValue) histogram.minNonZeroValue = Math.floor(value);
        histogram._totalCount++;
      } else {
        histogram.recordValue(value);
      }
    } else {
      histogram.recordValue(value);
    }
  }

  /** Adds every sample of another trend (exact: same histogram layout). */
  add(other: TrendSink): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    addHistogram(this.histogram, other.histogram);
  }

  reset(): void {
    this.generation++;
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.histogram.reset();
  }

  /** Mean of the samples, or NaN when there are none. */
  avg(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  /**
   * The value at percentile `p` (0..100), or NaN when empty. p=0 and p=100 give the exact min
   * and max; between them the HDR value, clamped into [min, max] so bucket rounding can never
   * report a value no sample had.
   */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    if (p <= 0) return this.min;
    if (p >= 100) return this.max;
    // Every change adds to count, except reset(), which bumps generation: same pair, same data.
    let cache = this.percentileCache;
    if (cache === undefined || cache.count !== this.count || cache.generation !== this.generation) {
      cache = this.percentileCache = { generation: this.generation, count: this.count, values: new Map() };
    }
    let value = cache.values.get(p);
    if (value === undefined) {
      const wanted = [p, ...COMMON_PERCENTILES.filter((common) => common !== p && !cache.values.has(common))];
      const found = this.valuesAtPercentiles(wanted);
      for (let i = 0; i < wanted.length; i++) cache.values.set(wanted[i]!, found[i]!);
      value = found[0]!;
    }
    return value;
  }

  /**
   * hdr-histogram-js's getValueAtPercentile for several percentiles in one pass, clamped into
   * [min, max]. Same rule (the first bucket whose running count reaches
   * max(ceil(p/100 × total − 1 ulp), 1), reported as that bucket's highest equivalent value), but
   * the pass starts at the lowest recorded value instead of at 0, where a run's histograms have
   * thousands of empty buckets below their first sample, and serves every percentile asked at once.
   * Percentiles strictly between 0 and 100.
   */
  private valuesAtPercentiles(percentiles: number[]): number[] {
    const histogram = this.histogram;
    const total = histogram.totalCount;
    const targets = percentiles.map((p) => {
      const fpCount = (p / 100) * total;
      return Math.max(Math.ceil(fpCount - ulp(fpCount)), 1);
    });
    const order = targets.map((_, i) => i).sort((a, b) => targets[a]! - targets[b]!);
    const values: number[] = new Array(percentiles.length).fill(NaN);
    const length = histogram.countsArrayLength;
    // Index 0 holds the value 0, which minNonZeroValue leaves out.
    let index = histogram.getCountAtIndex(0) > 0 ? 0 : Math.min(histogram.countsArrayIndex(histogram.minNonZeroValue), length);
    // The counts array itself when the histogram is one of hdr-histogram-js's typed-array
    // histograms (ours are): a call per bucket costs several times the time in this cold,
    // run-once loop over thousands of buckets.
    const counts = (histogram as unknown as { _counts?: unknown })._counts;
    const typed = ArrayBuffer.isView(counts) ? (counts as Int32Array) : undefined;
    let next = 0;
    let nextTarget = targets[order[0]!]!;
    let running = 0;
    for (; index < length; index++) {
      running += typed === undefined ? histogram.getCountAtIndex(index) : typed[index]!;
      if (running < nextTarget) continue;
      const value = histogram.highestEquivalentValue(histogram.valueFromIndex(index));
      while (next < order.length && running >= targets[order[next]!]!) values[order[next++]!] = value;
      if (next === order.length) break;
      nextTarget = targets[order[next]!]!;
    }
    // Not reached (an inconsistent histogram): hdr-histogram-js answers 0, which clamps to min.
    return values.map((value) => (Number.isNaN(value) || value < this.min ? this.min : value > this.max ? this.max : value));
  }

  encode(): EncodedTrend {
    return {
      count: this.count,
      sum: this.sum,
      min: this.count ? this.min : 0,
      max: this.count ? this.max : 0,
      hdr: this.histogram.encodeIntoCompressedBase64(),
    };
  }

  /**
   * Rebuilds a trend from its encoded form (results files), for merging and comparing runs. A
   * histogram of our layout (lowest value 1, SIGNIFICANT_DIGITS, 32-bit counts: what
   * createHistogram makes, so every results file runner wrote) is adopted as decoded, with
   * autoResize on like ours: its counts mean the same as a fresh one's, so add() and record()
   * stay exact, and copying it (half the cost of a decode) is saved. Any other layout is copied
   * into ours, value by value.
   */
  static decode(encoded: EncodedTrend): TrendSink {
    const sink = new TrendSink();
    if (encoded.count === 0) return sink;
    const decoded = doDecode(decompress(Buffer.from(encoded.hdr.trim(), 'base64')), 32, 0);
    if (decoded.lowestDiscernibleValue === 1 && decoded.numberOfSignificantValueDigits === SIGNIFICANT_DIGITS) {
      decoded.autoResize = true;
      // `histogram` is readonly to users of a sink; a sink being built may take this one instead.
      // doDecode with 32-bit counts makes an Int32Histogram.
      (sink as { histogram: JsHistogram }).histogram = decoded as Int32HdrHistogram;
    } else {
      sink.histogram.add(decoded);
    }
    sink.count = encoded.count;
    sink.sum = encoded.sum;
    sink.min = encoded.min;
    sink.max = encoded.max;
    return sink;
  }
}

