/**
 * EHLO capabilities as a session keeps them for the connection's life: keywords and their
 * parameters, bounded (issue 19). The EHLO reply itself is not kept: a hostile server's 999
 * lines of 4 KiB held ~4.2 MiB per connection until the connection closed; the parsed and
 * capped map holds at most MAX_CAPABILITIES × (MAX_KEYWORD_CHARS + MAX_PARAMETERS_CHARS)
 * characters, and real servers' replies (a dozen keywords) far less.
 */

/** Most keywords kept from one EHLO reply; real servers list about ten (RFC 5321 §4.1.1.1). */
export const MAX_CAPABILITIES = 32;
/** Longest keyword kept, characters (RFC 5321 §4.1.1.1: ehlo-keyword is short; registered ones are under 20). */
export const MAX_KEYWORD_CHARS = 64;
/** Longest parameter text kept per keyword, characters (AUTH's mechanism list is the longest in practice). */
export const MAX_PARAMETERS_CHARS = 256;

/**
 * A copy of `text` that shares no memory with the string it was cut from: V8 keeps a slice of
 * a string as a reference to the whole (a 4 KiB reply line would stay alive behind a 10-character
 * keyword), so kept parts are copied.
 */
function detached(text: string): string {
  return text.length === 0 ? '' : Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * EHLO keywords (upper case) → their parameters, e.g. 'SIZE' → '52428800', from the reply's
 * lines. RFC 5321 §4.1.1.1: the first line is the domain and greeting, then one keyword per
 * line. The first MAX_CAPABILITIES keywords are kept, each cut to its caps.
 */
export function parseCapabilities(lines: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 1; i < lines.length && map.size < MAX_CAPABILITIES; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const space = line.indexOf(' ');
    const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase().slice(0, MAX_KEYWORD_CHARS);
    const parameters = space < 0 ? '' : line.slice(space + 1, space + 1 + MAX_PARAMETERS_CHARS);
    map.set(detached(keyword), detached(parameters));
  }
  return map;
}

/** Longest EHLO reply (characters over all its lines) whose parse is kept for the next connection. */
const MAX_REMEMBERED_REPLY_CHARS = 4096;
/** The last EHLO reply parsed by parseCapabilitiesOnce, and its map: the same server answers each connection alike. */
let rememberedLines: readonly string[] = [];
let rememberedMap: Map<string, string> | undefined = undefined;

/**
 * parseCapabilities, reusing the map of the previous call when its reply had the same lines: a
 * load run makes thousands of connections to one server, and parsing its EHLO reply afresh was
 * ~1.5 KB of garbage per connection (measured with V8's sampling heap profiler). The map is
 * shared: callers only read it (ReadonlyMap). Only a small reply is remembered (issue 19's bound).
 */
export function parseCapabilitiesOnce(lines: readonly string[]): ReadonlyMap<string, string> {
  if (rememberedMap !== undefined && hasSameLines(lines, rememberedLines)) return rememberedMap;
  const map = parseCapabilities(lines);
  let chars = 0;
  for (let i = 0; i < lines.length; i++) chars += lines[i]!.length;
  if (lines.length <= MAX_CAPABILITIES + 1 && chars <= MAX_REMEMBERED_REPLY_CHARS) {
    rememberedLines = lines.slice();
    rememberedMap = map;
  }
  return map;
}

function hasSameLines(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
