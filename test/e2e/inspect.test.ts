/**
 * `runner inspect` plans what `runner run` then does, for every executor in the registry: the
 * same scenario file is inspected (--json) and then run against the fake proxy, and the plan's
 * iterations, VUs and arrivals are compared with what the proxy received (its own counters are
 * the ground truth) and with the run's gauges and timeline. Small numbers, no server delay.
 * Inspect itself sends nothing: the proxy sees no connection from it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { inspectCommand, type InspectReport } from '../../runner/inspect/inspect.ts';
import { EXECUTORS, type ScenarioConfig } from '../../runner/executors/index.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { Summary } from '../../runner/results/types.ts';

const planned = suite('inspect: the plan equals what the run does, per executor');

/** One small scenario per executor; every executor of the registry must have one. */
const CASES: Record<string, ScenarioConfig> = {
  'shared-iterations': { executor: 'shared-iterations', vus: 3, iterations: 7 },
  'per-vu-iterations': { executor: 'per-vu-iterations', vus: 2, iterations: 3 },
  batches: { executor: 'batches', vus: 3, iterations: 7 },
  'constant-vus': { executor: 'constant-vus', vus: 2, duration: '1s' },
  'ramping-vus': { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '500ms', target: 3 }, { duration: '500ms', target: 1 }] },
  'constant-arrival-rate': { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '1s', preAllocatedVUs: 2, maxVUs: 10 },
  'ramping-arrival-rate': { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', preAllocatedVUs: 2, maxVUs: 10, stages: [{ duration: '1s', target: 20 }, { duration: '500ms', target: 20 }] },
  // Not scaled through the API here (test/e2e/api.test.ts does): its starting VUs throughout
  'externally-controlled': { executor: 'externally-controlled', vus: 2, maxVUs: 5, duration: '1s' },
};

/** The run's peak VUs (the vus gauge's max) and vus_max, read through thresholds. */
const GAUGES = { vus: ['max>=0'], vus_max: ['value>=0'] };

function actual(summary: Summary, metric: string): number {
  return summary.thresholds.find((t) => t.metric === metric)!.actual!;
}

async function inspect(file: string): Promise<InspectReport> {
  return inspectCommand({ scenarioFile: file, overrides: {}, json: true, stdout: createTextSink(), expectedLatency: '10ms' });
}

planned('every executor in the registry has a case here', () => {
  assert.equal(Object.keys(CASES).sort(), Object.keys(EXECUTORS).sort());
});

for (const [name, config] of Object.entries(CASES)) {
  planned(name, async () => {
    const temp = createTempDir();
    try {
      const file = join(temp.dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ thresholds: GAUGES, scenarios: { s: config } }));
      await withFakeProxy({}, async (proxy) => {
        const report = await inspect(file);
        assert.is(proxy.stats.connections, 0, 'inspect connected to the server');
        const plan = report.scenarios[0]!;
        const { summary, exitCode } = await runAgainst(proxy, { scenarioFile: file, check: false, watchPid: false });
        assert.is(exitCode, ExitCode.ok);
        const accepted = proxy.stats.messagesAccepted;
        assert.is(summary.results.successful, accepted);
        const vusMax = actual(summary, 'vus_max');
        const peakVus = actual(summary, 'vus');
        const mostPlanned = Math.max(...plan.intervals.map((i) => i.value));
        if (plan.unit === 'arrivals') {
          // Every planned arrival was reached (the timeline's planned column) and, with VUs to
          // spare, started and accepted: none dropped.
          const reached = summary.timeline.reduce((sum, window) => sum + (window.planned ?? 0), 0);
          assert.is(reached, plan.iterations);
          assert.is(plan.intervals.reduce((sum, i) => sum + i.value, 0), plan.iterations);
          assert.is(summary.results.dropped_iterations, 0);
          assert.is(accepted, plan.iterations);
          assert.ok(vusMax >= plan.vusMax.min && vusMax <= plan.vusMax.max, `vus_max ${vusMax} in ${plan.vusMax.min}..${plan.vusMax.max}`);
        } else {
          if (plan.iterations !== null) assert.is(accepted, plan.iterations);
          else assert.ok(accepted > 0);
          assert.is(summary.results.iterations, accepted);
          // Closed models allocate what they plan (externally-controlled: its starting VUs, up to maxVUs when scaled)
          assert.is(vusMax, plan.vusMax.min);
          assert.ok(plan.vusMax.max >= plan.vusMax.min);
          // The most VUs planned in any interval is the most that ran at once.
          assert.is(peakVus, mostPlanned);
        }
        assert.is(summary.results.failed, 0);
      });
    } finally {
      temp.remove();
    }
  });
}

planned('the text report: schedule table and sparkline, thresholds as parsed, warnings, nothing sent', async () => {
  const temp = createTempDir();
  try {
    const file = join(temp.dir, 'peak.yaml');
    writeFileSync(file, [
      'thresholds:',
      "  smtp_txn_duration: ['p(95)<0.5s']",
      "  'checks{check:accepted}': [{ threshold: 'rate>0.99', abortOnFail: true, delayAbortEval: '10s' }]",
      'scenarios:',
      '  peak: { executor: ramping-arrival-rate, startRate: 0, timeUnit: 1s, preAllocatedVUs: 5, maxVUs: 20, stages: [{ duration: 4s, target: 40 }] }',
    ].join('\n'));
    const stdout = createTextSink();
    await inspectCommand({ scenarioFile: file, overrides: { scale: 1 }, stdout, expectedLatency: '1s' });
    const text = stdout.text();
    assert.match(text, /arrivals per 1s: ▂▄▆█/);
    assert.match(text, /\s+0ms\s+1s\s+5\n/);
    assert.match(text, /smtp_txn_duration  p\(95\) < 500 ms  \[trend\]/);
    assert.match(text, /checks\{check:accepted\}  rate > 0\.99 \(abortOnFail after 10s\)  \[rate\]/);
    assert.match(text, /maxVUs 20 is too low: at the peak rate of 40\/s and an expected iteration time of 1s, Little's law needs about 40 VUs/);
    assert.match(text, /iterations: 80 \(arrivals planned/);
    assert.match(text, /Nothing was sent/);
  } finally {
    temp.remove();
  }
});

planned.run();
