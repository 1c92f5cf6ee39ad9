/**
 * Custom metrics for scenario code, as in k6: `const queued = new Trend('queue_time', true)`,
 * declared at the top of a scenario file and fed from `iteration(ctx)`. They live in one
 * process-wide catalogue that the engine's registry reads; the engine clears it before loading
 * a scenario so runs in one process never share samples.
 */
import { BUILT_IN_METRICS, type MetricType } from './catalogue.ts';
import type { CustomMetric } from './registry.ts';
import { TrendSink } from './trend.ts';

const CATALOGUE = new Map<string, CustomMetric>();

/** The custom metrics declared so far. */
export function customMetrics(): ReadonlyMap<string, CustomMetric> {
  return CATALOGUE;
}

/** Forgets every custom metric (before a scenario is loaded). */
export function clearCustomMetrics(): void {
  CATALOGUE.clear();
}

function declare(name: string, type: MetricType, isTime: boolean): CustomMetric {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new TypeError(`metric name '${name}' is invalid: use letters, digits and _ (e.g. 'queue_time')`);
  }
  if (BUILT_IN_METRICS.has(name)) throw new TypeError(`'${name}' is a built-in metric: choose another name`);
  const known = CATALOGUE.get(name);
  if (known) {
    if (known.info.type !== type) throw new TypeError(`metric '${name}' is already a ${known.info.type}, not a ${type}`);
    return known;
  }
  const metric: CustomMetric = {
    info: { name, type, isTime, description: 'custom metric' },
    trend: new TrendSink(),
    sum: 0,
    samples: 0,
    nonZero: 0,
    last: 0,
    min: Infinity,
    max: -Infinity,
  };
  CATALOGUE.set(name, metric);
  return metric;
}

/** A running sum (k6 Counter): thresholds on `count` and `rate` (per second). */
export class Counter {
  readonly name: string;
  private readonly metric: CustomMetric;
  constructor(name: string) {
    this.name = name;
    this.metric = declare(name, 'counter', false);
  }
  /** Adds `value` (default 1). */
  add(value = 1): void {
    this.metric.sum += value;
    this.metric.samples++;
  }
}

/** The fraction of non-zero / true samples (k6 Rate): thresholds on `rate`. */
export class Rate {
  readonly name: string;
  private readonly metric: CustomMetric;
  constructor(name: string) {
    this.name = name;
    this.metric = declare(name, 'rate', false);
  }
  add(value: boolean | number): void {
    this.metric.samples++;
    if (value) this.metric.nonZero++;
  }
}

/**
 * A distribution (k6 Trend): thresholds on avg, min, max, med, p(N). With `isTime`, values are
 * milliseconds. Kept with 3 decimal places (stored ×1000 as integers in an HDR histogram).
 */
export class Trend {
  readonly name: string;
  private readonly metric: CustomMetric;
  constructor(name: string, isTime = false) {
    this.name = name;
    this.metric = declare(name, 'trend', isTime);
  }
  add(value: number): void {
    this.metric.trend.record(Math.round(value * 1000));
  }
}

/** The last value set (k6 Gauge): thresholds on value, min, max. */
export class Gauge {
  readonly name: string;
  private readonly metric: CustomMetric;
  constructor(name: string) {
    this.name = name;
    this.metric = declare(name, 'gauge', false);
  }
  add(value: number): void {
    const metric = this.metric;
    metric.samples++;
    metric.last = value;
    if (value < metric.min) metric.min = value;
    if (value > metric.max) metric.max = value;
  }
}
