/**
 * A tar (POSIX ustar) of regular files, written and read by hand: a 512-byte header per file
 * (name, octal size, checksum), the content padded to 512 bytes, two zero blocks at the end. Only
 * what runner's archives need: regular files with relative paths, no links, no long-name
 * extensions (a path up to 255 bytes goes into ustar's name and prefix fields). What `tar tf`
 * and `tar xf` read, and what we read back, checksums verified.
 */

const BLOCK = 512;

/** One file of an archive: a relative path with `/` separators, and its bytes. */
export interface TarEntry {
  path: string;
  data: Uint8Array;
}

/** A tar that cannot be read (not a tar, damaged, or something runner did not write). */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

/** Whether a path may be written into (and extracted from) an archive: relative, no `..`, no empty or `.` parts. */
export function isSafeArchivePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** The bytes of a tar holding `entries` in order. */
export function writeTar(entries: readonly TarEntry[], mtimeSeconds = 0): Uint8Array {
  const blocks: Uint8Array[] = [];
  let total = 0;
  for (const entry of entries) {
    if (!isSafeArchivePath(entry.path)) throw new TarFormatError(`unsafe path in archive: ${JSON.stringify(entry.path)}`);
    const header = buildHeader(entry.path, entry.data.length, mtimeSeconds);
    const padded = new Uint8Array(Math.ceil(entry.data.length / BLOCK) * BLOCK);
    padded.set(entry.data);
    blocks.push(header, padded);
    total += header.length + padded.length;
  }
  // The end of the archive: two zero blocks.
  total += 2 * BLOCK;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const block of blocks) {
    out.set(block, offset);
    offset += block.length;
  }
  return out;
}

/** The files of a tar (regular files only; directories skipped), checksums verified, paths checked safe. */
export function readTar(bytes: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  const claimed = new Map<string, 'file' | 'folder'>();
  let offset = 0;
  while (offset + BLOCK <= bytes.length) {
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return entries;
    const expected = parseOctal(header.subarray(148, 156));
    if (expected !== checksum(header)) throw new TarFormatError(`bad header checksum at byte ${offset}: not a tar, or a damaged one`);
    const name = readString(header.subarray(0, 100));
    const prefix = readString(header.subarray(345, 500));
    const path = prefix ? `${prefix}/${name}` : name;
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156]!);
    const start = offset + BLOCK;
    if (start + size > bytes.length) throw new TarFormatError(`${path}: the archive ends inside it (truncated)`);
    if (type === '0' || type === '\0') {
      if (!isSafeArchivePath(path)) throw new TarFormatError(`unsafe path in archive: ${JSON.stringify(path)}`);
      claimPath(path, claimed);
      entries.push({ path, data: bytes.slice(start, start + size) });
    } else if (type !== '5') {
      throw new TarFormatError(`${path}: entry type '${type}' (runner's archives hold only files)`);
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new TarFormatError('the archive has no end marker (truncated)');
}

/**
 * Records `path` as a file and its parents as folders; a path given twice, or one that is a file
 * and a folder at once, is refused (extracting it would overwrite or fail half way).
 */
function claimPath(path: string, claimed: Map<string, 'file' | 'folder'>): void {
  if (claimed.has(path)) throw new TarFormatError(`${path}: ${claimed.get(path) === 'file' ? 'given twice' : 'a file and a folder at once'} (runner's archives hold each file once)`);
  claimed.set(path, 'file');
  for (let at = path.indexOf('/'); at > 0; at = path.indexOf('/', at + 1)) {
    const folder = path.slice(0, at);
    if (claimed.get(folder) === 'file') throw new TarFormatError(`${folder}: a file and a folder at once (runner's archives hold each file once)`);
    claimed.set(folder, 'folder');
  }
}

function buildHeader(path: string, size: number, mtimeSeconds: number): Uint8Array {
  const header = new Uint8Array(BLOCK);
  const encoder = new TextEncoder();
  let name = path;
  let prefix = '';
  if (encoder.encode(path).length > 100) {
    // Split at a '/' so that the prefix fits 155 bytes and the rest 100.
    const cut = path.lastIndexOf('/', path.length - 1);
    let at = cut;
    while (at > 0 && (encoder.encode(path.slice(0, at)).length > 155 || encoder.encode(path.slice(at + 1)).length > 100)) at = path.lastIndexOf('/', at - 1);
    if (at <= 0) throw new TarFormatError(`path too long for a tar: ${path}`);
    prefix = path.slice(0, at);
    name = path.slice(at + 1);
  }
  header.set(encoder.encode(name), 0);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, mtimeSeconds);
  header[156] = '0'.charCodeAt(0);
  header.set(encoder.encode('ustar\u000000'), 257);
  header.set(encoder.encode(prefix), 345);
  // The checksum is computed with its own field as spaces, written as 6 octal digits, NUL, space.
  header.fill(0x20, 148, 156);
  const sum = checksum(header);
  header.set(encoder.encode(sum.toString(8).padStart(6, '0')), 148);
  header[154] = 0;
  header[155] = 0x20;
  return header;
}

/** Sum of the header's bytes with the checksum field counted as spaces. */
function checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum;
}

function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  const text = value.toString(8).padStart(length - 1, '0');
  if (text.length > length - 1) throw new TarFormatError(`value ${value} too large for a tar header`);
  header.set(new TextEncoder().encode(text), offset);
  header[offset + length - 1] = 0;
}

function parseOctal(field: Uint8Array): number {
  const text = readString(field).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError('a header number is not octal: not a tar, or a damaged one');
  return text === '' ? 0 : parseInt(text, 8);
}

function readString(field: Uint8Array): string {
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}
