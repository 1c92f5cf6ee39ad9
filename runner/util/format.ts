/**
 * Numbers, sizes, latencies and times for people. No locale anywhere: the same text on every
 * machine, so outputs can be compared and grepped.
 */

/** `value` rounded to `digits` decimals, as a number (for JSON figures; text uses toFixed). */
export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A figure of unknown scale: integers as they are, others with up to 4 decimals ('0.25', '12'). */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4).replace(/0+$/, '');
}

/** A size in bytes, binary units, at most one decimal (two in GiB): '512 bytes', '1.5 KiB', '50 MiB'. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 ** 2) return `${+(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${+(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${+(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** A latency given in seconds: '612µs', '12.35ms', '1.234s'; '-' for none. */
export function formatLatency(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds >= 1) return `${seconds.toFixed(3)}s`;
  if (seconds >= 0.001) return `${(seconds * 1000).toFixed(2)}ms`;
  return `${Math.round(seconds * 1e6)}µs`;
}

/**
 * Milliseconds at sweep scale: '123 ms', '12.3 ms', '12 ms' (no trailing zero); '-' for none.
 * `isUnitShown: false` for a table column whose header names the unit: '123', '12.3'.
 */
export function formatMs(ms: number | null, options: { isUnitShown?: boolean } = {}): string {
  if (ms === null) return '-';
  const number = ms >= 100 ? String(Math.round(ms)) : String(+ms.toFixed(1));
  return options.isUnitShown === false ? number : `${number} ms`;
}

/**
 * An ISO timestamp to the second, e.g. '2025-01-31 14:05:09' (' UTC' appended when `isUtcShown` and
 * the timestamp ends in Z); text that does not start like an ISO timestamp comes back as is.
 */
export function formatTimestamp(iso: string, options: { isUtcShown?: boolean } = {}): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  if (!match) return iso;
  return `${match[1]} ${match[2]}${options.isUtcShown && /Z$/i.test(iso) ? ' UTC' : ''}`;
}

/** A signed percentage of a fraction: '+140%', '−63%', '+4.2%', '0%' (typographic minus); '-' for none. */
export function formatPercent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '-';
  const percent = fraction * 100;
  const magnitude = Math.abs(percent);
  const digits = magnitude >= 10 || magnitude === 0 ? 0 : 1;
  const text = magnitude.toFixed(digits);
  if (Number(text) === 0) return '0%';
  return `${percent < 0 ? '−' : '+'}${text}%`;
}

/**
 * A measured figure rounded for reading: integers as they are, 1769.0182 → '1769', 12.3456 →
 * '12.35', 0.012345 → '0.0123' (three significant digits below 1).
 */
export function formatRounded(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return String(Math.round(value));
  if (magnitude >= 1) return String(+value.toFixed(2));
  return String(+value.toPrecision(3));
}

/** A fraction 0..1 as a percentage with up to two decimals: 0.0205 → '2.05%', 0.01 → '1%'. */
export function formatFractionPercent(fraction: number): string {
  return `${+(fraction * 100).toFixed(2)}%`;
}

/** `text` cut to at most `maxChars` characters, the cut marked with an ellipsis ('…'). */
export function clipText(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, Math.max(0, maxChars - 1)).trimEnd()}…`;
}
