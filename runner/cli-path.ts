/**
 * The `runner` command's script, for the processes runner starts itself (the worker processes of
 * --workers). At the top of runner/ on purpose: the built bundle (dist/cli.cjs) sits one folder
 * deep too, so the same relative URL finds bin/runner.js from the sources and from the bundle.
 */
import { fileURLToPath } from 'node:url';

/** Absolute path of bin/runner.js. */
export function runnerCliPath(): string {
  return fileURLToPath(new URL('../bin/runner.js', import.meta.url));
}
