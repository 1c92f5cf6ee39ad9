/**
 * Opens a runner archive for `runner run` and `runner inspect`: reads the tar, checks the
 * manifest, extracts its files into a fresh temp folder, loads the scenario from there (the code
 * bundle as written, or the YAML/JSON text), and points the options that named files (accounts,
 * TLS CA) at the extracted copies. The original files are never needed.
 */
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RunnerError } from '../errors.ts';
import { importScenarioBundle, parseDataScenario } from '../scenario/load.ts';
import type { ScenarioFileOptions } from '../scenario/types.ts';
import type { CliOverrides } from '../scenario/options.ts';
import { RUNNER_VERSION } from '../version.ts';
import { readTar, TarFormatError } from './tar.ts';
import { ARCHIVE_FORMAT_VERSION, MANIFEST_PATH, MAX_ARCHIVE_BYTES, SCENARIO_DIR, type ArchiveManifest, type FileReference } from './manifest.ts';
import { sha256Hex } from './hash.ts';

/** File extensions read as archives. */
export const ARCHIVE_EXTENSIONS = ['.tar'] as const;

/** An archive opened: what prepare.ts turns into a ScenarioInput. */
export interface OpenedArchive {
  fileOptions: ScenarioFileOptions;
  manifest: ArchiveManifest;
  /** The extracted scenario folder (relative paths start here). */
  baseDir: string;
  overrides: CliOverrides;
  /** Said to the user (a different runner version). */
  notes: string[];
  cleanup(): Promise<void>;
}

function archiveError(path: string, message: string, hint = 'make it again with runner archive SCENARIO -o FILE.tar'): RunnerError {
  return new RunnerError(`archive ${basename(path)}: ${message}`, { code: 'E_ARCHIVE', exit: 'invalidOptions', hint });
}

/** Opens the archive at `path` (absolute). */
export async function openArchive(path: string): Promise<OpenedArchive> {
  let sizeBytes: number;
  try {
    sizeBytes = (await stat(path)).size;
  } catch {
    throw new RunnerError(`archive not found: ${path}`, { code: 'E_NO_SCENARIO_FILE', exit: 'invalidOptions' });
  }
  if (sizeBytes > MAX_ARCHIVE_BYTES) throw archiveError(path, `is ${sizeBytes.toLocaleString('en-US')} bytes: at most ${MAX_ARCHIVE_BYTES / 1024 / 1024} MiB (it is read into memory)`, 'put fewer or smaller data files in it');
  let entries;
  try {
    entries = readTar(await readFile(path));
  } catch (error) {
    if (error instanceof TarFormatError) throw archiveError(path, error.message);
    throw error;
  }
  const byPath = new Map(entries.map((entry) => [entry.path, entry.data]));
  const manifestBytes = byPath.get(MANIFEST_PATH);
  if (!manifestBytes) throw archiveError(path, `has no ${MANIFEST_PATH}: not an archive runner wrote`);
  let manifest: ArchiveManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as ArchiveManifest;
  } catch (error) {
    throw archiveError(path, `${MANIFEST_PATH} is not JSON: ${(error as Error).message}`);
  }
  if (manifest === null || typeof manifest !== 'object' || manifest.format !== 'runner-archive' || typeof manifest.formatVersion !== 'number') throw archiveError(path, `${MANIFEST_PATH} is not a runner archive manifest`);
  if (manifest.formatVersion > ARCHIVE_FORMAT_VERSION) {
    throw archiveError(path, `format version ${manifest.formatVersion} is newer than this runner reads (${ARCHIVE_FORMAT_VERSION})`, `run it with runner ${manifest.runnerVersion}, or newer`);
  }
  const problem = manifestProblem(manifest, byPath);
  if (problem !== undefined) throw archiveError(path, `${MANIFEST_PATH}: ${problem}`);

  const dir = await mkdtemp(join(tmpdir(), 'runner-archive-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    for (const entry of entries) {
      const target = join(dir, ...entry.path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, entry.data);
    }
    const scenarioFile = join(dir, ...manifest.scenario.path.split('/'));
    const code = new TextDecoder().decode(byPath.get(manifest.scenario.path));
    const fileOptions = manifest.scenario.kind === 'bundle' ? await importScenarioBundle(code, scenarioFile) : await parseDataScenario(code, scenarioFile);
    const overrides: CliOverrides = { ...manifest.overrides };
    // The options that named files now name the extracted copies.
    for (const reference of manifest.files) {
      const extracted = join(dir, ...reference.path.split('/'));
      const [flag, index] = reference.option;
      if (flag === '--tls-ca') overrides.tlsCa = extracted;
      else if (flag === '--body-file') overrides.bodyFile = extracted;
      else if (flag === '--attach') (overrides.attach ??= [])[Number(index)] = extracted;
      else setOption(fileOptions as unknown as Record<string, unknown>, reference.option, extracted);
    }
    const notes = manifest.runnerVersion === RUNNER_VERSION ? [] : [`archive ${basename(path)} was written by runner ${manifest.runnerVersion}; this is runner ${RUNNER_VERSION}`];
    return { fileOptions, manifest, baseDir: join(dir, SCENARIO_DIR), overrides, notes, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Keys an option path may not hold: setting them would change every object's prototype. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * What is wrong with a manifest's shape or contents (undefined: nothing): a scenario that is in the
 * archive, file references that name files of the archive through plain option keys, contents
 * that match their SHA-256. A manifest is data from elsewhere: nothing in it is trusted unchecked.
 */
function manifestProblem(manifest: ArchiveManifest, byPath: ReadonlyMap<string, Uint8Array>): string | undefined {
  const scenario = manifest.scenario as Partial<ArchiveManifest['scenario']> | undefined;
  if (scenario === null || typeof scenario !== 'object' || typeof scenario.path !== 'string' || (scenario.kind !== 'bundle' && scenario.kind !== 'data')) return 'its scenario entry is not { name, path, kind: "bundle" | "data" }';
  if (!byPath.has(scenario.path)) return `the scenario ${scenario.path} is missing`;
  if (!Array.isArray(manifest.files)) return 'files is not a list';
  for (const reference of manifest.files as unknown[]) {
    const { option, path } = (reference ?? {}) as Partial<FileReference>;
    if (!Array.isArray(option) || option.length === 0 || option.some((key) => typeof key !== 'string' || FORBIDDEN_KEYS.has(key))) return `a file reference's option ${JSON.stringify(option)} is not a path of option names`;
    if (option[0] === '--attach' && !(option.length === 2 && /^\d{1,4}$/.test(option[1]!))) return `a file reference's option ${JSON.stringify(option)} is not ["--attach", index]`;
    if (typeof path !== 'string' || !byPath.has(path)) return `a file reference names ${JSON.stringify(path)}, which the archive does not hold`;
  }
  if (manifest.overrides !== undefined && (manifest.overrides === null || typeof manifest.overrides !== 'object' || Array.isArray(manifest.overrides))) return 'overrides is not an object';
  if (manifest.sha256 !== undefined) {
    if (manifest.sha256 === null || typeof manifest.sha256 !== 'object') return 'sha256 is not an object';
    for (const [file, data] of byPath) {
      if (file === MANIFEST_PATH) continue;
      const expected = Object.hasOwn(manifest.sha256, file) ? manifest.sha256[file] : undefined;
      if (expected === undefined) return `${file} is not listed in sha256: added after the archive was written`;
      if (sha256Hex(data) !== expected) return `${file} does not match its SHA-256: the archive is damaged (or was changed)`;
    }
  }
  return undefined;
}

/** Sets the value at `keys` in `options` when every object on the way exists (the options as the bundle exported them). */
function setOption(options: Record<string, unknown>, keys: readonly string[], value: string): void {
  let at: Record<string, unknown> = options;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    if (next === null || typeof next !== 'object') return;
    at = next as Record<string, unknown>;
  }
  at[keys[keys.length - 1]!] = value;
}
