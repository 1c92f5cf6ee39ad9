/**
 * inspect's planning, pure: arrivals per interval are exactly the instants `arrivalTimesMs`
 * plans (counted without generating them), VUs per interval the most `vusAt` wants, intervals are
 * round steps, the sparkline scales to the largest value, and the warnings come from the
 * executors' own plans (Little's law, maxDuration).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { arrivalTimesMs, arrivalsBeforeMs, countArrivals, maxVusIn, vusAt } from '../../runner/executors/schedule.ts';
import { chooseIntervalMs, planScenario, thinkTimeMeanMs } from '../../runner/inspect/plan.ts';
import { formatSparkline } from '../../runner/util/sparkline.ts';
import { resolveOptions } from '../../runner/scenario/options.ts';
import type { ScenarioConfig } from '../../runner/executors/index.ts';

const arrivals = suite('arrivals per interval: the planned instants, counted');

const PROFILES: Array<[name: string, startRate: number, stages: Array<{ durationMs: number; target: number }>, timeUnitMs: number]> = [
  ['constant 10/s for 3 s', 10, [{ durationMs: 3000, target: 10 }], 1000],
  ['ramp 0→30/s over 2 s, hold 1 s', 0, [{ durationMs: 2000, target: 30 }, { durationMs: 1000, target: 30 }], 1000],
  ['ramp down 50→0 over 2.5 s', 50, [{ durationMs: 2500, target: 0 }], 1000],
  ['jump (zero-length stage) and a rate-0 gap', 5, [{ durationMs: 1000, target: 5 }, { durationMs: 0, target: 0 }, { durationMs: 1000, target: 0 }, { durationMs: 1500, target: 7 }], 1000],
  ['per minute, 7 over 1m', 7, [{ durationMs: 60_000, target: 7 }], 60_000],
  ['fractional rate 2.5/s for 3.3 s', 2.5, [{ durationMs: 3300, target: 2.5 }], 1000],
];

for (const [name, startRate, stages, timeUnitMs] of PROFILES) {
  arrivals(name, () => {
    const instants = [...arrivalTimesMs(startRate, stages, timeUnitMs)];
    const lengthMs = stages.reduce((sum, stage) => sum + stage.durationMs, 0);
    for (const stepMs of [250, 1000, 700]) {
      let total = 0;
      for (let fromMs = 0; fromMs < lengthMs; fromMs += stepMs) {
        const toMs = Math.min(lengthMs, fromMs + stepMs);
        const counted = arrivalsBeforeMs(startRate, stages, timeUnitMs, toMs) - arrivalsBeforeMs(startRate, stages, timeUnitMs, fromMs);
        const generated = instants.filter((t) => t >= fromMs && t < toMs).length;
        assert.is(counted, generated, `[${fromMs}, ${toMs}) by ${stepMs} ms`);
        total += counted;
      }
      assert.is(total, countArrivals(startRate, stages, timeUnitMs));
      assert.is(total, instants.length);
    }
  });
}

const vus = suite('VUs per interval: the most vusAt wants in it');

vus('ramp 0→10 over 10 s then 10→2 over 4 s: every 1 s and 3 s interval', () => {
  const stages = [{ durationMs: 10_000, target: 10 }, { durationMs: 4000, target: 2 }];
  for (const stepMs of [1000, 3000]) {
    for (let fromMs = 0; fromMs < 14_000; fromMs += stepMs) {
      let most = 0;
      for (let t = fromMs; t < Math.min(14_000, fromMs + stepMs); t += 1) most = Math.max(most, vusAt(0, stages, t));
      assert.is(maxVusIn(0, stages, fromMs, fromMs + stepMs), most, `[${fromMs}, +${stepMs})`);
    }
  }
});

const layout = suite('intervals and sparkline');

layout('a round step giving at most 20 rows', () => {
  assert.is(chooseIntervalMs(3000), 1000);
  assert.is(chooseIntervalMs(20_000), 1000);
  assert.is(chooseIntervalMs(21_000), 2000);
  assert.is(chooseIntervalMs(300_000), 15_000);
  assert.is(chooseIntervalMs(12 * 60_000), 60_000);
});

layout('the sparkline: the largest value a full block, 0 a space, any other at least the lowest block', () => {
  assert.is(formatSparkline([0, 1, 4, 8]), ' ▁▄█');
  assert.is(formatSparkline([5, 5]), '██');
  assert.is(formatSparkline([0, 0]), '  ');
  assert.is(formatSparkline([1, 1000]), '▁█');
});

layout('mean think time per distribution', () => {
  assert.is(thinkTimeMeanMs(undefined), 0);
  assert.is(thinkTimeMeanMs({ kind: 'uniform', minMs: 200, maxMs: 2000 }), 1100);
  assert.is(thinkTimeMeanMs({ kind: 'fixed', ms: 300 }), 300);
});

const plans = suite('plans and their warnings, per executor');

async function resolved(config: ScenarioConfig) {
  const options = await resolveOptions({ scenarios: { s: config } }, {}, { baseDir: process.cwd(), env: {} });
  return options.scenarios[0]!;
}

plans('constant-arrival-rate: maxVUs below rate × iteration time is a Little\'s law warning with the VUs to use', async () => {
  const scenario = await resolved({ executor: 'constant-arrival-rate', rate: 50, duration: '10s', preAllocatedVUs: 5, maxVUs: 20 });
  const plan = planScenario(scenario, 1000);
  assert.is(plan.iterations, 500);
  assert.equal(plan.vusMax, { min: 5, max: 20 });
  assert.is(plan.unit, 'arrivals');
  assert.equal(plan.intervals.map((i) => i.value), Array(10).fill(50));
  assert.is(plan.warnings.length, 1);
  assert.match(plan.warnings[0]!, /scenario s: maxVUs 20 is too low: at the peak rate of 50\/s and an expected iteration time of 1s, Little's law needs about 50 VUs busy.*raise maxVUs to at least 50/);
  // At 100 ms per iteration, 5 VUs are busy: no warning
  assert.equal(planScenario(scenario, 100).warnings, []);
  // At 200 ms, 10 are: more than preAllocated, within maxVUs
  assert.match(planScenario(scenario, 200).warnings[0]!, /preAllocatedVUs 5 is below the 10 VUs needed/);
});

plans('shared-iterations: rounds of the expected iteration time, the last partial; past maxDuration a warning', async () => {
  const scenario = await resolved({ executor: 'shared-iterations', vus: 4, iterations: 10, maxDuration: '2s' });
  const plan = planScenario(scenario, 500, 500);
  assert.is(plan.iterations, 10);
  assert.equal(plan.vusMax, { min: 4, max: 4 });
  assert.equal(plan.intervals.map((i) => i.value), [4, 4, 2]);
  assert.equal(plan.warnings, []);
  const slow = planScenario(scenario, 1000);
  assert.match(slow.warnings[0]!, /10 iterations on 4 VUs take about 3s, longer than maxDuration 2s/);
  assert.is(slow.scheduleLengthMs, 2000);
});

plans('per-vu-iterations and batches: vus × iterations, and batches of vus', async () => {
  const perVu = planScenario(await resolved({ executor: 'per-vu-iterations', vus: 3, iterations: 2 }), 100, 100);
  assert.is(perVu.iterations, 6);
  assert.equal(perVu.intervals.map((i) => i.value), [3, 3]);
  const batches = planScenario(await resolved({ executor: 'batches', vus: 3, iterations: 7 }), 100, 100);
  assert.is(batches.iterations, 7);
  assert.equal(batches.intervals.map((i) => i.value), [3, 3, 1]);
});

plans('constant-vus and ramping-vus: duration-based, iterations decided by the server', async () => {
  const constant = planScenario(await resolved({ executor: 'constant-vus', vus: 3, duration: '5s' }), 1000);
  assert.is(constant.iterations, null);
  assert.equal(constant.intervals.map((i) => i.value), [3, 3, 3, 3, 3]);
  const ramping = planScenario(await resolved({ executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '4s', target: 4 }, { duration: '2s', target: 0 }] }), 1000);
  assert.equal(ramping.intervals.map((i) => i.value), [0, 1, 2, 3, 4, 2]);
  assert.equal(ramping.vusMax, { min: 4, max: 4 });
  assert.is(ramping.sparkline, ' ▂▄▆█▄');
});

for (const s of [arrivals, vus, layout, plans]) s.run();
