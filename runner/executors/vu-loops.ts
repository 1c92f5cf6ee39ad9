/**
 * Run-time pieces the closed-model executors share: a loop per VU, the wait for "all done or
 * the deadline", and a guard that keeps a VU loop from starving the event loop.
 */
import type { ExecutorContext, Vu } from './executor.ts';

/**
 * An iteration that finished in under this many ms may not have waited on any I/O (a custom
 * iteration that returns at once or throws): the loop then yields one event-loop turn, so
 * timers (the scenario's end, a stop, the metrics tick) still run.
 */
const STARVATION_GUARD_MS = 1;

/**
 * Longest single wait while racing a deadline. The context's waits cannot be cancelled, so a
 * long one left behind when the work finishes first would hold the process open until it
 * fires (maxDuration defaults to 10 minutes); slicing bounds that leftover to this (ms).
 */
const DEADLINE_SLICE_MS = 500;

/** Resolves on a later turn of the event loop, after pending timers and I/O callbacks. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Allocates `count` VUs up front (closed-model executors know their VU count before the start). */
export function allocateVus(ctx: ExecutorContext, count: number): Vu[] {
  const vus: Vu[] = [];
  for (let i = 0; i < count; i++) vus.push(ctx.allocateVu());
  return vus;
}

/**
 * Runs iterations on `vu` back to back while `mayStart()` grants one (it counts what it grants).
 * The next one may be granted early, during the current one (Vu.takeNextIteration, asked by the
 * SMTP session when it could write the next transaction with this message's data): the grant is
 * the decision to start it, taken while mayStart still allowed it, and only a stop in between
 * cancels it (a stopped test counts no unstarted iteration, end-of-scenario.ts). The iteration and
 * its starvation guard are inline: an async helper per iteration was a promise and a frame more
 * per message (~400 B of each flag-only message's garbage, measured with V8's sampling heap profiler).
 */
export async function loopIterations(ctx: ExecutorContext, vu: Vu, mayStart: () => boolean): Promise<void> {
  let isGranted = false;
  vu.takeNextIteration = () => {
    if (!isGranted) isGranted = mayStart();
    return isGranted;
  };
  while (isGranted ? !ctx.isStopping : mayStart()) {
    isGranted = false;
    const beganMs = ctx.now();
    await ctx.runIteration(vu);
    if (ctx.now() - beganMs < STARVATION_GUARD_MS) await yieldToEventLoop();
  }
  vu.takeNextIteration = undefined;
}

/**
 * Starts one loop per VU (loopIterations); each runs iterations back to back while `mayStart(vuIndex)` grants
 * one (the caller's counters, end and stop checks live there), and stops after its current
 * iteration once it does not. Reports the active count as loops start and end; resolves
 * when every loop has ended.
 */
export function runVuLoops(ctx: ExecutorContext, vus: readonly Vu[], mayStart: (vuIndex: number) => boolean): Promise<void> {
  let running = vus.length;
  ctx.setActiveVus(running);
  const loop = async (vuIndex: number): Promise<void> => {
    await loopIterations(ctx, vus[vuIndex]!, () => mayStart(vuIndex));
    running--;
    ctx.setActiveVus(running);
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < vus.length; i++) loops.push(loop(i));
  return Promise.all(loops).then(() => undefined);
}

/**
 * Waits until `done` settles or scenario time reaches `deadlineMs`, whichever comes first.
 * Resolves true when `done` came first, false at the deadline or when the test is stopping.
 */
export async function waitForOrUntil(ctx: ExecutorContext, done: Promise<unknown>, deadlineMs: number): Promise<boolean> {
  let isDone = false;
  const settled = done.then(
    () => {
      isDone = true;
    },
    () => {
      isDone = true;
    },
  );
  while (!isDone) {
    const nowMs = ctx.now();
    if (nowMs >= deadlineMs || ctx.isStopping) return false;
    const sliceEndMs = Math.min(deadlineMs, nowMs + DEADLINE_SLICE_MS);
    const isAwake = await Promise.race([settled.then(() => true), ctx.waitUntil(sliceEndMs)]);
    if (isDone) return true;
    if (!isAwake) return false;
  }
  return true;
}
