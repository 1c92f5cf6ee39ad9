/**
 * `--watch-pid PID`: samples the server process's CPU and memory once a second, next to the
 * timeline's msgs/s and latency, so a run shows how hard the proxy worked for its throughput
 * (and whether its memory grows). Without a pid, when the target is on this machine, the
 * process listening on the target port is found by itself.
 */
import { isIPv4 } from 'node:net';
import type { EngineListener } from '../engine/events.ts';
import type { WatchReport, WatchSample } from './watch-report.ts';
import { findListeningPid, readProcessName, readProcessSample, type ProcessSample } from './proc.ts';
import { BoundedSeries } from '../metrics/bounded-series.ts';
import { DEFAULT_TIMELINE_MAX_POINTS } from '../metrics/timeline.ts';

export type { WatchReport, WatchSample } from './watch-report.ts';

/** A sample as held during the run: with the seconds behind its cpuPercent, so folding stays exact. */
interface HeldSample extends WatchSample {
  cpuSeconds: number;
  wallSeconds: number;
}

/** Options of a watcher. */
export interface WatcherOptions {
  /** Most samples kept (longer runs fold adjacent ones, like the timeline). @default DEFAULT_TIMELINE_MAX_POINTS (7200) */
  maxSamples?: number;
}

/** Two adjacent samples as one: CPU over both windows' wall time, the later RSS. */
function mergeSamples(earlier: HeldSample, later: HeldSample): HeldSample {
  const cpuSeconds = earlier.cpuSeconds + later.cpuSeconds;
  const wallSeconds = earlier.wallSeconds + later.wallSeconds;
  return { t: later.t, cpuPercent: roundCpu(wallSeconds > 0 ? (cpuSeconds / wallSeconds) * 100 : 0), rssBytes: later.rssBytes, cpuSeconds, wallSeconds };
}

function roundCpu(percent: number): number {
  return Math.round(percent * 10) / 10;
}

/** Hosts that mean "this machine": only then can a listening process be looked up. */
export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Samples one process on every engine tick. */
export class ProcessWatcher implements EngineListener {
  readonly pid: number;
  readonly source: WatchReport['source'];
  private readonly name: string | undefined;
  /** Bounded however long the run; the figures below are kept over every sample, exactly. */
  private readonly samples: BoundedSeries<HeldSample>;
  private sampleCount = 0;
  private cpuPercentSum = 0;
  private cpuPercentMax = -Infinity;
  private rssBytesFirst: number | undefined;
  private rssBytesLast: number | undefined;
  private rssBytesMax = -Infinity;
  private last: (ProcessSample & { atMs: number }) | undefined;
  private exited = false;

  constructor(pid: number, source: WatchReport['source'], options: WatcherOptions = {}) {
    this.pid = pid;
    this.source = source;
    // Folding samples is a few additions: all pairs at once.
    this.samples = new BoundedSeries({ maxItems: options.maxSamples ?? DEFAULT_TIMELINE_MAX_POINTS, merge: mergeSamples, pairsPerAdd: Infinity });
    this.name = readProcessName(pid);
    const sample = readProcessSample(pid);
    if (sample) this.last = { ...sample, atMs: performance.now() };
  }

  /** A watcher for `--watch-pid`, or for the local process listening on `port`; undefined if none. */
  static create(pid: number | undefined, host: string, port: number): ProcessWatcher | undefined {
    if (pid !== undefined) return new ProcessWatcher(pid, 'flag');
    if (!isLocalHost(host)) return undefined;
    const found = findListeningPid(port, isIPv4(host));
    // Never watch ourselves: with an in-process fake proxy the numbers would be our own.
    return found !== undefined && found !== process.pid ? new ProcessWatcher(found, 'listening-port') : undefined;
  }

  /** Whether the process exists now. */
  isAlive(): boolean {
    return readProcessSample(this.pid) !== undefined;
  }

  onTick(point: { t: number }): void {
    if (this.exited) return;
    const now = performance.now();
    const sample = readProcessSample(this.pid);
    if (!sample) {
      this.exited = true;
      return;
    }
    if (this.last) {
      const wallSeconds = (now - this.last.atMs) / 1000;
      const cpuSeconds = sample.cpuSeconds - this.last.cpuSeconds;
      const cpuPercent = roundCpu(wallSeconds > 0 ? (cpuSeconds / wallSeconds) * 100 : 0);
      this.samples.add({ t: point.t, cpuPercent, rssBytes: sample.rssBytes, cpuSeconds, wallSeconds });
      this.sampleCount++;
      this.cpuPercentSum += cpuPercent;
      if (cpuPercent > this.cpuPercentMax) this.cpuPercentMax = cpuPercent;
      this.rssBytesFirst ??= sample.rssBytes;
      this.rssBytesLast = sample.rssBytes;
      if (sample.rssBytes > this.rssBytesMax) this.rssBytesMax = sample.rssBytes;
    }
    this.last = { ...sample, atMs: now };
  }

  /** What the results file says about the process; avg and max are over every 1 s sample, folded or not. */
  report(): WatchReport {
    const any = this.sampleCount > 0;
    return {
      pid: this.pid,
      name: this.name ?? null,
      source: this.source,
      samples: this.samples.items.map(({ t, cpuPercent, rssBytes }) => ({ t, cpuPercent, rssBytes })),
      cpuPercentAvg: any ? Math.round((this.cpuPercentSum / this.sampleCount) * 10) / 10 : null,
      cpuPercentMax: any ? this.cpuPercentMax : null,
      rssBytesFirst: this.rssBytesFirst ?? null,
      rssBytesLast: this.rssBytesLast ?? null,
      rssBytesMax: any ? this.rssBytesMax : null,
      exited: this.exited,
    };
  }
}
