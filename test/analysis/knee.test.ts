/**
 * The knee rule of `runner sweep` (runner/analysis/knee.ts) as a table: curves people see, and
 * where the knee must land on each.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_KNEE_RULE, findKnee, type KneeRule, type KneeStep } from '../../runner/analysis/knee.ts';

/** Builds steps from [load, msgs/s, p95 ms] triples. */
function curve(...points: Array<[number, number, number | null]>): KneeStep[] {
  return points.map(([load, msgsPerSecond, p95Ms]) => ({ load, msgsPerSecond, p95Ms }));
}

interface Case {
  name: string;
  steps: KneeStep[];
  rule?: Partial<KneeRule>;
  /** Load of the expected knee, or null for none. */
  kneeLoad: number | null;
  isWithinSweep: boolean;
  reason: RegExp;
}

const CASES: Case[] = [
  {
    name: 'the guide\'s curve: grows to 25, flat after → 25',
    steps: curve([5, 200, 20], [10, 390, 21], [25, 900, 24], [50, 920, 45], [100, 910, 90]),
    kneeLoad: 25,
    isWithinSweep: true,
    reason: /above it throughput grew by 5% or less or p95 went beyond 40 ms/,
  },
  {
    name: 'growth of exactly 5% is not growth (strictly more than minGain)',
    steps: curve([10, 100, 10], [20, 105, 10]),
    kneeLoad: 10,
    isWithinSweep: true,
    reason: /throughput grew by 5% or less/,
  },
  {
    name: 'growth of 5.5% is growth',
    steps: curve([10, 100, 10], [20, 105.5, 10]),
    kneeLoad: 20,
    isWithinSweep: false,
    reason: /the knee may lie beyond this sweep/,
  },
  {
    name: 'throughput still grows but p95 doubles past the bound → the last step within it',
    steps: curve([5, 100, 10], [10, 200, 15], [20, 380, 21], [40, 600, 35]),
    kneeLoad: 10,
    isWithinSweep: true,
    reason: /p95 went beyond 20 ms/,
  },
  {
    name: 'p95 exactly at the bound holds',
    steps: curve([5, 100, 10], [10, 200, 20]),
    kneeLoad: 10,
    isWithinSweep: false,
    reason: /beyond this sweep/,
  },
  {
    name: '--max-p95 replaces the factor',
    steps: curve([5, 100, 10], [10, 200, 25], [20, 380, 31]),
    rule: { maxP95Ms: 30 },
    kneeLoad: 10,
    isWithinSweep: true,
    reason: /p95 went beyond 30 ms.*\(--max-p95\)/,
  },
  {
    name: '--max-p95 below the lowest step\'s p95: no knee',
    steps: curve([5, 100, 40], [10, 200, 45]),
    rule: { maxP95Ms: 30 },
    kneeLoad: null,
    isWithinSweep: false,
    reason: /no step kept p95 ≤ 30 ms/,
  },
  {
    name: 'a dip then a recovery to the old level is not growth (compared with the best lower step)',
    steps: curve([5, 100, 10], [10, 200, 11], [20, 150, 12], [40, 205, 13]),
    kneeLoad: 10,
    isWithinSweep: true,
    reason: /grew by 5% or less/,
  },
  {
    name: 'a dip then real growth beyond the old best is growth',
    steps: curve([5, 100, 10], [10, 200, 11], [20, 150, 12], [40, 260, 13]),
    kneeLoad: 40,
    isWithinSweep: false,
    reason: /beyond this sweep/,
  },
  {
    name: 'the minGain is a parameter: 20% needed',
    steps: curve([5, 100, 10], [10, 150, 10], [20, 170, 10]),
    rule: { minGain: 0.2 },
    kneeLoad: 10,
    isWithinSweep: true,
    reason: /grew by 20% or less/,
  },
  {
    name: 'a lowest step that accepted nothing: the bound comes from the next; it never holds itself',
    steps: curve([1, 0, null], [2, 50, 10], [4, 100, 12]),
    kneeLoad: 4,
    isWithinSweep: false,
    reason: /p95 ≤ 20 ms \(2× the lowest step's\)/,
  },
  {
    name: 'nothing accepted anywhere: no knee',
    steps: curve([1, 0, null], [2, 0, null]),
    kneeLoad: null,
    isWithinSweep: false,
    reason: /no step accepted any message/,
  },
  {
    name: 'a single step is its own knee (not within the sweep)',
    steps: curve([10, 300, 30]),
    kneeLoad: 10,
    isWithinSweep: false,
    reason: /beyond this sweep/,
  },
  {
    name: 'no steps (interrupted before the first finished)',
    steps: [],
    kneeLoad: null,
    isWithinSweep: false,
    reason: /no steps were run/,
  },
  {
    name: 'throughput falls after the peak (overload): the peak',
    steps: curve([10, 400, 20], [20, 780, 25], [40, 610, 38], [80, 300, 39]),
    kneeLoad: 20,
    isWithinSweep: true,
    reason: /grew by 5% or less/,
  },
];

const rule = suite('knee: the rule on typical curves');

rule('defaults: 5% growth, p95 within 2× the lowest step\'s', () => {
  assert.equal(DEFAULT_KNEE_RULE, { minGain: 0.05, p95Factor: 2 });
});

for (const testCase of CASES) {
  rule(testCase.name, () => {
    const verdict = findKnee(testCase.steps, testCase.rule);
    const kneeLoad = verdict.index === undefined ? null : testCase.steps[verdict.index]!.load;
    assert.is(kneeLoad, testCase.kneeLoad, 'knee load');
    assert.is(verdict.isWithinSweep, testCase.isWithinSweep, 'within the sweep');
    assert.match(verdict.reason, testCase.reason);
    assert.is(verdict.steps.length, testCase.steps.length);
  });
}

const details = suite('knee: per-step verdicts');

details('gain is against the best lower step; the baseline has none', () => {
  const verdict = findKnee(curve([5, 100, 10], [10, 200, 11], [20, 150, 12], [40, 210, 30]));
  assert.equal(
    verdict.steps.map((step) => [step.gain === null ? null : +step.gain.toFixed(3), step.grows, step.holds]),
    [
      [null, true, true],
      [1, true, true],
      [-0.25, false, true],
      [0.05, false, false],
    ],
  );
  assert.is(verdict.p95BoundMs, 20);
});

rule.run();
details.run();
