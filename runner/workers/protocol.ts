/**
 * The messages between `runner run --workers N` (the parent) and its worker processes, over the
 * child-process IPC channel (structured clone: setup() data may hold Dates, Maps, …).
 *
 * parent → worker: `job` (what to run: the scenario file and the flags, with the worker's
 * execution segment), then `start` once every worker is `ready` (the start barrier; it carries
 * setup()'s data), and at any time `stop` (a graceful stop: Ctrl+C, a threshold's abortOnFail)
 * or `interrupt` (cut every running message off now).
 * worker → parent: `ready`, then once a second `tick` (its registry's state and its closed
 * window), `warning`s and `batch`es as they come, and `done` with its final state; `failed` when
 * it cannot run (bad options, a script error), with the error to report.
 */
import type { CliOverrides } from '../scenario/options.ts';
import type { ScenarioFileOptions } from '../scenario/types.ts';
import type { StopReason } from '../engine/engine.ts';
import type { RegistrySnapshot, WindowSnapshot } from './snapshot.ts';

/** What one worker runs: the same scenario as its parent, with its own execution segment in `overrides`. */
export interface WorkerJob {
  /** 1-based, for messages ('worker 2'). */
  index: number;
  /** Absolute path of the scenario file, or undefined with `scenario` (data) or a flags-only run. */
  scenarioFile: string | undefined;
  scenario: ScenarioFileOptions | undefined;
  overrides: CliOverrides;
  cwd: string;
  env: Record<string, string | undefined>;
}

export type ParentMessage =
  | { type: 'job'; job: WorkerJob }
  | { type: 'start'; setupData: unknown }
  | { type: 'stop'; reason: StopReason; message: string | undefined }
  | { type: 'interrupt' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'tick'; snapshot: RegistrySnapshot; window: WindowSnapshot | undefined }
  | { type: 'warning'; message: string }
  | { type: 'batch'; scenario: string; batch: { index: number; count: number; sent: number; total: number; durationMs: number }; accepted: number; failed: number }
  | { type: 'done'; snapshot: RegistrySnapshot; window: WindowSnapshot | undefined; durationMs: number; stopReason: StopReason | undefined }
  | { type: 'failed'; message: string; hint: string | undefined; exitCode: number };

/**
 * One worker as the pool drives it, wherever it runs: a child process here (pool.ts) or an agent
 * on another machine (agents/remote.ts). The pool sends it ParentMessages and hears its
 * WorkerMessages; `exit` settles when it is gone, saying how ('was killed (SIGKILL)', 'refused:
 * wrong token', 'connection lost').
 */
export interface WorkerLink {
  /** How messages name it: 'pid 4242', 'agent 10.0.0.5:6565'. */
  label: string;
  send(message: ParentMessage): void;
  /** Ends it now (a failed start, the parent leaving). */
  kill(): void;
  /** `hint`: what to do about it, when the link knows better than the pool (a TLS mismatch). */
  exit: Promise<{ how: string; hint?: string }>;
}

/** What a link reports to the pool. */
export interface WorkerLinkHandlers {
  onMessage(message: WorkerMessage): void;
  /** A line of its stderr (a local worker) or of the agent's notes. */
  onLine(line: string): void;
}
