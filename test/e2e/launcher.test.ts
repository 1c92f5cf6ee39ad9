/**
 * bin/runner.js, the launcher: it runs dist/cli.cjs through a V8 code cache. Each test copies the
 * launcher next to a small stand-in bundle in a temporary folder, so the repository's own dist/
 * and its caches are never touched.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../cli-process.ts';
import { createTempDir } from '../helpers.ts';

/**
 * A bundle with the launcher's contract: main() in exports, ES modules imported through the
 * launcher's import() (as runner/dynamic-import.ts does), an exit code left in process.exitCode.
 */
const STAND_IN = `
exports.main = async () => {
  const hostImport = globalThis[Symbol.for('runner.hostImport')];
  const { EOL } = await hostImport('node:os');
  process.stdout.write('main ran with ' + JSON.stringify(process.argv.slice(2)) + ' eol ' + JSON.stringify(EOL) + ' file ' + require('node:path').basename(__filename));
  if (process.argv.includes('fail')) process.exitCode = 7;
  if (process.argv.includes('hang')) return new Promise(() => {});
};
`;

function makeInstall(withBundle = true): { dir: string; remove(): void; cacheFiles(): string[] } {
  const temp = createTempDir();
  mkdirSync(join(temp.dir, 'bin'));
  mkdirSync(join(temp.dir, 'dist'));
  copyFileSync(join(ROOT, 'bin/runner.js'), join(temp.dir, 'bin/runner.js'));
  // bin/runner.js is CommonJS in a package whose package.json says "type": "module": bin/package.json says otherwise
  copyFileSync(join(ROOT, 'bin/package.json'), join(temp.dir, 'bin/package.json'));
  writeFileSync(join(temp.dir, 'package.json'), '{"type":"module"}');
  if (withBundle) writeFileSync(join(temp.dir, 'dist/cli.cjs'), STAND_IN);
  const cacheDir = join(temp.dir, 'dist/v8-cache');
  return { ...temp, cacheFiles: () => (existsSync(cacheDir) ? readdirSync(cacheDir).sort() : []) };
}

function launch(dir: string, args: string[], env: Record<string, string> = {}) {
  const ran = spawnSync(process.execPath, [join(dir, 'bin/runner.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: ran.status, stdout: ran.stdout, stderr: ran.stderr };
}

const launcher = suite('launcher: bin/runner.js and its code cache');

launcher('runs the bundle, hands it import(), keeps its exit code; a first run writes the command\'s cache, a second reuses it', () => {
  const install = makeInstall();
  try {
    const first = launch(install.dir, ['run', 'a']);
    assert.is(first.code, 0, first.stderr);
    assert.is(first.stdout, `main ran with ["run","a"] eol "\\n" file cli.cjs`);
    assert.is(first.stderr, '', 'no warning of any kind');
    const caches = install.cacheFiles();
    assert.is(caches.length, 1);
    assert.match(caches[0]!, new RegExp(`^run-\\d+-\\d+-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.bin$`));
    const written = statSync(join(install.dir, 'dist/v8-cache', caches[0]!)).mtimeMs;

    // Accepted by V8, so not written again
    const second = launch(install.dir, ['run', 'fail']);
    assert.is(second.code, 7, 'the exit code the command set');
    assert.is(second.stdout, `main ran with ["run","fail"] eol "\\n" file cli.cjs`);
    assert.is(second.stderr, '');
    assert.equal(install.cacheFiles(), caches);
    assert.is(statSync(join(install.dir, 'dist/v8-cache', caches[0]!)).mtimeMs, written);

    // Another command has a cache of its own; unknown words share "other"
    launch(install.dir, ['check']);
    launch(install.dir, ['no-such-command']);
    assert.equal(install.cacheFiles().map((name) => name.split('-')[0]), ['check', 'other', 'run']);
  } finally {
    install.remove();
  }
});

launcher('no cache with RUNNER_NO_CODE_CACHE=1 or for --help; a corrupt cache is replaced, not trusted', () => {
  const install = makeInstall();
  try {
    assert.is(launch(install.dir, ['run'], { RUNNER_NO_CODE_CACHE: '1' }).code, 0);
    assert.is(launch(install.dir, ['run', '--help']).code, 0);
    assert.equal(install.cacheFiles(), []);

    launch(install.dir, ['run']);
    const [cache] = install.cacheFiles();
    writeFileSync(join(install.dir, 'dist/v8-cache', cache!), 'not a V8 cache');
    const ran = launch(install.dir, ['run', 'b']);
    assert.is(ran.code, 0, ran.stderr);
    assert.is(ran.stdout, `main ran with ["run","b"] eol "\\n" file cli.cjs`);
    assert.ok(statSync(join(install.dir, 'dist/v8-cache', cache!)).size > 100, 'rewritten from the compiled code');
  } finally {
    install.remove();
  }
});

launcher('a main() that never settles while nothing keeps the process alive: exit 13, no cache written', () => {
  const install = makeInstall();
  try {
    const ran = launch(install.dir, ['run', 'hang']);
    assert.is(ran.code, 13, ran.stderr);
    assert.equal(install.cacheFiles(), []);
  } finally {
    install.remove();
  }
});

launcher('not built: one line that says what to run, exit 1', () => {
  const install = makeInstall(false);
  try {
    const ran = launch(install.dir, ['run']);
    assert.is(ran.code, 1);
    assert.is(ran.stderr.trim(), 'error: runner is not built: run `npm install` (or `npm run build`) in the runner folder');
  } finally {
    install.remove();
  }
});

launcher.run();
