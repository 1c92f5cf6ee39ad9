/**
 * How every executor ends its scenario: the contract, written once.
 *
 * - **When iterations may start.** From the scenario's start (its startTime) until its planned
 *   end: `duration`, the end of the last stage, or for iteration counts `maxDuration` (or when
 *   their iterations are used up, whichever comes first). From the planned end on, or once the
 *   test is stopping (Ctrl+C, a threshold's abortOnFail), no new iteration starts. A VU's next
 *   iteration granted early, during its current one (Vu.takeNextIteration: the SMTP session
 *   writing the next transaction with a message's data), was decided while they could: it starts
 *   when the current one ends, past the planned end too, unless the test is stopping by then or
 *   gracefulStop runs out first (paused, or between the two): then it never starts.
 * - **gracefulStop.** Iterations still running at that moment get `gracefulStop` to finish on
 *   their own. Those still running then are interrupted: their connection is closed and they are
 *   counted as interrupted, not as failed (ExecutorContext.drain).
 * - **Return.** The executor returns only once every iteration it started has settled, with the
 *   active VU count back to 0. So a scenario lasts at most its planned length + gracefulStop.
 * - **The unstarted.** Closed-model executors with an iteration count (shared-iterations,
 *   per-vu-iterations, batches) count the iterations that never started as dropped_iterations,
 *   in one call however many there are, and not when the test was stopped (a stop is the
 *   user's choice, not a shortfall of the scenario). Open-model executors count as dropped the
 *   arrivals reached but still waiting for a VU at the end (also on a stop: they were planned
 *   and reached); instants past the end are never reached, so never counted.
 *
 * (k6 states the same in lib/executor/helpers.go, getDurationContexts.)
 */
import type { ExecutorContext } from './executor.ts';

/** What `endScenario` needs from an executor. */
export interface ScenarioEnd {
  /** Makes the executor start no further iteration (its loops end after their current one). */
  stopStarting(): void;
  /** Settles once every iteration the executor started has settled (called after the drain). */
  whenSettled(): Promise<unknown>;
  /** Iterations never started (iteration-count executors); read after everything settled. */
  countUnstarted?(): number;
}

/**
 * Ends a scenario per the contract above: no new iteration from now on, running ones get
 * `gracefulStopMs` and are then interrupted, wait for all to settle, VUs to 0, and the
 * unstarted counted as dropped in one call unless the test is stopping.
 */
export async function endScenario(ctx: ExecutorContext, gracefulStopMs: number, end: ScenarioEnd): Promise<void> {
  end.stopStarting();
  await ctx.drain(gracefulStopMs);
  await end.whenSettled();
  ctx.setActiveVus(0);
  if (end.countUnstarted === undefined || ctx.isStopping) return;
  const unstarted = end.countUnstarted();
  if (unstarted > 0) ctx.dropIterations(unstarted);
}
