/**
 * Files are written whole or not at all: into a temporary file beside the target, flushed,
 * then renamed over it (rename is atomic within a file system), so a reader never sees a
 * half-written results file even when the process is killed mid-write.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { OutputError } from '../errors.ts';

/** Writes `text` (or bytes) to `path` atomically. */
export async function writeFileAtomic(path: string, text: string | Uint8Array): Promise<void> {
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new OutputError(`cannot write ${path}: ${(error as Error).message}`, 'check the folder exists and is writable, and that the disk has space', error);
  }
}

/** Writes a value as pretty JSON, atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Checks before a run that `path` can be written (its folder exists and is writable, and it is
 * not a folder itself), so a bad --out fails now rather than after an hour of load.
 */
export async function assertWritable(path: string, what: string): Promise<void> {
  const target = resolve(path);
  const folder = dirname(target);
  const info = await stat(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw new OutputError(`${what} ${path}: ${folder} is not a folder`, 'choose a path inside a folder', error);
    throw new OutputError(`${what} ${path}: folder ${folder} does not exist`, `create it first (mkdir -p ${folder}) or choose another path`, error);
  });
  if (!info.isDirectory()) throw new OutputError(`${what} ${path}: ${folder} is not a folder`, 'choose a path inside a folder');
  // Creating a file is the only sure test: permission bits do not stop root, while a read-only
  // mount or a pseudo file system such as /proc still refuses.
  const probe = join(folder, `.${basename(target)}.${process.pid}.probe`);
  try {
    await (await open(probe, 'w')).close();
  } catch (error) {
    throw new OutputError(`${what} ${path}: cannot create files in ${folder} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'choose a folder you can write to', error);
  }
  await rm(probe, { force: true });
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new OutputError(`${what} ${path} is a folder`, 'give a file name, e.g. results/run.json');
}
