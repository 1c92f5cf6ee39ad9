/**
 * The per-second timeline streamed while the run goes on: `--out ndjson=FILE` (one JSON object
 * per line) or `--out csv=FILE`. Each window is appended as one whole line as soon as it closes,
 * so `tail -f` shows the run live and a killed run leaves every completed second on disk. The
 * last, partial window is added at the end. Lines hold every one-second window as it closed,
 * also in runs long enough for the results file's timeline to fold windows (see timeline.ts), and
 * never the window's histogram: ~1 KB of base64 a second would triple every line for something
 * no `tail -f`, `jq` or spreadsheet reads; exact merging reads the results file.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import type { MetricsRegistry, TimelinePoint } from '../metrics/registry.ts';
import type { RunOutput } from './output.ts';
import { assertWritable } from './atomic-write.ts';
import { OutputError } from '../errors.ts';
import { timelinePoint } from '../results/names.ts';

/** Timeline columns, in CSV order. */
export const TIMELINE_COLUMNS: ReadonlyArray<keyof TimelinePoint> = [
  't', 'windowMs', 'started', 'accepted', 'failed', 'dropped', 'msgsPerSecond', 'p50Ms', 'p95Ms', 'p99Ms', 'vus', 'queued', 'messageBytes', 'bytesPerSecond', 'planned',
];

/** One timeline window as an NDJSON line (with wall-clock time, without the histogram). */
export function formatNdjsonLine(point: TimelinePoint, startedAtMs: number): string {
  const { txnHistogram: _histogram, ...fields } = point;
  return JSON.stringify({ time: new Date(startedAtMs + point.t * 1000).toISOString(), ...fields }) + '\n';
}

/** One timeline window as a CSV line; empty cells for missing percentiles (and a missing queue). */
export function formatCsvLine(point: TimelinePoint): string {
  return TIMELINE_COLUMNS.map((column) => {
    const value = point[column];
    if (value === null || value === undefined) return '';
    return column === 'msgsPerSecond' || column === 'bytesPerSecond' ? (value as number).toFixed(3) : String(value);
  }).join(',') + '\n';
}

function createStream(path: string, format: 'ndjson' | 'csv'): RunOutput {
  let fd: number | undefined;
  /** End (t) of the last window written: each window is written once, in order. */
  let writtenUpToT = -Infinity;
  /** The run's registry, known from the first tick. */
  let registry: MetricsRegistry | undefined;
  let startedAtMs = Date.now();
  /** The first write that failed: the stream stops there, and finishing reports it (exit 111). */
  let failure: OutputError | undefined;
  const append = (text: string) => {
    if (fd === undefined) return;
    try {
      writeSync(fd, text);
    } catch (error) {
      // A full disk must not stop the load; the summary still reports everything.
      closeSync(fd);
      fd = undefined;
      failure = new OutputError(`cannot append to ${path}: ${(error as Error).message}`, 'free disk space or choose another path', error);
      throw failure;
    }
  };
  const writePoint = (point: TimelinePoint) => {
    append(format === 'ndjson' ? formatNdjsonLine(point, startedAtMs) : formatCsvLine(point));
    writtenUpToT = point.t;
  };
  const close = (timeline: readonly TimelinePoint[], finalRegistry = registry) => {
    // The window closed after the last tick (the final partial one) is appended now, whole: the
    // registry keeps it, while the summary's timeline may have folded it into a longer point.
    // Without a tick (a run under a second) the timeline holds only unfolded windows.
    const unwritten = finalRegistry ? (finalRegistry.lastWindow ? [finalRegistry.lastWindow] : []) : timeline;
    for (const point of unwritten) if (point.t > writtenUpToT) writePoint(point);
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    // Written up to the failure, not whole: say so rather than list it as written.
    if (failure) throw failure;
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
      onTick(point, _scenarios, tickRegistry) {
        registry = tickRegistry;
        writePoint(point);
      },
    },
    async finish(summary, context) {
      close(summary.timeline.map(timelinePoint), context.result.registry);
    },
    finishNow(summary) {
      close(summary.timeline.map(timelinePoint));
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
