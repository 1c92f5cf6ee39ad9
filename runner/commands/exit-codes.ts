/** The exit-code table as `--help` prints it. */
import { ExitCode } from '../errors.ts';

/** The exit codes, one line each, for `--help` (the README has the same table). */
export const EXIT_CODES_HELP = `
Exit codes:
  ${ExitCode.ok}    the run completed and every threshold passed
  ${ExitCode.failure}    unexpected failure (a bug: please report it)
  ${ExitCode.usage}    wrong command-line usage
  ${ExitCode.thresholdsFailed}   a threshold failed (run), or a regression beyond --fail-on-regression (compare)
  ${ExitCode.setupTimeout}  setup() did not settle within setupTimeout (default 60s); no load was sent, outputs written (aborted)
  ${ExitCode.teardownTimeout}  teardown() did not settle within teardownTimeout (default 60s); outputs are written
  ${ExitCode.stalled}  scenario code blocked the event loop for --stall-limit (default 30s): results, JUnit and summary files
       written as of the last snapshot (marked interrupted), the summary printed, the run ended
  ${ExitCode.generatorLost}  a worker (--workers) or agent (--agents) was lost during the run: named on stderr and in the results,
       what it measured until its last report kept (with --on-agent-loss stop the others stopped there)
  ${ExitCode.invalidOptions}  invalid options (scenario file, flags, thresholds), or an unreadable results file (compare, report, merge)
  ${ExitCode.interrupted}  interrupted (SIGINT/SIGTERM/SIGHUP, or the parent process exited); outputs are written and marked interrupted
  ${ExitCode.scriptError}  the scenario script failed to build or load, setup() threw, every iteration() threw, or handleSummary failed
  ${ExitCode.abortedByThreshold}  a threshold with abortOnFail stopped the run
  ${ExitCode.targetUnreachable}  the target is unreachable or failed the preflight check (connect, greeting, EHLO, AUTH); pause/resume/scale/status: no run answers at --api
  ${ExitCode.outputError}  an output (results, JUnit, summary, report, NDJSON/CSV file; metrics port) could not be written or opened;
       every other output was still written and the summary printed
When several apply, the first of: 105, 108, 103, 101, 111, 99, 107.
  ${ExitCode.adminCheckFailed}  runner check: SMTP is fine but the admin API is unreachable or unhealthy`;

