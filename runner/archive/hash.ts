/** The hash of an archive's files (the manifest's `sha256`), shared by the writer and the reader. A leaf. */
import { createHash } from 'node:crypto';

/** A file's SHA-256, hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
