/** The exit-code table as `--help` prints it. */
import { ExitCode } from '../errors.ts';

export const EXIT_CODES_HELP = `
Exit codes:
  ${ExitCode.ok}    the run completed and every threshold passed
  ${ExitCode.failure}    unexpected failure (a bug: please report it)
  ${ExitCode.usage}    wrong command-line usage
  ${ExitCode.thresholdsFailed}   a threshold failed
  ${ExitCode.invalidOptions}  invalid options (scenario file, flags, thresholds)
  ${ExitCode.interrupted}  interrupted (SIGINT/SIGTERM); outputs are written and marked interrupted
  ${ExitCode.scriptError}  the scenario script failed to build or load, or setup() threw
  ${ExitCode.abortedByThreshold}  a threshold with abortOnFail stopped the run
  ${ExitCode.targetUnreachable}  the target could not be reached (preflight)
  ${ExitCode.outputError}  a results file could not be written`;

