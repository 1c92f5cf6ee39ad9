/**
 * The statistics behind compare, report and trend detection, against values worked out by hand
 * or by numerical integration of the densities.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createRandom, describeSpread, erfc, fitLine, incompleteBeta, lag1Autocorrelation, logGamma, mannWhitneyU, normalCdf,
  normalTwoSidedP, sampleBeta, sampleGamma, studentTTwoSidedP, twoProportionTest, welchTest,
} from '../../runner/analysis/stats.ts';

const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (±${tolerance})`);

/** Simpson's rule over [a, b] with n (even) intervals: the ground truth for the closed forms. */
function integrate(f: (x: number) => number, a: number, b: number, n = 20_000): number {
  const h = (b - a) / n;
  let sum = f(a) + f(b);
  for (let i = 1; i < n; i++) sum += f(a + i * h) * (i % 2 ? 4 : 2);
  return (sum * h) / 3;
}

const distributions = suite('stats: distribution functions');

distributions('normalCdf and erfc match known quantiles and the integrated density', () => {
  for (const [z, expected] of [[0, 0.5], [1.959964, 0.975], [-1.644854, 0.05], [2.575829, 0.995], [-3.090232, 0.001]] as const) {
    near(normalCdf(z), expected, 2e-7, `Φ(${z})`);
  }
  const density = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  for (const z of [-2.5, -0.7, 0.3, 1.1, 3]) near(normalCdf(z), 0.5 + Math.sign(z) * integrate(density, 0, Math.abs(z)), 1e-7, `Φ(${z}) vs ∫`);
  near(erfc(0), 1, 2e-7, 'erfc(0)');
  near(normalTwoSidedP(1.959964), 0.05, 1e-6, 'two-sided 1.96');
  assert.is(normalTwoSidedP(Infinity), 0);
});

distributions('logGamma and the incomplete beta function match closed forms', () => {
  near(logGamma(5), Math.log(24), 1e-12, 'lnΓ(5)');
  near(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-12, 'lnΓ(½)');
  near(logGamma(101), 363.73937555556347, 1e-9, 'lnΓ(101) = ln 100!');
  for (const x of [0.1, 0.37, 0.9]) near(incompleteBeta(x, 1, 1), x, 1e-12, `I_${x}(1,1)`);
  near(incompleteBeta(0.5, 2, 2), 0.5, 1e-12, 'I_½(2,2)');
  // I_x(2,3) = Σ_{j=2..4} C(4,j) x^j (1−x)^(4−j)
  near(incompleteBeta(0.3, 2, 3), 6 * 0.09 * 0.49 + 4 * 0.027 * 0.7 + 0.0081, 1e-12, 'I_0.3(2,3)');
  assert.is(incompleteBeta(0, 2, 3), 0);
  assert.is(incompleteBeta(1, 2, 3), 1);
});

distributions('Student t: table quantiles and the integrated density, for whole and fractional df', () => {
  for (const [t, df] of [[12.706, 1], [4.303, 2], [2.228, 10], [2.086, 20], [1.984, 100]] as const) {
    near(studentTTwoSidedP(t, df), 0.05, 2e-4, `t=${t} df=${df}`);
  }
  near(studentTTwoSidedP(3.169, 10), 0.01, 1e-4, 't=3.169 df=10');
  for (const df of [3, 7.5, 30]) {
    const c = Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2)) / Math.sqrt(df * Math.PI);
    const density = (x: number) => c * (1 + (x * x) / df) ** (-(df + 1) / 2);
    for (const t of [0.5, 1.7, 2.9]) near(studentTTwoSidedP(t, df), 1 - 2 * integrate(density, 0, t), 1e-7, `t=${t} df=${df} vs ∫`);
  }
  assert.is(studentTTwoSidedP(0, 5), 1);
});

distributions.run();

const tests = suite('stats: two-sample tests');

tests('Mann-Whitney U: separated samples, ties worked out by hand, identical samples', () => {
  const separated = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
  assert.is(separated.u, 25);
  // z = (25 − 12.5 − 0.5) / √(25·11/12)
  near(separated.statistic, 12 / Math.sqrt(275 / 12), 1e-12, 'z');
  near(separated.pValue, 0.01219, 1e-4, 'p');
  assert.ok(mannWhitneyU([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]).statistic < 0, 'b smaller: negative');
  // Ranks 1 | 3 3 3 | 6 6 6 | 8: U_b = 23 − 10 = 13; variance (16/12)(9 − 48/56).
  const tied = mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4]);
  assert.is(tied.u, 13);
  near(tied.statistic, 4.5 / Math.sqrt((16 / 12) * (9 - 48 / 56)), 1e-12, 'tied z');
  near(tied.pValue, 0.1720, 1e-3, 'tied p');
  assert.is(mannWhitneyU([5, 5, 5], [5, 5, 5]).pValue, 1);
  assert.ok(Number.isNaN(mannWhitneyU([], [1]).pValue));
});

tests('two-proportion z and Welch t against hand-computed values', () => {
  const proportions = twoProportionTest(90, 100, 80, 100);
  near(proportions.statistic, -0.1 / Math.sqrt(0.85 * 0.15 * 0.02), 1e-12, 'z');
  near(proportions.pValue, 0.0477, 5e-4, 'p');
  assert.equal(twoProportionTest(100, 100, 100, 100), { statistic: 0, pValue: 1 });
  const welch = welchTest(0, 1, 10, 1, 1, 10);
  near(welch.statistic, 1 / Math.sqrt(0.2), 1e-12, 't');
  near(welch.pValue, studentTTwoSidedP(1 / Math.sqrt(0.2), 18), 1e-12, 'df = 18 for equal sizes and spreads');
  assert.ok(Number.isNaN(welchTest(0, 1, 1, 1, 1, 10).pValue), 'one sample has no spread');
});

tests.run();

const lines = suite('stats: least squares and autocorrelation');

lines('fitLine recovers an exact line and the standard error of a noisy one', () => {
  const xs = [0, 1, 2, 3, 4, 5];
  const exact = fitLine(xs, xs.map((x) => 3 + 2 * x))!;
  near(exact.slope, 2, 1e-12, 'slope');
  near(exact.intercept, 3, 1e-12, 'intercept');
  near(exact.slopeStdError, 0, 1e-12, 'se');
  // y = 1, 3, 2, 5: slope 1.1, residuals ±…, se = √(SSR/2/Sxx) with Sxx = 5.
  const noisy = fitLine([0, 1, 2, 3], [1, 3, 2, 5])!;
  near(noisy.slope, 1.1, 1e-12, 'noisy slope');
  const ssr = noisy.residuals.reduce((s, r) => s + r * r, 0);
  near(noisy.slopeStdError, Math.sqrt(ssr / 2 / 5), 1e-12, 'noisy se');
  assert.is(fitLine([1, 1, 1], [1, 2, 3]), undefined, 'no spread in x');
  assert.is(fitLine([1, 2], [1, 2]), undefined, 'too few points');
});

lines('lag-1 autocorrelation: alternating, smooth and too short series', () => {
  assert.ok(lag1Autocorrelation([1, -1, 1, -1, 1, -1, 1, -1]) < -0.8);
  assert.ok(lag1Autocorrelation(Array.from({ length: 50 }, (_, i) => Math.sin(i / 10))) > 0.9);
  assert.is(lag1Autocorrelation([1, 2]), 0);
  assert.is(lag1Autocorrelation([4, 4, 4, 4]), 0);
});

lines.run();

const variates = suite('stats: seeded random variates');

variates('the same seed gives the same draws; Gamma and Beta have their textbook moments', () => {
  const a = createRandom(42);
  const b = createRandom(42);
  for (let i = 0; i < 5; i++) assert.is(a(), b());
  const random = createRandom(7);
  const draws = 20_000;
  for (const shape of [1, 3.5, 1000]) {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < draws; i++) {
      const x = sampleGamma(shape, random);
      sum += x;
      squares += x * x;
    }
    const mean = sum / draws;
    near(mean, shape, 4 * Math.sqrt(shape / draws), `Gamma(${shape}) mean`);
    near(squares / draws - mean * mean, shape, 0.06 * shape, `Gamma(${shape}) variance`);
  }
  for (const [alpha, beta] of [[2, 5], [95, 6], [5000, 5000]] as const) {
    let sum = 0;
    for (let i = 0; i < draws; i++) sum += sampleBeta(alpha, beta, random);
    const mean = alpha / (alpha + beta);
    const sd = Math.sqrt((alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1)));
    near(sum / draws, mean, 4 * sd / Math.sqrt(draws), `Beta(${alpha},${beta}) mean`);
  }
});

variates.run();

const spread = suite('stats: spread over runs');

spread('describeSpread: mean, sample stddev, range and coefficient of variation', () => {
  const s = describeSpread([2, 4, 4, 4, 5, 5, 7, 9])!;
  assert.is(s.n, 8);
  assert.is(s.mean, 5);
  near(s.stddev, Math.sqrt(32 / 7), 1e-12, 'stddev');
  assert.is(s.min, 2);
  assert.is(s.max, 9);
  near(s.cv!, Math.sqrt(32 / 7) / 5, 1e-12, 'cv');
  assert.equal(describeSpread([3]), { n: 1, mean: 3, stddev: 0, min: 3, max: 3, cv: 0 });
  assert.is(describeSpread([-1, 1])!.cv, null);
  assert.is(describeSpread([]), undefined);
});

spread.run();
