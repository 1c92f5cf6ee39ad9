/**
 * Files are written whole or not at all: into a temporary file beside the target, flushed,
 * then renamed over it (rename is atomic within a file system), so a reader never sees a
 * half-written results file even when the process is killed mid-write.
 *
 * Anything that is not a regular file — a device node (/dev/null, /dev/stdout's terminal or
 * pipe), a FIFO — is written directly, never replaced: a rename would turn /dev/null into a
 * regular file (issue 19 found that as root), and a reader at the other end of a FIFO would never
 * see the text. Such targets have no "half-written file" to protect against.
 */
import { closeSync, constants, openSync, renameSync, rmSync, statSync, writeSync, fsyncSync } from 'node:fs';
import { access, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { OutputError } from '../errors.ts';

const WRITE_HINT = 'check the folder exists and is writable, and that the disk has space';

/** Whether `path` exists and is neither a regular file nor a folder (a device, a FIFO, a socket); follows symlinks. */
export async function isSpecialFile(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && !info.isFile() && !info.isDirectory();
}

function isSpecialFileSync(path: string): boolean {
  try {
    const info = statSync(path);
    return !info.isFile() && !info.isDirectory();
  } catch {
    return false;
  }
}

/** Why a write failed, about the file the user named: a system error's message names the hidden temporary file. */
function describeWriteError(error: unknown, target: string): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return `the folder ${dirname(target)} does not exist (ENOENT)`;
    case 'ENOTDIR': return `a part of ${dirname(target)} is a file, not a folder (ENOTDIR)`;
    case 'EACCES':
    case 'EPERM': return `no permission to write in ${dirname(target)} (${code})`;
    case 'EROFS': return `${dirname(target)} is on a read-only file system (EROFS)`;
    case 'ENOSPC': return 'no space left on the disk (ENOSPC)';
    case 'EISDIR': return `${target} is a folder (EISDIR)`;
    default: return (error as Error)?.message ?? String(error);
  }
}

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
}

/** Writes `text` (or bytes) to `path` atomically (directly when it is not a regular file). */
export async function writeFileAtomic(path: string, text: string | Uint8Array): Promise<void> {
  const target = resolve(path);
  if (await isSpecialFile(target)) {
    try {
      const handle = await open(target, 'w');
      try {
        await handle.writeFile(text);
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw new OutputError(`cannot write ${path}: ${describeWriteError(error, target)}`, WRITE_HINT, error);
    }
    return;
  }
  const temp = tempPathFor(target);
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
    throw new OutputError(`cannot write ${path}: ${describeWriteError(error, target)}`, WRITE_HINT, error);
  }
}

/**
 * The same, synchronously: for a second Ctrl+C, when the process exits right after. Still by
 * rename for regular files (a reader never sees half a file), directly for anything else.
 */
export function writeFileAtomicSync(path: string, text: string | Uint8Array): void {
  const target = resolve(path);
  const isSpecial = isSpecialFileSync(target);
  const temp = isSpecial ? target : tempPathFor(target);
  try {
    const fd = openSync(temp, 'w');
    try {
      const bytes = typeof text === 'string' ? Buffer.from(text) : text;
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
      if (!isSpecial) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (!isSpecial) renameSync(temp, target);
  } catch (error) {
    if (!isSpecial) rmSync(temp, { force: true });
    throw new OutputError(`cannot write ${path}: ${describeWriteError(error, target)}`, WRITE_HINT, error);
  }
}

/** Writes a value as pretty JSON, atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Checks before a run that `path` can be written (its folder exists and is writable, and it is
 * not a folder itself; or it is a device or FIFO this process may write to), so a bad --out
 * fails now rather than after an hour of load.
 */
export async function assertWritable(path: string, what: string): Promise<void> {
  const target = resolve(path);
  if (await isSpecialFile(target)) {
    // Written directly (see above): only the node itself must be writable, not its folder (/dev).
    try {
      await access(target, constants.W_OK);
    } catch (error) {
      throw new OutputError(`${what} ${path}: cannot write to it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'choose a path you can write to', error);
    }
    return;
  }
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

/** Whether two paths name the same file: the same absolute path, or (both existing) the same inode. */
export function isSameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Whether `path` exists and is not a regular file or folder (a device, FIFO), synchronously. */
export { isSpecialFileSync };


