/**
 * One scenario while it runs: the ExecutorContext its executor drives. It owns the scenario's
 * VUs, starts iterations on them, tracks which are in flight, and interrupts what is still
 * running when the graceful stop runs out.
 */
import { codeFrameAt, describeThrown } from '../scenario/user-code.ts';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutorContext, Vu } from '../executors/executor.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import { executorOf } from '../executors/index.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { Series } from '../metrics/series.ts';
import type { IterationContext, SendOptions, SmtpSteps } from '../smtp/api.ts';
import { SmtpStepError } from '../smtp/api.ts';
import type { MessageCopy } from '../smtp/session.ts';
import { createAccountPicker } from '../scenario/accounts.ts';
import type { ScenarioProgress } from './events.ts';
import { VuState } from './vu.ts';
import { retryDelayMs } from './retry-policy.ts';
import { AccountLimits } from './account-limits.ts';
import type { SessionTranscripts } from './transcript.ts';
import { abandonableSteps } from './script-deadline.ts';
import { IterationScope, type GroupHost } from './iteration-scope.ts';
import { GROUP_DURATION, type CustomTagSet } from '../metrics/custom.ts';
import { drawThinkTimeMs, sleepMs, wakeSleepers, type ThinkTimePlan } from '../script/sleep.ts';

/** What a scenario run needs from the engine. */
export interface ScenarioHost {
  readonly registry: MetricsRegistry;
  readonly isStopping: boolean;
  /** Next VU id (1-based, unique in the test). */
  nextVuId(): number;
  /** Next message sequence number (unique in the test, for Subjects). */
  nextSequence(): number;
  /** `--think-time`: a pause after each default iteration (not part of any SMTP figure). */
  readonly thinkTime?: ThinkTimePlan;
  /** Custom iteration from the scenario file, if any. */
  readonly iteration: ((ctx: IterationContext<any>) => Promise<void> | void) | undefined;
  readonly env: Record<string, string | undefined>;
  readonly setupData: unknown;
  warnOnce(key: string, message: string): void;
  reportBatch(scenario: string, batch: { index: number; count: number; sent: number; total: number; durationMs: number }): void;
  /** An iteration ended (counts down a warm-up given in messages). */
  iterationDone(): void;
  /** A scenario's active or allocated VU count changed (the engine sums them into the gauges). */
  vusChanged(): void;
  /** Registers a waiter that must be woken (with false) when the test stops. */
  onStop(wake: () => void): () => void;
  /** Whether the run is paused now (runner pause, PATCH /v1/status): no iteration starts, scenario clocks stand still. */
  readonly isPaused: boolean;
  /** How many pauses have begun so far (a wait that spans one re-arms). */
  readonly pauseCount: number;
  /** Total time the run has been paused so far, ms (a pause still going counts up to now). */
  pausedMs(): number;
  /** Registers a waiter woken when the run resumes or stops. */
  onResume(wake: () => void): () => void;
  /** `--debug` transcripts, hooked onto new VUs' sessions; undefined without `--debug`. */
  readonly transcripts: SessionTranscripts | undefined;
}

/** Socket errors that mean this machine ran out of something (fds, ports), not the server failing. */
const LOCAL_RESOURCE_ERRORS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL']);

/** How long a VU pauses after such an error before its next iteration. */
export const LOCAL_RESOURCE_PAUSE_MS = 100;

/**
 * How long a closed-model VU pauses after a refused connect (nothing listens: the proxy is down
 * or restarting). Without it each VU retried at once: a 300 ms outage with 4 VUs counted 1,806
 * failures, a count set by how fast the loop spins rather than by the outage, and enough to
 * swamp a long run's success rate. With it, an outage counts about 10 failures per VU per second.
 * Arrival-rate executors keep their schedule: their arrivals are not paused.
 */
export const REFUSED_PAUSE_MS = 100;

/** A deferred message waiting for its next attempt (the retry queue). */
interface PendingRetry {
  sender: string;
  /** The message's sequence (Subject, Message-ID): the same message is sent again. */
  sequence: number;
  /** Number of the attempt it waits for (2 = the first retry). */
  attempt: number;
  /** The first attempt's (intended) start, performance.now() ms: smtp_eventual_duration's base. */
  firstStartMs: number;
  /** What scenario code gave ctx.smtp.send() (its sender, recipients, fault); undefined for the generated flow. */
  options: SendOptions | undefined;
  /** The message as first sent: every attempt sends these same bytes (Message-ID, Date, trace header). */
  message: MessageCopy;
  timer: NodeJS.Timeout | undefined;
}

/** A ctx.group() path's cached bookkeeping: its tags, its series per sender, its group_duration set. */
interface GroupEntry {
  tags: Readonly<Record<string, string>>;
  seriesBySender: Map<string, Series>;
  durationSet: CustomTagSet | undefined;
  durationResets: number;
}

export class ScenarioRun implements ExecutorContext, GroupHost {
  readonly scenario: ResolvedScenario;
  /** performance.now() when the scenario started. */
  startMs = 0;
  state: ScenarioProgress['state'] = 'waiting';
  iterationsStarted = 0;
  activeVus = 0;
  /** Arrivals waiting for a free VU now (arrival-rate executors). */
  queuedArrivals = 0;
  /** Whether arrivals have queued yet (the warning is given once). */
  private hasQueued = false;
  readonly vus: VuState[] = [];
  private readonly host: ScenarioHost;
  private readonly busy = new Set<VuState>();
  /**
   * VUs whose next iteration was granted early (nextIterationGrantOf, VuState.isGranted) and has
   * not started: busy for the drain, which must not end in the moment between their iteration and
   * the next.
   */
  private grantedCount = 0;
  /**
   * Whether a flag-only message may carry the next one's transaction with its end-of-data
   * (session.ts nextIterationGrant): only when the next iteration would send the same envelope at
   * once — no think time between them, no account limit to wait for, one sender (the picker
   * rotates several per iteration). The executor still decides (a closed-model VU loop's grant).
   */
  private readonly canWriteAhead: boolean;
  /** How to wake each VU waiting for a resume before its granted iteration (a revoke ends the wait). */
  private readonly pauseWakers = new Map<VuState, () => void>();
  /** How to abandon the custom iteration running on a VU (see interruptBusy). */
  private readonly abandoners = new Map<VuState, () => void>();
  private readonly pickSender: (iterationInTest: number) => string;
  /** accounts.maxInFlight / accounts.rate: each generated message, ctx.smtp.send() and retry waits for its account's slot; undefined: no limit. */
  private readonly accountLimits: AccountLimits | undefined;
  private readonly seriesBySender = new Map<string, Series>();
  private drained: (() => void) | undefined;
  private readonly groups = new Map<string, GroupEntry>();
  /**
   * The retry queue (scenario `retry`): deferred messages wait here for their backoff, then an
   * agent sends them again. Agents are sessions of their own, as an MTA's delivery agents are:
   * not VUs, so a deferred message holds no VU through its backoff and the executor's schedule
   * is kept. They are made on demand and reused.
   */
  private readonly pendingRetries = new Set<PendingRetry>();
  private readonly freeAgents: VuState[] = [];
  private readonly busyAgents = new Set<VuState>();
  private agentCount = 0;
  /** Set once the drain gave up waiting for retries: a deferral after it is counted as pending. */
  private isRetryQueueClosed = false;
  /** The run's paused time when this scenario's clock started: pauses before that are not its own. */
  private pausedAtStartMs = 0;
  /** The externally-controlled executor's VU setter and its limit (acceptVusControl). */
  vusControl: { setVus: (vus: number) => void; maxVus: number } | undefined;
  /** The constant-arrival-rate executor's rate setter and its rate now, per second (acceptRateControl). */
  rateControl: { setRate: (ratePerSecond: number) => boolean; ratePerSecond: number } | undefined;

  constructor(scenario: ResolvedScenario, host: ScenarioHost) {
    this.scenario = scenario;
    this.host = host;
    this.pickSender = createAccountPicker(scenario.accounts);
    const { maxInFlight, rateIntervalMs } = scenario.accounts;
    this.accountLimits = maxInFlight !== undefined || rateIntervalMs !== undefined ? new AccountLimits(maxInFlight ?? Infinity, rateIntervalMs ?? 0) : undefined;
    this.canWriteAhead = host.thinkTime === undefined && this.accountLimits === undefined && scenario.accounts.emails.length <= 1;
    for (const email of scenario.accounts.emails) {
      this.seriesBySender.set(email, host.registry.seriesFor(scenario.name, email, scenario.tags));
    }
  }

  get isStopping(): boolean {
    return this.host.isStopping;
  }

  private groupEntry(path: string): GroupEntry {
    let entry = this.groups.get(path);
    if (entry === undefined) {
      const name = this.scenario.name;
      entry = {
        tags: Object.freeze<Record<string, string>>(path === '' ? { scenario: name } : { group: path, scenario: name }),
        seriesBySender: new Map(),
        durationSet: undefined,
        durationResets: -1,
      };
      this.groups.set(path, entry);
    }
    return entry;
  }

  groupTags(path: string): Readonly<Record<string, string>> {
    return this.groupEntry(path).tags;
  }

  /** The series of `account`'s samples in group `path` ('' outside any group), created on first use. */
  readonly seriesOf = (path: string, account: string): Series => {
    if (path !== '') return this.groupSeries(path, account);
    let series = this.seriesBySender.get(account);
    if (series === undefined) {
      // An account the scenario code chose (send({ from }), auth(user)) that is not in the picker's list
      series = this.host.registry.seriesFor(this.scenario.name, account, this.scenario.tags);
      this.seriesBySender.set(account, series);
    }
    return series;
  };

  private groupSeries(path: string, sender: string): Series {
    const entry = this.groupEntry(path);
    let series = entry.seriesBySender.get(sender);
    if (series === undefined) {
      series = this.host.registry.seriesFor(this.scenario.name, sender, this.scenario.tags, path);
      entry.seriesBySender.set(sender, series);
    }
    return series;
  }

  recordGroupDuration(path: string, durationUs: number): void {
    const entry = this.groupEntry(path);
    // A warm-up's end resets the metric (and forgets its tag sets): look the set up again then.
    if (entry.durationSet === undefined || entry.durationResets !== GROUP_DURATION.resets) {
      entry.durationSet = GROUP_DURATION.tagSetFor(entry.tags);
      entry.durationResets = GROUP_DURATION.resets;
    }
    entry.durationSet.trend!.record(durationUs);
  }

  /** Starts this scenario's clock at `startMs` (performance.now()). */
  setStart(startMs: number): void {
    this.startMs = startMs;
    this.pausedAtStartMs = this.host.pausedMs();
  }

  /**
   * Scenario time: ms since the scenario started, pauses left out. While the run is paused the
   * clock stands still, so every planned instant (arrivals, stage changes, the end) moves later by
   * the pause: a schedule stops and restarts, nothing planned is lost or crowded.
   */
  now(): number {
    return performance.now() - this.startMs - (this.host.pausedMs() - this.pausedAtStartMs);
  }

  waitUntil(atMs: number): Promise<boolean> {
    if (this.host.isStopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let unregisterResume: (() => void) | undefined;
      const finish = (isReached: boolean) => {
        clearTimeout(timer);
        unregisterStop();
        unregisterResume?.();
        resolve(isReached);
      };
      const unregisterStop = this.host.onStop(() => finish(false));
      const arm = (): void => {
        if (this.host.isPaused) {
          // The clock stands still: wait for the resume, then for what is left.
          unregisterResume = this.host.onResume(() => {
            unregisterResume = undefined;
            if (this.host.isStopping) finish(false);
            else arm();
          });
          return;
        }
        const pauses = this.host.pauseCount;
        const delayMs = atMs - this.now();
        timer = setTimeout(() => {
          // A pause began (and maybe ended) meanwhile: the instant moved; wait for the rest.
          if (this.host.pauseCount !== pauses || this.host.isPaused) arm();
          else finish(!this.host.isStopping);
        }, delayMs > 0 ? delayMs : 0);
      };
      arm();
    });
  }

  acceptVusControl(setVus: (vus: number) => void, maxVus: number): void {
    this.vusControl = { setVus, maxVus };
  }

  acceptRateControl(setRate: (ratePerSecond: number) => boolean, ratePerSecond: number): void {
    this.rateControl = { setRate, ratePerSecond };
  }

  /** Scenario time `atMs` as a performance.now() instant, with the pauses so far. */
  private instantOf(atMs: number): number {
    return this.startMs + atMs + (this.host.pausedMs() - this.pausedAtStartMs);
  }

  allocateVu(): Vu {
    const firstSeries = this.seriesBySender.values().next().value!;
    const vu = new VuState(this.host.nextVuId(), this.scenario, this.host.registry, firstSeries, this.seriesOf);
    if (this.host.transcripts !== undefined) this.host.transcripts.attach(vu.id, vu.session);
    this.vus.push(vu);
    this.publishVus();
    return vu;
  }

  setActiveVus(count: number): void {
    this.activeVus = count;
    this.publishVus();
  }

  dropIterations(count: number, isAtEnd = false): void {
    const scenario = this.scenario;
    const name = scenario.name;
    this.host.registry.noteDropped(name, count);
    if (!executorOf(scenario).isOpenModel) {
      this.host.warnOnce(`dropped:${name}`, `scenario ${name}: maxDuration ended before every iteration started (dropped_iterations); raise maxDuration or lower iterations`);
    } else if (isAtEnd) {
      this.host.warnOnce(
        `dropped-at-end:${name}`,
        `scenario ${name}: arrivals still waiting for a free VU when it ended were dropped (dropped_iterations; they are in no latency figure); raise maxVUs`,
      );
    } else {
      this.host.warnOnce(
        `dropped:${name}`,
        `scenario ${name}: no VU came free within maxQueueWait (${'maxQueueWaitMs' in scenario ? scenario.maxQueueWaitMs / 1000 : 0}s) of an iteration's planned start (dropped_iterations); raise maxVUs or lower the rate`,
      );
    }
  }

  arrivalsPlanned(count: number): void {
    this.host.registry.notePlanned(count);
  }

  setQueuedArrivals(count: number): void {
    this.host.registry.addQueuedArrivals(count - this.queuedArrivals);
    this.queuedArrivals = count;
    if (count > 0 && !this.hasQueued) {
      this.hasQueued = true;
      const { name } = this.scenario;
      this.host.warnOnce(
        `queued:${name}`,
        `all ${this.vus.length} VUs of scenario ${name} are busy: arrivals wait for a free VU and their wait counts in response time; raise maxVUs`,
      );
    }
  }

  reportBatch(batch: { index: number; count: number; sent: number; total: number; durationMs: number }): void {
    this.host.reportBatch(this.scenario.name, batch);
  }

  async runIteration(vu: Vu, intendedStartMs?: number): Promise<void> {
    const state = vu as VuState;
    // Paused: no iteration starts until the resume (a queued arrival, a VU loop's next one), or,
    // for a granted one, until the grace end revokes it: then it ends now, paused or not, as a VU
    // loop that had no grant ends at its planned end.
    if (this.host.isPaused) {
      await new Promise<void>((resume) => {
        const unregister = this.host.onResume(resume);
        this.pauseWakers.set(state, () => {
          unregister();
          resume();
        });
      });
      this.pauseWakers.delete(state);
      if (this.host.isStopping) {
        // Stopped while paused: an arrival that was reached but never started is dropped (end-of-scenario.ts).
        if (intendedStartMs !== undefined) this.dropIterations(1, true);
        return;
      }
    }
    if (state.isGranted) {
      state.isGranted = false;
      this.grantedCount--;
    }
    if (state.isGrantRevoked) {
      // Granted before the scenario's end cut off what ran: it never starts (its session's
      // transaction written ahead is given up when the connections close)
      state.isGrantRevoked = false;
      return;
    }
    const registry = this.host.registry;
    const startMs = performance.now();
    const iterationInTest = this.iterationsStarted++;
    const sender = this.pickSender(iterationInTest);
    const recorder = state.recorder;
    recorder.point('', sender);
    // A pause moves the planned instant with it: the pause is in no response time.
    recorder.intendedStartMs = intendedStartMs === undefined ? startMs : this.instantOf(intendedStartMs);
    const session = state.session;
    session.from = sender;
    session.sequence = this.host.nextSequence();
    session.vu = state.id;
    session.iteration = state.iterations;
    registry.noteStarted();
    this.busy.add(state);
    try {
      if (this.host.iteration) {
        recorder.beginMessage(undefined, 1, recorder.intendedStartMs);
        await this.runCustomIteration(state, sender, iterationInTest);
      } else {
        recorder.beginMessage(this.scenario.retry, 1, recorder.intendedStartMs);
        session.nextIterationGrant = intendedStartMs === undefined && this.canWriteAhead ? this.nextIterationGrantOf(state) : undefined;
        const limits = this.accountLimits;
        // The wait for the account's slot is after the intended start: it is in the response time
        if (limits !== undefined) await limits.acquire(sender);
        let failure;
        try {
          failure = await session.sendMessage();
        } finally {
          if (limits !== undefined) limits.release(sender);
        }
        if (recorder.deferredFailure !== undefined) this.deferMessage({ sender, sequence: session.sequence, attempt: 2, firstStartMs: recorder.firstStartMs, options: undefined, message: session.copyMessage(), timer: undefined });
        // Out of file descriptors or local ports: retrying at once would spin through thousands of
        // failures a second. A short pause lets sockets close (the failure is already counted).
        if (failure?.error !== undefined) {
          if (LOCAL_RESOURCE_ERRORS.has(failure.error)) await sleep(LOCAL_RESOURCE_PAUSE_MS);
          else if (failure.error === 'ECONNREFUSED' && intendedStartMs === undefined) await sleep(REFUSED_PAUSE_MS);
        }
        // --think-time: after the message, inside the iteration (k6 puts sleep() at its end).
        const thinkTime = this.host.thinkTime;
        if (thinkTime !== undefined && !this.host.isStopping) await sleepMs(drawThinkTimeMs(thinkTime));
      }
    } finally {
      this.busy.delete(state);
      state.iterations++;
      // Under the account the iteration ended with (the one it authenticated as), outside any group
      const series = recorder.groupPath === '' ? recorder.series : this.seriesOf('', recorder.currentAccount);
      series.iterations++;
      series.iterationDuration.record(Math.round((performance.now() - startMs) * 1000));
      this.host.iterationDone();
      this.notifyIfIdle();
    }
  }

  /** The grant the session asks for: the VU loop's next iteration, never while paused or stopping. */
  private nextIterationGrantOf(state: VuState): () => boolean {
    let grant = state.nextIterationGrant;
    if (grant === undefined) {
      const host = this.host;
      grant = () => {
        if (host.isPaused || host.isStopping || state.takeNextIteration === undefined || !state.takeNextIteration()) return false;
        state.isGranted = true;
        this.grantedCount++;
        return true;
      };
      state.nextIterationGrant = grant;
    }
    return grant;
  }

  /** Nothing runs, no granted iteration is about to (a stop cancels those), and no retry waits: the drain may end. */
  private isIdle(): boolean {
    return this.busy.size === 0 && (this.grantedCount === 0 || this.host.isStopping) && this.busyAgents.size === 0 && this.pendingRetries.size === 0;
  }

  private notifyIfIdle(): void {
    if (this.drained !== undefined && this.isIdle()) this.drained();
  }

  /** Queues a deferred message for its attempt `entry.attempt`, after the policy's backoff. */
  private deferMessage(entry: PendingRetry): void {
    const policy = this.scenario.retry!;
    // After a stop (Ctrl+C, abortOnFail) no message starts, and a retry is one started again
    if (this.isRetryQueueClosed || this.host.isStopping) {
      this.seriesOf('', entry.sender).retryPending++;
      return;
    }
    const delayMs = retryDelayMs(policy, entry.attempt - 1, Math.random());
    entry.timer = setTimeout(() => void this.runRetry(entry), delayMs);
    // The drain's own timer holds the process while it waits; a retry never does by itself
    entry.timer.unref();
    this.pendingRetries.add(entry);
  }

  /** Sends a deferred message again on a free agent; defers it once more when the reply says so. */
  private async runRetry(entry: PendingRetry): Promise<void> {
    this.pendingRetries.delete(entry);
    entry.timer = undefined;
    if (this.host.isStopping) {
      // Stopped before its backoff ran out: pending, as the drain counts the rest
      this.seriesOf('', entry.sender).retryPending++;
      this.notifyIfIdle();
      return;
    }
    let agent = this.freeAgents.pop();
    if (agent === undefined) {
      // Agent ids count down from 0 so they never meet a VU's (1, 2, …) in a transcript
      agent = new VuState(-this.agentCount++, this.scenario, this.host.registry, this.seriesOf('', entry.sender), this.seriesOf);
      if (this.host.transcripts !== undefined) this.host.transcripts.attach(agent.id, agent.session);
    }
    this.busyAgents.add(agent);
    const recorder = agent.recorder;
    recorder.point('', entry.sender);
    recorder.intendedStartMs = performance.now();
    recorder.beginMessage(this.scenario.retry, entry.attempt, entry.firstStartMs);
    const session = agent.session;
    session.from = entry.sender;
    session.sequence = entry.sequence;
    const limits = this.accountLimits;
    if (limits !== undefined) await limits.acquire(entry.sender);
    try {
      // The same message again; a failure was counted by the recorder (deferred again, or final)
      await session.resendMessage(entry.message, entry.options);
      if (recorder.deferredFailure !== undefined) {
        entry.attempt++;
        this.deferMessage(entry);
      }
    } finally {
      if (limits !== undefined) limits.release(entry.sender);
      this.busyAgents.delete(agent);
      this.freeAgents.push(agent);
      this.notifyIfIdle();
    }
  }

  /**
   * ctx.smtp for scenario code: the VU's session, with send() under the scenario's retry policy
   * (a deferred message goes to the retry queue and send() resolves, as a submission to an MTA's
   * queue does). The steps (mail, rcpt, data) are never retried. Made once per VU.
   */
  private stepsOf(vu: VuState): SmtpSteps {
    if (this.scenario.retry === undefined && this.accountLimits === undefined) return vu.session;
    let steps = vu.stepsWithRetry;
    if (steps === undefined) {
      const send = (options?: SendOptions): Promise<void> => this.sendShaped(vu, options);
      const warnSteps = this.accountLimits === undefined ? undefined : () => this.warnStepsUnlimited();
      steps = new Proxy(vu.session, {
        get(target, key) {
          if (key === 'send') return send;
          if (key === 'mail' && warnSteps !== undefined) warnSteps();
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      vu.stepsWithRetry = steps;
    }
    return steps;
  }

  /**
   * ctx.smtp.send(): waits for the sender's slot (accounts maxInFlight/rate) as the generated
   * flow does, the wait in the response time (from the iteration's intended start), then sends
   * under the retry policy, if any. The slot is the account's until the send settles.
   */
  private async sendShaped(vu: VuState, options: SendOptions | undefined): Promise<void> {
    const limits = this.accountLimits;
    if (limits === undefined) return this.sendWithRetry(vu, options);
    const account = options?.from ?? vu.session.from;
    await limits.acquire(account);
    try {
      if (this.scenario.retry === undefined) await vu.session.send(options);
      else await this.sendWithRetry(vu, options);
    } finally {
      limits.release(account);
    }
  }

  /** Said once per scenario: accounts maxInFlight/rate do not hold the single steps (README "Accounts and shaping"). */
  private warnStepsUnlimited(): void {
    this.host.warnOnce(
      `steps-unlimited:${this.scenario.name}`,
      `scenario ${this.scenario.name}: accounts maxInFlight/rate limit the generated message and ctx.smtp.send(), not the single steps ctx.smtp.mail()/rcpt()/data(): a transaction written step by step can be left open at any point, so runner cannot tell when its slot would be free; use ctx.smtp.send() for messages that must keep to the limits`,
    );
  }

  private async sendWithRetry(vu: VuState, options: SendOptions | undefined): Promise<void> {
    const recorder = vu.recorder;
    const session = vu.session;
    recorder.beginMessage(this.scenario.retry, 1, performance.now());
    try {
      await session.send(options);
    } catch (error) {
      if (recorder.deferredFailure === undefined) throw error;
      this.deferMessage({ sender: options?.from ?? session.from, sequence: session.sequence, attempt: 2, firstStartMs: recorder.firstStartMs, options, message: session.copyMessage(), timer: undefined });
    } finally {
      recorder.beginMessage(undefined, 1, 0);
    }
  }

  /** The drain's grace is over: retries still waiting are counted as pending, per sender, and dropped. */
  private closeRetryQueue(): void {
    this.isRetryQueueClosed = true;
    for (const entry of this.pendingRetries) {
      clearTimeout(entry.timer);
      this.seriesOf('', entry.sender).retryPending++;
    }
    this.pendingRetries.clear();
  }

  private async runCustomIteration(vu: VuState, sender: string, iterationInTest: number): Promise<void> {
    // Scenario code may never settle: past gracefulStop it is abandoned (interruptBusy), and its
    // later SMTP steps refused, so nothing it still does is counted (engine/script-deadline.ts).
    let isAbandoned = false;
    const abandoned = new Promise<void>((resolve) => {
      this.abandoners.set(vu, () => {
        isAbandoned = true;
        resolve();
      });
    });
    const ctx = new IterationScope<unknown>(vu, this, {
      scenario: this.scenario.name,
      iterationInTest,
      from: sender,
      env: this.host.env,
      data: this.host.setupData,
      smtp: abandonableSteps(this.stepsOf(vu), () => isAbandoned),
    });
    try {
      await Promise.race([Promise.resolve().then(() => this.host.iteration!(ctx)), abandoned]);
    } catch (error) {
      if (isAbandoned) return;
      // A failed SMTP step was already counted under its phase by the session; anything else
      // is a bug in the scenario code: count it and say it once, with where it came from.
      if (error instanceof SmtpStepError) return;
      // Said where in the user's file, never with a stack through runner's own code
      const thrown = describeThrown(error);
      this.host.registry.iterationErrors.record(thrown.message, thrown.location);
      const where = thrown.position ? ` at ${thrown.location}${codeFrameAt(thrown.position)}` : '';
      this.host.warnOnce(`script:${this.scenario.name}`, `scenario ${this.scenario.name}: iteration threw ${thrown.message}${where}\n(counted in iteration_errors; further ones are grouped in the summary)`);
      vu.recorder.series.scriptErrors++;
    } finally {
      this.abandoners.delete(vu);
    }
  }

  async drain(graceMs: number): Promise<void> {
    // A stop (Ctrl+C, abortOnFail) ends the wait for retries, now or when it comes: the deferred
    // are pending at once, and only what is on the wire gets the grace period.
    const closeOnStop = () => {
      this.closeRetryQueue();
      this.notifyIfIdle();
    };
    if (this.host.isStopping) this.closeRetryQueue();
    if (!this.isIdle()) {
      this.state = 'draining';
      const unregisterStop = this.host.onStop(closeOnStop);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      }).finally(unregisterStop);
      this.drained = undefined;
      // Retries still waiting after the grace period are pending (not failed); running ones are cut off.
      this.closeRetryQueue();
      if (!this.isIdle()) {
        const settled = new Promise<void>((resolve) => (this.drained = resolve));
        // Think time would hold a cut-off iteration until it ends: wake the sleepers.
        wakeSleepers();
        this.interruptBusy();
        // Only VUs granted an iteration early (between two iterations, or waiting out a pause
        // before it) may have kept the drain going: revoked, nothing is left to settle, and no
        // iteration's end would say so.
        if (!this.isIdle()) await settled;
        this.drained = undefined;
      }
      // A later drain (the next batch) has a retry queue again
      this.isRetryQueueClosed = false;
    }
    this.setActiveVus(0);
  }

  /**
   * Cuts off every running iteration now: its connection is destroyed (the session settles the
   * message in flight as INTERRUPTED, which the recorder counts as interrupted, not failed); a
   * custom iteration that was not in an SMTP step (awaiting something else that may never
   * settle) is abandoned and counted as one interrupted. Its iteration ends at once either way.
   */
  interruptBusy(): void {
    // Retries waiting are pending from now on (a hard stop interrupts without a drain)
    this.closeRetryQueue();
    // An iteration granted early and not started yet is cut off before it starts
    for (const vu of this.vus) {
      if (!vu.isGranted) continue;
      vu.isGranted = false;
      vu.isGrantRevoked = true;
      this.pauseWakers.get(vu)?.();
    }
    this.grantedCount = 0;
    // A retry in flight is a message like any: cut off, it counts as interrupted
    for (const agent of [...this.busyAgents]) agent.session.close();
    for (const vu of [...this.busy]) {
      const series = vu.recorder.series;
      const interruptedBefore = series.interrupted;
      vu.session.close();
      const abandon = this.abandoners.get(vu);
      if (abandon) {
        if (series.interrupted === interruptedBefore) series.interrupted++;
        abandon();
      }
    }
  }

  /** Ends every VU's connection (QUIT when one is open); called once the scenario is over. */
  async closeConnections(): Promise<void> {
    await Promise.all(
      [...this.vus, ...this.freeAgents].map(async (vu) => {
        if (vu.session.isConnected) await vu.session.quit().catch(() => undefined);
        vu.session.close();
      }),
    );
  }

  progress(): ScenarioProgress {
    let accepted = 0;
    let failed = 0;
    for (const series of this.seriesBySender.values()) {
      accepted += series.accepted;
      failed += series.failed;
    }
    return {
      name: this.scenario.name,
      executor: this.scenario.executor,
      elapsedMs: this.state === 'waiting' ? 0 : this.now(),
      plannedMs: 0,
      plannedIterations: undefined,
      iterationsStarted: this.iterationsStarted,
      activeVus: this.activeVus,
      allocatedVus: this.vus.length,
      queuedArrivals: this.queuedArrivals,
      accepted,
      failed,
      dropped: this.host.registry.droppedCount(this.scenario.name),
      state: this.state,
      ...(this.rateControl === undefined ? {} : { ratePerSecond: this.rateControl.ratePerSecond }),
    };
  }

  private publishVus(): void {
    this.host.vusChanged();
  }
}
