/**
 * Pure planning for the executors: when arrival-rate iterations start, and how many VUs a
 * ramping-vus scenario wants at any moment. No timers, no I/O: every function here is a
 * function of the options and a time, so the plans are tested by table without a clock.
 * All times are milliseconds since the scenario started.
 */
import type { ResolvedStage } from '../scenario/resolved-base.ts';

/**
 * Slack for float comparisons on iteration counts, relative to the count: the integral of a
 * rate summed over stages is a float, and 500 must not become 500.0000000001 → 501 arrivals.
 */
const COUNT_EPSILON = 1e-9;
/**
 * The most that slack may be, in iterations: relative slack alone would drop whole arrivals from
 * counts above 10^9 (1e6/s for 168 h planned 604 fewer), while float error stays far below this.
 */
const MAX_COUNT_SLACK = 1e-3;

/** The slack for a count (see COUNT_EPSILON, MAX_COUNT_SLACK). */
function countSlack(count: number): number {
  return Math.min(COUNT_EPSILON * Math.max(1, count), MAX_COUNT_SLACK);
}

/** Slack for VU counts computed by linear interpolation at a change instant (absolute VUs). */
const VU_EPSILON = 1e-9;

/**
 * Planned start instants (ms) of an arrival-rate scenario whose rate (iterations per
 * `timeUnitMs`) starts at `startRate` and moves linearly to each stage's `target` over its
 * duration. Iteration n (0-based) starts at the first instant after which the integral of
 * the rate exceeds n: at a constant rate r per unit U that is n·U/r (so the first starts at 0);
 * inside a ramp it is the root of a quadratic; a rate-0 stretch starts nothing and the next
 * iteration waits for the rate to rise again. Only instants before the end of the last stage
 * are planned. Lazy: a long run does not allocate its whole schedule; it yields exactly
 * `countArrivals(...)` instants, in increasing order.
 */
export function* arrivalTimesMs(
  startRate: number,
  stages: readonly ResolvedStage[],
  timeUnitMs: number,
): Generator<number, void, undefined> {
  const total = countArrivals(startRate, stages, timeUnitMs);
  let n = 0;
  let stageStartMs = 0;
  // Iterations planned by the integral of the rate up to the current stage's start.
  let countAtStageStart = 0;
  let fromRate = startRate;
  for (const stage of stages) {
    const durationMs = stage.durationMs;
    const toRate = stage.target;
    if (durationMs > 0) {
      const countAtStageEnd = countAtStageStart + stageArea(fromRate, toRate, durationMs, timeUnitMs);
      const limit = countAtStageEnd - countSlack(countAtStageEnd);
      // Iterations so far at offset τ: (fromRate·τ + halfSlope·τ²) / timeUnitMs.
      const halfSlope = (toRate - fromRate) / (2 * durationMs);
      while (n < total && n < limit) {
        // Solve halfSlope·τ² + fromRate·τ − k = 0 for τ ≥ 0, with k the part of iteration n
        // left to this stage (in rate·ms). This form of the root has no cancellation when
        // halfSlope is small and reduces to k/fromRate at a constant rate.
        const k = Math.max(0, n - countAtStageStart) * timeUnitMs;
        let offsetMs = 0;
        if (k > 0) {
          const discriminant = Math.max(0, fromRate * fromRate + 4 * halfSlope * k);
          offsetMs = (2 * k) / (fromRate + Math.sqrt(discriminant));
          if (offsetMs > durationMs) offsetMs = durationMs;
        }
        yield stageStartMs + offsetMs;
        n++;
      }
      countAtStageStart = countAtStageEnd;
    }
    stageStartMs += durationMs;
    fromRate = toRate;
  }
}

/** Planned start instants (ms) of a constant-arrival-rate scenario: `rate` per `timeUnitMs` for `durationMs`. */
export function constantArrivalTimesMs(rate: number, timeUnitMs: number, durationMs: number): Generator<number, void, undefined> {
  return arrivalTimesMs(rate, [{ durationMs, target: rate }], timeUnitMs);
}

/** How many iterations `arrivalTimesMs` plans for the same profile (the integral of the rate, rounded up). */
export function countArrivals(startRate: number, stages: readonly ResolvedStage[], timeUnitMs: number): number {
  let count = 0;
  let fromRate = startRate;
  for (const stage of stages) {
    if (stage.durationMs > 0) count += stageArea(fromRate, stage.target, stage.durationMs, timeUnitMs);
    fromRate = stage.target;
  }
  return count <= 0 ? 0 : Math.ceil(count - countSlack(count));
}

/** Iterations a linear ramp of the rate from `fromRate` to `toRate` plans over `durationMs`. */
function stageArea(fromRate: number, toRate: number, durationMs: number, timeUnitMs: number): number {
  return ((fromRate + toRate) * durationMs) / (2 * timeUnitMs);
}

/**
 * The planned arrival rate (iterations per `timeUnitMs`) at `tMs` into a ramping profile: the
 * linear ramp between stage targets (k6's ramping-arrival-rate); `startRate` before 0, 0 from the
 * end of the last stage on (nothing more is planned). What the live view shows as "planned".
 */
export function rateAt(startRate: number, stages: readonly ResolvedStage[], tMs: number): number {
  if (tMs < 0) return startRate;
  let fromRate = startRate;
  let stageStartMs = 0;
  for (const stage of stages) {
    const stageEndMs = stageStartMs + stage.durationMs;
    if (tMs < stageEndMs) return fromRate + ((stage.target - fromRate) * (tMs - stageStartMs)) / stage.durationMs;
    fromRate = stage.target;
    stageStartMs = stageEndMs;
  }
  return 0;
}

/** Total length (ms) of a list of stages. */
export function stagesDurationMs(stages: readonly ResolvedStage[]): number {
  let totalMs = 0;
  for (const stage of stages) totalMs += stage.durationMs;
  return totalMs;
}

/** The most VUs a ramping-vus profile ever wants: the largest of `startVUs` and every target. */
export function maxStageVus(startVUs: number, stages: readonly ResolvedStage[]): number {
  let max = startVUs;
  for (const stage of stages) if (stage.target > max) max = stage.target;
  return max;
}

/**
 * VUs a ramping-vus scenario wants at `tMs`. Rounds as k6 does: the count moves to a whole
 * number at the instant the linear ramp reaches it, so it is the ramp's value rounded down
 * while ramping up and rounded up while ramping down (0→10 over 10 s is 1 VU from 1 s on;
 * 10→0 over 10 s is still 10 VUs until 1 s). A zero-duration stage jumps at its instant.
 * Before 0 it is `startVUs`; from the end of the last stage on, the last target.
 */
export function vusAt(startVUs: number, stages: readonly ResolvedStage[], tMs: number): number {
  if (tMs < 0) return startVUs;
  let fromVus = startVUs;
  let stageStartMs = 0;
  for (const stage of stages) {
    const stageEndMs = stageStartMs + stage.durationMs;
    if (tMs < stageEndMs) {
      const exact = fromVus + ((stage.target - fromVus) * (tMs - stageStartMs)) / stage.durationMs;
      return stage.target >= fromVus ? Math.floor(exact + VU_EPSILON) : Math.ceil(exact - VU_EPSILON);
    }
    fromVus = stage.target;
    stageStartMs = stageEndMs;
  }
  return fromVus;
}

/** One step of a ramping-vus plan: from `atMs` on, `vus` VUs are wanted. */
export interface VuChange {
  atMs: number;
  vus: number;
}

/**
 * Every instant where the VUs wanted by a ramping-vus profile change, in order, with the new
 * count (consistent with `vusAt`: `vusAt(c.atMs) === c.vus`). Starts from `startVUs` at 0,
 * which is not listed; changes at one instant (zero-duration stages) are merged. The executor
 * waits only for these instants.
 */
export function vuChanges(startVUs: number, stages: readonly ResolvedStage[]): VuChange[] {
  const changes: VuChange[] = [];
  const push = (atMs: number, vus: number): void => {
    const last = changes[changes.length - 1];
    if (last !== undefined && last.atMs === atMs) {
      const before = changes.length > 1 ? changes[changes.length - 2]!.vus : startVUs;
      if (vus === before) changes.pop();
      else last.vus = vus;
    } else if (vus !== (last === undefined ? startVUs : last.vus)) {
      changes.push({ atMs, vus });
    }
  };
  let fromVus = startVUs;
  let stageStartMs = 0;
  for (const stage of stages) {
    const durationMs = stage.durationMs;
    const toVus = stage.target;
    if (durationMs === 0) {
      push(stageStartMs, toVus);
    } else if (toVus > fromVus) {
      const span = toVus - fromVus;
      for (let vus = fromVus + 1; vus <= toVus; vus++) push(stageStartMs + (durationMs * (vus - fromVus)) / span, vus);
    } else if (toVus < fromVus) {
      const span = fromVus - toVus;
      for (let vus = fromVus - 1; vus >= toVus; vus--) push(stageStartMs + (durationMs * (fromVus - vus)) / span, vus);
    }
    fromVus = toVus;
    stageStartMs += durationMs;
  }
  return changes;
}

/** Sizes of the batches that send `total` messages `size` at a time (the last may be smaller). */
export function batchSizes(total: number, size: number): number[] {
  const sizes: number[] = [];
  if (size <= 0) return sizes;
  for (let sent = 0; sent < total; sent += size) sizes.push(Math.min(size, total - sent));
  return sizes;
}

/**
 * The stages cut at `tMs`: whole stages before it, the one it falls in shortened to end there
 * (its target the ramp's value at `tMs`), none after. Rates and VUs ramp linearly, so the cut
 * profile is the original one up to `tMs`.
 */
export function stagesUntil(startValue: number, stages: readonly ResolvedStage[], tMs: number): ResolvedStage[] {
  const cut: ResolvedStage[] = [];
  let from = startValue;
  let stageStartMs = 0;
  for (const stage of stages) {
    if (stageStartMs >= tMs) break;
    const stageEndMs = stageStartMs + stage.durationMs;
    if (stageEndMs <= tMs) cut.push({ durationMs: stage.durationMs, target: stage.target });
    else {
      const partMs = tMs - stageStartMs;
      cut.push({ durationMs: partMs, target: from + ((stage.target - from) * partMs) / stage.durationMs });
    }
    from = stage.target;
    stageStartMs = stageEndMs;
  }
  return cut;
}

/**
 * Arrivals `arrivalTimesMs` plans strictly before `tMs`: the integral of the rate up to `tMs`,
 * rounded up (arrival n starts where the integral reaches n). Arrivals in [a, b) are
 * `arrivalsBeforeMs(b) - arrivalsBeforeMs(a)`, without generating them.
 */
export function arrivalsBeforeMs(startRate: number, stages: readonly ResolvedStage[], timeUnitMs: number, tMs: number): number {
  if (tMs <= 0) return 0;
  return countArrivals(startRate, stagesUntil(startRate, stages, tMs), timeUnitMs);
}

/** The most VUs a ramping-vus profile wants at any moment of [fromMs, toMs) (see `vusAt`). */
export function maxVusIn(startVUs: number, stages: readonly ResolvedStage[], fromMs: number, toMs: number): number {
  let max = vusAt(startVUs, stages, fromMs);
  for (const change of vuChanges(startVUs, stages)) {
    if (change.atMs >= toMs) break;
    if (change.atMs > fromMs && change.vus > max) max = change.vus;
  }
  return max;
}

/**
 * A constant-arrival-rate schedule whose rate can be changed while it runs (`runner scale
 * --rate`, PATCH /v1/status {"rate": …}), as one schedule: the planned count is the integral of
 * the rate, so a change at `atMs` keeps every arrival planned before it, and the next one comes
 * when the integral at the new rate reaches the next whole arrival: the part of an interval that
 * had passed at the change counts, nothing is lost and nothing bunches up to catch up. Until the
 * first change its instants are exactly `constantArrivalTimesMs`'s (what inspect plans). An
 * iterator of instants (ms, increasing, all before `endMs`); `next` is pulled one ahead by the
 * executor, which re-pulls when `setRate` says the instant it holds moved.
 */
export class SteerableArrivals implements Iterator<number, undefined> {
  private readonly timeUnitMs: number;
  private readonly endMs: number;
  /** Until the first change: the planned schedule itself. */
  private planned: Generator<number, void, undefined> | undefined;
  /** Arrivals handed out so far (by `next`). */
  private yielded = 0;
  /** The rate now (per timeUnit), and the instant and integral (arrivals, fractional) it applies from. */
  private rate: number;
  private anchorMs = 0;
  private anchorCount = 0;

  constructor(rate: number, timeUnitMs: number, endMs: number) {
    this.rate = rate;
    this.timeUnitMs = timeUnitMs;
    this.endMs = endMs;
    this.planned = constantArrivalTimesMs(rate, timeUnitMs, endMs);
  }

  /** The rate now, per timeUnit. */
  get ratePerUnit(): number {
    return this.rate;
  }

  next(): IteratorResult<number, undefined> {
    if (this.planned !== undefined) {
      const next = this.planned.next();
      if (next.done === true) return { done: true, value: undefined };
      this.yielded++;
      return { done: false, value: next.value };
    }
    // Arrival k comes when the integral reaches k: anchorMs + (k − anchorCount)·unit/rate.
    const k = this.yielded;
    const atMs = this.anchorMs + (Math.max(0, k - this.anchorCount) * this.timeUnitMs) / this.rate;
    const countAtEnd = this.anchorCount + ((this.endMs - this.anchorMs) * this.rate) / this.timeUnitMs;
    if (!(k < countAtEnd - countSlack(countAtEnd)) || atMs >= this.endMs) return { done: true, value: undefined };
    this.yielded++;
    return { done: false, value: atMs };
  }

  /**
   * From `atMs` on (scenario time, now) the rate is `rate` per timeUnit (> 0). Returns true when
   * the last instant handed out lies after `atMs`: it was planned at the old rate and is taken
   * back, so the caller must pull `next` again (the others before `atMs` stand).
   */
  setRate(rate: number, atMs: number): boolean {
    const countAtChange = this.anchorCount + (Math.max(0, atMs - this.anchorMs) * this.rate) / this.timeUnitMs;
    this.planned = undefined;
    this.anchorMs = Math.max(atMs, this.anchorMs);
    this.anchorCount = countAtChange;
    this.rate = rate;
    // Arrival k was planned at or before atMs iff k ≤ countAtChange: those stand.
    const standing = Math.floor(countAtChange + countSlack(countAtChange)) + 1;
    if (this.yielded <= standing) return false;
    this.yielded = standing;
    return true;
  }
}
