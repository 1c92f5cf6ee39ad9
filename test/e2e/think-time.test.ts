/**
 * Think time end to end against the fake proxy: `--think-time` (the default iteration) and
 * ctx.sleep() (a custom one) count in iteration_duration and in no SMTP latency; a mistake is an
 * invalid-options error. The checks are relations between figures, never the machine's speed:
 * an iteration holds its message and its pause, so it lasts at least the pause more than it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withFakeProxy, runAgainst } from '../helpers.ts';
import { ExitCode, InvalidOptionsError } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';

const thinking = suite('think time: in iteration_duration, in no message latency');

const PAUSE_MS = 300;
/** performance.now() and timers may disagree by a fraction of a ms. */
const SLACK_MS = 1;

function actual(summary: { thresholds: Array<{ metric: string; condition: string; actual: number | null }> }, metric: string, condition: string): number {
  return summary.thresholds.find((t) => t.metric === metric && t.condition === condition)!.actual!;
}

thinking('--think-time 300ms: every iteration lasts its message plus 300 ms', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = {
      thresholds: { iteration_duration: ['min>=0', 'avg>=0'], smtp_txn_duration: ['avg>=0', 'max>=0'] },
      scenarios: { paced: { executor: 'shared-iterations', vus: 2, iterations: 4 } },
    };
    const { summary, exitCode } = await runAgainst(proxy, { scenario, check: false, overrides: { thinkTime: `${PAUSE_MS}ms` } });
    assert.is(exitCode, ExitCode.ok);
    assert.is(proxy.stats.messagesAccepted, 4);
    assert.ok(actual(summary, 'iteration_duration', 'min>=0') >= PAUSE_MS - SLACK_MS);
    // Were the pause inside the message's latency, the averages would be about equal.
    assert.ok(actual(summary, 'smtp_txn_duration', 'avg>=0') <= actual(summary, 'iteration_duration', 'avg>=0') - (PAUSE_MS - SLACK_MS));
    assert.is(summary.results.latency.count, 4);
  });
});

thinking('ctx.sleep() in a custom iteration: in iteration_duration, in neither service nor response time', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = {
      thresholds: { iteration_duration: ['min>=0', 'max>=0'], smtp_txn_response_time: ['max>=0'] },
      scenarios: { paced: { executor: 'constant-arrival-rate', rate: 4, timeUnit: '1s', duration: '1s', preAllocatedVUs: 4, maxVUs: 4 } },
      iteration: async (ctx) => {
        await ctx.sleep({ min: `${PAUSE_MS}ms`, max: `${PAUSE_MS}ms` });
        await ctx.smtp.send();
      },
    };
    const { summary, exitCode } = await runAgainst(proxy, { scenario, check: false });
    assert.is(exitCode, ExitCode.ok);
    assert.is(proxy.stats.messagesAccepted, summary.results.successful);
    assert.ok(summary.results.successful >= 1);
    const iterationMin = actual(summary, 'iteration_duration', 'min>=0');
    assert.ok(iterationMin >= PAUSE_MS - SLACK_MS);
    // Response time runs from the planned start moved past the pause: an iteration minus its pause
    // (plus a late start, which 4 free VUs keep far below half the pause).
    assert.ok(actual(summary, 'smtp_txn_response_time', 'max>=0') < actual(summary, 'iteration_duration', 'max>=0') - PAUSE_MS / 2);
  });
});

thinking('a bad --think-time, or one beside iteration(ctx), is an invalid-options error saying what to write', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 1 } } };
    const bad = await runAgainst(proxy, { scenario, check: false, overrides: { thinkTime: '2s..1s' } }).catch((error) => error);
    assert.instance(bad, InvalidOptionsError);
    assert.match(bad.message, /--think-time: max \(1s\) is below min \(2s\); swap them/);
    const withCode = await runAgainst(proxy, { scenario: { ...scenario, iteration: async () => {} }, check: false, overrides: { thinkTime: '1s' } }).catch((error) => error);
    assert.match(withCode.message, /--think-time: the scenario file has its own iteration\(ctx\); call sleep\(\)/);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

thinking.run();
