/**
 * Programs some tests drive (chromium, prometheus). Tests never install them: .ci/run does, before
 * the suite. Elsewhere a missing one skips its test with the reason printed; under CI (CI=true) a
 * missing one fails the test instead, so a CI image without it cannot pass by skipping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Whether the suite runs under CI (CI=true, as CI services and .ci/run set it). */
export const IS_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Finds a program by absolute path or on PATH: its path, or undefined. */
export function findProgram(command: string): string | undefined {
  if (command.startsWith('/')) return existsSync(command) ? command : undefined;
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
}

/** Why the program cannot be used (with what installs it), or undefined when it is there. */
export function missingProgram(command: string, debianPackage: string): string | undefined {
  if (findProgram(command)) return undefined;
  return `${command} is not installed (install the Debian package ${debianPackage}: apt-get install -y ${debianPackage}; .ci/run does)`;
}

/** The failure under CI for a missing program: the reason, and that CI must not skip. */
export function missingUnderCi(reason: string): string {
  return `${reason}; under CI (CI=true) the tests need it rather than skip`;
}
