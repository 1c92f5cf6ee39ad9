import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Reply } from '../../runner/smtp/api.ts';
import { MAX_REPLY_LINE_BYTES, MAX_REPLY_LINES, ReplyParser } from '../../runner/smtp/reply-parser.ts';

/** Feeds chunks to a fresh parser; returns replies and protocol errors in arrival order. */
function parse(chunks: Array<string | Buffer>): { replies: Reply[]; errors: string[]; events: string[] } {
  const replies: Reply[] = [];
  const errors: string[] = [];
  const events: string[] = [];
  const parser = new ReplyParser(
    (reply) => {
      replies.push(reply);
      events.push(`reply ${reply.code}`);
    },
    (message) => {
      errors.push(message);
      events.push('error');
    },
  );
  for (const chunk of chunks) parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  return { replies, errors, events };
}

const Single = suite('reply parser: single replies');

const singleCases: Array<{ name: string; input: string; reply: Reply }> = [
  { name: 'code and text', input: '220 mx.example.com ESMTP\r\n', reply: { code: 220, enhanced: undefined, lines: ['mx.example.com ESMTP'] } },
  { name: 'enhanced code', input: '250 2.1.0 Sender OK\r\n', reply: { code: 250, enhanced: '2.1.0', lines: ['Sender OK'] } },
  { name: 'enhanced code, no text', input: '250 2.0.0\r\n', reply: { code: 250, enhanced: '2.0.0', lines: [''] } },
  { name: 'three-digit parts', input: '550 5.123.456 Nope\r\n', reply: { code: 550, enhanced: '5.123.456', lines: ['Nope'] } },
  { name: 'bare code', input: '354\r\n', reply: { code: 354, enhanced: undefined, lines: [''] } },
  { name: 'code and space (smtp-sink)', input: '250 \r\n', reply: { code: 250, enhanced: undefined, lines: [''] } },
  { name: 'bare LF', input: '221 2.0.0 Bye\n', reply: { code: 221, enhanced: '2.0.0', lines: ['Bye'] } },
  { name: '354 has no enhanced class 3', input: '354 3.0.0 go\r\n', reply: { code: 354, enhanced: undefined, lines: ['3.0.0 go'] } },
  { name: 'class must match the reply (RFC 2034)', input: '250 5.0.0 odd\r\n', reply: { code: 250, enhanced: undefined, lines: ['5.0.0 odd'] } },
  { name: 'four-digit part is not enhanced', input: '451 4.4444.5 x\r\n', reply: { code: 451, enhanced: undefined, lines: ['4.4444.5 x'] } },
  { name: 'two parts are not enhanced', input: '451 4.4 x\r\n', reply: { code: 451, enhanced: undefined, lines: ['4.4 x'] } },
  { name: 'code glued to text is not enhanced', input: '250 2.0.0ok\r\n', reply: { code: 250, enhanced: undefined, lines: ['2.0.0ok'] } },
  { name: 'empty part is not enhanced', input: '250 2..0 ok\r\n', reply: { code: 250, enhanced: undefined, lines: ['2..0 ok'] } },
  { name: 'utf-8 text', input: '550 5.1.1 Empfänger unbekannt\r\n', reply: { code: 550, enhanced: '5.1.1', lines: ['Empfänger unbekannt'] } },
  { name: 'line of 600 bytes is tolerated', input: `250 ${'x'.repeat(596)}\r\n`, reply: { code: 250, enhanced: undefined, lines: ['x'.repeat(596)] } },
];

for (const { name, input, reply } of singleCases) {
  Single(name, () => {
    const { replies, errors } = parse([input]);
    assert.equal(errors, []);
    assert.equal(replies, [reply]);
  });
}

const Multi = suite('reply parser: multi-line replies');

const EHLO_REPLY = '250-proxy.local Hello\r\n250-AUTH PLAIN\r\n250-SIZE 52428800\r\n250 8BITMIME\r\n';

const multiCases: Array<{ name: string; input: string; reply: Reply }> = [
  {
    name: 'EHLO',
    input: EHLO_REPLY,
    reply: { code: 250, enhanced: undefined, lines: ['proxy.local Hello', 'AUTH PLAIN', 'SIZE 52428800', '8BITMIME'] },
  },
  {
    name: 'EHLO ended by a bare "250 " (smtp-sink)',
    input: '250-sink\r\n250-PIPELINING\r\n250 \r\n',
    reply: { code: 250, enhanced: undefined, lines: ['sink', 'PIPELINING', ''] },
  },
  {
    name: 'enhanced code repeated on every line is stripped',
    input: '550-5.7.1 Rejected\r\n550-5.7.1 see policy\r\n550 5.7.1\r\n',
    reply: { code: 550, enhanced: '5.7.1', lines: ['Rejected', 'see policy', ''] },
  },
  {
    name: 'a different code-like text on a later line is kept',
    input: '451-4.4.5 busy\r\n451 4.3.0 later\r\n',
    reply: { code: 451, enhanced: '4.4.5', lines: ['busy', '4.3.0 later'] },
  },
  {
    name: 'continuation with no text',
    input: '250-\r\n250 done\r\n',
    reply: { code: 250, enhanced: undefined, lines: ['', 'done'] },
  },
];

for (const { name, input, reply } of multiCases) {
  Multi(name, () => {
    const { replies, errors } = parse([input]);
    assert.equal(errors, []);
    assert.equal(replies, [reply]);
  });
}

const Chunks = suite('reply parser: chunking');

Chunks('a multi-line reply split at every byte boundary gives the same reply', () => {
  const bytes = Buffer.from(EHLO_REPLY);
  const expected = parse([EHLO_REPLY]).replies;
  for (let cut = 1; cut < bytes.length; cut++) {
    const { replies, errors } = parse([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.equal(errors, [], `cut at ${cut}`);
    assert.equal(replies, expected, `cut at ${cut}`);
  }
});

Chunks('a multi-line reply fed byte by byte', () => {
  const bytes = Buffer.from(EHLO_REPLY + '250 2.1.0 Ok\r\n');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
  const { replies, errors } = parse(chunks);
  assert.equal(errors, []);
  assert.equal(replies.length, 2);
  assert.equal(replies[0]!.lines.length, 4);
  assert.equal(replies[1], { code: 250, enhanced: '2.1.0', lines: ['Ok'] });
});

Chunks('CR and LF in different chunks', () => {
  const { replies, errors } = parse(['250 2.0.0 Ok\r', '\n']);
  assert.equal(errors, []);
  assert.equal(replies, [{ code: 250, enhanced: '2.0.0', lines: ['Ok'] }]);
});

Chunks('several replies in one chunk, in order', () => {
  const { replies, errors } = parse(['250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n']);
  assert.equal(errors, []);
  assert.equal(
    replies.map((reply) => reply.code),
    [250, 250, 354],
  );
  assert.equal(replies[1]!.enhanced, '2.1.5');
});

Chunks('a chunk ending mid-line keeps the rest for the next chunk', () => {
  const { replies } = parse(['250 2.1.0 Ok\r\n25', '0 2.1.5 Ok\r\n']);
  assert.equal(
    replies.map((reply) => reply.enhanced),
    ['2.1.0', '2.1.5'],
  );
});

Chunks('reset() from a listener drops the rest of the chunk', () => {
  const codes: number[] = [];
  const parser: ReplyParser = new ReplyParser(
    (reply) => {
      codes.push(reply.code);
      parser.reset();
    },
    () => assert.unreachable('no protocol error'),
  );
  parser.push(Buffer.from('250 a\r\n251 b\r\n25'));
  parser.push(Buffer.from('252 c\r\n'));
  assert.equal(codes, [250, 252]);
});

const Errors = suite('reply parser: protocol errors');

const errorCases: Array<{ name: string; input: string[]; events: string[]; match?: RegExp }> = [
  { name: 'garbage line', input: ['hello there\r\n'], events: ['error'], match: /not a reply line: "hello there"/ },
  { name: 'empty line', input: ['\r\n'], events: ['error'], match: /not a reply line/ },
  { name: 'too short', input: ['25\r\n'], events: ['error'] },
  { name: 'first digit 1', input: ['150 what\r\n'], events: ['error'] },
  { name: 'first digit 6', input: ['600 what\r\n'], events: ['error'] },
  { name: 'bad separator', input: ['250_ok\r\n'], events: ['error'] },
  { name: 'letters in code', input: ['2x0 ok\r\n'], events: ['error'] },
  { name: 'garbage, then a good reply is still parsed', input: ['\x00\x01\x02\r\n250 ok\r\n'], events: ['error', 'reply 250'] },
  {
    name: 'mixed codes in a multi-line reply',
    input: ['250-first\r\n251 second\r\n'],
    events: ['error'],
    match: /continuation of a 250 reply has code 251/,
  },
  {
    name: 'mixed codes: the next reply after the bad one is parsed',
    input: ['250-first\r\n550-second\r\n221 bye\r\n'],
    events: ['error', 'reply 221'],
  },
  {
    name: 'garbage inside a multi-line reply drops it',
    input: ['250-first\r\nnoise\r\n250 last\r\n'],
    events: ['error', 'reply 250'],
  },
];

for (const { name, input, events, match } of errorCases) {
  Errors(name, () => {
    const result = parse(input);
    assert.equal(result.events, events);
    if (match) assert.match(result.errors[0]!, match);
  });
}

Errors('an overlong line in one chunk is flagged, the next reply parses', () => {
  const long = `250 ${'x'.repeat(MAX_REPLY_LINE_BYTES + 10)}\r\n`;
  const { events, errors } = parse([long + '221 bye\r\n']);
  assert.equal(events, ['error', 'reply 221']);
  assert.match(errors[0]!, /longer than 4096 bytes/);
});

Errors('an overlong line arriving in small chunks is flagged once, bounded, then skipped', () => {
  const chunks: string[] = ['250 '];
  for (let i = 0; i < 100; i++) chunks.push('y'.repeat(100));
  chunks.push('\r\n221 bye\r\n');
  const { events } = parse(chunks);
  assert.equal(events, ['error', 'reply 221']);
});

Errors('an endless line without LF is flagged once', () => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < 50; i++) chunks.push(Buffer.alloc(1024, 0x41));
  const { events } = parse(chunks);
  assert.equal(events, ['error']);
});

Errors('a reply with too many lines is flagged as soon as it passes the cap', () => {
  const { events, errors } = parse(['250-x\r\n'.repeat(MAX_REPLY_LINES + 5)]);
  assert.equal(events, ['error']);
  assert.match(errors[0]!, /longer than 1000 lines/);
});

Errors('a line exactly at the limit is tolerated', () => {
  const text = 'z'.repeat(MAX_REPLY_LINE_BYTES - 4);
  const { events } = parse([`250 ${text}\r\n`]);
  assert.equal(events, ['reply 250']);
});

Single.run();
Multi.run();
Chunks.run();
Errors.run();
