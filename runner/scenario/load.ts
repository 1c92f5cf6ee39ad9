/**
 * Loads a scenario file into its options, as the user wrote them (validation is options.ts's).
 *
 * - TypeScript / JavaScript (`.ts .mts .cts .js .mjs .cjs`): esbuild bundles the file with its
 *   local imports (other modules, JSON data) into one ESM module with an inline source map,
 *   written to a unique temp file, imported, deleted. Its default export is the options.
 *   `import ... from 'runner'` resolves to a virtual module re-exporting the API object of
 *   *this* process (set on globalThis just before the import), so it works inside this repo
 *   and in a user's project alike, and custom metrics land in the engine's own registry.
 * - YAML / JSON (`.yaml .yml .json`): parsed with `yaml` (merge keys `<<` allowed); options only.
 *
 * Build and syntax errors become a ScriptError `file:line:col: message` with the offending line
 * and a caret; an exception at import time is reported at its source location (the source map
 * is enabled for stack traces, so errors thrown later by iteration code point to the user's file
 * too).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
// esbuild and yaml load on first use: a run from flags alone needs neither (start-up time).
import type { BuildFailure, Message, Plugin } from 'esbuild';
import * as api from '../index.ts';
import { importModule } from '../dynamic-import.ts';
import { setDataBaseDir } from '../script/data.ts';
import { RunnerError, ScriptError } from '../errors.ts';
import type { ScenarioFileOptions } from './types.ts';
import { exceedsLimit, formatLimit, LIMITS } from './limits.ts';
import { codeFrame, displayPath, findUserFrame } from './user-code.ts';

/** Where the running process publishes its public API for bundled scenario files. */
export const RUNNER_API_KEY = Symbol.for('runner.api');

/** File extensions bundled with esbuild. */
export const CODE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const;
/** File extensions parsed as YAML (JSON is YAML). */
export const DATA_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

const DEFAULT_EXPORT_HINT = 'export default defineScenario({ scenarios: {...} })';

/** A loaded scenario file: its options as written and its absolute path. */
export interface LoadedScenarioFile {
  options: ScenarioFileOptions;
  file: string;
}

/** Loads a scenario file (path relative to the working directory or absolute). */
export async function loadScenarioFile(path: string): Promise<LoadedScenarioFile> {
  const file = resolvePath(path);
  let isFile = false;
  let sizeBytes = 0;
  try {
    const info = statSync(file);
    isFile = info.isFile();
    sizeBytes = info.size;
  } catch {
    throw new RunnerError(`scenario file not found: ${displayPath(file)}`, { code: 'E_NO_SCENARIO_FILE', exit: 'invalidOptions', hint: shippedScenariosHint() });
  }
  if (!isFile) throw new RunnerError(`scenario file ${displayPath(file)} is not a file`, { code: 'E_NO_SCENARIO_FILE', exit: 'invalidOptions', hint: shippedScenariosHint() });
  // Checked before reading a byte: a 50 MB YAML file took 1.8 GB and over a minute to parse.
  if (exceedsLimit('scenarioFileBytes', sizeBytes)) {
    throw new RunnerError(`scenario file ${displayPath(file)} is ${sizeBytes.toLocaleString('en-US')} bytes: at most ${formatLimit('scenarioFileBytes')}`, {
      code: 'E_SCENARIO_TOO_LARGE',
      exit: 'invalidOptions',
      hint: 'a scenario is options and code (kilobytes): put long lists of senders in an accounts file (accounts.file), data in files the code reads',
    });
  }

  const extension = extname(file).toLowerCase();
  if ((CODE_EXTENSIONS as readonly string[]).includes(extension)) return { options: await loadCodeFile(file), file };
  if ((DATA_EXTENSIONS as readonly string[]).includes(extension)) return { options: await loadDataFile(file), file };
  throw new RunnerError(`scenario file ${displayPath(file)}: unsupported file type '${extension}'`, {
    code: 'E_SCENARIO_TYPE',
    exit: 'invalidOptions',
    hint: `use a TypeScript/JavaScript file (${CODE_EXTENSIONS.join(' ')}) or YAML/JSON (${DATA_EXTENSIONS.join(' ')})`,
  });
}

/** Lists the shipped scenarios in ./scenarios, when that folder exists. */
function shippedScenariosHint(): string | undefined {
  const folder = resolvePath('scenarios');
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) => [...CODE_EXTENSIONS, ...DATA_EXTENSIONS].includes(extname(name) as never));
  } catch {
    return undefined;
  }
  if (names.length === 0) return undefined;
  return `scenarios here: ${names.sort().map((name) => `scenarios/${name}`).join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// TypeScript and JavaScript

/** Source of the virtual 'runner' module: one re-export per key of the API object. */
function runnerModuleSource(): string {
  const lines = [
    `const api = globalThis[Symbol.for('runner.api')];`,
    `if (!api) throw new Error("the 'runner' module is only available to scenario files loaded by runner");`,
  ];
  for (const name of Object.keys(api)) {
    if (name === 'default') lines.push('export default api.default;');
    else if (/^[A-Za-z_$][\w$]*$/.test(name)) lines.push(`export const ${name} = api.${name};`);
  }
  return lines.join('\n');
}

/** Resolves the bare import 'runner' to the running process's API. */
const runnerApiPlugin: Plugin = {
  name: 'runner-api',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^runner$/ }, () => ({ path: 'runner', namespace: 'runner-api' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'runner-api' }, () => ({ contents: runnerModuleSource(), loader: 'js' }));
  },
};

/**
 * Where a relocatable bundle (an archive's) finds its own location at run time: `import.meta.url`
 * and friends are compiled to these globals, set to the extracted file's before the import.
 */
export const SCENARIO_URL_KEY = Symbol.for('runner.scenarioUrl');
const RELOCATABLE_PRELUDE = [
  `import { fileURLToPath as __runnerFileURLToPath } from 'node:url';`,
  `import { dirname as __runnerDirname } from 'node:path';`,
  `const __runnerScenarioUrl = globalThis[Symbol.for('runner.scenarioUrl')];`,
  `const __runnerScenarioFile = __runnerFileURLToPath(__runnerScenarioUrl);`,
  `const __runnerScenarioDir = __runnerDirname(__runnerScenarioFile);`,
].join('\n');

/** Gives bundled CommonJS dependencies a `require` for Node built-ins, resolving from the scenario's folder. */
function requireBanner(file: string, isRelocatable: boolean): string {
  const from = isRelocatable ? '__runnerScenarioUrl' : JSON.stringify(pathToFileURL(file).href);
  return `import { createRequire as __runnerCreateRequire } from 'node:module';\nconst require = __runnerCreateRequire(${from});`;
}

async function bundle(file: string, outfile: string, banner: string | undefined, isRelocatable: boolean, isShipped = false): Promise<string> {
  const { build } = await importModule<typeof import('esbuild')>('esbuild');
  const result = await build({
    entryPoints: [file],
    outfile, // not written (write: false): it makes the source map's paths relative to where we write it
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcesContent: true,
    keepNames: true,
    logLevel: 'silent',
    plugins: [runnerApiPlugin],
    // The bundle runs from a temp file: keep import.meta pointing at the scenario file, so
    // `new URL('./data.csv', import.meta.url)` finds files next to it (for every bundled
    // module alike: they all see the entry file's location). A relocatable bundle (an
    // archive's) asks at run time where it was extracted. A bundle shipped to an agent keeps
    // import.meta as written: the agent imports its own copy, next to which the scenario's data
    // files are written.
    define: isShipped
      ? {}
      : isRelocatable
        ? { 'import.meta.url': '__runnerScenarioUrl', 'import.meta.filename': '__runnerScenarioFile', 'import.meta.dirname': '__runnerScenarioDir' }
        : {
            'import.meta.url': JSON.stringify(pathToFileURL(file).href),
            'import.meta.filename': JSON.stringify(file),
            'import.meta.dirname': JSON.stringify(dirname(file)),
          },
    ...(banner || isRelocatable ? { banner: { js: [isRelocatable ? RELOCATABLE_PRELUDE : '', banner ?? ''].filter(Boolean).join('\n') } } : {}),
  });
  return result.outputFiles![0]!.text;
}

/**
 * A code scenario file bundled (its local imports and JSON data inside) for `runner run --agents`
 * to ship: one ESM module that imports only 'runner' (the agent's own API) and Node built-ins.
 */
export async function bundleForShipping(file: string): Promise<string> {
  try {
    return await bundle(file, join(dirname(file), 'shipped.mjs'), undefined, false, true);
  } catch (error) {
    const failure = error as BuildFailure;
    if (!Array.isArray(failure.errors)) throw error;
    throw new ScriptError(formatBuildErrors(failure.errors), 'fix the file and run again; runner bundles it with esbuild (no type checking)', error);
  }
}

/**
 * A scenario file bundled into one ESM module with its local imports and dependencies.
 * `isRelocatable`: the bundle may run from another folder (an archive's): import.meta is
 * resolved where it is imported from (see SCENARIO_URL_KEY), not where it was built.
 */
export async function bundleScenario(file: string, isRelocatable = false): Promise<string> {
  const outfile = join(tmpdir(), `runner-scenario-${process.pid}-${randomUUID()}.mjs`);
  try {
    const code = await bundle(file, outfile, undefined, isRelocatable);
    // esbuild emits this shim when a bundled CommonJS module requires something it left
    // external (a Node built-in); give it a real `require` then.
    return code.includes('Dynamic require of "') ? await bundle(file, outfile, requireBanner(file, isRelocatable), isRelocatable) : code;
  } catch (error) {
    const failure = error as BuildFailure;
    if (!Array.isArray(failure.errors)) throw error;
    throw new ScriptError(formatBuildErrors(failure.errors), 'fix the file and run again; runner bundles it with esbuild (no type checking)', error);
  }
}

async function loadCodeFile(file: string): Promise<ScenarioFileOptions> {
  return importScenarioBundle(await bundleScenario(file), file);
}

/**
 * Imports a bundle (bundleScenario's) and returns its options. `file`: the scenario as messages
 * name it; for a relocatable bundle also where import.meta points.
 */
export async function importScenarioBundle(code: string, file: string): Promise<ScenarioFileOptions> {
  const outfile = join(tmpdir(), `runner-scenario-${process.pid}-${randomUUID()}.mjs`);
  // Stack traces of errors thrown by scenario code then point to the user's files, not the bundle.
  process.setSourceMapsEnabled(true);
  (globalThis as Record<symbol, unknown>)[RUNNER_API_KEY] = api;
  (globalThis as Record<symbol, unknown>)[SCENARIO_URL_KEY] = pathToFileURL(file).href;
  // openCsv('./senders.csv') in the file starts from the file's folder, as k6's open() does
  setDataBaseDir(dirname(file));
  let module: Record<string, unknown>;
  try {
    await writeFile(outfile, code);
    module = await importModule<Record<string, unknown>>(pathToFileURL(outfile).href);
  } catch (error) {
    throw importError(file, outfile, error);
  } finally {
    await unlink(outfile).catch(() => undefined);
  }

  const exported = module['default'];
  const display = displayPath(file);
  if (exported === undefined) {
    const hasOptions = module['options'] !== undefined;
    throw new ScriptError(
      `${display}: has no default export${hasOptions ? " (it exports 'options', as a k6 script would)" : ''}`,
      DEFAULT_EXPORT_HINT,
    );
  }
  if (exported === null || typeof exported !== 'object' || Array.isArray(exported) || !('scenarios' in exported)) {
    const what = exported === null ? 'null' : Array.isArray(exported) ? 'an array' : typeof exported === 'object' ? 'an object without scenarios' : `a ${typeof exported}`;
    throw new ScriptError(`${display}: the default export must be the scenario's options, an object with scenarios (got ${what})`, DEFAULT_EXPORT_HINT);
  }
  // k6 scripts export handleSummary as a named function: accept that form too (the options'
  // own handleSummary wins when both are given).
  const namedHandleSummary = module['handleSummary'];
  if (namedHandleSummary !== undefined && !('handleSummary' in exported)) {
    return { ...(exported as ScenarioFileOptions), handleSummary: namedHandleSummary as ScenarioFileOptions['handleSummary'] };
  }
  return exported as ScenarioFileOptions;
}

/** esbuild errors as `file:line:col: message` with the offending line and a caret, each. */
function formatBuildErrors(errors: Message[]): string {
  const shown = errors.slice(0, 10).map((error) => {
    const location = error.location;
    if (!location) return error.text;
    const file = displayPath(resolvePath(location.file));
    // esbuild's column counts UTF-8 bytes; the caret needs characters.
    const column = Buffer.from(location.lineText).subarray(0, location.column).toString().length;
    const notes = error.notes.filter((note) => note.text).map((note) => `\n  note: ${note.text}`).join('');
    return `${file}:${location.line}:${column + 1}: ${error.text}${codeFrame(location.line, location.lineText, column)}${notes}`;
  });
  if (errors.length > shown.length) shown.push(`... and ${errors.length - shown.length} more errors`);
  return shown.join('\n');
}

/** An exception thrown while the bundle was imported, at its source location when the stack has one. */
function importError(file: string, bundleFile: string, error: unknown): ScriptError {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const location = error instanceof Error ? findUserFrame(error.stack ?? '', bundleFile) : undefined;
  if (!location) return new ScriptError(`${displayPath(file)}: ${name}: ${message} (while loading the scenario)`, undefined, error);
  const { path, line, column } = location;
  let frame = '';
  try {
    const lineText = readFileLine(path, line);
    if (lineText !== undefined) frame = codeFrame(line, lineText, column - 1);
  } catch {
    // No source to show: the location alone still helps.
  }
  return new ScriptError(`${displayPath(path)}:${line}:${column}: ${name}: ${message}${frame}`, undefined, error);
}

/** One line (1-based) of a file; synchronous on purpose: only on the error path, once. */
function readFileLine(path: string, line: number): string | undefined {
  return readFileSync(path, 'utf8').split(/\r?\n/)[line - 1];
}

// ---------------------------------------------------------------------------------------------
// YAML and JSON

/**
 * The document's value; what yaml throws while building it (an alias whose anchor comes after
 * it or not at all, too many aliases) is the file's mistake, reported as such (issue 19: found
 * by test/fuzz/scenario.test.ts, `*x` alone was exit 1 "a bug in runner").
 */
function documentValue(document: { toJS(options?: { maxAliasCount?: number }): unknown }, display: string): unknown {
  try {
    // An alias bomb ("billion laughs") expands exponentially: yaml refuses past maxAliasCount.
    return document.toJS({ maxAliasCount: LIMITS.yamlAliases.max });
  } catch (error) {
    const message = (error as Error).message.trim();
    if (/excessive alias count/i.test(message)) {
      throw new ScriptError(`${display}: too many alias expansions (*name): at most ${formatLimit('yamlAliases')}: ${LIMITS.yamlAliases.why}`, 'write the repeated options out, or use fewer, shallower aliases');
    }
    throw new ScriptError(`${display}: ${message}`, 'define each &anchor before its *alias, and use aliases sparingly');
  }
}

async function loadDataFile(file: string): Promise<ScenarioFileOptions> {
  return parseDataScenario(await readFile(file, 'utf8'), file);
}

/** A YAML/JSON scenario's text parsed into its options; `file` names it in messages (and says whether it is JSON). */
export async function parseDataScenario(text: string, file: string): Promise<ScenarioFileOptions> {
  const { LineCounter, parseDocument } = await import('yaml');
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const display = displayPath(file);
  if (document.errors.length > 0) {
    const lines = text.split(/\r?\n/);
    const shown = document.errors.slice(0, 10).map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return `${display}:${line}:${col}: ${error.message}${codeFrame(line, lines[line - 1] ?? '', col - 1)}`;
    });
    const hint = /\.json$/i.test(file) ? 'fix the JSON syntax: quotes around keys and strings, commas between items, none after the last' : 'fix the YAML syntax; strings with a colon or # need quotes';
    throw new ScriptError(shown.join('\n'), hint);
  }
  const value = documentValue(document, display);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ScriptError(`${display}: must hold the scenario's options as a mapping (got ${value === null ? 'nothing' : Array.isArray(value) ? 'a list' : typeof value})`, 'start from scenarios/baseline.yaml');
  }
  return value as ScenarioFileOptions;
}
