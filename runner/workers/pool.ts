/**
 * `runner run --workers N`: the parent's side. N worker processes (worker.ts) each run one
 * execution segment of the same scenario (0..1/N, 1/N..2/N, …: the segments add up exactly to
 * the whole plan, executors/segment.ts); the parent runs setup() once and hands its data to every
 * worker at one start instant (after every worker is ready), merges the workers' states once a
 * second into one MetricsRegistry (snapshot.ts: counters add, HDR histograms add exactly), and
 * shows that one registry to the listeners (the live progress, the metrics endpoint, the watched
 * process) and to the thresholds, abortOnFail included. It runs teardown() once at the end.
 *
 * It stands where the Engine stands in run.ts (the same members run.ts uses), so a run with
 * workers ends exactly as one without: one summary, one results file, the same outputs.
 *
 * Child processes, not worker threads: see the README's "Every core: --workers" for the
 * measurement; a worker that blocks its event loop or dies takes only itself down, and the
 * parent says which one and keeps what it measured until its last snapshot.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { runnerCliPath } from '../cli-path.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { customMetrics } from '../metrics/custom.ts';
import type { ResolvedOptions } from '../scenario/resolved.ts';
import type { AbortCheck, StopReason, TestResult } from '../engine/engine.ts';
import { runSetup, runTeardown, TICK_MS } from '../engine/engine.ts';
import type { EngineListener, ScenarioProgress } from '../engine/events.ts';
import { executorOf, plannedIterations, scenarioDurationMs } from '../executors/index.ts';
import { evenSequence, formatFraction, stripeOf, type Fraction } from '../executors/segment.ts';
import { InvalidOptionsError, RunnerError } from '../errors.ts';
import { childEnded } from './child-ended.ts';
import { loadBuiltin } from '../util/builtin.ts';
import { loadSnapshots, mergeProgress, mergeWindows, type RegistrySnapshot, type WindowSnapshot } from './snapshot.ts';
import type { ParentMessage, WorkerJob, WorkerLink, WorkerLinkHandlers, WorkerMessage } from './protocol.ts';

/** How long a worker may take to load the scenario and say it is ready. */
const READY_TIMEOUT_MS = 60_000;

/** What the pool needs besides the resolved (whole) plan. */
export interface WorkerPoolSpec {
  count: number;
  /** The job every worker gets, without its index and segment. */
  job: Omit<WorkerJob, 'index'>;
  stderr: NodeJS.WritableStream;
  /**
   * Where worker `index` runs: a local child process when undefined; an agent on another machine
   * with `runner run --agents` (agents/remote.ts).
   */
  link?: (index: number, job: WorkerJob, handlers: WorkerLinkHandlers) => WorkerLink;
  /** What a worker is called in messages: 'worker' (a local process) or 'agent'. */
  noun?: string;
  /** When one is lost: the others go on (default), or the run stops. */
  onLoss?: 'continue' | 'stop';
}

/** One worker as the parent sees it. */
interface WorkerHandle {
  index: number;
  segment: string;
  link: WorkerLink;
  latest: RegistrySnapshot | undefined;
  isReady: boolean;
  isDone: boolean;
  durationMs: number;
  exit: Promise<void>;
  startedMs: number;
  /** How it ended, once it has. */
  how?: string;
  /** What to do about it, when its link said. */
  hint?: string;
}

/** A TestResult of a run with workers: which workers were lost, if any. */
export interface PoolResult extends TestResult {
  /** One line per worker that ended without reporting its end (killed, crashed). */
  lostWorkers: string[];
  /** The run stopped because one was lost (--on-agent-loss stop), not for a reason of its own. */
  isStoppedForLoss: boolean;
}

/** The segments of N workers: N equal ones of 0,1/N,…,1. */
export function workerSegments(count: number): { sequence: string; segments: string[] } {
  const points: Fraction[] = evenSequence(count);
  const texts = points.map(formatFraction);
  return { sequence: texts.join(','), segments: texts.slice(1).map((to, i) => `${texts[i]}:${to}`) };
}

/** Every problem of splitting `options` over `count` workers (a segment with work but no VU), all at once. */
export function checkWorkerSplit(options: ResolvedOptions, count: number, flag = '--workers'): void {
  const points = evenSequence(count);
  const problems: string[] = [];
  for (let i = 0; i < count; i++) {
    const stripe = stripeOf({ from: points[i]!, to: points[i + 1]! }, points);
    for (const scenario of options.scenarios) {
      const problem = executorOf(scenario).segment(scenario, stripe).problem;
      if (problem !== undefined) problems.push(`${flag === '--workers' ? `--workers ${count}` : `${count} agents`}: scenarios.${scenario.name}: ${problem}`);
    }
  }
  if (problems.length > 0) throw new InvalidOptionsError(problems, `use fewer ${flag === '--workers' ? 'workers (--workers)' : 'agents (--agents)'}, or more VUs`);
}

export class WorkerPool {
  readonly registry: MetricsRegistry;
  setupData: unknown = undefined;
  stopReason: StopReason | undefined;
  abortMessage: string | undefined;
  private readonly options: ResolvedOptions;
  private readonly listeners: EngineListener[];
  private readonly abortCheck: AbortCheck | undefined;
  private readonly spec: WorkerPoolSpec;
  private readonly workers: WorkerHandle[] = [];
  private readonly pendingWindows: WindowSnapshot[] = [];
  private readonly warned = new Set<string>();
  private readonly lost: string[] = [];
  private isStoppedForLoss = false;
  /** Workers whose own side stopped their segment early (an agent's Ctrl+C), one line each. */
  private readonly interrupted: string[] = [];
  private windowStartMs = 0;
  private readonly planned: ScenarioProgress[];

  constructor(options: ResolvedOptions, listeners: EngineListener[], abortCheck: AbortCheck | undefined, spec: WorkerPoolSpec) {
    this.options = options;
    this.listeners = listeners;
    this.abortCheck = abortCheck;
    this.spec = spec;
    this.registry = new MetricsRegistry(performance.now(), customMetrics());
    this.registry.isDeliveryTracked = false;
    this.planned = options.scenarios.map((scenario) => ({
      name: scenario.name,
      executor: scenario.executor,
      elapsedMs: 0,
      plannedMs: scenarioDurationMs(scenario),
      plannedIterations: plannedIterations(scenario),
      iterationsStarted: 0,
      activeVus: 0,
      allocatedVus: 0,
      queuedArrivals: 0,
      accepted: 0,
      failed: 0,
      dropped: 0,
      state: 'waiting',
    }));
  }

  get isStopping(): boolean {
    return this.stopReason !== undefined;
  }

  /** Stops every worker gracefully (their running messages get gracefulStop). */
  stop(reason: StopReason, message?: string): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.abortMessage = message;
    this.broadcast({ type: 'stop', reason, message });
  }

  /** Cuts off every running message in every worker (a second Ctrl+C). */
  interruptAll(): void {
    this.broadcast({ type: 'interrupt' });
  }

  /** Every scenario's progress, summed over the workers' latest states. */
  progress(): ScenarioProgress[] {
    return mergeProgress(this.workers.flatMap((worker) => (worker.latest ? [worker.latest.progress] : [])), this.planned);
  }

  /** The result of a run whose setup() did not settle (no worker started): as Engine.setupTimedOut. */
  setupTimedOut(): PoolResult {
    this.stopReason ??= 'setup';
    return { registry: this.registry, startedAt: new Date(), durationMs: 0, stopReason: 'setup', scenarios: this.progress(), setupData: undefined, lostWorkers: [], isStoppedForLoss: false };
  }

  /** Runs setup() here, every worker's segment, then teardown() here. */
  async run(): Promise<PoolResult> {
    this.setupData = await runSetup(this.options);
    const { sequence, segments } = workerSegments(this.spec.count);
    try {
      for (let i = 0; i < this.spec.count; i++) this.workers.push(this.startWorker(i + 1, segments[i]!, sequence));
      await this.allReady();
    } catch (error) {
      for (const worker of this.workers) worker.link.kill();
      await Promise.all(this.workers.map((worker) => worker.exit));
      throw error;
    }
    this.emit((listener) => listener.onStart?.(this.options));
    const startedAt = new Date();
    const startMs = performance.now();
    this.registry.resetClock(startMs);
    this.windowStartMs = 0;
    for (const worker of this.workers) worker.startedMs = startMs;
    // The start barrier: every worker was ready; they start on this one message.
    this.broadcast({ type: 'start', setupData: this.setupData });
    const ticker = setInterval(() => this.tick(false), TICK_MS);
    try {
      await Promise.all(this.workers.map((worker) => worker.exit));
    } finally {
      clearInterval(ticker);
    }
    this.tick(true);
    const teardownTimedOut = await runTeardown(this.options, this.setupData, (message) => this.warnOnce(message));
    const durationMs = Math.max(0, ...this.workers.map((worker) => worker.durationMs));
    return {
      registry: this.registry,
      startedAt,
      durationMs,
      // An agent interrupted on its side ended its segment early: the run did not go to its end either
      stopReason: this.stopReason ?? (this.interrupted.length > 0 ? 'interrupt' : undefined),
      scenarios: this.progress(),
      setupData: this.setupData,
      teardownTimedOut,
      lostWorkers: this.lost,
      isStoppedForLoss: this.isStoppedForLoss,
    };
  }

  private startWorker(index: number, segment: string, sequence: string): WorkerHandle {
    const job: WorkerJob = { ...this.spec.job, index, overrides: { ...this.spec.job.overrides, executionSegment: segment, executionSegmentSequence: sequence } };
    const noun = this.spec.noun ?? 'worker';
    const handlers: WorkerLinkHandlers = {
      onMessage: (message) => this.onMessage(handle, message),
      onLine: (line) => this.spec.stderr.write(`${noun} ${index}: ${line}\n`),
    };
    const link = (this.spec.link ?? localWorker)(index, job, handlers);
    const handle: WorkerHandle = {
      index,
      segment,
      link,
      latest: undefined,
      isReady: false,
      isDone: false,
      durationMs: 0,
      startedMs: performance.now(),
      exit: link.exit.then(({ how, hint }) => {
        handle.how = how;
        handle.hint = hint;
        if (!handle.isDone && handle.isReady) {
          const seconds = ((performance.now() - handle.startedMs) / 1000).toFixed(1);
          const line = `${noun} ${index} (segment ${segment}, ${link.label}) ${how} ${seconds} s into the run; what it measured until its last report is kept: ${measuredOf(handle.latest)}`;
          this.lost.push(line);
          this.spec.stderr.write(`error: ${line}\n`);
          if (this.spec.onLoss === 'stop' && !this.isStopping) {
            this.isStoppedForLoss = true;
            this.stop('interrupt', `${noun} ${index} was lost (--on-agent-loss stop)`);
          }
        }
      }),
    };
    // The job goes out at once to a local worker; an agent gets it with the scenario after its welcome.
    this.send(handle, { type: 'job', job });
    return handle;
  }

  private allReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new RunnerError(`not every ${this.spec.noun ?? 'worker'} was ready within ${READY_TIMEOUT_MS / 1000} s`, { code: 'E_WORKERS', exit: 'failure' })), READY_TIMEOUT_MS);
      this.onReady = (failure) => {
        if (failure) {
          clearTimeout(timer);
          reject(failure);
        } else if (this.workers.every((worker) => worker.isReady)) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const worker of this.workers) {
        void worker.exit.then(() => {
          const noun = this.spec.noun ?? 'worker';
          if (!worker.isReady) this.onReady?.(new RunnerError(`${noun} ${worker.index} (${worker.link.label}) ${worker.how ?? 'ended'} before it was ready`, { code: noun === 'agent' ? 'E_AGENT' : 'E_WORKERS', exit: 'failure', hint: worker.hint ?? (noun === 'agent' ? 'check the agent\'s address, that runner agent runs there, and that both sides use the same --token-file' : undefined) }));
        });
      }
    });
  }

  private onReady: ((failure?: RunnerError) => void) | undefined;

  private onMessage(worker: WorkerHandle, message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        worker.isReady = true;
        this.onReady?.();
        break;
      case 'failed':
        // The worker's own error (its options, its script): the run's, said once.
        this.onReady?.(new RunnerError(message.message, { code: 'E_WORKER', exit: exitNameOf(message.exitCode), hint: message.hint }));
        break;
      case 'tick':
        worker.latest = message.snapshot;
        if (message.window) this.pendingWindows.push(message.window);
        break;
      case 'warning':
        this.warnOnce(message.message);
        break;
      case 'batch':
        this.emit((listener) => listener.onBatch?.(`${message.scenario} (worker ${worker.index})`, message.batch, message.accepted, message.failed));
        break;
      case 'done':
        worker.latest = message.snapshot;
        if (message.window) this.pendingWindows.push(message.window);
        worker.durationMs = message.durationMs;
        worker.isDone = true;
        if (message.stopReason === 'interrupt' && this.stopReason === undefined) {
          const line = `${this.spec.noun ?? 'worker'} ${worker.index} (segment ${worker.segment}, ${worker.link.label}) was interrupted on its side and ended its segment early; what it measured is kept`;
          this.interrupted.push(line);
          this.abortMessage = this.interrupted.join('; ');
          this.spec.stderr.write(`warning: ${line}\n`);
        }
        break;
    }
  }

  /** Once a second (and at the end): merge the latest states, close a window, tell listeners, judge abortOnFail. */
  private tick(isFinal: boolean): void {
    const snapshots = this.workers.flatMap((worker) => (worker.latest ? [worker.latest] : []));
    loadSnapshots(this.registry, snapshots);
    const nowMs = performance.now() - this.registry.startMs;
    if (!isFinal || this.pendingWindows.length > 0) {
      const { point, txn } = mergeWindows(this.pendingWindows.splice(0), this.windowStartMs, nowMs, this.registry.vus);
      this.registry.addWindow(point, txn);
      this.windowStartMs = nowMs;
      if (!isFinal) {
        const scenarios = this.progress();
        this.emit((listener) => listener.onTick?.(point, scenarios, this.registry));
      }
    }
    if (!isFinal && this.abortCheck && !this.isStopping) {
      const reason = this.abortCheck(this.registry, nowMs);
      if (reason) this.stop('threshold', reason);
    }
  }

  private broadcast(message: ParentMessage): void {
    for (const worker of this.workers) this.send(worker, message);
  }

  private send(worker: WorkerHandle, message: ParentMessage): void {
    try {
      worker.link.send(message);
    } catch (error) {
      // setup() data that cannot be cloned, or a worker gone between the check and the send.
      if (message.type === 'start') throw new RunnerError(`--workers: setup()'s data cannot be sent to the workers: ${(error as Error).message}`, { code: 'E_WORKERS', exit: 'scriptError', hint: 'return plain data from setup() (objects, arrays, strings, numbers, Dates, Maps), not functions or sockets' });
    }
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.emit((listener) => listener.onWarning?.(message));
  }

  private emit(call: (listener: EngineListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (error) {
        const message = `an output failed: ${(error as Error)?.message ?? String(error)}`;
        if (!this.warned.has(message)) {
          this.warned.add(message);
          this.spec.stderr.write(`warning: ${message}\n`);
        }
      }
    }
  }
}

/** A worker process on this machine (the hidden `runner worker` command), as a WorkerLink. */
function localWorker(_index: number, _job: WorkerJob, handlers: WorkerLinkHandlers): WorkerLink {
  const child: ChildProcess = loadBuiltin('node:child_process').spawn(process.execPath, [runnerCliPath(), 'worker'], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
    // Its own process group: Ctrl+C on a terminal reaches the parent only, which stops the
    // workers itself (gracefully, then their final state is merged).
    detached: true,
  });
  liveChildren.add(child);
  if (liveChildren.size === 1) process.once('exit', killLiveChildren);
  loadBuiltin('node:readline').createInterface({ input: child.stderr! }).on('line', handlers.onLine);
  child.on('message', handlers.onMessage);
  return {
    label: `pid ${child.pid}`,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    kill: () => child.kill('SIGKILL'),
    exit: childEnded(child).then((ended) => {
      liveChildren.delete(child);
      if (liveChildren.size === 0) process.off('exit', killLiveChildren);
      return ended;
    }),
  };
}

/** Worker processes not ended yet: one 'exit' listener ends them all if this process leaves first (one per worker went past Node's 10-listener warning). */
const liveChildren = new Set<ChildProcess>();

function killLiveChildren(): void {
  for (const child of liveChildren) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

/** A lost worker's figures as of its last report: '412 messages accepted, 3 failed' (none before its first report). */
function measuredOf(latest: RegistrySnapshot | undefined): string {
  if (latest === undefined) return 'nothing (it sent no report)';
  let accepted = 0;
  let failed = 0;
  for (const scenario of latest.progress) {
    accepted += scenario.accepted;
    failed += scenario.failed;
  }
  return `${accepted} messages accepted, ${failed} failed`;
}

function exitNameOf(code: number): ConstructorParameters<typeof RunnerError>[1]['exit'] {
  const names = { 100: 'setupTimeout', 104: 'invalidOptions', 107: 'scriptError', 110: 'targetUnreachable' } as const;
  return names[code as keyof typeof names] ?? 'failure';
}
