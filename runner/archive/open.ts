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
import { ARCHIVE_FORMAT_VERSION, MANIFEST_PATH, MAX_ARCHIVE_BYTES, SCENARIO_DIR, type ArchiveManifest } from './manifest.ts';

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
  if (manifest.format !== 'runner-archive' || typeof manifest.formatVersion !== 'number') throw archiveError(path, `${MANIFEST_PATH} is not a runner archive manifest`);
  if (manifest.formatVersion > ARCHIVE_FORMAT_VERSION) {
    throw archiveError(path, `format version ${manifest.formatVersion} is newer than this runner reads (${ARCHIVE_FORMAT_VERSION})`, `run it with runner ${manifest.runnerVersion}, or newer`);
  }
  if (!byPath.has(manifest.scenario.path)) throw archiveError(path, `the scenario ${manifest.scenario.path} is missing`);

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
      if (reference.option[0] === '--tls-ca') overrides.tlsCa = extracted;
      else setOption(fileOptions as unknown as Record<string, unknown>, reference.option, extracted);
    }
    const notes = manifest.runnerVersion === RUNNER_VERSION ? [] : [`archive ${basename(path)} was written by runner ${manifest.runnerVersion}; this is runner ${RUNNER_VERSION}`];
    return { fileOptions, manifest, baseDir: join(dir, SCENARIO_DIR), overrides, notes, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
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
