/**
 * What the engine tells the outputs while it runs. Outputs only listen: a listener must return
 * quickly and never throw into the engine (the engine catches and reports listener errors).
 */
import type { TimelinePoint, MetricsRegistry } from '../metrics/registry.ts';
import type { ResolvedOptions } from '../scenario/resolved.ts';

/** Progress of one scenario at a tick. */
export interface ScenarioProgress {
  name: string;
  executor: string;
  /** ms since the scenario started (0 before it starts). */
  elapsedMs: number;
  /** Planned length in ms (without graceful stop). */
  plannedMs: number;
  /** Planned iterations for iteration-based executors, else undefined. */
  plannedIterations: number | undefined;
  iterationsStarted: number;
  activeVus: number;
  allocatedVus: number;
  /** Arrivals waiting for a free VU now (arrival-rate executors; 0 otherwise). */
  queuedArrivals: number;
  accepted: number;
  failed: number;
  dropped: number;
  state: 'waiting' | 'running' | 'draining' | 'done';
  /** A scenario whose rate can be changed while it runs (constant-arrival-rate): its rate now, iterations per second. */
  ratePerSecond?: number;
}

export interface EngineListener {
  onStart?(options: ResolvedOptions): void;
  /** Once a second: the closed timeline window and every scenario's progress. */
  onTick?(point: TimelinePoint, scenarios: ScenarioProgress[], registry: MetricsRegistry): void;
  /** A batch of the `batches` executor finished. */
  onBatch?(scenario: string, batch: { index: number; count: number; sent: number; total: number; durationMs: number }, accepted: number, failed: number): void;
  /** Something the user should know, said once (e.g. dropped iterations). */
  onWarning?(message: string): void;
}
