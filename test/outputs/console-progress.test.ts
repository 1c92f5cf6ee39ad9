/**
 * Live progress as a person sees it: redrawn in place on a terminal (a totals line and one line
 * per scenario with a bar, its own rates and p95, every line cut to the width, one line at ≤ 60
 * columns), plain timestamped lines in CI logs (no control characters), and no colour with NO_COLOR.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConsoleProgress, fitLine, formatBar, formatLiveLines } from '../../runner/outputs/console.ts';
import { LiveFigures, type LiveFrame } from '../../runner/outputs/live-figures.ts';
import { shouldColor } from '../../runner/util/color.ts';
import type { ScenarioProgress } from '../../runner/engine/events.ts';
import { MetricsRegistry, type TimelinePoint } from '../../runner/metrics/registry.ts';
import { rateAt } from '../../runner/executors/schedule.ts';
import { createTextSink } from '../helpers.ts';

const point = (t: number): TimelinePoint => ({ t, windowMs: 1000, started: 50, accepted: 48, failed: 2, dropped: 0, msgsPerSecond: 48, p50Ms: 12, p95Ms: 31.5, p99Ms: 40, vus: 10 });
const scenario = (name: string, accepted: number, more: Partial<ScenarioProgress> = {}): ScenarioProgress => ({
  name, executor: 'constant-vus', elapsedMs: 5000, plannedMs: 60_000, plannedIterations: undefined,
  iterationsStarted: accepted + 3, activeVus: 10, allocatedVus: 10, queuedArrivals: 0, accepted, failed: 2, dropped: 0, state: 'running', ...more,
});
const ttySink = (columns: number) => {
  const sink = createTextSink() as unknown as import('node:stream').Writable & { text(): string; isTTY: boolean; columns: number };
  sink.isTTY = true;
  sink.columns = columns;
  return sink;
};

const progress = suite('console progress');

progress('on a terminal: a totals line and one line per scenario, redrawn in place every tick', () => {
  const out = ttySink(200);
  const view = new ConsoleProgress(out);
  view.onTick(point(1), [scenario('peak', 48), scenario('soak', 20)]);
  view.onTick(point(2), [scenario('peak', 96), scenario('soak', 40)]);
  const text = out.text();
  // The second draw moves the cursor up over the three lines it drew and clears them.
  assert.ok(text.includes('\u001b[3A\u001b[0J'), JSON.stringify(text));
  // Each scenario's own msgs/s: 48 more accepted in the 1 s window for peak, 20 for soak (not the run's 48)
  assert.match(text, /peak  \[==>-{27}\] 8% 5s\/1m  VUs 10 busy\/10 allocated  48\.0 msgs\/s  p95 -  Success: 96  Failed: 2/);
  assert.match(text, /soak  \[==>-{27}\] 8% 5s\/1m  VUs 10 busy\/10 allocated  20\.0 msgs\/s/);
  assert.match(text, /running 2s\/1m  VUs 20 busy\/20 allocated  48\.0 msgs\/s  p95 31\.50ms  Success: 136  Failed: 4/);
});

progress('in a CI log: plain lines at the interval, no control characters', () => {
  const out = createTextSink();
  const view = new ConsoleProgress(out, { isTTY: false, intervalMs: 60_000 });
  view.onTick(point(1), [scenario('peak', 48)]);
  view.onTick(point(2), [scenario('peak', 96)]); // within the interval: not printed
  const lines = out.text().trimEnd().split('\n');
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /^\[1s\] running 5s\/1m \(8%\) \| VUs 10 busy\/10 allocated \| 48\.0 msgs\/s \| p95 - \| Success: 48 \| Failed: 2$/);
  assert.not.match(out.text(), /\u001b/);
});

progress('arrivals waiting for a free VU show as Queued: N, only while some wait; planned beside achieved rate', () => {
  const out = createTextSink();
  const view = new ConsoleProgress(out, { isTTY: false, intervalMs: 0 });
  view.onStart({ scenarios: [{ name: 'peak', executor: 'constant-arrival-rate', rate: 20, timeUnitMs: 1000, durationMs: 60_000, startTimeMs: 0 }] } as never);
  view.onTick(point(1), [scenario('peak', 48, { executor: 'constant-arrival-rate', queuedArrivals: 37, dropped: 2 })]);
  view.onTick(point(2), [scenario('peak', 66, { executor: 'constant-arrival-rate' })]);
  const lines = out.text().trimEnd().split('\n');
  assert.match(lines[0]!, /\| Failed: 2 \| Queued: 37 \| Dropped: 2$/);
  assert.match(lines[1]!, /\| 18\.0 msgs\/s \| rate 18\.0\/s of 20\.0\/s planned \|/);
  assert.not.match(lines[1]!, /Queued/);
});

progress('with delivery tracking: delivered so far, this second\'s rate and the backlog; a line of its own beside several scenarios', () => {
  const out = createTextSink();
  const view = new ConsoleProgress(out, { isTTY: false, intervalMs: 0 });
  view.onTick({ ...point(1), delivered: 30, backlog: 18 }, [scenario('peak', 48)]);
  view.onTick({ ...point(2), delivered: 40, backlog: 26 }, [scenario('peak', 96)]);
  const several = new ConsoleProgress(out, { isTTY: false, intervalMs: 0 });
  several.onTick({ ...point(3), windowMs: 500, delivered: 20, backlog: 5 }, [scenario('peak', 120), scenario('soak', 20)]);
  const lines = out.text().trimEnd().split('\n');
  // 1 line a tick for one scenario; for two: their lines, the [total] line and the [delivery] line
  assert.is(lines.length, 6);
  assert.match(lines[0]!, /^\[1s\] running .* \| Failed: 2 \| Delivered: 30 \(30\.0\/s\) \| Backlog: 18$/);
  assert.match(lines[1]!, /\| Delivered: 70 \(40\.0\/s\) \| Backlog: 26$/, 'delivered so far adds the windows up');
  assert.match(lines[5]!, /^\[3s\] \[delivery\] Delivered: 20 \(40\.0\/s\) \| Backlog: 5$/);
  for (const line of lines.slice(2, 5)) assert.not.match(line, /Delivered/);
});

progress('warnings clear the drawn lines first, then stay on screen', () => {
  const out = ttySink(200);
  const view = new ConsoleProgress(out);
  view.onTick(point(1), [scenario('peak', 48)]);
  view.onWarning('scenario peak: no free VU');
  assert.match(out.text(), /\u001b\[2A\u001b\[0Jwarning: scenario peak: no free VU\n$/);
});

progress('the first Ctrl+C erases the view and the totals line says a second one quits', () => {
  const out = ttySink(200);
  const view = new ConsoleProgress(out);
  view.onTick(point(1), [scenario('peak', 48)]);
  view.noteStopping();
  assert.ok(out.text().endsWith('\u001b[2A\u001b[0J'));
  view.onTick(point(2), [scenario('peak', 60, { state: 'draining' })]);
  assert.match(out.text(), /stopping: waiting for running messages \(gracefulStop\); Ctrl\+C again quits at once/);
  assert.match(out.text(), /peak .* draining/);
});

progress('rows are counted at the current width: a terminal narrowed since the last draw erases every wrapped row', () => {
  const out = ttySink(160);
  const view = new ConsoleProgress(out);
  view.onTick(point(1), [scenario('peak', 48)]);
  const drawn = out.text().trimEnd().split('\n');
  out.columns = 50;
  view.clear();
  const rows = drawn.reduce((total, line) => total + Math.ceil([...line].length / 50), 0);
  assert.ok(rows > drawn.length);
  assert.ok(out.text().endsWith(`\u001b[${rows}A\u001b[0J`), JSON.stringify(out.text().slice(-20)));
});

progress('colour only on a terminal and without NO_COLOR', () => {
  assert.is(shouldColor({ isTTY: true }, {}), true);
  assert.is(shouldColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.is(shouldColor({ isTTY: true }, { NO_COLOR: '' }), false);
  assert.is(shouldColor({ isTTY: false }, {}), false);
});

progress.run();

const widths = suite('live view: every width');

const frame = (): LiveFrame => {
  const figures = new LiveFigures(new Map([['steady', { startTimeMs: 0, plannedRateAt: () => 20 }], ['burst-with-a-long-name', { startTimeMs: 0 }]]));
  figures.frame(point(1), [scenario('steady', 0, { iterationsStarted: 0 }), scenario('burst-with-a-long-name', 0, { iterationsStarted: 0 })], undefined);
  return figures.frame(point(2), [scenario('steady', 20, { iterationsStarted: 20, executor: 'constant-arrival-rate' }), scenario('burst-with-a-long-name', 900, { iterationsStarted: 903 })], undefined);
};

for (const columns of [20, 50, 60, 61, 80, 120, 160, 300]) {
  widths(`${columns} columns: no line reaches the last column; ${columns <= 60 ? 'one line' : 'totals + one line per scenario'}`, () => {
    const lines = formatLiveLines(frame(), { columns });
    assert.is(lines.length, columns <= 60 ? 1 : 3);
    for (const line of lines) assert.ok([...line].length <= columns - 1, `${[...line].length} > ${columns - 1}: ${line}`);
  });
}

widths('each scenario its own rate: steady 20 msgs/s of 20 planned, the other 900', () => {
  const lines = formatLiveLines(frame(), { columns: 300 });
  assert.match(lines[1]!, /^steady {17}\[==>-{27}\] 8% 5s\/1m  VUs 10 busy\/10 allocated  20\.0 msgs\/s  rate 20\.0\/s of 20\.0\/s planned/);
  assert.match(lines[2]!, /^burst-with-a-long-name \[.*900\.0 msgs\/s  p95/);
  assert.not.match(lines[2]!, /planned/);
  // 80 columns: short labels, the long name cut, the figures kept
  const compact = formatLiveLines(frame(), { columns: 80 });
  assert.match(compact[0]!, /^running 2s\/1m VUs busy\/alloc 20\/20 48\.0 msg\/s ok 920 err 4 p95 31\.50ms$/);
  assert.match(compact[1]!, /^steady     \[>-{9}\] 8% 5s\/1m VUs 10\/10 20\.0 msg\/s ok 20 err 2 plan 20\.0\/s/);
  assert.match(compact[2]!, /^burst-wit… \[>-{9}\] 8% 5s\/1m VUs 10\/10 900\.0 msg\/s ok 900 err 2 p95 -$/);
});

widths('bars and cutting', () => {
  assert.is(formatBar(0, 10), '[----------]');
  assert.is(formatBar(0.5, 10), '[====>-----]');
  assert.is(formatBar(1, 10), '[==========]');
  assert.is(fitLine('abcdef', 5), 'abc…');
  assert.is(fitLine('abcd', 5), 'abcd');
});

widths.run();

const own = suite('live figures: each scenario its own p95');

own('the p95 of the last window from the scenario\'s own histograms, not the run\'s', () => {
  const registry = new MetricsRegistry(0);
  const slow = registry.seriesFor('slow', 'a@x');
  const fast = registry.seriesFor('fast', 'a@x');
  const figures = new LiveFigures();
  for (let i = 0; i < 100; i++) { slow.txnDuration.record(900_000); fast.txnDuration.record(2_000); }
  figures.frame(point(1), [scenario('slow', 100), scenario('fast', 100)], registry);
  // Second window: slow got faster (100 ms), fast unchanged
  for (let i = 0; i < 100; i++) { slow.txnDuration.record(100_000); fast.txnDuration.record(2_000); }
  const next = figures.frame(point(2), [scenario('slow', 200), scenario('fast', 200)], registry);
  assert.ok(Math.abs(next.scenarios[0]!.p95Ms! - 100) < 0.2, String(next.scenarios[0]!.p95Ms));
  assert.ok(Math.abs(next.scenarios[1]!.p95Ms! - 2) < 0.01, String(next.scenarios[1]!.p95Ms));
  assert.is(next.scenarios[0]!.msgsPerSecond, 100);
});

own('planned rate of a ramp: linear between the stage targets, 0 after the last', () => {
  const stages = [{ durationMs: 10_000, target: 100 }, { durationMs: 10_000, target: 100 }];
  assert.is(rateAt(0, stages, 0), 0);
  assert.is(rateAt(0, stages, 5_000), 50);
  assert.is(rateAt(0, stages, 15_000), 100);
  assert.is(rateAt(0, stages, 20_000), 0);
});

own.run();
