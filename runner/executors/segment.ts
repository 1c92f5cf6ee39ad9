/**
 * Execution segments, with k6's semantics: a run's whole plan is the interval (0, 1]; a
 * segment `from:to` is one part of it, and the segments of one sequence (`0,1/4,2/4,3/4,1`)
 * split every count of the plan so that their parts add up *exactly* to the whole. Each
 * process computes its own share from its segment and the sequence alone, without talking to
 * the others.
 *
 * The split is a stripe, not a range: the sequence's fractions are brought to their lowest
 * common denominator `lcd`, and the positions 0..lcd-1 are dealt out to the segments (each
 * gets its numerator's count of every lcd), spread as evenly as possible. Position p of a
 * whole plan's things (the p-th VU, the p-th arrival) belongs to the segment that owns
 * `p mod lcd`. So:
 * - a count N (VUs, iterations, preAllocatedVUs) is split as `shareOf`: how many of the
 *   positions 0..N-1 a segment owns; the segments' counts sum to N for every N, and a count
 *   that grows never shrinks a segment's share (ramping VUs stay exact at every instant);
 * - an arrival schedule is split by index: arrival n of the whole plan is started by the
 *   segment that owns n, at the same instant, so the segments' schedules interleave into the
 *   whole one, instant for instant.
 * Times (startTime, durations, stages' lengths, gracefulStop) are not split: every segment
 * runs over the whole plan's clock.
 *
 * Pure functions; fractions as reduced integer pairs (exact, no float drift).
 */

/** A rational number num/den, reduced, den > 0. */
export interface Fraction {
  readonly num: number;
  readonly den: number;
}

/** One segment (from, to] of the whole plan, 0 <= from < to <= 1. */
export interface ExecutionSegment {
  readonly from: Fraction;
  readonly to: Fraction;
}

/**
 * What one segment of one sequence owns: the positions `owned` of every `lcd` (sorted,
 * 0-based). `isWhole` for the undivided plan (lcd 1, position 0).
 */
export interface SegmentStripe {
  /** The segment as text ('1/4:1/2'), for the console and results file. */
  readonly label: string;
  /** The sequence, filled to 0..1, as text ('0,1/4,1/2,3/4,1'). */
  readonly sequence: string;
  /** This segment's index in the filled sequence. */
  readonly index: number;
  readonly lcd: number;
  /** Sorted positions in [0, lcd) this segment owns. */
  readonly owned: readonly number[];
  /** Whether position p (0..lcd-1) is owned; same content as `owned`. */
  readonly isOwned: readonly boolean[];
  readonly isWhole: boolean;
}

/** The largest lowest common denominator accepted: a stripe holds lcd booleans. */
export const MAX_SEGMENT_LCD = 1_000_000;

/** Thrown for a segment or sequence that cannot be read or does not fit; the message says which and why. */
export class SegmentSyntaxError extends Error {
  override name = 'SegmentSyntaxError';
}

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** num/den reduced. */
export function fraction(num: number, den: number): Fraction {
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den) || den === 0) throw new SegmentSyntaxError(`${num}/${den} is not a fraction`);
  const sign = den < 0 ? -1 : 1;
  const divisor = gcd(num, den) || 1;
  return { num: (sign * num) / divisor, den: (sign * den) / divisor };
}

function compare(a: Fraction, b: Fraction): number {
  return a.num * b.den - b.num * a.den;
}

function subtract(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den - b.num * a.den, a.den * b.den);
}

/** '1/4', '3/4', '0', '1' (fractions as k6 writes them). */
export function formatFraction(value: Fraction): string {
  return value.den === 1 ? String(value.num) : `${value.num}/${value.den}`;
}

/**
 * Reads one point: a fraction ('1/4'), a decimal ('0.25') or a percentage ('25%', '12.5%'),
 * as k6 accepts them.
 */
export function parseFraction(text: string): Fraction {
  const trimmed = text.trim();
  const percent = trimmed.endsWith('%');
  const body = percent ? trimmed.slice(0, -1) : trimmed;
  let value: Fraction;
  const ratio = /^(\d+)\s*\/\s*(\d+)$/.exec(body);
  const decimal = /^(\d+)(?:\.(\d+))?$/.exec(body);
  if (ratio && !percent) {
    if (Number(ratio[2]) === 0) throw new SegmentSyntaxError(`'${text}' divides by 0`);
    value = fraction(Number(ratio[1]), Number(ratio[2]));
  } else if (decimal) {
    const decimals = decimal[2] ?? '';
    if (decimals.length > 9) throw new SegmentSyntaxError(`'${text}' has more than 9 decimals: write it as a fraction`);
    value = fraction(Number(decimal[1]! + decimals), 10 ** decimals.length * (percent ? 100 : 1));
  } else {
    throw new SegmentSyntaxError(`'${text}' is not a fraction (1/4), a decimal (0.25) or a percentage (25%)`);
  }
  if (compare(value, fraction(1, 1)) > 0) throw new SegmentSyntaxError(`'${text}' is more than 1: segments lie between 0 and 1`);
  return value;
}

/** Reads `from:to` ('1/4:2/4'), or a lone `to` meaning `0:to` (k6's shorthand). */
export function parseSegment(text: string): ExecutionSegment {
  const parts = text.split(':');
  if (parts.length > 2) throw new SegmentSyntaxError(`'${text}' has more than one ':': write from:to, e.g. 1/4:2/4`);
  const from = parts.length === 2 ? parseFraction(parts[0]!) : fraction(0, 1);
  const to = parseFraction(parts[parts.length - 1]!);
  if (compare(from, to) >= 0) throw new SegmentSyntaxError(`'${text}' starts at or after its end: from must be less than to`);
  return { from, to };
}

/** Reads a sequence of points '0,1/4,2/4,3/4,1' (at least two, strictly increasing). */
export function parseSequence(text: string): Fraction[] {
  const points = text.split(',').map(parseFraction);
  if (points.length < 2) throw new SegmentSyntaxError(`'${text}' has ${points.length} point: a sequence needs at least two, e.g. 0,1/2,1`);
  for (let i = 1; i < points.length; i++) {
    if (compare(points[i - 1]!, points[i]!) >= 0) {
      throw new SegmentSyntaxError(`'${text}': ${formatFraction(points[i]!)} does not come after ${formatFraction(points[i - 1]!)}; points must increase`);
    }
  }
  return points;
}

/** The segment as 'from:to'. */
export function formatSegment(segment: ExecutionSegment): string {
  return `${formatFraction(segment.from)}:${formatFraction(segment.to)}`;
}

/** The whole plan's stripe: owns everything. */
export const WHOLE_STRIPE: SegmentStripe = { label: '0:1', sequence: '0,1', index: 0, lcd: 1, owned: [0], isOwned: [true], isWhole: true };

/**
 * The N equal segments' sequence (`--workers N`): 0, 1/N, ..., 1.
 */
export function evenSequence(count: number): Fraction[] {
  const points: Fraction[] = [];
  for (let i = 0; i <= count; i++) points.push(fraction(i, count));
  return points;
}

/**
 * The stripe of `segment` in `sequence` (k6: `--execution-segment` with
 * `--execution-segment-sequence`). Without a sequence, the segment's own points with 0 and 1
 * (k6's default). The sequence is filled to start at 0 and end at 1; the segment must be one
 * of its consecutive pairs.
 */
export function stripeOf(segment: ExecutionSegment, sequence?: readonly Fraction[]): SegmentStripe {
  const points = [...(sequence ?? [segment.from, segment.to])];
  if (compare(points[0]!, fraction(0, 1)) !== 0) points.unshift(fraction(0, 1));
  if (compare(points[points.length - 1]!, fraction(1, 1)) !== 0) points.push(fraction(1, 1));
  const index = points.findIndex((point, i) => i + 1 < points.length && compare(point, segment.from) === 0 && compare(points[i + 1]!, segment.to) === 0);
  const sequenceText = points.map(formatFraction).join(',');
  if (index < 0) {
    throw new SegmentSyntaxError(`segment ${formatSegment(segment)} is not one of the sequence ${sequenceText}'s segments: use two consecutive points of it`);
  }
  const lengths = points.slice(1).map((point, i) => subtract(point, points[i]!));
  let lcd = 1;
  for (const length of lengths) {
    lcd = (lcd / gcd(lcd, length.den)) * length.den;
    if (lcd > MAX_SEGMENT_LCD) throw new SegmentSyntaxError(`the sequence ${sequenceText} needs a common denominator above ${MAX_SEGMENT_LCD}: use simpler fractions`);
  }
  const shares = lengths.map((length) => (length.num * lcd) / length.den);
  const owners = dealPositions(shares, lcd);
  const owned: number[] = [];
  const isOwned = new Array<boolean>(lcd).fill(false);
  for (let p = 0; p < lcd; p++) {
    if (owners[p] === index) {
      owned.push(p);
      isOwned[p] = true;
    }
  }
  return { label: formatSegment(segment), sequence: sequenceText, index, lcd, owned, isOwned, isWhole: lcd === 1 };
}

/**
 * Deals the positions 0..lcd-1 to segments with `shares` (summing to lcd): at each position
 * the largest segment (ties: the earlier) whose next share is due takes it; segment s's k-th
 * position is due from position k·lcd/share_s on. Spreads each segment's positions evenly, so
 * any prefix of positions is split in proportion (within one position per segment).
 */
export function dealPositions(shares: readonly number[], lcd: number): number[] {
  const order = shares.map((share, index) => ({ share, index })).sort((a, b) => b.share - a.share || a.index - b.index);
  const taken = new Array<number>(shares.length).fill(0);
  const owners = new Array<number>(lcd);
  for (let p = 0; p < lcd; p++) {
    let chosen = -1;
    for (const { share, index } of order) {
      // Due when p >= taken·lcd/share, i.e. p·share >= taken·lcd (integers: exact).
      if (share > 0 && taken[index]! < share && p * share >= taken[index]! * lcd) {
        chosen = index;
        break;
      }
    }
    if (chosen < 0) {
      // Not reachable when the shares sum to lcd (each segment's due positions come no later
      // than its share allows); kept as a guard, choosing the segment furthest behind.
      let best = -1;
      for (let s = 0; s < shares.length; s++) if (taken[s]! < shares[s]! && (best < 0 || taken[s]! * shares[best]! < taken[best]! * shares[s]!)) best = s;
      chosen = best;
    }
    owners[p] = chosen;
    taken[chosen]!++;
  }
  return owners;
}

/** This segment's share of a count: how many of positions 0..value-1 it owns. Sums to `value` over a sequence. */
export function shareOf(stripe: SegmentStripe, value: number): number {
  if (stripe.isWhole || value <= 0) return Math.max(0, value);
  const whole = Math.floor(value / stripe.lcd);
  const rest = value - whole * stripe.lcd;
  let count = whole * stripe.owned.length;
  for (const p of stripe.owned) {
    if (p >= rest) break;
    count++;
  }
  return count;
}

/** Whether the whole plan's thing number `index` (0-based: a VU, an arrival) belongs to this segment. */
export function ownsIndex(stripe: SegmentStripe, index: number): boolean {
  return stripe.isWhole || stripe.isOwned[index % stripe.lcd] === true;
}

/**
 * This segment's part of a whole plan's arrival instants: those whose index it owns, at the
 * same instants. Lazy, like the schedules it filters.
 */
export function* segmentArrivals(stripe: SegmentStripe, arrivals: Iterable<number>): Generator<number, void, undefined> {
  let index = 0;
  for (const atMs of arrivals) {
    if (ownsIndex(stripe, index)) yield atMs;
    index++;
  }
}

/** The 0-based index of this segment's `localIndex`-th thing in the whole plan (its VU ids in the test). */
export function globalIndexOf(stripe: SegmentStripe, localIndex: number): number {
  if (stripe.isWhole) return localIndex;
  const share = stripe.owned.length;
  return Math.floor(localIndex / share) * stripe.lcd + stripe.owned[localIndex % share]!;
}

/**
 * This segment's part of a stepwise VU plan (ramping-vus): at each instant the whole plan
 * wants `vus` VUs, this segment wants its share of them (`shareOf`), so the segments' VUs
 * sum to the whole plan's at every instant. Steps that do not change this segment's count are
 * left out.
 */
export function segmentVuSteps<Step extends { atMs: number; vus: number }>(stripe: SegmentStripe, startVus: number, steps: readonly Step[]): Step[] {
  const result: Step[] = [];
  let last = shareOf(stripe, startVus);
  for (const step of steps) {
    const vus = shareOf(stripe, step.vus);
    if (vus === last) continue;
    result.push({ ...step, vus });
    last = vus;
  }
  return result;
}

/** ' (segment 1/4:1/2 of 0,1/4,1/2,3/4,1)' for a description, '' for the whole plan. */
export function describeSegmentSuffix(stripe: SegmentStripe | undefined): string {
  return stripe === undefined || stripe.isWhole ? '' : ` (segment ${stripe.label} of ${stripe.sequence})`;
}

/** The results file's fields for a segment ({} for the whole plan). */
export function describeSegmentConfig(stripe: SegmentStripe | undefined): Record<string, unknown> {
  return stripe === undefined || stripe.isWhole ? {} : { execution_segment: stripe.label, execution_segment_sequence: stripe.sequence };
}

/** The problem of a share that has work but no VU to do it, with what to change. */
export function noVuProblem(stripe: SegmentStripe, work: string, vuOption: string, total: number): string {
  const segments = stripe.sequence.split(',').length - 1;
  return `segment ${stripe.label} gets ${work} but none of the ${total} ${vuOption}: raise ${vuOption} (every one of the ${segments} segments needs at least one) or split into fewer segments`;
}
