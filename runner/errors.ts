/**
 * Typed errors. Every mistake a user can make surfaces as a RunnerError with a stable `code`,
 * the process exit code it maps to and an optional `hint` saying what to do instead; the CLI
 * prints `error: <message>` and the hint, never a stack trace.
 */

/**
 * Process exit codes, one table (k6's numbers where k6 has the same meaning). When several
 * apply, the first of: 105 interrupted, 108 aborted by a threshold, 103 a worker or agent lost,
 * 101 teardown timed out, 111 an output failed, 99 a threshold failed, 107 handleSummary failed
 * (run.ts `exitCodeOf`, and the lost-worker check before it).
 */
export const ExitCode = {
  ok: 0,
  /** Generic failure that has no more specific code (a bug, an unexpected exception). */
  failure: 1,
  /** Wrong command-line usage: unknown flag, bad flag value. */
  usage: 2,
  /** The run finished but at least one threshold failed. */
  thresholdsFailed: 99,
  /** `setup()` did not settle within `setupTimeout` (k6's number); no load was sent, the outputs are written (aborted). */
  setupTimeout: 100,
  /** `teardown()` did not settle within `teardownTimeout` (k6's number); the outputs are written. */
  teardownTimeout: 101,
  /**
   * Scenario code blocked the event loop for `--stall-limit` (a synchronous endless loop): the
   * watchdog wrote the outputs of its last snapshot and ended the run (k6's generic timeout number).
   */
  stalled: 102,
  /** A worker (--workers) or an agent (--agents) was lost during the run: named on stderr and in the results, what it measured until its last report kept. */
  generatorLost: 103,
  /** Options are invalid (schema or semantic check, bad threshold, unknown metric). */
  invalidOptions: 104,
  /** The run was interrupted (SIGINT/SIGTERM/SIGHUP); outputs are written and marked interrupted. */
  interrupted: 105,
  /** The scenario script failed to build, load or threw in setup/teardown. */
  scriptError: 107,
  /** A threshold with `abortOnFail` stopped the run early. */
  abortedByThreshold: 108,
  /** The target could not be reached or refused the preflight check. */
  targetUnreachable: 110,
  /** An output (results file, report, NDJSON/CSV stream, metrics port) could not be written; every other output still was, and the summary printed. */
  outputError: 111,
  /** `runner check`: the SMTP side passed but the admin API is unreachable, unhealthy or answers oddly. */
  adminCheckFailed: 112,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

/** Base error: what went wrong, its stable code, its exit code and how to fix it. */
export class RunnerError extends Error {
  override name = 'RunnerError';
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: { code: string; exit: ExitCodeName; hint?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.exitCode = ExitCode[options.exit];
    this.hint = options.hint;
  }
}

/** Options failed validation; `problems` lists every problem found, each with its path. */
export class InvalidOptionsError extends RunnerError {
  override name = 'InvalidOptionsError';
  readonly problems: string[];
  constructor(problems: string[], hint?: string) {
    super(
      problems.length === 1 ? `invalid options: ${problems[0]}` : `invalid options:\n  - ${problems.join('\n  - ')}`,
      { code: 'E_INVALID_OPTIONS', exit: 'invalidOptions', hint },
    );
    this.problems = problems;
  }
}

/** The scenario file could not be bundled or loaded, or its setup/teardown threw. */
export class ScriptError extends RunnerError {
  override name = 'ScriptError';
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { code: 'E_SCRIPT', exit: 'scriptError', hint, cause });
  }
}

/** The target refused or could not be reached before any load was sent. */
export class TargetUnreachableError extends RunnerError {
  override name = 'TargetUnreachableError';
  constructor(message: string, hint?: string) {
    super(message, { code: 'E_TARGET_UNREACHABLE', exit: 'targetUnreachable', hint });
  }
}

/** A results file or report could not be written. */
export class OutputError extends RunnerError {
  override name = 'OutputError';
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { code: 'E_OUTPUT', exit: 'outputError', hint, cause });
  }
}

/** Wrong command-line usage. */
export class UsageError extends RunnerError {
  override name = 'UsageError';
  constructor(message: string, hint?: string) {
    super(message, { code: 'E_USAGE', exit: 'usage', hint });
  }
}

/** Scenario code (setup) did not settle within its timeout. */
export class ScriptTimeoutError extends RunnerError {
  override name = 'ScriptTimeoutError';
  constructor(message: string, exit: 'setupTimeout' | 'teardownTimeout', hint?: string) {
    super(message, { code: exit === 'setupTimeout' ? 'E_SETUP_TIMEOUT' : 'E_TEARDOWN_TIMEOUT', exit, hint });
  }
}

/** The delivery source (a runner sink's admin port, a mailbox) could not be reached before the load. */
export class DeliverySourceError extends RunnerError {
  override name = 'DeliverySourceError';
  constructor(message: string, hint?: string) {
    super(message, { code: 'E_DELIVERY_SOURCE', exit: 'targetUnreachable', hint });
  }
}
