/**
 * Where in the user's own code an exception came from. Scenario files are bundled with an inline
 * source map and source maps are on (load.ts), so stack frames name the user's files and lines;
 * this finds the first frame that is theirs — not Node's, not a dependency's, not runner's own
 * (runner/ from source, dist/cli.cjs and dist/index.js when built, or runner/ again when a
 * built frame is mapped back to its source), not the temporary bundle's — and describes the
 * exception with it, so a person sees `TypeError: x is not a function at my-scenario.ts:12:5`
 * and the line, never a stack trace through runner's code.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root: this file is runner/scenario/user-code.ts, or bundled into dist/*. */
const PACKAGE_ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(here) === 'scenario' ? dirname(dirname(here)) : dirname(here);
})();

/** Folders of runner's own code: frames there are never the user's. */
const OWN_CODE_DIRS = [`${PACKAGE_ROOT}${sep}runner${sep}`, `${PACKAGE_ROOT}${sep}dist${sep}`];

/** The temporary bundle load.ts imports (frames the source map could not map). */
const BUNDLE_FILE = /[\\/]runner-scenario-\d+-[0-9a-f-]+\.mjs$/;

/** A position in a user's file. */
export interface SourcePosition {
  path: string;
  line: number;
  column: number;
}

/** The first stack frame in a user's file; `alsoSkip`: a further file to pass over (the bundle being imported). */
export function findUserFrame(stack: string, alsoSkip?: string): SourcePosition | undefined {
  for (const match of stack.matchAll(/\(?((?:file:\/\/)?\/[^():\n]+):(\d+):(\d+)\)?\s*$/gm)) {
    const raw = match[1]!;
    const path = raw.startsWith('file://') ? fileURLToPath(raw) : raw;
    if (path === alsoSkip || BUNDLE_FILE.test(path) || path.includes(`${sep}node_modules${sep}`)) continue;
    if (OWN_CODE_DIRS.some((dir) => path.startsWith(dir))) continue;
    return { path, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

/** A path as people read it: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), file);
  return fromCwd !== '' && !fromCwd.startsWith('..') && !isAbsolute(fromCwd) ? fromCwd : file;
}

/** `  12 | text` and a caret under `column` (0-based, characters). */
export function codeFrame(lineNumber: number, lineText: string, column: number): string {
  const gutter = String(lineNumber);
  const shown = lineText.replace(/\t/g, ' ');
  return `\n  ${gutter} | ${shown}\n  ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, column))}^`;
}

/** The code frame of a position, or '' when its file cannot be read. */
export function codeFrameAt(position: SourcePosition): string {
  try {
    const lineText = readFileSync(position.path, 'utf8').split(/\r?\n/)[position.line - 1];
    return lineText === undefined ? '' : codeFrame(position.line, lineText, position.column - 1);
  } catch {
    return '';
  }
}

/** An exception thrown by scenario code, for people. */
export interface ThrownByUserCode {
  /** `TypeError: x is not a function` (the first line of the message only). */
  message: string;
  /** `my-scenario.ts:12:5`, or null when no frame of the stack is the user's. */
  location: string | null;
  position: SourcePosition | undefined;
}

/** Describes what scenario code threw: its name and message, and where in the user's code. */
export function describeThrown(thrown: unknown): ThrownByUserCode {
  if (!(thrown instanceof Error)) return { message: `threw ${typeof thrown === 'string' ? JSON.stringify(thrown) : String(thrown)}`, location: null, position: undefined };
  const firstLine = thrown.message.split('\n')[0]!;
  const message = firstLine ? `${thrown.name}: ${firstLine}` : thrown.name;
  const position = findUserFrame(thrown.stack ?? '');
  return { message, location: position ? `${displayPath(position.path)}:${position.line}:${position.column}` : null, position };
}
