/**
 * ramping-vus (k6): the number of looping VUs follows `startVUs` and the stages (see
 * `vusAt` for the rounding). The executor waits only for the instants where the wanted count
 * changes (`vuChanges`). Ramping up starts more VU loops at once; ramping down lets the
 * excess VUs (the most recently added first, as k6) finish their current iteration and
 * stop. A VU still finishing when the count rises again simply carries on. At the end of the
 * last stage no new iteration starts and running ones get `gracefulStop`.
 *
 * `gracefulRampDown` is not enforced: ExecutorContext can only interrupt everything at once
 * (`drain`), not one VU, so a VU removed by a ramp-down always finishes its iteration (or is
 * cut by the end's `gracefulStop`).
 */
import type { Executor, ExecutorContext, Vu } from './executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { maxStageVus, stagesDurationMs, vuChanges } from './schedule.ts';
import { allocateVus, runClosedIteration } from './vu-loops.ts';

/** Creates the ramping-vus executor for `scenario`. */
export function createRampingVus(scenario: ResolvedScenario): Executor {
  return {
    async run(ctx: ExecutorContext): Promise<void> {
      const endMs = stagesDurationMs(scenario.stages);
      // k6 initialises the most VUs the profile needs before the start; so do we (no socket
      // opens until a VU's first iteration).
      const vus = allocateVus(ctx, endMs > 0 ? maxStageVus(scenario.startVUs, scenario.stages) : 0);
      const isRunning = new Array<boolean>(vus.length).fill(false);
      let wantedVus = 0;
      let runningVus = 0;
      let isEnded = false;
      let onAllStopped: (() => void) | undefined;

      // VU i loops while it is among the first `wantedVus`: lowering the count retires the
      // highest indexes after their current iteration.
      const loop = async (vuIndex: number, vu: Vu): Promise<void> => {
        while (vuIndex < wantedVus && !isEnded && !ctx.isStopping && ctx.now() < endMs) await runClosedIteration(ctx, vu);
        isRunning[vuIndex] = false;
        runningVus--;
        ctx.setActiveVus(runningVus);
        if (runningVus === 0) onAllStopped?.();
      };
      const setWanted = (count: number): void => {
        wantedVus = count;
        let isChanged = false;
        for (let i = 0; i < count; i++) {
          if (isRunning[i]) continue;
          isRunning[i] = true;
          runningVus++;
          isChanged = true;
          void loop(i, vus[i]!);
        }
        if (isChanged) ctx.setActiveVus(runningVus);
      };

      ctx.setActiveVus(0);
      setWanted(scenario.startVUs);
      for (const change of vuChanges(scenario.startVUs, scenario.stages)) {
        if (change.atMs >= endMs) break;
        if (change.atMs > ctx.now() && !(await ctx.waitUntil(change.atMs))) break;
        if (ctx.isStopping) break;
        setWanted(change.vus);
      }
      if (!ctx.isStopping) await ctx.waitUntil(endMs);
      isEnded = true;
      await ctx.drain(scenario.gracefulStopMs);
      if (runningVus > 0) await new Promise<void>((resolve) => (onAllStopped = resolve));
      ctx.setActiveVus(0);
    },
  };
}
