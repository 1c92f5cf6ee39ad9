/**
 * Degradation over time on real runs: a server delay that grows linearly is called latency
 * creep and fails a latency_trend threshold; a flat noisy delay is not.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { trendMetricValues, type RunTrends } from '../../runner/analysis/run-trends.ts';
import type { TrendVerdict } from '../../runner/analysis/trend-detect.ts';

const scenarioFile = fileURLToPath(new URL('../e2e/data/twelve-seconds.yaml', import.meta.url));

const trends = suite('run trends');

trends('a message delay rising 5 → 200 ms over 12 s: latency creep, the gate fails (99)', async () => {
  await withFakeProxy({ delays: { message: { ramp: { fromMs: 5, toMs: 200, overMs: 12_000 } } } }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile, check: false });
    assert.is(summary.trends!.latency.verdict, 'creep', JSON.stringify({ latency: summary.trends!.latency, timeline: summary.timeline.map((p) => [p.t, p.vus, p.p95Ms]) }));
    // Fewer msgs/s as each takes longer; a smooth decline is strongly autocorrelated, so over 12
    // windows the test may not call it significant — but it must never call it an improvement.
    assert.is.not(summary.trends!.throughput.verdict, 'improving');
    assert.ok(summary.trends!.latency.relativeOverRun! > 1, `p95 grew only ${summary.trends!.latency.relativeOverRun}`);
    assert.is(exitCode, ExitCode.thresholdsFailed);
    assert.match(output, /latency creep: p95 \+\d+% per hour \(significant/);
  });
});

trends('a flat log-normal delay (median 10 ms): no latency creep, the gate passes', async () => {
  await withFakeProxy({ delays: { message: { lognormal: { medianMs: 10, sigma: 0.3 } } }, seed: 7 }, async (proxy) => {
    const { summary, exitCode } = await runAgainst(proxy, { scenarioFile, check: false });
    assert.is.not(summary.trends!.latency.verdict, 'creep', JSON.stringify(summary.trends!.latency));
    assert.is(exitCode, ExitCode.ok, JSON.stringify(summary.thresholds));
  });
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
