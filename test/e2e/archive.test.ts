/**
 * `runner archive`: an archive built in one folder runs from another with the original files
 * deleted: the same plan (`inspect --json` equal, in-process and through the built CLI) and the
 * same counts against the fake proxy (its own counters, per sender: the accounts file travelled),
 * with the flags given to `archive` recorded and a run's own flags on top.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { runCli } from '../cli-process.ts';
import { simpleParser } from 'mailparser';
import { inspectCommand } from '../../runner/inspect/inspect.ts';
import { archiveCommand } from '../../runner/archive/archive.ts';
import { readTar, writeTar } from '../../runner/archive/tar.ts';
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

archive('--body-file and --attach travel in the archive: it runs from another folder with the originals deleted, the same bytes sent', async () => {
  const here = createTempDir();
  const there = createTempDir();
  try {
    const scenario = writeProject(here.dir);
    writeFileSync(join(here.dir, 'body.txt'), 'The body of every message.\n'.repeat(20));
    mkdirSync(join(here.dir, 'files'));
    writeFileSync(join(here.dir, 'files', 'report.csv'), 'a,b\n1,2\n'.repeat(50));
    const flags: CliOverrides = { iterations: 3, bodyFile: join(here.dir, 'body.txt'), attach: [join(here.dir, 'files', 'report.csv')] };
    // What each message carries that came from the files: its text body and its attachment (the
    // headers differ by design: Message-ID, Date, trace ids and MIME boundaries are per message)
    const contentOf = async (raw: Buffer) => {
      const parsed = await simpleParser(raw);
      return JSON.stringify([parsed.text, parsed.attachments.map((a) => [a.filename, a.contentType, a.content.toString('base64')])]);
    };
    const captured = (into: Buffer[]) => ({ onMessage: (raw: Buffer) => into.push(raw) });
    const sentHere: Buffer[] = [];
    await withFakeProxy(captured(sentHere), async (proxy) => {
      assert.is((await runAgainst(proxy, { scenarioFile: scenario, overrides: flags, check: false, watchPid: false })).exitCode, ExitCode.ok);
      assert.is(proxy.stats.messagesAccepted, 3 + 10);
    });
    const outcome = await archiveCommand({ scenarioFile: 'load.ts', overrides: flags, out: 'run.tar', cwd: here.dir, stdout: createTextSink(), stderr: createTextSink() });
    assert.equal(outcome.manifest.files.map((f) => [f.option, f.path]), [[['accounts', 'file'], 'scenario/data/senders.json'], [['--body-file'], 'scenario/body.txt'], [['--attach', '0'], 'scenario/files/report.csv']]);
    assert.equal(outcome.manifest.overrides, { iterations: 3 });
    renameSync(join(here.dir, 'run.tar'), join(there.dir, 'run.tar'));
    rmSync(here.dir, { recursive: true, force: true });
    const sentThere: Buffer[] = [];
    await withFakeProxy(captured(sentThere), async (proxy) => {
      const { exitCode } = await runAgainst(proxy, { scenarioFile: 'run.tar', cwd: there.dir, check: false, watchPid: false });
      assert.is(exitCode, ExitCode.ok);
      assert.is(proxy.stats.messagesAccepted, 3 + 10);
    });
    const contentsHere = (await Promise.all(sentHere.map(contentOf))).sort();
    const contentsThere = (await Promise.all(sentThere.map(contentOf))).sort();
    assert.equal(contentsThere, contentsHere);
    // The files' content is in them: 13 messages with the body, 13 with the CSV attached
    assert.is(contentsThere.filter((c) => c.includes('The body of every message.')).length, 13);
    assert.is(contentsThere.filter((c) => c.includes(Buffer.from('a,b\n1,2\n'.repeat(50)).toString('base64'))).length, 13);
  } finally {
    here.remove();
    there.remove();
  }
});

archive('a hostile or damaged manifest is refused with E_ARCHIVE, never a crash, a file outside the archive or a polluted prototype', async () => {
  const temp = createTempDir();
  try {
    const scenario = writeProject(temp.dir);
    await archiveCommand({ scenarioFile: scenario, overrides: {}, out: 'a.tar', cwd: temp.dir, stdout: createTextSink(), stderr: createTextSink() });
    const entries = readTar(readFileSync(join(temp.dir, 'a.tar')));
    const manifest = JSON.parse(new TextDecoder().decode(entries[0]!.data)) as Record<string, unknown>;
    assert.is(entries[0]!.path, 'runner-archive.json');
    const rewrite = (name: string, change: (m: Record<string, unknown>) => unknown, patch = (list: typeof entries) => list) => {
      const changed = change(JSON.parse(JSON.stringify(manifest)) as Record<string, unknown>);
      writeFileSync(join(temp.dir, name), writeTar(patch([{ path: 'runner-archive.json', data: new TextEncoder().encode(JSON.stringify(changed)) }, ...entries.slice(1)])));
      return name;
    };
    const refusal = async (name: string) => {
      const error = await inspectJson(name, {}, temp.dir).catch((caught: unknown) => caught);
      assert.instance(error, RunnerError, `${name}: ${String(error)}`);
      assert.is((error as RunnerError).code, 'E_ARCHIVE', name);
      return (error as RunnerError).message;
    };
    assert.match(await refusal(rewrite('null.tar', () => null)), /is not a runner archive manifest/);
    assert.match(await refusal(rewrite('no-scenario.tar', (m) => ({ ...m, scenario: undefined }))), /its scenario entry is not/);
    assert.match(await refusal(rewrite('files-text.tar', (m) => ({ ...m, files: 'x' }))), /files is not a list/);
    const files = manifest['files'] as Array<{ option: string[]; path: string }>;
    assert.ok(files.length > 0);
    assert.match(await refusal(rewrite('proto.tar', (m) => ({ ...m, files: [{ option: ['__proto__', 'polluted'], path: files[0]!.path }] }))), /option \["__proto__","polluted"\] is not a path of option names/);
    assert.is(({} as Record<string, unknown>)['polluted'], undefined);
    assert.match(await refusal(rewrite('outside.tar', (m) => ({ ...m, files: [{ option: ['smtp', 'tlsCa'], path: '../../../etc/passwd' }] }))), /names "\.\.\/\.\.\/\.\.\/etc\/passwd", which the archive does not hold/);
    // A changed byte in the bundle (tar checks only its headers), or a file slipped in
    const damaged = (list: typeof entries) => list.map((entry, i) => (i === 1 ? { path: entry.path, data: Uint8Array.from(entry.data, (byte, at) => (at === 20 ? byte ^ 1 : byte)) } : entry));
    assert.match(await refusal(rewrite('damaged.tar', (m) => m, damaged)), /does not match its SHA-256: the archive is damaged/);
    assert.match(await refusal(rewrite('added.tar', (m) => m, (list) => [...list, { path: 'scenario/extra.mjs', data: new Uint8Array(1) }])), /scenario\/extra\.mjs is not listed in sha256/);
    // The archive as written still opens
    assert.ok((await inspectJson(rewrite('same.tar', (m) => m), {}, temp.dir))['scenarios']);
  } finally {
    temp.remove();
  }
});

archive.run();
