/**
 * A trend sink: the distribution of integer samples (microseconds for time trends). Percentiles
 * come from an HDR histogram (hdr-histogram-js, 3 significant digits: any percentile is within
 * 0.1% of the true sample value); count, sum, min and max are kept exactly beside it, so avg,
 * min and max carry no bucket error at all.
 */
import { createRequire } from 'node:module';
import type { JsHistogram } from 'hdr-histogram-js';

// hdr-histogram-js's index loads its WebAssembly build, pako and a log writer whose module set-up
// alone costs ~60 ms of every run's start-up; we need the plain JS histogram and its encoding.
// The encoding module installs encode/decode on JsHistogram's prototype when it loads: it loads
// here, before any histogram code runs hot. Loaded later (at the first timeline tick), that
// prototype change made V8 throw away every optimized function that had inlined a histogram
// call (the session's reply handler, the iteration, the recorder) and compile them again:
// ~100 ms of compiler time in a 20,000-message run, measured with --trace-opt-verbose.
const require = createRequire(import.meta.url);
const Int32Histogram = (require('hdr-histogram-js/dist/Int32Histogram.js') as typeof import('hdr-histogram-js/dist/Int32Histogram.js')).default;
/** hdr-histogram-js's V2 encoding for JsHistogram (also installs encodeIntoCompressedBase64). */
const { decompress, doDecode } = require('hdr-histogram-js/dist/JsHistogram.encoding.js') as typeof import('hdr-histogram-js/dist/JsHistogram.encoding.js');

/** Significant decimal digits the histograms keep: relative error of a percentile ≤ 10^-3. */
export const SIGNIFICANT_DIGITS = 3;

/**
 * Creates an empty HDR histogram for values ≥ 1. It starts small and grows when a larger
 * value arrives (autoResize), so memory follows the range actually seen (~40 KB up to 1 s).
 */
export function createHistogram(): JsHistogram {
  // What hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1,
  // highestTrackableValue: 2, useWebAssembly: false }) makes, without loading the index.
  const histogram = new Int32Histogram(1, 2, SIGNIFICANT_DIGITS);
  histogram.autoResize = true;
  return histogram;
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

/** Distribution of integer samples (µs for time trends). */
export class TrendSink {
  readonly histogram: JsHistogram = createHistogram();
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  /** Records one sample; values below 1 are recorded as 1 in the histogram (exact in min/sum). */
  record(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.histogram.recordValue(value < 1 ? 1 : value);
  }

  /** Adds every sample of another trend (exact: same histogram layout). */
  add(other: TrendSink): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.histogram.add(other.histogram);
  }

  reset(): void {
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
    const value = this.histogram.getValueAtPercentile(p);
    return value < this.min ? this.min : value > this.max ? this.max : value;
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
      (sink as { histogram: JsHistogram }).histogram = decoded;
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

