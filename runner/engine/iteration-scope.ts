/**
 * The `ctx` of one custom iteration: what scenario code reads (vu, iteration, data, smtp, …) and
 * the scripting helpers bound to it (check, group, sleep). Built-in samples find the group on this
 * object (one iteration runs its steps one after another, so the current group is a field here);
 * custom metrics, added without ctx, find it in metrics/group-scope.ts, whose AsyncLocalStorage
 * exists only once a run enters a group (its promise hooks then tax that run's awaits, no other's).
 */
import { performance } from 'node:perf_hooks';
import type { IterationContext, SmtpSteps } from '../smtp/api.ts';
import { check } from '../script/check.ts';
import { awaitedSleep, drawThinkTimeMs, planThinkTime } from '../script/sleep.ts';
import type { CheckSets, ThinkTime } from '../script/types.ts';
import type { VuState } from './vu.ts';
import { currentGroupTags, runInGroup } from '../metrics/group-scope.ts';

/** What a scope needs from its scenario run: the group bookkeeping (cached per group path). */
export interface GroupHost {
  /** The tags of samples in `path` ('' = outside any group): one frozen object per path. */
  groupTags(path: string): Readonly<Record<string, string>>;
  /** Records one group's duration (µs) under its tags. */
  recordGroupDuration(path: string, durationUs: number): void;
}

/** Group names: no '::' (the path separator), not empty, no control characters (they break the summary's lines and threshold keys). */
function checkGroupName(name: unknown): asserts name is string {
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || name === '' || name.includes('::') || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new TypeError(`ctx.group(name, fn): name must be a non-empty string without '::' or control characters (got ${JSON.stringify(name)})`);
  }
}

export class IterationScope<SetupData = unknown> implements IterationContext<SetupData> {
  readonly vu: number;
  readonly iteration: number;
  readonly scenario: { name: string; iterationInTest: number };
  readonly from: string;
  readonly env: Record<string, string | undefined>;
  readonly data: SetupData;
  readonly smtp: SmtpSteps;
  groupPath = '';
  tags: Readonly<Record<string, string>>;
  private readonly state: VuState;
  private readonly host: GroupHost;

  constructor(state: VuState, host: GroupHost, fields: { scenario: string; iterationInTest: number; from: string; env: Record<string, string | undefined>; data: SetupData; smtp?: SmtpSteps }) {
    this.state = state;
    this.host = host;
    this.vu = state.id;
    this.iteration = state.iterations;
    this.scenario = { name: fields.scenario, iterationInTest: fields.iterationInTest };
    this.from = fields.from;
    this.env = fields.env;
    this.data = fields.data;
    this.smtp = fields.smtp ?? state.session;
    this.tags = host.groupTags('');
  }

  /** The VU's state; assigning a new object keeps it for the VU's next iterations (as reading it does). */
  get vuState(): Record<string, unknown> {
    return this.state.vuState;
  }

  set vuState(value: Record<string, unknown>) {
    if (value === null || typeof value !== 'object') throw new TypeError(`ctx.vuState must be an object (got ${value === null ? 'null' : typeof value}): store values in it, e.g. ctx.vuState.count = 1`);
    this.state.vuState = value;
  }

  check<T>(value: T, sets: CheckSets<T>, tags?: Record<string, string>): boolean {
    return check(value, sets, tags === undefined ? this.tags : { ...this.tags, ...tags });
  }

  async group<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    checkGroupName(name);
    if (typeof fn !== 'function') throw new TypeError(`ctx.group('${name}', fn): fn must be a function`);
    const recorder = this.state.recorder;
    const parentPath = this.groupPath;
    // The group the caller runs in (it follows the async call chain) must be the one this VU is
    // in: else another group runs beside this one (Promise.all, or a group not awaited), and the
    // path, tags and samples of both would mix ('::a::b' for two groups side by side)
    const callerPath = currentGroupTags()?.['group'] ?? '';
    if (callerPath !== parentPath) {
      throw new TypeError(`ctx.group('${name}'): group '${parentPath}' is still running beside it (not around it): run the groups of one iteration one after another (await each; no Promise.all)`);
    }
    const parentTags = this.tags;
    const path = `${parentPath}::${name}`;
    this.groupPath = path;
    this.tags = this.host.groupTags(path);
    recorder.point(path, recorder.currentAccount);
    const startMs = performance.now();
    try {
      // Samples added without ctx (myTrend.add(v)) find the group through the async call chain
      return await runInGroup(this.tags, fn);
    } finally {
      this.host.recordGroupDuration(path, Math.round((performance.now() - startMs) * 1000));
      this.groupPath = parentPath;
      this.tags = parentTags;
      // The account may have changed inside the group (auth as another user): keep it
      recorder.point(parentPath, recorder.currentAccount);
    }
  }

  sleep(spec: ThinkTime): Promise<number> {
    let ms: number;
    try {
      ms = drawThinkTimeMs(planThinkTime(spec));
    } catch (error) {
      return Promise.reject(error);
    }
    // Think time is the script's, not the server's: keep it out of the response time.
    return awaitedSleep(ms, 'ctx.sleep', (sleptMs) => (this.state.recorder.intendedStartMs += sleptMs));
  }
}
