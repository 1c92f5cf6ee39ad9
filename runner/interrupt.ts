/**
 * Ctrl+C the way `runner run` and `runner sweep` both take it: the first SIGINT/SIGTERM/SIGHUP asks the
 * work to stop gracefully (and still report); the second means "now": write what is known, then
 * exit 105 at once. One implementation, so both commands behave alike.
 */
import { ExitCode } from './errors.ts';
import { onParentExit } from './parent-watch.ts';

/** What asked us to stop: a signal, or the process that started us exiting (parent-watch.ts). */
export type InterruptCause = NodeJS.Signals | 'the parent process exited';

/**
 * The signals that stop a run: Ctrl+C, `kill`, and SIGHUP (the terminal closed, an SSH session
 * dropped): a hang-up mid-run must not cost the results measured so far.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const satisfies readonly NodeJS.Signals[];

/**
 * After a hang-up the terminal is gone: a write to it fails (EIO) and an unhandled stream error
 * would end the process before the outputs are written. Those writes are dropped instead.
 */
function ignoreDeadTerminal(signal: NodeJS.Signals): void {
  if (signal !== 'SIGHUP') return;
  for (const stream of [process.stdout, process.stderr]) if (stream.listenerCount('error') === 0) stream.on('error', () => {});
}

/** What to do on each of the two signals. */
export interface InterruptHandlers {
  /** First signal (or the parent's exit): start a graceful stop (the caller reports as usual, marked interrupted). */
  onFirst(signal: InterruptCause): void;
  /** Second signal: write what was measured so far; the process exits 105 right after, even if this throws. */
  onSecond(signal: NodeJS.Signals): void;
}

/**
 * Installs the SIGINT/SIGTERM/SIGHUP handlers, and takes the parent's exit as a first signal;
 * returns the function that removes them. A parent that exits after a signal (`npx` under
 * Ctrl+C: the terminal signals npm, its shell and us; they die at once) does not count as a
 * second one.
 */
export function installInterruptHandlers(handlers: InterruptHandlers): () => void {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    ignoreDeadTerminal(signal);
    count++;
    if (count === 1) {
      handlers.onFirst(signal);
      return;
    }
    try {
      handlers.onSecond(signal);
    } finally {
      process.exit(ExitCode.interrupted);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const giveBackParentExit = onParentExit(() => {
    if (count > 0) return;
    count++;
    handlers.onFirst('the parent process exited');
  });
  return () => {
    giveBackParentExit();
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
}

/**
 * After the run has reported, while an endpoint serves its final figures (--dashboard-linger,
 * --metrics-linger): a signal or the parent's exit only ends that wait, so the process still exits
 * with the run's own code (0, 99…), not as killed. Returns the function that removes the handlers.
 */
export function installLingerStop(onStop: (cause: InterruptCause) => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    ignoreDeadTerminal(signal);
    onStop(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const giveBackParentExit = onParentExit(() => onStop('the parent process exited'));
  return () => {
    giveBackParentExit();
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
}

/**
 * Before the load starts (a fixture starting, the preflight), a signal simply stops the run:
 * nothing was sent, so nothing is to be reported. Exiting through process.exit (rather than
 * the default signal death) runs the 'exit' listeners, which end the fake proxy child we started
 * (by its pid): it is in a process group of its own and would be left orphaned (issue 19).
 * Returns the function that removes the handlers (called when installInterruptHandlers takes over).
 */
export function installEarlyExit(stderr: NodeJS.WritableStream): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    ignoreDeadTerminal(signal);
    stderr.write(`\n${signal} before the load started: stopping (no message was sent)\n`);
    process.exit(ExitCode.interrupted);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
}
