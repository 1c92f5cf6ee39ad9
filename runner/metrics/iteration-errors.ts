/**
 * Exceptions thrown by a scenario's iteration() (bugs in scenario code, not failed SMTP steps,
 * which the session counts under their phase), grouped by message and by where in the user's
 * code they were thrown, so a summary says `100 × TypeError: x is not a function (my.ts:12:5)`.
 * Their count is the `iteration_errors` counter; the groups are bounded like any tag set.
 */

/** One group: the same message thrown at the same place. */
export interface IterationErrorGroup {
  /** `TypeError: x is not a function` (first line of the message). */
  message: string;
  /** `my-scenario.ts:12:5`, or null when the stack had no frame in the user's code. */
  location: string | null;
  count: number;
}

/** Distinct groups kept; further ones are counted under one `(other errors)` group. */
export const MAX_ITERATION_ERROR_GROUPS = 100;

/** The groups of a run, in the order first seen. */
export class IterationErrorGroups {
  private readonly byKey = new Map<string, IterationErrorGroup>();

  /** Counts one exception (off the hot path: only when an iteration throws). */
  record(message: string, location: string | null): void {
    let key = `${location ?? ''}\n${message}`;
    if (!this.byKey.has(key) && this.byKey.size >= MAX_ITERATION_ERROR_GROUPS) {
      key = '\n(other errors)';
      message = '(other errors)';
      location = null;
    }
    const group = this.byKey.get(key);
    if (group) group.count++;
    else this.byKey.set(key, { message, location, count: 1 });
  }

  /** The groups, commonest first. */
  groups(): IterationErrorGroup[] {
    return [...this.byKey.values()].map((group) => ({ ...group })).sort((a, b) => b.count - a.count);
  }
}
