/**
 * A constant-arrival-rate schedule whose rate changes while it runs (runner scale --rate): one
 * schedule whose integral goes on at the new rate, so nothing bunches up and nothing is lost; on
 * the fake virtual clock, every instant is exact.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SteerableArrivals, constantArrivalTimesMs } from '../../runner/executors/schedule.ts';
import { runOnFake, scenarioFor } from './fake-context.ts';
import { parseRatePerSecond } from '../../runner/util/rate.ts';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);

/** Pulls instants while they are at or before `untilMs`; returns them and the one pulled ahead (or undefined). */
function pullUntil(arrivals: SteerableArrivals, untilMs: number): { taken: number[]; ahead: number | undefined } {
  const taken: number[] = [];
  for (;;) {
    const next = arrivals.next();
    if (next.done) return { taken, ahead: undefined };
    if (next.value > untilMs) return { taken, ahead: next.value };
    taken.push(next.value);
  }
}

function rest(arrivals: SteerableArrivals): number[] {
  const out: number[] = [];
  for (let next = arrivals.next(); !next.done; next = arrivals.next()) out.push(next.value);
  return out;
}

const steerable = suite('SteerableArrivals: a rate change continues one schedule');

steerable('unchanged, it is exactly the planned constant schedule', () => {
  assert.equal(rest(new SteerableArrivals(6000, 60_000, 5000)), [...constantArrivalTimesMs(6000, 60_000, 5000)]);
  assert.equal(rest(new SteerableArrivals(3, 1000, 2000)), [...constantArrivalTimesMs(3, 1000, 2000)]);
});

const CASES: Array<{ name: string; rate: number; at: number; to: number; next: number[]; total: number }> = [
  // 10/s: 0, 100, …, 400 taken, 500 pulled ahead; at 450 the integral is 4.5: the half interval left is 25 ms at 20/s
  { name: 'up: 10/s → 20/s at 450 ms', rate: 10, at: 450, to: 20, next: [475, 525, 575], total: 5 + 31 },
  // down: the half interval left is 250 ms at 2/s
  { name: 'down: 10/s → 2/s at 450 ms', rate: 10, at: 450, to: 2, next: [700, 1200, 1700], total: 5 + 3 },
  // on an arrival's instant: that one stands (it is due), the next is a whole interval at the new rate later
  { name: 'at an arrival instant: 10/s → 4/s at 400 ms', rate: 10, at: 400, to: 4, next: [650, 900, 1150], total: 5 + 6 },
];
for (const c of CASES) {
  steerable(c.name, () => {
    const arrivals = new SteerableArrivals(c.rate, 1000, 2000);
    const { taken, ahead } = pullUntil(arrivals, c.at);
    const isMoved = arrivals.setRate(c.to, c.at);
    assert.is(isMoved, ahead !== undefined && ahead > c.at);
    const after = rest(arrivals);
    after.slice(0, c.next.length).forEach((t, i) => close(t, c.next[i]!, `arrival ${i} after the change`));
    assert.is(taken.length + after.length, c.total);
    // Evenly spaced at the new rate from the first one on, all before the end
    for (let i = 1; i < after.length; i++) close(after[i]! - after[i - 1]!, 1000 / c.to, `gap ${i}`);
    assert.ok(after.every((t) => t > c.at && t < 2000));
  });
}

steerable('two changes: the integral goes on through both', () => {
  const arrivals = new SteerableArrivals(10, 1000, 1000);
  pullUntil(arrivals, 250); // 0, 100, 200 taken; 300 ahead
  assert.ok(arrivals.setRate(40, 250)); // integral 2.5 at 250: next at 250 + 0.5 × 25 = 262.5
  const { taken } = pullUntil(arrivals, 300); // 262.5, 287.5
  taken.forEach((t, i) => close(t, [262.5, 287.5][i]!, `between the changes ${i}`));
  arrivals.setRate(10, 300); // integral 2.5 + 50 × 0.04 = 4.5: next at 300 + 0.5 × 100 = 350
  const after = rest(arrivals);
  close(after[0]!, 312.5 + 37.5, 'after the second change'); // 350 (312.5 was pulled ahead, then taken back)
  // The integral at the end: 4.5 + 700 × 0.01 = 11.5, so arrivals 0..11
  assert.is(3 + 2 + after.length, 12);
});

steerable('a rate as written: per second, per unit, refused when not > 0', () => {
  close(parseRatePerSecond('200/m'), 200 / 60, '200/m');
  assert.is(parseRatePerSecond('5/s'), 5);
  assert.is(parseRatePerSecond('20'), 20);
  assert.is(parseRatePerSecond(2.5), 2.5);
  assert.is(parseRatePerSecond('10/2s'), 5);
  assert.is(parseRatePerSecond('900/m'), 15);
  assert.throws(() => parseRatePerSecond('-5'), /must be > 0/);
  assert.throws(() => parseRatePerSecond('0'), /must be > 0/);
  assert.throws(() => parseRatePerSecond('-5/s'), /negative/);
  assert.throws(() => parseRatePerSecond('fast'), /'fast' is not a rate: give iterations per second \(20\) or per unit/);
});

const executor = suite('constant-arrival-rate: its rate changed while it runs');

executor('10/s → 20/s at 450 ms: started on the new schedule, none dropped, the change is no burst', async () => {
  const scenario = scenarioFor('constant-arrival-rate', { rate: 10, timeUnitMs: 1000, durationMs: 2000, preAllocatedVUs: 2, maxVUs: 4 });
  const { ctx } = await runOnFake(scenario, { serviceMs: 10, actions: [{ atMs: 450, run: (c) => assert.ok(c.rateControl!.setRate(20)) }] });
  const instants = ctx.started.map((s) => s.intendedStartMs!);
  assert.equal(instants.slice(0, 7).map((t) => Math.round(t * 1000) / 1000), [0, 100, 200, 300, 400, 475, 525]);
  assert.is(ctx.started.length, 36);
  assert.is(ctx.dropped, 0);
  assert.is(ctx.planned.reduce((sum, [, n]) => sum + n, 0), 36);
  // Each started at its planned instant: no wait for a late timer, no catch-up burst
  for (const s of ctx.started) close(s.atMs, s.intendedStartMs!, 'start');
  assert.is(ctx.rateControl!.ratePerSecond, 10, 'the rate at the start as registered');
});

executor('10/s → 1/s at 450 ms: the pending wait ends, the next arrival waits the rest of its interval at the new rate', async () => {
  const scenario = scenarioFor('constant-arrival-rate', { rate: 10, timeUnitMs: 1000, durationMs: 3000, preAllocatedVUs: 1, maxVUs: 1 });
  const { ctx } = await runOnFake(scenario, { serviceMs: 10, actions: [{ atMs: 450, run: (c) => c.rateControl!.setRate(1) }] });
  assert.equal(ctx.started.map((s) => s.atMs), [0, 100, 200, 300, 400, 950, 1950, 2950]);
});

executor('timeUnit 1m: the rate set per second is converted to the scenario\'s unit', async () => {
  const scenario = scenarioFor('constant-arrival-rate', { rate: 60, timeUnitMs: 60_000, durationMs: 3000, preAllocatedVUs: 1, maxVUs: 2 });
  const { ctx } = await runOnFake(scenario, { serviceMs: 10, actions: [{ atMs: 1000, run: (c) => c.rateControl!.setRate(4) }] });
  // 1/s: 0 started, 1000 ahead (the instant of the change: it stands), then every 250 ms
  assert.equal(ctx.started.map((s) => s.atMs), [0, 1000, 1250, 1500, 1750, 2000, 2250, 2500, 2750]);
});

executor('bounded by maxVUs as usual: what finds no VU within maxQueueWait is dropped and counted', async () => {
  const scenario = scenarioFor('constant-arrival-rate', { rate: 10, timeUnitMs: 1000, durationMs: 1000, preAllocatedVUs: 1, maxVUs: 1, maxQueueWaitMs: 0 });
  const { ctx } = await runOnFake(scenario, { serviceMs: 90, actions: [{ atMs: 450, run: (c) => c.rateControl!.setRate(100) }] });
  // 5 before the change; 55 planned after it (integral 4.5 → 59.5: arrivals 5..59), each VU busy 90 ms
  assert.is(ctx.planned.reduce((sum, [, n]) => sum + n, 0), 60);
  assert.is(ctx.started.length + ctx.dropped, 60);
  assert.ok(ctx.dropped > 40, `dropped ${ctx.dropped}`);
});

executor('after its schedule, a change is refused (nothing changed)', async () => {
  const scenario = scenarioFor('constant-arrival-rate', { rate: 10, timeUnitMs: 1000, durationMs: 500, preAllocatedVUs: 1, maxVUs: 1 });
  let answer: boolean | undefined;
  // The last arrival (400) runs until 600: at 550 the scenario drains, its schedule is over
  const { ctx } = await runOnFake(scenario, { serviceMs: 200, actions: [{ atMs: 550, run: (c) => (answer = c.rateControl!.setRate(50)) }] });
  assert.is(answer, false);
  assert.is(ctx.planned.reduce((sum, [, n]) => sum + n, 0), 5);
});

steerable.run();
executor.run();
