/**
 * The per-second timeline streamed while the run goes on: `--out ndjson=FILE` (one JSON object
 * per line) or `--out csv=FILE`. Each window is appended as one whole line as soon as it closes,
 * so `tail -f` shows the run live and a killed run leaves every completed second on disk. The
 * last, partial window is added at the end.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import type { TimelinePoint } from '../metrics/registry.ts';
import type { RunOutput } from './output.ts';
import { assertWritable } from './atomic-write.ts';
import { OutputError } from '../errors.ts';

/** Timeline columns, in CSV order. */
export const TIMELINE_COLUMNS: ReadonlyArray<keyof TimelinePoint> = [
  't', 'windowMs', 'started', 'accepted', 'failed', 'dropped', 'msgsPerSecond', 'p50Ms', 'p95Ms', 'p99Ms', 'vus',
];

/** One timeline window as an NDJSON line (with wall-clock time). */
export function formatNdjsonLine(point: TimelinePoint, startedAtMs: number): string {
  return JSON.stringify({ time: new Date(startedAtMs + point.t * 1000).toISOString(), ...point }) + '\n';
}

/** One timeline window as a CSV line; empty cells for missing percentiles. */
export function formatCsvLine(point: TimelinePoint): string {
  return TIMELINE_COLUMNS.map((column) => {
    const value = point[column];
    if (value === null) return '';
    return column === 'msgsPerSecond' ? (value as number).toFixed(3) : String(value);
  }).join(',') + '\n';
}

function createStream(path: string, format: 'ndjson' | 'csv'): RunOutput {
  let fd: number | undefined;
  let written = 0;
  let startedAtMs = Date.now();
  const append = (text: string) => {
    if (fd === undefined) return;
    try {
      writeSync(fd, text);
    } catch (error) {
      // A full disk must not stop the load; the summary still reports everything.
      closeSync(fd);
      fd = undefined;
      throw new OutputError(`cannot append to ${path}: ${(error as Error).message}`, 'free disk space or choose another path', error);
    }
  };
  const writePoint = (point: TimelinePoint) => {
    append(format === 'ndjson' ? formatNdjsonLine(point, startedAtMs) : formatCsvLine(point));
    written++;
  };
  const close = (timeline: TimelinePoint[]) => {
    // Windows closed after the last tick (the final partial one) are appended now.
    for (const point of timeline.slice(written)) writePoint(point);
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    description: format === 'ndjson' ? 'NDJSON timeline' : 'CSV timeline',
    path,
    async prepare() {
      await assertWritable(path, `${format} timeline`);
      fd = openSync(path, 'w');
      if (format === 'csv') append(TIMELINE_COLUMNS.join(',') + '\n');
    },
    listener: {
      onStart() {
        startedAtMs = Date.now();
      },
      onTick(point) {
        writePoint(point);
      },
    },
    async finish(summary) {
      close(summary.timeline);
    },
    finishNow(summary) {
      close(summary.timeline);
    },
  };
}

/** `--out ndjson=FILE`. */
export function createNdjsonOutput(path: string): RunOutput {
  return createStream(path, 'ndjson');
}

/** `--out csv=FILE`. */
export function createCsvOutput(path: string): RunOutput {
  return createStream(path, 'csv');
}
