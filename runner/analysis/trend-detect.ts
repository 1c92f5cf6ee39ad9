/**
 * Degradation over time, detected instead of eyeballed: the guide asks soak testers to watch for
 * "throughput degradation or latency creep". detectTrends fits a least-squares line through the
 * per-second timeline (p95 latency and accepted msgs/s against time), tests whether its slope
 * differs from zero, and gives a verdict a summary can print ("latency creep: p95 +38% per hour
 * (significant)") and a threshold can gate on (relativePerHour).
 *
 * The test. Adjacent windows are not independent (a slow second is followed by another), which
 * makes the ordinary slope t-test call noise a trend far too often. So the residuals' lag-1
 * autocorrelation r is measured and the sample size shrunk to the effective n·(1 − r)/(1 + r)
 * (for r > 0), which widens the slope's standard error by √((n − 2)/(n_eff − 2)) and leaves
 * n_eff − 2 degrees of freedom for the Student t distribution (the usual correction for trends in
 * autocorrelated series, e.g. Santer et al. 2000). Assumptions: the trend is roughly linear over
 * the windows given, the noise around it is roughly AR(1). On flat AR(1) noise (φ up to 0.95) the
 * false-alarm rate stays near α (1–2% at α = 0.01, where the uncorrected test flags 30–70%). A step
 * (a cache warming up) leaves correlated residuals and is mostly not called a trend, but it biases
 * the slope: pass only the steady part of the run (skipSeconds for warm-up; steadyWindows() trims
 * ramp-up and drain by the VU count).
 *
 * When a verdict is given. A slope "per hour" fitted to 30 seconds is an extrapolation of noise
 * (a 20 s run once printed p95 −6857% per hour), so a verdict needs:
 * - enough steady load: the windows analysed span at least minSpanSeconds (5 minutes by default);
 *   below that the verdict is 'insufficient data' and the summary says "too short to judge
 *   (needs ≥ 5 minutes of steady load)", with no p-value and no gauge value;
 * - significance: p below the one rule of significance.ts (p < 0.01, as `runner compare`);
 * - an effect size that matters: a relative slope of at least minRelativePerHour (10% per hour)
 *   *and* a change over the span analysed of at least minRelativeOverRun (5%): in a long soak a
 *   tiny slope can be significant, in a short one a large per-hour figure can be a small change.
 * Otherwise 'stable'. Pure: no clock, no randomness.
 */
import type { TimelinePoint } from '../metrics/registry.ts';
import { fitLine, lag1Autocorrelation, studentTTwoSidedP } from './stats.ts';
import { SIGNIFICANCE_ALPHA, formatPValue, isSignificant } from './significance.ts';

/** Shortest steady span (seconds) a trend verdict is given for. */
export const MIN_TREND_SPAN_SECONDS = 300;

/** The series whose trend is detected: the timeline's p95 and msgs/s, and a watched server's RSS. */
export type TrendMetric = 'p95Ms' | 'msgsPerSecond' | 'rssBytes';

/** The timeline fields among them. */
export type TimelineTrendMetric = Exclude<TrendMetric, 'rssBytes'>;

/** What a trend means for the proxy. */
export type TrendVerdictName = 'creep' | 'degrading' | 'stable' | 'improving' | 'insufficient data';

/** The trend of one metric over a run. */
export interface TrendVerdict {
  metric: TrendMetric;
  /** Windows used. */
  points: number;
  /** Windows' worth of independent information after the autocorrelation correction. */
  effectivePoints: number;
  /** Lag-1 autocorrelation of the residuals. */
  autocorrelation: number;
  /** Slope in the metric's unit per hour (ms per hour for p95Ms, msgs/s per hour for msgsPerSecond). */
  slopePerHour: number;
  /** Fitted value at the first window, the reference of the relative figures (ms or msgs/s). */
  baseline: number;
  /** slopePerHour / baseline: +0.38 for +38% per hour; null when the baseline is not positive. */
  relativePerHour: number | null;
  /** Relative change over the span analysed (fitted last / fitted first − 1); null as above. */
  relativeOverRun: number | null;
  /** Seconds between the first and last window's midpoints. */
  spanSeconds: number;
  /** Two-sided p-value of the slope; null when there is too little data. */
  pValue: number | null;
  /** pValue < alpha. */
  significant: boolean;
  verdict: TrendVerdictName;
}

/** Options of detectTrends; every one has a default. */
export interface TrendOptions {
  /** Significance level of the slope test. @default SIGNIFICANCE_ALPHA (0.01, significance.ts) */
  alpha?: number;
  /** Smallest |relative slope| per hour called a trend (0.1 = 10%/h). @default 0.1 */
  minRelativePerHour?: number;
  /** Smallest |relative change over the span analysed| called a trend (0.05 = 5%). @default 0.05 */
  minRelativeOverRun?: number;
  /** Shortest span of the windows analysed, seconds, for any verdict. @default MIN_TREND_SPAN_SECONDS (300) */
  minSpanSeconds?: number;
  /** Fewest windows with a value to test at all. @default 10 */
  minPoints?: number;
  /** Windows shorter than this (ms; the final partial window) are left out. @default 500 */
  minWindowMs?: number;
  /** Leave out windows ending before this many seconds (warm-up). @default 0 */
  skipSeconds?: number;
}

const DEFAULTS: Required<TrendOptions> = {
  alpha: SIGNIFICANCE_ALPHA, minRelativePerHour: 0.1, minRelativeOverRun: 0.05, minSpanSeconds: MIN_TREND_SPAN_SECONDS, minPoints: 10, minWindowMs: 500, skipSeconds: 0,
};

/** Options with defaults filled in; an option given as undefined takes its default. */
function withDefaults(options: TrendOptions): Required<TrendOptions> {
  const settings = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as Array<keyof TrendOptions>) {
    const value = options[key];
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

/**
 * Detects the trend of p95 latency and of accepted msgs/s over a run's timeline. Pass the steady
 * part of the run (see the module comment); returns one verdict per metric.
 */
export function detectTrends(timeline: readonly TimelinePoint[], options: TrendOptions = {}): Record<TimelineTrendMetric, TrendVerdict> {
  return {
    p95Ms: detectTrend(timeline, 'p95Ms', options),
    msgsPerSecond: detectTrend(timeline, 'msgsPerSecond', options),
  };
}

/** The trend of one timeline metric (windows where it is null are left out). */
export function detectTrend(timeline: readonly TimelinePoint[], metric: TimelineTrendMetric, options: TrendOptions = {}): TrendVerdict {
  const settings = withDefaults(options);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const point of timeline) {
    const value = point[metric];
    if (value === null || point.windowMs < settings.minWindowMs || point.t < settings.skipSeconds) continue;
    // The window's midpoint is when its value was measured.
    xs.push(point.t - point.windowMs / 2000);
    ys.push(value);
  }
  return fitTrend(xs, ys, metric, settings);
}

/**
 * The trend test on raw series: `xs` in seconds, `ys` in the metric's unit (exported for tests and
 * for series other than the timeline's, e.g. a watched process's RSS).
 */
export function fitTrend(xs: readonly number[], ys: readonly number[], metric: TrendMetric, options: TrendOptions = {}): TrendVerdict {
  const settings = withDefaults(options);
  const n = Math.min(xs.length, ys.length);
  const spanSeconds = n > 1 ? xs[n - 1]! - xs[0]! : 0;
  const insufficient: TrendVerdict = {
    metric, points: n, effectivePoints: n, autocorrelation: 0, slopePerHour: 0, baseline: n ? ys.reduce((s, y) => s + y, 0) / n : 0,
    relativePerHour: null, relativeOverRun: null, spanSeconds, pValue: null, significant: false, verdict: 'insufficient data',
  };
  if (n < Math.max(3, settings.minPoints)) return insufficient;
  const fit = fitLine(xs, ys);
  if (!fit) return insufficient;

  const r = lag1Autocorrelation(fit.residuals);
  const clamped = Math.min(Math.max(r, 0), 0.99);
  const effectivePoints = (n * (1 - clamped)) / (1 + clamped);
  const slopePerHour = fit.slope * 3600;
  const first = fit.intercept + fit.slope * xs[0]!;
  const lastFitted = fit.intercept + fit.slope * xs[n - 1]!;
  const baseline = first > 0 ? first : fit.meanY;
  const relativePerHour = baseline > 0 ? slopePerHour / baseline : null;
  const relativeOverRun = baseline > 0 ? (lastFitted - first) / baseline : null;
  const base = { metric, points: n, effectivePoints, autocorrelation: r, slopePerHour, baseline, relativePerHour, relativeOverRun, spanSeconds };
  // Too short a span: a per-hour figure would extrapolate noise; no verdict, no p-value.
  if (spanSeconds < settings.minSpanSeconds) return { ...base, pValue: null, significant: false, verdict: 'insufficient data' };
  // Fewer than 3 degrees of freedom left: the t distribution is too wide for any verdict.
  if (effectivePoints < 5) return { ...base, pValue: null, significant: false, verdict: 'insufficient data' };

  let pValue: number;
  if (fit.slopeStdError === 0) {
    pValue = fit.slope === 0 ? 1 : 0;
  } else {
    const stdError = fit.slopeStdError * Math.sqrt((n - 2) / (effectivePoints - 2));
    pValue = studentTTwoSidedP(fit.slope / stdError, effectivePoints - 2);
  }
  const significant = isSignificant(pValue, settings.alpha);
  const isLarge = relativePerHour !== null && Math.abs(relativePerHour) >= settings.minRelativePerHour
    && relativeOverRun !== null && Math.abs(relativeOverRun) >= settings.minRelativeOverRun;
  let verdict: TrendVerdictName = 'stable';
  if (significant && isLarge) {
    const isRising = fit.slope > 0;
    // Rising latency or memory is bad (creep, a leak); falling throughput is.
    if (metric === 'msgsPerSecond') verdict = isRising ? 'improving' : 'degrading';
    else verdict = isRising ? 'creep' : 'improving';
  }
  return { ...base, pValue, significant, verdict };
}

/**
 * How a window's load is read: `vus` (closed models: the VUs at work) or `arrivals` (open
 * models: arrivals planned in the window per second, at their planned instant — whether they
 * started, waited or were dropped; the busy-VU count follows the server's latency, not the load,
 * and a backlog moves starts and drops away from when the load was asked for).
 */
export type LoadMeasure = 'vus' | 'arrivals';

/** Windows shorter than this (ms) are left out of the peak load. */
const MIN_PEAK_WINDOW_MS = 500;

/**
 * The windows of the steady part of a run: from the first to the last window whose load is at
 * least `fraction` of the run's peak, which drops the ramp-up and the drain.
 */
export function steadyWindows(timeline: readonly TimelinePoint[], fraction = 0.9, by: LoadMeasure = 'vus'): TimelinePoint[] {
  // Files from before windows carried `planned`: started + dropped, the nearest they have
  const load = by === 'vus' ? (p: TimelinePoint) => p.vus : (p: TimelinePoint) => ((p.planned ?? p.started + p.dropped) * 1000) / (p.windowMs || 1);
  let peak = 0;
  // A short window (the last, partial one) says little about the rate: it never sets the peak
  for (const point of timeline) if (point.windowMs >= MIN_PEAK_WINDOW_MS && load(point) > peak) peak = load(point);
  if (peak === 0) return [...timeline];
  const first = timeline.findIndex((p) => load(p) >= fraction * peak);
  let last = timeline.length - 1;
  while (last > first && load(timeline[last]!) < fraction * peak) last--;
  return timeline.slice(first, last + 1);
}

/** One line for the summary: 'latency creep: p95 +38% per hour (significant, p=0.002)', 'throughput stable (msgs/s −1% per hour, not significant, p=0.4)'. */
export function formatTrend(trend: TrendVerdict): string {
  const what = trend.metric === 'p95Ms' ? 'p95' : trend.metric === 'rssBytes' ? 'RSS' : 'msgs/s';
  if (isTooShortForTrend(trend)) return `${what}: ${formatTooShort(trend)}`;
  if (trend.verdict === 'insufficient data') return `${what}: insufficient data for a trend (${trend.points} windows)`;
  const rate = trend.relativePerHour === null
    ? `${trend.slopePerHour >= 0 ? '+' : '−'}${Math.abs(trend.slopePerHour).toFixed(1)}${trend.metric === 'p95Ms' ? ' ms' : trend.metric === 'rssBytes' ? ' bytes' : ' msgs/s'} per hour`
    : `${trend.relativePerHour >= 0 ? '+' : '−'}${Math.abs(trend.relativePerHour * 100).toFixed(0)}% per hour`;
  const p = trend.pValue === null ? '' : `, ${formatPValue(trend.pValue)}`;
  const subject = trend.metric === 'p95Ms' ? 'latency' : trend.metric === 'rssBytes' ? 'server memory' : 'throughput';
  const creep = trend.metric === 'rssBytes' ? 'server memory growing (leak?)' : 'latency creep';
  const label = trend.verdict === 'creep' ? creep : trend.verdict === 'degrading' ? 'throughput degrading' : `${subject} ${trend.verdict}`;
  if (trend.verdict === 'stable') return `${label} (${what} ${rate}, ${trend.significant ? 'significant but small' : 'not significant'}${p})`;
  return `${label}: ${what} ${rate} (significant${p})`;
}

/** Whether a trend got no verdict because the steady part of the run was shorter than a verdict needs. */
export function isTooShortForTrend(trend: Pick<TrendVerdict, 'verdict' | 'spanSeconds' | 'points'>, minSpanSeconds = MIN_TREND_SPAN_SECONDS): boolean {
  // Without two windows there is no span to speak of: that is no data, not a short run.
  return trend.verdict === 'insufficient data' && trend.points >= 2 && trend.spanSeconds < minSpanSeconds;
}

/** 'too short to judge (needs ≥ 5 minutes of steady load; had 42 s)'. */
export function formatTooShort(trend: Pick<TrendVerdict, 'spanSeconds'>, minSpanSeconds = MIN_TREND_SPAN_SECONDS): string {
  const needs = minSpanSeconds % 60 === 0 ? `${minSpanSeconds / 60} minutes` : `${minSpanSeconds} s`;
  return `too short to judge (needs ≥ ${needs} of steady load; had ${Math.max(0, Math.round(trend.spanSeconds))} s)`;
}
