/** The sweep's text (runner/sweep.ts formatSweep): the curve's table and the knee line people read. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatSweep, type SweepReport } from '../../runner/sweep.ts';
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
