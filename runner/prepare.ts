/**
 * From a scenario file (or an archive of one) and the flags to what the engine runs: the file
 * loaded, the options resolved and checked, the thresholds compiled against the known metrics.
 * `runner run`, `runner inspect` and `runner archive` all go through here, so they agree on
 * every option and every error.
 */
import { basename, dirname, extname } from 'node:path';
import { ARCHIVE_EXTENSIONS, openArchive } from './archive/open.ts';
import { loadScenarioFile } from './scenario/load.ts';
import { resolveOptions, type CliOverrides } from './scenario/options.ts';
import type { ScenarioFileOptions } from './scenario/types.ts';
import type { ResolvedOptions } from './scenario/resolved.ts';
import { compileThresholds, type ThresholdDefinition } from './thresholds/index.ts';
import { clearCustomMetrics, customMetrics } from './metrics/custom.ts';
import { BUILT_IN_METRICS, REPLY_TAG, SCRIPT_TAGS, SYSTEM_TAGS, type MetricInfo } from './metrics/catalogue.ts';

/** A scenario file loaded (not yet resolved). */
export interface ScenarioInput {
  /** The options as the file wrote them. */
  fileOptions: ScenarioFileOptions;
  /** Absolute path of the file that was loaded. */
  file: string;
  /** Where its relative paths (accounts files, tlsCa) start. */
  baseDir: string;
  /** The scenario file's name as shown. */
  fileName: string;
  /** Flags recorded with it (an archive's); the command's own flags go on top. */
  recordedOverrides: CliOverrides;
  /** The archive it came from, when it did. */
  archive?: string;
  /** Things to tell the user about the input (warnings). */
  notes: string[];
  /** Removes what loading it left behind (an archive's extracted files). */
  cleanup(): Promise<void>;
}

/**
 * Loads a scenario file, or an archive of one (runner archive: extracted to a temp folder that
 * `cleanup` removes). Its custom metrics register as it loads: clear those of an earlier load first.
 */
export async function loadScenarioInput(path: string): Promise<ScenarioInput> {
  if ((ARCHIVE_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase())) {
    const opened = await openArchive(path);
    return {
      fileOptions: opened.fileOptions,
      file: path,
      baseDir: opened.baseDir,
      fileName: opened.manifest.scenario.name,
      recordedOverrides: opened.overrides,
      archive: path,
      notes: opened.notes,
      cleanup: opened.cleanup,
    };
  }
  const loaded = await loadScenarioFile(path);
  return {
    notes: [],
    fileOptions: loaded.options,
    file: loaded.file,
    baseDir: dirname(loaded.file),
    fileName: basename(loaded.file),
    recordedOverrides: {},
    cleanup: async () => undefined,
  };
}

/** The thresholds compiled against the built-in and custom metrics and the tags the scenarios can carry. */
export function compileRunThresholds(options: ResolvedOptions): ThresholdDefinition[] {
  const known = new Map<string, MetricInfo>(BUILT_IN_METRICS);
  for (const [name, metric] of customMetrics()) known.set(name, metric.info);
  return compileThresholds(options.thresholds, known, [...SYSTEM_TAGS, ...SCRIPT_TAGS, REPLY_TAG, ...options.scenarios.flatMap((s) => Object.keys(s.tags))]);
}

/** Flags recorded with the input, with the command's own on top (`env` and `tags` merged key by key). */
export function mergeOverrides(recorded: CliOverrides, own: CliOverrides): CliOverrides {
  const merged: CliOverrides = { ...recorded };
  for (const [key, value] of Object.entries(own) as Array<[keyof CliOverrides, unknown]>) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  if (recorded.env || own.env) merged.env = { ...recorded.env, ...own.env };
  if (recorded.tags || own.tags) merged.tags = { ...recorded.tags, ...own.tags };
  return merged;
}

/** A scenario loaded and resolved: what inspect and archive need. */
export interface PreparedScenario extends ScenarioInput {
  options: ResolvedOptions;
  thresholds: ThresholdDefinition[];
  /** The flags in effect (recorded and the command's). */
  overrides: CliOverrides;
}

/** Loads, resolves and compiles, as `runner run` does before it starts anything. */
export async function prepareScenario(command: { scenarioFile: string; overrides: CliOverrides; env: NodeJS.ProcessEnv; warn?: (message: string) => void }): Promise<PreparedScenario> {
  clearCustomMetrics(command.warn);
  const input = await loadScenarioInput(command.scenarioFile);
  try {
    const overrides = mergeOverrides(input.recordedOverrides, command.overrides);
    const options = await resolveOptions(input.fileOptions, overrides, { file: input.file, baseDir: input.baseDir, env: command.env });
    return { ...input, options, thresholds: compileRunThresholds(options), overrides };
  } catch (error) {
    await input.cleanup();
    throw error;
  }
}
