/**
 * `--watch-pid PID`: samples the server process's CPU and memory once a second, next to the
 * timeline's msgs/s and latency, so a run shows how hard the proxy worked for its throughput
 * (and whether its memory grows). Without a pid, when the target is on this machine, the
 * process listening on the target port is found by itself.
 */
import type { EngineListener } from '../engine/events.ts';
import { findListeningPid, readProcessName, readProcessSample, type ProcessSample } from './proc.ts';

/** One second of the watched process, aligned with the timeline's `t`. */
export interface WatchSample {
  /** Seconds since the load started (the timeline's t). */
  t: number;
  /** CPU used in the window, % of one core (200 = two cores busy). */
  cpuPercent: number;
  rssBytes: number;
}

/** What the results file and the summary say about the watched process. */
export interface WatchReport {
  pid: number;
  name: string | null;
  /** How the pid was chosen. */
  source: 'flag' | 'listening-port';
  samples: WatchSample[];
  cpuPercentAvg: number | null;
  cpuPercentMax: number | null;
  rssBytesFirst: number | null;
  rssBytesLast: number | null;
  rssBytesMax: number | null;
  /** Whether the process was gone before the run ended. */
  exited: boolean;
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
  private readonly samples: WatchSample[] = [];
  private last: (ProcessSample & { atMs: number }) | undefined;
  private exited = false;

  constructor(pid: number, source: WatchReport['source']) {
    this.pid = pid;
    this.source = source;
    this.name = readProcessName(pid);
    const sample = readProcessSample(pid);
    if (sample) this.last = { ...sample, atMs: performance.now() };
  }

  /** A watcher for `--watch-pid`, or for the local process listening on `port`; undefined if none. */
  static create(pid: number | undefined, host: string, port: number): ProcessWatcher | undefined {
    if (pid !== undefined) return new ProcessWatcher(pid, 'flag');
    if (!isLocalHost(host)) return undefined;
    const found = findListeningPid(port);
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
      const cpuPercent = wallSeconds > 0 ? ((sample.cpuSeconds - this.last.cpuSeconds) / wallSeconds) * 100 : 0;
      this.samples.push({ t: point.t, cpuPercent: Math.round(cpuPercent * 10) / 10, rssBytes: sample.rssBytes });
    }
    this.last = { ...sample, atMs: now };
  }

  report(): WatchReport {
    const cpu = this.samples.map((s) => s.cpuPercent);
    const rss = this.samples.map((s) => s.rssBytes);
    return {
      pid: this.pid,
      name: this.name ?? null,
      source: this.source,
      samples: this.samples,
      cpuPercentAvg: cpu.length ? Math.round((cpu.reduce((a, b) => a + b, 0) / cpu.length) * 10) / 10 : null,
      cpuPercentMax: cpu.length ? Math.max(...cpu) : null,
      rssBytesFirst: rss.length ? rss[0]! : null,
      rssBytesLast: rss.length ? rss[rss.length - 1]! : null,
      rssBytesMax: rss.length ? Math.max(...rss) : null,
      exited: this.exited,
    };
  }
}
