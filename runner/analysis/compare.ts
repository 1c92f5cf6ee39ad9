/**
 * `runner compare BEFORE AFTER`: what changed between two runs, and whether each change is larger
 * than chance. The guide's "before vs after Phase 1" workflow ("expected improvement: 2-5x
 * throughput, 50-80% latency reduction"), done with tests instead of eyes.
 *
 * Figures and how each change is tested (two-sided; significant when p < 0.01, the one rule of
 * significance.ts, which the run's trend verdicts use too; `--alpha` sets another level):
 * - throughput (requests/s and per minute; accepted messages/s): the ratio after/before; tested by a
 *   Mann–Whitney U rank test over the per-second timeline windows of the two runs (the rate of each
 *   window is one observation). Windows shorter than half a second (the last, partial one) are left
 *   out; at least 4 windows per run are needed. Assumes windows are independent, which adjacent
 *   windows only approximately are;
 * - success rate: the change in percentage points; two-proportion z-test on the message counts;
 * - latency p50/p95/p99 (whole transaction, response time for open models, and p50/p95 per SMTP
 *   phase): the change in time and in %; bootstrap confidence interval of the difference computed
 *   from the two HDR histograms (see bootstrap.ts for the method and its assumptions);
 * - latency average: Welch's t-test, standard deviations from the histograms;
 * - latency min and max: shown, not tested (one sample each says nothing about chance);
 * - delivery, when both runs tracked it (`delivery`): delivered msgs/s like the accepted ones (the
 *   timeline's delivered per window, Mann–Whitney U), the lost share of judged messages
 *   (lost / (delivered + lost), two-proportion z) and the delivery lag's p50/p95/p99 (bootstrap
 *   from the lag histograms). --fail-on-regression gates delivered msgs/s and the lag's p95 as it
 *   gates their accept counterparts.
 *
 * A row is "improved" or "regressed" when its test is significant *and* the change is at least
 * `minRelativeChange` (1% by default; throughput and latency rows): with hundreds of thousands of
 * messages a 0.3% shift can be "significant" while being smaller than the noise between two runs
 * of the same build. Otherwise "no significant change"; "not tested" when the files lack the data
 * (the old tool's files have no histograms or timeline). Everything random is seeded: the same
 * files give the same table every time.
 */
import type { LatencySeconds, TimelineEntry } from '../results/types.ts';
import { formatLatency, formatPercent } from '../util/format.ts';
import { isOpenModelExecutor } from '../executors/index.ts';
import { bootstrapPercentileDifference, toBucketDistribution, type BucketDistribution } from './bootstrap.ts';
import { decodeTrend, describeRun, type LoadedResults } from '../results/read.ts';
import { createRandom, mannWhitneyU, twoProportionTest, welchTest } from './stats.ts';
import { SIGNIFICANCE_ALPHA, isSignificant } from './significance.ts';
import { paint, type Style } from '../util/color.ts';
import { formatTable, type Cell } from '../util/table.ts';

/** Options of a comparison; every one has a default. */
export interface CompareOptions {
  /** Significance level of every test. @default SIGNIFICANCE_ALPHA (0.01, significance.ts) */
  alpha?: number;
  /** Bootstrap replicates per latency row. @default 2000 */
  replicates?: number;
  /** Seed of the bootstrap draws. @default 1 */
  seed?: number;
  /** Smallest relative change (fraction) of throughput and latency called a change. @default 0.01 */
  minRelativeChange?: number;
  /** Timeline windows each run needs for the throughput test. @default 4 */
  minWindows?: number;
}

/** Which direction of a figure is good. */
export type Better = 'higher' | 'lower';

/** What a row's change means, after its test. */
export type RowVerdict = 'improved' | 'regressed' | 'no significant change' | 'not tested';

/** How a row's change was tested. */
export interface RowTest {
  /** 'mann-whitney (windows)', 'bootstrap (histograms)', 'welch t', 'two-proportion z'. */
  method: string;
  pValue: number;
  /** Confidence interval of the difference after − before (bootstrap rows), in the row's unit. */
  ciLow: number | null;
  ciHigh: number | null;
}

/** One line of the comparison table. Values in the row's unit (per second, per minute, fraction 0..1, seconds). */
export interface ComparisonRow {
  /** Stable key: 'throughput_rps', 'latency.p95', 'phase.message.p50', … */
  key: string;
  label: string;
  unit: 'per second' | 'per minute' | 'fraction' | 'seconds';
  better: Better;
  before: number | null;
  after: number | null;
  /** after − before. */
  change: number | null;
  /** (after − before) / before; null when before is 0 or missing. */
  relativeChange: number | null;
  /** after / before; null when before is 0 or missing. */
  ratio: number | null;
  test: RowTest | null;
  /** Whether the test rejected "no difference" at alpha; null when not tested. */
  significant: boolean | null;
  /** Why the row was not tested, when it was not. */
  note: string | null;
  verdict: RowVerdict;
}

/** The whole comparison: rows, a one-line headline, and what could not be compared. */
export interface Comparison {
  before: { file: string; kind: string; description: string };
  after: { file: string; kind: string; description: string };
  /** '2.40× throughput, p95 −63%'. */
  headline: string;
  rows: ComparisonRow[];
  /** What is missing or differs between the runs, for people. */
  notes: string[];
  settings: Required<CompareOptions>;
}

const DEFAULTS: Required<CompareOptions> = { alpha: SIGNIFICANCE_ALPHA, replicates: 2000, seed: 1, minRelativeChange: 0.01, minWindows: 4 };

/** Windows shorter than this fraction of a second are too partial to count (the last one). */
const MIN_WINDOW_MS = 500;

/** Compares two loaded results files (pure apart from decoding their histograms). */
export function compareRuns(before: LoadedResults, after: LoadedResults, options: CompareOptions = {}): Comparison {
  const settings: Required<CompareOptions> = {
    alpha: options.alpha ?? DEFAULTS.alpha,
    replicates: options.replicates ?? DEFAULTS.replicates,
    seed: options.seed ?? DEFAULTS.seed,
    minRelativeChange: options.minRelativeChange ?? DEFAULTS.minRelativeChange,
    minWindows: options.minWindows ?? DEFAULTS.minWindows,
  };
  const notes: string[] = [];
  const rows: ComparisonRow[] = [];
  const add = (row: Omit<ComparisonRow, 'change' | 'relativeChange' | 'ratio' | 'significant' | 'verdict'>, minRelative = settings.minRelativeChange) => {
    rows.push(finishRow(row, settings.alpha, minRelative));
  };

  // Throughput, tested over the timeline windows.
  const windowNote = throughputTestability(before, after, settings.minWindows);
  if (windowNote) notes.push(`throughput not tested for significance: ${windowNote}`);
  const completedTest = windowNote ? null : windowTest(before, after, completedPerSecond);
  const acceptedTest = windowNote ? null : windowTest(before, after, (p) => p.msgs_per_second);
  add({ key: 'throughput_rps', label: 'throughput', unit: 'per second', better: 'higher', before: before.throughputRps, after: after.throughputRps, test: completedTest, note: windowNote });
  add({ key: 'throughput_rpm', label: '  per minute', unit: 'per minute', better: 'higher', before: before.throughputRpm, after: after.throughputRpm, test: completedTest, note: windowNote });
  add({ key: 'successful_rps', label: 'accepted msgs/s', unit: 'per second', better: 'higher', before: before.successfulRps, after: after.successfulRps, test: acceptedTest, note: windowNote });

  const judgedBefore = before.successful + before.failed;
  const judgedAfter = after.successful + after.failed;
  const proportion = judgedBefore && judgedAfter ? twoProportionTest(before.successful, judgedBefore, after.successful, judgedAfter) : undefined;
  add(
    {
      key: 'success_rate', label: 'success rate', unit: 'fraction', better: 'higher', before: before.successRate, after: after.successRate,
      test: proportion ? { method: 'two-proportion z', pValue: proportion.pValue, ciLow: null, ciHigh: null } : null,
      note: proportion ? null : 'a run judged no message',
    },
    0,
  );

  notes.push(...addDeliveryRateRows(add, before, after, windowNote));

  // Latency of the whole transaction, from the histograms when both files have them.
  const histogramNote = missingHistogramsNote(before, after);
  if (histogramNote) notes.push(`latency not tested for significance: ${histogramNote}`);
  const txnBefore = histogramNote ? undefined : distribution(before, 'txn_duration');
  const txnAfter = histogramNote ? undefined : distribution(after, 'txn_duration');
  addLatencyRows(add, 'latency', 'latency', before.latency, after.latency, txnBefore, txnAfter, histogramNote, settings, true);

  if (before.summary && after.summary) {
    // Response time differs from latency in open models only (measured from the intended start).
    if (isOpenModel(before) || isOpenModel(after)) {
      const rtBefore = before.summary.results.response_time;
      const rtAfter = after.summary.results.response_time;
      if (rtBefore.count > 0 && rtAfter.count > 0) {
        addLatencyRows(add, 'response_time', 'response time', rtBefore, rtAfter,
          distribution(before, 'txn_response_time'), distribution(after, 'txn_response_time'), null, settings, false);
      }
    }
    addDeliveryLagRows(add, before, after, settings);
    notes.push(...addPhaseRows(add, before, after, settings));
  } else {
    notes.push('per-phase latency not compared: the old tool\'s results file has no phases');
  }

  notes.push(...differencesBetween(before, after));
  return {
    before: { file: before.file, kind: before.kind, description: describeRun(before) },
    after: { file: after.file, kind: after.kind, description: describeRun(after) },
    headline: headlineOf(rows),
    rows,
    notes,
    settings,
  };
}

type AddRow = (row: Omit<ComparisonRow, 'change' | 'relativeChange' | 'ratio' | 'significant' | 'verdict'>, minRelative?: number) => void;

/** Whether a run had an arrival-rate (open model) scenario. */
function isOpenModel(run: LoadedResults): boolean {
  return Object.values(run.summary?.scenarios ?? {}).some((s) => isOpenModelExecutor(s.executor));
}

/**
 * Delivered msgs/s (tested over the windows' delivered counts) and the lost share (two-proportion
 * z), when both runs tracked delivery; returns a note when only one did.
 */
function addDeliveryRateRows(add: AddRow, before: LoadedResults, after: LoadedResults, windowNote: string | null): string[] {
  const db = before.summary?.delivery;
  const da = after.summary?.delivery;
  if (!db || !da) {
    const only = db ? before : da ? after : undefined;
    return only ? [`delivery tracked only in ${only.file}: not compared`] : [];
  }
  add({
    key: 'delivered_rps', label: 'delivered msgs/s', unit: 'per second', better: 'higher', before: db.delivered_rps, after: da.delivered_rps,
    test: windowNote ? null : windowTest(before, after, deliveredPerSecond), note: windowNote,
  });
  const judgedBefore = db.delivered + db.lost;
  const judgedAfter = da.delivered + da.lost;
  const proportion = judgedBefore && judgedAfter ? twoProportionTest(db.lost, judgedBefore, da.lost, judgedAfter) : undefined;
  add(
    {
      key: 'lost_rate', label: 'lost', unit: 'fraction', better: 'lower',
      before: judgedBefore ? db.lost / judgedBefore : null, after: judgedAfter ? da.lost / judgedAfter : null,
      test: proportion ? { method: 'two-proportion z', pValue: proportion.pValue, ciLow: null, ciHigh: null } : null,
      note: proportion ? null : 'a run judged no delivery',
    },
    0,
  );
  return [];
}

/** The delivery lag's p50/p95/p99 (250 → arrival upstream), from the lag histograms, when both runs tracked delivery. */
function addDeliveryLagRows(add: AddRow, before: LoadedResults, after: LoadedResults, settings: Required<CompareOptions>): void {
  const db = before.summary?.delivery;
  const da = after.summary?.delivery;
  if (!db || !da) return;
  const decode = (run: LoadedResults, encoded: typeof db.lag_histogram) => (encoded ? toBucketDistribution(decodeTrend(encoded, run.file, 'delivery.lag_histogram')) : undefined);
  addLatencyRows(add, 'delivery_lag', 'delivery lag', db.lag, da.lag, decode(before, db.lag_histogram), decode(after, da.lag_histogram), null, settings, false);
}

/** p50 and p95 of every phase both runs timed; returns notes on phases only one run timed. */
function addPhaseRows(add: AddRow, before: LoadedResults, after: LoadedResults, settings: Required<CompareOptions>): string[] {
  const phasesBefore = Object.keys(before.summary!.results.phases);
  const phasesAfter = Object.keys(after.summary!.results.phases);
  const decode = (run: LoadedResults, phase: string) => {
    const encoded = run.summary!.histograms.phases[phase];
    return encoded ? toBucketDistribution(decodeTrend(encoded, run.file, `histograms.phases.${phase}`)) : undefined;
  };
  for (const phase of phasesBefore) {
    if (!phasesAfter.includes(phase)) continue;
    const b = before.summary!.results.phases[phase]!;
    const a = after.summary!.results.phases[phase]!;
    const db = decode(before, phase);
    const da = decode(after, phase);
    for (const p of [50, 95] as const) {
      const field = `p${p}_seconds` as const;
      add({
        key: `phase.${phase}.p${p}`, label: `${phase} p${p}`, unit: 'seconds', better: 'lower', before: b[field], after: a[field],
        ...percentileTest(`phase.${phase}.p${p}`, db, da, p, settings),
      });
    }
  }
  const notes: string[] = [];
  const onlyBefore = phasesBefore.filter((p) => !phasesAfter.includes(p));
  const onlyAfter = phasesAfter.filter((p) => !phasesBefore.includes(p));
  if (onlyBefore.length) notes.push(`phases timed only before: ${onlyBefore.join(', ')}`);
  if (onlyAfter.length) notes.push(`phases timed only after: ${onlyAfter.join(', ')}`);
  return notes;
}

function addLatencyRows(
  add: AddRow,
  keyPrefix: string,
  labelPrefix: string,
  before: LatencySeconds,
  after: LatencySeconds,
  db: BucketDistribution | undefined,
  da: BucketDistribution | undefined,
  histogramNote: string | null,
  settings: Required<CompareOptions>,
  withExtremes: boolean,
): void {
  if (withExtremes) {
    add({ key: `${keyPrefix}.min`, label: `${labelPrefix} min`, unit: 'seconds', better: 'lower', before: before.min_seconds, after: after.min_seconds, test: null, note: 'extreme value: not tested' });
    let avgTest: RowTest | null = null;
    if (db && da && db.count > 1 && da.count > 1) {
      // Means in µs from the exact sums; spread from the buckets.
      const welch = welchTest(db.mean, db.stddev, db.count, da.mean, da.stddev, da.count);
      avgTest = { method: 'welch t', pValue: welch.pValue, ciLow: null, ciHigh: null };
    }
    add({
      key: `${keyPrefix}.avg`, label: `${labelPrefix} avg`, unit: 'seconds', better: 'lower', before: before.avg_seconds, after: after.avg_seconds,
      test: avgTest, note: avgTest ? null : histogramNote ?? 'too few samples',
    });
  }
  for (const p of [50, 95, 99] as const) {
    const field = `p${p}_seconds` as const;
    const tested = percentileTest(`${keyPrefix}.p${p}`, db, da, p, settings);
    add({
      key: `${keyPrefix}.p${p}`, label: `${labelPrefix} p${p}`, unit: 'seconds', better: 'lower', before: before[field], after: after[field],
      test: tested.test, note: tested.test ? null : histogramNote ?? tested.note,
    });
  }
  if (withExtremes) {
    add({ key: `${keyPrefix}.max`, label: `${labelPrefix} max`, unit: 'seconds', better: 'lower', before: before.max_seconds, after: after.max_seconds, test: null, note: 'extreme value: not tested' });
  }
}

/** The bootstrap test of one percentile, seeded per row so rows do not depend on each other's draws. */
function percentileTest(
  key: string,
  before: BucketDistribution | undefined,
  after: BucketDistribution | undefined,
  p: number,
  settings: Required<CompareOptions>,
): { test: RowTest | null; note: string | null } {
  if (!before || !after) return { test: null, note: 'no histogram' };
  if (before.count === 0 || after.count === 0) return { test: null, note: 'no samples' };
  const random = createRandom((settings.seed ^ hashKey(key)) >>> 0);
  const interval = bootstrapPercentileDifference(before, after, p, random, { replicates: settings.replicates, alpha: settings.alpha });
  return {
    test: { method: 'bootstrap (histograms)', pValue: interval.pValue, ciLow: interval.low / 1e6, ciHigh: interval.high / 1e6 },
    note: null,
  };
}

/** FNV-1a hash of a row key, to derive a per-row seed. */
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function distribution(run: LoadedResults, field: 'txn_duration' | 'txn_response_time'): BucketDistribution | undefined {
  const encoded = run.summary?.histograms[field];
  return encoded ? toBucketDistribution(decodeTrend(encoded, run.file, `histograms.${field}`)) : undefined;
}

function missingHistogramsNote(before: LoadedResults, after: LoadedResults): string | null {
  const missing = [before, after].filter((r) => !r.summary).map((r) => r.file);
  return missing.length ? `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} the old tool's results file (no histograms)` : null;
}

/** Full-enough windows of a run's timeline. */
function usableWindows(run: LoadedResults): TimelineEntry[] {
  return (run.summary?.timeline ?? []).filter((p) => p.window_ms >= MIN_WINDOW_MS);
}

/** Why throughput cannot be tested, or null when it can. */
function throughputTestability(before: LoadedResults, after: LoadedResults, minWindows: number): string | null {
  const problems: string[] = [];
  for (const run of [before, after]) {
    if (!run.summary) {
      problems.push(`${run.file} is the old tool's results file (no timeline)`);
      continue;
    }
    const count = usableWindows(run).length;
    if (count < minWindows) problems.push(`${run.file} has ${count} one-second window${count === 1 ? '' : 's'}, ${minWindows} per run are needed (run for ${minWindows + 1} s or longer)`);
  }
  return problems.length ? problems.join('; ') : null;
}

/** Delivered per second of a window (0 in windows of a run without delivery columns). */
function deliveredPerSecond(point: TimelineEntry): number {
  return ((point.delivered ?? 0) * 1000) / point.window_ms;
}

function completedPerSecond(point: TimelineEntry): number {
  return ((point.accepted + point.failed) * 1000) / point.window_ms;
}

function windowTest(before: LoadedResults, after: LoadedResults, rate: (p: TimelineEntry) => number): RowTest {
  const outcome = mannWhitneyU(usableWindows(before).map(rate), usableWindows(after).map(rate));
  return { method: 'mann-whitney (windows)', pValue: outcome.pValue, ciLow: null, ciHigh: null };
}

function finishRow(
  row: Omit<ComparisonRow, 'change' | 'relativeChange' | 'ratio' | 'significant' | 'verdict'>,
  alpha: number,
  minRelative: number,
): ComparisonRow {
  const { before, after } = row;
  const change = before !== null && after !== null ? after - before : null;
  const ratio = before !== null && after !== null && before !== 0 ? after / before : null;
  const relativeChange = ratio === null ? null : ratio - 1;
  const hasValues = change !== null;
  const test = hasValues ? row.test : null;
  const significant = test ? isSignificant(test.pValue, alpha) : null;
  let verdict: RowVerdict;
  if (significant === null) verdict = 'not tested';
  else if (!significant || change === 0 || (relativeChange !== null && Math.abs(relativeChange) < minRelative)) verdict = 'no significant change';
  else verdict = (change! > 0) === (row.better === 'higher') ? 'improved' : 'regressed';
  return {
    ...row,
    test,
    note: hasValues ? row.note : 'missing in one of the files',
    change,
    relativeChange,
    ratio,
    significant,
    verdict,
  };
}

function headlineOf(rows: readonly ComparisonRow[]): string {
  const parts: string[] = [];
  const throughput = rows.find((r) => r.key === 'throughput_rps');
  if (throughput?.ratio !== null && throughput?.ratio !== undefined) parts.push(`${throughput.ratio.toFixed(2)}× throughput`);
  const delivered = rows.find((r) => r.key === 'delivered_rps');
  if (delivered?.ratio !== null && delivered?.ratio !== undefined) parts.push(`${delivered.ratio.toFixed(2)}× delivered`);
  const p95 = rows.find((r) => r.key === 'latency.p95');
  if (p95?.relativeChange !== null && p95?.relativeChange !== undefined) parts.push(`p95 ${formatPercent(p95.relativeChange)}`);
  const success = rows.find((r) => r.key === 'success_rate');
  if (success && success.change !== null && success.verdict !== 'no significant change' && success.change !== 0) {
    parts.push(`success rate ${formatPoints(success.change)}`);
  }
  return parts.join(', ') || 'nothing to compare';
}

/** Differences of setup between the runs that make a comparison less like-for-like. */
function differencesBetween(before: LoadedResults, after: LoadedResults): string[] {
  const notes: string[] = [];
  if (before.target && after.target && before.target !== after.target) notes.push(`the runs had different targets: ${before.target} vs ${after.target}`);
  for (const key of ['num_emails', 'concurrent', 'message_size_bytes', 'messages_per_connection', 'scenario_file']) {
    const b = before.config[key];
    const a = after.config[key];
    if (b !== undefined && a !== undefined && JSON.stringify(b) !== JSON.stringify(a)) {
      notes.push(`the runs differ in ${key}: ${JSON.stringify(b)} vs ${JSON.stringify(a)} (not the same load)`);
    }
  }
  for (const run of [before, after]) {
    if (run.status && run.status !== 'completed') notes.push(`${run.file} was ${run.status}: its figures cover part of the planned run`);
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------
// Regressions (--fail-on-regression)

/** A change beyond the allowed regression. */
export interface Regression {
  key: string;
  label: string;
  /** Relative change, e.g. −0.25 for a 25% throughput drop. */
  relativeChange: number;
  /** Whether the change was tested significant (false: could not be tested, judged on its size alone). */
  isTested: boolean;
}

/** Rows --fail-on-regression watches and the direction that hurts. */
const GATED_ROWS: ReadonlyArray<{ key: string; isDrop: boolean }> = [
  { key: 'throughput_rps', isDrop: true },
  { key: 'successful_rps', isDrop: true },
  { key: 'latency.p95', isDrop: false },
  { key: 'delivered_rps', isDrop: true },
  { key: 'delivery_lag.p95', isDrop: false },
];

/**
 * Regressions larger than `maxFraction` (0.1 for '10%'): throughput (requests/s, accepted/s or,
 * with delivery tracked in both, delivered/s) down by more, or p95 (of the transaction, or of the
 * delivery lag) up by more, *and* significant. A row that could not be tested (too few
 * windows, the old tool's file) is judged on its size alone, so a gate never passes silently for
 * lack of data; the output says which rows were untested.
 */
export function findRegressions(comparison: Comparison, maxFraction: number): Regression[] {
  const regressions: Regression[] = [];
  for (const gate of GATED_ROWS) {
    const row = comparison.rows.find((r) => r.key === gate.key);
    if (!row || row.relativeChange === null || row.significant === false) continue;
    const isBeyond = gate.isDrop ? row.relativeChange < -maxFraction : row.relativeChange > maxFraction;
    if (isBeyond) regressions.push({ key: row.key, label: row.label.trim(), relativeChange: row.relativeChange, isTested: row.significant === true });
  }
  return regressions;
}

/** One line per regression, for people: 'p95 +45% (significant, limit +10%)'. */
export function formatRegressions(regressions: readonly Regression[], maxFraction: number): string {
  if (regressions.length === 0) return `no regression beyond ${formatPercent(maxFraction).replace('+', '')}`;
  return regressions
    .map((r) => `regression: ${r.label} ${formatPercent(r.relativeChange)} (${r.isTested ? 'significant' : 'not testable, judged on size'}; limit ${r.relativeChange < 0 ? '−' : '+'}${formatPercent(maxFraction).replace('+', '')})`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Presentation

function formatValue(row: ComparisonRow, value: number | null): string {
  if (value === null) return '-';
  switch (row.unit) {
    case 'per second': return `${value.toFixed(1)}/s`;
    case 'per minute': return `${Math.round(value)}/min`;
    case 'fraction': return `${(value * 100).toFixed(2)}%`;
    case 'seconds': return formatLatency(value);
  }
}

function formatPoints(fraction: number): string {
  const points = fraction * 100;
  if (Math.abs(points) < 0.005) return '0 pt';
  return `${points < 0 ? '−' : '+'}${Math.abs(points).toFixed(2)} pt`;
}

function formatChange(row: ComparisonRow): string {
  if (row.change === null) return '-';
  switch (row.unit) {
    case 'per second':
    case 'per minute':
      return row.ratio === null ? `${row.change >= 0 ? '+' : '−'}${Math.abs(row.change).toFixed(1)}` : `${row.ratio.toFixed(2)}× (${formatPercent(row.relativeChange)})`;
    case 'fraction':
      return formatPoints(row.change);
    case 'seconds': {
      const sign = row.change > 0 ? '+' : row.change < 0 ? '−' : '';
      const absolute = row.change === 0 ? '0' : `${sign}${formatLatency(Math.abs(row.change))}`;
      return row.relativeChange === null ? absolute : `${absolute} (${formatPercent(row.relativeChange)})`;
    }
  }
}

const VERDICT_COLORS: Record<RowVerdict, Style | undefined> = {
  improved: 'green',
  regressed: 'red',
  'no significant change': undefined,
  'not tested': 'dim',
};

/** A p-value for people: '<0.001', '0.034', '1.000'; '-' when not tested. */
function formatPValue(p: number | null): string {
  if (p === null || Number.isNaN(p)) return '-';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

/** The comparison as people read it: header, headline, table, method and notes. */
export function formatComparison(comparison: Comparison, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const header: Cell[] = ['', 'before', 'after', 'change', 'p', 'verdict'].map((text): Cell => ({ text, color: 'bold' }));
  const body: Cell[][] = [];
  let group = '';
  for (const row of comparison.rows) {
    // A blank line between rates, latency, response time and phases: groups read at a glance.
    const rowGroup = row.key.startsWith('phase.') ? 'phase' : row.key.includes('.') ? row.key.split('.')[0]! : 'rates';
    if (group && rowGroup !== group) body.push([{ text: '' }]);
    group = rowGroup;
    body.push([
      { text: row.label },
      { text: formatValue(row, row.before) },
      { text: formatValue(row, row.after) },
      { text: formatChange(row) },
      { text: formatPValue(row.test?.pValue ?? null) },
      { text: row.verdict, color: VERDICT_COLORS[row.verdict] },
    ]);
  }
  const { settings } = comparison;
  const lines = [
    `Before: ${comparison.before.description}`,
    `After:  ${comparison.after.description}`,
    '',
    paint('bold', comparison.headline, color),
    '',
    formatTable([header, ...body], ['left', 'right', 'right', 'right', 'right', 'left'], color),
    '',
    `p: two-sided p-value, significant when p < ${settings.alpha}; changes under ${formatPercent(settings.minRelativeChange).replace('+', '')} count as no change.`,
    `   throughput: Mann-Whitney U over one-second windows; success rate${comparison.rows.some((r) => r.key === 'lost_rate') ? ', lost' : ''}: two-proportion z; avg: Welch t;`,
    `   percentiles: bootstrap of the HDR histograms (${settings.replicates} replicates, seed ${settings.seed}).`,
  ];
  for (const note of comparison.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
