/**
 * `runner archive`: an archive built in one folder runs from another with the original files
 * deleted: the same plan (`inspect --json` equal, in-process and through the built CLI) and the
 * same counts against the fake proxy (its own counters, per sender: the accounts file travelled),
 * with the flags given to `archive` recorded and a run's own flags on top.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { runCli } from '../cli-process.ts';
import { inspectCommand } from '../../runner/inspect/inspect.ts';
import { archiveCommand } from '../../runner/archive/archive.ts';
import { ExitCode, RunnerError } from '../../runner/errors.ts';
import type { CliOverrides } from '../../runner/scenario/options.ts';

const archive = suite('archive: built here, run there, originals gone');

/** A scenario with a local import, an accounts file in a subfolder and a YAML-free TypeScript shape. */
function writeProject(dir: string): string {
  mkdirSync(join(dir, 'lib'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'lib', 'sizes.ts'), 'export const SIZE = 777;\n');
  writeFileSync(join(dir, 'data', 'senders.json'), JSON.stringify([{ email: 'sales@company.com' }, { email: 'support@company.com' }]));
  writeFileSync(join(dir, 'load.ts'), [
    "import { defineScenario } from 'runner';",
    "import { SIZE } from './lib/sizes.ts';",
    'export default defineScenario({',
    '  smtp: { messageSize: SIZE },',
    "  accounts: { file: './data/senders.json' },",
    "  thresholds: { smtp_txn_failed: ['rate<0.01'], 'iterations{scenario:paced}': ['count>=1'] },",
    '  scenarios: {',
    "    counted: { executor: 'shared-iterations', vus: 2, iterations: 4 },",
    "    paced: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s', preAllocatedVUs: 2, maxVUs: 4 },",
    '  },',
    '});',
  ].join('\n'));
  return join(dir, 'load.ts');
}

const RECORDED: CliOverrides = { iterations: 6, tags: { build: 'b1' } };

async function inspectJson(file: string, overrides: CliOverrides, cwd: string) {
  const stdout = createTextSink();
  await inspectCommand({ scenarioFile: file, overrides, json: true, stdout, cwd, expectedLatency: '50ms' });
  return JSON.parse(stdout.text()) as Record<string, unknown>;
}

archive('same plan (inspect --json) and same counts, from another folder, with the originals deleted', async () => {
  const here = createTempDir();
  const there = createTempDir();
  try {
    const scenario = writeProject(here.dir);
    const planHere = await inspectJson(scenario, RECORDED, here.dir);
    const countsHere = await withFakeProxy({}, async (proxy) => {
      const { exitCode, summary } = await runAgainst(proxy, { scenarioFile: scenario, overrides: RECORDED, check: false, watchPid: false });
      assert.is(exitCode, ExitCode.ok);
      return { accepted: proxy.stats.messagesAccepted, perAccount: proxy.stats.perAccount, successful: summary.results.successful };
    });
    assert.is(countsHere.accepted, 6 + 10);

    const stderr = createTextSink();
    const outcome = await archiveCommand({ scenarioFile: 'load.ts', overrides: { ...RECORDED, password: 'secret-pass' }, out: 'run.tar', cwd: here.dir, stdout: createTextSink(), stderr });
    assert.match(stderr.text(), /--password is not recorded in the archive/);
    assert.equal(outcome.manifest.overrides, RECORDED);
    assert.equal(outcome.manifest.files.map((f) => f.path), ['scenario/data/senders.json']);
    renameSync(join(here.dir, 'run.tar'), join(there.dir, 'run.tar'));
    rmSync(here.dir, { recursive: true, force: true });
    assert.not.ok(existsSync(scenario));

    const planThere = await inspectJson('run.tar', {}, there.dir);
    assert.equal(planThere, planHere);
    // Through the built CLI too, from the other folder
    const cli = await runCli(['inspect', 'run.tar', '--json', '--expected-latency', '50ms'], { cwd: there.dir });
    assert.is(cli.code, 0, cli.stderr);
    assert.equal(JSON.parse(cli.stdout), planHere);

    await withFakeProxy({}, async (proxy) => {
      const { exitCode, summary } = await runAgainst(proxy, { scenarioFile: 'run.tar', cwd: there.dir, check: false, watchPid: false });
      assert.is(exitCode, ExitCode.ok);
      assert.is(proxy.stats.messagesAccepted, countsHere.accepted);
      assert.equal(proxy.stats.perAccount, countsHere.perAccount);
      assert.is(summary.results.successful, countsHere.successful);
    });

    // A run's own flags go on top of the recorded ones
    await withFakeProxy({}, async (proxy) => {
      await runAgainst(proxy, { scenarioFile: 'run.tar', cwd: there.dir, check: false, watchPid: false, overrides: { iterations: 2, scenario: ['counted'] } });
      assert.is(proxy.stats.messagesAccepted, 2);
    });
  } finally {
    here.remove();
    there.remove();
  }
});

archive('not an archive, a damaged one, an archive of an archive: clear errors', async () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'fake.tar'), 'not a tar at all\n'.repeat(64));
    const notTar = await inspectJson('fake.tar', {}, temp.dir).catch((error) => error);
    assert.instance(notTar, RunnerError);
    assert.match(notTar.message, /archive fake\.tar: .*not a tar/);
    assert.match(notTar.hint, /runner archive SCENARIO -o FILE\.tar/);
    const scenario = writeProject(temp.dir);
    await archiveCommand({ scenarioFile: scenario, overrides: {}, out: 'a.tar', cwd: temp.dir, stdout: createTextSink(), stderr: createTextSink() });
    const again = await archiveCommand({ scenarioFile: 'a.tar', overrides: {}, out: 'b.tar', cwd: temp.dir, stdout: createTextSink(), stderr: createTextSink() }).catch((error) => error);
    assert.match(again.message, /a\.tar is already an archive/);
    const notTarOut = await archiveCommand({ scenarioFile: scenario, overrides: {}, out: 'a.zip', cwd: temp.dir }).catch((error) => error);
    assert.match(notTarOut.message, /an archive is a \.tar file/);
  } finally {
    temp.remove();
  }
});

archive.run();
