/**
 * `runner compare` as data: a run against itself changes nothing; 20 ms against 5 ms is a
 * significant latency change in the right direction; throughput is tested over windows when there
 * are enough; the old tool's files compare on what they have; the regression gate; the table.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareRuns, findRegressions, formatComparison, formatRegressions, type Comparison } from '../../runner/analysis/compare.ts';
import { parseResultsText } from '../../runner/results/read.ts';
import { createRandom } from '../../runner/analysis/stats.ts';
import { GUIDE_LEGACY_FILE, loadSynthetic, steadySamples, type TimedSample } from './summaries.ts';
import { TrendSink } from '../../runner/metrics/trend.ts';
import { deliveryFigures } from '../../runner/results/summarise.ts';

const row = (comparison: Comparison, key: string) => {
  const found = comparison.rows.find((r) => r.key === key);
  if (!found) throw new Error(`no row ${key} in ${comparison.rows.map((r) => r.key).join(', ')}`);
  return found;
};

const slowRun = () => loadSynthetic({ samples: steadySamples({ seconds: 6, perSecond: 40, medianMs: 20, seed: 1 }) }, 'slow.json');
const fastRun = () => loadSynthetic({ samples: steadySamples({ seconds: 6, perSecond: 40, medianMs: 5, seed: 2 }) }, 'fast.json');

const self = suite('compare: a run against itself');

self('every tested figure: no significant change; ratio 1, p95 0%', () => {
  const run = slowRun();
  const comparison = compareRuns(run, run);
  for (const r of comparison.rows) {
    assert.ok(r.verdict === 'no significant change' || r.verdict === 'not tested', `${r.key}: ${r.verdict}`);
    if (r.test) assert.ok(r.test.pValue > 0.2, `${r.key}: p ${r.test.pValue}`);
    assert.is(r.change, 0, r.key);
  }
  assert.is(comparison.headline, '1.00× throughput, p95 0%');
  assert.is(row(comparison, 'latency.min').verdict, 'not tested');
});

self('two samples of one system: no significant change in latency', () => {
  const a = loadSynthetic({ samples: steadySamples({ seconds: 6, perSecond: 40, medianMs: 20, seed: 3 }) }, 'a.json');
  const b = loadSynthetic({ samples: steadySamples({ seconds: 6, perSecond: 40, medianMs: 20, seed: 4 }) }, 'b.json');
  const comparison = compareRuns(a, b);
  for (const key of ['latency.p50', 'latency.p95', 'latency.avg', 'throughput_rps']) {
    assert.is(row(comparison, key).verdict, 'no significant change', key);
  }
});

self.run();

const latency = suite('compare: latency changes');

latency('20 ms before, 5 ms after: latency improved and significant on every percentile and phase', () => {
  const comparison = compareRuns(slowRun(), fastRun());
  for (const key of ['latency.avg', 'latency.p50', 'latency.p95', 'latency.p99', 'phase.message.p50', 'phase.message.p95']) {
    const r = row(comparison, key);
    assert.is(r.verdict, 'improved', key);
    assert.is(r.significant, true, key);
    assert.ok(r.test!.pValue < 0.001, `${key}: p ${r.test!.pValue}`);
  }
  const p50 = row(comparison, 'latency.p50');
  assert.ok(Math.abs(p50.relativeChange! + 0.75) < 0.05, `p50 ${p50.relativeChange}`);
  assert.ok(p50.test!.ciLow! < p50.change! && p50.change! < p50.test!.ciHigh!, 'the interval holds the observed change');
  assert.match(comparison.headline, /^1\.00× throughput, p95 −7\d%$/);
  // connect took 100 µs in both runs: unchanged.
  assert.is(row(comparison, 'phase.connect.p50').verdict, 'no significant change');
});

latency('5 ms before, 20 ms after: regressed; the same files always give the same numbers', () => {
  const comparison = compareRuns(fastRun(), slowRun());
  assert.is(row(comparison, 'latency.p95').verdict, 'regressed');
  assert.ok(row(comparison, 'latency.p95').relativeChange! > 2);
  assert.equal(compareRuns(fastRun(), slowRun()), comparison);
});

latency('open-model runs also compare response time (from the intended start); closed ones do not repeat it', () => {
  const open = (medianMs: number, seed: number, file: string) =>
    loadSynthetic({ samples: steadySamples({ seconds: 6, perSecond: 40, medianMs, seed }), executor: 'constant-arrival-rate' }, file);
  const comparison = compareRuns(open(20, 1, 'a.json'), open(5, 2, 'b.json'));
  assert.equal(comparison.rows.filter((r) => r.key.startsWith('response_time.')).map((r) => [r.key, r.verdict]), [
    ['response_time.p50', 'improved'], ['response_time.p95', 'improved'], ['response_time.p99', 'improved'],
  ]);
  assert.not.ok(compareRuns(slowRun(), fastRun()).rows.some((r) => r.key.startsWith('response_time.')));
});

latency.run();

const throughput = suite('compare: throughput over windows');

throughput('100/s against 150/s over 10 windows: 1.5× and significant; too few windows: not tested, with the reason', () => {
  const random = createRandom(5);
  const jittered = (perSecond: number): TimedSample[] => {
    const samples: TimedSample[] = [];
    for (let second = 0; second < 10; second++) {
      const count = perSecond + Math.round((random() - 0.5) * 10);
      for (let i = 0; i < count; i++) samples.push({ tSeconds: second + (i + 0.5) / count, latencyUs: 10_000 });
    }
    return samples;
  };
  const before = loadSynthetic({ samples: jittered(100) }, 'before.json');
  const after = loadSynthetic({ samples: jittered(150) }, 'after.json');
  const comparison = compareRuns(before, after);
  const rps = row(comparison, 'throughput_rps');
  assert.is(rps.verdict, 'improved');
  assert.ok(rps.test!.pValue < 0.001, `p ${rps.test!.pValue}`);
  assert.ok(Math.abs(rps.ratio! - 1.5) < 0.05, `ratio ${rps.ratio}`);
  assert.is(row(comparison, 'throughput_rpm').verdict, 'improved');
  assert.is(row(comparison, 'successful_rps').verdict, 'improved');
  assert.match(comparison.headline, /^1\.\d\d× throughput, p95 0%$/);

  const short = loadSynthetic({ samples: steadySamples({ seconds: 3, perSecond: 40, medianMs: 5, seed: 6 }) }, 'short.json');
  const untested = compareRuns(before, short);
  assert.is(row(untested, 'throughput_rps').verdict, 'not tested');
  assert.match(row(untested, 'throughput_rps').note!, 'short.json has 3 one-second windows, 4 per run are needed');
  assert.ok(untested.notes.some((n) => n.startsWith('throughput not tested for significance')));
});

throughput('success rate: 99% against 90% is a significant drop, shown in points', () => {
  const before = loadSynthetic({ samples: steadySamples({ seconds: 5, perSecond: 100, medianMs: 5, seed: 7, failureRate: 0.01 }) }, 'a.json');
  const after = loadSynthetic({ samples: steadySamples({ seconds: 5, perSecond: 100, medianMs: 5, seed: 8, failureRate: 0.1 }) }, 'b.json');
  const comparison = compareRuns(before, after);
  const success = row(comparison, 'success_rate');
  assert.is(success.verdict, 'regressed');
  assert.ok(success.change! < -0.05);
  assert.match(formatComparison(comparison), /success rate +9\d\.\d\d% +[89]\d\.\d\d% +−\d\.\d\d pt +<0\.001 +regressed/);
  assert.match(comparison.headline, /success rate −\d\.\d\d pt/);
});

throughput.run();

const legacy = suite('compare: the old tool\'s files');

legacy('old tool before, runner after: every figure compared, nothing tested that needs histograms or windows', () => {
  const before = parseResultsText(GUIDE_LEGACY_FILE, 'results_before.json');
  const after = loadSynthetic({ samples: steadySamples({ seconds: 2, perSecond: 50, medianMs: 200, seed: 9 }), target: '127.0.0.1:2525' }, 'results_after.json');
  const comparison = compareRuns(before, after);
  const rps = row(comparison, 'throughput_rps');
  assert.ok(Math.abs(rps.ratio! - 50 / 19.4) < 0.01, `ratio ${rps.ratio}`);
  assert.is(rps.verdict, 'not tested');
  const p95 = row(comparison, 'latency.p95');
  assert.is(p95.verdict, 'not tested');
  assert.ok(p95.relativeChange! < -0.5);
  assert.match(p95.note!, "results_before.json is the old tool's results file (no histograms)");
  assert.is(row(comparison, 'success_rate').verdict, 'no significant change');
  assert.ok(comparison.notes.some((n) => n.includes('no phases')));
  assert.ok(!comparison.rows.some((r) => r.key.startsWith('phase.')));
  assert.match(comparison.headline, /^2\.58× throughput, p95 −\d\d%$/);
  assert.match(comparison.before.description, 'old tool');
});

legacy('the runs differ in load: said in a note', () => {
  const before = parseResultsText(GUIDE_LEGACY_FILE, 'a.json');
  const after = parseResultsText(GUIDE_LEGACY_FILE.replace('"concurrent": 10', '"concurrent": 50'), 'b.json');
  assert.ok(compareRuns(before, after).notes.some((n) => n === 'the runs differ in concurrent: 10 vs 50 (not the same load)'));
});

legacy.run();

const delivery = suite('compare: delivery figures');

/**
 * A synthetic run of 8 s at 100 accepted/s whose delivery is known: `deliveredPerSecond` arrive
 * each second, `lost` of the 800 are lost, and every lag is drawn log-normal around `lagMedianMs`.
 */
function deliveryRun(file: string, deliveredPerSecond: number, lost: number, lagMedianMs: number, seed: number) {
  const run = loadSynthetic({ samples: steadySamples({ seconds: 8, perSecond: 100, medianMs: 10, seed }), durationSeconds: 8 }, file);
  const random = createRandom(seed + 100);
  const lag = new TrendSink();
  const e2e = new TrendSink();
  const delivered = deliveredPerSecond * 8;
  for (let i = 0; i < delivered; i++) {
    const us = Math.round(lagMedianMs * 1000 * Math.exp(0.3 * (random() + random() + random() - 1.5)));
    lag.record(us);
    e2e.record(us + 10_000);
  }
  const figures = deliveryFigures({ counts: { delivered, lost, lost_refused: lost, lost_timeout: 0, pending: 0, duplicated: 0, unexpected: 0 }, lag, e2e }, 8);
  run.summary!.delivery = { source: 'sink', timeout_seconds: 60, wait: 'complete', wait_seconds: 1, ...figures, late: 0, unknown: 0 };
  for (const point of run.summary!.timeline) point.delivered = Math.round((deliveredPerSecond * point.window_ms) / 1000);
  return run;
}

delivery('delivered 100/s → 60/s, lost 1% → 10%, lag 50 ms → 500 ms: each row regressed and significant; the gate catches delivered/s and lag p95', () => {
  const before = deliveryRun('before.json', 100, 8, 50, 1);
  const after = deliveryRun('after.json', 60, 80, 500, 2);
  const comparison = compareRuns(before, after);
  const rate = row(comparison, 'delivered_rps');
  assert.equal([rate.before, rate.after, rate.verdict, rate.test!.method], [100, 60, 'regressed', 'mann-whitney (windows)']);
  assert.ok(Math.abs(rate.ratio! - 0.6) < 1e-9);
  const lost = row(comparison, 'lost_rate');
  assert.equal([lost.before, lost.after, lost.verdict, lost.test!.method], [8 / 808, 80 / 560, 'regressed', 'two-proportion z']);
  for (const key of ['delivery_lag.p50', 'delivery_lag.p95', 'delivery_lag.p99']) {
    const r = row(comparison, key);
    assert.equal([r.verdict, r.test!.method], ['regressed', 'bootstrap (histograms)'], key);
    assert.ok(r.relativeChange! > 5, `${key}: ${r.relativeChange}`);
  }
  // The accept figures did not move: only delivery tells the story
  assert.is(row(comparison, 'successful_rps').verdict, 'no significant change');
  const regressions = findRegressions(comparison, 0.1).map((r) => r.key);
  assert.equal(regressions, ['delivered_rps', 'delivery_lag.p95']);
  assert.match(comparison.headline, /^1\.00× throughput, 0\.60× delivered, p95 /);
  const text = formatComparison(comparison);
  assert.match(text, /delivered msgs\/s +100\.0\/s +60\.0\/s +0\.60× \(−40(\.0)?%\)/);
  assert.match(text, /lost +0\.99% +14\.29% +\+13\.30 pt/, text);
  assert.match(text, /delivery lag p95/);
});

delivery('a run against itself: no change; delivery in one run only: a note, no rows', () => {
  const run = deliveryRun('same.json', 80, 4, 100, 3);
  const self = compareRuns(run, run);
  for (const key of ['delivered_rps', 'lost_rate', 'delivery_lag.p95']) assert.is(row(self, key).verdict, 'no significant change', key);
  const plain = loadSynthetic({ samples: steadySamples({ seconds: 8, perSecond: 100, medianMs: 10, seed: 9 }), durationSeconds: 8 }, 'plain.json');
  const mixed = compareRuns(plain, run);
  assert.not.ok(mixed.rows.some((r) => r.key.startsWith('deliver') || r.key === 'lost_rate'));
  assert.ok(mixed.notes.includes('delivery tracked only in same.json: not compared'), mixed.notes.join('\n'));
});

delivery.run();

const gate = suite('compare: --fail-on-regression');

gate('p95 up 300% is a regression beyond 10%; an improvement is not; untested rows are judged on size', () => {
  const worse = compareRuns(fastRun(), slowRun());
  const regressions = findRegressions(worse, 0.1);
  assert.equal(regressions.map((r) => r.key), ['latency.p95']);
  assert.is(regressions[0]!.isTested, true);
  assert.match(formatRegressions(regressions, 0.1), /^regression: latency p95 \+\d+% \(significant; limit \+10%\)$/);
  assert.equal(findRegressions(compareRuns(slowRun(), fastRun()), 0.1), []);
  assert.equal(findRegressions(worse, 5), [], 'a limit of 500% is not crossed');
  assert.is(formatRegressions([], 0.1), 'no regression beyond 10%');

  const old = parseResultsText(GUIDE_LEGACY_FILE, 'old.json');
  const halved = parseResultsText(GUIDE_LEGACY_FILE.replace('"throughput_rps": 19.4', '"throughput_rps": 9.7'), 'new.json');
  const untested = findRegressions(compareRuns(old, halved), 0.1);
  assert.equal(untested.map((r) => [r.key, r.isTested]), [['throughput_rps', false], ['successful_rps', false]]);
});

gate.run();

const table = suite('compare: the table');

table('one row per figure, aligned; colour only when asked', () => {
  const comparison = compareRuns(slowRun(), fastRun());
  const text = formatComparison(comparison);
  assert.not.match(text, '\u001b[');
  const lines = text.split('\n');
  assert.match(lines[0]!, /^Before: slow\.json \(2025-01-01 00:00:00, 127\.0\.0\.1:2525, 240 requests, 6\.0 s\)$/);
  assert.match(text, /\n1\.00× throughput, p95 −7\d%\n/);
  const header = lines.find((l) => l.trimStart().startsWith('before'))!;
  // Right-aligned columns: every value ends where its header ends.
  const beforeEnd = header.indexOf('before') + 'before'.length;
  const afterEnd = header.indexOf('after') + 'after'.length;
  for (const label of ['throughput', 'accepted msgs/s', 'success rate', 'latency min', 'latency avg', 'latency p50', 'latency p95', 'latency p99', 'latency max', 'message p50', 'message p95']) {
    const line = lines.find((l) => l.startsWith(label + ' '));
    assert.ok(line, `row ${label}`);
    for (const end of [beforeEnd, afterEnd]) assert.ok(line![end - 1] !== ' ' && line![end] === ' ', `${label} aligned at ${end}: ${line}`);
  }
  assert.match(text, /latency p95 +\d+\.\d\dms +\d\.\d\dms +−\d+\.\d\dms \(−7\d%\) +<0\.001 +improved/);
  assert.match(text, 'Mann-Whitney U over one-second windows');
  const colored = formatComparison(comparison, { color: true });
  assert.match(colored, '\u001b[32m');
});

table.run();
