/**
 * Durations as users write them: '250ms', '30s', '5m', '1h', '1h30m', '1.5s', or a number of
 * milliseconds. Returns milliseconds; throws a RangeError whose message says what is accepted.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/** Parses a duration into milliseconds. */
export function parseDurationMs(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`duration ${value} must be a number of milliseconds >= 0`);
    return value;
  }
  const text = value.trim();
  if (text === '' ) throw new RangeError(`empty duration: use e.g. '30s', '5m', '1h30m'`);
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  PART.lastIndex = 0;
  let totalMs = 0;
  let consumed = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    totalMs += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed = PART.lastIndex;
  }
  if (consumed !== text.length) throw new RangeError(`'${value}' is not a duration: use e.g. '250ms', '30s', '5m', '1h30m'`);
  return totalMs;
}

/** Formats milliseconds for people: '850ms', '12.5s', '5m', '1h2m3s'. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(2)}s`;
  let rest = Math.round(ms / 1000);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  return `${h ? h + 'h' : ''}${m ? m + 'm' : ''}${s ? s + 's' : ''}` || '0s';
}
