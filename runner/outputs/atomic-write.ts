/**
 * Files are written whole or not at all: into a temporary file beside the target, flushed,
 * then renamed over it (rename is atomic within a file system), so a reader never sees a
 * half-written results file even when the process is killed mid-write.
 */
import { open, rename, rm, access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
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
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) throw new Error(`${folder} is not a folder`);
  } catch (error) {
    throw new OutputError(`${what} ${path}: folder ${folder} does not exist`, `create it first (mkdir -p ${folder}) or choose another path`, error);
  }
  try {
    await access(folder, constants.W_OK);
  } catch (error) {
    throw new OutputError(`${what} ${path}: folder ${folder} is not writable`, 'choose a folder you can write to', error);
  }
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new OutputError(`${what} ${path} is a folder`, 'give a file name, e.g. results/run.json');
}
