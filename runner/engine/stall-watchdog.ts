/**
 * A watchdog for a blocked event loop. Scenario code runs on the main thread; a synchronous
 * endless loop in `iteration()` (`while (true) {}`) never yields, so no timer, no signal handler
 * and no deadline of script-deadline.ts can run again: before this, only SIGKILL stopped it and
 * no result was left (issue 19 item 12).
 *
 * A worker thread watches a heartbeat the main thread bumps every HEARTBEAT_MS. The main thread
 * also hands it, every SNAPSHOT_MS, the text of the outputs as they would be written now (the
 * results, JUnit and summary files: each output's `textNow`) and the console summary. When the
 * heartbeat has not moved for `stallLimitMs`, the worker writes those files (marked interrupted,
 * with why), prints the summary, ends the fake proxy and sink children, says what happened on
 * stderr, and ends the process with STALL_EXIT_CODE (102, documented in errors.ts).
 *
 * How a worker ends a process whose main thread never yields: `process.exit()` in a worker ends
 * only the worker, and a signal handler of the main thread would never run. V8 still serves
 * interrupts inside a running loop, and the inspector dispatches its messages through them, so
 * the worker opens an inspector session on the main thread (`connectToMainThread`, no port is
 * opened) and evaluates the exit there. Should that not answer within EXIT_FALLBACK_MS (the main
 * thread blocked in native code, not in JavaScript), SIGKILL remains: exit status 137.
 *
 * A loop that does yield (`await` inside) is not a stall: the gracefulStop deadline handles it.
 * The worker is JavaScript given as text (eval), so the single-file build needs no second entry.
 */
import { ExitCode } from '../errors.ts';
import { loadBuiltin } from '../util/builtin.ts';

/** `--stall-limit` by default: far above any GC pause or busy tick, well below "someone reaches for kill -9". */
export const DEFAULT_STALL_LIMIT = '30s';
/** How often the main thread bumps the heartbeat, ms. */
export const HEARTBEAT_MS = 250;
/** The longest the main thread waits between two snapshots for the worker, ms. */
export const SNAPSHOT_MS = 10_000;
/** The shortest wait between two snapshots, ms: a stall early in a run still leaves its figures. */
export const SNAPSHOT_MIN_MS = 1_000;
/** A snapshot may take at most this share of the main thread's time. */
const SNAPSHOT_SHARE = 0.02;

/**
 * The wait before the next snapshot, ms: as often as once a second while a snapshot is cheap (a
 * short run's results are small), stretched so that building them takes at most 2% of the main
 * thread, and never longer than SNAPSHOT_MS or half the stall limit (so a stall always finds one
 * taken within the limit). Before, a fixed 10 s left every figure at zero when code blocked in
 * the first 10 s of a run.
 */
export function nextSnapshotDelayMs(lastCostMs: number, stallLimitMs: number): number {
  const longest = Math.min(SNAPSHOT_MS, stallLimitMs / 2);
  return Math.min(longest, Math.max(SNAPSHOT_MIN_MS, lastCostMs / SNAPSHOT_SHARE));
}
/** Exit code of a run the watchdog ended. */
export const STALL_EXIT_CODE = ExitCode.stalled;
/** Exit status when even the inspector could not end it (128 + SIGKILL). */
export const STALL_KILL_STATUS = 137;
/** How long the worker waits for the main thread to exit through the inspector before SIGKILL, ms. */
export const EXIT_FALLBACK_MS = 3000;

/** One file the worker writes on a stall. */
export interface StallFile {
  path: string;
  text: string;
}

/** What the worker writes on a stall: files, and the console summary for stdout. */
export interface StallSnapshot {
  files: readonly StallFile[];
  stdout?: string;
}

/** The running watchdog. */
export interface StallWatchdog {
  /** Replaces what is written on a stall. */
  snapshot(snapshot: StallSnapshot): void;
  stop(): Promise<void>;
}

/**
 * Evaluated on the blocked main thread: closes stderr first (Node would print "Waiting for the
 * debugger to disconnect..." on an exit with an inspector session open; ours is said by then),
 * then exits at once: no exit handlers, which could wait on the loop.
 */
const exitExpression = (code: number) => `(() => {
  try {
    const fs = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:fs') : undefined;
    if (fs) fs.closeSync(2); else process.binding('fs').close(2);
  } catch {}
  if (typeof process.reallyExit === 'function') process.reallyExit(${code});
  process.exit(${code});
})()`;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');
const beats = new Int32Array(workerData.heartbeat);
let files = [];
let stdoutText = '';
let last = Atomics.load(beats, 0);
let lastChangeMs = Date.now();
parentPort.on('message', (message) => { files = message.files; stdoutText = message.stdout || ''; });
const writeWhole = (file) => {
  let isSpecial = false;
  try { const info = fs.statSync(file.path); isSpecial = !info.isFile() && !info.isDirectory(); } catch {}
  if (isSpecial) { fs.writeFileSync(file.path, file.text); return; }
  const temp = path.join(path.dirname(file.path), '.' + path.basename(file.path) + '.' + process.pid + '.stall.tmp');
  try { fs.writeFileSync(temp, file.text); } catch (error) { try { fs.unlinkSync(temp); } catch {} throw error; }
  fs.renameSync(temp, file.path);
};
const endMainThread = () => {
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), workerData.fallbackMs);
  try {
    const session = new inspector.Session();
    session.connectToMainThread();
    session.post('Runtime.evaluate', { expression: workerData.exitExpression }, () => {});
  } catch { process.kill(process.pid, 'SIGKILL'); }
};
const watch = setInterval(() => {
  const now = Atomics.load(beats, 0);
  if (now !== last) { last = now; lastChangeMs = Date.now(); return; }
  if (Date.now() - lastChangeMs < workerData.stallLimitMs) return;
  clearInterval(watch);
  const lines = ['', 'error: the event loop has been blocked for ' + (workerData.stallLimitMs / 1000) + ' s: scenario code that never yields (a synchronous endless loop in iteration()?)'];
  for (const file of files) {
    try { writeWhole(file); lines.push('partial results written to ' + file.path); }
    catch (error) { lines.push('error: cannot write ' + file.path + ': ' + error.message); }
  }
  if (files.length === 0) lines.push(stdoutText ? 'no output files to write' : 'no partial results: the run was blocked before its first snapshot');
  lines.push('hint: make every loop in scenario code await something; the run is ended now (exit code ' + workerData.exitCode + ')', '');
  if (stdoutText) { try { fs.writeSync(1, stdoutText); } catch {} }
  try { fs.writeSync(2, lines.join('\\n')); } catch {}
  for (const pid of workerData.childPids) { try { process.kill(pid, 'SIGTERM'); } catch {} }
  endMainThread();
}, Math.min(500, workerData.stallLimitMs));
`;

/**
 * Starts the watchdog: the heartbeat timer on this thread and the worker. `childPids`: processes
 * to end on a stall (the fake proxy), which an `exit` handler would otherwise have ended.
 */
export function startStallWatchdog(options: { stallLimitMs: number; childPids?: readonly number[] }): StallWatchdog {
  const heartbeat = new SharedArrayBuffer(4);
  const beats = new Int32Array(heartbeat);
  const worker = new (loadBuiltin('node:worker_threads').Worker)(WORKER_SOURCE, {
    eval: true,
    workerData: { heartbeat, stallLimitMs: options.stallLimitMs, childPids: options.childPids ?? [], exitCode: STALL_EXIT_CODE, exitExpression: exitExpression(STALL_EXIT_CODE), fallbackMs: EXIT_FALLBACK_MS },
  });
  // Neither keeps the process alive: they only watch it.
  worker.unref();
  const timer = setInterval(() => Atomics.add(beats, 0, 1), HEARTBEAT_MS);
  timer.unref();
  return {
    snapshot(snapshot) {
      worker.postMessage(snapshot);
    },
    async stop() {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}
