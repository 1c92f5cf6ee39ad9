/**
 * `runner archive`: one file that runs anywhere unchanged (`runner run run.tar`, `runner inspect
 * run.tar`): the scenario bundled with its imports and dependencies (esbuild, relocatable), the
 * files its options name (accounts files, TLS CA files) and the message's (--body-file, --attach), the flags given here, the resolved
 * options and runner's version, in a tar a person can list with `tar tf`. The scenario is loaded
 * and checked first, exactly as a run would, so a broken one is never archived.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, relative, resolve as resolvePath, sep } from 'node:path';
import { RunnerError, UsageError } from '../errors.ts';
import { bundleScenario, CODE_EXTENSIONS } from '../scenario/load.ts';
import type { CliOverrides } from '../scenario/options.ts';
import type { ScenarioFileOptions } from '../scenario/types.ts';
import { writeFileAtomic } from '../outputs/atomic-write.ts';
import { formatBytes } from '../util/format.ts';
import { describeOptions } from '../inspect/describe-options.ts';
import { prepareScenario } from '../prepare.ts';
import { RUNNER_VERSION } from '../version.ts';
import { isSafeArchivePath, writeTar, type TarEntry } from './tar.ts';
import { sha256Hex } from './hash.ts';
import { ARCHIVE_FORMAT_VERSION, MANIFEST_PATH, MAX_ARCHIVE_BYTES, SCENARIO_DIR, type ArchiveManifest, type FileReference } from './manifest.ts';

/** What `runner archive` takes. */
export interface ArchiveCommandOptions {
  scenarioFile: string;
  overrides: CliOverrides;
  /** `-o`: the archive to write (.tar). */
  out: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What was written. */
export interface ArchiveOutcome {
  path: string;
  bytes: number;
  manifest: ArchiveManifest;
}

/** Checks, bundles and writes the archive. Throws the errors `runner run` would for a bad scenario. */
export async function archiveCommand(command: ArchiveCommandOptions): Promise<ArchiveOutcome> {
  const stdout = command.stdout ?? process.stdout;
  const stderr = command.stderr ?? process.stderr;
  const cwd = command.cwd ?? process.cwd();
  const out = resolvePath(cwd, command.out);
  if (extname(out).toLowerCase() !== '.tar') throw new UsageError(`-o ${command.out}: an archive is a .tar file`, `write -o ${basename(command.out, extname(command.out))}.tar`);
  const prepared = await prepareScenario({ scenarioFile: resolvePath(cwd, command.scenarioFile), overrides: command.overrides, env: command.env ?? process.env, warn: (message) => stderr.write(`warning: ${message}\n`) });
  try {
    if (prepared.archive) throw new UsageError(`${command.scenarioFile} is already an archive`, 'run it (runner run FILE.tar) or archive the scenario file it was made from');
    const isCode = (CODE_EXTENSIONS as readonly string[]).includes(extname(prepared.file).toLowerCase());
    const scenarioPath = `${SCENARIO_DIR}/${prepared.fileName}${isCode ? '.bundle.mjs' : ''}`;
    const scenarioBytes = isCode ? new TextEncoder().encode(await bundleScenario(prepared.file, true)) : await readFile(prepared.file);

    const entries: TarEntry[] = [];
    const files: FileReference[] = [];
    const pathsByFile = new Map<string, string>();
    const carry = async (option: string[], file: string): Promise<void> => {
      if (!existsSync(file) || !statSync(file).isFile()) return;
      let path = pathsByFile.get(file);
      if (path === undefined) {
        // Inside the scenario's folder: the same relative path; elsewhere: data/N/its name.
        const inside = relative(prepared.baseDir, file).split(sep).join('/');
        path = isSafeArchivePath(inside) ? `${SCENARIO_DIR}/${inside}` : `data/${pathsByFile.size}/${basename(file)}`;
        if (path === scenarioPath || path === MANIFEST_PATH) path = `data/${pathsByFile.size}/${basename(file)}`;
        pathsByFile.set(file, path);
        entries.push({ path, data: await readFile(file) });
      }
      files.push({ option, path });
    };
    for (const [option, written] of fileOptionsNamingFiles(prepared.fileOptions)) {
      await carry(option, isAbsolute(written) ? written : resolvePath(prepared.baseDir, written));
    }
    // Secrets given as flags are not written into a file that travels: a run gives them again.
    const { password, token, tlsCa, bodyFile, attach, ...recorded } = command.overrides;
    const overrides: CliOverrides = JSON.parse(JSON.stringify(recorded)) as CliOverrides;
    if (tlsCa !== undefined) await carry(['--tls-ca'], tlsCa);
    // The message's files travel too (a path of this machine would be missing on another)
    if (bodyFile !== undefined) await carry(['--body-file'], resolvePath(cwd, bodyFile));
    for (const [index, file] of (attach ?? []).entries()) await carry(['--attach', String(index)], resolvePath(cwd, file));
    for (const [flag, value] of [['--password', password], ['--token', token]] as const) {
      if (value !== undefined) stderr.write(`warning: ${flag} is not recorded in the archive (a secret); give it again when running it\n`);
    }

    const sha256 = Object.fromEntries([[scenarioPath, scenarioBytes] as const, ...entries.map((entry) => [entry.path, entry.data] as const)].map(([path, data]) => [path, sha256Hex(data)]));
    const manifest: ArchiveManifest = {
      format: 'runner-archive',
      formatVersion: ARCHIVE_FORMAT_VERSION,
      runnerVersion: RUNNER_VERSION,
      createdAt: new Date().toISOString(),
      scenario: { name: prepared.fileName, path: scenarioPath, kind: isCode ? 'bundle' : 'data' },
      files,
      overrides,
      options: describeOptions(prepared.options, { baseDir: prepared.baseDir, fileName: prepared.fileName, envNames: Object.keys(overrides.env ?? {}) }),
      sha256,
    };
    const tar = writeTar([
      { path: MANIFEST_PATH, data: new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n') },
      { path: scenarioPath, data: scenarioBytes },
      ...entries,
    ], Math.floor(Date.now() / 1000));
    if (tar.length > MAX_ARCHIVE_BYTES) {
      throw new RunnerError(`the archive would be ${formatBytes(tar.length)}: at most ${formatBytes(MAX_ARCHIVE_BYTES)} (it is read into memory)`, { code: 'E_ARCHIVE', exit: 'invalidOptions', hint: 'use smaller accounts files' });
    }
    if (out === prepared.file || pathsByFile.has(out)) throw new UsageError(`-o ${command.out} is an input of the scenario`, 'write the archive elsewhere');
    await writeFileAtomic(out, tar);
    const carried = entries.length === 0 ? 'no data files' : `${entries.length} data file${entries.length > 1 ? 's' : ''} (${entries.map((e) => e.path).join(', ')})`;
    stdout.write(`wrote ${command.out} (${formatBytes(tar.length)}): ${prepared.fileName}${isCode ? ' bundled' : ''}, ${carried}, runner ${RUNNER_VERSION}; run it with: runner run ${command.out}\n`);
    return { path: out, bytes: tar.length, manifest };
  } finally {
    await prepared.cleanup();
  }
}

/**
 * The options of a scenario file that name files, with their paths of keys: accounts.file and
 * smtp.tlsCa, at the top and in each scenario (the values as written, relative or absolute).
 */
export function fileOptionsNamingFiles(options: ScenarioFileOptions): Array<[string[], string]> {
  const named: Array<[string[], string]> = [];
  const visit = (at: { accounts?: { file?: unknown }; smtp?: { tlsCa?: unknown } } | undefined, prefix: string[]) => {
    if (typeof at?.accounts?.file === 'string') named.push([[...prefix, 'accounts', 'file'], at.accounts.file]);
    if (typeof at?.smtp?.tlsCa === 'string') named.push([[...prefix, 'smtp', 'tlsCa'], at.smtp.tlsCa]);
  };
  visit(options, []);
  for (const [name, scenario] of Object.entries(options.scenarios ?? {})) visit(scenario, ['scenarios', name]);
  return named;
}
