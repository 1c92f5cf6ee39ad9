/**
 * Each scenario's own figures of the last window, for the live views (console and dashboard):
 * the engine's tick gives cumulative counts per scenario and one timeline point for the whole
 * run; this listener-side helper turns the counts into per-scenario rates (differences between
 * two ticks) and the scenario's own p95 (the difference of its cumulative smtp_txn_duration
 * histograms), so a 20/s scenario beside a 1000/s one shows 20/s, not the run's figures.
 * Nothing here runs per message: once a tick, a few histogram additions per scenario.
 */
import type { ScenarioProgress } from '../engine/events.ts';
import type { MetricsRegistry, TimelinePoint } from '../metrics/registry.ts';
import { TrendSink } from '../metrics/trend.ts';

/** One scenario as a live view shows it: its progress plus its own rates of the last window. */
export interface LiveScenario extends ScenarioProgress {
  /** Accepted messages per second in the last window (this scenario's only). */
  msgsPerSecond: number;
  /** Iterations started per second in the last window: the achieved rate. */
  startedPerSecond: number;
  /** The rate the schedule asks for now (open models), iterations/s; undefined for closed models. */
  plannedPerSecond: number | undefined;
  /** p95 of smtp_txn_duration over the last window, ms; null when nothing completed in it. */
  p95Ms: number | null;
  /** Share of the scenario done, 0..1 (iterations for iteration counts, else time). */
  fraction: number;
}

/** The whole run in the last window. */
export interface LiveTotals {
  /** Seconds since the load started. */
  elapsedSeconds: number;
  /** Planned end of the last scenario (start time + planned length), seconds. */
  plannedSeconds: number;
  msgsPerSecond: number;
  p95Ms: number | null;
  accepted: number;
  failed: number;
  dropped: number;
  activeVus: number;
  allocatedVus: number;
}

/** What a live view draws at a tick. */
export interface LiveFrame {
  scenarios: LiveScenario[];
  totals: LiveTotals;
}

/** What the live figures need to know of a scenario's plan (from the resolved options). */
export interface LivePlan {
  startTimeMs: number;
  /** The planned rate at `elapsedMs` into the scenario (open models), iterations/s. */
  plannedRateAt?(elapsedMs: number): number | undefined;
}

/** Keeps the previous tick's counts per scenario and makes each tick's frame. */
export class LiveFigures {
  private readonly previous = new Map<string, { accepted: number; started: number; txn: TrendSink }>();
  private readonly plans: ReadonlyMap<string, LivePlan>;

  constructor(plans: ReadonlyMap<string, LivePlan> = new Map()) {
    this.plans = plans;
  }

  /** The frame of this tick; call once per tick (it moves the reference counts on). */
  frame(point: TimelinePoint, scenarios: readonly ScenarioProgress[], registry: MetricsRegistry | undefined): LiveFrame {
    const seconds = point.windowMs > 0 ? point.windowMs / 1000 : 1;
    const live = scenarios.map((progress): LiveScenario => {
      const before = this.previous.get(progress.name);
      const txn = new TrendSink();
      if (registry) for (const series of registry.series) if (series.tags['scenario'] === progress.name) txn.add(series.txnDuration);
      const window = windowOf(txn, before?.txn);
      // A warm-up's end resets the counts: the window then starts from zero.
      const accepted = before && progress.accepted >= before.accepted ? progress.accepted - before.accepted : progress.accepted;
      const started = before && progress.iterationsStarted >= before.started ? progress.iterationsStarted - before.started : 0;
      this.previous.set(progress.name, { accepted: progress.accepted, started: progress.iterationsStarted, txn });
      const plan = this.plans.get(progress.name);
      const isActive = progress.state === 'running' || progress.state === 'draining';
      const planned = plan?.plannedRateAt?.(progress.elapsedMs);
      return {
        ...progress,
        msgsPerSecond: before ? accepted / seconds : progress.accepted / seconds,
        startedPerSecond: before ? started / seconds : progress.iterationsStarted / seconds,
        plannedPerSecond: planned === undefined ? undefined : isActive ? planned : 0,
        p95Ms: window.count ? window.percentile(95) / 1000 : null,
        fraction: fractionDone(progress),
      };
    });
    const totals: LiveTotals = {
      elapsedSeconds: point.t,
      plannedSeconds: Math.max(0, ...scenarios.map((s) => ((this.plans.get(s.name)?.startTimeMs ?? 0) + s.plannedMs) / 1000)),
      msgsPerSecond: point.msgsPerSecond,
      p95Ms: point.p95Ms,
      accepted: sum(scenarios, (s) => s.accepted),
      failed: sum(scenarios, (s) => s.failed),
      dropped: sum(scenarios, (s) => s.dropped),
      activeVus: sum(scenarios, (s) => s.activeVus),
      allocatedVus: sum(scenarios, (s) => s.allocatedVus),
    };
    return { scenarios: live, totals };
  }
}

/** Share done: iterations over the planned count, else elapsed over the planned length; 1 once done. */
export function fractionDone(progress: ScenarioProgress): number {
  if (progress.state === 'done') return 1;
  if (progress.state === 'waiting') return 0;
  const fraction = progress.plannedIterations !== undefined && progress.plannedIterations > 0
    ? (progress.accepted + progress.failed) / progress.plannedIterations
    : progress.plannedMs > 0 ? progress.elapsedMs / progress.plannedMs : 0;
  return Math.min(1, Math.max(0, fraction));
}

/** The samples of `now` not in `before` (both cumulative); `now` itself when before is absent or was reset since. */
function windowOf(now: TrendSink, before: TrendSink | undefined): TrendSink {
  if (!before || before.count === 0 || before.count > now.count) return now;
  const window = new TrendSink();
  window.add(now);
  window.histogram.subtract(before.histogram);
  window.count = now.count - before.count;
  window.sum = now.sum - before.sum;
  // The window's extremes are unknown: within the run's (percentile() clamps into [min, max]).
  return window;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}
