import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bdatChunkCount, bdatChunkSize, bdatLine, bdatWireBytes, writeBdatChunks } from '../../runner/smtp/bdat.ts';

const Layout = suite('bdat: chunks of a message (RFC 3030 §2)');

const COUNTS: Array<[number, number, number]> = [
  [1000, 0, 1],
  [1000, 1000, 1],
  [1000, 400, 3],
  [0, 0, 1],
];
for (const [content, chunk, count] of COUNTS) {
  Layout(`${content} bytes in chunks of ${chunk}: ${count} chunk(s)`, () => assert.is(bdatChunkCount(content, chunk), count));
}

Layout('sizes: full chunks, then the rest', () => {
  assert.equal([0, 1, 2].map((index) => bdatChunkSize(1000, 400, index)), [400, 400, 200]);
});

Layout('laid out: each command line then its bytes, LAST on the last only', () => {
  const content = Buffer.from('abcdefghij');
  const target = Buffer.alloc(bdatWireBytes(10, 4, 0, 3));
  const end = writeBdatChunks(target, 0, content, 4, 0, 3);
  assert.is(end, target.length);
  assert.is(target.toString('latin1'), 'BDAT 4\r\nabcdBDAT 4\r\nefghBDAT 2 LAST\r\nij');
  assert.is(bdatLine(0, true), 'BDAT 0 LAST\r\n');
});

Layout('a range of chunks (one at a time without PIPELINING)', () => {
  const content = Buffer.from('abcdefghij');
  const target = Buffer.alloc(64);
  const end = writeBdatChunks(target, 3, content, 4, 1, 2);
  assert.is(target.toString('latin1', 3, end), 'BDAT 4\r\nefgh');
});

Layout.run();
