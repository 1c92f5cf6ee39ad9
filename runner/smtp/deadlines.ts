/**
 * One shared ticker for every reply timeout, instead of a timer per command.
 *
 * A watched target stores an absolute deadline (performance.now() milliseconds, 0 = none);
 * setting it per command is a number store. One interval, created when the first target is
 * watched and cleared on the first tick that finds none, scans all targets every
 * DEADLINE_RESOLUTION_MS and calls onDeadline() on those past due. So a timeout fires between
 * `timeout` and `timeout + DEADLINE_RESOLUTION_MS` after its command (plus event-loop lag).
 *
 * Replies that arrived in time win over a late ticker: when the event loop was held up (a busy
 * machine, a long synchronous stretch of scenario code), a tick can find a deadline past due
 * while the reply has been sitting unread in the socket since before it. Timers run before I/O
 * in each turn of the loop, so the ticker only notes the targets past due, lets the loop read
 * what the sockets hold (setImmediate runs after that I/O), and then calls onDeadline() on those
 * whose deadline is still the one found past due: a reply that re-armed or cleared it meanwhile
 * was in time. Without this, a load generator under CPU pressure reports timeouts for replies
 * that came back within the timeout (seen as one false TIMEOUT in the fault matrix beside CPU hogs).
 * The interval is unref'd: it never keeps the process alive by itself (an open socket does).
 */
import { performance } from 'node:perf_hooks';

/** Granularity of reply timeouts, milliseconds: a timeout fires up to this much late. */
export const DEADLINE_RESOLUTION_MS = 50;

/** Something with a deadline checked by the shared ticker. */
export interface DeadlineTarget {
  /** performance.now() milliseconds after which onDeadline() is due; 0 = no deadline. */
  deadlineMs: number;
  /** Called once when the deadline has passed; the ticker sets deadlineMs to 0 first. */
  onDeadline(): void;
}

const targets = new Set<DeadlineTarget>();
let ticker: ReturnType<typeof setInterval> | undefined;

/** Starts checking a target's deadline (typically while it has an open socket). */
export function watchDeadline(target: DeadlineTarget): void {
  targets.add(target);
  if (ticker === undefined) {
    ticker = setInterval(checkDeadlines, DEADLINE_RESOLUTION_MS);
    ticker.unref();
  }
}

/** Stops checking a target. The ticker stops itself on its next tick when none is left. */
export function unwatchDeadline(target: DeadlineTarget): void {
  targets.delete(target);
}

/** Number of watched targets (for tests: nothing must stay watched after sessions close). */
export function watchedDeadlineCount(): number {
  return targets.size;
}

/** Whether the shared interval exists (for tests: it must go away when nothing is watched). */
export function isDeadlineTickerRunning(): boolean {
  return ticker !== undefined;
}

function checkDeadlines(): void {
  if (targets.size === 0) {
    // Stopping lazily (not in unwatch) avoids a new interval per connection when one VU
    // opens and closes connections back to back.
    clearInterval(ticker);
    ticker = undefined;
    return;
  }
  const nowMs = performance.now();
  let due: Array<[DeadlineTarget, number]> | undefined;
  for (const target of targets) {
    const deadlineMs = target.deadlineMs;
    if (deadlineMs !== 0 && nowMs >= deadlineMs) (due ??= []).push([target, deadlineMs]);
  }
  if (due !== undefined) setImmediate(fireIfStillDue, due);
}

/** After the loop's I/O: the targets whose deadline no reply changed meanwhile time out. */
function fireIfStillDue(due: ReadonlyArray<[DeadlineTarget, number]>): void {
  for (const [target, deadlineMs] of due) {
    if (target.deadlineMs !== deadlineMs || !targets.has(target)) continue;
    target.deadlineMs = 0;
    target.onDeadline();
  }
}
