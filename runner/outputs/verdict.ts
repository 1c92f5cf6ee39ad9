/**
 * The verdict: the last line of a run, the one a person (or a CI log's tail) reads first.
 * `✓ PASSED: 2 of 2 thresholds met — exit 0`, or
 * `✗ FAILED: 1 of 2 thresholds crossed — smtp_txn_failed rate 2.05% > 1% (25 × 451 4.3.0 at message) — exit 99`.
 * It also owns how a threshold's figures read (rates as percentages, durations with units,
 * other values rounded), so the threshold lines of the summary and the verdict agree.
 */
import { escapeControl } from '../util/escape.ts';
import type { ErrorFigure, Summary, ThresholdOutcome } from '../results/types.ts';
import { parseCondition, parseMetricKey, type Aggregation } from '../thresholds/parse.ts';
import { BUILT_IN_METRICS, type MetricType } from '../metrics/catalogue.ts';
import { ExitCode } from '../errors.ts';
import { paint } from '../util/color.ts';
import { clipText, formatFractionPercent, formatLatency, formatRounded } from '../util/format.ts';

/** How a threshold's values read: what it aggregates, of which metric type, durations or not. */
interface ThresholdReading {
  metricName: string;
  /** The condition's aggregation as written, e.g. 'rate', 'p(95)'. */
  aggregationText: string;
  aggregation: Aggregation | undefined;
  metricType: MetricType | undefined;
  isTime: boolean;
  /** The condition's limit in the metric's unit (ms for durations); undefined when it cannot be parsed. */
  limit: number | undefined;
}

function readThreshold(summary: Pick<Summary, 'custom_metrics'>, outcome: ThresholdOutcome): ThresholdReading {
  let metricName = /^[^{]*/.exec(outcome.metric)![0].trim();
  try {
    metricName = parseMetricKey(outcome.metric).metric;
  } catch {
    // A key from an older file that the grammar no longer takes: its name is the part before '{'.
  }
  const metricType = (BUILT_IN_METRICS.get(metricName)?.type ?? summary.custom_metrics?.[metricName]?.type) as MetricType | undefined;
  try {
    const condition = parseCondition(outcome.condition);
    const aggregationText = condition.aggregation === 'p' ? `p(${condition.percentile})` : condition.aggregation;
    return { metricName, aggregationText, aggregation: condition.aggregation, metricType, isTime: outcome.is_time, limit: condition.value };
  } catch {
    return { metricName, aggregationText: outcome.condition, aggregation: undefined, metricType, isTime: outcome.is_time, limit: undefined };
  }
}

function formatReadingValue(reading: ThresholdReading, value: number): string {
  if (reading.aggregation === 'count') return formatRounded(value);
  if (reading.aggregation === 'rate') return reading.metricType === 'counter' ? `${formatRounded(value)}/s` : formatFractionPercent(value);
  return reading.isTime ? formatLatency(value / 1000) : formatRounded(value);
}

/** A threshold's measured value as people read it: '62.05ms', '2.05%' (a rate metric), '12.5/s' (a counter's rate), '1769'. */
export function formatThresholdValue(summary: Pick<Summary, 'custom_metrics'>, outcome: ThresholdOutcome): string {
  if (outcome.actual === null) return 'no samples';
  return formatReadingValue(readThreshold(summary, outcome), outcome.actual);
}

/** Metrics whose failures the errors table explains: a crossed threshold on them names the commonest error. */
const FAILURE_METRICS = new Set(['smtp_txn_failed']);

/** '25 × 451 4.3.0 at message', '12 × ECONNRESET at connect'. */
export function formatErrorBrief(error: ErrorFigure): string {
  const reply = error.code !== null ? `${error.code}${error.enhanced ? ` ${error.enhanced}` : ''}` : (error.error ?? clipText(error.text, 40));
  return `${error.count} × ${reply} at ${error.phase}`;
}

/** What the commonest failure was, and how many other kinds there were: '(25 × 451 4.3.0 at message; 2 other errors)'. */
function errorsBrief(errors: readonly ErrorFigure[]): string {
  if (errors.length === 0) return '';
  const sorted = [...errors].sort((a, b) => b.count - a.count);
  const others = sorted.length - 1;
  return ` (${formatErrorBrief(sorted[0]!)}${others > 0 ? `; ${others} other error${others > 1 ? 's' : ''}` : ''})`;
}

/** One crossed threshold: 'smtp_txn_failed rate 2.05% > 1% (25 × 451 4.3.0 at message)'. */
export function describeCrossedThreshold(summary: Pick<Summary, 'custom_metrics' | 'results'>, outcome: ThresholdOutcome): string {
  const reading = readThreshold(summary, outcome);
  const because = FAILURE_METRICS.has(reading.metricName) ? errorsBrief(summary.results.errors) : '';
  if (outcome.actual === null) return `${outcome.metric} ${outcome.condition}: no samples (judged as 0)${because}`;
  if (reading.limit === undefined) return `${outcome.metric} ${outcome.condition}: actual ${formatReadingValue(reading, outcome.actual)}${because}`;
  const relation = outcome.actual > reading.limit ? '>' : outcome.actual < reading.limit ? '<' : '=';
  return `${outcome.metric} ${reading.aggregationText} ${formatReadingValue(reading, outcome.actual)} ${relation} ${formatReadingValue(reading, reading.limit)}${because}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * The verdict line for a run that ended with `exitCode`. `reason` says why a run failed for a
 * cause the summary does not hold (handleSummary broke, no iteration completed).
 */
export function formatVerdict(summary: Summary, exitCode: number, options: { color?: boolean; reason?: string } = {}): string {
  const color = options.color ?? false;
  const thresholds = summary.thresholds;
  const crossed = thresholds.filter((t) => !t.ok);
  const crossedText = crossed.map((t) => describeCrossedThreshold(summary, t)).join('; ');
  const exit = `exit ${exitCode}`;
  const bad = (text: string) => paint('bold', paint('red', text, color), color);
  if (exitCode === ExitCode.ok) {
    const r = summary.results;
    const detail = thresholds.length > 0
      ? `${thresholds.length} of ${plural(thresholds.length, 'threshold')} met`
      : `no thresholds set (${r.successful} of ${plural(r.total_requests, 'message')} accepted)`;
    return paint('bold', paint('green', `✓ PASSED: ${detail} — ${exit}`, color), color);
  }
  if (exitCode === ExitCode.interrupted) {
    const also = crossed.length > 0 ? ` — ${crossed.length} of ${plural(thresholds.length, 'threshold')} crossed so far: ${crossedText}` : '';
    return paint('bold', paint('yellow', `■ INTERRUPTED: stopped before the planned end; the figures cover what was measured${also} — ${exit}`, color), color);
  }
  if (exitCode === ExitCode.abortedByThreshold) {
    const aborting = crossed.filter((t) => t.abort_on_fail);
    const why = aborting.length > 0 ? aborting.map((t) => describeCrossedThreshold(summary, t)).join('; ') : (summary.abort_reason ?? 'an abortOnFail threshold was crossed');
    return bad(`✗ ABORTED by an abortOnFail threshold: ${why} — ${exit}`);
  }
  if (exitCode === ExitCode.thresholdsFailed) {
    return bad(`✗ FAILED: ${crossed.length} of ${plural(thresholds.length, 'threshold')} crossed — ${crossedText} — ${exit}`);
  }
  // A reason may quote scenario code or a server (an error's text): never a raw control character
  const why = options.reason !== undefined ? escapeControl(options.reason) : (crossed.length > 0 ? `${crossed.length} of ${plural(thresholds.length, 'threshold')} crossed — ${crossedText}` : 'see the lines above');
  return bad(`✗ FAILED: ${why} — ${exit}`);
}

/** Whether iterations ran and every one of them threw (a broken scenario): the run fails with exit 107. */
export function hasNoIterationCompleted(summary: Summary): boolean {
  const r = summary.results;
  return r.iterations > 0 && r.script_errors >= r.iterations;
}

/** 'no iteration completed: all 100 threw — 100 × TypeError: x is not a function (my.ts:12:5)'. */
export function describeNoIterationCompleted(summary: Summary): string {
  const r = summary.results;
  const top = r.iteration_errors?.[0];
  const what = top ? ` — ${top.count} × ${clipText(top.message, 100)}${top.location ? ` (${top.location})` : ''}` : '';
  return `no iteration completed: all ${r.iterations} threw${what}`;
}

/**
 * The exit code a summary alone implies (what a report drawn from a results file can know):
 * 105 interrupted, 108 aborted by a threshold, 107 no iteration completed, 99 a threshold
 * crossed, else 0. A run's own exit code can differ for causes the file does not record
 * (an output that could not be written, teardown timing out, handleSummary failing).
 */
export function exitCodeOfSummary(summary: Summary): number {
  if (summary.status === 'interrupted') return ExitCode.interrupted;
  if (summary.status === 'aborted') return ExitCode.abortedByThreshold;
  if (hasNoIterationCompleted(summary)) return ExitCode.scriptError;
  if (summary.thresholds.some((t) => !t.ok)) return ExitCode.thresholdsFailed;
  return ExitCode.ok;
}

/** The verdict of a summary without a run around it (the HTML report's banner); plain text. */
export function verdictOfSummary(summary: Summary): { exitCode: number; text: string } {
  const exitCode = exitCodeOfSummary(summary);
  const reason = exitCode === ExitCode.scriptError ? describeNoIterationCompleted(summary) : undefined;
  return { exitCode, text: formatVerdict(summary, exitCode, { color: false, ...(reason ? { reason } : {}) }) };
}
