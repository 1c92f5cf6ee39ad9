/**
 * What the built CLI loads before it runs a command: node:tls, http, https, readline,
 * worker_threads and v8 only load where they are used (runner/util/builtin.ts), so a plain-text
 * run does not pay ~3 ms of CPU for them on every start. Reads dist/cli.cjs: run `node build.mjs`.
 * (node:child_process still loads: commander requires it at its top.)
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../cli-process.ts';

const LAZY = ['tls', 'http', 'https', 'readline', 'worker_threads', 'v8'];

const startUp = suite('the CLI bundle at start-up');

startUp(`loading dist/cli.cjs loads none of ${LAZY.map((name) => `node:${name}`).join(', ')}`, () => {
  const script = `const before = new Set(process.moduleLoadList); require(${JSON.stringify(join(ROOT, 'dist/cli.cjs'))}); ` +
    `process.stdout.write(JSON.stringify(process.moduleLoadList.filter((name) => !before.has(name) && name.startsWith('NativeModule ')).map((name) => name.slice(13))));`;
  const ran = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.is(ran.status, 0, ran.stderr);
  const loaded = JSON.parse(ran.stdout) as string[];
  assert.ok(loaded.includes('net'), `the walk saw the bundle's own imports: ${loaded.join(' ')}`);
  assert.equal(LAZY.filter((name) => loaded.includes(name)), []);
});

startUp.run();
