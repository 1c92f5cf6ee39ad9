/**
 * Degradation over time on real runs against the fake proxy, over several seeds: a flat noisy
 * delay is rarely called latency creep (false alarms), a delay that grows linearly always is
 * (power), and the latency_trend threshold gates on the verdict.
 *
 * Setup, shared by both checks: SEEDS runs at once in this process, each against a fake proxy of
 * its own seed, constant-vus with 2 VUs for 14 s, the message phase delayed log-normally (median
 * 50 ms, σ 0.3: a window's p95 ≈ 82 ms from ~35 messages, noisy). The detector needs ≥ 10 windows
 * of one second and ≥ 5 effective ones after its autocorrelation correction
 * (analysis/trend-detect.ts). Eight runs starting together make the first second or two slow for
 * all of them (start-up, JIT), a common trend that is not the proxy's: the warm-up (1.5 s) leaves
 * it out, as it would a cold pool, which leaves 11–12 windows per run. The delays are large next
 * to the runner's own cost (~50 ms against ~1 ms a message, ~45% of one core for eight runs), so
 * the event loop adds no trend of its own. Each batch takes ~14.5 s.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { trendMetricValues, type RunTrends } from '../../runner/analysis/run-trends.ts';
import type { TrendVerdict } from '../../runner/analysis/trend-detect.ts';
import type { DelaySpec, FakeProxyOptions } from '../../fixtures/fake-proxy.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { trendInMemory } from '../../runner/results/names.ts';

/** Seeds of the fake proxies, one run each. */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const DURATION_MS = 14_000;
const WARMUP_MS = 1500;

const scenario: ScenarioFileOptions = {
  warmup: `${WARMUP_MS}ms`,
  thresholds: { latency_trend: ['value<1'] },
  scenarios: { steady: { executor: 'constant-vus', vus: 2, duration: `${DURATION_MS / 1000}s` } },
};

const FLAT_DELAY: DelaySpec = { lognormal: { medianMs: 50, sigma: 0.3 } };

interface SeedRun {
  seed: number;
  latency: TrendVerdict;
  exitCode: number;
  output: string;
  /** p95 of each window (ms), for messages. */
  p95Ms: Array<number | null>;
}

/**
 * A batch is judged only if this process kept time while it ran: the runs and their fake proxies
 * share its event loop, so a stall (the machine busy with something else, a long GC) delays
 * every message of every seed in the same seconds. On a loaded CI machine that was seen to put
 * a +150 ms hump into two windows of all eight runs at once, which hid a 150 ms creep from all of
 * them: a fact about the machine, not about the detector. Normal lag here is a few ms (max ~20–40 ms).
 */
const MAX_EVENT_LOOP_LAG_MS = 80;
/** Batches tried before giving up on a quiet one. */
const ATTEMPTS = 3;

/** Runs the scenario against one fake proxy per seed, all at once; checks each run's count against its proxy. */
async function runSeedsOnce(delays: FakeProxyOptions['delays']): Promise<{ runs: SeedRun[]; maxLagMs: number }> {
  // Watched from the end of the warm-up, the part judged: the batch's first second holds the
  // module loading and JIT of eight runs starting at once (seen: 0.3–2.4 s of lag under load).
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const watchFrom = setTimeout(() => lag.enable(), WARMUP_MS);
  const runs = await Promise.all(SEEDS.map((seed) => withFakeProxy({ delays, seed }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario, check: false, watchPid: false });
    // The warm-up is left out of the totals, so the proxy accepted at least as many as the summary says
    assert.ok(summary.results.successful > 0 && summary.results.successful <= proxy.stats.messagesAccepted, `seed ${seed}: ${summary.results.successful} / ${proxy.stats.messagesAccepted}`);
    assert.is(summary.timeline.reduce((n, p) => n + p.accepted, 0), proxy.stats.messagesAccepted, `seed ${seed}: timeline vs proxy`);
    return { seed, latency: trendInMemory(summary.trends!.latency), exitCode, output, p95Ms: summary.timeline.map((p) => p.p95_ms) };
  })));
  clearTimeout(watchFrom);
  lag.disable();
  // The histogram is in ns; its max includes the 10 ms resolution tick
  return { runs, maxLagMs: lag.max / 1e6 - 10 };
}

/** runSeedsOnce until a batch ran without a stall (at most ATTEMPTS); fails if none did. */
async function runSeeds(delays: FakeProxyOptions['delays']): Promise<SeedRun[]> {
  const lags: string[] = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const { runs, maxLagMs } = await runSeedsOnce(delays);
    lags.push(`${maxLagMs.toFixed(0)} ms`);
    if (maxLagMs <= MAX_EVENT_LOOP_LAG_MS) return runs;
  }
  assert.unreachable(`every batch had the event loop stalled over ${MAX_EVENT_LOOP_LAG_MS} ms (max lag per batch: ${lags.join(', ')}): the machine is too busy to judge a latency trend`);
  return [];
}

const describe = (run: SeedRun): string => {
  const l = run.latency;
  return `seed ${run.seed}: ${l.verdict}, p=${l.pValue?.toFixed(4)}, ${l.points} windows (${l.effectivePoints.toFixed(1)} effective), over the run ${((l.relativeOverRun ?? 0) * 100).toFixed(0)}%, p95 ${run.p95Ms.map((ms) => ms?.toFixed(0)).join(' ')}`;
};

const trends = suite('run trends: latency creep end to end, over several seeds');

trends(`a flat log-normal delay: at most one of ${SEEDS.length} seeds is called latency creep; the gate passes the others`, async () => {
  const runs = await runSeeds({ message: FLAT_DELAY });
  const report = runs.map(describe).join('\n');
  // α = 0.01, two-sided; creep is the rising half: ≈ 0.5% per seed when the test holds its level,
  // so ≈ 0.04 false alarms expected over 8 seeds, and two or more with probability ≈ 0.07% (≈ 0.3%
  // were the level twice nominal, which the autocorrelation correction may allow at ~12 windows).
  const alarms = runs.filter((run) => run.latency.verdict === 'creep');
  assert.ok(alarms.length <= 1, `false alarms:\n${report}`);
  // Not a vacuous pass: most runs had enough windows for a verdict (strong autocorrelation may, rarely, leave too few)
  const judged = runs.filter((run) => run.latency.verdict !== 'insufficient data');
  assert.ok(judged.length >= SEEDS.length - 2, `too few verdicts:\n${report}`);
  for (const run of runs) {
    if (run.latency.verdict === 'creep') continue;
    assert.is(run.exitCode, ExitCode.ok, `seed ${run.seed}: the latency_trend gate failed without creep\n${report}`);
    assert.not.match(run.output, 'latency creep');
  }
});

trends(`the same delay plus one growing linearly by 150 ms over the run: latency creep for every seed, the gate fails (99)`, async () => {
  const runs = await runSeeds({ message: FLAT_DELAY, rcpt: { ramp: { fromMs: 0, toMs: 150, overMs: DURATION_MS } } });
  const report = runs.map(describe).join('\n');
  for (const run of runs) {
    // p95 ≈ 82 → ≈ 230 ms: measured p < 0.0002 for every seed, far below α = 0.01
    assert.is(run.latency.verdict, 'creep', `seed ${run.seed} missed the creep:\n${report}`);
    assert.ok(run.latency.relativeOverRun! > 0.4, `seed ${run.seed}: p95 grew only ${run.latency.relativeOverRun}\n${report}`);
    assert.is(run.exitCode, ExitCode.thresholdsFailed, `seed ${run.seed}`);
    assert.match(run.output, /latency creep: p95 \+\d+% per hour \(significant/);
  }
});

trends('trend gauges: the relative change per hour when significant, 0 when stable, no samples when unknown', () => {
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

trends.run();
