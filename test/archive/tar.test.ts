/**
 * The hand-written tar: what it writes reads back byte for byte, long paths go into ustar's
 * prefix, damage and unsafe paths are refused, and the system's `tar` lists and extracts it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSafeArchivePath, readTar, TarFormatError, writeTar } from '../../runner/archive/tar.ts';
import { IS_CI, missingProgram, missingUnderCi } from '../tools.ts';

const tar = suite('tar: written by hand, read back, readable by tar(1)');

const encode = (text: string) => new TextEncoder().encode(text);
const ENTRIES = [
  { path: 'runner-archive.json', data: encode('{"a":1}\n') },
  { path: 'scenario/empty.txt', data: new Uint8Array(0) },
  { path: 'scenario/block.bin', data: new Uint8Array(512).fill(7) },
  { path: 'scenario/just-over.bin', data: new Uint8Array(513).fill(9) },
  { path: `data/0/${'d'.repeat(80)}/${'long-name-'.repeat(9)}.json`, data: encode('[]') },
];

tar('round trip: paths and bytes as written, in order', () => {
  const back = readTar(writeTar(ENTRIES, 1_700_000_000));
  assert.equal(back.map((e) => e.path), ENTRIES.map((e) => e.path));
  for (let i = 0; i < ENTRIES.length; i++) assert.equal([...back[i]!.data], [...ENTRIES[i]!.data], ENTRIES[i]!.path);
});

tar('a damaged header, a truncated archive, a stranger\'s file are refused', () => {
  const bytes = writeTar(ENTRIES);
  const damaged = bytes.slice();
  damaged[10] = damaged[10]! ^ 0xff;
  assert.throws(() => readTar(damaged), (error: Error) => error instanceof TarFormatError && /checksum/.test(error.message));
  assert.throws(() => readTar(bytes.slice(0, 700)), (error: Error) => error instanceof TarFormatError);
  assert.throws(() => readTar(encode('export default {}\n'.repeat(40))), (error: Error) => error instanceof TarFormatError);
});

tar('unsafe paths are neither written nor read', () => {
  for (const path of ['../x', '/etc/passwd', 'a/../../b', 'a//b', './a', '']) assert.not.ok(isSafeArchivePath(path), path);
  assert.ok(isSafeArchivePath('scenario/accounts.json'));
  assert.throws(() => writeTar([{ path: '../evil', data: new Uint8Array(1) }]), (error: Error) => error instanceof TarFormatError);
});

tar('a path given twice, or a file that is also a folder, is refused (extracting it would overwrite or fail half way)', () => {
  const file = (path: string) => ({ path, data: encode('x') });
  const refused = (entries: Array<{ path: string; data: Uint8Array }>, pattern: RegExp) =>
    assert.throws(() => readTar(writeTar(entries)), (error: Error) => error instanceof TarFormatError && pattern.test(error.message));
  refused([file('a/b'), file('a/b')], /a\/b: given twice/);
  refused([file('a/b'), file('a/b/c')], /a\/b: a file and a folder at once/);
  refused([file('a/b/c'), file('a/b')], /a\/b: a file and a folder at once/);
  assert.equal(readTar(writeTar([file('a/b'), file('a/c/d'), file('a/c/e')])).map((e) => e.path), ['a/b', 'a/c/d', 'a/c/e']);
});

tar('tar(1) lists it and extracts the same bytes', () => {
  const missing = missingProgram('tar', 'tar');
  if (missing) {
    if (IS_CI) assert.unreachable(missingUnderCi(missing));
    console.log(`skipped: ${missing}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'runner-tar-'));
  try {
    writeFileSync(join(dir, 'a.tar'), writeTar(ENTRIES));
    const listed = spawnSync('tar', ['tf', 'a.tar'], { cwd: dir, encoding: 'utf8' });
    assert.is(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n'), ENTRIES.map((e) => e.path));
    assert.is(spawnSync('tar', ['xf', 'a.tar'], { cwd: dir }).status, 0);
    assert.equal([...readFileSync(join(dir, 'scenario/just-over.bin'))], [...ENTRIES[3]!.data]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

tar.run();
