/** The sweep's text (runner/sweep.ts formatSweep): the curve's table and the knee line people read; its usage checks. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatSweep, runSweep, type SweepOptions, type SweepReport } from '../../runner/sweep.ts';
import { UsageError } from '../../runner/errors.ts';
import { findKnee } from '../../runner/analysis/knee.ts';
import type { SweepStep } from '../../runner/results/sweep.ts';
import type { Summary } from '../../runner/results/types.ts';

const text = suite('sweep text');

/** A step with the figures the text shows (the summary is not read by formatSweep). */
function step(load: number, msgsPerSecond: number, p50: number | null, p95: number | null, p99: number | null): SweepStep {
  return { load, msgs_per_second: msgsPerSecond, p50_ms: p50, p95_ms: p95, p99_ms: p99, success_rate: 1, total_requests: 100, failed: 0, dropped_iterations: 0, duration_seconds: 1, results_file: null, summary: {} as Summary };
}

text('the table\'s latency columns hold numbers (their header says ms); the knee line gives the unit', () => {
  const steps = [step(2, 500, 2, 10.4, 11.25), step(4, 1200, 2.4, 4.1, 140.2), step(8, 1210, null, null, null)];
  const verdict = findKnee(steps.map((s) => ({ load: s.load, msgsPerSecond: s.msgs_per_second, p95Ms: s.p95_ms })));
  const report = { mode: 'concurrent', steps, knee: steps[verdict.index!]!, stop_reason: null, target: '127.0.0.1:2525' } as unknown as SweepReport;
  const lines = formatSweep(report, verdict).split('\n');
  assert.match(lines[1]!, /p50 ms\s+p95 ms\s+p99 ms/);
  assert.not.match(lines.slice(2, 5).join('\n'), / ms/, 'no unit in the cells');
  assert.match(lines[2]!, /\s2\s+10\.4\s+11\.3\s/);
  assert.match(lines[3]!, /\s2\.4\s+4\.1\s+140\s/);
  assert.match(lines[4]!, /\s-\s+-\s+-\s/);
  assert.match(lines.at(-1)!, /p95 4\.1 ms;/);
});

text.run();

const usage = suite('sweep usage checks (before any step)');

const ZERO_CASES: Array<{ name: string; options: Partial<SweepOptions>; message: RegExp }> = [
  { name: '--step-duration 0s', options: { mode: 'concurrent', loads: [1], stepDurationMs: 0 }, message: /--step-duration: must be more than 0/ },
  { name: '--time-unit 0s', options: { mode: 'rate', loads: [5], timeUnitMs: 0, stepDurationMs: 1000 }, message: /--time-unit: must be more than 0/ },
  { name: '--max-p95 0s', options: { mode: 'concurrent', loads: [1], numEmails: 1, rule: { maxP95Ms: 0 } }, message: /--max-p95: must be more than 0/ },
];

for (const { name, options, message } of ZERO_CASES) {
  usage(`${name} is a usage error naming the flag, not a scenario option`, async () => {
    const output: string[] = [];
    const stdout = { write: (text: string) => output.push(text) } as unknown as NodeJS.WritableStream;
    try {
      await runSweep({ overrides: {}, stdout, stderr: stdout, ...options } as SweepOptions);
      assert.unreachable('accepted');
    } catch (error) {
      assert.instance(error, UsageError);
      assert.match((error as Error).message, message);
      assert.not.match((error as Error).message, /scenarios\.|Infinity/);
    }
    assert.equal(output, [], 'refused before the first step');
  });
}

usage.run();
