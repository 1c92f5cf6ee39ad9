/**
 * Custom metrics for scenario code, as in k6: `const queued = new Trend('queue_time', true)`,
 * declared at the top of a scenario file and fed from `iteration(ctx)`. They live in one
 * process-wide catalogue that the engine's registry reads; the engine clears it before loading
 * a scenario so runs in one process never share samples.
 *
 * Tags (k6's `metric.add(value, tags)`): each distinct tag set keeps its own samples (a
 * CustomTagSet: its own HDR trend, or its own counters), found by a canonical key of the sorted
 * tags; untagged samples are the empty tag set and go to it without any lookup. The metric's
 * total is the sum over its tag sets, and a threshold filter such as `queue_time{kind:big}` reads
 * the sum of the sets that carry every pair of the filter (as for the built-in series).
 *
 * Memory is bounded: a metric keeps at most MAX_TAG_SETS_PER_METRIC tag sets (the untagged one
 * included); samples with a new tag set beyond that go to the `{overflow: 'true'}` set, and a
 * warning says so once. A tag with unbounded values (a message id) so costs at most that many
 * histograms instead of growing without end; such values belong in a log, not in a tag.
 */
import { BUILT_IN_METRICS, type MetricInfo, type MetricType } from './catalogue.ts';
import { TrendSink } from './trend.ts';
import { withGroupTags } from './group-scope.ts';

/** Most tag sets one custom metric keeps, the untagged set included; more go to OVERFLOW_TAGS. */
export const MAX_TAG_SETS_PER_METRIC = 1000;

/** The tag set that samples with a new tag set go to once a metric holds its most tag sets. */
export const OVERFLOW_TAGS: Readonly<Record<string, string>> = Object.freeze({ overflow: 'true' });

const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/** The samples of one custom metric that carry one distinct tag set. */
export class CustomTagSet {
  /** The tags every sample of this set carries ({} for untagged samples). */
  readonly tags: Readonly<Record<string, string>>;
  /** trend: the samples ×1000 (µs when the trend is a time, milli-units otherwise); null for other types. */
  readonly trend: TrendSink | null;
  /** counter: the sum of the values added. */
  sum = 0;
  /** counter, rate, gauge: how many values were added (a trend counts in `trend.count`). */
  samples = 0;
  /** rate: how many of them were non-zero (or true). */
  nonZero = 0;
  /** gauge: the last value added, and its place among the metric's samples (to find the latest over sets). */
  last = 0;
  lastSequence = 0;
  /** gauge: the smallest and largest values added. */
  min = Infinity;
  max = -Infinity;

  constructor(tags: Readonly<Record<string, string>>, hasTrend: boolean) {
    this.tags = tags;
    this.trend = hasTrend ? new TrendSink() : null;
  }

  /** Whether any sample was added since the start (or the last reset). */
  get hasSamples(): boolean {
    return this.trend ? this.trend.count > 0 : this.samples > 0;
  }

  /** Whether this set carries every tag of `filter` with the same value ({} matches every set). */
  matches(filter: Readonly<Record<string, string>>): boolean {
    for (const key in filter) if (this.tags[key] !== filter[key]) return false;
    return true;
  }

  /** Forgets every sample. */
  reset(): void {
    this.trend?.reset();
    this.sum = this.samples = this.nonZero = this.last = this.lastSequence = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }

  /** Adds another set's samples into this one (aggregates over sets); a gauge keeps the later last value. */
  add(other: CustomTagSet): void {
    if (this.trend && other.trend) this.trend.add(other.trend);
    this.sum += other.sum;
    this.samples += other.samples;
    this.nonZero += other.nonZero;
    if (other.samples > 0 && other.lastSequence >= this.lastSequence) {
      this.last = other.last;
      this.lastSequence = other.lastSequence;
    }
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }
}

/**
 * The canonical key of a tag set: its pairs sorted by tag name, each part length-prefixed so no
 * value can imitate a separator. Undefined values are left out (`{ kind: undefined }` is untagged).
 * Tags in sorted order already (the usual case) need no sorting, hence no array.
 */
export function tagSetKey(tags: Readonly<Record<string, unknown>>): string {
  let key = '';
  let previous: string | undefined;
  let isSorted = true;
  for (const name in tags) {
    if (previous !== undefined && name < previous) {
      isSorted = false;
      break;
    }
    previous = name;
    const value = tags[name];
    if (value === undefined) continue;
    const text = String(value);
    key += `${name.length}:${name}${text.length}:${text}`;
  }
  if (isSorted) return key;
  key = '';
  for (const name of Object.keys(tags).sort()) {
    const value = tags[name];
    if (value === undefined) continue;
    const text = String(value);
    key += `${name.length}:${name}${text.length}:${text}`;
  }
  return key;
}

/**
 * The order tag sets are listed in: by their pairs, tag names sorted, name then value, a set
 * before the longer sets it begins (so {} first, then {kind:big}, {kind:big,region:eu}, {kind:small}).
 */
export function compareTagSets(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): number {
  const namesA = Object.keys(a).sort();
  const namesB = Object.keys(b).sort();
  for (let i = 0; i < namesA.length && i < namesB.length; i++) {
    const nameA = namesA[i]!;
    const nameB = namesB[i]!;
    if (nameA !== nameB) return nameA < nameB ? -1 : 1;
    const valueA = a[nameA]!;
    const valueB = b[nameB]!;
    if (valueA !== valueB) return valueA < valueB ? -1 : 1;
  }
  return namesA.length - namesB.length;
}

/** A copy of `tags` with sorted names and string values, frozen (stored once per tag set). */
function normalizeTags(tags: Readonly<Record<string, unknown>>): Readonly<Record<string, string>> {
  const copy: Record<string, string> = {};
  for (const name of Object.keys(tags).sort()) {
    const value = tags[name];
    if (value === undefined) continue;
    // '__proto__' would set the copy's prototype instead of adding a tag (and thresholds refuse it).
    if (name === '__proto__') throw new TypeError(`'__proto__' cannot be a tag name`);
    copy[name] = String(value);
  }
  return Object.freeze(copy);
}

/** A sample-backed custom metric declared by scenario code (`new Trend('name')`), kept per tag set. */
export class CustomMetric {
  readonly info: MetricInfo;
  /** Its tag sets by canonical key (tagSetKey); '' is the untagged set, always present. */
  readonly tagSets = new Map<string, CustomTagSet>();
  /** The untagged set: where `add(value)` records, without a lookup. */
  readonly untagged: CustomTagSet;
  /** Most tag sets kept (the untagged one included) before new ones go to OVERFLOW_TAGS. */
  readonly maxTagSets: number;
  /** Values add() refused (not a finite number; a negative trend value): never part of any figure. */
  ignoredValues = 0;
  /** How many times reset() ran: a cache of this metric's tag sets is stale once it changed. */
  resets = 0;
  private sequence = 0;
  private hasWarnedOverflow = false;
  private hasWarnedIgnored = false;
  private readonly warn: (message: string) => void;

  constructor(info: MetricInfo, options: { maxTagSets?: number; warn?: (message: string) => void } = {}) {
    this.info = info;
    this.maxTagSets = Math.max(1, options.maxTagSets ?? MAX_TAG_SETS_PER_METRIC);
    this.warn = options.warn ?? warnOnStderr;
    this.untagged = new CustomTagSet(NO_TAGS, info.type === 'trend');
    this.tagSets.set('', this.untagged);
  }

  /** The tag set samples with `tags` go to; created on first use (OVERFLOW_TAGS past maxTagSets). */
  tagSetFor(tags: Readonly<Record<string, unknown>> | undefined): CustomTagSet {
    if (tags === undefined || tags === null) return this.untagged;
    const key = tagSetKey(tags);
    if (key === '') return this.untagged;
    const known = this.tagSets.get(key);
    if (known) return known;
    if (this.tagSets.size >= this.maxTagSets) return this.overflowSet();
    const set = new CustomTagSet(normalizeTags(tags), this.info.type === 'trend');
    this.tagSets.set(key, set);
    return set;
  }

  /** The next place in this metric's order of gauge samples. */
  nextSequence(): number {
    return ++this.sequence;
  }

  /** Forgets every sample and every tag set (the end of a warm-up): the tag-set bound starts again. */
  reset(): void {
    this.resets++;
    this.ignoredValues = 0;
    this.untagged.reset();
    this.tagSets.clear();
    this.tagSets.set('', this.untagged);
  }

  /**
   * The sum of the tag sets matching `filter` (every set for {}). Read only: when a single set
   * matches it is returned itself. No set matching gives an empty set.
   */
  aggregate(filter: Readonly<Record<string, string>> = NO_TAGS): CustomTagSet {
    let only: CustomTagSet | undefined;
    let matches = 0;
    for (const set of this.tagSets.values()) {
      if (set.hasSamples && set.matches(filter)) {
        only = set;
        matches++;
      }
    }
    if (matches === 1) return only!;
    const total = new CustomTagSet(filter, this.info.type === 'trend');
    if (matches === 0) return total;
    for (const set of this.tagSets.values()) if (set.hasSamples && set.matches(filter)) total.add(set);
    return total;
  }

  /** The tag sets that have samples, in compareTagSets order (untagged first), as outputs list them. */
  tagSetsWithSamples(): CustomTagSet[] {
    return [...this.tagSets.values()].filter((set) => set.hasSamples).sort((a, b) => compareTagSets(a.tags, b.tags));
  }

  /**
   * Counts a value add() refused and says why, once per metric (k6 keeps a bad value out of a
   * metric's state without throwing, so a script's arithmetic slip never stops a load test).
   */
  ignore(value: unknown, rule: string): void {
    this.ignoredValues++;
    if (this.hasWarnedIgnored) return;
    this.hasWarnedIgnored = true;
    this.warn(
      `custom metric ${this.info.name}: add(${describeValue(value)}) ignored: ${rule};` +
        ' this and any later such values are left out of every figure (is a value computed from a missing field?)',
    );
  }

  private overflowSet(): CustomTagSet {
    const key = tagSetKey(OVERFLOW_TAGS);
    let set = this.tagSets.get(key);
    if (!set) {
      set = new CustomTagSet(OVERFLOW_TAGS, this.info.type === 'trend');
      this.tagSets.set(key, set);
    }
    if (!this.hasWarnedOverflow) {
      this.hasWarnedOverflow = true;
      this.warn(
        `custom metric ${this.info.name} has ${this.maxTagSets} tag sets, its most: samples with other tag sets are counted under {overflow:"true"}` +
          ' (is a tag value unbounded, such as an id? keep those out of tags)',
      );
    }
    return set;
  }
}

/** A value as the warning shows it: numbers and strings as code would write them. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

const FINITE_NUMBER = 'values must be finite numbers';

function warnOnStderr(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

const CATALOGUE = new Map<string, CustomMetric>();
let warnSink: (message: string) => void = warnOnStderr;

/** The custom metrics declared so far. */
export function customMetrics(): ReadonlyMap<string, CustomMetric> {
  return CATALOGUE;
}

/**
 * Forgets every custom metric (before a scenario is loaded). `warn` receives the warnings of the
 * metrics declared after this (a tag-set overflow), without the `warning: ` prefix; stderr by default.
 */
export function clearCustomMetrics(warn: (message: string) => void = warnOnStderr): void {
  CATALOGUE.clear();
  warnSink = warn;
  for (const metric of SCRIPT_METRICS) metric.reset();
}

/**
 * The built-in metrics fed by scenario code (check(), ctx.group()): kept as custom metrics are,
 * per tag set, but declared by runner (a scenario cannot declare `new Rate('checks')`).
 * Process-wide like the catalogue, so `check()` imported from 'runner' reaches them without
 * a context; cleared with it.
 */
export const CHECKS = new CustomMetric(BUILT_IN_METRICS.get('checks')!, { warn: (message) => warnSink(message) });
/** ctx.group() durations (µs), tagged group and scenario. */
export const GROUP_DURATION = new CustomMetric(BUILT_IN_METRICS.get('group_duration')!, { warn: (message) => warnSink(message) });
const SCRIPT_METRICS: readonly CustomMetric[] = [CHECKS, GROUP_DURATION];

/** The metrics of SCRIPT_METRICS that have samples, by name (for outputs, beside customMetrics()). */
export function scriptMetricsWithSamples(): Map<string, CustomMetric> {
  const used = new Map<string, CustomMetric>();
  for (const metric of SCRIPT_METRICS) if (metric.tagSetsWithSamples().length > 0) used.set(metric.info.name, metric);
  return used;
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
  const metric = new CustomMetric({ name, type, isTime, description: 'custom metric' }, { warn: warnSink });
  CATALOGUE.set(name, metric);
  return metric;
}

/** Tags of one sample: tag name → value (k6's `add(value, tags)`); values other than strings are turned into strings. */
export type SampleTags = Record<string, string>;

/** A running sum (k6 Counter): thresholds on `count` and `rate` (per second). */
export class Counter {
  readonly name: string;
  private readonly metric: CustomMetric;
  constructor(name: string) {
    this.name = name;
    this.metric = declare(name, 'counter', false);
  }
  /** Adds `value` (default 1), under `tags` when given; a value other than a finite number is ignored (one warning). */
  add(value = 1, tags?: SampleTags): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.metric.ignore(value, FINITE_NUMBER);
    const tagged = withGroupTags(tags);
    const set = tagged === undefined ? this.metric.untagged : this.metric.tagSetFor(tagged);
    set.sum += value;
    set.samples++;
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
  /**
   * Adds one sample (true or non-zero counts as a hit), under `tags` when given. Anything but a
   * boolean or a number (NaN included) is ignored, with one warning: it is neither a hit nor a miss.
   */
  add(value: boolean | number, tags?: SampleTags): void {
    if (typeof value !== 'boolean' && (typeof value !== 'number' || Number.isNaN(value))) {
      return this.metric.ignore(value, 'values must be booleans or numbers');
    }
    const tagged = withGroupTags(tags);
    const set = tagged === undefined ? this.metric.untagged : this.metric.tagSetFor(tagged);
    set.samples++;
    if (value) set.nonZero++;
  }
}

/**
 * A distribution (k6 Trend): thresholds on avg, min, max, med, p(N). With `isTime`, values are
 * milliseconds. Kept with 3 decimal places (stored ×1000 as integers in an HDR histogram), so
 * values are 0 or more: a negative value, like any value other than a finite number, is ignored
 * with one warning rather than skewing the percentiles (an HDR histogram has no negative buckets).
 */
export class Trend {
  readonly name: string;
  private readonly metric: CustomMetric;
  constructor(name: string, isTime = false) {
    this.name = name;
    this.metric = declare(name, 'trend', isTime);
  }
  /** Adds one sample (ms when the trend is a time), under `tags` when given. */
  add(value: number, tags?: SampleTags): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return this.metric.ignore(value, value < 0 ? 'a trend keeps values of 0 or more (record a magnitude, or add an offset)' : FINITE_NUMBER);
    }
    const tagged = withGroupTags(tags);
    const set = tagged === undefined ? this.metric.untagged : this.metric.tagSetFor(tagged);
    set.trend!.record(Math.round(value * 1000));
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
  /** Sets the gauge to `value`, under `tags` when given (each tag set has its own last value); a value other than a finite number is ignored (one warning). */
  add(value: number, tags?: SampleTags): void {
    const metric = this.metric;
    if (typeof value !== 'number' || !Number.isFinite(value)) return metric.ignore(value, FINITE_NUMBER);
    const tagged = withGroupTags(tags);
    const set = tagged === undefined ? metric.untagged : metric.tagSetFor(tagged);
    set.samples++;
    set.last = value;
    set.lastSequence = metric.nextSequence();
    if (value < set.min) set.min = value;
    if (value > set.max) set.max = value;
  }
}
