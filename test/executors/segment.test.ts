/**
 * Execution segments (k6's semantics): the segments of one sequence split every executor's
 * plan so that their parts add up exactly to the whole, checked by table on the pure functions
 * and by running every executor's share on the virtual clock (fake-context.ts) against the
 * unsplit run: the same VUs, iterations and arrival instants, none lost, none doubled.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  dealPositions,
  evenSequence,
  formatFraction,
  globalIndexOf,
  ownsIndex,
  parseFraction,
  parseSegment,
  parseSequence,
  segmentArrivals,
  segmentVuSteps,
  shareOf,
  stripeOf,
  type SegmentStripe,
} from '../../runner/executors/segment.ts';
import { executorOf } from '../../runner/executors/index.ts';
import { arrivalTimesMs, constantArrivalTimesMs, vuChanges, vusAt } from '../../runner/executors/schedule.ts';
import type { ExecutorName } from '../../runner/scenario/types.ts';
import { resolveOptions } from '../../runner/scenario/options.ts';
import { InvalidOptionsError } from '../../runner/errors.ts';
import { runOnFake, scenarioFor, stage, type AnyScenario } from './fake-context.ts';

/** Every stripe of a sequence written as k6 writes it ('0,1/3,2/3,1'). */
function stripesOf(sequenceText: string): SegmentStripe[] {
  const points = parseSequence(sequenceText);
  return points.slice(1).map((to, i) => stripeOf({ from: points[i]!, to }, points));
}

/** The sequences every table below runs through: even, uneven, with decimals and percentages. */
const SEQUENCES = ['0,1/4,2/4,3/4,1', '0,1/3,2/3,1', '0,1/7,2/7,3/7,4/7,5/7,6/7,1', '0,1/10,1/3,1', '0,0.25,0.6,1', '0,50%,1', '0,1'];

const parsing = suite('segment: reading segments and sequences');

parsing('points as fractions, decimals and percentages', () => {
  const cases: Array<[string, string]> = [
    ['1/4', '1/4'],
    ['2/4', '1/2'],
    ['0.25', '1/4'],
    ['25%', '1/4'],
    ['12.5%', '1/8'],
    ['0', '0'],
    ['1', '1'],
    ['3/3', '1'],
  ];
  for (const [text, expected] of cases) assert.is(formatFraction(parseFraction(text)), expected, text);
});

parsing('wrong points, segments and sequences say what is wrong', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => parseFraction('abc'), /not a fraction/],
    [() => parseFraction('5/4'), /more than 1/],
    [() => parseFraction('1/0'), /divides by 0/],
    [() => parseFraction('-1/4'), /not a fraction/],
    [() => parseSegment('1/2:1/4'), /starts at or after its end/],
    [() => parseSegment('0:1/4:1/2'), /more than one ':'/],
    [() => parseSequence('0'), /at least two/],
    [() => parseSequence('0,1/2,1/4,1'), /must increase/],
    [() => stripeOf(parseSegment('1/4:3/4'), parseSequence('0,1/4,2/4,3/4,1')), /not one of the sequence/],
  ];
  for (const [call, message] of cases) assert.throws(call, message, String(call));
});

parsing('a lone end means 0:end; without a sequence the segment is filled with 0 and 1 (k6)', () => {
  const stripe = stripeOf(parseSegment('1/4'));
  assert.is(stripe.label, '0:1/4');
  assert.is(stripe.sequence, '0,1/4,1');
  const middle = stripeOf(parseSegment('1/4:1/2'));
  assert.is(middle.sequence, '0,1/4,1/2,1');
  assert.is(middle.index, 1);
  assert.ok(stripeOf(parseSegment('0:1')).isWhole);
});

const stripes = suite('segment: stripes');

stripes('the positions of one lcd are dealt to the segments, each exactly its share', () => {
  for (const sequence of SEQUENCES) {
    const all = stripesOf(sequence);
    const lcd = all[0]!.lcd;
    const owners = new Array<number>(lcd).fill(0);
    for (const stripe of all) for (const p of stripe.owned) owners[p]!++;
    assert.equal(owners, new Array<number>(lcd).fill(1), `${sequence}: every position owned once`);
    const points = parseSequence(sequence);
    all.forEach((stripe, i) => {
      const lengthNum = points[i + 1]!.num * points[i]!.den - points[i]!.num * points[i + 1]!.den;
      const lengthDen = points[i + 1]!.den * points[i]!.den;
      assert.is(stripe.owned.length * lengthDen, lengthNum * lcd, `${sequence}: segment ${i} owns its share`);
    });
  }
});

stripes('shares of every count 0..500 sum to the count, and never shrink as the count grows', () => {
  for (const sequence of SEQUENCES) {
    const all = stripesOf(sequence);
    const previous = all.map(() => 0);
    for (let count = 0; count <= 500; count++) {
      let sum = 0;
      all.forEach((stripe, i) => {
        const share = shareOf(stripe, count);
        assert.ok(share >= previous[i]!, `${sequence} ${stripe.label} at ${count}`);
        previous[i] = share;
        sum += share;
      });
      assert.is(sum, count, `${sequence} count ${count}`);
    }
  }
});

stripes('3 segments of 10 VUs: 4, 3, 3; the 4 equal quarters of 10: 3, 3, 2, 2', () => {
  assert.equal(stripesOf('0,1/3,2/3,1').map((s) => shareOf(s, 10)), [4, 3, 3]);
  assert.equal(stripesOf('0,1/4,2/4,3/4,1').map((s) => shareOf(s, 10)), [3, 3, 2, 2]);
  assert.equal(stripesOf('0,1/10,1/3,1').map((s) => shareOf(s, 30)), [3, 7, 20]);
});

stripes('every index belongs to exactly one segment; a segment\'s local indexes map back to its global ones', () => {
  for (const sequence of SEQUENCES) {
    const all = stripesOf(sequence);
    for (let index = 0; index < 300; index++) assert.is(all.filter((s) => ownsIndex(s, index)).length, 1, `${sequence} index ${index}`);
    for (const stripe of all) {
      const owned = [];
      for (let index = 0; index < 300; index++) if (ownsIndex(stripe, index)) owned.push(index);
      assert.equal(owned.map((_, local) => globalIndexOf(stripe, local)), owned, `${sequence} ${stripe.label}`);
    }
  }
});

stripes('dealing spreads a segment\'s positions: 1/4 of 0,1/4,1 is not a block', () => {
  assert.equal(dealPositions([1, 3], 4), [1, 0, 1, 1]);
  assert.equal(dealPositions([1, 1, 1], 3), [0, 1, 2]);
});

stripes('7 segments of a 1000/min rate: the union of the 7 schedules is the unsplit schedule, instant for instant', () => {
  const whole = [...constantArrivalTimesMs(1000, 60_000, 60_000)];
  assert.is(whole.length, 1000);
  const all = stripesOf('0,1/7,2/7,3/7,4/7,5/7,6/7,1');
  const parts = all.map((stripe) => [...segmentArrivals(stripe, constantArrivalTimesMs(1000, 60_000, 60_000))]);
  assert.equal(parts.map((part) => part.length), [143, 143, 143, 143, 143, 143, 142]);
  assert.equal(parts.flat().sort((a, b) => a - b), whole);
});

stripes('ramping VUs: at every instant the segments\' VUs sum to the whole plan\'s', () => {
  const stages = [stage(10_000, 10), stage(5_000, 3), stage(0, 7), stage(5_000, 0)];
  const changes = vuChanges(2, stages);
  for (const sequence of SEQUENCES) {
    const all = stripesOf(sequence);
    const steps = all.map((stripe) => segmentVuSteps(stripe, 2, changes));
    const instants = [0, ...changes.map((c) => c.atMs), 20_000];
    for (const atMs of instants) {
      const sum = all.reduce((total, stripe, i) => {
        let vus = shareOf(stripe, 2);
        for (const step of steps[i]!) if (step.atMs <= atMs) vus = step.vus;
        return total + vus;
      }, 0);
      assert.is(sum, vusAt(2, stages, atMs), `${sequence} at ${atMs} ms`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Each executor's share, run on the virtual clock against the unsplit run.

/** What a run did, in a form whose parts can be added: VUs, iterations and their start instants. */
interface RunFacts {
  allocatedVus: number;
  started: number;
  dropped: number;
  /** Planned (intended) start of every arrival-rate iteration, or the actual start of a closed one. */
  instants: number[];
}

async function factsOf(scenario: AnyScenario, serviceMs = 100): Promise<RunFacts> {
  const { ctx } = await runOnFake(scenario, { serviceMs });
  return {
    allocatedVus: ctx.allocatedVus.length,
    started: ctx.started.length,
    dropped: ctx.dropped,
    instants: ctx.started.map((s) => s.intendedStartMs ?? s.atMs),
  };
}

/** Runs `scenario` whole and each segment of `sequence`, and checks the parts add up to the whole. */
async function assertSegmentsAddUp(label: string, scenario: AnyScenario, sequence: string, isTimingExact: boolean, serviceMs = 100): Promise<RunFacts[]> {
  const whole = await factsOf(scenario, serviceMs);
  const parts: RunFacts[] = [];
  for (const stripe of stripesOf(sequence)) {
    const share = executorOf(scenario).segment(scenario, stripe);
    assert.is(share.problem, undefined, `${label} ${stripe.label}: ${share.problem}`);
    const segmented = share.scenario as AnyScenario;
    assert.is(segmented.startTimeMs, scenario.startTimeMs, `${label}: startTime is the whole plan's`);
    assert.is(segmented.gracefulStopMs, scenario.gracefulStopMs);
    parts.push(await factsOf(segmented, serviceMs));
  }
  const sum = (pick: (facts: RunFacts) => number): number => parts.reduce((total, facts) => total + pick(facts), 0);
  assert.is(sum((f) => f.started), whole.started, `${label} ${sequence}: iterations`);
  assert.is(sum((f) => f.dropped), whole.dropped, `${label} ${sequence}: dropped`);
  if (!isTimingExact) return parts;
  assert.equal(parts.flatMap((f) => f.instants).sort((a, b) => a - b), [...whole.instants].sort((a, b) => a - b), `${label} ${sequence}: start instants`);
  return parts;
}

interface ExecutorCase {
  name: string;
  executor: ExecutorName;
  options: Partial<AnyScenario>;
  /** VUs allocated by the whole plan, which the segments' VUs must sum to. */
  vus: number;
  /**
   * Whether every iteration starts at the same instant split or not. Not for a shared pool of
   * iterations (shared-iterations, batches): each segment's VUs share only its own part of the
   * pool, so who runs which iteration when depends on the split (as in k6); the counts add up.
   */
  isTimingExact: boolean;
}

const CASES: ExecutorCase[] = [
  { name: 'shared-iterations 100 × 10 VUs', executor: 'shared-iterations', options: { vus: 10, iterations: 100, startTimeMs: 5_000 }, vus: 10, isTimingExact: false },
  { name: 'per-vu-iterations 10 VUs × 7', executor: 'per-vu-iterations', options: { vus: 10, iterations: 7 }, vus: 10, isTimingExact: true },
  { name: 'batches 25 in 10s', executor: 'batches', options: { vus: 10, iterations: 25 }, vus: 10, isTimingExact: false },
  { name: 'constant-vus 10 for 2 s', executor: 'constant-vus', options: { vus: 10, durationMs: 2_000 }, vus: 10, isTimingExact: true },
  {
    name: 'ramping-vus 2 → 10 → 3 → 7 → 0',
    executor: 'ramping-vus',
    options: { startVUs: 2, stages: [stage(10_000, 10), stage(5_000, 3), stage(0, 7), stage(5_000, 0)], gracefulStopMs: 0 },
    vus: 10,
    isTimingExact: true,
  },
  {
    name: 'constant-arrival-rate 1000/min for 1 min',
    executor: 'constant-arrival-rate',
    options: { rate: 1000, timeUnitMs: 60_000, durationMs: 60_000, preAllocatedVUs: 14, maxVUs: 14 },
    vus: 14,
    isTimingExact: true,
  },
  {
    name: 'ramping-arrival-rate 0 → 50/s → 10/s',
    executor: 'ramping-arrival-rate',
    options: { startRate: 0, stages: [stage(4_000, 50), stage(2_000, 10)], timeUnitMs: 1000, preAllocatedVUs: 21, maxVUs: 21, startTimeMs: 1_000 },
    vus: 21,
    isTimingExact: true,
  },
];

const executors = suite('segment: every executor\'s share adds up to the whole plan');

for (const testCase of CASES) {
  executors(`${testCase.name}: 3 uneven thirds, quarters and 7 segments`, async () => {
    const scenario = scenarioFor(testCase.executor, testCase.options);
    for (const sequence of ['0,1/3,2/3,1', '0,1/4,2/4,3/4,1', '0,1/7,2/7,3/7,4/7,5/7,6/7,1', '0,1/10,1/3,1']) {
      const stripes = stripesOf(sequence);
      const vus = stripes.reduce((total, stripe) => {
        const share = executorOf(scenario).segment(scenario, stripe).scenario as Partial<AnyScenario>;
        return total + (share.vus ?? 0);
      }, 0);
      if ('vus' in testCase.options) assert.is(vus, testCase.vus, `${testCase.name} ${sequence}: vus`);
      const parts = await assertSegmentsAddUp(testCase.name, scenario, sequence, testCase.isTimingExact);
      const allocated = parts.reduce((total, facts) => total + facts.allocatedVus, 0);
      // Iteration-count executors never allocate more VUs than their iterations; the others
      // allocate their share of the whole plan's VUs exactly.
      if (testCase.executor !== 'batches' && testCase.executor !== 'shared-iterations') assert.is(allocated, testCase.vus, `${testCase.name} ${sequence}: allocated VUs`);
    }
  });
}

executors('arrival-rate pool: preAllocatedVUs and maxVUs are split like any count', () => {
  const scenario = scenarioFor('constant-arrival-rate', { rate: 10, durationMs: 1_000, preAllocatedVUs: 5, maxVUs: 11 });
  const shares = stripesOf('0,1/3,2/3,1').map((stripe) => executorOf(scenario).segment(scenario, stripe).scenario as AnyScenario);
  assert.equal(shares.map((s) => [s.preAllocatedVUs, s.maxVUs]), [[2, 4], [2, 4], [1, 3]]);
});

executors('a share with work but no VU is a problem that says what to change', () => {
  const shared = scenarioFor('shared-iterations', { vus: 1, iterations: 10 });
  const second = stripesOf('0,1/2,1')[1]!;
  assert.match(executorOf(shared).segment(shared, second).problem ?? '', /segment 1\/2:1 gets 5 of the 10 iterations but none of the 1 vus: raise vus/);
  const rate = scenarioFor('constant-arrival-rate', { rate: 10, durationMs: 1_000, preAllocatedVUs: 1, maxVUs: 1 });
  assert.match(executorOf(rate).segment(rate, second).problem ?? '', /gets 5 of the 10 arrivals but none of the 1 maxVUs/);
  // A closed model without VUs in a segment has no work there: no problem, it runs nothing.
  const constant = scenarioFor('constant-vus', { vus: 1, durationMs: 1_000 });
  assert.is(executorOf(constant).segment(constant, second).problem, undefined);
});

const flags = suite('segment: --execution-segment and --execution-segment-sequence');

flags('the flags give each scenario its share; bad ones are reported with the flag', async () => {
  const options = { scenarios: { a: { executor: 'constant-vus' as const, vus: 10, duration: '10s' }, b: { executor: 'shared-iterations' as const, vus: 3, iterations: 30 } } };
  const context = { baseDir: process.cwd(), env: {} };
  const shares = [];
  for (const segment of ['0:1/3', '1/3:2/3', '2/3:1']) {
    const resolved = await resolveOptions(options, { executionSegment: segment, executionSegmentSequence: '0,1/3,2/3,1' }, context);
    shares.push(resolved.scenarios.map((s) => { const any = s as unknown as { vus: number; iterations?: number }; return 'iterations' in s ? [any.vus, any.iterations] : [any.vus]; }));
  }
  assert.equal(shares, [[[4], [1, 10]], [[3], [1, 10]], [[3], [1, 10]]]);
  const whole = await resolveOptions(options, {}, context);
  assert.is(whole.scenarios[0]!.segment, undefined);
  for (const [cli, message] of [
    [{ executionSegment: '3/4:1/4' }, /--execution-segment: .*starts at or after its end/],
    [{ executionSegmentSequence: '0,1/2,1' }, /needs --execution-segment/],
    [{ executionSegment: '0:1/2', executionSegmentSequence: '0,1/3,1' }, /not one of the sequence 0,1\/3,1/],
  ] as const) {
    try {
      await resolveOptions(options, cli, context);
      assert.unreachable(JSON.stringify(cli));
    } catch (error) {
      assert.instance(error, InvalidOptionsError);
      assert.match((error as Error).message, message);
    }
  }
});

flags('evenSequence(N) is 0, 1/N, ..., 1', () => {
  assert.equal(evenSequence(4).map(formatFraction), ['0', '1/4', '1/2', '3/4', '1']);
});

parsing.run();
stripes.run();
executors.run();
flags.run();
