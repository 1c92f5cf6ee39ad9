/**
 * The manifest of a runner archive (`runner-archive.json`, the archive's first file): what the
 * archive holds and how to run it unchanged. A leaf: the writer (archive.ts) and the reader
 * (open.ts) share it.
 */
import type { CliOverrides } from '../scenario/options.ts';

/** The manifest's path inside the archive. */
export const MANIFEST_PATH = 'runner-archive.json';
/** The archive format's version: a reader refuses versions it does not know. */
export const ARCHIVE_FORMAT_VERSION = 1;
/** The folder of the archive the scenario's relative paths start from. */
export const SCENARIO_DIR = 'scenario';
/**
 * Largest archive runner reads (bytes): it is read into memory whole. A scenario bundle is
 * kilobytes to a few megabytes; accounts files of a million senders are ~50 MB.
 */
export const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;

/** An option of the scenario file (its path of keys) or a flag (--tls-ca, --body-file, --attach) that names a file the archive carries. */
export interface FileReference {
  /** `['scenarios', 'peak', 'accounts', 'file']`, `['smtp', 'tlsCa']`, `['--tls-ca']`, `['--body-file']`, or `['--attach', '0']` (the index among the --attach flags). */
  option: string[];
  /** The file's path inside the archive. */
  path: string;
}

export interface ArchiveManifest {
  format: 'runner-archive';
  formatVersion: number;
  /** The runner that wrote it (a different one runs it, with a warning). */
  runnerVersion: string;
  createdAt: string;
  /** The scenario: its original file name, its path inside the archive, and whether it is a code bundle or YAML/JSON text. */
  scenario: { name: string; path: string; kind: 'bundle' | 'data' };
  /** Files named by options or flags (accounts files, TLS CA files): extracted and pointed to. */
  files: FileReference[];
  /** The flags given to `runner archive` (passwords and tokens left out); a run's own flags go on top. */
  overrides: CliOverrides;
  /** The resolved options at archive time, for people and tools (a run resolves again from the above). */
  options: Record<string, unknown>;
  /**
   * SHA-256 (hex) of every other file, by its path: tar checks its headers but not the contents,
   * so a damaged byte in the bundle is caught here. Absent in the first archives (then not checked).
   */
  sha256?: Record<string, string>;
}
