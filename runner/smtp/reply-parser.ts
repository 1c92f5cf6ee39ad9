/**
 * Incremental parser of server bytes into complete SMTP replies (RFC 5321 §4.2).
 *
 * A reply is one or more lines `ddd-text` (continuation) ended by one line `ddd text` or `ddd`
 * (final). Lines end with CRLF; a bare LF is tolerated. The RFC 3463 enhanced status code
 * (`class.subject.detail`, e.g. `2.1.0`) is taken from the first line's text (RFC 2034 §4) and
 * stripped from every line that repeats it.
 *
 * Bad input never throws: `onProtocolError` is called with a description, the reply being
 * assembled is dropped, and parsing goes on at the next line. The parser's memory is bounded
 * (line length and line count caps), so a hostile server cannot grow it.
 *
 * Hot path: the code and separator are read from bytes; each line's text is decoded once.
 * A single-line reply (the common case) allocates only the Reply, its one-element array and
 * its strings, or nothing at all when the consumer's CodeOnlyListener takes it by its code.
 *
 * Every line's text is passed through escapeControl() as it is decoded (issue 19): the server's
 * words reach error texts, results files, `runner check` and `--debug` from here, so a terminal
 * control sequence in a reply is shown as `\x1b[2J`, never obeyed.
 */
import type { Reply } from './api.ts';
import { escapeControl } from '../util/escape.ts';

/** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including the code and CRLF. */
export const RFC_REPLY_LINE_BYTES = 512;

/**
 * Longest reply line tolerated, in bytes without the line ending. Real servers exceed 512 now
 * and then (long EHLO keywords, verbose rejections), so only lines past this are a protocol error.
 */
export const MAX_REPLY_LINE_BYTES = 4096;

/** Most lines one multi-line reply may have before it is a protocol error (bounds memory). */
export const MAX_REPLY_LINES = 1000;

const LF = 10;
const CR = 13;
const SPACE = 32;
const HYPHEN = 45;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** Longest excerpt of a bad line quoted in a protocol error message, characters. */
const EXCERPT_CHARS = 60;

/** Called with each complete reply, in order. */
export type ReplyListener = (reply: Reply) => void;
/** Called with a one-line description when the server sent something that is not a valid reply. */
export type ProtocolErrorListener = (message: string) => void;

/**
 * Lets a consumer take routine single-line replies by their code alone: when `wantsCodeOnly(code)`
 * is true, `onCode(code)` is called instead of building a Reply (no strings are decoded).
 * Multi-line replies always come as a Reply.
 */
export interface CodeOnlyListener {
  wantsCodeOnly(code: number): boolean;
  onCode(code: number): void;
}

/** Incremental reply parser: feed it socket chunks with push(); it calls back per reply. */
export class ReplyParser {
  private readonly onReply: ReplyListener;
  private readonly onProtocolError: ProtocolErrorListener;
  private readonly codeOnly: CodeOnlyListener | undefined;
  /** Pieces of a line whose LF has not arrived yet, and their total length in bytes. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Set after an overlong line was flagged: bytes are skipped up to the next LF. */
  private isDiscarding = false;
  /** Code of the multi-line reply being assembled, 0 when none. */
  private code = 0;
  private enhanced: string | undefined = undefined;
  private lines: string[] = [];
  /** Bumped by reset(), so a push() interrupted by its listener stops delivering. */
  private epoch = 0;

  constructor(onReply: ReplyListener, onProtocolError: ProtocolErrorListener, codeOnly?: CodeOnlyListener) {
    this.onReply = onReply;
    this.onProtocolError = onProtocolError;
    this.codeOnly = codeOnly;
  }

  /**
   * Parses the first `length` bytes of a chunk from the server (all of it by default). Replies
   * completed by it are delivered before it returns; if a listener calls reset(), the rest of
   * the chunk is dropped. Nothing refers to the chunk after push() returns (a partial line is
   * copied), so the caller may reuse its buffer for the next read.
   */
  push(chunk: Buffer, length: number = chunk.length): void {
    const epoch = this.epoch;
    let start = 0;
    if (this.isDiscarding) {
      const lf = indexOfLf(chunk, 0, length);
      if (lf < 0) return;
      this.isDiscarding = false;
      start = lf + 1;
    }
    if (this.partialBytes > 0) {
      const lf = indexOfLf(chunk, start, length);
      if (lf < 0) {
        this.keepPartial(chunk, start, length);
        return;
      }
      if (this.partialBytes + (lf - start) > MAX_REPLY_LINE_BYTES + 1) {
        this.clearPartial();
        this.flagOverlong();
      } else {
        this.partial.push(chunk.subarray(start, lf));
        const line = Buffer.concat(this.partial, this.partialBytes + (lf - start));
        this.clearPartial();
        this.parseLine(line, 0, line.length);
      }
      if (this.epoch !== epoch) return;
      start = lf + 1;
    }
    while (start < length) {
      const lf = indexOfLf(chunk, start, length);
      if (lf < 0) {
        this.keepPartial(chunk, start, length);
        return;
      }
      // +1: the limit is on the line without its CR
      if (lf - start > MAX_REPLY_LINE_BYTES + 1) this.flagOverlong();
      else this.parseLine(chunk, start, lf);
      if (this.epoch !== epoch) return;
      start = lf + 1;
    }
  }

  /** Drops any partial line or reply, e.g. when the connection is closed or replaced. */
  reset(): void {
    this.epoch++;
    this.clearPartial();
    this.isDiscarding = false;
    this.dropReply();
  }

  /** Whether bytes of an unfinished reply are buffered (a reply the server has not completed). */
  get hasPartialReply(): boolean {
    return this.partialBytes > 0 || this.code !== 0;
  }

  /** Keeps a copy of [start, end) of the chunk: the caller may reuse the chunk's memory. */
  private keepPartial(chunk: Buffer, start: number, end: number): void {
    const bytes = end - start;
    if (this.partialBytes + bytes > MAX_REPLY_LINE_BYTES + 1) {
      this.clearPartial();
      this.isDiscarding = true;
      this.flagOverlong();
      return;
    }
    this.partial.push(Buffer.from(chunk.subarray(start, end)));
    this.partialBytes += bytes;
  }

  private clearPartial(): void {
    if (this.partialBytes > 0 || this.partial.length > 0) this.partial = [];
    this.partialBytes = 0;
  }

  private dropReply(): void {
    this.code = 0;
    this.enhanced = undefined;
    if (this.lines.length > 0) this.lines = [];
  }

  private flagOverlong(): void {
    this.dropReply();
    this.onProtocolError(
      `reply line longer than ${MAX_REPLY_LINE_BYTES} bytes (RFC 5321 §4.5.3.1.5 allows ${RFC_REPLY_LINE_BYTES})`,
    );
  }

  private flag(message: string, line: Buffer, start: number, end: number): void {
    this.dropReply();
    this.onProtocolError(`${message}: ${excerpt(line, start, end)}`);
  }

  /** One line, [start, end) without its LF. */
  private parseLine(line: Buffer, start: number, end: number): void {
    if (end > start && line[end - 1] === CR) end--;
    const length = end - start;
    // RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39 (second digit tolerated up to 9)
    if (length < 3) {
      this.flag('not a reply line', line, start, end);
      return;
    }
    const d0 = line[start]!;
    const d1 = line[start + 1]!;
    const d2 = line[start + 2]!;
    if (d0 < 50 || d0 > 53 || d1 < DIGIT_0 || d1 > DIGIT_9 || d2 < DIGIT_0 || d2 > DIGIT_9) {
      this.flag('not a reply line', line, start, end);
      return;
    }
    const separator = length === 3 ? SPACE : line[start + 3]!;
    if (separator !== SPACE && separator !== HYPHEN) {
      this.flag('not a reply line', line, start, end);
      return;
    }
    const code = (d0 - DIGIT_0) * 100 + (d1 - DIGIT_0) * 10 + (d2 - DIGIT_0);
    const textStart = length === 3 ? end : start + 4;
    const isFinal = separator === SPACE;

    if (this.code === 0) {
      if (isFinal && this.codeOnly !== undefined && this.codeOnly.wantsCodeOnly(code)) {
        this.codeOnly.onCode(code);
        return;
      }
      // First line: the enhanced code, if any, leads its text
      const enhancedEnd = scanEnhancedCode(line, textStart, end, d0);
      let enhanced: string | undefined;
      let text: string;
      if (enhancedEnd < 0) {
        enhanced = undefined;
        text = escapeControl(line.toString('utf8', textStart, end));
      } else {
        enhanced = line.toString('latin1', textStart, enhancedEnd);
        text = enhancedEnd === end ? '' : escapeControl(line.toString('utf8', enhancedEnd + 1, end));
      }
      if (isFinal) {
        this.onReply({ code, enhanced, lines: [text] });
        return;
      }
      this.code = code;
      this.enhanced = enhanced;
      this.lines.push(text);
      return;
    }

    if (code !== this.code) {
      this.flag(`continuation of a ${this.code} reply has code ${code}`, line, start, end);
      return;
    }
    let text = escapeControl(line.toString('utf8', textStart, end));
    const enhanced = this.enhanced;
    if (enhanced !== undefined && text.startsWith(enhanced)) {
      if (text.length === enhanced.length) text = '';
      else if (text.charCodeAt(enhanced.length) === SPACE) text = text.slice(enhanced.length + 1);
    }
    this.lines.push(text);
    if (isFinal) {
      const reply: Reply = { code, enhanced, lines: this.lines };
      this.code = 0;
      this.enhanced = undefined;
      this.lines = [];
      this.onReply(reply);
      return;
    }
    if (this.lines.length >= MAX_REPLY_LINES) {
      this.flag(`reply longer than ${MAX_REPLY_LINES} lines`, line, start, end);
    }
  }
}

/**
 * Index of the first LF in chunk[start, end), or -1. A loop rather than Buffer#indexOf: it must
 * stop at `end` (the chunk's memory past it is stale), and replies are a few dozen bytes, where
 * a native call costs more than the scan.
 */
function indexOfLf(chunk: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) if (chunk[i] === LF) return i;
  return -1;
}

/**
 * RFC 3463 §2: status-code = class "." subject "." detail; class = "2" / "4" / "5";
 * subject and detail are 1 to 3 digits. RFC 2034 §4: the class must match the first digit
 * of the reply code. Returns the index just past the code when the text starts with one
 * followed by a space or the end of the line, else -1.
 */
function scanEnhancedCode(line: Buffer, start: number, end: number, codeClass: number): number {
  if (end - start < 5 || line[start] !== codeClass || codeClass === 51 || line[start + 1] !== DOT) return -1;
  let index = start + 2;
  for (let part = 0; part < 2; part++) {
    const digitsStart = index;
    while (index < end && index - digitsStart < 4 && line[index]! >= DIGIT_0 && line[index]! <= DIGIT_9) index++;
    const digits = index - digitsStart;
    if (digits < 1 || digits > 3) return -1;
    if (part === 0) {
      if (line[index] !== DOT) return -1;
      index++;
    }
  }
  if (index < end && line[index] !== SPACE) return -1;
  return index;
}

/** A printable, bounded excerpt of a bad line for error messages. */
function excerpt(line: Buffer, start: number, end: number): string {
  const text = line.toString('latin1', start, Math.min(end, start + EXCERPT_CHARS));
  return escapeControl(JSON.stringify(end - start > EXCERPT_CHARS ? text + '…' : text));
}
