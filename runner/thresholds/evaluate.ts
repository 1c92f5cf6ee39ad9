/**
 * Judges compiled thresholds against the metrics' aggregated values: at the end of the run for
 * the summary and exit code, and on a tick during the run for `abortOnFail`.
 *
 * Metrics with no samples, decided as k6 does (its metrics engine evaluates empty sinks at the
 * end of the test, and an empty sink reports 0 for every aggregation, k6 issues 1053/1346): at
 * the end a condition on a metric without samples is judged as if the aggregation were 0, so
 * `p(95)<500` passes and `count>0` fails, and a k6 user's thresholds behave the same here. Unlike
 * k6 we do not print that 0 as if it had been measured: `actual` is undefined and the summary
 * says "no samples". `count` (and a counter's `rate`) is a real 0, not a missing value. During
 * the run (abort checks) k6 skips metrics with no samples, and so do we.
 */
import type { MetricType } from '../metrics/catalogue.ts';
import type { Aggregation, CompiledCondition, ParsedMetricKey, ThresholdDefinition, ThresholdOp } from './parse.ts';

/** What the evaluator needs from a metric's samples (the metrics layer implements it). Time trends give ms. */
export interface MetricValues {
  type: MetricType;
  /** trend: samples; counter: sum; rate: samples; gauge: samples. */
  count: number;
  /** Trend mean (ms for time trends). */
  avg?(): number;
  /** Trend or gauge minimum (ms for time trends). */
  min?(): number;
  /** Trend or gauge maximum (ms for time trends). */
  max?(): number;
  /** Trend percentile, p in (0, 100] (ms for time trends). */
  percentile?(p: number): number;
  /** Counter: sum per second of test time; rate: fraction of non-zero samples (0..1). */
  rate?(): number;
  /** Gauge: last value. */
  value?(): number;
}

/** The verdict on one condition. */
export interface ThresholdResult {
  /** The metric key as written, e.g. 'smtp_txn_duration{scenario:peak}'. */
  metricKey: string;
  /** The condition as written, e.g. 'p(95)<0.5s'. */
  source: string;
  ok: boolean;
  /** Measured value of the aggregation (ms for a time trend's durations); undefined when there were no samples. */
  actual: number | undefined;
  abortOnFail: boolean;
  /** What was measured, so summaries can format `actual` (ms, fraction, per second). */
  aggregation: Aggregation;
  metricType: MetricType;
}

/** Compares as the operator says; equality is exact (the value is already in the metric's unit). */
function compare(actual: number, op: ThresholdOp, expected: number): boolean {
  switch (op) {
    case '<': return actual < expected;
    case '<=': return actual <= expected;
    case '>': return actual > expected;
    case '>=': return actual >= expected;
    case '==': return actual === expected;
    case '!=': return actual !== expected;
  }
}

function call(values: MetricValues, method: 'avg' | 'min' | 'max' | 'rate' | 'value', metricKey: string): number {
  const read = values[method];
  // compileThresholds only lets through aggregations the type gives, so this is a metrics-layer bug.
  if (!read) throw new Error(`metrics layer bug: ${values.type} metric ${metricKey} has no ${method}()`);
  return read.call(values);
}

/** The aggregation's value, or undefined when the metric has no samples to give it. */
function readAggregation(
  values: MetricValues | undefined,
  type: MetricType,
  condition: CompiledCondition,
  metricKey: string,
): number | undefined {
  if (condition.aggregation === 'count') return values?.count ?? 0;
  if (condition.aggregation === 'rate' && type === 'counter') return values && values.count !== 0 ? call(values, 'rate', metricKey) : 0;
  if (!values || values.count === 0) return undefined;
  switch (condition.aggregation) {
    case 'p':
    case 'med': {
      if (!values.percentile) throw new Error(`metrics layer bug: ${values.type} metric ${metricKey} has no percentile()`);
      return values.percentile(condition.aggregation === 'med' ? 50 : condition.percentile!);
    }
    default:
      return call(values, condition.aggregation, metricKey);
  }
}

function judge(definition: ThresholdDefinition, condition: CompiledCondition, values: MetricValues | undefined): ThresholdResult {
  const actual = readAggregation(values, definition.type, condition, definition.metric.key);
  return {
    metricKey: definition.metric.key,
    source: condition.source,
    // No samples: judged as 0, as k6 does (see the file comment).
    ok: compare(actual ?? 0, condition.op, condition.value),
    actual,
    abortOnFail: condition.abortOnFail,
    aggregation: condition.aggregation,
    metricType: definition.type,
  };
}

/** Judges every condition at the end of a run, in definition order; a metric with no samples is judged as 0 (like k6). */
export function evaluateThresholds(
  defs: ThresholdDefinition[],
  lookup: (metric: ParsedMetricKey) => MetricValues | undefined,
): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const definition of defs) {
    const values = lookup(definition.metric);
    for (const condition of definition.conditions) results.push(judge(definition, condition, values));
  }
  return results;
}

/**
 * During the run: the failing `abortOnFail` conditions whose `delayAbortEval` has passed, at
 * `elapsedMs` of test time. Metrics with no samples yet are skipped (as k6 does mid-run). An
 * empty list means keep going. Meant for a periodic tick (k6 checks every 2 s), not per sample.
 */
export function findAbortingFailures(
  defs: ThresholdDefinition[],
  lookup: (metric: ParsedMetricKey) => MetricValues | undefined,
  elapsedMs: number,
): ThresholdResult[] {
  const failures: ThresholdResult[] = [];
  for (const definition of defs) {
    let values: MetricValues | undefined;
    let isLookedUp = false;
    for (const condition of definition.conditions) {
      if (!condition.abortOnFail || elapsedMs < condition.delayAbortEvalMs) continue;
      if (!isLookedUp) {
        values = lookup(definition.metric);
        isLookedUp = true;
      }
      if (!values || values.count === 0) break;
      const result = judge(definition, condition, values);
      if (!result.ok) failures.push(result);
    }
  }
  return failures;
}

/** Whether any result failed: the run exits with ExitCode.thresholdsFailed (99). */
export function hasFailedThreshold(results: readonly ThresholdResult[]): boolean {
  return results.some((result) => !result.ok);
}

/** Formats milliseconds with a unit that keeps 3-4 significant digits: '850µs', '231.4ms', '1.234s'. */
export function formatThresholdMs(ms: number): string {
  if (Math.abs(ms) < 1) return `${+(ms * 1000).toFixed(1)}µs`;
  if (Math.abs(ms) < 1000) return `${+ms.toFixed(2)}ms`;
  return `${+(ms / 1000).toFixed(3)}s`;
}

function formatPlain(value: number): string {
  return Number.isInteger(value) ? String(value) : String(+value.toFixed(4));
}

/** A measured value as people read it: a time metric's durations in µs/ms/s; counts, rates and other values plain. */
export function formatThresholdActual(r: ThresholdResult, metricIsTime: boolean): string {
  const actual = r.actual!;
  if (r.aggregation === 'count') return formatPlain(actual);
  if (r.aggregation === 'rate') {
    if (r.metricType === 'counter') return `${formatPlain(actual)}/s`;
    return `${formatPlain(actual)} (${+(actual * 100).toFixed(2)}%)`;
  }
  return metricIsTime ? formatThresholdMs(actual) : formatPlain(actual);
}

/** Formats one result line for the summary, e.g. `✓ smtp_txn_duration  p(95)<0.5s  actual 231.4ms` (plain text, no colour). */
export function formatThresholdResult(r: ThresholdResult, metricIsTime: boolean): string {
  const measured = r.actual === undefined ? 'no samples (judged as 0, like k6)' : `actual ${formatThresholdActual(r, metricIsTime)}`;
  return `${r.ok ? '✓' : '✗'} ${r.metricKey}  ${r.source}  ${measured}`;
}
