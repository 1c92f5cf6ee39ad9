/**
 * Types of the scripting helpers (check, ctx.group, sleep), a leaf: the SMTP layer's
 * IterationContext names them without depending on their implementation.
 */

/** A check's condition: a function of the value (a truthy result passes), or a value judged as truthy. */
export type CheckCondition<T> = ((value: T) => unknown) | boolean;

/** Named conditions, as in k6: `{ 'accepted': (r) => r.code === 250 }`. */
export type CheckSets<T> = Record<string, CheckCondition<T>>;

/** A duration: seconds as a number (k6), or a string with a unit ('250ms', '1.5s', '1m'). */
export type ThinkDuration = number | string;

/** Think time: a fixed duration, a uniform range, or a distribution around a mean. */
export type ThinkTime =
  | ThinkDuration
  | { min: ThinkDuration; max: ThinkDuration }
  | { distribution: 'exponential'; mean: ThinkDuration }
  | { distribution: 'normal'; mean: ThinkDuration; stddev: ThinkDuration };
