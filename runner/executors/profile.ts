/**
 * Helpers for the time spans and counts of a load profile that several executors share:
 * stages resolved to ms, and the arithmetic of --scale and --duration (see CliOverrides in
 * scenario/options.ts for the flags' meaning).
 */
import type { Stage } from '../scenario/base-config.ts';
import type { ResolvedStage } from '../scenario/resolved-base.ts';
import { formatDurationMs, parseDurationMs } from '../scenario/duration.ts';

/** Stages as the engine uses them: durations in ms (a copy, so overrides can change it). */
export function resolveStages(stages: readonly Stage[]): ResolvedStage[] {
  return stages.map((stage) => ({ durationMs: parseDurationMs(stage.duration), target: stage.target }));
}

/** Scales a time span by --scale, keeping 0 as 0 and anything else at least 1 ms. */
export function scaleMs(valueMs: number, factor: number): number {
  return valueMs === 0 ? 0 : Math.max(1, Math.round(valueMs * factor));
}

/** Scales an iteration count by --scale: rounded, at least 1 (0 stays 0). */
export function scaleCount(count: number, factor: number): number {
  return count > 0 ? Math.max(1, Math.round(count * factor)) : count;
}

/** Scales every stage's duration by --scale, in place. */
export function scaleStages(stages: ResolvedStage[], factor: number): void {
  for (const stage of stages) stage.durationMs = scaleMs(stage.durationMs, factor);
}

/** Rescales stage durations so they total `totalMs` (--duration; rounding goes to the last stage with time). */
export function fitStages(stages: ResolvedStage[], totalMs: number): void {
  const currentMs = stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  if (currentMs === 0) return;
  let assignedMs = 0;
  let lastWithTime = -1;
  stages.forEach((stage, index) => {
    stage.durationMs = Math.round((stage.durationMs * totalMs) / currentMs);
    assignedMs += stage.durationMs;
    if (stage.durationMs > 0) lastWithTime = index;
  });
  if (lastWithTime >= 0) stages[lastWithTime]!.durationMs += totalMs - assignedMs;
}

/** Stages for the console: '10 over 30s, 0 over 10s'. */
export function describeStages(stages: readonly ResolvedStage[]): string {
  return stages.map((stage) => `${stage.target} over ${formatDurationMs(stage.durationMs)}`).join(', ');
}
