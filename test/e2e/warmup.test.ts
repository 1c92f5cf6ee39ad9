/**
 * Warm-up: the guide's "high latency on the first batch only" (the proxy refreshing tokens on each
 * account's first AUTH) is left out of the summary and thresholds, and kept in the timeline.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';

const scenarioFile = fileURLToPath(new URL('./data/warmup.yaml', import.meta.url));
// Each account's first AUTH waits 600 ms: only the warm-up sees it.
const proxyOptions = { firstAuthDelayMs: 600 };

const warmup = suite('warm-up');

warmup('warmup: 2s keeps the slow first AUTHs out of the figures and thresholds, not out of the timeline', async () => {
  await withFakeProxy(proxyOptions, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile, check: false });
    assert.is(exitCode, ExitCode.ok, JSON.stringify(summary.thresholds));
    assert.ok(summary.results.phases['auth']!.max_seconds! < 0.2, `auth max ${summary.results.phases['auth']!.max_seconds}`);
    const endedAt = summary.results.warmup!.ended_at_seconds!;
    assert.ok(endedAt >= 1.9 && endedAt <= 2.5, `warm-up ended at ${endedAt}`);
    // Measured part only: total time is the 5 s run minus the 2 s warm-up (plus the drain).
    assert.ok(summary.results.total_time_seconds > 2.5 && summary.results.total_time_seconds < 3.8, `total ${summary.results.total_time_seconds}`);
    const timelineAccepted = summary.timeline.reduce((n, p) => n + p.accepted, 0);
    assert.is(timelineAccepted, proxy.stats.messagesAccepted);
    assert.ok(summary.results.successful < timelineAccepted, 'the warm-up messages should not be in the totals');
    assert.match(output, /Warm-up: the first 2\.\d s \(2s\) are left out of these figures/);
  });
});

warmup('without the warm-up the same run fails the AUTH threshold (the ground truth for the test above)', async () => {
  await withFakeProxy(proxyOptions, async (proxy) => {
    const { summary, exitCode } = await runAgainst(proxy, { scenarioFile, check: false, overrides: { warmup: 0 } });
    assert.is(exitCode, ExitCode.thresholdsFailed);
    assert.ok(summary.results.phases['auth']!.max_seconds! >= 0.6);
    assert.is(summary.results.successful, proxy.stats.messagesAccepted);
  });
});

warmup('a warm-up in messages: the first 40 are left out', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary } = await runAgainst(proxy, { numEmails: 100, concurrent: 1, check: false, overrides: { warmup: 40 } });
    assert.is(proxy.stats.messagesAccepted, 100);
    assert.is(summary.results.successful, 60);
    assert.is(summary.results.warmup!.asked, '40 messages');
  });
});

warmup.run();
