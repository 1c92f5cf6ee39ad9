/** package-lock.json agrees with package.json, so `npm install` in a fresh clone leaves the tree clean. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';

const read = (name: string) => JSON.parse(readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const lock = suite('package-lock.json');

lock('its root package has package.json\'s name, version, engines and dependencies', () => {
  const manifest = read('package.json');
  const root = (read('package-lock.json')['packages'] as Record<string, Record<string, unknown>>)['']!;
  for (const field of ['name', 'version', 'engines', 'dependencies', 'devDependencies']) assert.equal(root[field], manifest[field], field);
});

lock.run();
