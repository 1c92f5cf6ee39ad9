/**
 * `runner init [dir]`: the project it writes type-checks with `tsc --noEmit` against this
 * checkout's package (its built declaration files, dist/types, through a node_modules symlink
 * as `npm install file:…` makes), a type error in the scenario is reported by tsc, and the
 * example scenario runs against the built-in fake proxy as written.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../helpers.ts';
import { ROOT, runCli } from '../cli-process.ts';
import { ExitCode } from '../../runner/errors.ts';
import { packageNameOf } from '../../runner/init.ts';

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

init('package names from folder names', () => {
  assert.equal(['My Load Tests', 'smtp_tests', '...', 'ÜBER'].map(packageNameOf), ['my-load-tests', 'smtp_tests', 'smtp-load-test', 'ber']);
});

init.run();
