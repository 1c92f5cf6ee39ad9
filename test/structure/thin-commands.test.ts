/**
 * Thin commands: each file in runner/commands/ (besides the shared flag modules) only declares
 * flags and calls one function that does the work. Read from the source text: the file exports
 * one register…Command function, and its action calls exactly one function imported from outside
 * runner/commands/ (flag parsing helpers and constants aside), once, with no branch or loop.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const thin = suite('thin commands: flags, then one call');

const COMMANDS_DIR = fileURLToPath(new URL('../../runner/commands/', import.meta.url));
/** The shared flag modules: parsers, groups and the exit-code help, not commands. */
const SHARED = new Set(['flags.ts', 'flag-groups.ts', 'exit-codes.ts']);
/** Imports an action may use besides its one call: parsing a flag's text. */
const PARSING_MODULES = new Set(['commander', '../scenario/duration.ts']);

/** The text of the callback passed to `.action(`, by matching parentheses. */
function actionBody(source: string): string | undefined {
  const start = source.indexOf('.action(');
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start + '.action'.length; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return source.slice(start, i + 1);
  }
  return undefined;
}

/** Value names a file imports from outside commands/ (type imports and parsing modules aside), with dynamic imports' destructured names. */
function workImports(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(/^import (?!type )\{([^}]*)\} from '([^']+)';/gm)) {
    const [, list, from] = match;
    if (from!.startsWith('./') || PARSING_MODULES.has(from!)) continue;
    for (const part of list!.split(',')) {
      const name = part.trim().replace(/^type\s+.*/, '').split(/\s+as\s+/).pop()!;
      if (name && !/^[A-Z][A-Z0-9_]*$/.test(name)) names.push(name);
    }
  }
  for (const match of source.matchAll(/const \{([^}]*)\} = await import\(/g)) names.push(...match[1]!.split(',').map((name) => name.trim()).filter(Boolean));
  return names;
}

const files = readdirSync(COMMANDS_DIR).filter((name) => name.endsWith('.ts') && !SHARED.has(name));

thin('there are commands to check', () => {
  assert.ok(files.length >= 10, files.join(', '));
});

for (const name of files) {
  thin(name, () => {
    const source = readFileSync(join(COMMANDS_DIR, name), 'utf8');
    const exported = [...source.matchAll(/^export (?:async )?(?:function|const|class|let) (\w+)/gm)].map((match) => match[1]);
    assert.equal(exported.length, 1, `${name} exports ${exported.join(', ')}: a command file exports its register…Command only`);
    assert.match(exported[0]!, /^register\w+Command$/);
    const body = actionBody(source);
    assert.ok(body !== undefined, `${name} has no .action(...)`);
    assert.not.match(body!, /\b(?:if|for|while|switch)\s*\(/, `${name}: its action branches or loops; move that into the function it calls`);
    const called = workImports(source).filter((importName) => new RegExp(`\\b${importName}\\(`).test(body!));
    assert.is(called.length, 1, `${name}'s action calls ${called.length === 0 ? 'no imported function' : called.join(', ')}: it must call exactly one function that does the work`);
    const calls = body!.match(new RegExp(`\\b${called[0]}\\(`, 'g'))!.length;
    assert.is(calls, 1, `${name} calls ${called[0]} ${calls} times`);
  });
}

thin.run();
