/**
 * The one rate syntax runner reads, for per-account limits (`accounts.rate`) and for a rate set
 * while a run goes (`runner scale --rate`): a count per unit, `'100/m'`, `'10/s'`, `'3600/h'`,
 * `'5/2s'`. A leaf: no import.
 */

const RATE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d*)\s*(ms|s|m|h)\s*$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A rate as written, as a count per span of ms: '100/m' → 100 per 60 000; throws a RangeError saying what is accepted. */
function parseRate(rate: string): { count: number; spanMs: number } {
  const match = RATE_PATTERN.exec(rate);
  if (match === null || !(Number(match[1]) > 0)) throw new RangeError(`'${rate}' is not a rate: write messages per unit, e.g. '100/m', '10/s' or '3600/h'`);
  const unitMs = UNIT_MS[match[3] as keyof typeof UNIT_MS];
  const spanMs = (match[2] === '' ? 1 : Number(match[2])) * unitMs;
  // '1/0s' would be an interval of 0 (no limit at all) or an infinite rate
  if (spanMs === 0) throw new RangeError(`'${rate}' is not a rate: the span after '/' must be > 0, e.g. '100/m', '10/s' or '5/2s'`);
  return { count: Number(match[1]), spanMs };
}

/** Milliseconds between two starts of a rate as written: '100/m' → 600; '10/s', '3600/h', '5/2s'. Throws a RangeError saying what is accepted. */
export function parseRateIntervalMs(rate: string): number {
  const { count, spanMs } = parseRate(rate);
  return spanMs / count;
}

/**
 * A rate per second from a rate as written ('200/m' → 3.333…, '5/s' → 5) or a plain number per
 * second ('20', or a number). Throws a RangeError saying what is accepted when it is not a rate
 * > 0 (negative, zero, not a number).
 */
export function parseRatePerSecond(rate: string | number): number {
  const text = String(rate).trim();
  if (typeof rate === 'number' || /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text)) {
    const perSecond = Number(text);
    if (!Number.isFinite(perSecond) || perSecond <= 0) throw new RangeError(`rate ${text} must be > 0: give iterations per second (20) or per unit ('200/m', '5/s')`);
    return perSecond;
  }
  if (/^\s*-/.test(text)) throw new RangeError(`rate '${text}' is negative: give iterations per second (20) or per unit ('200/m', '5/s'), > 0`);
  let parsed: { count: number; spanMs: number };
  try {
    parsed = parseRate(text);
  } catch {
    throw new RangeError(`'${text}' is not a rate: give iterations per second (20) or per unit ('200/m', '5/s', '3600/h')`);
  }
  // count × 1000 / span: '900/m' is exactly 15, not 1000 / 66.666…
  return (parsed.count * 1000) / parsed.spanMs;
}
