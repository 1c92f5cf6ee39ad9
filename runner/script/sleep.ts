/**
 * Think time, as k6's `sleep()`: `await sleep(1)`, `sleep('250ms')`, `sleep({ min: '200ms', max: '2s' })`
 * (uniform), `sleep({ mean: '1s', distribution: 'exponential' })`, `sleep({ mean: '1s', stddev: '200ms',
 * distribution: 'normal' })` (clamped at 0 and at 3 standard deviations above the mean).
 *
 * A sleeping VU wakes early when the test stops (wakeSleepers), so think time never holds a stop
 * beyond its gracefulStop. Think time counts in iteration_duration but in no SMTP figure: a message's
 * latency starts at its first command; ctx.sleep() also moves the iteration's response-time base
 * (arrival-rate executors) past the sleep.
 */
import { parseDurationMs } from '../scenario/duration.ts';
import type { RandomSource } from '../random.ts';

import type { ThinkDuration, ThinkTime } from './types.ts';

export type { ThinkDuration, ThinkTime } from './types.ts';

/** A think time with its durations in ms, checked: what drawThinkTimeMs draws from. */
export type ThinkTimePlan =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'exponential'; meanMs: number }
  | { kind: 'normal'; meanMs: number; stddevMs: number };

function durationMs(value: ThinkDuration, what: string): number {
  const wrong = `${what}: ${value === undefined ? 'missing' : JSON.stringify(value)} is not a duration of 0 or more (seconds as a number, or '250ms', '2s')`;
  // k6's sleep takes seconds; a string carries its unit (a bare '2' would read as 2 ms: refused, a k6 user means seconds).
  if (typeof value === 'string' && /^\s*[\d.]+\s*$/.test(value)) throw new TypeError(`${what}: '${value.trim()}' has no unit: write '${value.trim()}s' (seconds) or '${value.trim()}ms'`);
  let ms: number;
  if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string') {
    try {
      ms = parseDurationMs(value);
    } catch {
      throw new TypeError(wrong);
    }
  } else throw new TypeError(wrong);
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(wrong);
  return ms;
}

/** Parses a ThinkTime (or the `--think-time` text `200ms..2s`) into a plan; throws TypeError saying what is wrong. */
export function planThinkTime(spec: ThinkTime, what = 'sleep'): ThinkTimePlan {
  if (typeof spec === 'string' && spec.includes('..')) {
    const [min, max, ...rest] = spec.split('..');
    if (rest.length || !min || !max) throw new TypeError(`${what}: '${spec}' is not a range; write MIN..MAX, e.g. 200ms..2s`);
    return planThinkTime({ min: min.trim(), max: max.trim() }, what);
  }
  if (typeof spec === 'number' || typeof spec === 'string') return { kind: 'fixed', ms: durationMs(spec, what) };
  if (spec === null || typeof spec !== 'object') throw new TypeError(`${what}: expected seconds, a duration string, { min, max } or { distribution, mean }`);
  if ('min' in spec || 'max' in spec) {
    const { min, max } = spec as { min: ThinkDuration; max: ThinkDuration };
    const minMs = durationMs(min, `${what}.min`);
    const maxMs = durationMs(max, `${what}.max`);
    if (maxMs < minMs) throw new TypeError(`${what}: max (${max}) is below min (${min}); swap them`);
    return { kind: 'uniform', minMs, maxMs };
  }
  const { distribution } = spec as { distribution: unknown };
  if (distribution === 'exponential') return { kind: 'exponential', meanMs: durationMs(spec.mean, `${what}.mean`) };
  if (distribution === 'normal') {
    const normal = spec as { mean: ThinkDuration; stddev: ThinkDuration };
    return { kind: 'normal', meanMs: durationMs(normal.mean, `${what}.mean`), stddevMs: durationMs(normal.stddev, `${what}.stddev`) };
  }
  throw new TypeError(`${what}: unknown distribution ${JSON.stringify(distribution)}; use 'exponential' or 'normal', or { min, max } for a uniform range`);
}

/** One draw of think time in ms from a plan, with `random` uniform in [0, 1). Pure. */
export function drawThinkTimeMs(plan: ThinkTimePlan, random: RandomSource = Math.random): number {
  switch (plan.kind) {
    case 'fixed':
      return plan.ms;
    case 'uniform':
      return plan.minMs + random() * (plan.maxMs - plan.minMs);
    case 'exponential':
      // Inverse CDF; 1 - u is in (0, 1], so the log is finite.
      return -plan.meanMs * Math.log(1 - random());
    case 'normal': {
      // Box–Muller, clamped to [0, mean + 3σ] so one draw cannot stall a VU for long.
      const u = 1 - random();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
      const ms = plan.meanMs + z * plan.stddevMs;
      return Math.min(Math.max(0, ms), plan.meanMs + 3 * plan.stddevMs);
    }
  }
}

const sleepers = new Set<() => void>();

/** The longest delay setTimeout takes (a longer one fires at once, with a warning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Wakes every sleeping VU at once (the test is stopping). */
export function wakeSleepers(): void {
  for (const wake of [...sleepers]) wake();
  sleepers.clear();
}

/** Waits `ms` milliseconds, or less when the test stops; resolves with the ms actually slept. */
export function sleepMs(ms: number): Promise<number> {
  const startMs = performance.now();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const wake = (): void => {
      clearTimeout(timer);
      sleepers.delete(wake);
      resolve(performance.now() - startMs);
    };
    // setTimeout fires at once past 2^31 - 1 ms (~24.8 days): a longer sleep re-arms until its end (or a stop wakes it).
    const endMs = startMs + ms;
    const arm = (): void => {
      const leftMs = endMs - performance.now();
      timer = setTimeout(leftMs > MAX_TIMER_MS ? arm : wake, Math.min(Math.max(0, leftMs), MAX_TIMER_MS));
    };
    arm();
    sleepers.add(wake);
  });
}

/** Where the warning about a sleep that was not awaited goes (stderr unless the engine points it elsewhere). */
let reportNotAwaited: (message: string) => void = (message) => process.stderr.write(`warning: ${message}\n`);

/** Sends the warning about a sleep() not awaited to `warn` (the engine's warnOnce sink). */
export function setSleepWarningSink(warn: (message: string) => void): void {
  reportNotAwaited = warn;
}

/**
 * A sleep's promise that notes whether anyone waits for it: `await` (and `.then`) call `then`
 * within a microtask, long before the timer fires. Its `then` answers plain Promises.
 */
class AwaitedSleep extends Promise<number> {
  isAwaited = false;

  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  override then<A = number, B = never>(onFulfilled?: ((value: number) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.isAwaited = true;
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * Think time (k6's sleep; see the module comment). Unlike k6's it is async: `sleep(1)` without
 * `await` does not pause (the k6 habit); when a sleep ends without anyone having waited for it, a
 * warning says so (once per run).
 */
export function sleep(spec: ThinkTime): Promise<number> {
  return awaitedSleep(drawThinkTimeMs(planThinkTime(spec)), 'sleep');
}

/**
 * Sleeps `ms` (sleepMs), warning when nobody awaited it (`what`: 'sleep' or 'ctx.sleep');
 * `onSlept` runs before the promise resolves (ctx.sleep moves the response-time base there).
 */
export function awaitedSleep(ms: number, what: string, onSlept?: (sleptMs: number) => void): Promise<number> {
  let tracked: AwaitedSleep | undefined;
  tracked = new AwaitedSleep((resolve) => {
    void sleepMs(ms).then((slept) => {
      if (tracked !== undefined && !tracked.isAwaited) {
        reportNotAwaited(`${what}() was not awaited, so the iteration did not pause: write await ${what}(...) (runner's sleep is async, unlike k6's)`);
      }
      onSlept?.(slept);
      resolve(slept);
    });
  });
  return tracked;
}
