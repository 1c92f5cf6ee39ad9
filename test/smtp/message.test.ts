import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  encodeMessageBytes,
  countStuffedDots,
  base36,
  drawMessageIdRandom,
  BODY_LINE_CHARS,
  bodyWithEndOfData,
  buildHead,
  buildHeadWith,
  buildMessage,
  dotStuff,
  encodeMessageData,
  formatDate,
  generatedBody,
  HeadWriter,
  normalizeLineEndings,
} from '../../runner/smtp/message.ts';

const Stuffing = suite('message: dot stuffing (RFC 5321 §4.5.2)');

const stuffingCases: Array<{ name: string; input: string; output: string }> = [
  { name: 'no dots', input: 'a\r\nb\r\n', output: 'a\r\nb\r\n' },
  { name: 'leading dot on the first line', input: '.hidden\r\nb', output: '..hidden\r\nb' },
  { name: 'a line that is a single dot', input: 'a\r\n.\r\nb', output: 'a\r\n..\r\nb' },
  { name: 'end-of-data sequence inside the text', input: 'x\r\n.\r\n', output: 'x\r\n..\r\n' },
  { name: 'two dot lines in a row', input: '.\r\n.\r\n', output: '..\r\n..\r\n' },
  { name: 'already two dots get a third', input: '..x', output: '...x' },
  { name: 'dot not at line start is kept', input: 'a.b\r\n c.\r\n', output: 'a.b\r\n c.\r\n' },
  { name: 'bare LF before a dot', input: 'a\n.b\n', output: 'a\r\n..b\r\n' },
  { name: 'bare CR before a dot', input: 'a\r.b', output: 'a\r\n..b' },
  { name: 'empty', input: '', output: '' },
];

for (const { name, input, output } of stuffingCases) {
  Stuffing(name, () => assert.is(dotStuff(input), output));
}

const Endings = suite('message: line endings and end-of-data');

const endingCases: Array<{ name: string; input: string; normalized: string; data: string }> = [
  { name: 'CRLF kept', input: 'a\r\nb\r\n', normalized: 'a\r\nb\r\n', data: 'a\r\nb\r\n.\r\n' },
  { name: 'bare LF converted', input: 'a\nb\n', normalized: 'a\r\nb\r\n', data: 'a\r\nb\r\n.\r\n' },
  { name: 'bare CR converted', input: 'a\rb', normalized: 'a\r\nb', data: 'a\r\nb\r\n.\r\n' },
  { name: 'mixed', input: 'a\r\nb\nc\rd', normalized: 'a\r\nb\r\nc\r\nd', data: 'a\r\nb\r\nc\r\nd\r\n.\r\n' },
  { name: 'missing final CRLF added', input: 'Subject: x\r\n\r\nbody', normalized: 'Subject: x\r\n\r\nbody', data: 'Subject: x\r\n\r\nbody\r\n.\r\n' },
  { name: 'empty message', input: '', normalized: '', data: '.\r\n' },
  { name: 'dot line at the end', input: 'a\n.', normalized: 'a\r\n.', data: 'a\r\n..\r\n.\r\n' },
];

for (const { name, input, normalized, data } of endingCases) {
  Endings(name, () => {
    assert.is(normalizeLineEndings(input), normalized);
    assert.is(encodeMessageData(input), data);
  });
}

const Bytes = suite('message: bytes given to data() (encodeMessageBytes), against the text path');

const BYTE_CASES: Array<[string, string]> = [
  ['empty', ''],
  ['no final line break', 'Subject: x\r\n\r\nbody'],
  ['bare LF and lone CR', 'a\nb\rc\r\n'],
  ['dot lines, first line too', '.first\r\n..two\r\nmid.dle\r\n.\r\n'],
  ['a CR at the very end', 'x\r'],
];
for (const [name, text] of BYTE_CASES) {
  Bytes(`${name}: the same bytes as the text path; the dots it added counted`, () => {
    const { data, stuffedDots, isEightBit } = encodeMessageBytes(Buffer.from(text, 'latin1'));
    const expected = encodeMessageData(text);
    assert.is(data.toString('latin1'), expected);
    assert.is(stuffedDots, countStuffedDots(expected));
    assert.is(isEightBit, false);
  });
}
Bytes('8-bit octets are kept as they are and reported', () => {
  const { data, isEightBit } = encodeMessageBytes(Uint8Array.from([0x53, 0xe9, 0xff, 0x0a]));
  assert.equal([...data], [0x53, 0xe9, 0xff, 0x0d, 0x0a, 0x2e, 0x0d, 0x0a]);
  assert.is(isEightBit, true);
});

const Body = suite('message: generated body');

for (const sizeBytes of [0, 1, 2, 3, 77, 78, 79, 80, 156, 1024, 10_000, 1_000_000]) {
  Body(`${sizeBytes} bytes`, () => {
    const body = generatedBody(sizeBytes).toString('latin1');
    // Exact for ≥ 2; a 1-byte body cannot end with CRLF and becomes 2 bytes
    const expected = sizeBytes === 1 ? 2 : sizeBytes;
    assert.is(body.length, expected);
    if (sizeBytes > 0) assert.ok(body.endsWith('\r\n'));
    const lines = body.split('\r\n');
    lines.pop();
    for (const line of lines) {
      assert.ok(line.length <= 78, `line of ${line.length} chars`);
      assert.ok(!line.startsWith('.'));
      assert.ok(!/[\r\n]/.test(line));
    }
    if (sizeBytes >= 1024) assert.is(lines[0]!.length, BODY_LINE_CHARS);
  });
}

Body('the body with end-of-data is cached and shared', () => {
  const first = bodyWithEndOfData(1024);
  assert.ok(first === bodyWithEndOfData(1024));
  assert.ok(first.toString('latin1').endsWith('\r\n.\r\n'));
});

const Generated = suite('message: generated message (RFC 5322)');

Generated('has the required headers in order and the sequence in the Subject', () => {
  const message = buildMessage({ from: 'a@example.com', to: ['b@example.com', 'c@example.com'], sequence: 42, sizeBytes: 200, runId: 'run1' });
  const [head, body] = message.split('\r\n\r\n');
  const names = head!.split('\r\n').map((line) => line.slice(0, line.indexOf(':')));
  assert.equal(names, ['From', 'To', 'Subject', 'Date', 'Message-ID', 'X-Runner-Trace', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding']);
  assert.match(head!, /^From: a@example\.com\r\n/);
  assert.match(head!, /\r\nTo: b@example\.com, c@example\.com\r\n/);
  assert.match(head!, /\r\nSubject: runner load test #42\r\n/);
  assert.match(head!, /\r\nMessage-ID: <run1\.42\.[0-9a-z]+@runner\.localhost>\r\n/);
  assert.is(body!.length, 200);
});

Generated('Date is RFC 5322 with a numeric zone', () => {
  assert.is(formatDate(Date.UTC(1989, 1, 13, 23, 32, 0)), 'Mon, 13 Feb 1989 23:32:00 +0000');
  assert.match(formatDate(Date.now()), /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/);
});

Generated('base36 writes what Number#toString(36) writes, from 0 to 2^31 - 1', () => {
  const values = [0, 1, 35, 36, 37, 1295, 1296, 46655, 46656, 2 ** 31 - 1];
  for (let i = 0; i < 10_000; i++) values.push(Math.floor(Math.random() * 0x80000000));
  for (const value of values) assert.is(base36(value), value.toString(36), String(value));
});

Generated('every generated head of one envelope has the same length: the Message-ID\'s random part is always six base-36 digits', () => {
  const lengths = new Set<number>();
  for (let i = 0; i < 5000; i++) lengths.add(buildHead({ from: 'a@example.com', to: ['b@example.com'], sequence: 7, runId: 'run' }).length);
  assert.is(lengths.size, 1);
  // The draw's ends: 36^5 ('100000') and 36^6 - 1 ('zzzzzz')
  for (let i = 0; i < 10_000; i++) assert.is(base36(drawMessageIdRandom()).length, 6);
  assert.is(base36(36 ** 5), '100000');
  assert.is(base36(36 ** 6 - 1), 'zzzzzz');
});

Generated('Message-IDs are unique, even for the same sequence', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const head = buildHead({ from: 'a@example.com', to: ['b@example.com'], sequence: i % 10 });
    ids.add(/Message-ID: (<[^>]+>)/.exec(head)![1]!);
  }
  assert.is(ids.size, 2000);
});

Generated('a generated message needs no dot stuffing', () => {
  const message = buildMessage({ from: 'a@example.com', to: ['b@example.com'], sequence: 1, sizeBytes: 5000 });
  assert.is(dotStuff(message), message);
});

const Writer = suite('message: HeadWriter writes buildHead\'s bytes');

/** The Date value out of a head: the two are built at different instants, maybe a second apart. */
function withoutDate(head: string): string {
  return head.replace(/\r\nDate: [^\r]*\r\n/, '\r\nDate: (date)\r\n');
}

const writerCases: Array<{ name: string; from: string; to: string[]; sequence: number; runId: string; traceSequence: number; randomId: number }> = [
  { name: 'one recipient', from: 'a@example.com', to: ['b@example.com'], sequence: 1, runId: 'm0abc', traceSequence: 1, randomId: 0 },
  { name: 'sequence 0, largest random', from: 'a@example.com', to: ['b@example.com'], sequence: 0, runId: 'm0abc', traceSequence: 7, randomId: 0x7fffffff },
  { name: 'long numbers', from: 'a@example.com', to: ['b@example.com'], sequence: 9_007_199_254_740_991, runId: 'r', traceSequence: 1_234_567_890_123, randomId: 35 },
  { name: 'numbers at a digit boundary', from: 'a@example.com', to: ['b@example.com'], sequence: 10, runId: 'r', traceSequence: 100, randomId: 36 },
  { name: 'numbers that are not safe integers, as String() writes them', from: 'a@example.com', to: ['b@example.com'], sequence: 1.5, runId: 'r', traceSequence: 1e21, randomId: 1 },
  { name: 'three recipients', from: 'a@example.com', to: ['b@example.com', 'c@example.com', 'd@example.com'], sequence: 42, runId: 'run', traceSequence: 43, randomId: 123456 },
  { name: 'no recipient', from: 'a@example.com', to: [], sequence: 5, runId: 'run', traceSequence: 5, randomId: 5 },
  { name: 'non-ASCII sender (8-bit head)', from: 'jörg@exämple.test', to: ['b@example.com'], sequence: 3, runId: 'run', traceSequence: 3, randomId: 99 },
  { name: 'non-ASCII recipient', from: 'a@example.com', to: ['δοκιμή@παράδειγμα.δοκιμή'], sequence: 3, runId: 'run', traceSequence: 3, randomId: 99 },
];

Writer('each case: the same bytes as buildHeadWith, and 8-bit exactly when the head is not ASCII', () => {
  // One writer for every case: its kept parts must follow each change of sender, recipients and run id
  const writer = new HeadWriter();
  for (const c of [...writerCases, ...writerCases.slice().reverse()]) {
    const bytes = writer.write(c.from, c.to, c.sequence, c.runId, c.traceSequence, c.randomId);
    const expected = buildHeadWith({ from: c.from, to: c.to, sequence: c.sequence, runId: c.runId, traceSequence: c.traceSequence }, c.randomId);
    assert.is(bytes, Buffer.byteLength(expected), c.name);
    assert.is(writer.length, bytes, c.name);
    assert.is(withoutDate(writer.text()), withoutDate(expected), c.name);
    assert.match(writer.text(), /\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n/, c.name);
    assert.is(writer.isEightBit, Buffer.byteLength(expected) !== expected.length, c.name);
  }
});

Writer('a recipient list changed in place is seen (the list object is the same)', () => {
  const writer = new HeadWriter();
  const to = ['first@example.com'];
  writer.write('a@example.com', to, 1, 'r', 1, 1);
  to[0] = 'second@example.com';
  writer.write('a@example.com', to, 2, 'r', 2, 1);
  assert.match(writer.text(), /\r\nTo: second@example.com\r\n/);
  const many = ['x@example.com', 'y@example.com'];
  writer.write('a@example.com', many, 3, 'r', 3, 1);
  many[1] = 'z@example.com';
  writer.write('a@example.com', many, 4, 'r', 4, 1);
  assert.match(writer.text(), /\r\nTo: x@example.com, z@example.com\r\n/);
});

Writer('a head longer than the first buffer gets a larger one', () => {
  const writer = new HeadWriter();
  const from = 'a'.repeat(2000) + '@example.com';
  const bytes = writer.write(from, ['b@example.com'], 1, 'r', 1, 1);
  assert.is(withoutDate(writer.text()), withoutDate(buildHeadWith({ from, to: ['b@example.com'], sequence: 1, runId: 'r', traceSequence: 1 }, 1)));
  assert.ok(writer.bytes.length >= bytes);
});

Stuffing.run();
Endings.run();
Bytes.run();
Body.run();
Generated.run();
Writer.run();
