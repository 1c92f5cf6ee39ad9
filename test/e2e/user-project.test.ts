/**
 * A scenario file in a user's own folder, outside this repository: `import … from 'runner'` and
 * its local imports resolve, setup() feeds every iteration, teardown() gets the setup data.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../cli-process.ts';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';

const project = suite('a user project');

project("the package's library entry (dist/index.js) loads in plain Node ESM, and its Trend records", () => {
  // Self-reference by package name, as a user's own tooling would import it: the "exports" map
  // must lead to a module that loads without runner's launcher or tsx.
  const script = `
    const { Trend, defineScenario } = await import('runner');
    const trend = new Trend('library_entry_check', true);
    for (let ms = 1; ms <= 100; ms++) trend.add(ms);
    const sink = trend.metric.untagged.trend;
    console.log(JSON.stringify({ count: sink.count, p50: sink.percentile(50), max: sink.percentile(100), scenario: typeof defineScenario({}) }));
  `;
  const ran = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.is(ran.status, 0, ran.stderr);
  const result = JSON.parse(ran.stdout) as { count: number; p50: number; max: number; scenario: string };
  assert.is(result.count, 100);
  assert.is(result.max, 100_000, 'µs: exact max');
  assert.ok(result.p50 >= 50_000 && result.p50 < 50_000 * (1 + 1 / 1024), `p50 ${result.p50}`);
  assert.is(result.scenario, 'object');
});

project('scenario outside the repo: runner import, local import, setup → iterations → teardown', async () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'recipients.ts'), "export const recipients = ['qa@example.com', 'ops@example.com'];\n");
    writeFileSync(join(temp.dir, 'scenario.ts'), `
import { defineScenario, Counter } from 'runner';
import { writeFileSync } from 'node:fs';
import { recipients } from './recipients.ts';

const seen = new Counter('iterations_with_setup_data');

export default defineScenario<{ token: string }>({
  smtp: { to: recipients },
  thresholds: { iterations_with_setup_data: ['count==12'] },
  scenarios: { mine: { executor: 'shared-iterations', vus: 3, iterations: 12 } },
  setup: () => ({ token: 'from-setup' }),
  async iteration(ctx) {
    await ctx.smtp.send();
    if (ctx.data.token === 'from-setup') seen.add(1);
  },
  teardown(data) {
    writeFileSync(${JSON.stringify(join(temp.dir, 'teardown.json'))}, JSON.stringify(data));
  },
});
`);
    await withFakeProxy({}, async (proxy) => {
      const { summary, exitCode } = await runAgainst(proxy, { scenarioFile: join(temp.dir, 'scenario.ts'), check: false });
      assert.is(exitCode, ExitCode.ok, JSON.stringify(summary.thresholds));
      assert.is(proxy.stats.messagesAccepted, 12);
      assert.is(proxy.stats.recipientsAccepted, 24);
      assert.is(summary.custom_metrics['iterations_with_setup_data']!.count, 12);
    });
    assert.equal(JSON.parse(readFileSync(join(temp.dir, 'teardown.json'), 'utf8')), { token: 'from-setup' });
  } finally {
    temp.remove();
  }
});

project('setup() that throws: exit 107 and nothing sent', async () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'scenario.ts'), `
import { defineScenario } from 'runner';
export default defineScenario({
  scenarios: { mine: { executor: 'shared-iterations', vus: 1, iterations: 5 } },
  setup: () => { throw new Error('no token for the test account'); },
});
`);
    await withFakeProxy({}, async (proxy) => {
      try {
        await runAgainst(proxy, { scenarioFile: join(temp.dir, 'scenario.ts'), check: false });
        assert.unreachable('should have thrown');
      } catch (error) {
        assert.is((error as { exitCode?: number }).exitCode, ExitCode.scriptError);
        assert.match((error as Error).message, 'no token for the test account');
      }
      assert.is(proxy.stats.connections, 0);
    });
  } finally {
    temp.remove();
  }
});

project.run();
