/**
 * --summary-trend-stats (and summaryTrendStats) end to end: the chosen figures of each SMTP trend
 * in the summary (results file, schema-valid), the console table and JUnit properties, agreeing
 * with the fixed latency fields and the proxy's count; a wrong stat is an invalid-options error.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode, InvalidOptionsError } from '../../runner/errors.ts';
import { readResultsFile } from '../../runner/results/read.ts';
import { formatJunit } from '../../runner/outputs/junit.ts';
import { parseTrendStats } from '../../runner/results/trend-stats.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';

const stats = suite('summary trend stats');

const scenario: ScenarioFileOptions = { scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 6 } } };

stats('the flag lists its figures for every SMTP trend: summary, results file, console, JUnit', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const resultsFile = join(temp.dir, 'results.json');
      const { summary, exitCode, output } = await runAgainst(proxy, { scenario, check: false, out: [resultsFile], overrides: { summaryTrendStats: 'avg, min,med,p(90),p(99.9),max,count' } });
      assert.is(exitCode, ExitCode.ok);
      const trendStats = summary.trend_stats!;
      assert.equal(trendStats.stats, ['avg', 'min', 'med', 'p(90)', 'p(99.9)', 'max', 'count']);
      const txn = trendStats.metrics['smtp_txn_duration']!;
      assert.is(txn['count'], proxy.stats.messagesAccepted);
      assert.is(txn['count'], 6);
      // The same histogram as the fixed fields: equal to the µs (compared in integer µs: ms and
      // seconds are two decimal roundings of one integer, and 51.477 s × 1000 is not exact in floating point).
      const us = (value: number | null | undefined, unit: number) => Math.round(value! * unit);
      assert.is(us(txn['max'], 1e3), us(summary.results.latency.max_seconds, 1e6));
      assert.is(us(txn['p(99.9)'], 1e3), us(summary.results.latency.p999_seconds, 1e6));
      assert.is(us(txn['med'], 1e3), us(summary.results.latency.p50_seconds, 1e6));
      assert.ok(txn['min']! <= txn['p(90)']! && txn['p(90)']! <= txn['max']!);
      assert.ok(trendStats.metrics['smtp_message_duration']);
      const loaded = await readResultsFile(resultsFile);
      assert.equal(loaded.summary!.trend_stats, trendStats);
      assert.match(output, /Trends \(--summary-trend-stats\):\n {2}trend +avg +min +med +p\(90\) +p\(99\.9\) +max +count\n {2}smtp_txn_duration [^\n]* 6\n/);
      assert.match(formatJunit(summary), /<property name="smtp_txn_duration\.count" value="6"\/>/);
    });
  } finally {
    temp.remove();
  }
});

stats('the scenario option does the same; without either, no trend_stats', async () => {
  await withFakeProxy({}, async (proxy) => {
    const withOption = await runAgainst(proxy, { scenario: { ...scenario, summaryTrendStats: ['p(99)', 'count'] }, check: false });
    assert.equal(withOption.summary.trend_stats!.stats, ['p(99)', 'count']);
    const without = await runAgainst(proxy, { scenario, check: false });
    assert.is(without.summary.trend_stats, undefined);
    assert.not.match(without.output, /Trends \(/);
  });
});

stats('a wrong stat names itself and what to write', async () => {
  const problems: string[] = [];
  parseTrendStats('avg,p95,p(0),mean', '--summary-trend-stats', problems);
  assert.equal(problems, [
    '--summary-trend-stats: unknown stat "p95"; use avg, min, med, max, count or p(N) with 0 < N <= 100',
    '--summary-trend-stats: unknown stat "p(0)"; use avg, min, med, max, count or p(N) with 0 < N <= 100',
    '--summary-trend-stats: unknown stat "mean"; use avg, min, med, max, count or p(N) with 0 < N <= 100',
  ]);
  await withFakeProxy({}, async (proxy) => {
    const error = await runAgainst(proxy, { scenario, check: false, overrides: { summaryTrendStats: 'p95' } }).catch((e) => e);
    assert.instance(error, InvalidOptionsError);
    assert.match(error.message, /--summary-trend-stats: unknown stat "p95"/);
    const fileError = await runAgainst(proxy, { scenario: { ...scenario, summaryTrendStats: ['p95'] }, check: false }).catch((e) => e);
    assert.instance(fileError, InvalidOptionsError);
    assert.match(fileError.message, /summaryTrendStats/);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

stats.run();
