/**
 * Noticing that the process that started us is gone. `npx runner …` runs runner under
 * `npm exec` → `sh -c` → node: a SIGTERM to npm (what CI systems and supervisors send) kills
 * npm and the shell at once and never reaches node, which would go on sending to the end of
 * the test, orphaned. Nothing tells a process its parent died except its parent pid changing
 * (to 1 or a subreaper), so the CLI polls it (a getppid() call every half second) and takes a
 * change as a SIGTERM: `runner run` stops gracefully, writes its outputs and exits 105.
 */

/** How often the parent pid is read, ms. */
export const PARENT_POLL_MS = 500;

/** Called when the parent is gone; the innermost listener (the last added) is told, once. */
type ParentExitListener = () => void;

const listeners: ParentExitListener[] = [];
let timer: NodeJS.Timeout | undefined;
let isParentGone = false;

/** Whether the parent that started us is gone: our parent pid is no longer the one we started with. */
export function hasParentExited(initialPpid: number, currentPpid: number): boolean {
  return currentPpid !== initialPpid;
}

/**
 * Starts polling (once per process; the CLI does it). Without a listener, a parent's exit is
 * taken as SIGTERM, so every command ends as it would on one (the fixture server closes).
 */
export function watchParent(intervalMs = PARENT_POLL_MS, readPpid: () => number = () => process.ppid): void {
  if (timer !== undefined) return;
  const initial = readPpid();
  timer = setInterval(() => {
    if (!hasParentExited(initial, readPpid())) return;
    clearInterval(timer);
    isParentGone = true;
    const listener = listeners.at(-1);
    if (listener) listener();
    else process.kill(process.pid, 'SIGTERM');
  }, intervalMs);
  // Polling must never keep a finished command alive.
  timer.unref();
}

/**
 * Takes a parent's exit over from the default SIGTERM (e.g. as the first of Ctrl+C's two
 * signals); returns the function that gives it back. A parent already gone was already told
 * (as SIGTERM): it is not told again.
 */
export function onParentExit(listener: ParentExitListener): () => void {
  if (isParentGone) return () => {};
  listeners.push(listener);
  return () => {
    const index = listeners.lastIndexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  };
}
