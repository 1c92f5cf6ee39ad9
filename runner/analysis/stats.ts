/**
 * The statistics behind `runner compare`, `runner report` and trend detection: distribution
 * functions (normal, Student t), a rank test, least squares, random variates for the bootstrap,
 * and descriptive spread. Pure functions of their inputs; randomness only through a seeded source,
 * so every analysis prints the same numbers each time it runs on the same files.
 *
 * The numerical methods are the textbook ones: erfc by a Chebyshev fit (relative error < 1.2e-7),
 * log Γ by Lanczos' series, the regularised incomplete beta function by its continued fraction
 * (modified Lentz), gamma variates by Marsaglia & Tsang's squeeze (2000).
 */
import { createSeededRandom, type RandomSource } from '../random.ts';

export type { RandomSource };

/** A seeded source of uniform floats in [0, 1) (mulberry32): the same seed, the same draws. */
export function createRandom(seed: number): RandomSource {
  return createSeededRandom(seed);
}

// ---------------------------------------------------------------------------------------------
// Distribution functions

/** Complementary error function erfc(x), relative error < 1.2e-7 for every x. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z - 1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const value = t * Math.exp(poly);
  return x >= 0 ? value : 2 - value;
}

/** Standard normal cumulative distribution Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|). */
export function normalTwoSidedP(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? NaN : 0;
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (shifted + i);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the incomplete beta function (modified Lentz), for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b), for 0 ≤ x ≤ 1 and a, b > 0. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast only on one side of the mean; use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a).
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Two-sided p-value of a Student t statistic with `df` degrees of freedom (df may be fractional). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return Math.min(1, incompleteBeta(df / (df + t * t), df / 2, 0.5));
}

// ---------------------------------------------------------------------------------------------
// Tests

/** Outcome of a two-sample test: the statistic and its two-sided p-value. */
export interface TestOutcome {
  /** Standardised statistic (z or t); its sign is that of (b − a). */
  statistic: number;
  /** Two-sided p-value. */
  pValue: number;
}

/**
 * Mann–Whitney U (Wilcoxon rank-sum) test of whether values of `b` tend to be larger or smaller
 * than values of `a`, without assuming a distribution. Normal approximation with the tie
 * correction of the variance and a continuity correction; adequate from about 4 values per side
 * (below that no p-value can reach 0.05 anyway). Assumes the values are independent draws.
 * The statistic is positive when `b` tends to be larger.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): TestOutcome & { u: number } {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, statistic: NaN, pValue: NaN };
  const all: Array<{ value: number; isB: boolean }> = [];
  for (const value of a) all.push({ value, isB: false });
  for (const value of b) all.push({ value, isB: true });
  all.sort((x, y) => x.value - y.value);
  const n = n1 + n2;
  let rankSumB = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.value === all[i]!.value) j++;
    const rank = (i + j) / 2 + 1;
    const ties = j - i + 1;
    if (ties > 1) tieTerm += ties ** 3 - ties;
    for (let k = i; k <= j; k++) if (all[k]!.isB) rankSumB += rank;
    i = j + 1;
  }
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const meanU = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, statistic: 0, pValue: 1 };
  const diff = u - meanU;
  const corrected = Math.sign(diff) * Math.max(0, Math.abs(diff) - 0.5);
  const z = corrected / Math.sqrt(variance);
  return { u, statistic: z, pValue: normalTwoSidedP(z) };
}

/**
 * Two-proportion z-test (pooled variance) of successes `s1` of `n1` against `s2` of `n2`; the
 * statistic is positive when the second proportion is larger. Needs a few failures or successes
 * on each side to be accurate (the normal approximation of binomial counts).
 */
export function twoProportionTest(s1: number, n1: number, s2: number, n2: number): TestOutcome {
  if (n1 === 0 || n2 === 0) return { statistic: NaN, pValue: NaN };
  const pooled = (s1 + s2) / (n1 + n2);
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  const diff = s2 / n2 - s1 / n1;
  if (variance === 0) return { statistic: 0, pValue: diff === 0 ? 1 : 0 };
  const z = diff / Math.sqrt(variance);
  return { statistic: z, pValue: normalTwoSidedP(z) };
}

/**
 * Welch's t-test of two means from their summaries (mean, sample standard deviation, count),
 * with the Welch–Satterthwaite degrees of freedom. The statistic is positive when mean2 > mean1.
 */
export function welchTest(mean1: number, sd1: number, n1: number, mean2: number, sd2: number, n2: number): TestOutcome {
  if (n1 < 2 || n2 < 2) return { statistic: NaN, pValue: NaN };
  const v1 = (sd1 * sd1) / n1;
  const v2 = (sd2 * sd2) / n2;
  const se = Math.sqrt(v1 + v2);
  const diff = mean2 - mean1;
  if (se === 0) return { statistic: 0, pValue: diff === 0 ? 1 : 0 };
  const df = (v1 + v2) ** 2 / ((v1 * v1) / (n1 - 1) + (v2 * v2) / (n2 - 1));
  const t = diff / se;
  return { statistic: t, pValue: studentTTwoSidedP(t, df) };
}

// ---------------------------------------------------------------------------------------------
// Least squares

/** An ordinary least-squares line y = intercept + slope·x and what its t-test needs. */
export interface LineFit {
  n: number;
  slope: number;
  intercept: number;
  /** Standard error of the slope under independent errors. */
  slopeStdError: number;
  /** Residuals y − ŷ, in x order as given. */
  residuals: number[];
  meanX: number;
  meanY: number;
}

/** Fits y = a + b·x by ordinary least squares (needs ≥ 3 points and two distinct x). */
export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 3) return undefined;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < n; i++) {
    sumX += xs[i]!;
    sumY += ys[i]!;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - meanX;
    sxx += dx * dx;
    sxy += dx * (ys[i]! - meanY);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const intercept = meanY - slope * meanX;
  const residuals = new Array<number>(n);
  let ssr = 0;
  for (let i = 0; i < n; i++) {
    const r = ys[i]! - (intercept + slope * xs[i]!);
    residuals[i] = r;
    ssr += r * r;
  }
  return { n, slope, intercept, slopeStdError: Math.sqrt(ssr / (n - 2) / sxx), residuals, meanX, meanY };
}

/** Lag-1 autocorrelation of a series around its mean (0 for fewer than 3 values or no variance). */
export function lag1Autocorrelation(values: readonly number[]): number {
  const n = values.length;
  if (n < 3) return 0;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    denominator += d * d;
    if (i + 1 < n) numerator += d * (values[i + 1]! - mean);
  }
  return denominator === 0 ? 0 : numerator / denominator;
}

// ---------------------------------------------------------------------------------------------
// Random variates

/** One standard normal draw (Box–Muller; one of the pair is discarded to stay stateless). */
export function sampleNormal(random: RandomSource): number {
  let u = random();
  while (u <= 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** One Gamma(shape, 1) draw, shape ≥ 1 (Marsaglia & Tsang; a few uniforms per draw whatever the shape). */
export function sampleGamma(shape: number, random: RandomSource): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** One Beta(a, b) draw for a, b ≥ 1, as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(a: number, b: number, random: RandomSource): number {
  const x = sampleGamma(a, random);
  const y = sampleGamma(b, random);
  return x / (x + y);
}

// ---------------------------------------------------------------------------------------------
// Descriptive

/** Mean and spread of a set of figures (one per run). */
export interface Spread {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  stddev: number;
  min: number;
  max: number;
  /** Coefficient of variation stddev / mean; null when the mean is 0. */
  cv: number | null;
}

/** Mean, sample standard deviation, range and coefficient of variation; undefined when empty. */
export function describeSpread(values: readonly number[]): Spread | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  const stddev = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  return { n, mean, stddev, min, max, cv: mean === 0 ? null : stddev / Math.abs(mean) };
}
