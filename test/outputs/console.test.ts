/**
 * The console summary's custom metrics: a trend's tag sets are listed under it when it has more
 * than one (as threshold filters name them), at most ten, and never for a single set.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatHeader, formatSummary } from '../../runner/outputs/console.ts';
import { flagsOnlyOptions, resolveOptions } from '../../runner/scenario/options.ts';
import { clearCustomMetrics, Counter, customMetrics, Trend } from '../../runner/metrics/custom.ts';
import { customMetricsFigures } from '../../runner/outputs/summary.ts';
import { steadySamples, summaryFromSamples } from '../analysis/summaries.ts';

/** The console summary of a run whose scenario code recorded these custom samples. */
function summaryText(record: () => void): string {
  clearCustomMetrics(() => {});
  record();
  const summary = summaryFromSamples({ samples: steadySamples({ seconds: 1, perSecond: 5, medianMs: 1, seed: 1 }) });
  summary.custom_metrics = customMetricsFigures(customMetrics(), 1000);
  clearCustomMetrics();
  return formatSummary(summary);
}

const tagLines = suite('console summary: tag sets of custom trends');

tagLines('several tag sets: one line each under the trend, named as a threshold filter names them; a time trend with units', () => {
  const text = summaryText(() => {
    const trend = new Trend('send_ms', true);
    trend.add(1);
    trend.add(10, { kind: 'big' });
    trend.add(20, { kind: 'big' });
    trend.add(2, { kind: 'small', account: 'a@b.c, d' });
  });
  assert.match(text, [
    '  send_ms: trend, count 4, avg 8.25ms, p95 20.00ms, max 20.00ms',
    '    (no tags): count 1, avg 1.00ms, p95 1.00ms, max 1.00ms',
    '    {account:"a@b.c, d",kind:small}: count 1, avg 2.00ms, p95 2.00ms, max 2.00ms',
    '    {kind:big}: count 2, avg 15.00ms, p95 20.00ms, max 20.00ms',
  ].join('\n'));
});

tagLines('one tag set, or a metric that is not a trend: no tag-set lines', () => {
  const text = summaryText(() => {
    new Trend('only_big').add(5, { kind: 'big' });
    const counter = new Counter('sent');
    counter.add(1, { kind: 'big' });
    counter.add(1, { kind: 'small' });
  });
  assert.match(text, '  only_big: trend, count 1, avg 5, p95 5, max 5\n  sent: counter, count 2, 2/s\n');
});

tagLines('more than ten tag sets: the first ten, then how many more', () => {
  const text = summaryText(() => {
    const trend = new Trend('by_shard');
    for (let shard = 10; shard < 25; shard++) trend.add(shard, { shard: String(shard) });
  });
  assert.match(text, '    {shard:19}: count 1');
  assert.not.match(text, '{shard:20}');
  assert.match(text, '    … 5 more tag sets in the results file\n');
});

tagLines.run();

const header = suite('console header');

header('a multi-line executor description prints as lines, not as an escaped \\n', async () => {
  const options = await resolveOptions(flagsOnlyOptions(), {}, { baseDir: process.cwd(), env: {} });
  const text = formatHeader(options);
  assert.not.match(text, '\\n');
  assert.match(text, 'Total emails: 100\nConcurrent connections: 10\n');
});

header('control characters inside one line of the description stay escaped', async () => {
  const options = await resolveOptions({ description: 'evil\u001b[2J', ...flagsOnlyOptions() }, {}, { baseDir: process.cwd(), env: {} });
  assert.match(formatHeader(options), 'Description: evil\\x1b[2J');
});

header.run();
