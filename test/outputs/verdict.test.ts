/**
 * The verdict line: the last line of a run says PASSED or FAILED, how many thresholds were
 * crossed, each with its figures as people read them (rates as percentages, durations with
 * units, other values rounded), the commonest error behind a failure rate, and the exit code.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describeCrossedThreshold, formatThresholdValue, formatVerdict } from '../../runner/outputs/verdict.ts';
import { formatSummary } from '../../runner/outputs/console.ts';
import type { ErrorFigure, Summary, ThresholdOutcome } from '../../runner/results/types.ts';
import { clipText, formatRounded } from '../../runner/util/format.ts';
import { steadySamples, summaryFromSamples } from '../analysis/summaries.ts';

function summaryWith(thresholds: ThresholdOutcome[], errors: ErrorFigure[] = [], extra: Partial<Summary> = {}): Summary {
  const summary = summaryFromSamples({ samples: steadySamples({ seconds: 2, perSecond: 5, medianMs: 10, seed: 3 }) });
  summary.thresholds = thresholds;
  summary.results.errors = errors;
  return { ...summary, ...extra };
}

const threshold = (metric: string, condition: string, ok: boolean, actual: number | null, isTime = false, abortOnFail = false): ThresholdOutcome =>
  ({ metric, condition, ok, actual, abort_on_fail: abortOnFail, is_time: isTime });

const errorOf = (count: number, phase: string, code: number | null, enhanced: string | null, error: string | null = null): ErrorFigure =>
  ({ phase, code, enhanced, error, text: 'Requested action aborted: local error in processing', count });

const verdict = suite('verdict line');

verdict('a crossed failure rate: percentages, the relation, the commonest error, the exit code', () => {
  const summary = summaryWith(
    [threshold('smtp_txn_duration', 'p(95)<0.5s', true, 62.05, true), threshold('smtp_txn_failed', 'rate<0.01', false, 0.0205)],
    [errorOf(25, 'message', 451, '4.3.0')],
  );
  assert.is(formatVerdict(summary, 99), '✗ FAILED: 1 of 2 thresholds crossed — smtp_txn_failed rate 2.05% > 1% (25 × 451 4.3.0 at message) — exit 99');
});

verdict('several errors: the commonest first, the others counted', () => {
  const summary = summaryWith([threshold('smtp_txn_failed', 'rate<0.01', false, 0.5)], [errorOf(3, 'connect', null, null, 'ECONNRESET'), errorOf(7, 'auth', 535, '5.7.8'), errorOf(1, 'rcpt', 550, null)]);
  assert.is(describeCrossedThreshold(summary, summary.thresholds[0]!), 'smtp_txn_failed rate 50% > 1% (7 × 535 5.7.8 at auth; 2 other errors)');
});

const cases: Array<[string, ThresholdOutcome, string]> = [
  ['a duration with its unit', threshold('smtp_txn_duration', 'p(95)<100ms', false, 312.456, true), 'smtp_txn_duration p(95) 312.46ms > 100.00ms'],
  ['seconds on both sides', threshold('smtp_txn_duration{scenario:peak}', 'p(99)<1s', false, 1769.0182, true), 'smtp_txn_duration{scenario:peak} p(99) 1.769s > 1.000s'],
  ['a count, below its floor', threshold('smtp_txns', 'count>100', false, 40), 'smtp_txns count 40 < 100'],
  ['a counter\'s rate per second', threshold('smtp_txns', 'rate>100', false, 12.3456), 'smtp_txns rate 12.35/s < 100/s'],
  ['an unrounded gauge value, rounded', threshold('queue_depth', 'value<5', false, 1769.0182), 'queue_depth value 1769 > 5'],
  ['equal to a strict limit', threshold('smtp_txn_failed', 'rate<0.5', false, 0.5), 'smtp_txn_failed rate 50% = 50%'],
  ['no samples', threshold('smtp_txn_duration', 'count>0', false, null, true), 'smtp_txn_duration count>0: no samples (judged as 0)'],
];
for (const [name, outcome, expected] of cases) {
  verdict(`crossed threshold: ${name}`, () => {
    assert.is(describeCrossedThreshold(summaryWith([outcome]), outcome), expected);
  });
}

verdict('passed: with thresholds, without, and the colours on a terminal', () => {
  const met = summaryWith([threshold('smtp_txn_duration', 'p(95)<0.5s', true, 62, true), threshold('smtp_txn_failed', 'rate<0.01', true, 0)]);
  assert.is(formatVerdict(met, 0), '✓ PASSED: 2 of 2 thresholds met — exit 0');
  const none = summaryWith([]);
  assert.is(formatVerdict(none, 0), `✓ PASSED: no thresholds set (${none.results.successful} of ${none.results.total_requests} messages accepted) — exit 0`);
  assert.match(formatVerdict(met, 0, { color: true }), /\u001b\[32m/);
  assert.match(formatVerdict(summaryWith([threshold('smtp_txn_failed', 'rate<0.01', false, 0.5)]), 99, { color: true }), /\u001b\[31m/);
});

verdict('interrupted, aborted, and a failure the summary does not hold', () => {
  const crossed = threshold('smtp_txn_failed', 'rate<0.2', false, 0.3, false, true);
  assert.match(formatVerdict(summaryWith([]), 105), /^■ INTERRUPTED: stopped before the planned end; .* — exit 105$/);
  assert.is(formatVerdict(summaryWith([crossed]), 108), '✗ ABORTED by an abortOnFail threshold: smtp_txn_failed rate 30% > 20% — exit 108');
  assert.is(formatVerdict(summaryWith([]), 107, { reason: 'handleSummary() threw: boom' }), '✗ FAILED: handleSummary() threw: boom — exit 107');
});

verdict('threshold lines of the summary read the same way', () => {
  const summary = summaryWith([threshold('smtp_txn_failed', 'rate<0.01', false, 0.06), threshold('smtp_txn_duration', 'p(95)<0.5s', true, 62.05, true)]);
  assert.is(formatThresholdValue(summary, summary.thresholds[0]!), '6%');
  const text = formatSummary(summary);
  assert.match(text, '  ✗ smtp_txn_failed  rate<0.01  actual 6%\n');
  assert.match(text, '  ✓ smtp_txn_duration  p(95)<0.5s  actual 62.05ms\n');
});

const format = suite('numbers for people');
format('rounding and clipping', () => {
  assert.equal([1769.0182, 12.3456, 0.012345, 7, -2.5].map(formatRounded), ['1769', '12.35', '0.0123', '7', '-2.5']);
  assert.is(clipText('short', 10), 'short');
  assert.is(clipText('Requested action aborted', 10), 'Requested…');
});

verdict.run();
format.run();
