// Bundles the TypeScript sources into dist/ with esbuild (runs on `npm install` via `prepare`).
// Dependencies stay external: they are installed next to us.
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

/**
 * Swaps runner/scenario/schema-validator.ts (which compiles the scenario schema with ajv at run
 * time) for the same validator precompiled here, with the same options: ~100 ms less start-up.
 */
const precompiledScenarioSchema = {
  name: 'precompiled-scenario-schema',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]runner[\\/]scenario[\\/]schema-validator\.ts$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      const match = /SCENARIO_SCHEMA_AJV_OPTIONS: Options = (\{[^}]*\});/.exec(source);
      if (!match) throw new Error('build.mjs: SCENARIO_SCHEMA_AJV_OPTIONS not found in schema-validator.ts');
      const options = Function(`return ${match[1]};`)();
      const schema = JSON.parse(readFileSync(new URL('./schemas/scenario.schema.json', import.meta.url), 'utf8'));
      const ajv = new Ajv({ ...options, code: { source: true, esm: true } });
      const code = standaloneCode(ajv, ajv.compile(schema));
      return {
        loader: 'js',
        // ajv's standalone code still require()s its small runtime helpers.
        contents: [
          `import { createRequire } from 'node:module';`,
          `const require = createRequire(import.meta.url);`,
          `export const SCENARIO_SCHEMA_AJV_OPTIONS = ${JSON.stringify(options)};`,
          code.replace(/^"use strict";/, '').replace(/export const validate = (\w+);export default \w+;/, 'export function scenarioSchemaValidator() { return $1; }'),
        ].join('\n'),
      };
    });
  },
};

const result = await build({
  metafile: true,
  entryPoints: { cli: 'runner/cli.ts', index: 'runner/index.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // Code behind a dynamic import (the fixture's smtp-server, ...) goes to chunks of its own, so
  // it and its packages load only when used.
  splitting: true,
  // Next to cli.js: chunks resolve paths relative to their own file (fixtures/accounts.json)
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [precompiledScenarioSchema],
});

// Chunk names carry a content hash: remove the chunks of earlier builds, so dist/ (and npm pack)
// holds only what this build wrote.
const written = new Set(Object.keys(result.metafile.outputs).map((path) => relative('dist', path)));
for (const name of readdirSync('dist')) {
  if (/\.js(\.map)?$/.test(name) && !written.has(name)) rmSync(join('dist', name));
}
