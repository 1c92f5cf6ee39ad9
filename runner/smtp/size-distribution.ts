/**
 * Message size distributions (issue 16): `4096`, `'20k'`, `'1k-100k'` (uniform),
 * `{ lognormal: { median: '20k', sigma: 1 } }` or `{ sizes: [[1024, 0.7], ['2m', 0.3]] }`, turned
 * into a small set of buckets (a size and its probability) so that the hot path draws one number,
 * searches a short cumulative table and takes a body that was built once per bucket
 * (message.ts bodyWithEndOfData): no body is allocated per message.
 *
 * Continuous laws are cut into BUCKETS equiprobable slices; each slice is represented by its
 * conditional mean, so the bucketed law has the exact mean of the continuous one (its variance
 * is a little smaller: the spread inside each slice is lost). Pure functions, tested by table.
 */

import { createRandomSeed, createSeededRandom, type RandomSource } from '../random.ts';

/** A size as written: bytes, or a string with a k/m suffix (`'20k'` = 20 × 1024, `'2m'` = 2 × 1024²). */
export type SizeSpec = number | string;

/** A message size distribution as a scenario writes it. */
export type MessageSizeSpec =
  | SizeSpec
  | { lognormal: { median: SizeSpec; sigma: number } }
  | { sizes: Array<[SizeSpec, number]> };

/** The resolved distribution: sizes in bytes with their cumulative probabilities (last = 1). */
export interface SizeBuckets {
  sizesBytes: number[];
  cumulative: number[];
}

/** Slices a continuous law is cut into. 64: bodies for every bucket stay a few MB at most for typical sizes. */
export const BUCKETS = 64;

const UNIT: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 * 1024, mb: 1024 * 1024 };

/** Bytes of a size (`4096`, `'20k'`, `'2m'`, `'1.5k'`); throws a RangeError saying what is accepted. */
export function parseSizeBytes(value: SizeSpec): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`size ${value} must be a whole number of bytes >= 0`);
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|m|mb)?\s*$/i.exec(value);
  if (match === null) throw new RangeError(`'${value}' is not a size: use bytes (4096) or a k/m suffix ('20k', '2m')`);
  return Math.round(Number(match[1]) * UNIT[(match[2] ?? '').toLowerCase()]!);
}

/** Whether `spec` is one size (4096, '20k'), not a distribution. */
export function isSingleSize(spec: MessageSizeSpec): spec is SizeSpec {
  return typeof spec === 'number' || (typeof spec === 'string' && !spec.includes('-'));
}

/** The buckets of a distribution; throws a RangeError naming what is wrong. */
export function resolveMessageSize(spec: MessageSizeSpec, maxBytes: number): SizeBuckets {
  const check = (bytes: number): number => {
    if (bytes > maxBytes) throw new RangeError(`size ${bytes} bytes is above the limit of ${maxBytes} bytes`);
    return bytes;
  };
  if (typeof spec === 'number') return { sizesBytes: [check(parseSizeBytes(spec))], cumulative: [1] };
  if (typeof spec === 'string') {
    const range = /^([^-]+)-([^-]+)$/.exec(spec.trim());
    if (range === null) return { sizesBytes: [check(parseSizeBytes(spec))], cumulative: [1] };
    const low = parseSizeBytes(range[1]!);
    const high = check(parseSizeBytes(range[2]!));
    if (high < low) throw new RangeError(`'${spec}': the range must go from the smaller size to the larger`);
    return uniformBuckets(low, high);
  }
  if ('lognormal' in spec) {
    const { median, sigma } = spec.lognormal;
    if (!(typeof sigma === 'number' && sigma > 0 && sigma <= 4)) throw new RangeError(`lognormal.sigma ${sigma} must be a number in (0, 4]`);
    return lognormalBuckets(parseSizeBytes(median), sigma, maxBytes);
  }
  if ('sizes' in spec) {
    const entries = spec.sizes;
    if (!Array.isArray(entries) || entries.length === 0) throw new RangeError('sizes: give [[size, weight], ...], e.g. [[1024, 0.7], [\'2m\', 0.3]]');
    let total = 0;
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2 || !(typeof entry[1] === 'number' && entry[1] >= 0)) {
        throw new RangeError(`sizes: ${JSON.stringify(entry)} is not [size, weight >= 0]`);
      }
      total += entry[1];
    }
    if (!(total > 0)) throw new RangeError('sizes: the weights must not all be 0');
    const sizesBytes: number[] = [];
    const cumulative: number[] = [];
    let running = 0;
    for (const [size, weight] of entries) {
      running += weight / total;
      sizesBytes.push(check(parseSizeBytes(size)));
      cumulative.push(running);
    }
    cumulative[cumulative.length - 1] = 1;
    return { sizesBytes, cumulative };
  }
  throw new RangeError(`messageSize: use 4096, '1k-100k', { lognormal: { median: '20k', sigma: 1 } } or { sizes: [[1024, 0.7], ['2m', 0.3]] }`);
}

/** Uniform on [low, high]: BUCKETS equal slices (fewer when the range is narrower), each at its midpoint. */
function uniformBuckets(low: number, high: number): SizeBuckets {
  const count = Math.max(1, Math.min(BUCKETS, high - low + 1));
  const width = (high - low) / count;
  const sizesBytes: number[] = [];
  const cumulative: number[] = [];
  for (let i = 0; i < count; i++) {
    sizesBytes.push(Math.round(low + width * (i + 0.5)));
    cumulative.push((i + 1) / count);
  }
  return { sizesBytes, cumulative };
}

/**
 * Lognormal of `median` (e^μ) and `sigma`: BUCKETS equiprobable slices, each at its conditional
 * mean E[X | slice] = e^(μ+σ²/2) · (Φ(zb − σ) − Φ(za − σ)) · BUCKETS, za and zb the slice's
 * standard normal quantiles. Capped at `maxBytes` (the far tail of a wide law).
 */
function lognormalBuckets(median: number, sigma: number, maxBytes: number): SizeBuckets {
  if (!(median > 0)) throw new RangeError('lognormal.median must be > 0');
  const mean = median * Math.exp((sigma * sigma) / 2);
  const sizesBytes: number[] = [];
  const cumulative: number[] = [];
  let previousTail = 0; // Φ(za − σ) for the slice's lower edge (za = −∞ at first)
  for (let i = 0; i < BUCKETS; i++) {
    const upper = i === BUCKETS - 1 ? 1 : normalCdf(normalQuantile((i + 1) / BUCKETS) - sigma);
    const conditionalMean = mean * (upper - previousTail) * BUCKETS;
    previousTail = upper;
    sizesBytes.push(Math.min(maxBytes, Math.max(0, Math.round(conditionalMean))));
    cumulative.push((i + 1) / BUCKETS);
  }
  return { sizesBytes, cumulative };
}

/** A resolved distribution as the session settings carry it (plain data): its buckets and the seed of its draws. */
export interface MessageSizes extends SizeBuckets {
  /** Seed of the one stream every session of the scenario draws from (smtp.messageSizeSeed, else random). */
  seed: number;
}

/** The buckets of `spec` with a seed: `seed` when given, else a fresh random one. */
export function messageSizesOf(spec: MessageSizeSpec, maxBytes: number, seed?: number): MessageSizes {
  return { ...resolveMessageSize(spec, maxBytes), seed: seed ?? createRandomSeed() };
}

/** One seeded stream per resolved distribution, shared by its sessions (draws are in message order). */
const streams = new WeakMap<MessageSizes, RandomSource>();

/**
 * The next message's bucket index: one draw from the distribution's seeded stream. With a seed, N
 * messages of a run take exactly the first N draws, whichever session sends each.
 */
export function drawBucket(sizes: MessageSizes): number {
  let random = streams.get(sizes);
  if (random === undefined) {
    random = createSeededRandom(sizes.seed);
    streams.set(sizes, random);
  }
  return pickBucket(sizes.cumulative, random());
}

/** Index of the bucket a uniform draw in [0, 1) falls in (binary search of the cumulative table). */
export function pickBucket(cumulative: readonly number[], random01: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (random01 < cumulative[middle]!) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The distribution's mean and standard deviation in bytes. */
export function momentsOf(buckets: SizeBuckets): { mean: number; sd: number } {
  let mean = 0;
  let square = 0;
  let previous = 0;
  buckets.sizesBytes.forEach((size, i) => {
    const p = buckets.cumulative[i]! - previous;
    previous = buckets.cumulative[i]!;
    mean += p * size;
    square += p * size * size;
  });
  return { mean, sd: Math.sqrt(Math.max(0, square - mean * mean)) };
}

/** Standard normal CDF (Φ), via erfc with the Numerical Recipes rational approximation (|error| < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Standard normal quantile (Φ⁻¹) for p in (0, 1): Acklam's rational approximation (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
