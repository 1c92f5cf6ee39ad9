/**
 * The one place where scenario code's promises get a deadline. Scenario code (setup, teardown,
 * iteration, handleSummary) is the user's: it may return a promise that never settles. Nothing
 * that runner awaits from it is awaited without a bound:
 *
 * - `setup()`: at most `setupTimeout` (default 60 s, as k6); past it the run stops before any
 *   load, writes every output (aborted, zero load, the reason), exit 100 (ScriptTimeoutError).
 * - `teardown()`: at most `teardownTimeout` (default 60 s); past it runner says so, still writes
 *   every output, and exits 101.
 * - `iteration()`: while the scenario runs, as long as it likes (that is its load); once the
 *   scenario ends, at most its `gracefulStop`; past it the iteration is abandoned — its
 *   connection destroyed, counted as interrupted (scenario-run.ts `interruptBusy`) — and the
 *   SMTP steps it may still call reject (`abandonableSteps`).
 * - `handleSummary()`: at most `teardownTimeout`; past it the default console summary prints.
 *
 * Abandoning cannot stop the code itself (JavaScript has no way to cancel a promise chain); it
 * stops runner from waiting for it and from counting anything it does afterwards. A synchronous
 * endless loop never yields to this: see engine/stall-watchdog.ts.
 */
import type { SmtpSteps } from '../smtp/api.ts';
import { SmtpStepError } from '../smtp/api.ts';

/** What became of scenario code given a deadline. */
export type Settled<T> = { isTimedOut: false; value: T } | { isTimedOut: true };

/**
 * Runs `code` and waits for it at most `timeoutMs`. A throw (or rejection) is passed on; past
 * the deadline resolves `{ isTimedOut: true }` and stops waiting. The pending timer keeps the
 * process alive meanwhile, so a promise that never settles cannot end the process silently
 * (Node's exit code 13, issue 19).
 */
export async function settleWithin<T>(code: () => Promise<T> | T, timeoutMs: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ isTimedOut: true }), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(code).then((value): Settled<T> => ({ isTimedOut: false, value })), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error an abandoned iteration's later SMTP steps reject with. */
export function abandonedStepError(step: string): SmtpStepError {
  return new SmtpStepError({ phase: 'connect', error: 'INTERRUPTED', text: `iteration abandoned after gracefulStop: ${step}() refused` });
}

/**
 * The SMTP steps a custom iteration sees: `steps` as long as `isAbandoned()` is false; after,
 * every method call rejects (without touching the connection), so code left running past
 * gracefulStop can send nothing more that would be counted.
 */
export function abandonableSteps(steps: SmtpSteps, isAbandoned: () => boolean): SmtpSteps {
  return new Proxy(steps, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (isAbandoned() ? Promise.reject(abandonedStepError(String(key))) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}
