/**
 * One worker process of `runner run --workers N` (started as the hidden `runner worker`
 * command): runs its execution segment of the scenario with its own engine, and reports to its
 * parent over IPC (protocol.ts). It owns no console and writes no file: the parent merges every
 * worker's state, judges thresholds and writes the outputs. setup() and teardown() run in the
 * parent; this process receives setup()'s data with `start`.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import { Engine } from '../engine/engine.ts';
import type { EngineListener } from '../engine/events.ts';
import { loadScenarioFile } from '../scenario/load.ts';
import { resolveOptions } from '../scenario/options.ts';
import { clearCustomMetrics } from '../metrics/custom.ts';
import { RunnerError } from '../errors.ts';
import { WHOLE_STRIPE, shareOf } from '../executors/segment.ts';
import { takeSnapshot, windowSnapshot, type WindowSnapshot } from './snapshot.ts';
import type { ParentMessage, WorkerJob, WorkerMessage } from './protocol.ts';

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

/** Runs this process as a worker until its parent's job is done; returns the exit code. */
export function runWorker(): Promise<number> {
  if (!process.send) return Promise.resolve(2);
  return new Promise((resolveExit) => {
    let engine: Engine | undefined;
    let startWith: ((data: unknown) => void) | undefined;
    const started = new Promise<unknown>((resolve) => (startWith = resolve));
    // The parent gone (killed, crashed): stop at once, nobody will read what we measured.
    process.on('disconnect', () => {
      engine?.stop('interrupt');
      engine?.interruptAll();
      resolveExit(105);
    });
    process.on('message', (message: ParentMessage) => {
      switch (message.type) {
        case 'job':
          void runJob(message.job, (created) => (engine = created), started).then(resolveExit, async (error: unknown) => {
            const isRunnerError = error instanceof RunnerError;
            await send({ type: 'failed', message: (error as Error)?.message ?? String(error), hint: isRunnerError ? error.hint : undefined, exitCode: isRunnerError ? error.exitCode : 1 });
            resolveExit(isRunnerError ? error.exitCode : 1);
          });
          break;
        case 'start':
          startWith?.(message.setupData);
          break;
        case 'stop':
          engine?.stop(message.reason, message.message);
          break;
        case 'interrupt':
          engine?.interruptAll();
          break;
      }
    });
  });
}

async function runJob(job: WorkerJob, onEngine: (engine: Engine) => void, started: Promise<unknown>): Promise<number> {
  clearCustomMetrics((message) => void send({ type: 'warning', message }));
  const loaded = job.scenarioFile ? await loadScenarioFile(job.scenarioFile) : undefined;
  const options = await resolveOptions(loaded?.options ?? job.scenario, job.overrides, {
    file: loaded?.file,
    baseDir: loaded ? dirname(loaded.file) : resolvePath(job.cwd),
    env: job.env,
  });
  // setup() and teardown() are the parent's; a warm-up given in messages is split like the plan.
  options.teardown = undefined;
  const stripe = options.scenarios[0]?.segment ?? WHOLE_STRIPE;
  options.warmup = { ...options.warmup, messages: shareOf(stripe, options.warmup.messages) };
  let lastSent: object | undefined;
  const closedWindow = (registry: Engine['registry']): WindowSnapshot | undefined => {
    const point = registry.lastWindow;
    if (point === undefined || point === lastSent) return undefined;
    lastSent = point;
    return windowSnapshot(point);
  };
  const listener: EngineListener = {
    onTick: (_point, scenarios, registry) => void send({ type: 'tick', snapshot: takeSnapshot(registry, scenarios), window: closedWindow(registry) }),
    onWarning: (message) => void send({ type: 'warning', message }),
    onBatch: (scenario, batch, accepted, failed) => void send({ type: 'batch', scenario, batch, accepted, failed }),
  };
  const engine = new Engine(options, [listener]);
  onEngine(engine);
  await send({ type: 'ready' });
  const setupData = await started;
  const hasSetup = options.setup !== undefined;
  options.setup = hasSetup ? () => setupData : undefined;
  const result = await engine.run();
  await send({
    type: 'done',
    snapshot: takeSnapshot(result.registry, result.scenarios),
    window: closedWindow(result.registry),
    durationMs: result.durationMs,
    stopReason: result.stopReason,
  });
  return 0;
}

/** `runner worker`: runs this worker, sets the exit code, and leaves once the parent has our last report. */
export async function runWorkerCommand(): Promise<void> {
  process.exitCode = await runWorker();
  // The IPC channel keeps the process alive: leave once the parent has our last report.
  if (process.connected) process.disconnect();
}
