/**
 * Text from outside (server replies, file contents, results files read back) never reaches a
 * terminal raw: a server that answers `ESC]0;title BEL` or `ESC[2J` could retitle the window,
 * clear the screen and print "ALL GOOD" (issue 19). escapeControl() shows every control
 * character as a visible escape instead, so what is printed is what was received.
 *
 * Escaped: C0 controls (U+0000–U+001F, line feed too unless kept), DEL (U+007F), C1 controls
 * (U+0080–U+009F: U+009B is a one-character CSI for terminals that read 8-bit controls; a
 * UTF-8 decoder turns the bytes C2 9B into it), and the bidirectional overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069) that reorder what is shown. A control byte inside a broken
 * UTF-8 sequence is still a control after decoding (the decoder ends the sequence with U+FFFD
 * and yields the byte), so it is caught too.
 */

/** Every character escapeControl() replaces, line feed included. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same without line feed (multi-line messages keep their lines). */
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Short forms people read in logs; the rest are `\xHH` or `\uHHHH`. */
const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character shown as an escape (`\x1b`, `\r`, `\x07`, `\u009b`…);
 * unchanged (the same string) when it has none. `keepLineBreaks` leaves line feeds as they are,
 * for multi-line messages (a carriage return is still escaped: it would overwrite the line).
 */
export function escapeControl(text: string, keepLineBreaks = false): string {
  const pattern = keepLineBreaks ? CONTROL_BUT_LF : CONTROL;
  pattern.lastIndex = 0;
  if (!pattern.test(text)) return text;
  pattern.lastIndex = 0;
  return text.replace(pattern, escapeOne);
}

/** Whether `text` has a character escapeControl() would replace (tests, assertions). */
export function hasControl(text: string, keepLineBreaks = false): boolean {
  const pattern = keepLineBreaks ? CONTROL_BUT_LF : CONTROL;
  pattern.lastIndex = 0;
  return pattern.test(text);
}

/**
 * A deep copy of a JSON value with every string (keys too) escaped: for files read back
 * (results files) before anything in them is printed. Returns the value itself when nothing
 * needed escaping.
 */
export function escapeControlDeep<T>(value: T): T {
  return escapeDeep(value) as T;
}

function escapeDeep(value: unknown): unknown {
  if (typeof value === 'string') return escapeControl(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const inner = escapeDeep(value[i]);
      if (inner !== value[i]) (copy ??= value.slice())[i] = inner;
    }
    return copy ?? value;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let isChanged = false;
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      const safeKey = escapeControl(key);
      const safeInner = escapeDeep(inner);
      if (safeKey !== key || safeInner !== inner) isChanged = true;
      copy[safeKey] = safeInner;
    }
    return isChanged ? copy : value;
  }
  return value;
}
