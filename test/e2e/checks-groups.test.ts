/**
 * check() and ctx.group() end to end against the fake proxy: the checks rate and its check, group
 * and scenario tags reach thresholds, the results file (schema-valid) and the console's ✓/✗ list;
 * SMTP samples taken inside a group carry its path; ctx.vuState lives as long as its VU.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { readResultsFile } from '../../runner/results/read.ts';

const data = (name: string) => fileURLToPath(new URL(`./data/${name}`, import.meta.url));

const scripting = suite('check() and ctx.group(): a scenario file end to end');

scripting('checks and groups reach thresholds, the results file and the console, with exact counts', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const resultsFile = join(temp.dir, 'results.json');
      const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile: data('checks-groups.ts'), check: false, out: [resultsFile] });
      assert.is(exitCode, ExitCode.ok, JSON.stringify(summary.thresholds.filter((t) => !t.ok)));
      assert.is(summary.thresholds.length, 9);
      assert.is(proxy.stats.messagesAccepted, 20);

      // 20 iterations × 4 conditions; passes: is even 10, always 20, imported 20, throws 0.
      const checks = summary.custom_metrics['checks']!;
      assert.is(checks.type, 'rate');
      assert.is(checks.count, 80);
      assert.is(checks.rate, 50 / 80);
      const byName = (name: string) => checks.tag_sets!.filter((set) => set.tags['check'] === name);
      assert.equal(byName('always').map((set) => [set.tags, set.count, set.rate]), [[{ check: 'always', scenario: 'grouped' }, 20, 1]]);
      assert.equal(byName('imported').map((set) => [set.tags, set.count]), [[{ check: 'imported' }, 20]]);
      assert.equal(byName('throws').map((set) => set.rate), [0]);

      // Samples inside ::send::inner carry its path; the whole test is still the sum.
      // Every group entered is listed; ::send sent nothing itself (its subgroup did).
      assert.equal(Object.keys(summary.groups ?? {}), ['::send', '::send::inner']);
      assert.is(summary.groups!['::send']!.total_requests, 0);
      assert.is(summary.groups!['::send::inner']!.successful, 10);
      assert.is(summary.results.successful, 20);
      assert.is(summary.accounts[Object.keys(summary.accounts)[0]!]!.successful, 20);
      const durations = summary.custom_metrics['group_duration']!;
      assert.equal(durations.tag_sets!.map((set) => [set.tags['group'], set.count]), [['::send', 10], ['::send::inner', 10]]);
      // The outer group lasts at least as long as the inner one.
      assert.ok(durations.tag_sets![0]!.max! >= durations.tag_sets![1]!.max!);

      const loaded = await readResultsFile(resultsFile);
      assert.equal(loaded.summary!.groups, JSON.parse(JSON.stringify(summary.groups)));
      assert.equal(loaded.summary!.custom_metrics['checks'], JSON.parse(JSON.stringify(checks)));

      assert.match(output, /Checks:\n {2}✓ always {2}20\/20\n {2}✓ imported {2}20\/20\n {2}✗ is even {2}50\.0% — ✓ 10 \/ ✗ 10\n {2}✗ throws {2}0\.0% — ✓ 0 \/ ✗ 20\n {2}checks: 62\.50% {2}✓ 50 {2}✗ 30/);
      assert.match(output, /Groups \(group_duration[^\n]*\n[^\n]*group[^\n]*\n {2}::send +10 [^\n]*\n {2}::send::inner +10 [^\n]* 10 +0 /);
      assert.is(output.match(/check 'throws' threw \(counted as failed\)/g)?.length, 1, output);
      assert.not.match(output, /Custom metrics:[^]*checks:/);
    });
  } finally {
    temp.remove();
  }
});

scripting('custom metrics added without tags inside a group carry its tags: thresholds and the results file see only the group\'s samples', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const resultsFile = join(temp.dir, 'results.json');
      const { summary, exitCode } = await runAgainst(proxy, { scenarioFile: data('group-custom-metrics.ts'), check: false, out: [resultsFile] });
      assert.is(exitCode, ExitCode.ok, JSON.stringify(summary.thresholds.filter((t) => !t.ok)));
      assert.is(proxy.stats.messagesAccepted, 20);
      assert.equal(summary.thresholds.map((t) => [t.metric, t.actual]), [['my_trend{group:::a}', 10], ['my_trend{group:::a}', 100], ['my_trend', 20], ['inner_count{group:::a::b}', 10], ['checks{group:::a}', 1]]);
      const loaded = await readResultsFile(resultsFile);
      const trend = loaded.summary!.custom_metrics['my_trend']!;
      // The group's 10 (values ≥ 100) apart from the 10 taken outside any group (value 1)
      assert.equal(trend.tag_sets!.map((set) => [set.tags, set.count, set.min]), [[{}, 10, 1], [{ group: '::a', scenario: 'g' }, 10, 100]]);
      assert.equal(loaded.summary!.custom_metrics['inner_count']!.tag_sets!.map((set) => [set.tags, set.count]), [[{ group: '::a::b', scenario: 'g' }, 10]]);
    });
  } finally {
    temp.remove();
  }
});

scripting.run();
