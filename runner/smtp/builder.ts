/**
 * The message builder for scenario code: `buildMessage({ subject, text, html, headers, attachments })`
 * returns a MessageTemplate that `ctx.smtp.send({ message })` (and the flag-only flow, --header,
 * --body-file, --attach) renders once per message.
 *
 * MIME (RFC 2045-2049): text alone is one text/plain part; text and html a multipart/alternative;
 * attachments wrap the body in a multipart/mixed, each attachment base64 in lines of 76 characters
 * (RFC 2045 §6.8). Header values that are not ASCII become RFC 2047 encoded-words (UTF-8, B
 * encoding); a non-ASCII filename an RFC 2231 `filename*` parameter.
 *
 * Cost: everything that does not change is built once, by buildMessage(): the encoded attachments,
 * the part headers, the headers without variables, the templates split into literal and variable
 * pieces. A message then costs the variable pieces, one Message-ID, the Date (cached per second,
 * message.ts) and one join; the boundaries are unique per message (a per-message token appended to
 * a fixed prefix), which changes no cached text. Message-ID and Date are generated per message
 * (never taken from the template); the session puts X-Runner-Trace above it as for any message
 * written in scenario code.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { base36, countStuffedDots, DEFAULT_RUN_ID, dotStuff, END_OF_DATA, formatDate, MESSAGE_ID_DOMAIN } from './message.ts';

/** An attachment generated from a size (bytes, or with a k/m suffix: '100k'). */
export interface GeneratedAttachment {
  filename: string;
  /** @default 'application/octet-stream' */
  contentType?: string;
  size: number | string;
}

/** An attachment read from a file once, when the message is built. */
export interface FileAttachment {
  path: string;
  /** @default the file's name */
  filename?: string;
  /** @default from the file's extension, else 'application/octet-stream' */
  contentType?: string;
}

export type AttachmentSpec = GeneratedAttachment | FileAttachment;

/**
 * A message to build. Text, html, subject and header values are templates: `{{vu}}`,
 * `{{iteration}}`, `{{seq}}` and any field given to send({ vars }) (e.g. a CSV row's columns) are
 * replaced per message; an unknown name stays as written.
 */
export interface MessageSpec {
  /** @default the envelope sender */
  from?: string;
  /** @default the envelope recipients */
  to?: string;
  subject?: string;
  /** The text/plain body. */
  text?: string;
  /** The text/html body (with text: a multipart/alternative). */
  html?: string;
  /** More header fields; Message-ID, Date, MIME-Version and Content-* are runner's and refused here. */
  headers?: Record<string, string>;
  attachments?: readonly AttachmentSpec[];
}

/** What varies per message when a template is rendered. */
export interface RenderFields {
  from: string;
  to: readonly string[];
  vu: number;
  iteration: number;
  seq: number;
  /** Goes into the Message-ID; @default DEFAULT_RUN_ID */
  runId?: string;
  /** Data fields for `{{name}}` (send({ vars })). */
  vars?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A message in the form the session writes after DATA's 354: dot-stuffed, ending with the
 * end-of-data line, as per-message strings and the attachments' cached Buffers in order (written
 * with one corked writev: an attachment is never copied per message).
 */
export interface WireMessage {
  readonly chunks: ReadonlyArray<string | Buffer>;
  /** Bytes of all chunks, end-of-data included. */
  readonly bytes: number;
  /** A chunk has 8-bit octets (an envelope address that is not ASCII, in From or To). */
  readonly isEightBit: boolean;
  /** Dots dot-stuffing added (0 unless a text line starts with '.'): bytes less these is the size the server keeps. */
  readonly stuffedDots: number;
}

/** A problem in a MessageSpec, said when buildMessage() is called (at the scenario's load). */
export class MessageBuildError extends Error {
  override readonly name = 'MessageBuildError';
}

/** Headers runner writes itself: a template may not set them. */
const RESERVED_HEADERS = new Set(['message-id', 'date', 'mime-version', 'content-type', 'content-transfer-encoding', 'x-runner-trace']);

/** RFC 2045 §6.8: base64 lines of at most 76 characters. */
const BASE64_LINE_CHARS = 76;
/** RFC 5322 §2.1.1: a line is at most 998 characters; a longer text body goes base64. */
const MAX_LINE_CHARS = 998;

const MIME_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf', zip: 'application/zip', json: 'application/json', txt: 'text/plain', csv: 'text/csv',
  html: 'text/html', htm: 'text/html', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ics: 'text/calendar', eml: 'message/rfc822',
};

/** A template split once: literal text at even indexes, variable names at odd ones. */
type Pieces = readonly string[];

const VARIABLE = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

function splitTemplate(template: string): Pieces {
  return template.split(VARIABLE);
}

function fill(pieces: Pieces, fields: RenderFields): string {
  if (pieces.length === 1) return pieces[0]!;
  let out = pieces[0]!;
  for (let i = 1; i < pieces.length; i += 2) {
    const name = pieces[i]!;
    const value =
      name === 'vu' ? fields.vu : name === 'iteration' ? fields.iteration : name === 'seq' ? fields.seq : fields.vars?.[name];
    out += (value === undefined ? '{{' + name + '}}' : String(value)) + pieces[i + 1]!;
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
/** CRLF, LF or a bare CR: none may stay inside a header value. */
const LINE_BREAKS = /\r\n|\r|\n/g;
/** Characters a MIME parameter can only carry RFC 2231-encoded: non-ASCII and controls (CR, LF, …). */
// eslint-disable-next-line no-control-regex
const NEEDS_PARAMETER_ENCODING = /[^\x20-\x7e]/;
/** A media type as Content-Type takes it: type/subtype, optional parameters, no control characters. */
// eslint-disable-next-line no-control-regex
const MEDIA_TYPE = /^[!#$%&'*+.^`|~0-9A-Za-z-]+\/[!#$%&'*+.^`|~0-9A-Za-z-]+(\s*;[^\x00-\x1f\x7f]*)?$/;

/**
 * A header value as written on the wire: ASCII as is; otherwise RFC 2047 encoded-words
 * `=?UTF-8?B?…?=` of at most 75 characters each (§2), cut between characters (§5: never inside a
 * UTF-8 sequence), folded onto continuation lines.
 */
export function encodeHeaderValue(value: string): string {
  // Every line break (CRLF, LF, a bare CR) becomes a space: a value, or a variable filled into
  // it (a CSV field), can never start a header of its own (RFC 5322 §2.2: CR and LF only as CRLF)
  const flat = value.replace(LINE_BREAKS, ' ');
  if (!NON_ASCII.test(flat)) return flat;
  const words: string[] = [];
  // 45 bytes → 60 base64 characters + 12 of '=?UTF-8?B?' and '?=' = 72 ≤ 75
  let chunk = '';
  let chunkBytes = 0;
  for (const char of flat) {
    const bytes = Buffer.byteLength(char);
    if (chunkBytes + bytes > 45) {
      words.push('=?UTF-8?B?' + Buffer.from(chunk).toString('base64') + '?=');
      chunk = '';
      chunkBytes = 0;
    }
    chunk += char;
    chunkBytes += bytes;
  }
  if (chunk !== '') words.push('=?UTF-8?B?' + Buffer.from(chunk).toString('base64') + '?=');
  return words.join('\r\n ');
}

/** Base64 of `bytes` in lines of 76 characters, each ending with CRLF. */
export function base64Lines(bytes: Buffer): string {
  const encoded = bytes.toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += BASE64_LINE_CHARS) lines.push(encoded.slice(at, at + BASE64_LINE_CHARS) + '\r\n');
  return lines.join('');
}

/** Bytes from '4096', '100k', '2m' (k = 1024). */
function sizeBytes(size: number | string, where: string): number {
  const match = typeof size === 'number' ? null : /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)[bB]?\s*$/.exec(size);
  const bytes =
    typeof size === 'number' ? size : match === null ? NaN : Number(match[1]) * (match[2] === '' ? 1 : match[2]!.toLowerCase() === 'k' ? 1024 : 1024 * 1024);
  if (!Number.isFinite(bytes) || bytes < 0) throw new MessageBuildError(`${where}.size: ${JSON.stringify(size)} is not a size; give bytes (4096) or a k/m suffix ('100k')`);
  return Math.round(bytes);
}

/** Deterministic bytes of every value (not compressible into nothing, and the same from run to run). */
function generatedBytes(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let state = 0x2545f491;
  for (let i = 0; i < size; i++) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** Largest generated attachment: as smtp.messageSize's limit (its base64 text stays far below V8's longest string). */
const MAX_GENERATED_ATTACHMENT_BYTES = 64 * 1024 * 1024;

/** Generated attachments, encoded once per size (templates of a run often share them). */
const generatedCache = new Map<number, string>();

function quoteParameter(name: string, value: string): string {
  if (NEEDS_PARAMETER_ENCODING.test(value)) {
    // RFC 2231 §4: charset''percent-encoded
    return `${name}*=UTF-8''${encodeURIComponent(value).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())}`;
  }
  return `${name}="${value.replace(/["\\]/g, '\\$&')}"`;
}

/** One attachment part without its boundary line: headers, empty line, base64 lines. */
function attachmentPart(spec: AttachmentSpec, index: number): string {
  const where = `attachments[${index}]`;
  let filename: string;
  let contentType: string;
  let encoded: string;
  if ('path' in spec && typeof spec.path === 'string') {
    let bytes: Buffer;
    try {
      bytes = readFileSync(spec.path);
    } catch (error) {
      throw new MessageBuildError(`${where}.path: cannot read ${spec.path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a readable file`);
    }
    filename = spec.filename ?? basename(spec.path);
    const extension = /\.([^.]+)$/.exec(filename)?.[1]?.toLowerCase();
    contentType = spec.contentType ?? (extension !== undefined ? MIME_TYPES[extension] : undefined) ?? 'application/octet-stream';
    encoded = base64Lines(bytes);
  } else {
    const generated = spec as GeneratedAttachment;
    if (typeof generated.filename !== 'string' || generated.filename === '') throw new MessageBuildError(`${where}: give { filename, size } (generated) or { path } (a file)`);
    filename = generated.filename;
    contentType = generated.contentType ?? 'application/octet-stream';
    const size = sizeBytes(generated.size, where);
    if (size > MAX_GENERATED_ATTACHMENT_BYTES) {
      throw new MessageBuildError(`${where}.size: ${size} bytes is above ${MAX_GENERATED_ATTACHMENT_BYTES} (64 MiB): it is built in memory and base64-encoded once; mail systems refuse far smaller messages (10–50 MB is usual)`);
    }
    let cached = generatedCache.get(size);
    if (cached === undefined) {
      cached = base64Lines(generatedBytes(size));
      generatedCache.set(size, cached);
    }
    encoded = cached;
  }
  if (!MEDIA_TYPE.test(contentType)) {
    throw new MessageBuildError(`${where}.contentType: ${JSON.stringify(contentType)} is not a media type; give type/subtype such as 'application/pdf' (no line breaks)`);
  }
  return (
    `Content-Type: ${contentType}; ${quoteParameter('name', filename)}\r\n` +
    `Content-Transfer-Encoding: base64\r\n` +
    `Content-Disposition: attachment; ${quoteParameter('filename', filename)}\r\n\r\n` +
    encoded
  );
}

/** Set by textPart() when stuffing changed a text part (read and reset around each render). */
let wasStuffed = false;

/** A text body part for one message: 7bit when it is ASCII with short lines, else UTF-8 base64. */
function textPart(subtype: 'plain' | 'html', body: string, isStuffed: boolean): string {
  const crlf = body.replace(/\r\n|\r|\n/g, '\r\n');
  const withEnd = crlf.endsWith('\r\n') || crlf === '' ? crlf : crlf + '\r\n';
  if (!NON_ASCII.test(withEnd) && !hasLongLine(withEnd)) {
    // Only a 7bit text part can have a line starting with '.': base64 and header lines never do
    let text = withEnd;
    if (isStuffed) {
      text = dotStuff(withEnd);
      if (text !== withEnd) wasStuffed = true;
    }
    return `Content-Type: text/${subtype}; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n` + text;
  }
  return `Content-Type: text/${subtype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n` + base64Lines(Buffer.from(withEnd));
}

function hasLongLine(text: string): boolean {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\r\n', start);
    if ((end === -1 ? text.length : end) - start > MAX_LINE_CHARS) return true;
    if (end === -1) return false;
    start = end + 2;
  }
}

/** Per-message boundary tokens: unique in the process. */
let boundarySequence = 0;

/**
 * A built message: fixed parts encoded once, rendered per message by render(). Pass it to
 * `ctx.smtp.send({ message, vars })`.
 */
export class MessageTemplate {
  /** Marks the object for send(): a template, not a message string. */
  readonly isMessageTemplate = true;
  private readonly from: Pieces | undefined;
  private readonly to: Pieces | undefined;
  private readonly subject: Pieces | undefined;
  /** Extra headers: [name + ': ', value pieces] pairs. */
  private readonly headers: ReadonlyArray<readonly [string, Pieces]>;
  private readonly text: Pieces | undefined;
  private readonly html: Pieces | undefined;
  /** Attachment parts without boundary lines, encoded once. */
  private readonly attachmentParts: readonly string[];
  /** The same as Buffers, for renderWire(). */
  private readonly attachmentBuffers: readonly Buffer[];
  /**
   * When text and html hold no variable: the body part built once, split where its boundary token
   * goes (joined with each message's token), so the boundary stays unique per message.
   */
  private readonly fixedBody: readonly string[] | undefined;
  /** The same, dot-stuffed (RFC 5321 §4.5.2), for renderData(). */
  private readonly fixedBodyStuffed: readonly string[] | undefined;
  /** Whether the fixed body needed stuffing. */
  private readonly fixedBodyHasDotLines: boolean;
  /** Whether the last renderData() stuffed a line (its render() text then differs by more than the end). */
  hasDotLines = false;

  constructor(spec: MessageSpec) {
    if (spec === null || typeof spec !== 'object') throw new MessageBuildError('buildMessage(spec): give an object, e.g. { subject, text, attachments }');
    this.from = spec.from === undefined ? undefined : splitTemplate(spec.from);
    this.to = spec.to === undefined ? undefined : splitTemplate(spec.to);
    this.subject = spec.subject === undefined ? undefined : splitTemplate(spec.subject);
    const headers: Array<readonly [string, Pieces]> = [];
    for (const [name, value] of Object.entries(spec.headers ?? {})) {
      if (!/^[!-9;-~]+$/.test(name)) throw new MessageBuildError(`headers: ${JSON.stringify(name)} is not a header field name (printable ASCII, no ':' or space)`);
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) throw new MessageBuildError(`headers: ${name} is written by runner for every message; leave it out`);
      if (lower === 'from' || lower === 'to' || lower === 'subject') throw new MessageBuildError(`headers: give ${lower} as the ${lower} field of buildMessage(), not as a header`);
      headers.push([name + ': ', splitTemplate(String(value))]);
    }
    this.headers = headers;
    this.text = spec.text === undefined ? undefined : splitTemplate(spec.text);
    this.html = spec.html === undefined ? undefined : splitTemplate(spec.html);
    this.attachmentParts = (spec.attachments ?? []).map(attachmentPart);
    this.attachmentBuffers = this.attachmentParts.map((part) => Buffer.from(part));
    const bodyFixed = (this.text === undefined || this.text.length === 1) && (this.html === undefined || this.html.length === 1);
    this.fixedBody = bodyFixed ? this.bodyPart(undefined, '\0', false).split('\0') : undefined;
    wasStuffed = false;
    this.fixedBodyStuffed = bodyFixed ? this.bodyPart(undefined, '\0', true).split('\0') : undefined;
    this.fixedBodyHasDotLines = wasStuffed;
  }

  /** The whole message for one send: headers, empty line, body; CRLF line endings, not dot-stuffed. */
  render(fields: RenderFields): string {
    return this.renderMessage(fields, false);
  }

  /**
   * The message as written after DATA's 354: dot-stuffed, followed by the end-of-data line. The
   * text is already CRLF and only its 7bit text parts can need stuffing, so the whole message is
   * never scanned again (that scan, over a 100 KiB attachment, cost more than the rendering).
   */
  renderData(fields: RenderFields): string {
    wasStuffed = false;
    const data = this.renderMessage(fields, true) + END_OF_DATA;
    this.hasDotLines = wasStuffed || (this.fixedBody !== undefined && this.fixedBodyHasDotLines);
    return data;
  }

  /**
   * renderData() as chunks (see WireMessage): the same bytes, with each attachment the one Buffer
   * built by buildMessage(). A message with attachments then costs its head, not its size.
   */
  renderWire(fields: RenderFields): WireMessage {
    wasStuffed = false;
    const chunks: Array<string | Buffer> = [];
    this.renderMessage(fields, true, chunks);
    this.hasDotLines = wasStuffed || (this.fixedBody !== undefined && this.fixedBodyHasDotLines);
    const last = chunks.length - 1;
    chunks[last] = (chunks[last] as string) + END_OF_DATA;
    let bytes = 0;
    let isEightBit = false;
    let stuffedDots = 0;
    const hasDotLines = this.hasDotLines;
    for (const chunk of chunks) {
      if (typeof chunk === 'string') {
        const length = Buffer.byteLength(chunk);
        if (length !== chunk.length) isEightBit = true;
        bytes += length;
        if (hasDotLines) stuffedDots += countStuffedDots(chunk);
      } else bytes += chunk.length;
    }
    return { chunks, bytes, isEightBit, stuffedDots };
  }

  /**
   * The message as one string; with `chunks`, pushed there instead (strings and the attachment
   * Buffers; the last chunk a string) and '' returned.
   */
  private renderMessage(fields: RenderFields, isStuffed: boolean, chunks?: Array<string | Buffer>): string {
    const runId = fields.runId ?? DEFAULT_RUN_ID;
    const token = base36(++boundarySequence & 0x7fffffff) + '.' + base36(Math.floor(Math.random() * 0x80000000));
    const to = this.to === undefined ? fields.to.join(', ') : fill(this.to, fields);
    let head =
      'From: ' + (this.from === undefined ? fields.from : encodeHeaderValue(fill(this.from, fields))) +
      '\r\nTo: ' + (this.to === undefined ? to : encodeHeaderValue(to)) +
      '\r\nSubject: ' + (this.subject === undefined ? '' : encodeHeaderValue(fill(this.subject, fields))) +
      '\r\nDate: ' + formatDate(Date.now()) +
      '\r\nMessage-ID: <' + runId + '.' + fields.seq + '.' + token + '@' + MESSAGE_ID_DOMAIN + '>\r\n';
    for (const [name, value] of this.headers) head += name + encodeHeaderValue(fill(value, fields)) + '\r\n';
    head += 'MIME-Version: 1.0\r\n';
    const fixedBody = isStuffed ? this.fixedBodyStuffed : this.fixedBody;
    const body = fixedBody === undefined ? this.bodyPart(fields, token, isStuffed) : fixedBody.length === 1 ? fixedBody[0]! : fixedBody.join(token);
    if (this.attachmentParts.length === 0) {
      if (chunks === undefined) return head + body;
      chunks.push(head + body);
      return '';
    }
    const boundary = '=_mixed_' + token;
    let message = head + `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\n` + body;
    if (chunks !== undefined) {
      for (const part of this.attachmentBuffers) {
        chunks.push(message + `\r\n--${boundary}\r\n`, part);
        message = '';
      }
      chunks.push(`\r\n--${boundary}--\r\n`);
      return '';
    }
    // `+`, not join(): a cons string, flattened once where it is written (a join copies the
    // attachments into a new large string per message)
    for (const part of this.attachmentParts) message += `\r\n--${boundary}\r\n` + part;
    return message + `\r\n--${boundary}--\r\n`;
  }

  /**
   * The body: one text part, or a multipart/alternative of text and html (its own Content-Type
   * line first). `token` makes the alternative's boundary unique per message.
   */
  private bodyPart(fields: RenderFields | undefined, token: string, isStuffed: boolean): string {
    const text = this.text === undefined ? undefined : fields === undefined ? this.text[0]! : fill(this.text, fields);
    const html = this.html === undefined ? undefined : fields === undefined ? this.html[0]! : fill(this.html, fields);
    if (html === undefined) return textPart('plain', text ?? '', isStuffed);
    if (text === undefined) return textPart('html', html, isStuffed);
    const boundary = '=_alt_' + token;
    return (
      `Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n` +
      `--${boundary}\r\n` + textPart('plain', text, isStuffed) +
      `\r\n--${boundary}\r\n` + textPart('html', html, isStuffed) +
      `\r\n--${boundary}--\r\n`
    );
  }
}

/** Builds a message template once (at the scenario's load); send({ message }) renders it per message. */
export function buildMessage(spec: MessageSpec): MessageTemplate {
  return new MessageTemplate(spec);
}

/** Templates of specs given as data (ResolvedSmtp.composed), built once per spec object in the process. */
const templatesOfSpecs = new WeakMap<MessageSpec, MessageTemplate>();

/** The template of a spec, built on first use and cached by the spec object. */
export function templateOf(spec: MessageSpec): MessageTemplate {
  let template = templatesOfSpecs.get(spec);
  if (template === undefined) {
    template = new MessageTemplate(spec);
    templatesOfSpecs.set(spec, template);
  }
  return template;
}

/** Whether send()'s message is a template (rather than RFC 5322 text). */
export function isMessageTemplate(value: unknown): value is MessageTemplate {
  return typeof value === 'object' && value !== null && (value as { isMessageTemplate?: unknown }).isMessageTemplate === true;
}
