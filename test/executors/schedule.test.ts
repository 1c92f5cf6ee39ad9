/**
 * The executors' plans as pure functions, checked by table without a clock: arrival instants
 * of constant and ramping rates, VUs wanted over time by ramping-vus, batch sizes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ResolvedStage } from '../../runner/scenario/resolved.ts';
import {
  arrivalTimesMs,
  batchSizes,
  constantArrivalTimesMs,
  countArrivals,
  maxStageVus,
  stagesDurationMs,
  vuChanges,
  vusAt,
} from '../../runner/executors/schedule.ts';

const SECOND_MS = 1000;
const MINUTE_MS = 60_000;

/** Shorthand for a stage: `stage(10_000, 5)` is 10 s to 5. */
function stage(durationMs: number, target: number): ResolvedStage {
  return { durationMs, target };
}

/** True when `a` and `b` agree to within `toleranceMs`. */
function isClose(a: number, b: number, toleranceMs = 1e-6): boolean {
  return Math.abs(a - b) <= toleranceMs;
}

const constantRate = suite('schedule: constant arrival rate');

constantRate('6000/min for 5 s: exactly 500 instants, 10 ms apart, the first at 0', () => {
  const instants = [...constantArrivalTimesMs(6000, MINUTE_MS, 5 * SECOND_MS)];
  assert.is(instants.length, 500);
  assert.is(countArrivals(6000, [stage(5 * SECOND_MS, 6000)], MINUTE_MS), 500);
  instants.forEach((atMs, n) => assert.is(atMs, n * 10, `instant ${n}`));
});

constantRate('count and spacing by table', () => {
  const cases: Array<{ rate: number; timeUnitMs: number; durationMs: number; count: number; spacingMs: number }> = [
    { rate: 10, timeUnitMs: SECOND_MS, durationMs: SECOND_MS, count: 10, spacingMs: 100 },
    { rate: 1000, timeUnitMs: MINUTE_MS, durationMs: MINUTE_MS, count: 1000, spacingMs: 60 },
    { rate: 3, timeUnitMs: SECOND_MS, durationMs: SECOND_MS, count: 3, spacingMs: 1000 / 3 },
    // 2.5 planned iterations: the third starts at 800 ms, before the end.
    { rate: 5, timeUnitMs: 2 * SECOND_MS, durationMs: SECOND_MS, count: 3, spacingMs: 400 },
    { rate: 1, timeUnitMs: MINUTE_MS, durationMs: SECOND_MS, count: 1, spacingMs: MINUTE_MS },
  ];
  for (const c of cases) {
    const instants = [...constantArrivalTimesMs(c.rate, c.timeUnitMs, c.durationMs)];
    const label = `${c.rate} per ${c.timeUnitMs} ms for ${c.durationMs} ms`;
    assert.is(instants.length, c.count, label);
    assert.is(countArrivals(c.rate, [stage(c.durationMs, c.rate)], c.timeUnitMs), c.count, label);
    instants.forEach((atMs, n) => assert.ok(isClose(atMs, n * c.spacingMs), `${label}: instant ${n} at ${atMs}`));
    assert.ok(instants.every((atMs) => atMs < c.durationMs), `${label}: all before the end`);
  }
});

constantRate('lazy: a 1-hour run at 5000/min yields without planning everything first', () => {
  const arrivals = constantArrivalTimesMs(5000, MINUTE_MS, 60 * MINUTE_MS);
  assert.is(arrivals.next().value, 0);
  assert.is(arrivals.next().value, 12);
  assert.is(countArrivals(5000, [stage(60 * MINUTE_MS, 5000)], MINUTE_MS), 300_000);
});

constantRate('counts above 10^9 are exact: the float slack never drops a whole arrival (was 604 short at 1e6/s for 168 h)', () => {
  const HOUR_MS = 60 * MINUTE_MS;
  assert.is(countArrivals(1e6, [stage(168 * HOUR_MS, 1e6)], SECOND_MS), 604_800_000_000);
  assert.is(countArrivals(1e6, [stage(HOUR_MS, 1e6)], SECOND_MS), 3_600_000_000);
  assert.is(countArrivals(300_000, [stage(HOUR_MS, 300_000)], SECOND_MS), 1_080_000_000);
  // A ramp 0 → 1e6/s over 2 h: its integral, 3.6e9
  assert.is(countArrivals(0, [stage(2 * HOUR_MS, 1e6)], SECOND_MS), 3_600_000_000);
  // A fraction is still rounded up, and a float sum a hair above a whole count is not
  assert.is(countArrivals(1, [stage(2500, 1)], SECOND_MS), 3);
  assert.is(countArrivals(0.1, [stage(3 * SECOND_MS, 0.1), stage(7 * SECOND_MS, 0.1)], SECOND_MS), 1);
});

const rampingRate = suite('schedule: ramping arrival rate');

rampingRate('0 → 10/s over 10 s: 50 arrivals at √(2n) s', () => {
  const stages = [stage(10 * SECOND_MS, 10)];
  const instants = [...arrivalTimesMs(0, stages, SECOND_MS)];
  assert.is(instants.length, 50);
  assert.is(countArrivals(0, stages, SECOND_MS), 50);
  const expected: Array<[n: number, atMs: number]> = [
    [0, 0],
    [1, 1000 * Math.SQRT2],
    [2, 2000],
    [8, 4000],
    [18, 6000],
    [32, 8000],
    [49, 1000 * Math.sqrt(98)],
  ];
  for (const [n, atMs] of expected) assert.ok(isClose(instants[n]!, atMs), `arrival ${n}: ${instants[n]} ≠ ${atMs}`);
  instants.forEach((atMs, n) => assert.ok(isClose(atMs, 1000 * Math.sqrt(2 * n)), `arrival ${n}`));
});

rampingRate('10/s → 0 over 10 s: the mirror image, denser at the start', () => {
  const instants = [...arrivalTimesMs(10, [stage(10 * SECOND_MS, 0)], SECOND_MS)];
  assert.is(instants.length, 50);
  // The integral reaches n at t = 10 − √(100 − 2n) s.
  instants.forEach((atMs, n) => assert.ok(isClose(atMs, 1000 * (10 - Math.sqrt(100 - 2 * n))), `arrival ${n}: ${atMs}`));
});

rampingRate('multi-stage profiles by table: counts and a few instants', () => {
  const cases: Array<{ name: string; startRate: number; stages: ResolvedStage[]; count: number; instants: Array<[number, number]> }> = [
    {
      name: 'hold 10/s for 1 s, then 20/s for 1 s',
      startRate: 10,
      stages: [stage(SECOND_MS, 10), stage(0, 20), stage(SECOND_MS, 20)],
      count: 30,
      instants: [[0, 0], [9, 900], [10, 1000], [11, 1050], [29, 1950]],
    },
    {
      name: 'ramp 0 → 10/s over 2 s, hold 10/s for 1 s, down to 0 over 2 s',
      startRate: 0,
      stages: [stage(2 * SECOND_MS, 10), stage(SECOND_MS, 10), stage(2 * SECOND_MS, 0)],
      count: 30,
      // Ramp: 10 arrivals at √(0.4 n) s; hold: 10 more, 100 ms apart from 2 s.
      instants: [[0, 0], [5, 1000 * Math.sqrt(2)], [10, 2000], [19, 2900], [20, 3000]],
    },
    {
      name: 'half an iteration planned (1/s for 0.5 s): one arrival, at 0',
      startRate: 1,
      stages: [stage(SECOND_MS / 2, 1)],
      count: 1,
      instants: [[0, 0]],
    },
    {
      name: 'all zero: nothing',
      startRate: 0,
      stages: [stage(5 * SECOND_MS, 0)],
      count: 0,
      instants: [],
    },
    {
      name: 'no stages: nothing',
      startRate: 10,
      stages: [],
      count: 0,
      instants: [],
    },
  ];
  for (const c of cases) {
    const instants = [...arrivalTimesMs(c.startRate, c.stages, SECOND_MS)];
    assert.is(instants.length, c.count, c.name);
    assert.is(countArrivals(c.startRate, c.stages, SECOND_MS), c.count, c.name);
    for (const [n, atMs] of c.instants) assert.ok(isClose(instants[n]!, atMs), `${c.name}: arrival ${n} at ${instants[n]}, want ${atMs}`);
    for (let n = 1; n < instants.length; n++) assert.ok(instants[n]! >= instants[n - 1]!, `${c.name}: increasing at ${n}`);
    assert.ok(instants.every((atMs) => atMs < stagesDurationMs(c.stages)), `${c.name}: all before the end`);
  }
});

rampingRate('a rate-0 stage starts nothing; the next arrival waits for the rate to rise again', () => {
  // 10/s for 1 s, a 2 s pause at 0, then 10/s for 1 s.
  const stages = [stage(SECOND_MS, 10), stage(0, 0), stage(2 * SECOND_MS, 0), stage(0, 10), stage(SECOND_MS, 10)];
  const instants = [...arrivalTimesMs(10, stages, SECOND_MS)];
  assert.is(instants.length, 20);
  assert.ok(instants.every((atMs) => atMs < SECOND_MS || atMs >= 3 * SECOND_MS), 'none in the pause');
  assert.is(instants[9], 900);
  assert.is(instants[10], 3000);
  assert.ok(isClose(instants[19]!, 3900));
});

rampingRate('a pause at the start: the first arrival comes when the rate rises, not at 0', () => {
  const instants = [...arrivalTimesMs(0, [stage(5 * SECOND_MS, 0), stage(10 * SECOND_MS, 10)], SECOND_MS)];
  assert.is(instants.length, 50);
  assert.is(instants[0], 5000);
  assert.ok(isClose(instants[2]!, 7000));
});

rampingRate('an integral that is whole at a stage boundary does not plan an arrival at the end', () => {
  // 10 iterations exactly in 1 s; the last is at 900 ms, none at 1000.
  const instants = [...arrivalTimesMs(10, [stage(SECOND_MS, 10)], SECOND_MS)];
  assert.is(instants.length, 10);
  assert.is(instants[9], 900);
});

const vus = suite('schedule: ramping VUs');

vus('vusAt: rounds down while ramping up, up while ramping down, exact at stage boundaries', () => {
  const stages = [stage(10 * SECOND_MS, 10), stage(5 * SECOND_MS, 10), stage(10 * SECOND_MS, 0)];
  const cases: Array<[tMs: number, vus: number]> = [
    [-1, 0],
    [0, 0],
    [999, 0],
    [1000, 1],
    [5500, 5],
    [9999, 9],
    [10_000, 10],
    [12_000, 10],
    [15_000, 10],
    [15_001, 10],
    [15_999, 10],
    [16_000, 9],
    [20_000, 5],
    [24_999, 1],
    [25_000, 0],
    [99_000, 0],
  ];
  for (const [tMs, expected] of cases) assert.is(vusAt(0, stages, tMs), expected, `at ${tMs} ms`);
});

vus('vusAt: start VUs, zero-duration jumps, and the end', () => {
  const stages = [stage(SECOND_MS, 4), stage(0, 8), stage(SECOND_MS, 8)];
  const cases: Array<[tMs: number, vus: number]> = [
    [0, 2],
    [499, 2],
    [500, 3],
    [999, 3],
    [1000, 8],
    [1999, 8],
    [2000, 8],
  ];
  for (const [tMs, expected] of cases) assert.is(vusAt(2, stages, tMs), expected, `at ${tMs} ms`);
  assert.is(vusAt(5, [], 1000), 5, 'no stages: startVUs');
});

vus('vuChanges: every change once, in order, consistent with vusAt', () => {
  const cases: Array<{ name: string; startVUs: number; stages: ResolvedStage[]; changes: Array<[number, number]> }> = [
    {
      name: 'up 0 → 4 over 400 ms, hold, down to 0 over 400 ms',
      startVUs: 0,
      stages: [stage(400, 4), stage(200, 4), stage(400, 0)],
      changes: [[100, 1], [200, 2], [300, 3], [400, 4], [700, 3], [800, 2], [900, 1], [1000, 0]],
    },
    {
      name: 'zero-duration jumps merge with the ramp that ends at the same instant',
      startVUs: 0,
      stages: [stage(1000, 2), stage(0, 5), stage(0, 3), stage(1000, 3)],
      changes: [[500, 1], [1000, 3]],
    },
    {
      name: 'a jump and back at one instant is no change',
      startVUs: 2,
      stages: [stage(1000, 2), stage(0, 6), stage(0, 2), stage(1000, 2)],
      changes: [],
    },
    {
      name: 'a jump at 0',
      startVUs: 0,
      stages: [stage(0, 3), stage(1000, 3)],
      changes: [[0, 3]],
    },
  ];
  for (const c of cases) {
    const changes = vuChanges(c.startVUs, c.stages);
    assert.equal(changes.map((x) => [x.atMs, x.vus]), c.changes, c.name);
    for (const change of changes) assert.is(vusAt(c.startVUs, c.stages, change.atMs), change.vus, `${c.name}: vusAt(${change.atMs})`);
  }
});

vus('vuChanges agrees with vusAt on uneven ramps (fractional instants)', () => {
  const stages = [stage(1000, 7), stage(3000, 2), stage(700, 13), stage(1300, 0)];
  const changes = vuChanges(0, stages);
  let expected = 0;
  let next = 0;
  for (let tMs = 0; tMs <= 6000; tMs += 0.5) {
    while (next < changes.length && changes[next]!.atMs <= tMs) expected = changes[next++]!.vus;
    assert.is(vusAt(0, stages, tMs), expected, `at ${tMs} ms`);
  }
  assert.is(maxStageVus(0, stages), 13);
});

const sizes = suite('schedule: batches');

sizes('batch sizes by table: the last may be smaller', () => {
  const cases: Array<[total: number, size: number, sizes: number[]]> = [
    [100, 10, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]],
    [25, 10, [10, 10, 5]],
    [3, 10, [3]],
    [0, 10, []],
  ];
  for (const [total, size, expected] of cases) assert.equal(batchSizes(total, size), expected, `${total} by ${size}`);
});

constantRate.run();
rampingRate.run();
vus.run();
sizes.run();
