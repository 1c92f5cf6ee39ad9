// Bundles the TypeScript sources into dist/ with esbuild (runs on `npm install` via `prepare`).
// Dependencies stay external: they are installed next to us.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
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

// The HTML report's own stylesheet and browser script, inlined into the bundles (see
// runner/outputs/report-assets.ts, which reads the same files when run from source).
const reportAssets = {
  css: readFileSync(new URL('./runner/outputs/report-assets/report.css', import.meta.url), 'utf8'),
  script: readFileSync(new URL('./runner/outputs/report-assets/report.js', import.meta.url), 'utf8'),
};
const RUNNER_REPORT_ASSETS = JSON.stringify(reportAssets);

// The CLI: one CommonJS file, with the packages it always needs (commander, yaml) bundled in.
// bin/runner.js runs it through a V8 code cache (see there): one script, with no module
// resolution and nothing to compile again, starts ~50 ms sooner than the ESM modules did.
// import.meta.url keeps meaning "this file" (dist/cli.cjs), for the paths resolved from it.
const cli = await build({
  metafile: true,
  entryPoints: { cli: 'runner/cli.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // esbuild ships a native binary; smtp-server (the fixture), prom-client and imapflow (delivery.imap) load only when used.
  external: ['esbuild', 'smtp-server', 'prom-client', 'imapflow'],
  define: { 'import.meta.url': '__runnerModuleUrl', RUNNER_CJS_BUNDLE: 'true', RUNNER_REPORT_ASSETS },
  banner: { js: 'const __runnerModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  sourcemap: true,
  logLevel: 'warning',
  plugins: [precompiledScenarioSchema],
});

// The CLI bundle as pure ASCII: esbuild escapes non-ASCII characters in strings but leaves them
// in comments, regular expressions and template literals, and one such character makes V8 hold
// the whole 2 MB source as a two-byte string (~3 ms more CPU per start, measured on a
// one-message run). A \u escape means the same character in each of those places; only a
// template's raw text (String.raw, a tag reading .raw) would differ, and none with such a
// character reads it. U+2028 and U+2029 stay: in a comment they end the line. Columns after an
// escaped character on its line shift in the source map.
const cliFile = join('dist', 'cli.cjs');
const cliSource = readFileSync(cliFile, 'utf8');
const NON_ASCII = /[^\x00-\x7f\u2028\u2029]/g;
if (NON_ASCII.test(cliSource)) {
  writeFileSync(
    cliFile,
    cliSource.replace(NON_ASCII, (char, offset) => {
      // After an odd run of backslashes the character was itself escaped (`/\é/`): `\\u00e9` would
      // then read as a backslash and 'u00e9'. None is there today; say so if one comes.
      let backslashes = 0;
      while (cliSource[offset - 1 - backslashes] === '\\') backslashes++;
      if (backslashes % 2 === 1) throw new Error(`build.mjs: an escaped non-ASCII character in dist/cli.cjs at ${offset} (${JSON.stringify(cliSource.slice(offset - 40, offset + 10))}): write it as \\u${char.charCodeAt(0).toString(16).padStart(4, '0')} in the source`);
      return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }),
  );
}

// The library entry (`import ... from 'runner'` in scenario files): ESM, packages external.
const library = await build({
  metafile: true,
  entryPoints: { index: 'runner/index.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  define: { RUNNER_REPORT_ASSETS },
  sourcemap: true,
  logLevel: 'warning',
});

// Remove what earlier builds wrote and this one did not (chunks of the former ESM build), so
// dist/ (and npm pack) holds only this build; and the code caches made for the last build.
const written = new Set([cli, library].flatMap((result) => Object.keys(result.metafile.outputs)).map((path) => relative('dist', path)));
for (const name of readdirSync('dist')) {
  if (/\.c?js(\.map)?$/.test(name) && !written.has(name)) rmSync(join('dist', name));
}
rmSync(join('dist', 'v8-cache'), { recursive: true, force: true });

// Declaration files for `import ... from 'runner'` in a user's own TypeScript project
// (package.json "exports" → types: dist/types/index.d.ts): built .d.ts files, so the user's own
// compiler settings and skipLibCheck apply to them, instead of runner's raw .ts sources being
// type-checked under the user's settings. TypeScript is a devDependency: an install without it
// (a packed tarball) keeps the dist/types it was packed with.
rmSync(join('dist', 'types'), { recursive: true, force: true });
let tscFile;
try {
  tscFile = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  tscFile = undefined;
}
if (tscFile && existsSync('tsconfig.types.json')) {
  const tsc = spawnSync(process.execPath, [tscFile, '-p', 'tsconfig.types.json'], { stdio: 'inherit' });
  if (tsc.status !== 0) {
    console.error('build.mjs: emitting the declaration files (tsc -p tsconfig.types.json) failed');
    process.exit(1);
  }
} else {
  console.warn('build.mjs: typescript is not installed: dist/types (declarations for scenario files) not rebuilt');
}
