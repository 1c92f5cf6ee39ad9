/**
 * Finds import cycles among the project's TypeScript files, type-only imports included: a type
 * cycle still ties modules together (neither can move or be read alone), so it counts.
 *
 * Every import form is read with the TypeScript compiler's pre-processor (`ts.preProcessFile`:
 * `import`, `import type`, `export … from`, `import('…')` in code or in a type), which scans
 * the text without type-checking, so the whole tree takes well under a second.
 *
 * Run directly (`npm run check:cycles`) it prints "no cycles" or each cycle and exits 1.
 */
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The project root (this file is test/structure/import-cycles.ts). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The folders whose files may import each other (those tsconfig.json includes). */
const SOURCE_DIRS = ['runner', 'fixtures', 'scenarios', 'test', 'bench'];

/** Folders holding deliberately broken or foreign files that no one imports. */
const SKIPPED_DIRS = new Set(['node_modules', 'data']);

/** Import edges: file → the project files it imports (paths relative to the root, '/' separated). */
export type ImportGraph = Map<string, string[]>;

function listTypeScriptFiles(dir: string, into: string[]): string[] {
  if (!existsSync(dir)) return into;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) listTypeScriptFiles(path, into);
    } else if (/\.(ts|mts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      into.push(path);
    }
  }
  return into;
}

/** Resolves one specifier to a project file, or undefined for packages, builtins and assets. */
function resolveSpecifier(fromFile: string, specifier: string, root: string): string | undefined {
  // tsconfig's "paths" maps the bare name "runner" to the public entry point.
  if (specifier === 'runner') return join(root, 'runner', 'index.ts');
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((path) => /\.(ts|mts|tsx)$/.test(path) && existsSync(path) && statSync(path).isFile());
}

/** Reads every import edge among the project's files under `root`. */
export function readImportGraph(root: string = PROJECT_ROOT, dirs: readonly string[] = SOURCE_DIRS): ImportGraph {
  const files = dirs.flatMap((dir) => listTypeScriptFiles(join(root, dir), []));
  const toName = (path: string) => relative(root, path).split('\\').join('/');
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of importedFiles) {
      const target = resolveSpecifier(file, fileName, root);
      if (target) targets.add(toName(target));
    }
    graph.set(toName(file), [...targets].sort());
  }
  return graph;
}

/**
 * The strongly connected groups of the graph that contain a cycle (more than one file, or a file
 * importing itself), each as its files sorted; Tarjan's algorithm, iterative so depth is no limit.
 */
export function findCyclicGroups(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  let nextIndex = 0;

  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    // Each frame: a node and the position of the next neighbour to visit.
    const frames: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, nextIndex);
    lowLink.set(start, nextIndex++);
    stack.push(start);
    onStack.add(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const neighbours = graph.get(frame.node) ?? [];
      if (frame.next < neighbours.length) {
        const neighbour = neighbours[frame.next++]!;
        if (!index.has(neighbour)) {
          index.set(neighbour, nextIndex);
          lowLink.set(neighbour, nextIndex++);
          stack.push(neighbour);
          onStack.add(neighbour);
          frames.push({ node: neighbour, next: 0 });
        } else if (onStack.has(neighbour)) {
          lowLink.set(frame.node, Math.min(lowLink.get(frame.node)!, index.get(neighbour)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) lowLink.set(parent.node, Math.min(lowLink.get(parent.node)!, lowLink.get(frame.node)!));
      if (lowLink.get(frame.node) === index.get(frame.node)) {
        const group: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          group.push(member);
        } while (member !== frame.node);
        const importsItself = (graph.get(frame.node) ?? []).includes(frame.node);
        if (group.length > 1 || importsItself) groups.push(group.sort());
      }
    }
  }
  return groups.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One shortest cycle through the group's first file, as a path that ends where it starts. */
export function shortestCycle(graph: ImportGraph, group: readonly string[]): string[] {
  const members = new Set(group);
  const start = group[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const neighbour of graph.get(node) ?? []) {
      if (!members.has(neighbour)) continue;
      if (neighbour === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = cameFrom.get(at)) path.push(at);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!cameFrom.has(neighbour)) {
        cameFrom.set(neighbour, node);
        queue.push(neighbour);
      }
    }
  }
  return [start];
}

/** A readable account of the cycles: for each group, one cycle as a path and the group's size. */
export function describeCycles(graph: ImportGraph, groups: readonly string[][]): string {
  return groups
    .map((group) => {
      const cycle = shortestCycle(graph, group);
      const others = group.length > cycle.length - 1 ? `\n  (${group.length} files in this circle: ${group.join(', ')})` : '';
      return `import cycle: ${cycle.join(' → ')}${others}`;
    })
    .join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const graph = readImportGraph();
  const groups = findCyclicGroups(graph);
  if (groups.length === 0) {
    console.log(`no cycles (${graph.size} files, type-only imports included)`);
  } else {
    console.log(describeCycles(graph, groups));
    process.exitCode = 1;
  }
}
