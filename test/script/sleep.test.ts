/** Think time: parsing every form, and each distribution's draws against its law (seeded, no timers). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { drawThinkTimeMs, planThinkTime } from '../../runner/script/sleep.ts';
import { createSeededRandom } from '../../runner/random.ts';

const plans = suite('planThinkTime: seconds, strings, ranges and distributions');

const PLANS: Array<[string, Parameters<typeof planThinkTime>[0], ReturnType<typeof planThinkTime>]> = [
  ['seconds as a number (k6)', 1.5, { kind: 'fixed', ms: 1500 }],
  ['a string with a unit', '250ms', { kind: 'fixed', ms: 250 }],
  ['a range object', { min: '200ms', max: 2 }, { kind: 'uniform', minMs: 200, maxMs: 2000 }],
  ['the --think-time text', '200ms..2s', { kind: 'uniform', minMs: 200, maxMs: 2000 }],
  ['exponential', { distribution: 'exponential', mean: '1s' }, { kind: 'exponential', meanMs: 1000 }],
  ['normal', { distribution: 'normal', mean: '1s', stddev: '100ms' }, { kind: 'normal', meanMs: 1000, stddevMs: 100 }],
];
for (const [name, spec, plan] of PLANS) plans(name, () => assert.equal(planThinkTime(spec), plan));

plans('mistakes say what to write instead', () => {
  assert.throws(() => planThinkTime({ min: '2s', max: '1s' }), /max \(1s\) is below min \(2s\); swap them/);
  assert.throws(() => planThinkTime('1s..'), /write MIN\.\.MAX/);
  assert.throws(() => planThinkTime(-1), /duration of 0 or more/);
  assert.throws(() => planThinkTime({ distribution: 'pareto', mean: 1 } as never), /unknown distribution "pareto"/);
});

plans('a missing bound or mean is named, not a TypeError from inside', () => {
  assert.throws(() => planThinkTime({ min: 1 } as never), /sleep\.max: missing is not a duration of 0 or more/);
  assert.throws(() => planThinkTime({ distribution: 'exponential' } as never), /sleep\.mean: missing/);
  assert.throws(() => planThinkTime({ distribution: 'normal', mean: 1 } as never), /sleep\.stddev: missing/);
});

plans('a bad duration names the flag it came from (not the scenario schema)', () => {
  assert.throws(() => planThinkTime('-1s', '--think-time'), /^--think-time: "-1s" is not a duration/);
  assert.throws(() => planThinkTime('abc..2s', '--think-time'), /--think-time\.min: "abc" is not a duration/);
});

plans("a number as a string has no unit: refused, not read as milliseconds (sleep(2) is 2 s, so '2' would mislead)", () => {
  assert.throws(() => planThinkTime('2', '--think-time'), /--think-time: '2' has no unit: write '2s' \(seconds\) or '2ms'/);
  assert.throws(() => planThinkTime('1..2', '--think-time'), /'1' has no unit/);
  assert.equal(planThinkTime('1s..2s'), { kind: 'uniform', minMs: 1000, maxMs: 2000 });
});

const draws = suite('drawThinkTimeMs: each distribution keeps its law (10,000 seeded draws)');

function stats(plan: ReturnType<typeof planThinkTime>): { mean: number; min: number; max: number; sd: number } {
  const random = createSeededRandom(42);
  const values = Array.from({ length: 10_000 }, () => drawThinkTimeMs(plan, random));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, min: Math.min(...values), max: Math.max(...values), sd };
}

draws('fixed: always the value', () => assert.equal(stats({ kind: 'fixed', ms: 300 }), { mean: 300, min: 300, max: 300, sd: 0 }));

draws('uniform 200..2000: within bounds, mean 1100 ± 2%, sd (max-min)/√12', () => {
  const s = stats({ kind: 'uniform', minMs: 200, maxMs: 2000 });
  assert.ok(s.min >= 200 && s.max < 2000);
  assert.ok(Math.abs(s.mean - 1100) < 22, String(s.mean));
  assert.ok(Math.abs(s.sd - 1800 / Math.sqrt(12)) < 15, String(s.sd));
});

draws('exponential mean 1000: mean ≈ sd ≈ 1000 (± 3%), never negative', () => {
  const s = stats({ kind: 'exponential', meanMs: 1000 });
  assert.ok(s.min >= 0);
  assert.ok(Math.abs(s.mean - 1000) < 30, String(s.mean));
  assert.ok(Math.abs(s.sd - 1000) < 30, String(s.sd));
});

draws('normal 1000 ± 100: mean ± 1%, sd ± 3%, clamped to [0, mean + 3σ]', () => {
  const s = stats({ kind: 'normal', meanMs: 1000, stddevMs: 100 });
  assert.ok(Math.abs(s.mean - 1000) < 10, String(s.mean));
  assert.ok(Math.abs(s.sd - 100) < 3, String(s.sd));
  assert.ok(s.min >= 0 && s.max <= 1300);
});

plans.run();
draws.run();
