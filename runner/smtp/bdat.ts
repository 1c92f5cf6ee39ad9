/**
 * CHUNKING (RFC 3030): the message as BDAT chunks instead of DATA. Each chunk is
 * `BDAT <bytes>[ LAST]\r\n` followed by exactly that many bytes of the message; the data is
 * neither dot-stuffed nor ended by "." (RFC 3030 §2), and the server answers each chunk.
 * Pure layout functions: the session decides when to write.
 */

/** How many chunks a message of `contentBytes` makes with chunks of at most `chunkBytes` (0: one chunk). */
export function bdatChunkCount(contentBytes: number, chunkBytes: number): number {
  if (chunkBytes <= 0 || contentBytes <= chunkBytes) return 1;
  return Math.ceil(contentBytes / chunkBytes);
}

/** The command line of one chunk: RFC 3030 §2 `BDAT <chunk-size> [LAST]`. */
export function bdatLine(chunkBytes: number, isLast: boolean): string {
  return isLast ? `BDAT ${chunkBytes} LAST\r\n` : `BDAT ${chunkBytes}\r\n`;
}

/** Bytes the chunks `from`..`to` (exclusive) of `content` take on the wire, command lines included. */
export function bdatWireBytes(contentBytes: number, chunkBytes: number, from: number, to: number): number {
  let total = 0;
  for (let index = from; index < to; index++) {
    const size = bdatChunkSize(contentBytes, chunkBytes, index);
    total += bdatLine(size, isLastChunk(contentBytes, chunkBytes, index)).length + size;
  }
  return total;
}

/** The size of chunk `index` (0-based). */
export function bdatChunkSize(contentBytes: number, chunkBytes: number, index: number): number {
  if (chunkBytes <= 0 || contentBytes <= chunkBytes) return contentBytes;
  return Math.min(chunkBytes, contentBytes - index * chunkBytes);
}

function isLastChunk(contentBytes: number, chunkBytes: number, index: number): boolean {
  return index === bdatChunkCount(contentBytes, chunkBytes) - 1;
}

/**
 * Lays chunks `from`..`to` (exclusive) of `content` into `target` at `at`: each chunk's command
 * line then its bytes. Returns the offset after the last byte written. `target` must have room
 * (bdatWireBytes).
 */
export function writeBdatChunks(target: Buffer, at: number, content: Buffer, chunkBytes: number, from: number, to: number): number {
  const count = bdatChunkCount(content.length, chunkBytes);
  let offset = at;
  for (let index = from; index < to; index++) {
    const size = bdatChunkSize(content.length, chunkBytes, index);
    offset += target.write(bdatLine(size, index === count - 1), offset, 'latin1');
    const start = chunkBytes <= 0 ? 0 : index * chunkBytes;
    offset += content.copy(target, offset, start, start + size);
  }
  return offset;
}
