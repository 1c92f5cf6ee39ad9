/**
 * `runner init [dir]`: the project it writes type-checks with `tsc --noEmit` against this
 * checkout's package (its built declaration files, dist/types, through a node_modules symlink
 * as `npm install file:…` makes), a type error in the scenario is reported by tsc, and the
 * example scenario runs against the built-in fake proxy as written.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../helpers.ts';
import { ROOT, runCli } from '../cli-process.ts';
import { ExitCode, OutputError, UsageError, type RunnerError } from '../../runner/errors.ts';
import { packageNameOf, runInit } from '../../runner/init.ts';
import { createTextSink } from '../helpers.ts';

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** Links this checkout as the project's `runner` and runner's own @types/node, as `npm install` would install them. */
function linkDependencies(project: string): void {
  mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
  symlinkSync(ROOT, join(project, 'node_modules/runner'), 'dir');
  symlinkSync(realpathSync(join(ROOT, 'node_modules/@types/node')), join(project, 'node_modules/@types/node'), 'dir');
}

function typeCheck(project: string): { status: number | null; output: string } {
  const ran = spawnSync(process.execPath, [TSC, '--noEmit', '-p', project], { cwd: project, encoding: 'utf8', timeout: 60_000 });
  return { status: ran.status, output: ran.stdout + ran.stderr };
}

const init = suite('runner init');

init('writes package.json, tsconfig.json, scenario.ts, accounts.json; tsc --noEmit passes on them, and fails on a type error', async () => {
  const temp = createTempDir();
  try {
    const ran = await runCli(['init', 'My Load Tests'], { cwd: temp.dir });
    assert.is(ran.code, 0, ran.stderr);
    const project = join(temp.dir, 'My Load Tests');
    for (const file of ['package.json', 'tsconfig.json', 'scenario.ts', 'accounts.json']) assert.ok(existsSync(join(project, file)), file);
    const packageJson = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    assert.is(packageJson.name, 'my-load-tests');
    assert.is(packageJson.dependencies.runner, `file:${ROOT.replace(/\/$/, '')}`);
    assert.ok(packageJson.devDependencies.typescript && packageJson.devDependencies['@types/node']);
    assert.match(ran.stdout, 'npx runner run scenario.ts --with-fixture');

    linkDependencies(project);
    const checked = typeCheck(project);
    assert.is(checked.status, 0, checked.output);

    // The types are checked, not merely present: a wrong option is a tsc error
    const scenario = readFileSync(join(project, 'scenario.ts'), 'utf8');
    writeFileSync(join(project, 'scenario.ts'), scenario.replace(`vus: 5,`, `vus: 'five',`));
    const broken = typeCheck(project);
    assert.is(broken.status, 2, broken.output);
    assert.match(broken.output, /scenario\.ts\(\d+,\d+\): error TS2322/);
  } finally {
    temp.remove();
  }
});

init('the example scenario runs against the built-in fake proxy as written', async () => {
  const temp = createTempDir();
  try {
    assert.is((await runCli(['init', 'proj'], { cwd: temp.dir })).code, 0);
    const project = join(temp.dir, 'proj');
    const out = join(project, 'results.json');
    const ran = await runCli(['run', 'scenario.ts', '--with-fixture', '--duration', '2s', '--out', out], { cwd: project });
    // Its latency thresholds are the machine's business; that it ran, and counted right, is ours
    assert.ok(ran.code === ExitCode.ok || ran.code === ExitCode.thresholdsFailed, `${ran.code}: ${ran.stdout}${ran.stderr}`);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    assert.is(results.status, 'completed');
    assert.ok(results.results.successful > 0);
    assert.is(results.results.failed, 0, JSON.stringify(results.results.errors));
    assert.is(results.results.script_errors, 0);
    assert.equal(Object.keys(results.accounts).sort(), ['sales@company.com', 'test@example.com']);
    assert.match(ran.stdout, `Fake proxy received: ${results.results.successful} messages`);
    assert.ok(results.custom_metrics.send_time.count > 0);
  } finally {
    temp.remove();
  }
});

init('an existing project is not overwritten without --force (exit 2, says which files)', async () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'scenario.ts'), '// mine\n');
    const refused = await runCli(['init'], { cwd: temp.dir });
    assert.is(refused.code, ExitCode.usage);
    assert.match(refused.stderr, 'error: runner init: scenario.ts already exists in');
    assert.match(refused.stderr, 'hint: ');
    assert.is(readFileSync(join(temp.dir, 'scenario.ts'), 'utf8'), '// mine\n');
    assert.is((await runCli(['init', '--force'], { cwd: temp.dir })).code, 0);
    assert.match(readFileSync(join(temp.dir, 'scenario.ts'), 'utf8'), /defineScenario/);
  } finally {
    temp.remove();
  }
});

/** runInit in-process; the error it throws (or undefined), and what it printed. */
function initIn(cwd: string, dir: string, force = false): { error: RunnerError | undefined; stdout: string } {
  const stdout = createTextSink();
  try {
    runInit({ cwd, dir, force, stdout });
    return { error: undefined, stdout: stdout.text() };
  } catch (error) {
    return { error: error as RunnerError, stdout: stdout.text() };
  }
}

init('a file where the folder should be: a usage error, through the CLI too (no stack trace)', async () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'afile'), 'x\n');
    const { error } = initIn(temp.dir, 'afile');
    assert.instance(error, UsageError);
    assert.match(error!.message, /runner init: .*afile is a file$/);
    const ran = await runCli(['init', 'afile'], { cwd: temp.dir });
    assert.is(ran.code, ExitCode.usage);
    assert.match(ran.stderr, /^error: runner init: .*afile is a file\nhint: name a new folder/);
    assert.not.match(ran.stderr, /\n\s+at /);
  } finally {
    temp.remove();
  }
});

init('an empty --runner is refused (npm would install an unrelated package called runner), nothing written', () => {
  const temp = createTempDir();
  try {
    for (const spec of ['', '  ']) {
      const stdout = createTextSink();
      assert.throws(() => runInit({ cwd: temp.dir, dir: 'p', runnerSpec: spec, stdout }), (error: unknown) => error instanceof UsageError && /--runner is empty/.test((error as Error).message));
    }
    assert.not.ok(existsSync(join(temp.dir, 'p')));
  } finally {
    temp.remove();
  }
});

init('a folder in a file\'s place is refused, even with --force', () => {
  const temp = createTempDir();
  try {
    mkdirSync(join(temp.dir, 'p/scenario.ts'), { recursive: true });
    for (const force of [false, true]) {
      const { error } = initIn(temp.dir, 'p', force);
      assert.instance(error, UsageError);
      assert.match(error!.message, /scenario\.ts in .* is a folder, not a file/);
    }
    assert.equal(readdirSync(join(temp.dir, 'p')), ['scenario.ts'], 'nothing written');
  } finally {
    temp.remove();
  }
});

init('a path through a file: exit 111, why, and nothing made', () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'afile'), 'x\n');
    const { error } = initIn(temp.dir, 'afile/project');
    assert.instance(error, OutputError);
    assert.is(error!.exitCode, ExitCode.outputError);
    assert.match(error!.message, /cannot write the project in .*afile\/project: part of the path is a file, not a folder \(ENOTDIR\)/);
    assert.match(error!.hint ?? '', /choose a folder you can write to/);
  } finally {
    temp.remove();
  }
});

init('a write that fails half-way (the last file cannot be written) leaves nothing of this init behind', () => {
  const temp = createTempDir();
  try {
    // accounts.json, written last, is a link into a folder that does not exist: that write fails
    // (as in a read-only folder, which root, running these tests in CI, cannot be refused).
    symlinkSync(join(temp.dir, 'nowhere/accounts.json'), join(temp.dir, 'accounts.json'));
    const { error, stdout } = initIn(temp.dir, 'new/deeper/..');
    assert.is(error, undefined, 'a folder of its own works');
    assert.match(stdout, /Created in new/);
    const { error: failed } = initIn(temp.dir, '.');
    assert.instance(failed, OutputError);
    assert.match(failed!.message, /cannot write the project in .*\(ENOENT\)$/);
    const left = readdirSync(temp.dir).sort();
    assert.equal(left, ['accounts.json', 'new'], 'package.json, tsconfig.json and scenario.ts were removed again');
    assert.ok(lstatSync(join(temp.dir, 'accounts.json')).isSymbolicLink(), 'what was there before is untouched');
  } finally {
    temp.remove();
  }
});

init('package names from folder names', () => {
  assert.equal(['My Load Tests', 'smtp_tests', '...', 'ÜBER'].map(packageNameOf), ['my-load-tests', 'smtp_tests', 'smtp-load-test', 'ber']);
});

init.run();
