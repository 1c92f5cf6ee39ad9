#!/usr/bin/env node
// The `runner` command: runs the built CLI, dist/cli.cjs (npm install builds it through the
// `prepare` script), and exits once the command is done, so no stray handle can keep a finished
// run alive.
//
// It compiles the CLI with a V8 code cache: the first run of each command (run, check, ...)
// writes what V8 compiled to dist/v8-cache/, and later runs of that command start from it
// instead of parsing and compiling ~1.3 MB of JavaScript again (~50 ms less start-up, measured in
// bench/README.md). The cache is keyed by the bundle's size and time, Node's version and the
// command; V8 itself refuses a cache that does not fit, and the code then compiles as usual.
// Each build deletes the caches; RUNNER_NO_CODE_CACHE=1 turns them off; a cache that cannot be
// written (a read-only install) is simply not used.
//
// A CommonJS file (bin/package.json says so): Node starts a CommonJS main module without setting
// up its ES module loader, ~3 ms of CPU less per start, measured on a one-message run.
'use strict';
const { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const cliFile = join(__dirname, '..', 'dist', 'cli.cjs');
/** Commands with a cache of their own: each compiles different code. */
const COMMANDS = new Set(['run', 'check', 'compare', 'report', 'report-html', 'merge', 'sweep', 'fixture', 'init', 'worker', 'agent']);

let source;
try {
  source = readFileSync(cliFile, 'utf8');
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
  console.error('error: runner is not built: run `npm install` (or `npm run build`) in the runner folder');
  process.exit(1);
}

const useCache = process.env.RUNNER_NO_CODE_CACHE !== '1';
// A cache holds what the run that wrote it compiled: `runner run --help` compiles almost none
// of what a run needs, so help output never writes one.
const isHelp = process.argv.includes('--help') || process.argv.includes('-h');
const command = COMMANDS.has(process.argv[2]) ? process.argv[2] : 'other';
const { size, mtimeMs } = statSync(cliFile);
const cacheFile = join(dirname(cliFile), 'v8-cache', `${command}-${size}-${Math.round(mtimeMs)}-${process.version}-${process.arch}.bin`);
let cachedData;
if (useCache) {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache yet for this command and build: this run makes it.
  }
}

// The same wrapper Node gives a CommonJS module. A vm script has no import() of its own (and
// Node 20 drops one given to a script compiled from a cache), so the CLI imports ES modules,
// such as a user's scenario bundle, through this file's import(): runner/dynamic-import.ts.
globalThis[Symbol.for('runner.hostImport')] = (specifier) => import(specifier);
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: cliFile,
  cachedData,
});
const cli = { exports: {} };
script.runInThisContext()(cli.exports, createRequire(cliFile), cli, cliFile, dirname(cliFile));

// A main() that never settles while nothing is left to wait for (a bug) still exits 13, the status
// Node gives an unsettled top-level await, as when this file was an ES module awaiting main().
let isSettled = false;
process.on('exit', (code) => {
  if (!isSettled && code === 0) process.exitCode = 13;
});
cli.exports.main().then(() => {
  isSettled = true;
  writeCacheAndExit();
});

function writeCacheAndExit() {
  if (useCache && !isHelp && (cachedData === undefined || script.cachedDataRejected)) {
    // After the run, so the cache holds every function the command compiled. Written to a
    // temporary name and renamed: a run starting meanwhile reads a whole cache or none.
    const partial = `${cacheFile}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      writeFileSync(partial, script.createCachedData());
      renameSync(partial, cacheFile);
    } catch {
      // Read-only or full: runs just start without a cache.
      rmSync(partial, { force: true });
    }
  }
  process.exit(process.exitCode ?? 0);
}
