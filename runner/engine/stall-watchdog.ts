/**
 * A watchdog for a blocked event loop. Scenario code runs on the main thread; a synchronous
 * endless loop in `iteration()` (`while (true) {}`) never yields, so no timer, no signal handler
 * and no deadline of script-deadline.ts can run again: before this, only SIGKILL stopped it and
 * no result was left (issue 19 item 12).
 *
 * A worker thread watches a heartbeat the main thread bumps every HEARTBEAT_MS. The main thread
 * also hands it, every SNAPSHOT_MS, the text of the outputs as they would be written now (the
 * results file at least). When the heartbeat has not moved for `stallLimitMs`, the worker writes
 * those texts (marked aborted, with why), ends the fake proxy child if there is one, prints what
 * happened on stderr, and kills the process (SIGKILL: nothing else can stop a thread that never
 * yields; the exit status is 137). A loop that does yield (`await` inside) is not a stall: the
 * gracefulStop deadline handles it.
 *
 * The worker is JavaScript given as text (eval), so the single-file build needs no second entry.
 */
import { Worker } from 'node:worker_threads';

/** `--stall-limit` by default: far above any GC pause or busy tick, well below "someone reaches for kill -9". */
export const DEFAULT_STALL_LIMIT = '30s';
/** How often the main thread bumps the heartbeat, ms. */
export const HEARTBEAT_MS = 250;
/** How often the main thread hands the worker a fresh snapshot, ms. */
export const SNAPSHOT_MS = 10_000;
/** Exit status of a process the watchdog killed (128 + SIGKILL). */
export const STALL_EXIT_STATUS = 137;

/** One file the worker writes on a stall. */
export interface StallFile {
  path: string;
  text: string;
}

/** The running watchdog. */
export interface StallWatchdog {
  /** Replaces what is written on a stall. */
  snapshot(files: readonly StallFile[]): void;
  stop(): Promise<void>;
}

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const beats = new Int32Array(workerData.heartbeat);
let files = [];
let last = Atomics.load(beats, 0);
let lastChangeMs = Date.now();
parentPort.on('message', (message) => { files = message.files; });
const writeWhole = (file) => {
  let isSpecial = false;
  try { const info = fs.statSync(file.path); isSpecial = !info.isFile() && !info.isDirectory(); } catch {}
  if (isSpecial) { fs.writeFileSync(file.path, file.text); return; }
  const temp = path.join(path.dirname(file.path), '.' + path.basename(file.path) + '.' + process.pid + '.stall.tmp');
  fs.writeFileSync(temp, file.text);
  fs.renameSync(temp, file.path);
};
setInterval(() => {
  const now = Atomics.load(beats, 0);
  if (now !== last) { last = now; lastChangeMs = Date.now(); return; }
  if (Date.now() - lastChangeMs < workerData.stallLimitMs) return;
  const lines = ['', 'error: the event loop has been blocked for ' + (workerData.stallLimitMs / 1000) + ' s: scenario code that never yields (a synchronous endless loop in iteration()?)'];
  for (const file of files) {
    try { writeWhole(file); lines.push('partial results written to ' + file.path); }
    catch (error) { lines.push('error: cannot write ' + file.path + ': ' + error.message); }
  }
  if (files.length === 0) lines.push('no partial results: the run was blocked before its first snapshot');
  lines.push('hint: make every loop in scenario code await something; the process is killed now (exit status 137)', '');
  try { fs.writeSync(2, lines.join('\\n')); } catch {}
  for (const pid of workerData.childPids) { try { process.kill(pid, 'SIGTERM'); } catch {} }
  process.kill(process.pid, 'SIGKILL');
}, Math.min(500, workerData.stallLimitMs));
`;

/**
 * Starts the watchdog: the heartbeat timer on this thread and the worker. `childPids`: processes
 * to end on a stall (the fake proxy), which an `exit` handler would otherwise have ended.
 */
export function startStallWatchdog(options: { stallLimitMs: number; childPids?: readonly number[] }): StallWatchdog {
  const heartbeat = new SharedArrayBuffer(4);
  const beats = new Int32Array(heartbeat);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { heartbeat, stallLimitMs: options.stallLimitMs, childPids: options.childPids ?? [] } });
  // Neither keeps the process alive: they only watch it.
  worker.unref();
  const timer = setInterval(() => Atomics.add(beats, 0, 1), HEARTBEAT_MS);
  timer.unref();
  return {
    snapshot(files) {
      worker.postMessage({ files });
    },
    async stop() {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}
