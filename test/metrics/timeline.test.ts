/**
 * The timeline: every window carries its histogram, so windows merge exactly (across generators
 * and when a long run folds them), and its memory stays under the cap however many windows close:
 * totals, histograms and times are checked against the samples that went in.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MetricsRegistry, type TimelinePoint } from '../../runner/metrics/registry.ts';
import { BoundedSeries } from '../../runner/metrics/bounded-series.ts';
import { DEFAULT_TIMELINE_MAX_POINTS, mergeAdjacentWindows, Timeline } from '../../runner/metrics/timeline.ts';
import { TrendSink } from '../../runner/metrics/trend.ts';
import { mergeResults } from '../../runner/analysis/merge.ts';
import { parseResultsText, validateSummary } from '../../runner/results/read.ts';
import { timelineEntry, timelinePoint } from '../../runner/results/names.ts';
import { createRandom, sampleNormal, type RandomSource } from '../../runner/analysis/stats.ts';
import { summaryFromSamples } from '../analysis/summaries.ts';

/** A log-normal latency in µs around `medianMs`. */
function latencyUs(random: RandomSource, medianMs: number, sigma: number): number {
  return Math.max(1, Math.round(medianMs * 1000 * Math.exp(sigma * sampleNormal(random))));
}

/** The figures of a trend that a timeline point and its histogram must reproduce. */
function assertSameTrend(actual: TrendSink, expected: TrendSink, what: string): void {
  for (const field of ['count', 'sum', 'min', 'max'] as const) assert.is(actual[field], expected[field], `${what}: ${field}`);
  for (const p of [1, 25, 50, 90, 95, 99, 99.9]) assert.is(actual.percentile(p), expected.percentile(p), `${what}: p${p}`);
}

function assertPercentilesOf(point: TimelinePoint, truth: TrendSink, what: string): void {
  const expected = truth.count ? [truth.percentile(50) / 1000, truth.percentile(95) / 1000, truth.percentile(99) / 1000] : [null, null, null];
  assert.equal([point.p50Ms, point.p95Ms, point.p99Ms], expected, `${what}: percentiles`);
  if (truth.count === 0) assert.is(point.txnHistogram, null, `${what}: no histogram without messages`);
  else assertSameTrend(TrendSink.decode(point.txnHistogram!), truth, `${what}: histogram`);
}

const windows = suite('timeline: each window carries its histogram');

windows('a window\'s histogram holds exactly its samples; a window without messages has none', () => {
  const registry = new MetricsRegistry(0);
  const random = createRandom(7);
  const truth = new TrendSink();
  for (let i = 0; i < 1000; i++) {
    const us = latencyUs(random, 20, 0.5);
    registry.noteAccepted(us);
    truth.record(us);
  }
  const point = registry.tick(1000)!;
  assertPercentilesOf(point, truth, 'window 1');
  const quiet = registry.tick(2000)!;
  assertPercentilesOf(quiet, new TrendSink(), 'window 2');
  assert.equal(registry.timeline, [point, quiet]);
  assert.is(registry.lastWindow, quiet);
});

windows('two generators\' windows merge into the percentiles of the union, as one TrendSink records them', () => {
  const seconds = 5;
  const random = createRandom(11);
  const registries = [new MetricsRegistry(0), new MetricsRegistry(0)];
  const union = Array.from({ length: seconds }, () => new TrendSink());
  for (let second = 0; second < seconds; second++) {
    // Different loads and distributions: percentiles of the parts say nothing about the whole.
    registries.forEach((registry, index) => {
      for (let i = 0; i < (index === 0 ? 300 : 120); i++) {
        const us = latencyUs(random, index === 0 ? 10 : 40, index === 0 ? 0.3 : 0.8);
        registry.noteStarted();
        registry.noteAccepted(us);
        union[second]!.record(us);
      }
    });
    for (const registry of registries) registry.tick((second + 1) * 1000);
  }
  // Each generator's results file: a synthetic summary carrying the registry's timeline, written and read back.
  const files = registries.map((registry, index) => {
    const summary = summaryFromSamples({ samples: [{ tSeconds: 0.5, latencyUs: 1000 }], durationSeconds: seconds });
    summary.timeline = registry.timeline.map(timelineEntry);
    assert.equal(validateSummary(summary), [], 'the results file validates with its window histograms');
    return parseResultsText(JSON.stringify(summary), `gen${index}.json`);
  });
  const merged = mergeResults(files).summary.timeline;
  assert.is(merged.length, seconds);
  merged.forEach((point, k) => {
    assert.is(point.accepted, union[k]!.count, `window ${k} accepted`);
    assertPercentilesOf(timelinePoint(point), union[k]!, `window ${k}`);
  });
});

windows('the results schema takes a window histogram, null, or none (older files), and refuses anything else', () => {
  const summary = summaryFromSamples({ samples: [{ tSeconds: 0.5, latencyUs: 1000 }, { tSeconds: 1.5, latencyUs: 2000 }], durationSeconds: 3 });
  assert.ok(summary.timeline[0]!.txn_histogram, 'a window with a message has its histogram');
  assert.is(summary.timeline[2]!.txn_histogram, null);
  delete summary.timeline[1]!.txn_histogram;
  assert.equal(validateSummary(summary), []);
  summary.timeline[1]!.txn_histogram = 'HISTFAAAA' as never;
  assert.ok(validateSummary(summary).some((problem) => problem.startsWith('timeline.1.txn_histogram')), validateSummary(summary).join('\n'));
});

windows.run();

const bounded = suite('timeline: bounded memory');

interface Fed {
  registry: MetricsRegistry;
  /** Per closed 1 s window: its end (s) and its latencies. */
  windows: Array<{ t: number; latencies: number[] }>;
  totals: { started: number; accepted: number; failed: number; dropped: number };
}

/** Ticks a registry `count` times (a window a second, the last one partial) with random traffic. */
function feed(registry: MetricsRegistry, count: number, seed: number, afterTick: (fed: Fed) => void = () => {}): Fed {
  const random = createRandom(seed);
  const fed: Fed = { registry, windows: [], totals: { started: 0, accepted: 0, failed: 0, dropped: 0 } };
  for (let k = 1; k <= count; k++) {
    const latencies: number[] = [];
    // Some windows complete nothing: their points have no histogram.
    const accepted = random() < 0.1 ? 0 : Math.floor(random() * 40);
    const failed = Math.floor(random() * 3);
    const dropped = Math.floor(random() * 2);
    for (let i = 0; i < accepted + failed + 1; i++) registry.noteStarted();
    for (let i = 0; i < accepted; i++) {
      const us = latencyUs(random, 5 + (k % 50), 0.6);
      latencies.push(us);
      registry.noteAccepted(us);
    }
    for (let i = 0; i < failed; i++) registry.noteFailed();
    for (let i = 0; i < dropped; i++) registry.noteDropped('s');
    registry.setVus(k % 9, 10);
    const isFinal = k === count;
    // Ticks land a few ms late, as timers do; the last window is partial.
    const nowMs = isFinal ? (k - 0.6) * 1000 : k * 1000 + Math.floor(random() * 4);
    const point = registry.tick(nowMs, isFinal)!;
    fed.windows.push({ t: point.t, latencies });
    fed.totals.started += accepted + failed + 1;
    fed.totals.accepted += accepted;
    fed.totals.failed += failed;
    fed.totals.dropped += dropped;
    afterTick(fed);
  }
  return fed;
}

/** Checks a (possibly folded) timeline against the windows that went in: counts, histograms, times. */
function assertTimelineHolds(fed: Fed): void {
  const timeline = fed.registry.timeline;
  const sum = (field: 'started' | 'accepted' | 'failed' | 'dropped') => timeline.reduce((n, p) => n + p[field], 0);
  for (const field of ['started', 'accepted', 'failed', 'dropped'] as const) assert.is(sum(field), fed.totals[field], `total ${field}`);
  let startT = 0;
  let next = 0;
  timeline.forEach((point, i) => {
    // Each point spans from the previous point's end to its own t, and holds the windows closed in between.
    assert.ok(Math.abs(point.t - point.windowMs / 1000 - startT) < 0.011, `point ${i}: starts at ${point.t - point.windowMs / 1000}, previous ended at ${startT}`);
    const truth = new TrendSink();
    while (next < fed.windows.length && fed.windows[next]!.t <= point.t) for (const us of fed.windows[next++]!.latencies) truth.record(us);
    assert.is(point.accepted, truth.count, `point ${i}: accepted`);
    assertPercentilesOf(point, truth, `point ${i}`);
    assert.is(point.msgsPerSecond, (point.accepted * 1000) / point.windowMs, `point ${i}: msgs/s`);
    startT = point.t;
  });
  assert.is(next, fed.windows.length, 'every window is in a point');
  assert.is(timeline.at(-1)!.t, fed.windows.at(-1)!.t, 'the timeline ends with the run');
  assert.is(timeline.at(-1)!.vus, fed.registry.vus, 'a folded point keeps the VUs at its end');
}

bounded('a cap of 8: never more than 8 points over 1000 windows; totals, histograms and times exact', () => {
  let most = 0;
  const fed = feed(new MetricsRegistry(0, new Map(), { timelineMaxPoints: 8 }), 1000, 3, ({ registry }) => {
    most = Math.max(most, registry.timeline.length);
    assert.ok(registry.timeline.length <= 8, `${registry.timeline.length} points`);
  });
  assert.is(most, 8);
  assertTimelineHolds(fed);
  // 1000 s in at most 8 points: 128 s a point, and at least half the cap used.
  assert.ok(fed.registry.timeline.length >= 4, `${fed.registry.timeline.length} points`);
  const lengths = fed.registry.timeline.map((p) => p.windowMs);
  assert.ok(lengths.slice(0, -1).every((ms) => Math.abs(ms - 128_000) < 50), `every point but the last is 128 s: ${lengths.join(', ')}`);
});

bounded('at every tick along the way (caps 2, 5, 16), the timeline holds every window exactly', () => {
  for (const [cap, count, seed] of [[2, 40, 1], [5, 90, 2], [16, 150, 4]] as const) {
    feed(new MetricsRegistry(0, new Map(), { timelineMaxPoints: cap }), count, seed, (fed) => {
      assert.ok(fed.registry.timeline.length <= cap, `cap ${cap}: ${fed.registry.timeline.length} points`);
      assertTimelineHolds(fed);
    });
  }
});

bounded('compaction spread over ticks (one pair per window) stays under the cap and exact', () => {
  const cap = 16;
  const timeline = new Timeline({ maxPoints: cap, pairsPerAdd: 1 });
  const registry = new MetricsRegistry(0);
  const all = new TrendSink();
  let accepted = 0;
  let messageBytes = 0;
  for (let k = 1; k <= 300; k++) {
    for (let i = 0; i < (k % 5); i++) {
      registry.noteAccepted(100 * k + i, 1000 + k);
      all.record(100 * k + i);
      accepted++;
      messageBytes += 1000 + k;
    }
    // The registry's own timeline is only the source of closed windows here.
    const window = registry.tick(k * 1000)!;
    timeline.add(window, TrendSink.decode(window.txnHistogram ?? new TrendSink().encode()));
    assert.ok(timeline.points.length <= cap, `${timeline.points.length} points after ${k} windows`);
  }
  assert.is(timeline.points.reduce((n, p) => n + p.accepted, 0), accepted);
  // Message bytes fold as counts do; bytes/s is recomputed over the folded window
  assert.is(timeline.points.reduce((n, p) => n + p.messageBytes!, 0), messageBytes);
  for (const point of timeline.points) assert.is(point.bytesPerSecond, (point.messageBytes! * 1000) / point.windowMs);
  assert.ok(timeline.points.some((p) => p.windowMs > 1000), 'nothing was folded');
  const merged = new TrendSink();
  for (const point of timeline.points) if (point.txnHistogram) merged.add(TrendSink.decode(point.txnHistogram));
  assertSameTrend(merged, all, 'all points');
  assert.is(timeline.points.at(-1)!.t, 300);
});

bounded('the default cap is 2 hours of seconds; a second is folded only beyond it', () => {
  assert.is(DEFAULT_TIMELINE_MAX_POINTS, 7200);
  const registry = new MetricsRegistry(0);
  for (let k = 1; k <= 7200; k++) registry.tick(k * 1000);
  assert.is(registry.timeline.length, 7200);
  assert.ok(registry.timeline.every((p) => p.windowMs === 1000));
  registry.tick(7201 * 1000);
  assert.ok(registry.timeline.length <= 7200);
  assert.is(registry.timeline[0]!.windowMs, 2000);
});

bounded('the final partial window folds into the last point; lastWindow is the window itself', () => {
  const registry = new MetricsRegistry(0, new Map(), { timelineMaxPoints: 2 });
  for (let k = 1; k <= 4; k++) {
    registry.noteAccepted(1000 * k);
    registry.tick(k * 1000);
  }
  registry.noteAccepted(9000);
  const last = registry.tick(4500, true)!;
  assert.equal([last.t, last.windowMs, last.accepted], [4.5, 500, 1]);
  assert.is(registry.lastWindow, last);
  assert.equal(registry.timeline.map((p) => [p.t, p.windowMs, p.accepted]), [[4, 4000, 4], [4.5, 500, 1]]);
  assert.is(registry.tick(5000, true), undefined, 'nothing happened: no final window');
});

bounded('an idle final window still ends the timeline when the VU count changed after the last tick', () => {
  const registry = new MetricsRegistry(0, new Map());
  registry.setVus(1, 5);
  registry.noteAccepted(500);
  registry.tick(1000);
  // The last VU of a ramp-down stops after the tick, without another message
  registry.setVus(0, 5);
  const last = registry.tick(1004, true)!;
  assert.ok(last, 'a final point');
  assert.equal([last.t, last.windowMs, last.accepted, last.vus, last.msgsPerSecond, last.p50Ms], [1, 4, 0, 0, 0, null]);
  assert.is(registry.timeline.at(-1)!.vus, 0);
});

bounded('merging two adjacent windows from an old file (no histograms): counts add, percentiles only when one side completed', () => {
  const point = (t: number, accepted: number, p: number | null): TimelinePoint => ({
    t, windowMs: 1000, started: accepted, accepted, failed: 0, dropped: 0, msgsPerSecond: accepted, p50Ms: p, p95Ms: p, p99Ms: p, vus: t,
  });
  assert.equal(mergeAdjacentWindows(point(1, 2, 5), point(2, 0, null)), { ...point(2, 2, 5), windowMs: 2000, msgsPerSecond: 1 });
  assert.equal(mergeAdjacentWindows(point(1, 2, 5), point(2, 3, 7)), { ...point(2, 5, null), windowMs: 2000, msgsPerSecond: 2.5 });
});

bounded.run();

const queue = suite('timeline: the arrival queue (highest length per window)');

queue('each window keeps the longest queue seen in it; a queue still waiting carries into the next window', () => {
  const registry = new MetricsRegistry(0);
  // Window 1: rises to 5, falls to 2. Window 2: nothing changes (2 still waiting). Window 3: 2 → 7 → 0. Window 4: empty.
  for (const delta of [1, 1, 1, 1, 1, -1, -1, -1]) registry.addQueuedArrivals(delta);
  registry.tick(1000);
  registry.tick(2000);
  for (const delta of [5, -3, -4]) registry.addQueuedArrivals(delta);
  registry.tick(3000);
  registry.tick(4000);
  assert.equal(registry.timeline.map((point) => point.queued), [5, 2, 7, 0]);
  assert.is(registry.queuedArrivals, 0);
});

queue('arrivals_queued is a gauge for thresholds: value now, max the longest of the run (since the warm-up)', () => {
  const registry = new MetricsRegistry(0);
  assert.is(registry.knownMetrics().get('arrivals_queued')?.type, 'gauge');
  const read = () => {
    const values = registry.values('arrivals_queued', {}, 1000)!;
    return [values.type, values.value!(), values.min!(), values.max!()];
  };
  assert.equal(read(), ['gauge', 0, 0, 0]);
  registry.addQueuedArrivals(40);
  registry.addQueuedArrivals(-30);
  assert.equal(read(), ['gauge', 10, 0, 40]);
  // A warm-up ends: the peak starts again from the queue as it is then.
  registry.endWarmup(500);
  assert.equal(read(), ['gauge', 10, 0, 10]);
  registry.addQueuedArrivals(-10);
  assert.equal(read(), ['gauge', 0, 0, 10]);
});

queue('folding windows keeps the longer queue, also in the results file and runner merge (the sum of each file\'s longest)', () => {
  const queuedPerWindow = [0, 3, 9, 4, 0, 1, 12, 2, 0];
  const registries = [new MetricsRegistry(0, new Map(), { timelineMaxPoints: 2 }), new MetricsRegistry(0)];
  queuedPerWindow.forEach((queued, k) => {
    for (const registry of registries) {
      // The queue builds up and drains within the window.
      registry.addQueuedArrivals(queued);
      registry.addQueuedArrivals(-queued);
      registry.noteStarted();
      registry.tick((k + 1) * 1000);
    }
  });
  const [folded, whole] = registries as [MetricsRegistry, MetricsRegistry];
  assert.equal(whole.timeline.map((p) => p.queued), queuedPerWindow);
  // 9 windows in at most 2 points: 8 s then 1 s; each the longest queue of its windows.
  assert.equal(folded.timeline.map((p) => [p.windowMs, p.queued]), [[8000, 12], [1000, 0]]);
  assert.is(mergeAdjacentWindows(whole.timeline[2]!, whole.timeline[3]!).queued, 9);
  // Old files have no queue: a merged window has none either unless one side has it.
  const { queued: _a, ...oldEarlier } = whole.timeline[2]!;
  const { queued: _b, ...oldLater } = whole.timeline[3]!;
  assert.is(mergeAdjacentWindows(oldEarlier, oldLater).queued, undefined);
  assert.is(mergeAdjacentWindows(oldEarlier, whole.timeline[3]!).queued, 4);

  const files = [whole, whole].map((registry, index) => {
    const summary = summaryFromSamples({ samples: [{ tSeconds: 0.5, latencyUs: 1000 }], durationSeconds: queuedPerWindow.length });
    summary.timeline = registry.timeline.map(timelineEntry);
    assert.equal(validateSummary(summary), [], 'the results file validates with its queue column');
    return parseResultsText(JSON.stringify(summary), `gen${index}.json`);
  });
  assert.equal(mergeResults(files).summary.timeline.map((p) => p.queued), queuedPerWindow.map((n) => 2 * n));
  const bad = summaryFromSamples({ samples: [{ tSeconds: 0.5, latencyUs: 1000 }], durationSeconds: 1 });
  bad.timeline[0]!.queued = -1;
  assert.ok(validateSummary(bad).some((problem) => problem.startsWith('timeline.0.queued')), validateSummary(bad).join('\n'));
});

queue.run();

const series = suite('bounded series');

series('items stay in order, cover every window once, and never exceed the cap', () => {
  interface Span { from: number; to: number; total: number }
  for (const [cap, pairsPerAdd] of [[2, 1], [3, 1], [5, 2], [8, Infinity], [9, 4]] as const) {
    const spans = new BoundedSeries<Span>({ maxItems: cap, pairsPerAdd, merge: (a, b) => ({ from: a.from, to: b.to, total: a.total + b.total }) });
    let total = 0;
    for (let k = 1; k <= 500; k++) {
      spans.add({ from: k - 1, to: k, total: k });
      total += k;
      assert.ok(spans.items.length <= cap, `cap ${cap}: ${spans.items.length} items`);
      assert.is(spans.items[0]!.from, 0);
      assert.is(spans.items.at(-1)!.to, k);
      for (let i = 1; i < spans.items.length; i++) assert.is(spans.items[i]!.from, spans.items[i - 1]!.to, `cap ${cap}: contiguous`);
      assert.is(spans.items.reduce((n, s) => n + s.total, 0), total);
    }
  }
});

series('a cap below 2 is a programming error', () => {
  assert.throws(() => new BoundedSeries<number>({ maxItems: 1, merge: (a, b) => a + b }), /maxItems/);
});

series.run();
