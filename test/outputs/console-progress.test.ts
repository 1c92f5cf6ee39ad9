/**
 * Live progress as a person sees it: redrawn in place on a terminal, plain timestamped lines in
 * CI logs (no control characters), and no colour with NO_COLOR.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConsoleProgress } from '../../runner/outputs/console.ts';
import { shouldColor } from '../../runner/util/color.ts';
import type { ScenarioProgress } from '../../runner/engine/events.ts';
import type { TimelinePoint } from '../../runner/metrics/registry.ts';
import { createTextSink } from '../helpers.ts';

const point = (t: number): TimelinePoint => ({ t, windowMs: 1000, started: 50, accepted: 48, failed: 2, dropped: 0, msgsPerSecond: 48, p50Ms: 12, p95Ms: 31.5, p99Ms: 40, vus: 10 });
const scenario = (name: string, accepted: number): ScenarioProgress => ({
  name, executor: 'constant-vus', elapsedMs: 5000, plannedMs: 60_000, plannedIterations: undefined,
  iterationsStarted: accepted + 3, activeVus: 10, allocatedVus: 10, queuedArrivals: 0, accepted, failed: 2, dropped: 0, state: 'running',
});

const progress = suite('console progress');

progress('on a terminal: one line per scenario, redrawn in place every tick', () => {
  const out = createTextSink();
  const view = new ConsoleProgress(out, { isTTY: true });
  view.onTick(point(1), [scenario('peak', 48), scenario('soak', 20)]);
  view.onTick(point(2), [scenario('peak', 96), scenario('soak', 40)]);
  const text = out.text();
  // The second draw moves the cursor up over the two lines it drew and clears them.
  assert.ok(text.includes('\u001b[2A\u001b[0J'), JSON.stringify(text));
  assert.match(text, /\[peak\] running 5s\/1m \| VUs 10\/10 \| 48\.0 msgs\/s \| p95 31\.50ms \| Success: 96 \| Failed: 2/);
  assert.match(text, /\[soak\] running/);
});

progress('in a CI log: plain lines at the interval, no control characters', () => {
  const out = createTextSink();
  const view = new ConsoleProgress(out, { isTTY: false, intervalMs: 60_000 });
  view.onTick(point(1), [scenario('peak', 48)]);
  view.onTick(point(2), [scenario('peak', 96)]); // within the interval: not printed
  const lines = out.text().trimEnd().split('\n');
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /^\[1s\] running 5s\/1m \| VUs 10\/10 \| 48\.0 msgs\/s \| p95 31\.50ms \| Success: 48 \| Failed: 2$/);
  assert.not.match(out.text(), /\u001b/);
});

progress('arrivals waiting for a free VU show as Queued: N, only while some wait', () => {
  const out = createTextSink();
  const view = new ConsoleProgress(out, { isTTY: false, intervalMs: 0 });
  view.onTick(point(1), [{ ...scenario('peak', 48), executor: 'constant-arrival-rate', queuedArrivals: 37, dropped: 2 }]);
  view.onTick(point(2), [{ ...scenario('peak', 96), executor: 'constant-arrival-rate' }]);
  const lines = out.text().trimEnd().split('\n');
  assert.match(lines[0]!, /\| Failed: 2 \| Queued: 37 \| Dropped: 2$/);
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
  assert.is(lines.length, 5);
  assert.match(lines[0]!, /^\[1s\] running .* \| Failed: 2 \| Delivered: 30 \(30\.0\/s\) \| Backlog: 18$/);
  assert.match(lines[1]!, /\| Delivered: 70 \(40\.0\/s\) \| Backlog: 26$/, 'delivered so far adds the windows up');
  assert.match(lines[4]!, /^\[3s\] \[delivery\] Delivered: 20 \(40\.0\/s\) \| Backlog: 5$/);
  assert.not.match(lines[2]!, /Delivered/);
});

progress('warnings clear the drawn lines first, then stay on screen', () => {
  const out = createTextSink();
  const view = new ConsoleProgress(out, { isTTY: true });
  view.onTick(point(1), [scenario('peak', 48)]);
  view.onWarning('scenario peak: no free VU');
  assert.match(out.text(), /\u001b\[1A\u001b\[0Jwarning: scenario peak: no free VU\n$/);
});

progress('colour only on a terminal and without NO_COLOR', () => {
  assert.is(shouldColor({ isTTY: true }, {}), true);
  assert.is(shouldColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.is(shouldColor({ isTTY: true }, { NO_COLOR: '' }), false);
  assert.is(shouldColor({ isTTY: false }, {}), false);
});

progress.run();
