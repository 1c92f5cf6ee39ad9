/**
 * externally-controlled (k6): `vus` VUs loop iterations back to back for `duration`, and the
 * count is changed while the run goes through the REST API (`runner scale --vus N`, PATCH
 * /v1/status {"vus": N}), from 0 up to `maxVUs`. VUs are allocated as the count first needs them
 * (never more than maxVUs); lowering the count lets the excess VUs (the most recently added
 * first) finish their current iteration and stop, as ramping-vus does. Pausing the run (runner
 * pause) stops every scenario's clock, this one's included: `duration` is then extended by the
 * pause. At the end the scenario ends as end-of-scenario.ts states.
 */
import type { BaseScenarioConfig, Duration } from '../scenario/base-config.ts';
import type { ResolvedScenarioBase } from '../scenario/resolved-base.ts';
import { Checker } from '../scenario/checks.ts';
import { formatDurationMs, parseDurationMs } from '../scenario/duration.ts';
import type { ExecutorDefinition, Vu } from './executor.ts';
import { endScenario } from './end-of-scenario.ts';
import { scaleMs } from './profile.ts';
import { allocateVus, loopIterations } from './vu-loops.ts';

/** VUs set from outside while the run goes (k6 `externally-controlled`). */
export interface ExternallyControlledConfig extends BaseScenarioConfig {
  executor: 'externally-controlled';
  /** VUs at the start. @default 1 */ vus?: number;
  /** The most VUs the API may set. @default vus */ maxVUs?: number;
  duration: Duration;
}

export interface ResolvedExternallyControlled extends ResolvedScenarioBase {
  executor: 'externally-controlled';
  vus: number;
  maxVUs: number;
  durationMs: number;
}

/** Defaults of its own options (maxVUs defaults to vus, not to a constant). */
const EXTERNALLY_CONTROLLED_DEFAULTS = { vus: 1 } as const;

export const externallyControlled: ExecutorDefinition<ExternallyControlledConfig, ResolvedExternallyControlled> = {
  name: 'externally-controlled',
  isOpenModel: false,
  defaults: EXTERNALLY_CONTROLLED_DEFAULTS,
  takesIterationsFlag: false,
  takesRateFlag: false,

  validate(config, path) {
    const check = new Checker();
    const at = (key: string) => [...path, key];
    const vus = check.integer(config['vus'], at('vus'), 0);
    const max = check.integer(config['maxVUs'], at('maxVUs'), 1);
    if (vus !== undefined && max !== undefined && max < vus) check.add(at('maxVUs'), `must be >= vus (${vus}): the API may set at most maxVUs`);
    if (vus === 0 && config['maxVUs'] === undefined) check.add(at('maxVUs'), 'set maxVUs: with vus 0 and no maxVUs, no VU could ever run');
    check.duration(config['duration'], at('duration'), true);
    return check.problems;
  },

  resolve: (config, base) => {
    const vus = config.vus ?? EXTERNALLY_CONTROLLED_DEFAULTS.vus;
    return { ...base, executor: 'externally-controlled', vus, maxVUs: config.maxVUs ?? vus, durationMs: parseDurationMs(config.duration) };
  },

  /** --scale scales duration, --duration sets it, --vus sets the starting VUs (and raises maxVUs to them). */
  applyOverrides(scenario, overrides) {
    if (overrides.scale !== undefined) scenario.durationMs = scaleMs(scenario.durationMs, overrides.scale);
    if (overrides.durationMs !== undefined) scenario.durationMs = overrides.durationMs;
    if (overrides.vus !== undefined) {
      scenario.vus = overrides.vus;
      scenario.maxVUs = Math.max(scenario.maxVUs, overrides.vus);
    }
  },

  // Its VUs are set through one run's REST API; split across processes, no one API would steer them
  segment: (scenario) => ({ scenario, problem: 'an externally-controlled scenario cannot be split into execution segments (--workers, --agents, --execution-segment): its VUs are set through one run\'s API; run it in one process' }),
  plannedDurationMs: (scenario) => scenario.durationMs,
  plannedIterations: () => undefined,
  schedule: (scenario) => ({
    unit: 'vus',
    lengthMs: scenario.durationMs,
    isEstimated: false,
    valueIn: () => scenario.vus,
    vusMax: { min: scenario.vus, max: scenario.maxVUs },
    iterations: undefined,
    warnings: ['its VUs change only through the REST API: run it with --api (then runner scale --vus N); without it, it runs its starting VUs throughout'],
  }),
  describe: (s) => `Externally controlled: ${s.vus} VUs (up to ${s.maxVUs} through the API) for ${formatDurationMs(s.durationMs)}`,
  describeConfig: (s) => ({ vus: s.vus, max_vus: s.maxVUs, duration_ms: s.durationMs }),

  async run(scenario, ctx) {
    const endMs = scenario.durationMs;
    const vus: Vu[] = allocateVus(ctx, endMs > 0 ? scenario.vus : 0);
    const isRunning: boolean[] = new Array<boolean>(vus.length).fill(false);
    let wantedVus = 0;
    let runningVus = 0;
    let isEnded = false;
    let onAllStopped: (() => void) | undefined;

    // VU i loops while it is among the first `wantedVus`: lowering the count retires the highest.
    const loop = async (vuIndex: number): Promise<void> => {
      await loopIterations(ctx, vus[vuIndex]!, () => vuIndex < wantedVus && !isEnded && !ctx.isStopping && ctx.now() < endMs);
      isRunning[vuIndex] = false;
      runningVus--;
      ctx.setActiveVus(runningVus);
      if (runningVus === 0) onAllStopped?.();
    };
    const setWanted = (count: number): void => {
      if (isEnded || ctx.isStopping) return;
      wantedVus = count;
      // VUs are allocated when first wanted (vus_max grows with them), never past maxVUs.
      while (vus.length < count) {
        vus.push(ctx.allocateVu());
        isRunning.push(false);
      }
      let isChanged = false;
      for (let i = 0; i < count; i++) {
        if (isRunning[i]) continue;
        isRunning[i] = true;
        runningVus++;
        isChanged = true;
        void loop(i);
      }
      if (isChanged) ctx.setActiveVus(runningVus);
    };

    ctx.setActiveVus(0);
    ctx.acceptVusControl(setWanted, scenario.maxVUs);
    setWanted(endMs > 0 ? scenario.vus : 0);
    if (!ctx.isStopping) await ctx.waitUntil(endMs);
    await endScenario(ctx, scenario.gracefulStopMs, {
      stopStarting: () => (isEnded = true),
      whenSettled: () => (runningVus > 0 ? new Promise<void>((resolve) => (onAllStopped = resolve)) : Promise.resolve()),
    });
  },
};
