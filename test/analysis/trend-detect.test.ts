/**
 * Degradation over time: a p95 that grows linearly is called creep with the right rate; flat noise
 * (independent or autocorrelated) is rarely called anything over many seeds; falling throughput is
 * degrading; too little data says so.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { TimelinePoint } from '../../runner/metrics/registry.ts';
import { detectTrend, detectTrends, formatTrend, MIN_TREND_SPAN_SECONDS, steadyWindows } from '../../runner/analysis/trend-detect.ts';
import { formatPValue, isSignificant, SIGNIFICANCE_ALPHA, SIGNIFICANCE_RULE } from '../../runner/analysis/significance.ts';
import { createRandom, fitLine, sampleNormal, studentTTwoSidedP } from '../../runner/analysis/stats.ts';

/** A timeline of one-second windows with the given p95 (ms) and msgs/s per window. */
function timeline(seconds: number, p95At: (t: number) => number | null, rateAt: (t: number) => number = () => 100, vusAt: (t: number) => number = () => 10): TimelinePoint[] {
  return Array.from({ length: seconds }, (_, i) => {
    const t = i + 1;
    const p95 = p95At(t);
    const rate = rateAt(t);
    return {
      t, windowMs: 1000, started: Math.round(rate), accepted: Math.round(rate), failed: 0, dropped: 0, msgsPerSecond: rate,
      p50Ms: p95 === null ? null : p95 / 2, p95Ms: p95, p99Ms: p95 === null ? null : p95 * 1.2, vus: vusAt(t),
    };
  });
}

/** Noise that remembers: AR(1) with coefficient `phi` and innovations of sd `sd`. */
function ar1(phi: number, sd: number, seed: number): (t: number) => number {
  const random = createRandom(seed);
  let state = 0;
  return (_t) => (state = phi * state + sd * sampleNormal(random));
}

const creep = suite('trend: latency creep');

creep('p95 growing 50 → 62 ms over 10 minutes plus noise: creep, about +144% per hour, significant', () => {
  const random = createRandom(1);
  // 0.02 ms per second = 72 ms per hour on a 50 ms start.
  const trend = detectTrend(timeline(600, (t) => 50 + 0.02 * t + 3 * sampleNormal(random)), 'p95Ms');
  assert.is(trend.verdict, 'creep');
  assert.is(trend.significant, true);
  assert.ok(trend.pValue! < 1e-6, `p ${trend.pValue}`);
  assert.ok(Math.abs(trend.slopePerHour - 72) < 8, `slope ${trend.slopePerHour} ms/h`);
  assert.ok(Math.abs(trend.relativePerHour! - 72 / 50) < 0.2, `relative ${trend.relativePerHour}`);
  assert.ok(Math.abs(trend.relativeOverRun! - 12 / 50) < 0.03, `over the run ${trend.relativeOverRun}`);
  assert.is(trend.points, 600);
  assert.match(formatTrend(trend), /^latency creep: p95 \+1\d\d% per hour \(significant, p<0\.001\)$/);
});

creep('a growing delay under autocorrelated noise is still found', () => {
  const noise = ar1(0.6, 3, 2);
  const trend = detectTrend(timeline(900, (t) => 40 + 0.01 * t + noise(t)), 'p95Ms');
  assert.is(trend.verdict, 'creep');
  assert.ok(trend.autocorrelation > 0.4 && trend.effectivePoints < 900 / 2, `r ${trend.autocorrelation}, n_eff ${trend.effectivePoints}`);
});

creep('p95 falling after a fix: improving', () => {
  const random = createRandom(3);
  assert.is(detectTrend(timeline(400, (t) => 80 - 0.05 * t + 2 * sampleNormal(random)), 'p95Ms').verdict, 'improving');
});

creep.run();

const alarms = suite('trend: false alarms on flat series');

alarms('flat independent noise over 20 seeds: at most 2 alarms at α = 0.01', () => {
  let flagged = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const random = createRandom(seed * 7919);
    const trends = detectTrends(timeline(300, () => 50 + 5 * sampleNormal(random), () => 200 + 10 * sampleNormal(random)));
    if (trends.p95Ms.significant) flagged++;
    if (trends.msgsPerSecond.significant) flagged++;
    for (const trend of Object.values(trends)) assert.ok(trend.verdict === 'stable' || !trend.significant, `seed ${seed}: ${trend.verdict}`);
  }
  assert.ok(flagged <= 2, `${flagged} of 40 flat series flagged`);
});

alarms('flat autocorrelated noise (AR(1), φ = 0.7) over 20 seeds: the correction keeps alarms rare', () => {
  let flagged = 0;
  let naive = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const noise = ar1(0.7, 4, seed);
    const points = timeline(300, () => 50 + noise(0));
    if (detectTrend(points, 'p95Ms').significant) flagged++;
    // The same slope judged as if adjacent windows were independent.
    const fit = fitLine(points.map((p) => p.t), points.map((p) => p.p95Ms!))!;
    if (studentTTwoSidedP(fit.slope / fit.slopeStdError, 300 - 2) < 0.01) naive++;
  }
  assert.ok(flagged <= 2, `${flagged} of 20 flagged`);
  assert.ok(naive > flagged, `without the correction ${naive} of 20 would be flagged (with it: ${flagged})`);
});

alarms.run();

const throughput = suite('trend: throughput');

throughput('msgs/s falling 200 → 150 over 10 minutes: degrading; rising: improving', () => {
  const random = createRandom(4);
  const falling = detectTrend(timeline(600, () => 30, (t) => 200 - t / 12 + 8 * sampleNormal(random)), 'msgsPerSecond');
  assert.is(falling.verdict, 'degrading');
  assert.ok(Math.abs(falling.slopePerHour + 300) < 30, `slope ${falling.slopePerHour}`);
  assert.match(formatTrend(falling), /^throughput degrading: msgs\/s −\d+% per hour \(significant, p<0\.001\)$/);
  const rising = detectTrend(timeline(600, () => 30, (t) => 100 + t / 12 + 8 * sampleNormal(random)), 'msgsPerSecond');
  assert.is(rising.verdict, 'improving');
});

throughput.run();

const edges = suite('trend: little data, gaps, warm-up, small slopes');

edges('fewer than 10 windows, or all null: insufficient data', () => {
  assert.is(detectTrend(timeline(5, (t) => t), 'p95Ms').verdict, 'insufficient data');
  const empty = detectTrend(timeline(60, () => null), 'p95Ms');
  assert.is(empty.verdict, 'insufficient data');
  assert.is(empty.pValue, null);
  assert.match(formatTrend(empty), 'p95: insufficient data for a trend (0 windows)');
});

edges('windows without messages and the final partial window are left out', () => {
  const points = timeline(100, (t) => (t % 3 === 0 ? null : 50 + t * 0.1));
  points.push({ ...points.at(-1)!, t: 100.2, windowMs: 200, p95Ms: 1000 });
  const trend = detectTrend(points, 'p95Ms');
  assert.is(trend.points, 67);
  assert.ok(Math.abs(trend.slopePerHour - 360) < 1e-6, `exact slope ${trend.slopePerHour}`);
});

edges('a warm-up step is skipped with skipSeconds', () => {
  const random = createRandom(6);
  const points = timeline(400, (t) => (t <= 30 ? 200 : 50) + 2 * sampleNormal(random));
  const whole = detectTrend(points, 'p95Ms');
  // A step is no line: the residuals stay correlated, so the correction leaves few effective windows.
  assert.ok(whole.autocorrelation > 0.8, `r ${whole.autocorrelation}`);
  const steady = detectTrend(points, 'p95Ms', { skipSeconds: 31 });
  assert.is(steady.points, 370);
  assert.is(steady.verdict, 'stable');
  assert.ok(Math.abs(steady.baseline - 50) < 1, `baseline ${steady.baseline}`);
});

edges('a significant but tiny slope in a long soak is stable', () => {
  const random = createRandom(8);
  // +2% per hour over 3 hours, very little noise: significant, below the 10%/h default.
  const trend = detectTrend(timeline(10_800, (t) => 50 + (t / 3600) * 1 + 0.2 * sampleNormal(random)), 'p95Ms');
  assert.is(trend.significant, true);
  assert.is(trend.verdict, 'stable');
  assert.match(formatTrend(trend), /^latency stable \(p95 \+2% per hour, significant but small, p<0\.001\)$/);
  assert.is(detectTrend(timeline(10_800, (t) => 50 + t / 3600 + 0.2 * sampleNormal(random)), 'p95Ms', { minRelativePerHour: 0.01 }).verdict, 'creep');
});

edges('steadyWindows drops the ramp-up and the drain', () => {
  const points = timeline(20, () => 10, () => 100, (t) => (t <= 3 ? t * 2 : t >= 18 ? 2 : 10));
  const steady = steadyWindows(points);
  assert.is(steady[0]!.t, 4);
  assert.is(steady.at(-1)!.t, 17);
});

edges('steadyWindows of an open model follows the planned arrivals (started + dropped), not the busy VUs', () => {
  // 50 arrivals/s for 20 s after a 3 s ramp; busy VUs jump with latency (1..9); second 12 dropped 20 of its arrivals
  const points = timeline(20, () => 10, (t) => (t <= 3 ? t * 12 : 50), (t) => 1 + ((t * 7) % 9)).map((point) =>
    point.t === 12 ? { ...point, started: 30, dropped: 20 } : point,
  );
  const byVus = steadyWindows(points);
  const byArrivals = steadyWindows(points, 0.9, 'arrivals');
  assert.equal([byArrivals[0]!.t, byArrivals.at(-1)!.t], [4, 20]);
  assert.ok(byVus.length < byArrivals.length, `by VUs kept ${byVus.length} windows`);
});

edges('steadyWindows of a saturated open model: the planned load is steady though starts sag and a backlog is dropped at the end', () => {
  // 50 planned/s for 14 s; the server slows, so starts sag (2 VUs) and 119 queued arrivals are dropped in the last window
  const started = [50, 50, 50, 50, 50, 49, 46, 42, 38, 36, 33, 31, 28, 28];
  const points = timeline(14, (t) => 10 + 4 * t).map((point, i) => ({ ...point, started: started[i]!, dropped: i === 13 ? 119 : 0, planned: 50 }));
  const steady = steadyWindows(points, 0.9, 'arrivals');
  assert.is(steady.length, 14, `kept ${steady.map((p) => p.t).join(' ')}`);
  // 14 s is too short for a verdict by default; the windows chosen are what is tested here
  assert.is(detectTrends(steady).p95Ms.verdict, 'insufficient data');
  assert.is(detectTrends(steady, { minSpanSeconds: 0 }).p95Ms.verdict, 'creep');
  // Without planned (older files) started + dropped is the fallback, and the end burst then dominates
  const old = points.map(({ planned: _planned, ...rest }) => rest);
  assert.ok(steadyWindows(old, 0.9, 'arrivals').length < 14);
});

edges.run();

const short = suite('trend: too short to judge, effect sizes, one significance rule');

short('a 40 s run with a steep apparent slope: no verdict, no p-value, "too short to judge"', () => {
  const random = createRandom(11);
  // p95 −69% over 40 s: −6200% per hour if extrapolated, which is what the summary once printed
  const trend = detectTrend(timeline(40, (t) => 100 - 1.7 * t + 2 * sampleNormal(random)), 'p95Ms');
  assert.is(trend.verdict, 'insufficient data');
  assert.is(trend.pValue, null);
  assert.is(trend.significant, false);
  assert.is(formatTrend(trend), 'p95: too short to judge (needs ≥ 5 minutes of steady load; had 39 s)');
  const throughputTrend = detectTrend(timeline(40, () => 10, (t) => 100 + t + sampleNormal(random)), 'msgsPerSecond');
  assert.is(formatTrend(throughputTrend), 'msgs/s: too short to judge (needs ≥ 5 minutes of steady load; had 39 s)');
});

short(`the span needed: ${MIN_TREND_SPAN_SECONDS} s of windows gives a verdict, one second less does not`, () => {
  const points = timeline(MIN_TREND_SPAN_SECONDS + 2, (t) => 50 + 0.1 * t);
  assert.is(detectTrend(points.slice(0, MIN_TREND_SPAN_SECONDS), 'p95Ms').verdict, 'insufficient data');
  assert.is(detectTrend(points.slice(0, MIN_TREND_SPAN_SECONDS + 1), 'p95Ms').verdict, 'creep');
});

short('significant and steep per hour, but a change of under 5% over the span: stable', () => {
  const random = createRandom(12);
  // +4% over 6 minutes (= +40% per hour) with almost no noise: significant, too small a change to call
  const trend = detectTrend(timeline(360, (t) => 100 + (4 * t) / 360 + 0.1 * sampleNormal(random)), 'p95Ms');
  assert.is(trend.significant, true);
  assert.ok(trend.relativePerHour! > 0.3, `relative ${trend.relativePerHour}`);
  assert.is(trend.verdict, 'stable');
  assert.match(formatTrend(trend), /^latency stable \(p95 \+\d+% per hour, significant but small, p<0\.001\)$/);
});

short('one rule: trends and compare test at the same level, and print p the same way', () => {
  assert.is(SIGNIFICANCE_ALPHA, 0.01);
  assert.is(isSignificant(0.014), false);
  assert.is(isSignificant(0.009), true);
  assert.is(isSignificant(null), false);
  assert.equal([formatPValue(0.0004), formatPValue(0.014)], ['p<0.001', 'p=0.014']);
  assert.is(SIGNIFICANCE_RULE, 'significant: two-sided p < 0.01');
});

short.run();
