/**
 * A file that cannot be written says why in the user's terms: the file they named and what is
 * wrong with it, never the hidden temporary file the atomic write goes through.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeFileAtomic, writeFileAtomicSync } from '../../runner/outputs/atomic-write.ts';
import { OutputError } from '../../runner/errors.ts';

const errors = suite('atomic write: errors');

async function messageOf(write: () => unknown): Promise<string> {
  try {
    await write();
  } catch (error) {
    assert.instance(error, OutputError);
    return (error as Error).message;
  }
  throw new Error('the write did not fail');
}

errors('a missing folder: named, no temporary file in the message (async and sync)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  try {
    const target = join(dir, 'missing', 'x.tar');
    for (const write of [() => writeFileAtomic(target, 'x'), () => writeFileAtomicSync(target, 'x')]) {
      const message = await messageOf(write);
      assert.is(message, `cannot write ${target}: the folder ${join(dir, 'missing')} does not exist (ENOENT)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

errors('a folder where a file is asked for: no temporary file in the message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  try {
    writeFileSync(join(dir, 'file'), '');
    const message = await messageOf(() => writeFileAtomic(join(dir, 'file', 'x.json'), 'x'));
    assert.not.match(message, '.tmp');
    assert.match(message, `cannot write ${join(dir, 'file', 'x.json')}: `);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

errors.run();
