/**
 * Each executor against a fake ExecutorContext on a virtual clock: waits advance a fake time,
 * iterations finish after a fake service time, so every count and instant is exact and the
 * whole file runs in milliseconds.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExecutorName } from '../../runner/scenario/types.ts';
import { countByVu, distinctSteps, runOnFake, scenarioFor, stage, type AnyScenario, type FakeContext } from './fake-context.ts';
import { EXECUTORS, createExecutor, isOpenModelExecutor, scenarioDurationMs } from '../../runner/executors/index.ts';
import schema from '../../schemas/scenario.schema.json' with { type: 'json' };
import { arrivalTimesMs, constantArrivalTimesMs, vuChanges } from '../../runner/executors/schedule.ts';


// ---------------------------------------------------------------------------------------

const shared = suite('executor: shared-iterations');

shared('runs exactly `iterations`, pulled by the VUs from one pool', async () => {
  const cases: Array<{ vus: number; iterations: number; serviceMs: number | ((vuId: number) => number); endMs: number }> = [
    { vus: 3, iterations: 10, serviceMs: 100, endMs: 400 },
    { vus: 1, iterations: 5, serviceMs: 20, endMs: 100 },
    { vus: 10, iterations: 100, serviceMs: (vuId) => 10 * vuId, endMs: -1 },
    // More VUs than iterations: only as many VUs as iterations.
    { vus: 8, iterations: 3, serviceMs: 50, endMs: 50 },
  ];
  for (const c of cases) {
    const label = `${c.vus} VUs, ${c.iterations} iterations`;
    const { ctx, endMs } = await runOnFake(scenarioFor('shared-iterations', { vus: c.vus, iterations: c.iterations }), { serviceMs: c.serviceMs });
    assert.is(ctx.started.length, c.iterations, label);
    assert.is(ctx.completed, c.iterations, label);
    assert.is(ctx.dropped, 0, label);
    assert.is(ctx.allocatedVus.length, Math.min(c.vus, c.iterations), label);
    if (c.endMs >= 0) assert.is(endMs, c.endMs, label);
    assert.equal(ctx.activeVus[ctx.activeVus.length - 1], [endMs, 0], `${label}: active VUs back to 0`);
  }
});

shared('fast VUs take more of the pool than slow ones', async () => {
  const { ctx } = await runOnFake(scenarioFor('shared-iterations', { vus: 2, iterations: 30 }), { serviceMs: (vuId) => (vuId === 1 ? 10 : 40) });
  const counts = countByVu(ctx.started);
  assert.is(counts.get(1)! + counts.get(2)!, 30);
  assert.ok(counts.get(1)! > 3 * counts.get(2)! - 3, `VU 1 ran ${counts.get(1)}, VU 2 ran ${counts.get(2)}`);
});

shared('maxDuration: no start after it, running ones finish within gracefulStop, the rest are dropped', async () => {
  const { ctx, endMs } = await runOnFake(
    scenarioFor('shared-iterations', { vus: 2, iterations: 100, maxDurationMs: 1000, gracefulStopMs: 30_000 }),
    { serviceMs: 150 },
  );
  // Each VU starts at 0, 150, …, 900: 7 each.
  assert.is(ctx.started.length, 14);
  assert.ok(ctx.started.every((s) => s.atMs < 1000));
  assert.is(ctx.dropped, 86);
  assert.is(ctx.interrupted, 0);
  assert.is(endMs, 1050);
  assert.equal(ctx.drains, [{ atMs: 1000, graceMs: 30_000 }]);
});

shared('maxDuration with a short gracefulStop: iterations still running are interrupted', async () => {
  const { ctx, endMs } = await runOnFake(
    scenarioFor('shared-iterations', { vus: 2, iterations: 100, maxDurationMs: 1000, gracefulStopMs: 20 }),
    { serviceMs: 150 },
  );
  assert.is(ctx.started.length, 14);
  assert.is(ctx.interrupted, 2);
  assert.is(endMs, 1020);
});

const perVu = suite('executor: per-vu-iterations');

perVu('each VU runs exactly `iterations`: vus × iterations in all', async () => {
  const cases: Array<{ vus: number; iterations: number }> = [
    { vus: 3, iterations: 4 },
    { vus: 1, iterations: 7 },
    { vus: 10, iterations: 1 },
  ];
  for (const c of cases) {
    const { ctx, endMs } = await runOnFake(scenarioFor('per-vu-iterations', c), { serviceMs: (vuId) => 10 * vuId });
    const label = `${c.vus} × ${c.iterations}`;
    assert.is(ctx.started.length, c.vus * c.iterations, label);
    for (const [vuId, count] of countByVu(ctx.started)) assert.is(count, c.iterations, `${label}: VU ${vuId}`);
    // The slowest VU sets the end.
    assert.is(endMs, 10 * c.vus * c.iterations, label);
  }
});

perVu('maxDuration: VUs stop starting, the iterations left are dropped', async () => {
  const { ctx } = await runOnFake(scenarioFor('per-vu-iterations', { vus: 2, iterations: 5, maxDurationMs: 250 }), { serviceMs: 100 });
  assert.is(ctx.started.length, 6);
  assert.is(ctx.dropped, 4);
});

const constantVus = suite('executor: constant-vus');

constantVus('loops `vus` VUs for `duration`, then lets running iterations finish', async () => {
  const { ctx, endMs } = await runOnFake(scenarioFor('constant-vus', { vus: 2, durationMs: 1000 }), { serviceMs: 300 });
  // Each VU starts at 0, 300, 600, 900.
  assert.is(ctx.started.length, 8);
  assert.equal([...countByVu(ctx.started).values()], [4, 4]);
  assert.is(ctx.interrupted, 0);
  assert.is(endMs, 1200);
  assert.equal(ctx.activeVus[0], [0, 2]);
});

constantVus('gracefulStop shorter than an iteration: the last ones are interrupted at its end', async () => {
  const { ctx, endMs } = await runOnFake(scenarioFor('constant-vus', { vus: 2, durationMs: 1000, gracefulStopMs: 100 }), { serviceMs: 300 });
  assert.is(ctx.started.length, 8);
  assert.is(ctx.interrupted, 2);
  assert.is(endMs, 1100);
});

const external = suite('executor: externally-controlled');

external('starts with vus, follows setVus up (VUs allocated as first wanted) and down (the newest retire after their iteration)', async () => {
  const scenario = scenarioFor('externally-controlled', { vus: 1, maxVUs: 4, durationMs: 1000 } as Partial<AnyScenario>);
  const { ctx, endMs } = await runOnFake(scenario, {
    serviceMs: 100,
    actions: [
      { atMs: 250, run: (c) => c.vusControl!.setVus(3) },
      { atMs: 650, run: (c) => c.vusControl!.setVus(1) },
    ],
  });
  assert.is(ctx.vusControl!.maxVus, 4);
  // One VU until 250, three until 650 (the two retired finish the iteration they are in), one after.
  assert.is(ctx.allocatedVus.length, 3);
  const byVu = countByVu(ctx.started);
  assert.is(byVu.get(1), 10);
  // VUs 2 and 3 start iterations at 250, 350, 450 and 550; at 650 the count is 1 again, so they stop.
  assert.is(byVu.get(2), 4);
  assert.is(byVu.get(3), 4);
  assert.ok(ctx.started.every((s) => s.atMs < 1000));
  assert.is(endMs, 1000);
  assert.equal(ctx.activeVus.at(-1), [1000, 0]);
});

const rampingVus = suite('executor: ramping-vus');

rampingVus('active VUs follow the stages: up at each planned instant, down as iterations end', async () => {
  const stages = [stage(400, 4), stage(200, 4), stage(400, 0)];
  const serviceMs = 70;
  const { ctx, endMs } = await runOnFake(scenarioFor('ramping-vus', { startVUs: 0, stages }), { serviceMs });
  const changes = vuChanges(0, stages).filter((c) => c.atMs < 1000);
  const steps = distinctSteps(ctx.activeVus).slice(1); // drop the initial 0
  assert.equal(
    steps.map(([, count]) => count),
    [...changes.map((c) => c.vus), 0],
    'the active count went through every planned value, then 0 at the end',
  );
  changes.forEach((change, i) => {
    const [atMs] = steps[i]!;
    if (i < 4) assert.is(atMs, change.atMs, `ramp up to ${change.vus} at its instant`);
    else assert.ok(atMs >= change.atMs && atMs <= change.atMs + serviceMs, `ramp down to ${change.vus} at ${atMs}, planned ${change.atMs}`);
  });
  assert.is(ctx.allocatedVus.length, 4);
  assert.ok(ctx.started.every((s) => s.atMs < 1000), 'nothing starts after the last stage');
  assert.ok(endMs <= 1000 + serviceMs);
});

rampingVus('active VUs at sampled instants match the plan (aligned service time)', async () => {
  const stages = [stage(1000, 10), stage(1000, 10), stage(1000, 2)];
  const { ctx } = await runOnFake(scenarioFor('ramping-vus', { startVUs: 2, stages }), { serviceMs: 25 });
  const activeAt = (tMs: number): number => {
    let count = 0;
    for (const [atMs, n] of ctx.activeVus) if (atMs <= tMs) count = n;
    return count;
  };
  const cases: Array<[tMs: number, vus: number]> = [
    [0, 2],
    [124, 2],
    [125, 3],
    [500, 6],
    [999, 9],
    [1000, 10],
    [1999, 10],
    [2125, 9],
    [2500, 6],
    [2999, 3],
  ];
  for (const [tMs, vus] of cases) assert.is(activeAt(tMs), vus, `at ${tMs} ms`);
});

rampingVus('a VU ramped down and up again is reused, not a new one', async () => {
  const stages = [stage(100, 3), stage(100, 1), stage(100, 3), stage(100, 3)];
  const { ctx } = await runOnFake(scenarioFor('ramping-vus', { startVUs: 1, stages }), { serviceMs: 10 });
  assert.is(ctx.allocatedVus.length, 3);
  assert.equal([...countByVu(ctx.started).keys()].sort(), [1, 2, 3]);
});

const constantRate = suite('executor: constant-arrival-rate');

constantRate('6000/min for 5 s: 500 iterations, each started at its planned instant', async () => {
  const { ctx, endMs } = await runOnFake(
    scenarioFor('constant-arrival-rate', { rate: 6000, timeUnitMs: 60_000, durationMs: 5000, preAllocatedVUs: 5, maxVUs: 5 }),
    { serviceMs: 20 },
  );
  assert.is(ctx.started.length, 500);
  ctx.started.forEach((s, n) => {
    assert.is(s.intendedStartMs, n * 10, `iteration ${n} intended`);
    assert.is(s.atMs, n * 10, `iteration ${n} started`);
  });
  assert.is(ctx.dropped, 0);
  assert.is(ctx.allocatedVus.length, 5);
  // The last iteration (4990) ends 20 ms after the planned end.
  assert.is(endMs, 5010);
});

constantRate('grows VUs up to maxVUs when all are busy', async () => {
  const { ctx } = await runOnFake(
    scenarioFor('constant-arrival-rate', { rate: 100, timeUnitMs: 1000, durationMs: 1000, preAllocatedVUs: 1, maxVUs: 10 }),
    { serviceMs: 45 },
  );
  assert.is(ctx.started.length, 100);
  assert.is(ctx.dropped, 0);
  // 45 ms iterations every 10 ms need 5 VUs at once.
  assert.is(ctx.allocatedVus.length, 5);
  assert.is(Math.max(...ctx.activeVus.map(([, n]) => n)), 5);
});

constantRate('maxVUs too small with maxQueueWait 0s (k6): iterations with no free VU are dropped at once, never delayed', async () => {
  const { ctx } = await runOnFake(
    scenarioFor('constant-arrival-rate', { rate: 100, timeUnitMs: 1000, durationMs: 1000, preAllocatedVUs: 1, maxVUs: 2, maxQueueWaitMs: 0 }),
    { serviceMs: 50 },
  );
  // Per 50 ms: 5 planned, 2 VUs → 2 started, 3 dropped.
  assert.is(ctx.started.length, 40);
  assert.is(ctx.dropped, 60);
  assert.is(ctx.allocatedVus.length, 2);
  assert.ok(ctx.started.every((s) => s.atMs === s.intendedStartMs));
  // Each drop is counted at its own planned instant, as it happens.
  assert.equal(ctx.droppedAtMs.slice(0, 6), [20, 30, 40, 70, 80, 90]);
});

constantRate('a late wake-up catches up: one wait starts every iteration due, timed from its planned instant', async () => {
  const { ctx } = await runOnFake(
    scenarioFor('constant-arrival-rate', { rate: 6000, timeUnitMs: 60_000, durationMs: 5000, preAllocatedVUs: 50, maxVUs: 50 }),
    { serviceMs: 20, wakeLateMs: 25 },
  );
  assert.is(ctx.started.length, 500);
  ctx.started.forEach((s, n) => {
    assert.is(s.intendedStartMs, n * 10, `iteration ${n} intended`);
    assert.ok(s.atMs >= n * 10 && s.atMs <= n * 10 + 25, `iteration ${n} started at ${s.atMs}`);
  });
  assert.ok(ctx.waits < 200, `${ctx.waits} waits for 500 iterations`);
  assert.is(ctx.dropped, 0);
});

const rampingRate = suite('executor: ramping-arrival-rate');

rampingRate('0 → 10/s over 10 s: 50 iterations at √(2n) s', async () => {
  const { ctx } = await runOnFake(
    scenarioFor('ramping-arrival-rate', { startRate: 0, stages: [stage(10_000, 10)], timeUnitMs: 1000, preAllocatedVUs: 2, maxVUs: 2 }),
    { serviceMs: 100 },
  );
  assert.is(ctx.started.length, 50);
  ctx.started.forEach((s, n) => {
    assert.ok(Math.abs(s.intendedStartMs! - 1000 * Math.sqrt(2 * n)) < 1e-6, `iteration ${n} intended ${s.intendedStartMs}`);
  });
  assert.is(ctx.dropped, 0);
});

rampingRate('a rate-0 stage in the middle pauses the arrivals', async () => {
  const stages = [stage(1000, 10), stage(0, 0), stage(1000, 0), stage(0, 10), stage(1000, 10)];
  const { ctx, endMs } = await runOnFake(
    scenarioFor('ramping-arrival-rate', { startRate: 10, stages, preAllocatedVUs: 1, maxVUs: 1 }),
    { serviceMs: 50 },
  );
  assert.is(ctx.started.length, 20);
  assert.ok(ctx.started.every((s) => s.atMs < 1000 || s.atMs >= 2000));
  assert.is(endMs, 3000);
});

const queue = suite('executors: arrival-rate queue (maxQueueWait)');

/** A constant-arrival-rate scenario of `rate` per second for `durationMs` on a fixed pool of `vus` VUs. */
function queued(rate: number, durationMs: number, vus: number, maxQueueWaitMs: number): AnyScenario {
  return scenarioFor('constant-arrival-rate', { rate, timeUnitMs: 1000, durationMs, preAllocatedVUs: vus, maxVUs: vus, maxQueueWaitMs });
}

/** `[vuId, atMs, intendedStartMs]` of every started iteration, in start order. */
const starts = (ctx: FakeContext): Array<[number, number, number | undefined]> => ctx.started.map((s) => [s.vuId, s.atMs, s.intendedStartMs]);

queue('no free VU: arrivals wait in FIFO order and start when a VU frees up, timed from their planned instant', async () => {
  const cases: Array<{ label: string; vus: number; serviceMs: number | ((vuId: number) => number); started: Array<[number, number, number]> }> = [
    // 1 VU, 25 ms each, one arrival per 10 ms: each start takes the oldest waiting arrival.
    { label: '1 VU', vus: 1, serviceMs: 25, started: [[1, 0, 0], [1, 25, 10], [1, 50, 20], [1, 75, 30]] },
    // VU 2 (50 ms) takes the first arrival (the last idle VU is reused first), VU 1 (30 ms) the second;
    // then whichever frees first takes the head: 20 at 40 (VU 1), 30 at 50 (VU 2), 40 at 70 (VU 1).
    { label: '2 VUs of different speeds', vus: 2, serviceMs: (vuId) => (vuId === 1 ? 30 : 50), started: [[2, 0, 0], [1, 10, 10], [1, 40, 20], [2, 50, 30], [1, 70, 40]] },
  ];
  for (const c of cases) {
    const { ctx, endMs } = await runOnFake(queued(100, 100, c.vus, 30_000), { serviceMs: c.serviceMs });
    assert.equal(starts(ctx), c.started, c.label);
    // Nothing queued starts at or after the end (100 ms): the rest of the 10 planned are dropped then.
    assert.is(ctx.dropped, 10 - c.started.length, c.label);
    assert.ok(ctx.droppedAtMs.every((atMs) => atMs === 100), `${c.label}: dropped at ${ctx.droppedAtMs.join(', ')}`);
    assert.is(ctx.allocatedVus.length, c.vus, c.label);
    assert.is(ctx.completed, c.started.length, c.label);
    assert.is(endMs, 100, c.label);
    assert.equal(ctx.activeVus[ctx.activeVus.length - 1], [100, 0], `${c.label}: active VUs back to 0`);
  }
});

queue('the queue length is reported at each change: it rises with each waiting arrival, falls as a VU takes one, and ends at 0', async () => {
  // 1 VU busy 23 ms (no ties with the 10 ms arrivals): it frees at 23, 46, 69, 92 and takes the oldest waiting.
  const { ctx } = await runOnFake(queued(100, 100, 1, 30_000), { serviceMs: 23 });
  assert.equal(starts(ctx), [[1, 0, 0], [1, 23, 10], [1, 46, 20], [1, 69, 30], [1, 92, 40]]);
  assert.equal(ctx.queued, [
    [10, 1], [20, 2], [23, 1], [30, 2], [40, 3], [46, 2], [50, 3], [60, 4], [69, 3], [70, 4], [80, 5], [90, 6], [92, 5],
    [100, 0], // the end: the 5 still waiting (50…90) are dropped
  ]);
  assert.is(ctx.dropped, 5);
});

queue('the queue length falls as waiting arrivals expire (maxQueueWait), and is never reported when nothing waits', async () => {
  // 1 VU busy 100 ms, an arrival every 10 ms, maxQueueWait 35 ms: 10 expires at 45, 20 at 55, …
  const { ctx } = await runOnFake(queued(100, 200, 1, 35), { serviceMs: 100 });
  assert.equal(ctx.queued.slice(0, 8), [[10, 1], [20, 2], [30, 3], [40, 4], [45, 3], [50, 4], [55, 3], [60, 4]]);
  assert.ok(ctx.queued.every(([, count]) => count <= 4), `a queue longer than 35 ms of arrivals: ${JSON.stringify(ctx.queued)}`);
  assert.equal(ctx.queued.at(-1), [200, 0]);
  const cases: Array<[label: string, scenario: AnyScenario, serviceMs: number]> = [
    ['enough VUs', queued(100, 1000, 5, 30_000), 45],
    ["maxQueueWait '0s' (k6: dropped at once)", queued(100, 1000, 2, 0), 45],
  ];
  for (const [label, scenario, serviceMs] of cases) {
    const { ctx: quiet } = await runOnFake(scenario, { serviceMs });
    assert.equal(quiet.queued, [], label);
  }
});

queue('maxQueueWait: an arrival that has waited that long is dropped at that instant; the fresher ones still run', async () => {
  // 1 VU busy 100 ms per iteration, an arrival every 10 ms for 200 ms (20 planned).
  const { ctx } = await runOnFake(queued(100, 200, 1, 35), { serviceMs: 100 });
  // At 100 the VU frees: 10…60 expired at 45…95, so it takes 70 (waited 30 < 35 ms).
  assert.equal(starts(ctx), [[1, 0, 0], [1, 100, 70]]);
  const expiries = (fromMs: number, toMs: number): number[] => {
    const out: number[] = [];
    for (let plannedMs = fromMs; plannedMs <= toMs; plannedMs += 10) out.push(plannedMs + 35);
    return out;
  };
  // 80…160 expire at 115…195 while the VU runs 70; 170, 180 and 190 are still waiting at the end.
  assert.equal(ctx.droppedAtMs, [...expiries(10, 60), ...expiries(80, 160), 200, 200, 200]);
  // Only the three still waiting at the end are flagged as dropped at the end (their own warning)
  assert.equal(ctx.droppedAtEnd, [...expiries(10, 60), ...expiries(80, 160)].map(() => false).concat([true, true, true]));
  assert.is(ctx.started.length + ctx.dropped, 20);
});

queue('maxQueueWait boundary: the arrival the freed VU takes at 100 ms is the oldest that has waited less than maxQueueWait', async () => {
  const cases: Array<[maxQueueWaitMs: number, takenMs: number]> = [
    [10, 100], // 90 expires at 100 exactly: the queue is empty, the VU takes the arrival planned at 100
    [30, 80], // 70 has waited exactly 30 ms: dropped
    [31, 70],
    [35, 70],
    [95, 10], // 10 expires at 105
    [100, 10],
    [30_000, 10],
  ];
  for (const [maxQueueWaitMs, takenMs] of cases) {
    const { ctx } = await runOnFake(queued(100, 200, 1, maxQueueWaitMs), { serviceMs: 100 });
    assert.equal(starts(ctx).slice(0, 2), [[1, 0, 0], [1, 100, takenMs]], `maxQueueWait ${maxQueueWaitMs} ms`);
    assert.is(ctx.started.length + ctx.dropped, 20, `maxQueueWait ${maxQueueWaitMs} ms: planned = started + dropped`);
  }
});

/**
 * The k6 model the engine had before queueing, as a reference: each arrival, in order, starts on
 * a VU free at its instant (growing the pool up to maxVUs) or is dropped. Fixed service time; the
 * cases avoid ties between an iteration's end and an arrival.
 */
function referenceDropModel(arrivalsMs: Iterable<number>, preAllocated: number, maxVus: number, serviceMs: number): { startedMs: number[]; dropped: number } {
  const busyUntilMs: number[] = new Array(preAllocated).fill(-Infinity);
  const startedMs: number[] = [];
  let dropped = 0;
  for (const atMs of arrivalsMs) {
    let free = busyUntilMs.findIndex((untilMs) => untilMs <= atMs);
    if (free < 0 && busyUntilMs.length < maxVus) free = busyUntilMs.push(-Infinity) - 1;
    if (free < 0) dropped++;
    else {
      busyUntilMs[free] = atMs + serviceMs;
      startedMs.push(atMs);
    }
  }
  return { startedMs, dropped };
}

queue("maxQueueWait '0s' is k6's behaviour exactly: the same starts and drops as the drop-at-once model", async () => {
  const cases: Array<{ scenario: AnyScenario; serviceMs: number; arrivalsMs: () => Iterable<number> }> = [
    { scenario: queued(100, 1000, 2, 0), serviceMs: 47, arrivalsMs: () => constantArrivalTimesMs(100, 1000, 1000) },
    { scenario: queued(30, 3000, 3, 0), serviceMs: 333, arrivalsMs: () => constantArrivalTimesMs(30, 1000, 3000) },
    {
      scenario: { ...queued(100, 1000, 1, 0), preAllocatedVUs: 1, maxVUs: 4 },
      serviceMs: 77,
      arrivalsMs: () => constantArrivalTimesMs(100, 1000, 1000),
    },
    {
      scenario: scenarioFor('ramping-arrival-rate', { startRate: 5, stages: [stage(2000, 80), stage(1000, 10)], preAllocatedVUs: 2, maxVUs: 3, maxQueueWaitMs: 0 }),
      serviceMs: 61,
      arrivalsMs: () => arrivalTimesMs(5, [stage(2000, 80), stage(1000, 10)], 1000),
    },
  ];
  for (const c of cases) {
    const label = `${c.scenario.executor} maxVUs ${c.scenario.maxVUs}, ${c.serviceMs} ms`;
    const { ctx } = await runOnFake(c.scenario, { serviceMs: c.serviceMs });
    const expected = referenceDropModel(c.arrivalsMs(), c.scenario.preAllocatedVUs, c.scenario.maxVUs, c.serviceMs);
    assert.ok(expected.dropped > 0, `${label}: the case must drop some`);
    assert.equal(ctx.started.map((s) => s.intendedStartMs), expected.startedMs, label);
    assert.ok(ctx.started.every((s) => s.atMs === s.intendedStartMs), `${label}: nothing starts late`);
    assert.is(ctx.dropped, expected.dropped, label);
  }
});

queue('a stop drops every arrival still waiting, at the stop; nothing queued starts after it', async () => {
  const { ctx, endMs } = await runOnFake({ ...queued(100, 10_000, 1, 30_000), gracefulStopMs: 5000 }, { serviceMs: 1000, stopAtMs: 505 });
  // Arrivals 0…500 were reached (51): the first runs, the 50 waiting behind it are dropped at 505.
  assert.equal(starts(ctx), [[1, 0, 0]]);
  assert.is(ctx.dropped, 50);
  assert.ok(ctx.droppedAtMs.every((atMs) => atMs === 505));
  assert.is(ctx.interrupted, 0);
  assert.is(endMs, 1000, 'the running iteration finishes within gracefulStop; the VU takes nothing more');
});

queue('planned = started + dropped, FIFO starts, no wait of maxQueueWait or more, no start after the end: by table', async () => {
  const rampStages = [stage(1000, 200), stage(500, 200), stage(0, 0), stage(300, 0), stage(700, 50)];
  const cases: Array<{ scenario: AnyScenario; serviceMs: number | ((vuId: number) => number); wakeLateMs?: number; plannedMs: () => Iterable<number>; endMs: number }> = [];
  for (const maxQueueWaitMs of [0, 15, 50, 250, 30_000]) {
    cases.push(
      { scenario: queued(100, 1000, 2, maxQueueWaitMs), serviceMs: 45, plannedMs: () => constantArrivalTimesMs(100, 1000, 1000), endMs: 1000 },
      { scenario: queued(250, 2000, 3, maxQueueWaitMs), serviceMs: (vuId) => 7 + 11 * vuId, plannedMs: () => constantArrivalTimesMs(250, 1000, 2000), endMs: 2000 },
      { scenario: queued(200, 1000, 4, maxQueueWaitMs), serviceMs: 30, wakeLateMs: 20, plannedMs: () => constantArrivalTimesMs(200, 1000, 1000), endMs: 1000 },
      {
        scenario: scenarioFor('ramping-arrival-rate', { startRate: 0, stages: rampStages, preAllocatedVUs: 1, maxVUs: 6, maxQueueWaitMs }),
        serviceMs: 40,
        plannedMs: () => arrivalTimesMs(0, rampStages, 1000),
        endMs: 2500,
      },
    );
  }
  for (const c of cases) {
    const { scenario } = c;
    const label = `${scenario.executor} maxVUs ${scenario.maxVUs} maxQueueWait ${scenario.maxQueueWaitMs} ms${c.wakeLateMs ? ', late wakes' : ''}`;
    const { ctx } = await runOnFake(scenario, { serviceMs: c.serviceMs, wakeLateMs: c.wakeLateMs ?? 0 });
    const planned = [...c.plannedMs()];
    assert.is(ctx.started.length + ctx.dropped, planned.length, `${label}: planned = started + dropped`);
    // arrivalsPlanned counts every planned instant once, when it is reached (never later than a late wake)
    assert.is(ctx.planned.reduce((sum, [, count]) => sum + count, 0), planned.length, `${label}: arrivalsPlanned total`);
    let reached = 0;
    for (const [atMs, count] of ctx.planned) {
      reached += count;
      const due = planned.filter((plannedMs) => plannedMs <= atMs).length;
      assert.is(reached, due, `${label}: ${reached} reported by ${atMs} ms, ${due} due`);
    }
    assert.is(ctx.completed, ctx.started.length, label);
    let previousMs = -Infinity;
    for (const s of ctx.started) {
      assert.ok(s.intendedStartMs! >= previousMs, `${label}: ${s.intendedStartMs} started after ${previousMs} (not FIFO)`);
      previousMs = s.intendedStartMs!;
      const waitedMs = s.atMs - s.intendedStartMs!;
      assert.ok(waitedMs >= 0, `${label}: started before its planned instant`);
      if (scenario.maxQueueWaitMs > 0) assert.ok(waitedMs < Math.max(scenario.maxQueueWaitMs, (c.wakeLateMs ?? 0) + 1), `${label}: waited ${waitedMs} ms`);
      else assert.ok(waitedMs <= (c.wakeLateMs ?? 0), `${label}: waited ${waitedMs} ms with maxQueueWait 0`);
      // A late wake may start an arrival planned before the end a little after it; nothing else may.
      assert.ok(s.atMs < c.endMs || s.atMs <= s.intendedStartMs! + (c.wakeLateMs ?? 0), `${label}: started at ${s.atMs} after the end`);
    }
    // The queue only holds arrivals planned within the last maxQueueWait (plus a late wake), and ends empty.
    const waitedMsMax = scenario.maxQueueWaitMs + (c.wakeLateMs ?? 0);
    const holdable = Math.max(0, ...planned.map((atMs) => planned.filter((otherMs) => otherMs <= atMs && otherMs > atMs - waitedMsMax).length));
    if (scenario.maxQueueWaitMs === 0) assert.equal(ctx.queued, [], `${label}: nothing queues with maxQueueWait 0`);
    else {
      assert.ok(ctx.queued.length > 0, `${label}: the case must queue`);
      assert.ok(ctx.queued.every(([, count]) => count >= 0 && count <= holdable), `${label}: queue ${Math.max(...ctx.queued.map(([, n]) => n))} > ${holdable}`);
      assert.is(ctx.queued.at(-1)![1], 0, `${label}: the queue ends empty`);
    }
    assert.equal(new Set(ctx.started.map((s) => s.intendedStartMs)).size, ctx.started.length, `${label}: an arrival started twice`);
    assert.ok(ctx.started.every((s) => planned.includes(s.intendedStartMs!)), `${label}: started an unplanned instant`);
  }
});

const batches = suite('executor: batches');

batches('sends `vus` at a time, waits for each batch, reports every batch; the last may be smaller', async () => {
  const { ctx, endMs } = await runOnFake(scenarioFor('batches', { vus: 10, iterations: 25 }), { serviceMs: (vuId) => 10 * vuId });
  assert.equal(ctx.batches, [
    { index: 1, count: 10, sent: 10, total: 25, durationMs: 100 },
    { index: 2, count: 10, sent: 20, total: 25, durationMs: 100 },
    { index: 3, count: 5, sent: 25, total: 25, durationMs: 50 },
  ]);
  assert.is(ctx.started.length, 25);
  // Each batch starts together, only when the previous one is done.
  assert.equal([...new Set(ctx.started.map((s) => s.atMs))], [0, 100, 200]);
  assert.is(endMs, 250);
});

batches('the guide\'s default: 100 emails in 10 batches of 10', async () => {
  const { ctx } = await runOnFake(scenarioFor('batches', { vus: 10, iterations: 100 }), { serviceMs: 50 });
  assert.is(ctx.batches.length, 10);
  assert.equal(ctx.batches.map((b) => b.sent), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.ok(ctx.batches.every((b) => b.count === 10 && b.total === 100 && b.durationMs === 50));
});

batches('maxDuration: the running batch finishes and is reported, no new batch starts, the rest are dropped', async () => {
  const { ctx } = await runOnFake(scenarioFor('batches', { vus: 10, iterations: 100, maxDurationMs: 250 }), { serviceMs: 100 });
  assert.equal(ctx.batches.map((b) => [b.index, b.sent, b.durationMs]), [
    [1, 10, 100],
    [2, 20, 100],
    [3, 30, 100],
  ]);
  assert.is(ctx.dropped, 70);
});

const stopping = suite('executors: stopping early');

stopping('no executor starts an iteration once the test is stopping, and each drains and returns', async () => {
  const stopAtMs = 1000;
  const cases: AnyScenario[] = [
    scenarioFor('shared-iterations', { vus: 2, iterations: 1000 }),
    scenarioFor('per-vu-iterations', { vus: 2, iterations: 1000 }),
    scenarioFor('constant-vus', { vus: 2, durationMs: 60_000 }),
    scenarioFor('ramping-vus', { startVUs: 0, stages: [stage(10_000, 20), stage(50_000, 20)] }),
    scenarioFor('constant-arrival-rate', { rate: 100, durationMs: 60_000, preAllocatedVUs: 20, maxVUs: 20 }),
    scenarioFor('ramping-arrival-rate', { startRate: 100, stages: [stage(60_000, 200)], preAllocatedVUs: 40, maxVUs: 40 }),
    scenarioFor('batches', { vus: 10, iterations: 1000 }),
  ];
  for (const scenario of cases) {
    const { ctx, endMs } = await runOnFake({ ...scenario, gracefulStopMs: 5000 }, { serviceMs: 150, stopAtMs });
    const label = scenario.executor;
    assert.ok(ctx.started.length > 0, `${label}: started some`);
    assert.ok(ctx.started.every((s) => s.atMs < stopAtMs), `${label}: nothing started after the stop`);
    assert.is(ctx.dropped, 0, `${label}: a stop drops nothing`);
    assert.equal(ctx.drains.map((d) => d.graceMs).slice(0, 1), [5000], `${label}: drained with gracefulStop`);
    assert.is(ctx.interrupted, 0, `${label}: running iterations finished within gracefulStop`);
    assert.is(ctx.completed, ctx.started.length, `${label}: every started iteration ended`);
    assert.ok(endMs <= stopAtMs + 150, `${label}: returned at ${endMs}`);
    assert.is(ctx.activeVus[ctx.activeVus.length - 1]![1], 0, `${label}: active VUs back to 0`);
  }
});

const early = suite('executors: the next iteration granted early (Vu.takeNextIteration)');

early('iteration counts are never exceeded: the grant is the start, and the last ones are refused', async () => {
  for (const scenario of [scenarioFor('shared-iterations', { vus: 3, iterations: 10 }), scenarioFor('per-vu-iterations', { vus: 3, iterations: 4 })]) {
    const label = scenario.executor;
    const total = label === 'shared-iterations' ? 10 : 12;
    const { ctx } = await runOnFake(scenario, { serviceMs: 100, askNextAtMs: 60 });
    assert.is(ctx.started.length, total, label);
    assert.is(ctx.dropped, 0, label);
    const granted = ctx.asks.filter(([, , isGranted]) => isGranted).length;
    // Every iteration after each VU's first was granted early; every refusal was at the end
    assert.is(granted, total - ctx.allocatedVus.length, `${label}: ${JSON.stringify(ctx.asks)}`);
    assert.is(ctx.asks.length, total, `${label}: asked once per iteration`);
    // A granted iteration starts the instant the one before ends
    for (const vu of ctx.allocatedVus) {
      const starts = ctx.started.filter((s) => s.vuId === vu.id).map((s) => s.atMs);
      starts.forEach((atMs, i) => i === 0 || assert.is(atMs - starts[i - 1]!, 100, `${label}: vu ${vu.id}`));
    }
  }
});

early('constant-vus and ramping-vus: granted only while iterations may start; a grant before the end starts its iteration', async () => {
  const { ctx } = await runOnFake(scenarioFor('constant-vus', { vus: 2, durationMs: 1000 }), { serviceMs: 100, askNextAtMs: 60 });
  // Asked at 60, 160, …, 960 (granted: before the end) and 1060 (refused): 11 iterations per VU
  assert.equal([...countByVu(ctx.started).values()], [11, 11]);
  assert.ok(ctx.asks.every(([atMs, , isGranted]) => isGranted === atMs < 1000), JSON.stringify(ctx.asks));
  const ramp = await runOnFake(scenarioFor('ramping-vus', { startVUs: 1, stages: [stage(1000, 1)] }), { serviceMs: 100, askNextAtMs: 60 });
  assert.ok(ramp.ctx.asks.length > 0 && ramp.ctx.asks.every(([atMs, , isGranted]) => isGranted === atMs < 1000), JSON.stringify(ramp.ctx.asks));
  assert.is(ramp.ctx.started.length, 11);
});

early('a stop between the grant and the iteration\'s start cancels it', async () => {
  const { ctx } = await runOnFake(scenarioFor('shared-iterations', { vus: 2, iterations: 100 }), { serviceMs: 100, askNextAtMs: 60, stopAtMs: 480 });
  // Granted at 460 for 500; stopped at 480: nothing starts at 500
  assert.ok(ctx.asks.some(([atMs, , isGranted]) => atMs === 460 && isGranted));
  assert.ok(ctx.started.every((s) => s.atMs < 480), JSON.stringify(ctx.started.slice(-3)));
  assert.is(ctx.started.length, 10);
});

const registry = suite('executors: registry and planned durations');

registry('every executor name has an executor', () => {
  const names: ExecutorName[] = [
    'shared-iterations',
    'per-vu-iterations',
    'constant-vus',
    'ramping-vus',
    'constant-arrival-rate',
    'ramping-arrival-rate',
    'batches',
    'externally-controlled',
  ];
  assert.equal(Object.keys(EXECUTORS).sort(), [...names].sort());
  for (const name of names) assert.type(createExecutor(scenarioFor(name)).run, 'function', name);
});

registry('scenarioDurationMs by table', () => {
  const stages = [stage(30_000, 10), stage(60_000, 10), stage(15_000, 0)];
  const cases: Array<[AnyScenario, number]> = [
    [scenarioFor('shared-iterations', { maxDurationMs: 600_000, durationMs: 5 }), 600_000],
    [scenarioFor('per-vu-iterations', { maxDurationMs: 120_000 }), 120_000],
    [scenarioFor('batches', { maxDurationMs: 60_000 }), 60_000],
    [scenarioFor('constant-vus', { durationMs: 3_600_000, maxDurationMs: 1 }), 3_600_000],
    [scenarioFor('constant-arrival-rate', { durationMs: 300_000 }), 300_000],
    [scenarioFor('ramping-vus', { stages }), 105_000],
    [scenarioFor('ramping-arrival-rate', { stages }), 105_000],
  ];
  for (const [scenario, expected] of cases) assert.is(scenarioDurationMs(scenario), expected, scenario.executor);
});

const ending = suite('executors: the end-of-scenario contract');

ending('the unstarted are counted in one call however many, and not on a stop', async () => {
  // 1e12 left over must not mean 1e12 calls (issue 19 found such a loop).
  const huge = 1e12;
  const cases: Array<[AnyScenario, number]> = [
    [scenarioFor('shared-iterations', { vus: 2, iterations: huge, maxDurationMs: 1000 }), 20],
    [scenarioFor('per-vu-iterations', { vus: 2, iterations: huge / 2, maxDurationMs: 1000 }), 20],
    [scenarioFor('batches', { vus: 2, iterations: huge, maxDurationMs: 1000 }), 20],
  ];
  for (const [scenario, started] of cases) {
    const { ctx } = await runOnFake(scenario, { serviceMs: 100 });
    const label = scenario.executor;
    assert.is(ctx.started.length, started, label);
    assert.is(ctx.dropped, huge - started, `${label}: every unstarted iteration counted`);
    assert.is(ctx.dropIterationsCalls, 1, `${label}: in one call`);
    assert.is(ctx.activeVus[ctx.activeVus.length - 1]![1], 0, `${label}: VUs back to 0`);
    const stopped = await runOnFake(scenario, { serviceMs: 100, stopAtMs: 500 });
    assert.is(stopped.ctx.dropIterationsCalls, 0, `${label}: a stop drops nothing`);
  }
});

registry('open model: the arrival-rate executors, also by name from a results file', () => {
  const open = (Object.keys(EXECUTORS) as ExecutorName[]).filter((name) => EXECUTORS[name].isOpenModel);
  assert.equal(open, ['constant-arrival-rate', 'ramping-arrival-rate']);
  const cases: Array<[string, boolean]> = [
    ['constant-arrival-rate', true],
    ['ramping-arrival-rate', true],
    ['constant-vus', false],
    ['constant-vus+ramping-arrival-rate', true],
    ['no-such-executor', false],
  ];
  for (const [name, expected] of cases) assert.is(isOpenModelExecutor(name), expected, name);
});

registry('the registry and the schema name the same executors', () => {
  assert.equal([...schema.definitions.scenario.properties.executor.enum].sort(), Object.keys(EXECUTORS).sort());
});

shared.run();
perVu.run();
constantVus.run();
early.run();
rampingVus.run();
constantRate.run();
rampingRate.run();
queue.run();
batches.run();
external.run();
stopping.run();
ending.run();
registry.run();
