/**
 * Property tests of the reply parser (issue 6, "Fuzzing"): arbitrary bytes never make it throw,
 * its buffered bytes stay under a cap whatever arrives, where the bytes are cut into chunks
 * changes nothing, and valid replies come back as they were written. Seeded: FUZZ_SEED=<n>
 * replays a failure (the seed is printed with it).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { Reply } from '../../runner/smtp/api.ts';
import { MAX_REPLY_LINE_BYTES, MAX_REPLY_LINES, ReplyParser, type CodeOnlyListener } from '../../runner/smtp/reply-parser.ts';
import { hasControl } from '../../runner/util/escape.ts';
import { MAX_CAPABILITIES, MAX_KEYWORD_CHARS, MAX_PARAMETERS_CHARS, parseCapabilities } from '../../runner/smtp/capabilities.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 6_2024);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);

/** fc.assert with the suite's seed; a failure names the seed to replay it with. */
function check(property: fc.IProperty<any>, numRuns = RUNS): void {
  try {
    fc.assert(property, { seed: SEED, numRuns });
  } catch (error) {
    throw new Error(`property failed (replay with FUZZ_SEED=${SEED}):\n${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs: raw bytes, and byte streams made of reply-like pieces (which reach the deep states)

const CRLF = Buffer.from('\r\n');

/** A line that looks like a reply line: a code (sometimes not one), a separator, text, an ending. */
const replyLikeLine = fc
  .record({
    code: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('220', '250', '354', '421', '451', '554') },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0')) },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
    ),
    separator: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(' ', '-') }, { weight: 1, arbitrary: fc.constantFrom('', '_') }),
    text: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('2.1.0 OK', '5.7.8 no', '4.4.5 try later', '')),
    ending: fc.oneof({ weight: 4, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '') }),
  })
  .map(({ code, separator, text, ending }) => Buffer.from(code + separator + text + ending, 'utf8'));

/** A token of a hostile stream. */
const token = fc.oneof(
  { weight: 6, arbitrary: replyLikeLine },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
  // Long lines around the caps: RFC 5321's 512 and the parser's MAX_REPLY_LINE_BYTES
  {
    weight: 1,
    arbitrary: fc
      .record({ length: fc.oneof(fc.integer({ min: 500, max: 600 }), fc.integer({ min: MAX_REPLY_LINE_BYTES - 4, max: MAX_REPLY_LINE_BYTES + 8 }), fc.integer({ min: 5000, max: 20_000 })), hasEnd: fc.boolean() })
      .map(({ length, hasEnd }) => Buffer.concat([Buffer.from('250 '), Buffer.alloc(length, 0x78), hasEnd ? CRLF : Buffer.alloc(0)])),
  },
  // Long multi-line replies around MAX_REPLY_LINES
  {
    weight: 1,
    arbitrary: fc
      .record({ lines: fc.integer({ min: MAX_REPLY_LINES - 3, max: MAX_REPLY_LINES + 3 }), isEnded: fc.boolean() })
      .map(({ lines, isEnded }) => Buffer.from('250-x\r\n'.repeat(lines) + (isEnded ? '250 end\r\n' : ''))),
  },
);

/** A stream: tokens back to back. */
const stream = fc.array(token, { minLength: 1, maxLength: 20 }).map((tokens) => Buffer.concat(tokens));

/** A stream and the places to cut it into chunks. */
const cutStream = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: stream }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)) }),
    fc.array(fc.nat(), { maxLength: 30 }),
  )
  .map(([bytes, cuts]) => ({ bytes, chunks: cutAt(bytes, cuts) }));

/** Splits bytes at the given positions (taken modulo the length, sorted, deduplicated). */
function cutAt(bytes: Buffer, cuts: number[]): Buffer[] {
  if (bytes.length === 0) return [bytes];
  const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    if (point > start) chunks.push(bytes.subarray(start, point));
    start = Math.max(start, point);
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// Observing the parser

type ParserEvent = ['reply', number, string | undefined, string[]] | ['code', number] | ['error', string];

/** Wants the routine codes the session takes by code alone in its flow. */
const CODE_ONLY_250: (events: ParserEvent[]) => CodeOnlyListener = (events) => ({
  wantsCodeOnly: (code) => code === 250 || code === 354,
  onCode: (code) => events.push(['code', code]),
});

function createParser(events: ParserEvent[], isCodeOnly: boolean): ReplyParser {
  return new ReplyParser(
    (reply) => events.push(['reply', reply.code, reply.enhanced, reply.lines]),
    (message) => events.push(['error', message]),
    isCodeOnly ? CODE_ONLY_250(events) : undefined,
  );
}

/** What the parser holds between pushes (its private fields: the probe fails loudly if they are renamed). */
interface ParserInternals {
  partialBytes: number;
  lines: string[];
}

function buffered(parser: ReplyParser): ParserInternals {
  const internals = parser as unknown as ParserInternals;
  assert.type(internals.partialBytes, 'number', 'reply-parser internals changed: update the memory probe of this test');
  assert.ok(Array.isArray(internals.lines), 'reply-parser internals changed: update the memory probe of this test');
  return internals;
}

/** The cap: one partial line plus one reply's lines, each at most MAX_REPLY_LINE_BYTES + 1 bytes. */
const BUFFERED_BYTES_CAP = (MAX_REPLY_LINE_BYTES + 1) * MAX_REPLY_LINES;

// ---------------------------------------------------------------------------------------------

const robust = suite('fuzz: reply parser never throws and stays bounded');

robust('arbitrary chunks: no throw; partial line ≤ MAX_REPLY_LINE_BYTES + 1, reply < MAX_REPLY_LINES lines, total under the cap', () => {
  check(
    fc.property(cutStream, fc.boolean(), ({ chunks }, isCodeOnly) => {
      const events: ParserEvent[] = [];
      const parser = createParser(events, isCodeOnly);
      for (const chunk of chunks) {
        parser.push(chunk);
        const { partialBytes, lines } = buffered(parser);
        assert.ok(partialBytes <= MAX_REPLY_LINE_BYTES + 1, `partial line of ${partialBytes} bytes`);
        assert.ok(lines.length < MAX_REPLY_LINES, `${lines.length} lines held`);
        let total = partialBytes;
        for (const line of lines) total += Buffer.byteLength(line);
        assert.ok(total <= BUFFERED_BYTES_CAP, `${total} bytes held`);
      }
      for (const event of events) {
        if (event[0] !== 'reply') continue;
        assert.ok(event[3].length <= MAX_REPLY_LINES, `a reply of ${event[3].length} lines`);
        for (const line of event[3]) assert.ok(Buffer.byteLength(line) <= MAX_REPLY_LINE_BYTES, 'a delivered line over the cap');
      }
    }),
  );
});

robust('one megabyte without a line feed is dropped as it comes (held bytes stay under the cap), then parsing resumes', () => {
  const events: ParserEvent[] = [];
  const parser = createParser(events, false);
  const chunk = Buffer.alloc(16 * 1024, 0x41);
  for (let i = 0; i < 64; i++) {
    parser.push(chunk);
    assert.ok(buffered(parser).partialBytes <= MAX_REPLY_LINE_BYTES + 1);
  }
  parser.push(Buffer.from('\r\n250 2.0.0 OK\r\n'));
  assert.equal(events.map((event) => event[0]), ['error', 'reply']);
  assert.equal(events[1], ['reply', 250, '2.0.0', ['OK']]);
});

robust.run();

const chunking = suite('fuzz: reply parser does not care where chunks end');

chunking('the same bytes whole or cut anywhere: the same replies and errors, in the same order', () => {
  check(
    fc.property(cutStream, fc.boolean(), ({ bytes, chunks }, isCodeOnly) => {
      const whole: ParserEvent[] = [];
      createParser(whole, isCodeOnly).push(bytes);
      const split: ParserEvent[] = [];
      const parser = createParser(split, isCodeOnly);
      for (const chunk of chunks) parser.push(chunk);
      assert.equal(split, whole);
    }),
  );
});

chunking('chunks given through one reused read buffer with stale bytes past `length` (as the session reads): the same events', () => {
  check(
    fc.property(cutStream, fc.uint8Array({ minLength: 1, maxLength: 64 }), ({ bytes, chunks }, junk) => {
      const whole: ParserEvent[] = [];
      createParser(whole, true).push(bytes);
      const reused: ParserEvent[] = [];
      const parser = createParser(reused, true);
      const readBuffer = Buffer.alloc(Math.max(1, ...chunks.map((chunk) => chunk.length)) + junk.length);
      for (const chunk of chunks) {
        // Stale bytes (including LFs) from "earlier reads" past the chunk: must not be seen
        for (let i = 0; i < readBuffer.length; i++) readBuffer[i] = junk[i % junk.length]!;
        chunk.copy(readBuffer);
        parser.push(readBuffer, chunk.length);
      }
      assert.equal(reused, whole);
    }),
  );
});

chunking.run();

const roundTrip = suite('fuzz: reply parser reads back valid replies');

/** Text a line may carry: printable ASCII starting with a letter (so it never looks like an enhanced code). */
const lineText = fc.tuple(fc.constantFrom('a', 'Z', 'q'), fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 })).map(([first, rest]) => first + rest);

/** A valid reply (RFC 5321 §4.2): code 2xx-5xx, an enhanced code of the same class on 2/4/5xx or none, 1-6 lines. */
const validReply = fc
  .record({
    code: fc.integer({ min: 200, max: 599 }),
    hasEnhanced: fc.boolean(),
    subject: fc.integer({ min: 0, max: 999 }),
    detail: fc.integer({ min: 0, max: 999 }),
    lines: fc.array(lineText, { minLength: 1, maxLength: 6 }),
  })
  .map(({ code, hasEnhanced, subject, detail, lines }): Reply => {
    const codeClass = Math.floor(code / 100);
    // RFC 3463: classes 2, 4, 5 only
    const enhanced = hasEnhanced && codeClass !== 3 ? `${codeClass}.${subject}.${detail}` : undefined;
    return { code, enhanced, lines };
  });

function serialize(reply: Reply): string {
  const prefix = reply.enhanced === undefined ? '' : reply.enhanced + ' ';
  return reply.lines.map((text, index) => `${reply.code}${index === reply.lines.length - 1 ? ' ' : '-'}${prefix}${text}\r\n`).join('');
}

roundTrip('replies written as servers write them (enhanced code on every line), cut anywhere: read back equal', () => {
  check(
    fc.property(fc.array(validReply, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (replies, cuts) => {
      const events: ParserEvent[] = [];
      const parser = createParser(events, false);
      for (const chunk of cutAt(Buffer.from(replies.map(serialize).join(''), 'latin1'), cuts)) parser.push(chunk);
      assert.equal(events, replies.map((reply): ParserEvent => ['reply', reply.code, reply.enhanced, reply.lines]));
    }),
  );
});

roundTrip.run();

// ---------------------------------------------------------------------------------------------
// Issue 19: what the parser hands on is safe to print, and what a session keeps of EHLO is bounded

const hostile = suite('fuzz: a server\'s bytes reach no terminal raw; EHLO capabilities stay bounded');

/** Reply lines full of terminal controls: ESC sequences, C1 (as UTF-8 and as raw bytes), bidi overrides, broken UTF-8. */
const controlLine = fc
  .tuple(
    fc.constantFrom('220 ', '250-', '250 ', '550 5.7.1 ', '334 '),
    fc.array(
      fc.oneof(
        fc.constantFrom('\u001b]0;pwned\u0007', '\u001b[2J', '\u001b[H', '\u009b31m', '\u202e', '\r', '\b', '\u0000', '\u007f', 'ALL GOOD'),
        fc.string({ maxLength: 6 }),
      ).map((part) => Buffer.from(part, 'utf8')),
      { maxLength: 8 },
    ),
    fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes.filter((byte) => byte !== 10))),
  )
  .map(([code, parts, raw]) => Buffer.concat([Buffer.from(code), ...parts, raw, Buffer.from('\r\n')]));

hostile('every delivered line and every error text is free of control characters, however the bytes are cut', () => {
  const input = fc.tuple(
    fc.oneof({ weight: 3, arbitrary: fc.array(controlLine, { minLength: 1, maxLength: 10 }).map((lines) => Buffer.concat(lines)) }, { weight: 2, arbitrary: stream }),
    fc.array(fc.nat(), { maxLength: 20 }),
  );
  check(
    fc.property(input, fc.boolean(), ([bytes, cuts], isCodeOnly) => {
      const events: ParserEvent[] = [];
      const parser = createParser(events, isCodeOnly);
      for (const chunk of cutAt(bytes, cuts)) parser.push(chunk);
      for (const event of events) {
        if (event[0] === 'reply') for (const line of event[3]) assert.not.ok(hasControl(line), JSON.stringify(line));
        if (event[0] === 'error') assert.not.ok(hasControl(event[1]), JSON.stringify(event[1]));
      }
    }),
  );
});

hostile('parseCapabilities: any lines give at most MAX_CAPABILITIES keywords, each within its caps', () => {
  const lines = fc.array(
    fc.oneof(fc.string({ maxLength: 40 }), fc.tuple(fc.string({ maxLength: 200 }), fc.string({ maxLength: 600 })).map(([keyword, parameters]) => `${keyword} ${parameters}`)),
    { maxLength: 120 },
  );
  check(
    fc.property(lines, (replyLines) => {
      const capabilities = parseCapabilities(replyLines);
      assert.ok(capabilities.size <= MAX_CAPABILITIES);
      for (const [keyword, parameters] of capabilities) {
        assert.ok(keyword.length <= MAX_KEYWORD_CHARS, keyword);
        assert.ok(parameters.length <= MAX_PARAMETERS_CHARS, parameters);
        assert.is(keyword, keyword.toUpperCase());
      }
    }),
  );
});

hostile.run();
