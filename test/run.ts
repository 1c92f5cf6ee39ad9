/**
 * The test driver behind `npm test`: the unit tier first, then the real-time tier in parallel
 * processes, and one closing block in uvu's own words (Total / Passed / Skipped) that .ci/run reads.
 *
 * Two tiers, told apart by what a file touches (see isRealTime):
 * - unit: pure code (no sockets, no child processes, no waiting on the clock); a few uvu
 *   processes run them all in seconds.
 * - real-time: end-to-end runs, fake servers, child processes, real timers. Each file runs in its
 *   own uvu process, up to TEST_WORKERS at once (default: three times the core count, since most of
 *   these files wait on the clock or on their servers rather than compute), the longest first
 *   (the times of the last run are kept in the temp folder), so the slowest file starts at once
 *   instead of last.
 *
 * With --typecheck, the type checks (`tsc -p .` and the report's browser script) run in the same
 * pool as the real-time files, beside them rather than before them; each counts as one test.
 *
 * Usage: node --import tsx test/run.ts [--unit] [--typecheck] [path regex]   e.g. test/run.ts 'smtp/'
 * (--unit: the unit tier only, `npm run test:unit`).
 * Env: TEST_WORKERS (processes at once), TEST_FILE_LIMIT_MS (a file still running after this
 * is killed and counted as failed; default 10 minutes: a hang, not a slow machine).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEST_DIR = join(ROOT, 'test');
const UVU_BIN = join(ROOT, 'node_modules', 'uvu', 'bin.js');
const TSC_BIN = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** The type checks --typecheck runs: the project, and the HTML report's browser script. */
const TYPE_CHECKS: ReadonlyArray<{ label: string; project: string }> = [
  { label: 'typecheck: tsc -p .', project: '.' },
  { label: 'typecheck: tsc -p runner/outputs/report-assets', project: 'runner/outputs/report-assets' },
];
/** Each real-time file's wall time in the last run, per checkout (outside the tree: node_modules may be shared). */
const TIMES_FILE = join(tmpdir(), 'runner-test-times', `${ROOT.replace(/[^A-Za-z0-9]+/g, '_')}.json`);

/**
 * What makes a file real-time: it starts servers or processes, sends over sockets, or sets
 * timers. A file may also say so itself with a line `// test-tier: real-time` (or `unit`).
 */
const REAL_TIME_MARKERS = new RegExp(
  [
    'withFakeProxy', 'runAgainst', 'startRawServer', 'runCommand', 'new SmtpSession', 'ProcessWatcher',
    'cli-process', 'fixtures/', 'node:(net|tls|http|https|child_process|dgram)', 'fetch\\(', 'setTimeout', 'setInterval',
  ].join('|'),
);

interface TestFile {
  /** Path under test/, '/' separated: what uvu's pattern matches. */
  name: string;
  isRealTime: boolean;
}

/** The outcome of one uvu process. */
interface Outcome {
  label: string;
  total: number;
  passed: number;
  skipped: number;
  exitCode: number | null;
  durationMs: number;
  output: string;
  /** Why the process's own count cannot be trusted (crashed, killed), or undefined. */
  broken?: string;
}

function listTestFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'data' || entry.name === 'node_modules' ? [] : listTestFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Whether a test file belongs to the real-time tier (see REAL_TIME_MARKERS). */
export function isRealTime(source: string): boolean {
  const declared = /^\/\/ test-tier: (unit|real-time)\s*$/m.exec(source)?.[1];
  if (declared) return declared === 'real-time';
  return REAL_TIME_MARKERS.test(source);
}

const stripColour = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** uvu's closing counts from its output; undefined when it printed none (it crashed first). */
export function readUvuTotals(output: string): { total: number; passed: number; skipped: number } | undefined {
  const plain = stripColour(output);
  const read = (label: string) => {
    const matches = [...plain.matchAll(new RegExp(`^ *${label}: *(\\d+)`, 'gm'))];
    return matches.length ? Number(matches.at(-1)![1]) : undefined;
  };
  const total = read('Total');
  const passed = read('Passed');
  if (total === undefined || passed === undefined) return undefined;
  return { total, passed, skipped: read('Skipped') ?? 0 };
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs uvu over the given files in one process and collects its outcome. */
function runUvu(label: string, files: readonly string[], fileLimitMs: number): Promise<Outcome> {
  const pattern = `^(${files.map(escapeRegex).join('|')})$`;
  return runProcess(label, ['--import', 'tsx', UVU_BIN, 'test', pattern], fileLimitMs, readUvuTotals);
}

/** Runs a type check: one test, passed when tsc exits 0; its errors are the failure's details. */
async function runTypeCheck(label: string, project: string, fileLimitMs: number): Promise<Outcome> {
  const outcome = await runProcess(label, [TSC_BIN, '-p', project], fileLimitMs, () => undefined);
  if (outcome.broken?.startsWith('still running')) return outcome;
  const passed = outcome.exitCode === 0 ? 1 : 0;
  return { ...outcome, total: 1, passed, broken: undefined, output: outcome.output.trimEnd() || 'no type errors' };
}

/** Runs `node <args>` in ROOT and collects its outcome; `readTotals` reads its counts from its output. */
function runProcess(label: string, args: string[], fileLimitMs: number, readTotals: (output: string) => ReturnType<typeof readUvuTotals>): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    // Its own process group, so a hung file is stopped with every process it started.
    const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    let killedAfterLimit = false;
    const limit = setTimeout(() => {
      killedAfterLimit = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, fileLimitMs);
    child.on('close', (exitCode) => {
      clearTimeout(limit);
      const output = Buffer.concat(chunks).toString('utf8');
      const totals = readTotals(output);
      const outcome: Outcome = { label, total: 0, passed: 0, skipped: 0, exitCode, durationMs: performance.now() - started, output, ...totals };
      if (killedAfterLimit) outcome.broken = `still running after ${fileLimitMs / 1000} s: killed (TEST_FILE_LIMIT_MS)`;
      else if (!totals) outcome.broken = `exited ${exitCode} before uvu printed its totals`;
      else if (exitCode !== 0 && totals.passed === totals.total) outcome.broken = `exited ${exitCode} although every test passed (an error after the tests?)`;
      resolve(outcome);
    });
  });
}

/** Runs the tasks at most `workers` at a time, in the order given. */
async function runPool<T>(tasks: ReadonlyArray<() => Promise<T>>, workers: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, tasks.length) }, worker));
  return results;
}

function readLastTimes(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(TIMES_FILE, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

/** A real-time file that took less than this last time shares its process with other short ones, ms. */
const SHORT_FILE_MS = 4_000;
/** The most last-run time one process of short files gathers, ms. */
const SHORT_GROUP_MS = 8_000;

/**
 * The real-time processes to start, in order: each file of the last run's SHORT_FILE_MS or more
 * (or never timed) alone, the short ones gathered up to SHORT_GROUP_MS per process, since a
 * process's start (Node, the TypeScript loader, the imports) costs about as much CPU as a short
 * file's tests. uvu runs a process's files one after the other.
 */
export function packShortFiles(ordered: readonly string[], lastTimes: Readonly<Record<string, number>>): string[][] {
  const alone = ordered.filter((name) => !((lastTimes[name] ?? Infinity) < SHORT_FILE_MS)).map((name) => [name]);
  const groups: string[][] = [];
  let current: string[] = [];
  let currentMs = 0;
  for (const name of ordered.filter((name) => (lastTimes[name] ?? Infinity) < SHORT_FILE_MS)) {
    if (current.length > 0 && currentMs + lastTimes[name]! > SHORT_GROUP_MS) {
      groups.push(current);
      current = [];
      currentMs = 0;
    }
    current.push(name);
    currentMs += lastTimes[name]!;
  }
  if (current.length > 0) groups.push(current);
  return [...alone, ...groups];
}

/** Keeps each file's time for the next run's order: a group's time is shared in proportion to its files' last times. */
function recordTimes(times: Record<string, number>, group: readonly string[], durationMs: number): void {
  const lastSum = group.reduce((sum, name) => sum + (times[name] ?? 0), 0);
  for (const name of group) times[name] = Math.round(group.length === 1 || lastSum === 0 ? durationMs / group.length : (durationMs * (times[name] ?? 0)) / lastSum);
}

function printOutcome(outcome: Outcome): void {
  process.stdout.write(`\n── ${outcome.label} (${(outcome.durationMs / 1000).toFixed(1)} s)\n${outcome.output.trimEnd()}\n`);
  if (outcome.broken) process.stdout.write(`  FAIL  ${outcome.label}: ${outcome.broken}\n`);
}

/** The failures of a process's output, as uvu prints them ('FAIL  suite  "test"' and what follows). */
function failureDetails(outcome: Outcome): string {
  const tail = () => stripColour(outcome.output).trimEnd().split('\n').slice(-25).join('\n');
  if (outcome.broken) return `  FAIL  ${outcome.label}: ${outcome.broken}\n${tail()}`;
  const plain = stripColour(outcome.output);
  const start = plain.search(/^ *FAIL /m);
  if (start < 0 && outcome.passed < outcome.total) return `  FAIL  ${outcome.label} (exit ${outcome.exitCode})\n${tail()}`;
  const end = plain.search(/^ *Total: /m);
  return start < 0 ? '' : plain.slice(start, end < 0 ? undefined : end).trimEnd();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const isUnitOnly = args.includes('--unit');
  const withTypeCheck = args.includes('--typecheck');
  const pattern = args.find((arg) => !arg.startsWith('--'));
  const filter = pattern ? new RegExp(pattern) : undefined;
  const workers = Number(process.env.TEST_WORKERS) || 3 * availableParallelism();
  const fileLimitMs = Number(process.env.TEST_FILE_LIMIT_MS) || 600_000;
  const started = performance.now();

  const files: TestFile[] = listTestFiles(TEST_DIR)
    .map((path) => ({ name: relative(TEST_DIR, path).split('\\').join('/'), isRealTime: isRealTime(readFileSync(path, 'utf8')) }))
    .filter((file) => !filter || filter.test(file.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  const unit = files.filter((file) => !file.isRealTime).map((file) => file.name);
  const realTime = isUnitOnly ? [] : files.filter((file) => file.isRealTime).map((file) => file.name);

  // The type checks, when asked for, start now and run beside both tiers.
  const typeChecks = withTypeCheck && !filter ? TYPE_CHECKS.map((check) => runTypeCheck(check.label, check.project, fileLimitMs)) : [];

  // Unit tier: a process per core at most, files dealt round-robin (their imports dominate, not their tests).
  const unitProcesses = Math.min(workers, availableParallelism(), unit.length);
  const unitGroups = Array.from({ length: unitProcesses }, (_, g) => unit.filter((_, i) => i % unitProcesses === g));
  process.stdout.write(`unit tier: ${unit.length} files in ${unitGroups.length} processes\n`);
  const unitOutcomes = await Promise.all(unitGroups.map((group, g) => runUvu(`unit tier, part ${g + 1} of ${unitGroups.length}`, group, fileLimitMs)));
  unitOutcomes.forEach(printOutcome);
  const unitSeconds = (performance.now() - started) / 1000;

  // Real-time tier: one process per file, the longest of the last run first (then the largest file).
  const lastTimes = readLastTimes();
  const sizeOf = (name: string) => readFileSync(join(TEST_DIR, name)).length;
  const ordered = [...realTime].sort((a, b) => (lastTimes[b] ?? 0) - (lastTimes[a] ?? 0) || sizeOf(b) - sizeOf(a));
  process.stdout.write(`\nreal-time tier: ${ordered.length} files, ${workers} at a time\n`);
  const realTimeOutcomes = await runPool(
    packShortFiles(ordered, lastTimes).map((group) => async () => {
      const label = group.length === 1 ? group[0]! : `${group.length} short real-time files: ${group.join(', ')}`;
      const outcome = await runUvu(label, group, fileLimitMs);
      printOutcome(outcome);
      return { outcome, group };
    }),
    workers,
  ).then((runs) => runs.map(({ outcome, group }) => {
    recordTimes(lastTimes, group, outcome.durationMs);
    return outcome;
  }));
  // A full run forgets the files that are gone (renamed, split, deleted)
  if (!filter && !isUnitOnly) for (const name of Object.keys(lastTimes)) if (!realTime.includes(name)) delete lastTimes[name];
  try {
    mkdirSync(dirname(TIMES_FILE), { recursive: true });
    writeFileSync(TIMES_FILE, `${JSON.stringify(lastTimes, null, 2)}\n`);
  } catch {
    // Only an ordering hint: a read-only tree runs in file-size order next time.
  }

  // The closing block: failures again (a CI log's tail shows them), then uvu's totals for everything.
  const typeCheckOutcomes = await Promise.all(typeChecks);
  typeCheckOutcomes.forEach(printOutcome);
  const outcomes = [...typeCheckOutcomes, ...unitOutcomes, ...realTimeOutcomes];
  const failed = outcomes.filter((outcome) => outcome.broken || outcome.passed < outcome.total);
  let total = 0;
  let passed = 0;
  let skipped = 0;
  for (const outcome of outcomes) {
    // A broken process counts one failed test beyond what it reported, so the totals cannot pass.
    total += outcome.total + (outcome.broken ? 1 : 0);
    passed += outcome.passed;
    skipped += outcome.skipped;
  }
  if (failed.length > 0) {
    process.stdout.write(`\n── failures (each also printed above, in its file's output)\n`);
    for (const outcome of failed) process.stdout.write(`\n${outcome.label}:\n${failureDetails(outcome)}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const checks = typeChecks.length > 0 ? `, ${typeChecks.length} type checks beside them` : '';
  process.stdout.write(`\n  unit tier: ${unitSeconds.toFixed(1)} s; all tests: ${seconds.toFixed(1)} s (${unit.length + realTime.length} files${checks}, ${workers} processes at a time)\n`);
  process.stdout.write(`  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  ${seconds.toFixed(2)}s\n\n`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

// Run when started as a program; a test imports the helpers above without running the suite.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
