/**
 * The messages runner sends: a generated RFC 5322 message (unique Message-ID, Date, a Subject
 * with the sequence number, a body of a chosen size) and the transparency rules for putting any
 * message on the wire after DATA (RFC 5321 §4.5.2 dot stuffing, CRLF line endings, end-of-data).
 *
 * Hot path: the body is built once per size and cached as bytes that already end with the
 * end-of-data line, so a generated message is one short header string plus one shared Buffer
 * (the session writes both in one corked writev). The generated body never has a line starting
 * with '.', so it needs no stuffing.
 */
import { randomBytes } from 'node:crypto';

/** The line that ends the mail data (RFC 5321 §4.1.1.4), after the message's last CRLF. */
export const END_OF_DATA = '.\r\n';

/** Longest body line generated, characters without CRLF (RFC 5322 §2.1.1 asks for ≤ 78). */
export const BODY_LINE_CHARS = 76;

/** Domain of generated Message-IDs. */
export const MESSAGE_ID_DOMAIN = 'runner.localhost';

/** Run id used in Message-IDs and trace ids when none is given: unique per process. */
export const DEFAULT_RUN_ID = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

/**
 * Header every message runner sends carries, generated or written in scenario code: its trace id
 * `<run id>.<trace sequence>`, which a sink or a mailbox reports back so delivery can be matched
 * to the 250 (runner/delivery/). Unlike the Message-ID it has no random part: it is searchable by
 * run (IMAP SEARCH HEADER X-Runner-Trace <run id>.).
 */
export const TRACE_HEADER = 'X-Runner-Trace';

/** Trace sequences handed out so far in this process (one counter: unique per run id). */
let traceSequences = 0;

/**
 * The next message's trace sequence (1, 2, …): one per message written after DATA's 354,
 * unique in the process, so a run that sends several messages per iteration still tells them apart.
 */
export function nextTraceSequence(): number {
  return ++traceSequences;
}

/** The last trace sequence handed out (0 before any): a tracker counts only those after it. */
export function lastTraceSequence(): number {
  return traceSequences;
}

/** The header line (with CRLF) put above a message written in scenario code. */
export function traceHeaderLine(runId: string, traceSequence: number): string {
  return TRACE_HEADER + ': ' + runId + '.' + traceSequence + '\r\n';
}

/** What a generated message is made of. */
export interface MessageOptions {
  /** From header (the envelope sender). */
  from: string;
  /** To header: the recipients, comma-separated. */
  to: readonly string[];
  /** Sequence number, in the Subject (`runner load test #<seq>`) and the Message-ID. */
  sequence: number;
  /** Body size in bytes including its CRLFs (exact for sizes ≥ 2; 1 gives a 2-byte body). */
  sizeBytes: number;
  /** Goes into the Message-ID and the trace id; @default DEFAULT_RUN_ID */
  runId?: string;
  /** The X-Runner-Trace sequence (nextTraceSequence()); @default sequence */
  traceSequence?: number;
}

/**
 * The header section and the empty line that ends it, for a generated message:
 * From, To, Subject, Date, Message-ID, X-Runner-Trace, MIME-Version, Content-Type,
 * Content-Transfer-Encoding.
 */
export function buildHead(options: Omit<MessageOptions, 'sizeBytes'>): string {
  return buildHeadWith(options, drawMessageIdRandom());
}

/** Smallest and one past the largest random part of a Message-ID: exactly six base-36 digits. */
const MESSAGE_ID_RANDOM_MIN = 36 ** 5;
const MESSAGE_ID_RANDOM_END = 36 ** 6;

/**
 * The random part of a generated Message-ID (base 36 in the head), always six digits: so every
 * generated message of one size plan has the same length, and sizes declared (SIZE=), counted
 * (message_total_sizes) and compared between runs do not wobble by the id's digit count.
 */
export function drawMessageIdRandom(): number {
  // Math.random is enough: the id is already unique by run id and sequence
  return MESSAGE_ID_RANDOM_MIN + Math.floor(Math.random() * (MESSAGE_ID_RANDOM_END - MESSAGE_ID_RANDOM_MIN));
}

/** buildHead with its Message-ID's random part given (`randomId`, from drawMessageIdRandom). */
export function buildHeadWith(options: Omit<MessageOptions, 'sizeBytes'>, randomId: number): string {
  const runId = options.runId ?? DEFAULT_RUN_ID;
  const to = options.to.length === 1 ? options.to[0]! : options.to.join(', ');
  const random = base36(randomId);
  return (
    'From: ' + options.from +
    '\r\nTo: ' + to +
    '\r\nSubject: runner load test #' + options.sequence +
    '\r\nDate: ' + formatDate(Date.now()) +
    '\r\nMessage-ID: <' + runId + '.' + options.sequence + '.' + random + '@' + MESSAGE_ID_DOMAIN +
    '>\r\nX-Runner-Trace: ' + runId + '.' + (options.traceSequence ?? options.sequence) +
    '\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
  );
}

const BASE36_DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** MESSAGE_ID_DOMAIN's part of the head, from the Message-ID's '@' to the trace header's name. */
const MESSAGE_ID_END = '@' + MESSAGE_ID_DOMAIN + '>\r\n' + TRACE_HEADER + ': ';
/** The head's fixed end, after the trace id. */
const HEAD_TAIL = Buffer.from('\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n', 'latin1');
const DATE_PREFIX = Buffer.from('\r\nDate: ', 'latin1');
const CHAR_DOT = 46;
/** BASE36_DIGITS as character codes. */
const BASE36_CODES = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz', 'latin1');

/** The Date header value of the second last written (formatDate's text as bytes), reused within it. */
let dateBytesSecond = -1;
let dateBytes = Buffer.alloc(0);

/**
 * Writes buildHead's bytes straight into a reused Buffer: no string per message (buildHead's
 * ~20 concatenations, their flattening and UTF-8 encoding were ~1.2 KB of garbage and a third of
 * the per-message allocations of a flag-only run, measured with V8's sampling heap profiler).
 * What changes only with the sender, the recipients or the run id is encoded once and kept;
 * numbers are written as digits; the Date value is encoded once per second.
 */
export class HeadWriter {
  /** The last head written: `bytes[0..length)`. The Buffer is replaced when a head does not fit. */
  bytes: Buffer = Buffer.allocUnsafeSlow(512);
  length = 0;
  /** The last head has a byte above 127 (an address is not ASCII): an 8-bit message (RFC 6152). */
  isEightBit = false;
  private from: string | undefined = undefined;
  private to: readonly string[] | undefined = undefined;
  private firstTo: string | undefined = undefined;
  private runId: string | undefined = undefined;
  /** 'From: …\r\nTo: …\r\nSubject: runner load test #' */
  private envelopePart: Buffer = Buffer.alloc(0);
  /** '\r\nMessage-ID: <' + runId + '.' */
  private messageIdPart: Buffer = Buffer.alloc(0);
  /** MESSAGE_ID_END + runId + '.' */
  private tracePart: Buffer = Buffer.alloc(0);
  private isPartEightBit = false;
  private lastView: Buffer | undefined = undefined;

  /**
   * Writes the head buildHeadWith({ from, to, sequence, runId, traceSequence }, randomId) returns;
   * returns its byte count. Arguments, not an options object: nothing is allocated per message.
   */
  write(from: string, to: readonly string[], sequence: number, runId: string, traceSequence: number, randomId: number): number {
    this.useParts(from, to, runId);
    const envelope = this.envelopePart;
    // Digits: at most 24 per number (String(n) of any number), 6 for the base-36 random part
    const most = envelope.length + 24 + DATE_PREFIX.length + 40 + this.messageIdPart.length + 24 + 1 + 6 + this.tracePart.length + 24 + HEAD_TAIL.length;
    let bytes = this.bytes;
    if (bytes.length < most) {
      bytes = Buffer.allocUnsafeSlow(most + 256);
      this.bytes = bytes;
    }
    bytes.set(envelope, 0);
    let at = writeDecimal(bytes, envelope.length, sequence);
    bytes.set(DATE_PREFIX, at);
    at += DATE_PREFIX.length;
    const date = currentDateBytes();
    bytes.set(date, at);
    at += date.length;
    bytes.set(this.messageIdPart, at);
    at = writeDecimal(bytes, at + this.messageIdPart.length, sequence);
    bytes[at++] = CHAR_DOT;
    at = writeBase36(bytes, at, randomId);
    bytes.set(this.tracePart, at);
    at = writeDecimal(bytes, at + this.tracePart.length, traceSequence);
    bytes.set(HEAD_TAIL, at);
    at += HEAD_TAIL.length;
    this.length = at;
    this.isEightBit = this.isPartEightBit;
    return at;
  }

  /** The last head's bytes: a view of `bytes`, the same object while the length stays. */
  view(): Buffer {
    let view = this.lastView;
    if (view === undefined || view.buffer !== this.bytes.buffer || view.length !== this.length) {
      view = this.bytes.subarray(0, this.length);
      this.lastView = view;
    }
    return view;
  }

  /** A copy of the last head's bytes (a message kept to be sent again: MessageCopy). */
  copy(): Buffer {
    return Buffer.from(this.bytes.subarray(0, this.length));
  }

  /** Makes `head` (a copy() of an earlier head) the last head, as if written again: a retry sends it unchanged. */
  load(head: Buffer): number {
    if (this.bytes.length < head.length) this.bytes = Buffer.allocUnsafeSlow(head.length + 256);
    this.bytes.set(head, 0);
    this.length = head.length;
    this.isEightBit = head.some((byte) => byte > 127);
    return head.length;
  }

  /** The last head as text (for the paths that take it as a string). */
  text(): string {
    return this.bytes.toString('utf8', 0, this.length);
  }

  /** Re-encodes the kept parts when the sender, the recipients or the run id changed. */
  private useParts(from: string, to: readonly string[], runId: string): void {
    // A list is compared by identity and, for one recipient, by its address (the list may be reused)
    if (from === this.from && to === this.to && to[0] === this.firstTo && runId === this.runId) return;
    const envelopeText = 'From: ' + from + '\r\nTo: ' + (to.length === 1 ? to[0]! : to.join(', ')) + '\r\nSubject: runner load test #';
    const runIdText = runId + '.';
    const messageIdText = '\r\nMessage-ID: <' + runIdText;
    const traceText = MESSAGE_ID_END + runIdText;
    this.envelopePart = Buffer.from(envelopeText);
    this.messageIdPart = Buffer.from(messageIdText);
    this.tracePart = Buffer.from(traceText);
    this.isPartEightBit =
      this.envelopePart.length !== envelopeText.length || this.messageIdPart.length !== messageIdText.length || this.tracePart.length !== traceText.length;
    // A list of more than one is re-encoded for every head: its contents may change under the same identity
    this.from = from;
    this.to = to.length === 1 ? to : undefined;
    this.firstTo = to.length === 1 ? to[0] : undefined;
    this.runId = runId;
  }
}

/** formatDate(now) as bytes, encoded once per second. */
function currentDateBytes(): Buffer {
  const nowMs = Date.now();
  const second = Math.floor(nowMs / 1000);
  if (second !== dateBytesSecond) {
    dateBytes = Buffer.from(formatDate(nowMs), 'latin1');
    dateBytesSecond = second;
  }
  return dateBytes;
}

/** Writes `n` at `at` as String(n) does (digits for a safe non-negative integer); returns the offset after it. */
function writeDecimal(bytes: Buffer, at: number, n: number): number {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) return at + bytes.write(String(n), at, 'latin1');
  return writeDigits(bytes, at, n, 10);
}

/** Writes `n` (a whole number below 2^53) in base 36 at `at`, as base36() does; returns the offset after it. */
function writeBase36(bytes: Buffer, at: number, n: number): number {
  return writeDigits(bytes, at, n, 36);
}

/** Writes the whole number `n` in `base` (at most 36, lower-case letters) at `at`; returns the offset after it. */
function writeDigits(bytes: Buffer, at: number, n: number, base: number): number {
  let digits = 1;
  for (let rest = n; rest >= base; rest = Math.floor(rest / base)) digits++;
  let end = at + digits;
  let rest = n;
  do {
    const digit = rest % base;
    bytes[--end] = BASE36_CODES[digit]!;
    rest = (rest - digit) / base;
  } while (rest > 0);
  return at + digits;
}

/**
 * `n` (an integer in 0..2^31-1) in base 36, as n.toString(36) writes it. V8 converts a number to
 * any radix but 10 in C++ with a floating-point modulo per digit (a runtime call per message,
 * seen in perf); this stays in small-integer operations.
 */
export function base36(n: number): string {
  let text = '';
  do {
    const digit = n % 36;
    text = BASE36_DIGITS[digit]! + text;
    n = (n - digit) / 36;
  } while (n > 0);
  return text;
}

/** A complete generated message (head and body, CRLF line endings, no end-of-data line). */
export function buildMessage(options: MessageOptions): string {
  return buildHead(options) + generatedBody(options.sizeBytes).toString('latin1');
}

/** Generated body of `sizeBytes` bytes (see MessageOptions.sizeBytes), cached per size. */
export function generatedBody(sizeBytes: number): Buffer {
  const withEnd = bodyWithEndOfData(sizeBytes);
  return withEnd.subarray(0, withEnd.length - END_OF_DATA.length);
}

/** Most body sizes kept in the cache; a run uses one or a few. */
const BODY_CACHE_LIMIT = 16;
const bodyCache = new Map<number, Buffer>();

/**
 * The generated body of `sizeBytes` bytes followed by the end-of-data line: exactly the bytes
 * to write after the head. Built once per size and shared (never mutate it).
 */
export function bodyWithEndOfData(sizeBytes: number): Buffer {
  let body = bodyCache.get(sizeBytes);
  if (body === undefined) {
    if (bodyCache.size >= BODY_CACHE_LIMIT) bodyCache.clear();
    body = Buffer.from(makeBody(sizeBytes) + END_OF_DATA, 'latin1');
    bodyCache.set(sizeBytes, body);
  }
  return body;
}

/** Bodies of a distribution's buckets, built once per bucket list (the resolved smtp settings keep one). */
const bucketBodies = new WeakMap<readonly number[], Buffer[]>();

/**
 * The bodies (each followed by the end-of-data line) of a size distribution's buckets, in bucket
 * order: built once per bucket list and shared, outside the per-size cache (a law has up to 64
 * buckets), so a message picks one by index and allocates nothing.
 */
export function bucketBodiesWithEndOfData(sizesBytes: readonly number[]): readonly Buffer[] {
  let bodies = bucketBodies.get(sizesBytes);
  if (bodies === undefined) {
    const bySize = new Map<number, Buffer>();
    bodies = sizesBytes.map((size) => {
      let body = bySize.get(size);
      if (body === undefined) {
        body = Buffer.from(makeBody(size) + END_OF_DATA, 'latin1');
        bySize.set(size, body);
      }
      return body;
    });
    bucketBodies.set(sizesBytes, bodies);
  }
  return bodies;
}

const BODY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Lines of BODY_LINE_CHARS printable characters + CRLF; no line starts with '.'. */
function makeBody(sizeBytes: number): string {
  if (!(sizeBytes > 0)) return '';
  if (sizeBytes <= 2) return '\r\n';
  const fullLine = BODY_LINE_CHARS + 2;
  let lineCount = Math.floor(sizeBytes / fullLine);
  let rest = sizeBytes - lineCount * fullLine;
  // A 1-byte remainder cannot be a line (it needs CRLF): widen the last full line by one char
  let widenLast = false;
  if (rest === 1 && lineCount > 0) {
    widenLast = true;
    rest = 0;
  }
  const parts: string[] = [];
  for (let line = 0; line < lineCount; line++) {
    const chars = line === lineCount - 1 && widenLast ? BODY_LINE_CHARS + 1 : BODY_LINE_CHARS;
    parts.push(bodyLine(line, chars));
  }
  if (rest >= 2) parts.push(bodyLine(lineCount, rest - 2));
  return parts.join('');
}

/** The alphabet repeated so any line of up to BODY_LINE_CHARS + 1 chars is one slice of it. */
const BODY_SOURCE = BODY_ALPHABET.repeat(Math.ceil((BODY_LINE_CHARS + 1) / BODY_ALPHABET.length) + 1);

/** Line `index` of the body: the alphabet rotated by the line number (never starts with '.'). */
function bodyLine(index: number, chars: number): string {
  const offset = index % BODY_ALPHABET.length;
  return BODY_SOURCE.slice(offset, offset + chars) + '\r\n';
}

/** Formatted Date header value and the second it is for: reused within the same second. */
let cachedDateSecond = -1;
let cachedDate = '';

/** RFC 5322 §3.3 date-time in UTC, e.g. `Thu, 13 Feb 1989 23:32:00 +0000`; `nowMs` is epoch ms. */
export function formatDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== cachedDateSecond) {
    // toUTCString: 'Thu, 13 Feb 1989 23:32:00 GMT'; "GMT" is an obsolete zone (RFC 5322 §4.3)
    const utc = new Date(second * 1000).toUTCString();
    cachedDate = utc.slice(0, utc.length - 3) + '+0000';
    cachedDateSecond = second;
  }
  return cachedDate;
}

/** Converts bare CR and bare LF to CRLF (RFC 5321 §2.3.8: lines end with CRLF only). */
export function normalizeLineEndings(text: string): string {
  return /\r(?!\n)|(?<!\r)\n/.test(text) ? text.replace(/\r\n|\r|\n/g, '\r\n') : text;
}

/**
 * RFC 5321 §4.5.2 transparency: a line that starts with '.' gets one more '.'. Line endings are
 * normalized to CRLF first, so every line start is seen.
 */
export function dotStuff(text: string): string {
  const normalized = normalizeLineEndings(text);
  return normalized.charCodeAt(0) === 46 || normalized.includes('\n.')
    ? normalized.replace(/(^|\n)\./g, '$1..')
    : normalized;
}

/**
 * The dots dot-stuffing added to `stuffed` (one per line that starts with '..'): its length less
 * these is the size the server keeps. Scans only text known to have such lines.
 */
export function countStuffedDots(stuffed: string): number {
  let count = stuffed.charCodeAt(0) === 46 && stuffed.charCodeAt(1) === 46 ? 1 : 0;
  for (let at = stuffed.indexOf('\n..'); at !== -1; at = stuffed.indexOf('\n..', at + 3)) count++;
  return count;
}

/**
 * A message given as bytes (ctx.smtp.data(Buffer | Uint8Array)) as written after DATA's 354, byte
 * for byte otherwise: line endings made CRLF (a lone CR or LF), dot-stuffed (RFC 5321 §4.5.2), a
 * final CRLF, then end-of-data. `stuffedDots`: the dots added; `isEightBit`: an octet above 127.
 */
export function encodeMessageBytes(message: Uint8Array): { data: Buffer; stuffedDots: number; isEightBit: boolean } {
  // Worst case: every octet a lone LF (→ CRLF) or a dot-started line's dot (→ '..'), plus CRLF and the end
  const out = Buffer.allocUnsafe(message.length * 2 + 2 + END_OF_DATA.length);
  let length = 0;
  let stuffedDots = 0;
  let isEightBit = false;
  let isLineStart = true;
  for (let i = 0; i < message.length; i++) {
    const octet = message[i]!;
    if (octet === 13 || octet === 10) {
      // CRLF, a lone CR or a lone LF: one CRLF
      if (octet === 13 && message[i + 1] === 10) i++;
      out[length++] = 13;
      out[length++] = 10;
      isLineStart = true;
      continue;
    }
    if (isLineStart && octet === 46) {
      out[length++] = 46;
      stuffedDots++;
    }
    if (octet > 127) isEightBit = true;
    out[length++] = octet;
    isLineStart = false;
  }
  if (!isLineStart) {
    out[length++] = 13;
    out[length++] = 10;
  }
  length += out.write(END_OF_DATA, length, 'latin1');
  return { data: out.subarray(0, length), stuffedDots, isEightBit };
}

/**
 * A user-given message as written after DATA's 354: CRLF line endings, dot-stuffed, ending with
 * CRLF and the end-of-data line.
 */
export function encodeMessageData(text: string): string {
  const stuffed = dotStuff(text);
  if (stuffed.length === 0) return END_OF_DATA;
  return stuffed.endsWith('\r\n') ? stuffed + END_OF_DATA : stuffed + '\r\n' + END_OF_DATA;
}
