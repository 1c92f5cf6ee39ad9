/**
 * Degradation over time, over several seeds: a flat noisy delay is rarely called latency creep
 * (false alarms), a delay that grows linearly always is (power), and the latency_trend threshold
 * gates on the verdict.
 *
 * The statistics are judged on synthetic runs: the timelines that the fake proxy's delays give a
 * constant-vus run of 2 VUs for 6 minutes (a verdict needs 5 minutes of steady load), simulated on a virtual clock (each VU sends its next message
 * when the last one is answered; a message's latency is the delays the proxy draws plus ~2 ms of
 * round trips; it lands in the window where it ends). The message phase is delayed log-normally
 * (median 50 ms, σ 0.3: a window's p95 ≈ 82 ms from ~35 messages, noisy), with the proxy's own
 * sampler and seeded PRNG. Judged this way a busy machine cannot add a trend of its own: on real
 * runs, eight at once, a loaded machine once put a +150 ms hump into two windows of every run,
 * which hid a 150 ms creep from all of them.
 *
 * One real run then checks the wiring end to end (fake proxy → timeline → trends → gate → exit
 * code and console line): 14 s, too short for a verdict, however steep its creep.
 */
import { trendInMemory } from '../../runner/results/names.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { analyseTrends, trendMetricValues, type RunTrends } from '../../runner/analysis/run-trends.ts';
import type { TrendVerdict } from '../../runner/analysis/trend-detect.ts';
import type { TimelinePoint } from '../../runner/metrics/timeline.ts';
import { evaluateThresholds } from '../../runner/thresholds/evaluate.ts';
import { compileThresholds } from '../../runner/thresholds/parse.ts';
import { BUILT_IN_METRICS } from '../../runner/metrics/catalogue.ts';
import { createDelaySampler, createSeededRandom, type DelaySpec } from '../../fixtures/delays.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';

/** Seeds of the synthetic runs, one run each. */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const DURATION_MS = 360_000;
/** The real run's length: too short for a trend verdict. */
const SHORT_RUN_MS = 14_000;
const WARMUP_MS = 1500;
const VUS = 2;
/** What a message costs beyond the proxy's delays (connect, greeting, EHLO, … on loopback), ms. */
const ROUND_TRIPS_MS = 2;
const THRESHOLDS = { latency_trend: ['value<1'] };

const FLAT_DELAY: DelaySpec = { lognormal: { medianMs: 50, sigma: 0.3 } };

/** The p95 (nearest rank) of a window's latencies, ms; null when nothing ended in it. */
function p95Of(latenciesMs: number[]): number | null {
  if (latenciesMs.length === 0) return null;
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1]!;
}

/**
 * The timeline of one synthetic run: VUS loops for DURATION_MS on a virtual clock, each message
 * delayed by the flat log-normal draw plus `extraMsAt(ms since start)`, in one-second windows.
 */
function syntheticTimeline(seed: number, extraMsAt: (atMs: number) => number = () => 0): TimelinePoint[] {
  const random = createSeededRandom(seed);
  const drawMessageDelayMs = createDelaySampler(FLAT_DELAY);
  const windows = Array.from({ length: DURATION_MS / 1000 }, () => [] as number[]);
  for (let vu = 0; vu < VUS; vu++) {
    for (let atMs = 0; ; ) {
      const latencyMs = ROUND_TRIPS_MS + extraMsAt(atMs) + drawMessageDelayMs(random);
      atMs += latencyMs;
      if (atMs >= DURATION_MS) break;
      windows[Math.floor(atMs / 1000)]!.push(latencyMs);
    }
  }
  return windows.map((latencies, i) => ({
    t: i + 1, windowMs: 1000, started: latencies.length, accepted: latencies.length, failed: 0, dropped: 0,
    msgsPerSecond: latencies.length, p50Ms: null, p95Ms: p95Of(latencies), p99Ms: null, vus: VUS,
  }));
}

interface SeedRun {
  seed: number;
  latency: TrendVerdict;
  /** Whether the latency_trend gate passed, as the run judges it. */
  isGatePassed: boolean;
  p95Ms: Array<number | null>;
}

/** The trends and the gate of each seed's synthetic run, as run.ts judges them (warm-up left out). */
function judgeSeeds(extraMsAt?: (atMs: number) => number): SeedRun[] {
  const gate = compileThresholds(THRESHOLDS, BUILT_IN_METRICS);
  return SEEDS.map((seed) => {
    const timeline = syntheticTimeline(seed, extraMsAt);
    const trends = analyseTrends(timeline, null, WARMUP_MS / 1000, ['constant-vus']);
    const results = evaluateThresholds(gate, (key) => trendMetricValues(trends, key.metric));
    return { seed, latency: trends.latency, isGatePassed: results.every((r) => r.ok), p95Ms: timeline.map((p) => p.p95Ms) };
  });
}

const describe = (run: SeedRun): string => {
  const l = run.latency;
  return `seed ${run.seed}: ${l.verdict}, p=${l.pValue?.toFixed(4)}, ${l.points} windows (${l.effectivePoints.toFixed(1)} effective), over the run ${((l.relativeOverRun ?? 0) * 100).toFixed(0)}%, p95 ${run.p95Ms.map((ms) => ms?.toFixed(0)).join(' ')}`;
};

const trends = suite('run trends: latency creep over several seeds, on synthetic runs');

trends(`a flat log-normal delay: at most one of ${SEEDS.length} seeds is called latency creep; the gate passes the others`, () => {
  const runs = judgeSeeds();
  const report = runs.map(describe).join('\n');
  // p < 0.01 (significance.ts), two-sided; creep is the rising half: ≈ 0.5% per seed when the test holds its level,
  // so ≈ 0.04 false alarms expected over 8 seeds, and two or more with probability ≈ 0.07% (≈ 0.3%
  // were the level twice nominal, which the autocorrelation correction may allow).
  const alarms = runs.filter((run) => run.latency.verdict === 'creep');
  assert.ok(alarms.length <= 1, `false alarms:\n${report}`);
  // Not a vacuous pass: most runs had enough windows for a verdict (strong autocorrelation may, rarely, leave too few)
  const judged = runs.filter((run) => run.latency.verdict !== 'insufficient data');
  assert.ok(judged.length >= SEEDS.length - 2, `too few verdicts:\n${report}`);
  for (const run of runs) {
    if (run.latency.verdict === 'creep') continue;
    assert.ok(run.isGatePassed, `seed ${run.seed}: the latency_trend gate failed without creep\n${report}`);
  }
});

trends(`the same delay plus one growing linearly by 150 ms over the run: latency creep for every seed, the gate fails`, () => {
  // The fake proxy's { ramp: { fromMs: 0, toMs: 150, overMs: DURATION_MS } } on the rcpt phase
  const runs = judgeSeeds((atMs) => 150 * Math.min(1, atMs / DURATION_MS));
  const report = runs.map(describe).join('\n');
  for (const run of runs) {
    // p95 ≈ 82 → ≈ 230 ms
    assert.is(run.latency.verdict, 'creep', `seed ${run.seed} missed the creep:\n${report}`);
    assert.ok(run.latency.relativeOverRun! > 0.4, `seed ${run.seed}: p95 grew only ${run.latency.relativeOverRun}\n${report}`);
    assert.ok(run.latency.pValue! < 0.01, `seed ${run.seed}: p ${run.latency.pValue}`);
    assert.not.ok(run.isGatePassed, `seed ${run.seed}: the gate passed`);
  }
});

trends.run();

const endToEnd = suite('run trends: a real run against the fake proxy');

endToEnd('a 14 s run with a delay growing by 400 ms: "too short to judge" on the console, no trend verdict, the gate has no samples and passes', async () => {
  // 400 ms over 14 s: p95 ≈ 80 → ≈ 480 ms, +10000% per hour if extrapolated from 14 s
  const delays = { message: FLAT_DELAY, rcpt: { ramp: { fromMs: 0, toMs: 400, overMs: SHORT_RUN_MS } } };
  const scenario: ScenarioFileOptions = {
    warmup: `${WARMUP_MS}ms`,
    thresholds: THRESHOLDS,
    scenarios: { steady: { executor: 'constant-vus', vus: VUS, duration: `${SHORT_RUN_MS / 1000}s` } },
  };
  await withFakeProxy({ delays, seed: 1 }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario, check: false, watchPid: false });
    // The warm-up is left out of the totals, so the proxy accepted at least as many as the summary says
    assert.ok(summary.results.successful > 0 && summary.results.successful <= proxy.stats.messagesAccepted, `${summary.results.successful} / ${proxy.stats.messagesAccepted}`);
    assert.is(summary.timeline.reduce((n, p) => n + p.accepted, 0), proxy.stats.messagesAccepted, 'timeline vs proxy');
    const latency = trendInMemory(summary.trends!.latency);
    assert.is(latency.verdict, 'insufficient data');
    assert.is(latency.pValue, null);
    assert.is(exitCode, ExitCode.ok);
    assert.match(output, /Over time: trends too short to judge \(needs ≥ 5 minutes of steady load; had 1\d s\)/);
    assert.not.match(output, /per hour/);
    assert.match(output, '✓ latency_trend  value<1  no samples');
  });
});

endToEnd.run();

const gauges = suite('run trends: the gauges');

gauges('trend gauges: the relative change per hour when significant, 0 when stable, no samples when unknown', () => {
  const verdict = (v: TrendVerdict['verdict'], relativePerHour: number | null): TrendVerdict => ({
    metric: 'p95Ms', points: 20, effectivePoints: 10, autocorrelation: 0, slopePerHour: 1, baseline: 1,
    relativePerHour, relativeOverRun: null, spanSeconds: 20, pValue: 0.001, significant: v !== 'stable', verdict: v,
  });
  const of = (latency: TrendVerdict) => trendMetricValues({ latency, throughput: latency, server_memory: null } satisfies RunTrends, 'latency_trend')!;
  assert.is(of(verdict('creep', 0.38)).value!(), 0.38);
  assert.is(of(verdict('stable', 0.02)).value!(), 0);
  assert.is(of(verdict('insufficient data', null)).count, 0);
  assert.is(trendMetricValues({ latency: verdict('creep', 1), throughput: verdict('stable', 0), server_memory: null }, 'server_memory_trend')!.count, 0);
  assert.is(trendMetricValues({ latency: verdict('creep', 1), throughput: verdict('stable', 0), server_memory: null }, 'smtp_txns'), undefined);
});

gauges.run();
