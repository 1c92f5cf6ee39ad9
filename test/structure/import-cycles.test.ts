import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCycles, findCyclicGroups, readImportGraph, shortestCycle, type ImportGraph } from './import-cycles.ts';

const cycles = suite('import cycles');

cycles('the project has none, type-only imports included', () => {
  const graph = readImportGraph();
  assert.ok(graph.size > 100, `read ${graph.size} files: the walk missed the tree`);
  const groups = findCyclicGroups(graph);
  // The message is the cycle itself, so a failure says which import to move.
  assert.ok(groups.length === 0, `\n${describeCycles(graph, groups)}\n(npm run check:cycles prints the same)`);
});

cycles('smtp/ imports nothing from scenario/ (the scenario layer builds on smtp, not the reverse)', () => {
  const graph = readImportGraph();
  const offending = [...graph].flatMap(([file, targets]) =>
    file.startsWith('runner/smtp/') ? targets.filter((t) => t.startsWith('runner/scenario/')).map((t) => `${file} → ${t}`) : [],
  );
  assert.equal(offending, []);
});

cycles('only cli.ts and commands/ import commands/ (commands declare flags and call down; nothing calls up)', () => {
  const graph = readImportGraph();
  const isCommandLayer = (file: string) => file === 'runner/cli.ts' || file.startsWith('runner/commands/');
  const offending = [...graph].flatMap(([file, targets]) =>
    isCommandLayer(file) || !file.startsWith('runner/') ? [] : targets.filter((t) => t.startsWith('runner/commands/')).map((t) => `${file} → ${t}`),
  );
  assert.equal(offending, []);
});

cycles('each command file only declares flags: it exports one register…Command and nothing else', () => {
  const folder = fileURLToPath(new URL('../../runner/commands/', import.meta.url));
  // The shared parsers, flag groups and help text are the command layer's own library
  const shared = new Set(['flags.ts', 'flag-groups.ts', 'exit-codes.ts']);
  const offending: string[] = [];
  for (const name of readdirSync(folder).filter((file) => file.endsWith('.ts') && !shared.has(file))) {
    const exported = [...readFileSync(join(folder, name), 'utf8').matchAll(/^export\s+(?:async\s+)?(?:function|const|let|class|interface|type|enum|\{)\s*(\w*)/gm)].map((match) => match[1]);
    if (exported.length !== 1 || !/^register\w+Command$/.test(exported[0] ?? '')) offending.push(`${name}: ${exported.join(', ')}`);
  }
  assert.equal(offending, []);
});

/** The leaf layer's helpers (runner/util/): defined there once, imported everywhere else. */
const LEAF_HELPERS = ['paint', 'shouldColor', 'round', 'formatBytes', 'formatLatency', 'formatMs', 'formatTimestamp', 'formatTable', 'editDistance', 'suggestName', 'readJsonFile'];

cycles(`the leaf helpers are written once, in runner/util/ (${LEAF_HELPERS.join(', ')})`, () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const definition = new RegExp(`(?:function|const|let)\\s+(${LEAF_HELPERS.join('|')})\\b`, 'g');
  const offending: string[] = [];
  // runner/ and fixtures/ only: tests and bench may compute their expectations on their own
  const product = [...readImportGraph().keys()].filter((path) => /^(runner|fixtures)\//.test(path) && !path.startsWith('runner/util/'));
  for (const file of product) {
    for (const match of readFileSync(join(root, file), 'utf8').matchAll(definition)) offending.push(`${file}: ${match[1]}`);
  }
  assert.equal(offending, []);
});

const GRAPH_CASES: Array<{ name: string; edges: Record<string, string[]>; cycle: string[] | null }> = [
  { name: 'a chain has none', edges: { a: ['b'], b: ['c'], c: [] }, cycle: null },
  { name: 'a diamond has none', edges: { a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }, cycle: null },
  { name: 'a file importing itself', edges: { a: ['a'] }, cycle: ['a', 'a'] },
  { name: 'two files', edges: { a: ['b'], b: ['a'] }, cycle: ['a', 'b', 'a'] },
  { name: 'the shortest path of a circle with a chord', edges: { a: ['b'], b: ['c', 'a2'], c: ['d'], d: ['a'], a2: ['a'] }, cycle: ['a', 'b', 'a2', 'a'] },
  { name: 'a cycle far from the first file', edges: { a: ['b'], b: ['c'], c: ['d'], d: ['c'] }, cycle: ['c', 'd', 'c'] },
];

for (const { name, edges, cycle } of GRAPH_CASES) {
  cycles(`finder: ${name}`, () => {
    const graph: ImportGraph = new Map(Object.entries(edges));
    const groups = findCyclicGroups(graph);
    assert.equal(groups.length, cycle ? 1 : 0);
    if (cycle) assert.equal(shortestCycle(graph, groups[0]!), cycle);
  });
}

cycles('every import form counts: import type, export from, import() in a type', () => {
  const root = mkdtempSync(join(tmpdir(), 'runner-cycles-'));
  try {
    mkdirSync(join(root, 'runner'));
    writeFileSync(join(root, 'runner', 'a.ts'), "import type { B } from './b.ts';\nexport type A = B;\n");
    writeFileSync(join(root, 'runner', 'b.ts'), "export type { C as B } from './c.ts';\n");
    writeFileSync(join(root, 'runner', 'c.ts'), "export type C = import('./a.ts').A | string;\n");
    const graph = readImportGraph(root, ['runner']);
    const groups = findCyclicGroups(graph);
    assert.equal(groups, [['runner/a.ts', 'runner/b.ts', 'runner/c.ts']]);
    assert.match(describeCycles(graph, groups), 'runner/a.ts → runner/b.ts → runner/c.ts → runner/a.ts');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

cycles.run();
