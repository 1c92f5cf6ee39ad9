/**
 * Secrets never leak: passwords, tokens and AUTH payloads are replaced by `****` in every text
 * runner shows or writes (error texts that quote a server's reply or our command, the results
 * file, reports, the console, `--debug`-style transcripts).
 *
 * The run's secrets are registered once (scenario/options.ts registers every password and
 * token after resolving); `redact()` then replaces each one, and its base64 forms, wherever
 * it appears. Base64 matters because AUTH payloads carry the secret encoded, inside other
 * bytes (`\0user\0password`, `user=…\x01auth=Bearer token\x01\x01`): the encoding of a secret
 * depends on its offset modulo 3 in the payload, so each secret is registered in its three
 * alignments, each cut to the base64 characters that only the secret's bytes decide.
 *
 * Not on the hot path: redact() runs where text is shown or written, not per message.
 */

/** What a secret is replaced with. */
export const REDACTED = '****';

/** Secrets shorter than this are not registered: replacing 1–3 characters everywhere would mangle every text, and they are no secret. */
export const MIN_SECRET_LENGTH = 4;

/** Every registered form (the secret, its base64 alignments), longest first so a longer form wins. */
let forms: string[] = [];

/**
 * Registers a secret (a password or token) so redact() hides it and its base64 forms. Empty
 * and very short values are ignored (see MIN_SECRET_LENGTH).
 */
export function addSecret(secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH) return;
  const added = new Set(forms);
  added.add(secret);
  for (const form of base64Forms(secret)) added.add(form);
  forms = [...added].sort((a, b) => b.length - a.length);
}

/** Forgets every registered secret (tests; a long-lived process between runs). */
export function clearSecrets(): void {
  forms = [];
}

/** The registered forms (for tests that grep outputs for them). */
export function secretForms(): readonly string[] {
  return forms;
}

/**
 * The base64 fragments that appear in the encoding of any byte string containing `secret`:
 * one per alignment (0, 1 or 2 bytes before it in its 3-byte group), without the characters
 * that neighbouring bytes share. Fragments shorter than 4 characters are dropped (too common).
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

/** `text` with every registered secret (and base64 form) and every AUTH payload replaced by REDACTED. */
export function redact(text: string): string {
  let result = redactAuthCommand(text);
  for (const form of forms) {
    if (result.includes(form)) result = result.split(form).join(REDACTED);
  }
  return result;
}

/**
 * AUTH commands with their payload hidden, whatever the secret: `AUTH PLAIN dGVzdA==` →
 * `AUTH PLAIN ****` (RFC 4954 §4: `AUTH mechanism [initial-response]`). Other text is unchanged.
 */
export function redactAuthCommand(text: string): string {
  if (!text.includes('AUTH')) return text;
  // Upper case only: a server's prose ("auth mechanism not supported") is left alone
  return text.replace(/\b(AUTH [A-Z0-9_-]+) [A-Za-z0-9+/=]+/g, `$1 ${REDACTED}`);
}

/** Deep copy of a JSON-like value with every string redacted (results files, summaries). */
export function redactValue<T>(value: T): T {
  if (forms.length === 0) return value;
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
