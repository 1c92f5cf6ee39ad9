/**
 * The `runner` command: parses flags with commander and delegates. Mistakes of the user come
 * out as one `error:` line with a `hint:`, and a documented exit code; never a stack trace.
 */
import { redact } from './redact.ts';
import { escapeControl } from './util/escape.ts';
import { Command } from 'commander';
import { RUNNER_VERSION } from './version.ts';
import { ExitCode, RunnerError } from './errors.ts';
import { watchParent } from './parent-watch.ts';
import { EXIT_CODES_HELP } from './commands/exit-codes.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerFixtureCommand } from './commands/fixture.ts';
import { registerSinkCommand } from './commands/sink.ts';
import { registerCompareCommand } from './commands/compare.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerMergeCommand } from './commands/merge.ts';
import { registerCheckCommand } from './commands/check.ts';
import { registerReportHtmlCommand } from './commands/report-html.ts';
import { registerSweepCommand } from './commands/sweep.ts';
import { registerInitCommand } from './commands/init.ts';
import { registerWorkerCommand } from './commands/worker.ts';
import { registerInspectCommand } from './commands/inspect.ts';
import { registerArchiveCommand } from './commands/archive.ts';
import { registerPauseCommand } from './commands/pause.ts';
import { registerResumeCommand } from './commands/resume.ts';
import { registerScaleCommand } from './commands/scale.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerAgentCommand } from './commands/agent.ts';

/** Builds the command tree (exported for tests of --help and parsing). */
export function buildProgram(): Command {
  const program = new Command('runner')
    .description('Scripted load testing for SMTP: scenarios as code, exact numbers, CI gates.')
    .version(RUNNER_VERSION)
    .showHelpAfterError('hint: add --help to list the commands, flags and defaults')
    // Before any subcommand is added, so they inherit it: errors come back to main().
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);

  registerRunCommand(program);
  registerFixtureCommand(program);
  registerSinkCommand(program);
  registerCompareCommand(program);
  registerReportCommand(program);
  registerMergeCommand(program);
  registerCheckCommand(program);
  registerReportHtmlCommand(program);
  registerSweepCommand(program);
  registerInitCommand(program);
  registerWorkerCommand(program);
  registerInspectCommand(program);
  registerArchiveCommand(program);
  registerStatusCommand(program);
  registerPauseCommand(program);
  registerResumeCommand(program);
  registerScaleCommand(program);
  registerAgentCommand(program);
  return program;
}

/** Runs the CLI with process.argv; sets process.exitCode (bin/runner.js exits with it). */
export async function main(argv = process.argv): Promise<void> {
  // `npx runner` under a supervisor: a SIGTERM kills npm and its shell, never us; notice it.
  watchParent();
  // A reader that went away (a pipe to a killed parent) must not crash a run before its results are written.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', ignoreBrokenPipe);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

function ignoreBrokenPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

/** Prints an error for people and returns the exit code it maps to. */
function reportError(error: unknown): number {
  const code = (error as { code?: string })?.code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    // commander already printed the message (or the help/version it was asked for).
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (error instanceof RunnerError) {
    // A message may quote a server's reply, our command or a file: never with a secret in it,
    // never with a control character the terminal would obey (issue 19)
    process.stderr.write(`error: ${escapeControl(redact(error.message), true)}\n`);
    if (error.hint) process.stderr.write(`hint: ${escapeControl(redact(error.hint), true)}\n`);
    return error.exitCode;
  }
  process.stderr.write(`error: unexpected failure (a bug in runner; please report it):\n${escapeControl(redact((error as Error)?.stack ?? String(error)), true)}\n`);
  return ExitCode.failure;
}
