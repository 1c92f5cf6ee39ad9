/**
 * `runner merge`: two generators' files merge into exactly what one generator sending every message
 * would have written (histograms, counters, timeline counts), and two real runs side by side against
 * one fake proxy merge into the counts the proxy received.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrendSink } from '../../runner/metrics/trend.ts';
import { mergeAdjacentWindows } from '../../runner/metrics/timeline.ts';
import { mergeResults } from '../../runner/analysis/merge.ts';
import { parseResultsText, readResultsFiles, ResultsFileError, validateSummary } from '../../runner/results/read.ts';
import { runMergeCommand } from '../../runner/analysis/merge-command.ts';
import { createTempDir, createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { GUIDE_LEGACY_FILE, loadSynthetic, steadySamples, summaryFromSamples, type TimedSample } from './summaries.ts';
import { clearCustomMetrics, Counter, customMetrics, Gauge, Rate, Trend } from '../../runner/metrics/custom.ts';
import { customMetricsFigures } from '../../runner/outputs/summary.ts';
import type { Summary } from '../../runner/results/types.ts';
import { timelineEntry, timelinePoint } from '../../runner/results/names.ts';
import { createRandom, sampleNormal } from '../../runner/analysis/stats.ts';
import { deliveryFigures } from '../../runner/results/summarise.ts';
import type { DeliveryCounts } from '../../runner/results/types.ts';

const START = Date.parse('2025-01-01T00:00:00.000Z');
const at = (offsetSeconds: number) => new Date(START + offsetSeconds * 1000).toISOString();

const samplesA = steadySamples({ seconds: 5, perSecond: 30, medianMs: 10, seed: 1, failureRate: 0.05 });
const samplesB = steadySamples({ seconds: 5, perSecond: 20, medianMs: 15, sigma: 0.6, seed: 2, failureRate: 0.05 });
/** B starts 2 s after A; the union is one run of 7 s holding every message at its wall-clock time. */
const shiftedB: TimedSample[] = samplesB.map((s) => ({ ...s, tSeconds: s.tSeconds + 2 }));

const runA = () => loadSynthetic({
  samples: samplesA, timestamp: at(0), account: 'a@example.com', vus: 3,
  errors: [{ phase: 'message', code: 451, enhanced: '4.4.5', error: null, text: 'busy', count: 3 }],
  custom: {
    bytes_out: { type: 'counter', count: 10, rate: 2 },
    cache_hit: { type: 'rate', count: 10, rate: 0.5 },
    token_ms: { type: 'trend', count: 2, min: 1, max: 5, avg: 3, p50: 1, p95: 5, p99: 5 },
  },
}, 'a.json');
const runB = () => loadSynthetic({
  samples: samplesB, timestamp: at(2), account: 'b@example.com', vus: 2,
  errors: [
    { phase: 'message', code: 451, enhanced: '4.4.5', error: null, text: 'busy again', count: 2 },
    { phase: 'connect', code: null, enhanced: null, error: 'ECONNREFUSED', text: 'refused', count: 1 },
  ],
  custom: { bytes_out: { type: 'counter', count: 30, rate: 6 }, cache_hit: { type: 'rate', count: 30, rate: 0.9 } },
}, 'b.json');
const union = () => summaryFromSamples({ samples: [...samplesA, ...shiftedB], timestamp: at(0), durationSeconds: 7 });

const exact = suite('merge: equals one run of the union');

exact('counters, latency, response time and phases equal the union\'s; throughput over the union wall time', () => {
  const { summary, warnings } = mergeResults([runA(), runB()]);
  const whole = union();
  assert.equal(warnings, []);
  assert.equal(validateSummary(summary), []);
  assert.is(summary.timestamp, whole.timestamp);
  assert.is(summary.results.total_time_seconds, 7);
  for (const field of ['total_requests', 'successful', 'failed', 'interrupted', 'success_rate', 'throughput_rps', 'throughput_rpm', 'successful_rps', 'connections', 'bytes_sent', 'iterations'] as const) {
    assert.is(summary.results[field], whole.results[field], field);
  }
  assert.equal(summary.results.latency, whole.results.latency);
  assert.equal(summary.results.response_time, whole.results.response_time);
  assert.equal(summary.results.phases, whole.results.phases);
  assert.is(summary.results.vus_max, 5);
});

exact('the merged histograms give the union\'s percentiles at every level', () => {
  const merged = TrendSink.decode(mergeResults([runA(), runB()]).summary.histograms.txn_duration);
  const whole = TrendSink.decode(union().histograms.txn_duration);
  for (const field of ['count', 'sum', 'min', 'max'] as const) assert.is(merged[field], whole[field], field);
  for (let p = 0; p <= 100; p += 0.5) assert.is(merged.percentile(p), whole.percentile(p), `p${p}`);
  assert.is(merged.percentile(99.99), whole.percentile(99.99));
});

exact('timeline: windows aligned on wall-clock time; counts and percentiles exact, also where both files completed messages', () => {
  const merged = mergeResults([runA(), runB()]).summary.timeline;
  const whole = union().timeline;
  assert.is(merged.length, 7);
  merged.forEach((point, k) => {
    const truth = whole[k]!;
    for (const field of ['t_seconds', 'window_ms', 'started', 'accepted', 'failed', 'dropped', 'msgs_per_second', 'p50_ms', 'p95_ms', 'p99_ms'] as const) {
      assert.is(point[field], truth[field], `window ${k} ${field}`);
    }
    // The window histograms added are the union's: a later merge of this file is exact too.
    const histogram = TrendSink.decode(point.txn_histogram!);
    const truthHistogram = TrendSink.decode(truth.txn_histogram!);
    for (const field of ['count', 'sum', 'min', 'max'] as const) assert.is(histogram[field], truthHistogram[field], `window ${k} histogram ${field}`);
    assert.is(point.vus, (k < 5 ? 3 : 0) + (k >= 2 ? 2 : 0), `window ${k} vus`);
  });
});

exact('timeline of older files (windows without histograms): counts exact; percentiles only where one file completed messages', () => {
  const old = (run: ReturnType<typeof runA>) => {
    for (const point of run.summary!.timeline) delete point.txn_histogram;
    return run;
  };
  const { summary } = mergeResults([old(runA()), old(runB())]);
  const whole = union().timeline;
  assert.is(summary.timeline.length, 7);
  summary.timeline.forEach((point, k) => {
    const truth = whole[k]!;
    for (const field of ['t_seconds', 'window_ms', 'started', 'accepted', 'failed', 'dropped', 'msgs_per_second'] as const) assert.is(point[field], truth[field], `window ${k} ${field}`);
    const contributors = (k < 5 ? 1 : 0) + (k >= 2 ? 1 : 0);
    if (contributors === 1) assert.equal([point.p50_ms, point.p95_ms, point.p99_ms], [truth.p50_ms, truth.p95_ms, truth.p99_ms], `window ${k} percentiles`);
    else assert.equal([point.p50_ms, point.p95_ms, point.p99_ms], [null, null, null], `window ${k}: two files, no exact percentile`);
    assert.is(point.txn_histogram, undefined, `window ${k}: no histogram claimed`);
  });
  // One old file and one new: the windows they share are not exact either.
  const mixed = mergeResults([old(runA()), runB()]).summary.timeline;
  assert.equal([mixed[3]!.p95_ms, mixed[6]!.p95_ms], [null, whole[6]!.p95_ms]);
});

exact('timeline of a long run (windows folded to 2 s) merges into 2 s bins, exactly', () => {
  /** Folds a file's timeline pairwise, as a run beyond the timeline's cap does. */
  const folded = (run: ReturnType<typeof runA>) => {
    const timeline = run.summary!.timeline;
    run.summary!.timeline = timeline.flatMap((point, i) => (i % 2 === 0 ? [i + 1 < timeline.length ? timelineEntry(mergeAdjacentWindows(timelinePoint(point), timelinePoint(timeline[i + 1]!))) : point] : []));
    return run;
  };
  const { summary } = mergeResults([folded(runA()), runB()]);
  assert.equal(summary.timeline.map((p) => [p.t_seconds, p.window_ms]), [[2, 2000], [4, 2000], [6, 2000], [7, 1000]]);
  const whole = union().timeline;
  summary.timeline.forEach((point, k) => {
    const parts = whole.slice(2 * k, 2 * k + 2);
    assert.is(point.accepted, parts.reduce((n, p) => n + p.accepted, 0), `bin ${k} accepted`);
    const truth = new TrendSink();
    for (const part of parts) truth.add(TrendSink.decode(part.txn_histogram!));
    assert.equal([point.p50_ms, point.p95_ms, point.p99_ms], [truth.percentile(50) / 1000, truth.percentile(95) / 1000, truth.percentile(99) / 1000], `bin ${k} percentiles`);
  });
});

exact('one late tick (a 1.45 s window) keeps 1 s bins; a folded 2 s window that closed early (1.85 s) still makes 2 s bins', () => {
  const late = runA();
  late.summary!.timeline[1] = { ...late.summary!.timeline[1]!, window_ms: 1450 };
  assert.ok(mergeResults([late, runB()]).summary.timeline.every((p) => p.window_ms <= 1000), 'a late tick halved the resolution');
  const early = runA();
  early.summary!.timeline[1] = { ...early.summary!.timeline[1]!, window_ms: 1850 };
  assert.is(mergeResults([early, runB()]).summary.timeline[0]!.window_ms, 2000);
});

exact('groups add: one file\'s group keeps its percentiles, a shared group keeps exact count, extremes and mean', () => {
  const { summary } = mergeResults([runA(), runB()]);
  const whole = union();
  const own = summary.accounts['a@example.com']!;
  const original = runA().summary!.accounts['a@example.com']!;
  assert.equal(own.latency, original.latency, 'one file has the group: its percentiles are kept');
  assert.is(own.total_requests, original.total_requests);
  assert.is(own.throughput_rps, Math.round((samplesA.length / 7) * 1000) / 1000, 'rates over the union wall time');
  const shared = summary.scenarios['default']!;
  assert.is(shared.executor, 'shared-iterations');
  assert.is(shared.total_requests, whole.results.total_requests);
  assert.is(shared.successful, whole.results.successful);
  assert.is(shared.latency.count, whole.results.latency.count);
  assert.is(shared.latency.min_seconds, whole.results.latency.min_seconds);
  assert.is(shared.latency.max_seconds, whole.results.latency.max_seconds);
  assert.ok(Math.abs(shared.latency.avg_seconds! - whole.results.latency.avg_seconds!) <= 1e-6, 'weighted mean');
  // Both files carry the group's histogram: its percentiles are exact, as for the whole test.
  assert.equal(shared.latency, whole.results.latency);
});

exact('groups from files without group histograms (older results files): counts exact, percentiles null', () => {
  const strip = (run: ReturnType<typeof runA>) => {
    for (const group of [...Object.values(run.summary!.scenarios), ...Object.values(run.summary!.accounts)]) delete group.histogram;
    return run;
  };
  const { summary } = mergeResults([strip(runA()), strip(runB())]);
  const shared = summary.scenarios['default']!;
  assert.is(shared.total_requests, union().results.total_requests);
  assert.is(shared.latency.p95_seconds, null);
});

exact('errors add by phase and code; custom counters and rates add; a trend in one file is kept', () => {
  const { summary } = mergeResults([runA(), runB()]);
  assert.equal(summary.results.errors.map((e) => [e.phase, e.code, e.error, e.count, e.text]), [
    ['message', 451, null, 5, 'busy'],
    ['connect', null, 'ECONNREFUSED', 1, 'refused'],
  ]);
  assert.equal(summary.custom_metrics['bytes_out'], { type: 'counter', count: 40, rate: 40 / 7 });
  assert.equal(summary.custom_metrics['cache_hit'], { type: 'rate', count: 40, rate: (5 + 27) / 40 });
  assert.equal(summary.custom_metrics['token_ms'], { type: 'trend', count: 2, min: 1, max: 5, avg: 3, p50: 1, p95: 5, p99: 5 });
  assert.equal(summary.thresholds, []);
  const from = summary.config['merged_from'] as Array<{ file: string }>;
  assert.equal(from.map((f) => f.file), ['a.json', 'b.json']);
});

exact.run();

const delivery = suite('merge: delivery figures equal one run of the union');

/** Known delivery samples of one generator: lags (µs), counts, and per window delivered and backlog. */
interface DeliveryPart {
  lagsUs: number[];
  counts: DeliveryCounts;
  late: number;
  wait: 'complete' | 'timed_out' | 'interrupted' | 'skipped';
  windows: Array<[delivered: number, backlog: number]>;
}

const deliveryA: DeliveryPart = {
  lagsUs: Array.from({ length: 120 }, (_, i) => 5_000 + i * 731),
  counts: { delivered: 120, lost: 9, lost_refused: 6, lost_timeout: 3, pending: 0, duplicated: 2, unexpected: 1 },
  late: 1,
  wait: 'complete',
  windows: [[1, 5], [2, 4], [3, 3], [4, 2], [5, 1]],
};
const deliveryB: DeliveryPart = {
  lagsUs: Array.from({ length: 80 }, (_, i) => 40_000 + i * 2_113),
  counts: { delivered: 80, lost: 4, lost_refused: 4, lost_timeout: 0, pending: 2, duplicated: 0, unexpected: 3 },
  late: 0,
  wait: 'interrupted',
  windows: [[10, 7], [10, 6], [10, 5], [10, 4], [10, 0]],
};

/** The delivery block of a file, made by the summariser itself from the part's samples. */
function withDelivery(run: ReturnType<typeof runA>, part: DeliveryPart, seconds: number): ReturnType<typeof runA> {
  const lag = new TrendSink();
  const e2e = new TrendSink();
  for (const us of part.lagsUs) {
    lag.record(us);
    e2e.record(us + 900);
  }
  const figures = deliveryFigures({ counts: part.counts, lag, e2e }, seconds);
  const summary = run.summary!;
  summary.delivery = { source: 'sink', timeout_seconds: 30, wait: part.wait, wait_seconds: part.wait === 'complete' ? 0.5 : 2, ...figures, late: part.late, unknown: 0 };
  summary.scenarios['default']!.delivery = figures;
  for (const account of Object.values(summary.accounts)) account.delivery = figures;
  summary.timeline.forEach((point, k) => {
    point.delivered = part.windows[k]![0];
    point.delivery_backlog = part.windows[k]![1];
  });
  return run;
}

delivery('counts add exactly, lag and e2e percentiles come from the added histograms, rates over the union wall time', () => {
  const { summary, warnings } = mergeResults([withDelivery(runA(), deliveryA, 5), withDelivery(runB(), deliveryB, 5)]);
  assert.equal(warnings, []);
  assert.equal(validateSummary(summary), []);
  const lag = new TrendSink();
  const e2e = new TrendSink();
  for (const us of [...deliveryA.lagsUs, ...deliveryB.lagsUs]) {
    lag.record(us);
    e2e.record(us + 900);
  }
  const counts: DeliveryCounts = { delivered: 200, lost: 13, lost_refused: 10, lost_timeout: 3, pending: 2, duplicated: 2, unexpected: 4 };
  const truth = deliveryFigures({ counts, lag, e2e }, 7);
  const d = summary.delivery!;
  const { lag_histogram: _lh, e2e_histogram: _eh, ...figures } = truth;
  for (const [key, value] of Object.entries(figures)) assert.equal(d[key as keyof typeof d], value, key);
  assert.equal([d.late, d.unknown, d.timeout_seconds, d.wait, d.wait_seconds], [1, 0, 30, 'interrupted', 2], 'the worst wait, the longest timeout and wait');
  assert.is(d.delivered_rps, Math.round((200 / 7) * 1000) / 1000);
  assert.equal(d.lag, truth.lag, 'lag percentiles exact');
  assert.equal(d.e2e, truth.e2e);
  assert.equal(summary.scenarios['default']!.delivery!.lag, truth.lag, 'a shared scenario: exact too');
  assert.is(summary.scenarios['default']!.delivery!.lost_refused, 10);
  assert.is(summary.accounts['a@example.com']!.delivery!.delivered, 120, 'one file\'s account keeps its figures');
});

delivery('timeline: delivered adds per bin; the backlog is the sum of each file\'s latest (carried past its last window)', () => {
  const { summary } = mergeResults([withDelivery(runA(), deliveryA, 5), withDelivery(runB(), deliveryB, 5)]);
  const a = deliveryA.windows;
  const b = deliveryB.windows;
  const expected = Array.from({ length: 7 }, (_, k) => [
    (k < 5 ? a[k]![0] : 0) + (k >= 2 ? b[k - 2]![0] : 0),
    a[Math.min(k, 4)]![1] + (k >= 2 ? b[k - 2]![1] : 0),
  ]);
  assert.equal(summary.timeline.map((p) => [p.delivered, p.delivery_backlog]), expected);
  assert.is(summary.timeline.reduce((n, p) => n + p.delivered!, 0), 15 + 50);
});

delivery('files written before the refused/timeout split: their lost count as timed out; a file without delivery is named', () => {
  const old = withDelivery(runA(), deliveryA, 5);
  const d = old.summary!.delivery! as Partial<DeliveryCounts>;
  delete d.lost_refused;
  delete d.lost_timeout;
  const { summary, warnings } = mergeResults([old, withDelivery(runB(), deliveryB, 5)]);
  assert.equal([summary.delivery!.lost, summary.delivery!.lost_refused, summary.delivery!.lost_timeout], [13, 4, 9]);
  const partial = mergeResults([withDelivery(runA(), deliveryA, 5), runB()]);
  assert.is(partial.summary.delivery!.delivered, 120);
  assert.ok(partial.warnings.some((w) => w === 'delivery was tracked in 1 of 2 files: the delivery figures leave out b.json'), partial.warnings.join('\n'));
  assert.is(mergeResults([runA(), runB()]).summary.delivery, undefined, 'no delivery anywhere: no block');
});

delivery.run();

const refusals = suite('merge: warnings and refusals');

refusals('runs that did not overlap, or hit different targets, are merged with a warning', () => {
  const late = loadSynthetic({ samples: samplesB, timestamp: at(30), target: '10.0.0.1:2525' }, 'late.json');
  const { summary, warnings } = mergeResults([runA(), late]);
  assert.ok(warnings.some((w) => w.startsWith('late.json started after the earlier runs had ended')), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('different targets')), warnings.join('\n'));
  assert.is(summary.results.total_time_seconds, 35);
  assert.is(summary.target, '127.0.0.1:2525, 10.0.0.1:2525');
  assert.equal(validateSummary(summary), []);
});

refusals('a merged file merged again names each target once (its target lists its parts\')', () => {
  const other = loadSynthetic({ samples: samplesB, timestamp: at(2), target: '10.0.0.1:2525' }, 'other.json');
  const first = mergeResults([runA(), other]).summary;
  const again = mergeResults([{ ...runA(), file: 'merged.json', summary: first, target: first.target }, runA()]);
  assert.is(again.summary.target, '127.0.0.1:2525, 10.0.0.1:2525');
  const warning = again.warnings.find((w) => w.includes('different targets'));
  assert.is(warning, 'the files ran against different targets (127.0.0.1:2525, 10.0.0.1:2525): merge is meant for generators loading one target');
});

refusals('the old tool\'s file cannot be merged exactly: refused', () => {
  try {
    mergeResults([runA(), parseResultsText(GUIDE_LEGACY_FILE, 'old.json')]);
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, ResultsFileError);
    assert.match((error as Error).message, "old.json is the old tool's results file: it has no histograms");
  }
});

refusals.run();

const live = suite('merge: two generators side by side against one proxy');

live('two real runs at once: the merged file counts what the proxy received', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({ delays: { message: 5 } }, async (proxy) => {
      const files = [join(temp.dir, 'gen1.json'), join(temp.dir, 'gen2.json')];
      await Promise.all([
        runAgainst(proxy, { numEmails: 40, concurrent: 2, out: [files[0]!] }),
        runAgainst(proxy, { numEmails: 30, concurrent: 3, out: [files[1]!] }),
      ]);
      const out = join(temp.dir, 'total.json');
      const stdout = createTextSink();
      const stderr = createTextSink();
      assert.is(await runMergeCommand({ files, out, stdout, stderr }), 0);
      assert.match(stdout.text(), `Merged 2 results files into ${out}: 70 requests`);
      const merged = parseResultsText(readFileSync(out, 'utf8'), out).summary!;
      const inputs = await readResultsFiles(files);
      assert.is(merged.results.successful, proxy.stats.messagesAccepted);
      assert.is(merged.results.total_requests, 70);
      assert.is(merged.histograms.txn_duration.count, inputs[0]!.summary!.histograms.txn_duration.count + inputs[1]!.summary!.histograms.txn_duration.count);
      assert.is(merged.timeline.reduce((n, p) => n + p.accepted, 0), merged.results.successful);
      assert.is(merged.config['num_emails'], 70);
      assert.is(merged.config['concurrent'], 5);
    });
  } finally {
    temp.remove();
  }
});

live.run();

const tagged = suite('merge: tagged custom metrics equal one run recording every sample');

/** One sample of a custom metric, with its tags. */
type CustomSample = ['send_ms' | 'sent' | 'cache_hit' | 'depth', number, Record<string, string> | undefined];

/** Samples of one generator: trends, counters, rates and gauges under a few tag sets (some only in one generator). */
function customSamples(seed: number, kinds: readonly string[]): CustomSample[] {
  const random = createRandom(seed);
  const samples: CustomSample[] = [];
  for (let i = 0; i < 300; i++) {
    const kind = kinds[i % kinds.length]!;
    const tags = kind === 'none' ? undefined : { kind, ...(i % 3 === 0 ? { region: 'eu' } : {}) };
    samples.push(['send_ms', Math.round((kind === 'big' ? 400 : 20) * Math.exp(0.5 * sampleNormal(random)) * 1000) / 1000, tags]);
    samples.push(['sent', 1 + (i % 4), tags]);
    samples.push(['cache_hit', random() < 0.7 ? 1 : 0, tags]);
    samples.push(['depth', Math.floor(random() * 50), tags]);
    // Values the metrics ignore (counted in ignored_values, which merging adds up).
    if (i % 50 === 0) samples.push(['send_ms', NaN, tags], ['depth', Infinity, tags]);
  }
  return samples;
}

/** The custom_metrics a run recording `samples` over `durationMs` writes (a fresh catalogue, as each run has). */
function recordCustom(samples: readonly CustomSample[], durationMs: number): Summary['custom_metrics'] {
  clearCustomMetrics(() => {});
  const metrics = { send_ms: new Trend('send_ms', true), sent: new Counter('sent'), cache_hit: new Rate('cache_hit'), depth: new Gauge('depth') };
  for (const [name, value, tags] of samples) metrics[name].add(value, tags);
  const figures = customMetricsFigures(customMetrics(), durationMs);
  clearCustomMetrics();
  return figures;
}

/** Figures without histograms (compared as figures), and the histograms decoded (compared as distributions). */
function splitHistograms(custom: Summary['custom_metrics']): { figures: unknown; histograms: Map<string, TrendSink> } {
  const histograms = new Map<string, TrendSink>();
  const figures = JSON.parse(JSON.stringify(custom)) as Summary['custom_metrics'];
  for (const [name, metric] of Object.entries(figures)) {
    for (const set of metric.tag_sets ?? []) {
      if (set.histogram) histograms.set(`${name} ${JSON.stringify(set.tags)}`, TrendSink.decode(set.histogram));
      delete set.histogram;
    }
  }
  return { figures, histograms };
}

const samplesOfA = customSamples(11, ['big', 'small', 'none', 'only-a']);
const samplesOfB = customSamples(12, ['small', 'big', 'only-b']);
/** A runs 0..5 s, B 2..7 s (ending last): the union is one 7 s run that recorded A's samples, then B's. */
const taggedA = () => loadSynthetic({ samples: samplesA, timestamp: at(0), custom: recordCustom(samplesOfA, 5000) }, 'a.json');
const taggedB = () => loadSynthetic({ samples: samplesB, timestamp: at(2), custom: recordCustom(samplesOfB, 5000) }, 'b.json');

tagged('every tag set and every total equal the union\'s: counts, rates, gauges, trend figures and histograms', () => {
  const merged = splitHistograms(mergeResults([taggedA(), taggedB()]).summary.custom_metrics);
  const whole = splitHistograms(recordCustom([...samplesOfA, ...samplesOfB], 7000));
  assert.equal(merged.figures, whole.figures);
  assert.is((merged.figures as Summary['custom_metrics'])['send_ms']!.ignored_values, 12, '6 NaNs in each file');
  const sets = (whole.figures as Summary['custom_metrics'])['send_ms']!.tag_sets!.map((set) => set.tags);
  assert.equal(sets, [{}, { kind: 'big' }, { kind: 'big', region: 'eu' }, { kind: 'only-a' }, { kind: 'only-a', region: 'eu' }, { kind: 'only-b' }, { kind: 'small' }, { kind: 'small', region: 'eu' }]);
  assert.equal([...merged.histograms.keys()], [...whole.histograms.keys()]);
  for (const [key, truth] of whole.histograms) {
    const histogram = merged.histograms.get(key)!;
    for (const field of ['count', 'sum', 'min', 'max'] as const) assert.is(histogram[field], truth[field], `${key} ${field}`);
    for (let p = 0; p <= 100; p += 2.5) assert.is(histogram.percentile(p), truth.percentile(p), `${key} p${p}`);
  }
});

tagged('a merged file merges again exactly, and the result is valid against the schema', () => {
  const once = mergeResults([taggedA(), taggedB()]).summary;
  assert.equal(validateSummary(once), []);
  const again = mergeResults([parseResultsText(JSON.stringify(once), 'ab.json')]).summary;
  assert.equal(splitHistograms(again.custom_metrics).figures, splitHistograms(once.custom_metrics).figures);
});

tagged('files written before tags were kept: they load and merge, and count as untagged samples', () => {
  const untagged = (run: ReturnType<typeof taggedA>) => {
    // What an older runner wrote: the totals only.
    for (const metric of Object.values(run.summary!.custom_metrics)) delete metric.tag_sets;
    return run;
  };
  const old = mergeResults([untagged(taggedA()), untagged(taggedB())]).summary;
  assert.equal(validateSummary(old), []);
  const whole = recordCustom([...samplesOfA, ...samplesOfB], 7000);
  for (const name of ['sent', 'cache_hit', 'depth']) {
    const { tag_sets: _sets, ...figures } = whole[name]!;
    assert.equal(old.custom_metrics[name], figures, `${name}: exact without tag sets`);
  }
  const trend = old.custom_metrics['send_ms']!;
  assert.equal([trend.count, trend.min, trend.max, trend.p95, trend.tag_sets], [whole['send_ms']!.count, whole['send_ms']!.min, whole['send_ms']!.max, undefined, undefined]);
  // One old file and one new: the old file's samples join the untagged set.
  const mixed = mergeResults([untagged(taggedA()), taggedB()]).summary.custom_metrics['sent']!;
  const aSent = taggedA().summary!.custom_metrics['sent']!.count;
  const bUntagged = taggedB().summary!.custom_metrics['sent']!.tag_sets!.find((set) => Object.keys(set.tags).length === 0)?.count ?? 0;
  assert.equal(mixed.tag_sets![0], { tags: {}, count: aSent + bUntagged, rate: (aSent + bUntagged) / 7 });
  assert.is(mixed.count, whole['sent']!.count);
});

tagged.run();
