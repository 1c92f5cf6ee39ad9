/** runner's version is written once in code (runner/version.ts) and must be package.json's. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { RUNNER_VERSION } from '../../runner/version.ts';

test('RUNNER_VERSION is package.json\'s version', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.is(RUNNER_VERSION, manifest.version);
});

test.run();
