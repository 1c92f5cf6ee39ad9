/**
 * Secrets never leak: passwords, tokens and AUTH payloads are replaced by `****` in every text
 * runner shows or writes (error texts that quote a server's reply or our command, the results
 * file, reports, the console, `--debug`-style transcripts).
 *
 * The run's secrets are registered once (scenario/options.ts registers every password and
 * token after resolving); `redact()` then hides, whatever the secret's length or alignment:
 * - our AUTH commands' payloads (`AUTH PLAIN ****`), whole;
 * - every base64-looking run of characters whose decoding, at any of its four alignments,
 *   holds any 4 consecutive bytes of a secret (or a secret shorter than that where a payload
 *   puts it, or ends with a payload separator and the secret's first 1–3 bytes: a payload cut
 *   inside it), or whose end, aligned by its padding, is the secret's last 1–3 bytes (a payload
 *   whose start was cut inside it): the whole run, so no end of an echoed payload is left to
 *   decode a character of the secret from (a secret's bytes land in base64 groups shared with
 *   neighbouring bytes: hiding only the groups the secret alone decides left one or two
 *   decodable characters at each end). Not caught, as indistinguishable from ordinary words:
 *   1–3 bytes from the middle of a secret in a fragment cut at both ends, and an unpadded
 *   payload's lone last byte (its last 2 characters);
 * - the secret itself: anywhere when it has MIN_SECRET_LENGTH characters or more, and as a
 *   whole word (not inside a longer run of letters and digits) when it is shorter, so that a
 *   3-character password is hidden too without every word containing those letters being cut.
 *
 * Not on the hot path: redact() runs where text is shown or written, not per message.
 */

/** What a secret is replaced with. */
export const REDACTED = '****';

/** Secrets shorter than this are hidden where they stand as a whole word (see the module doc); longer ones anywhere. */
export const MIN_SECRET_LENGTH = 4;

/** A registered secret, with what matching it needs. */
interface Secret {
  text: string;
  /** Its UTF-8 bytes as a latin1 string (one character per byte), for matching decoded base64. */
  bytes: string;
  /** Every 4-byte window of `bytes`; undefined for a secret shorter than that (matched whole). */
  windows: ReadonlySet<string> | undefined;
  /** A short secret as a whole word in text; undefined for a long one. */
  wordPattern: RegExp | undefined;
  /** A secret under 4 bytes as AUTH payloads carry it, in decoded bytes: after a separator, before \x01 or the end. */
  bytesPayloadPattern: RegExp | undefined;
}

/** Registered secrets, longest first so a longer one wins where they overlap. */
let secrets: Secret[] = [];

/** Bytes of a secret that, found in a decoded base64 run, show the run carries it. */
const WINDOW_BYTES = 4;

/** A run of base64 characters (standard alphabet, optional padding) long enough to carry one byte. */
const BASE64_RUN = /[A-Za-z0-9+/]{2,}={0,2}/g;

/** Letters and digits around a short secret make it part of a longer word, not the secret. */
function wordPatternOf(literal: string): RegExp {
  const escaped = literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, 'g');
}

/**
 * A secret under 4 bytes where an AUTH payload puts it (PLAIN `\0user\0pw`, XOAUTH2 `Bearer tok\x01\x01`):
 * decoded bytes of ordinary words hold a lone byte of any value often (1 word in ~70 for a
 * 1-byte secret as a "word" of decoded bytes), a separator before it and the payload's end after rarely.
 */
function payloadPatternOf(bytes: string): RegExp {
  const escaped = bytes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`[\\u0000\\u0001 =]${escaped}(?:\\u0001|$)`);
}

/** Registers a secret (a password or token) so redact() hides it and every encoding of it. Empty values are ignored. */
export function addSecret(secret: string): void {
  if (secret === '' || secrets.some((known) => known.text === secret)) return;
  const bytes = Buffer.from(secret, 'utf8').toString('latin1');
  let windows: Set<string> | undefined;
  if (bytes.length >= WINDOW_BYTES) {
    windows = new Set();
    for (let i = 0; i + WINDOW_BYTES <= bytes.length; i++) windows.add(bytes.slice(i, i + WINDOW_BYTES));
  }
  const isShort = secret.length < MIN_SECRET_LENGTH;
  secrets = [
    ...secrets,
    {
      text: secret,
      bytes,
      windows,
      wordPattern: isShort ? wordPatternOf(secret) : undefined,
      bytesPayloadPattern: windows === undefined ? payloadPatternOf(bytes) : undefined,
    },
  ].sort((a, b) => b.text.length - a.text.length);
}

/** Forgets every registered secret (tests; a long-lived process between runs). */
export function clearSecrets(): void {
  secrets = [];
}

/** Whether any secret is registered. */
export function hasSecrets(): boolean {
  return secrets.length > 0;
}

/**
 * The base64 fragments that appear in the encoding of any byte string containing `secret`:
 * one per alignment (0, 1 or 2 bytes before it in its 3-byte group), without the characters
 * that neighbouring bytes share. Fragments shorter than 4 characters are dropped. For tests
 * that grep outputs for encodings of a secret; redact() hides whole runs, not these.
 */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const result: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    // `offset` filler bytes put the secret at that alignment; the first group is then mixed
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const encoded = padded.toString('base64');
    const firstClean = offset === 0 ? 0 : 4;
    // Only whole 3-byte groups are decided by the secret alone; the last partial one is not
    const lastClean = Math.floor(padded.length / 3) * 4;
    const fragment = encoded.slice(firstClean, lastClean);
    if (fragment.length >= 4) result.push(fragment);
  }
  return result;
}

/** `text` with every registered secret (and every encoding of it) and every AUTH payload replaced by REDACTED. */
export function redact(text: string): string {
  return redactSecrets(redactAuthCommand(text));
}

/** `text` with every registered secret and every base64 run carrying one replaced by REDACTED (no AUTH-command rule). */
export function redactSecrets(text: string): string {
  if (secrets.length === 0) return text;
  let result = text.replace(BASE64_RUN, (run) => (carriesSecret(run) ? REDACTED : run));
  for (const secret of secrets) {
    if (secret.wordPattern !== undefined) result = result.replace(secret.wordPattern, REDACTED);
    else if (result.includes(secret.text)) result = result.split(secret.text).join(REDACTED);
  }
  return result;
}

/** Whether a base64 run, decoded from any of its four starting characters, holds part of a secret. */
function carriesSecret(run: string): boolean {
  const body = run.replace(/=+$/, '');
  const tail = endAlignedBytes(body, run.length - body.length);
  for (const secret of secrets) if (endsWithSecretTail(tail, run.length > body.length, secret.bytes)) return true;
  for (let offset = 0; offset < 4 && body.length - offset >= 2; offset++) {
    const decoded = Buffer.from(body.slice(offset), 'base64').toString('latin1');
    for (const secret of secrets) {
      if (endsWithCutSecret(decoded, secret.bytes)) return true;
      if (secret.windows === undefined) {
        if (secret.bytesPayloadPattern!.test(decoded)) return true;
        // A LOGIN payload is the secret alone, whole groups: padded (`ZA==`), or 4 characters for 3 bytes
        const padding = run.length - body.length;
        if (decoded === secret.bytes && (body.length - offset + padding) % 4 === 0 && (padding > 0 || secret.bytes.length === 3)) return true;
        continue;
      }
      for (let i = 0; i + WINDOW_BYTES <= decoded.length; i++) {
        if (secret.windows.has(decoded.slice(i, i + WINDOW_BYTES))) return true;
      }
    }
  }
  return false;
}

/** Bytes that come just before a secret in AUTH payloads: PLAIN's NUL, XOAUTH2's `auth=Bearer `, LOGIN's nothing. */
const PAYLOAD_SEPARATORS = '\u0000\u0001 =';

/**
 * Whether `decoded` ends with a separator and then the first 1–3 bytes of the secret: an echoed
 * payload cut inside the secret, too short a piece for the 4-byte windows.
 */
function endsWithCutSecret(decoded: string, secretBytes: string): boolean {
  const most = Math.min(WINDOW_BYTES - 1, secretBytes.length, decoded.length - 1);
  for (let length = 1; length <= most; length++) {
    const at = decoded.length - length;
    if (PAYLOAD_SEPARATORS.includes(decoded[at - 1]!) && decoded.endsWith(secretBytes.slice(0, length))) return true;
  }
  return false;
}

/** What ends an AUTH payload after the secret: nothing (PLAIN, LOGIN), or XOAUTH2's two \x01. */
const PAYLOAD_ENDS = ['', '\u0001\u0001'];

/**
 * The bytes a base64 run decides when its end is the end of an encoding (the run may start
 * anywhere: a payload cut at its start): the padding (or its absence: a multiple of 3 bytes)
 * fixes where its 4-character groups fall. Bytes that share bits with characters before the run
 * are left out.
 */
function endAlignedBytes(body: string, padding: number): string {
  const fill = (4 - ((body.length + padding) % 4)) % 4;
  const decoded = Buffer.from('A'.repeat(fill) + body + '='.repeat(padding), 'base64').toString('latin1');
  // Byte j is bits 8j…8j+7; the filler covers bits 0…6·fill-1
  return decoded.slice(Math.ceil((6 * fill) / 8));
}

/**
 * Whether `tail` (a run's end-aligned bytes) ends with the last bytes of a secret (and XOAUTH2's
 * end): an echoed payload cut at its start inside the secret, too few of its bytes left for the
 * 4-byte windows. Needs 2 bytes of evidence (the secret's bytes, its payload end, the separator
 * before a secret shorter than what the run decides), or 1 after padding: `=` rarely ends a
 * word, so ordinary text is not hidden by chance (about 1 word in 65,536 ending like that).
 */
function endsWithSecretTail(tail: string, isPadded: boolean, secretBytes: string): boolean {
  for (const end of PAYLOAD_ENDS) {
    const ending = secretBytes + end;
    let evidence: number;
    if (tail.length <= ending.length) {
      if (tail.length === 0 || !ending.endsWith(tail)) continue;
      evidence = tail.length;
    } else {
      if (!tail.endsWith(ending) || !PAYLOAD_SEPARATORS.includes(tail[tail.length - ending.length - 1]!)) continue;
      evidence = ending.length + 1;
    }
    if (evidence >= 2 || (isPadded && evidence >= 1)) return true;
  }
  return false;
}

/**
 * RFC 4422 §3.1: a SASL mechanism name is 1–20 upper-case letters, digits, hyphens and
 * underscores. A word like that after `AUTH MECH` is another mechanism (an EHLO `250-AUTH PLAIN
 * LOGIN`), not a payload: base64 of real credentials has lower-case letters or padding.
 */
const SASL_MECHANISM = /^[A-Z0-9_-]{1,20}$/;

/**
 * AUTH commands with their payload hidden, whatever the secret: `AUTH PLAIN dGVzdA==` →
 * `AUTH PLAIN ****` (RFC 4954 §4: `AUTH mechanism [initial-response]`). A list of mechanism
 * names (`AUTH PLAIN LOGIN`, as EHLO offers them) is not a payload and stays. Other text is unchanged.
 */
export function redactAuthCommand(text: string): string {
  if (!text.includes('AUTH')) return text;
  // Upper case only: a server's prose ("auth mechanism not supported") is left alone
  return text.replace(/\b(AUTH [A-Z0-9_-]+) ([A-Za-z0-9+/=]+)/g, (whole, command: string, payload: string) =>
    SASL_MECHANISM.test(payload) ? whole : `${command} ${REDACTED}`);
}

/** Deep copy of a JSON-like value with every string redacted (results files, summaries). */
export function redactValue<T>(value: T): T {
  if (secrets.length === 0) return value;
  return redactDeep(value) as T;
}

function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) copy[key] = redactDeep(inner);
    return copy;
  }
  return value;
}
