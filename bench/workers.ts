/**
 * Benchmark for sizing a run: CPU per message of `runner run --workers 2` against one process,
 * side by side in one invocation (alternating over the rounds), and what one core of runner does
 * (msgs/s per core = 1e6 / CPU µs per message) with new connections and with reused ones, with and
 * without TLS. A report, not a test: it asserts nothing about time. Beside `--workers 2`, a control
 * row runs two plain `runner run` processes at once, each with half the messages and half the
 * concurrency: what any split of the load into two processes costs on these cores, so the
 * workers' own overhead (their IPC, the parent's merge) reads as `--workers 2` over that row.
 *
 *   node --import tsx bench/workers.ts [--messages 6000 --concurrency 20 --rounds 2 --only smtp-sink] [--pin]
 *
 * --pin (needs taskset): smtp-sink on core 0, the generator (the parent and its workers) on core 1,
 * so the target never competes with the generator for a core and every event loop of the
 * generator finds a queue of ready sockets when it runs: the generator's own cost per message,
 * without the wake-ups that sharing 2 cores with the target adds (smtp-sink rows only).
 *
 * CPU is the whole generator's (the parent and its reaped workers: /usr/bin/time's user + sys of
 * a process include its waited-for children), never the server's. Beside it: the voluntary context
 * switches per message (each one an event loop going to sleep in epoll_wait: a process that
 * handles many sockets per wake-up spends less CPU per message) and the load average. Targets: smtp-sink (Postfix,
 * no AUTH, no TLS) for the plain rows; runner's fake proxy (`runner fixture`, AUTH PLAIN, with and
 * without STARTTLS) for the TLS comparison. Everything on 127.0.0.1, every child killed by its pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findExecutable, freePort, killChild, waitForGreeting } from './processes.ts';
import { createInterface } from 'node:readline';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin/runner.js');
const USAGE = 'usage: npm run bench:workers -- [--messages N (6000)] [--concurrency N (20)] [--rounds N (2)] [--only TEXT (rows whose name holds it)] [--pin] [--no-build]\n';

function usage(message: string): never {
  process.stderr.write(`bench:workers: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({ options: { messages: { type: 'string', default: '6000' }, concurrency: { type: 'string', default: '20' }, rounds: { type: 'string', default: '2' }, only: { type: 'string' }, pin: { type: 'boolean', default: false }, 'no-build': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
} catch (error) {
  usage((error as Error).message);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) usage(`${name} must be a whole number >= 1, got '${text}'`);
  return value;
}

const isPinned = values.pin;
/** With --pin: the command prefix that runs a program on `core` only. */
const onCore = (core: number): string[] => (isPinned ? [taskset!, '-c', String(core)] : []);
const messages = positiveInteger('--messages', values.messages);
const concurrency = positiveInteger('--concurrency', values.concurrency);
const rounds = positiveInteger('--rounds', values.rounds);


const smtpSink = findExecutable('smtp-sink');
const taskset = isPinned ? findExecutable('taskset') : undefined;
if (!existsSync('/usr/bin/time')) usage('/usr/bin/time is needed to measure the generator\'s CPU time: apt-get install time');
if (isPinned && taskset === undefined) usage('--pin needs taskset (util-linux)');

/**
 * Every child runs in a process group of its own (detached) and is killed with it: /usr/bin/time
 * and the runner (and its workers) under it, never anything this script did not start.
 */
const children = new Set<ChildProcess>();


/** The results folders of the runs going on, removed on the way out too. */
const tempDirs = new Set<string>();

process.on('exit', () => {
  for (const child of children) killChild(child);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
// Stopped from outside (Ctrl+C, timeout's SIGTERM): Node's default would exit without the 'exit' handler
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) process.on(signal, () => process.exit(code));


interface Target {
  args: string[];
  stop(): Promise<void>;
}


async function startSmtpSink(): Promise<Target> {
  if (smtpSink === undefined) throw new Error('smtp-sink (Postfix) is needed for the smtp-sink rows: apt-get install postfix');
  const port = await freePort();
  const isRoot = process.getuid?.() === 0;
  const sinkArgs = [...(isRoot ? ['-u', 'nobody'] : []), '-m', '512', `127.0.0.1:${port}`, '1024'];
  const [program, ...args] = [...onCore(0), smtpSink, ...sinkArgs];
  const child = spawn(program!, args, { stdio: 'ignore', detached: true });
  children.add(child);
  child.on('error', () => undefined);
  await waitForGreeting(port, 3000);
  return {
    args: ['--host', '127.0.0.1', '--port', String(port), '--no-auth'],
    async stop() {
      killChild(child, 'SIGTERM');
      children.delete(child);
    },
  };
}

async function startFakeProxy(tls: boolean): Promise<Target> {
  const child = spawn(process.execPath, [BIN, 'fixture', '--port', '0', '--admin-port', '0', '--json', ...(tls ? ['--tls', 'starttls'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  children.add(child);
  const ready = await new Promise<{ port: number; adminPort: number; caFile?: string }>((resolveReady, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolveReady(JSON.parse(line)));
    child.once('close', () => reject(new Error('runner fixture ended before it listened')));
  });
  return {
    args: ['--host', '127.0.0.1', '--port', String(ready.port), '--admin-url', `http://127.0.0.1:${ready.adminPort}`, ...(tls ? ['--tls', 'starttls', '--tls-ca', ready.caFile!] : [])],
    async stop() {
      killChild(child, 'SIGTERM');
      children.delete(child);
    },
  };
}

interface Measured {
  cpuUsPerMessage: number;
  /** CPU µs per message net of the same run's start-up (a 2-message run: processes, loading, setup). */
  netCpuUsPerMessage: number;
  msgsPerSecond: number;
  accepted: number;
  /** Voluntary context switches (the event loops' waits) per message: how many messages each wake-up handled, inverted. */
  waitsPerMessage: number;
  /** The 1-minute load average when the run ended. */
  load: number;
}

/**
 * One `runner run` and its 2-message twin (its start-up), each under /usr/bin/time; with
 * `processes` 2, two plain runs side by side, each with half the messages and half the
 * concurrency, their CPU and messages summed (the control for --workers 2: what any split into two
 * processes costs on these cores).
 */
async function measure(target: Target, extra: string[], count: number, processes = 1): Promise<Measured> {
  const startup = await runTimedTogether(target, extra, 2, processes);
  const whole = await runTimedTogether(target, extra, count, processes);
  if (whole.accepted !== count) process.stderr.write(`warning: ${whole.accepted} of ${count} messages accepted (is the target up?): this row's figures are not comparable\n`);
  return {
    cpuUsPerMessage: (whole.cpuUs) / Math.max(1, whole.accepted),
    netCpuUsPerMessage: (whole.cpuUs - startup.cpuUs) / Math.max(1, whole.accepted - startup.accepted),
    msgsPerSecond: whole.accepted / whole.wallSeconds,
    accepted: whole.accepted,
    waitsPerMessage: whole.waits / Math.max(1, whole.accepted),
    load: loadavg()[0]!,
  };
}

interface Timed {
  cpuUs: number;
  wallSeconds: number;
  accepted: number;
  waits: number;
}

/** `processes` runs of `count / processes` messages at once; CPU, messages and waits summed, the longest wall time. */
async function runTimedTogether(target: Target, extra: string[], count: number, processes: number): Promise<Timed> {
  const runs = await Promise.all(Array.from({ length: processes }, () => runTimed(target, extra, Math.round(count / processes), Math.max(1, Math.round(concurrency / processes)))));
  return {
    cpuUs: runs.reduce((sum, run) => sum + run.cpuUs, 0),
    wallSeconds: Math.max(...runs.map((run) => run.wallSeconds)),
    accepted: runs.reduce((sum, run) => sum + run.accepted, 0),
    waits: runs.reduce((sum, run) => sum + run.waits, 0),
  };
}

/** One `runner run` under /usr/bin/time: its CPU (with its workers) and accepted messages. */
async function runTimed(target: Target, extra: string[], count: number, sessions = concurrency): Promise<Timed> {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-'));
  tempDirs.add(dir);
  try {
    const out = join(dir, 'results.json');
    const args = ['-f', '%U %S %e %w', ...onCore(1), process.execPath, BIN, 'run', ...target.args, '--no-check', '--no-watch', '--quiet', '--to', 'load@example.com',
      '--num-emails', String(count), '--concurrent', String(sessions), '--out', out, ...extra];
    const child = spawn('/usr/bin/time', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    children.add(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const timer = setTimeout(() => killChild(child), 300_000);
    await new Promise((resolveExit) => child.once('close', resolveExit));
    clearTimeout(timer);
    children.delete(child);
    const timing = stderr.trim().split('\n').pop()!.split(' ').map(Number);
    if (!existsSync(out)) throw new Error(`runner run wrote no results (${args.slice(3).join(' ')}):\n${stderr.trim()}`);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    const accepted = results.results.successful as number;
    return { cpuUs: (timing[0]! + timing[1]!) * 1e6, wallSeconds: timing[2]!, accepted, waits: timing[3]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const reused = ['--messages-per-connection', '100', '--no-rset'];
  const rows: Array<{ name: string; target: () => Promise<Target>; extra: string[]; count: number; processes?: number }> = [
    { name: 'smtp-sink, new connection, 1 process', target: startSmtpSink, extra: [], count: messages },
    { name: 'smtp-sink, new connection, --workers 2', target: startSmtpSink, extra: ['--workers', '2'], count: messages },
    { name: 'smtp-sink, new connection, 2 separate processes', target: startSmtpSink, extra: [], count: messages, processes: 2 },
    { name: 'smtp-sink, reused (100/conn), 1 process', target: startSmtpSink, extra: reused, count: messages * 3 },
    { name: 'smtp-sink, reused (100/conn), --workers 2', target: startSmtpSink, extra: [...reused, '--workers', '2'], count: messages * 3 },
    { name: 'smtp-sink, reused (100/conn), 2 separate processes', target: startSmtpSink, extra: reused, count: messages * 3, processes: 2 },
    { name: 'fake proxy AUTH, new connection', target: () => startFakeProxy(false), extra: [], count: Math.ceil(messages / 2) },
    { name: 'fake proxy AUTH + STARTTLS, new connection', target: () => startFakeProxy(true), extra: [], count: Math.ceil(messages / 2) },
    { name: 'fake proxy AUTH, reused (100/conn)', target: () => startFakeProxy(false), extra: reused, count: messages },
    { name: 'fake proxy AUTH + STARTTLS, reused (100/conn)', target: () => startFakeProxy(true), extra: reused, count: messages },
  ];
  // --only smtp-sink: the rows whose name holds it (the workers' comparison alone, for a quick look)
  if (values.only !== undefined) rows.splice(0, rows.length, ...rows.filter((row) => row.name.includes(values.only!)));
  // Pinned, only smtp-sink's rows (the fake proxy runs in Node and would need a core of its own too)
  if (isPinned) rows.splice(0, rows.length, ...rows.filter((row) => row.name.startsWith('smtp-sink')));
  if (rows.length === 0) usage(`no row's name holds '${values.only}'${isPinned ? ' among the smtp-sink rows (--pin runs only those)' : ''}`);
  if (!values['no-build']) spawnSync(process.execPath, [join(ROOT, 'build.mjs')], { stdio: 'inherit' });
  const results = new Map<string, Measured[]>();
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so no row always runs first (or last) on this shared machine.
    const order = round % 2 === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      const target = await row.target();
      try {
        const measured = await measure(target, row.extra, row.count, row.processes);
        results.set(row.name, [...(results.get(row.name) ?? []), measured]);
        process.stderr.write(`round ${round + 1}: ${row.name}: ${measured.accepted} msgs, ${measured.cpuUsPerMessage.toFixed(0)} µs CPU/msg (${measured.netCpuUsPerMessage.toFixed(0)} net of start-up), ${measured.msgsPerSecond.toFixed(0)} msgs/s, ${measured.waitsPerMessage.toFixed(2)} waits/msg, load ${measured.load.toFixed(1)}\n`);
      } finally {
        await target.stop();
      }
    }
  }
  console.log(`| run | CPU µs/msg (median of ${rounds}) | net of start-up | msgs/s wall | msgs/s per core (1e6 / net CPU µs) | waits/msg | load (1 min) |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const all = results.get(row.name) ?? [];
    const cpu = median(all.map((m) => m.cpuUsPerMessage));
    const net = median(all.map((m) => m.netCpuUsPerMessage));
    console.log(`| ${row.name} | ${cpu.toFixed(0)} | ${net.toFixed(0)} | ${median(all.map((m) => m.msgsPerSecond)).toFixed(0)} | ${(1e6 / net).toFixed(0)} | ${median(all.map((m) => m.waitsPerMessage)).toFixed(2)} | ${Math.min(...all.map((m) => m.load)).toFixed(1)}–${Math.max(...all.map((m) => m.load)).toFixed(1)} |`);
  }
  const ratio = (a: string, b: string, pick: (m: Measured) => number): string => {
    if (!results.has(a) || !results.has(b)) return '–';
    return (median(results.get(a)!.map(pick)) / median(results.get(b)!.map(pick))).toFixed(2);
  };
  // By name, not by position: --only leaves some rows out (ratio() says '–' for a row not run)
  const NEW_ONE = 'smtp-sink, new connection, 1 process';
  const NEW_TWO = 'smtp-sink, new connection, --workers 2';
  const NEW_SPLIT = 'smtp-sink, new connection, 2 separate processes';
  const REUSED_ONE = 'smtp-sink, reused (100/conn), 1 process';
  const REUSED_TWO = 'smtp-sink, reused (100/conn), --workers 2';
  const REUSED_SPLIT = 'smtp-sink, reused (100/conn), 2 separate processes';
  const whole = (m: Measured) => m.cpuUsPerMessage;
  const net = (m: Measured) => m.netCpuUsPerMessage;
  if (isPinned) console.log('\n--pin: smtp-sink on core 0, the generator and its workers on core 1');
  console.log(`\nCPU per message, --workers 2 / 1 process: new ${ratio(NEW_TWO, NEW_ONE, whole)}× (net of start-up ${ratio(NEW_TWO, NEW_ONE, net)}×), reused ${ratio(REUSED_TWO, REUSED_ONE, whole)}× (net ${ratio(REUSED_TWO, REUSED_ONE, net)}×); load average ${loadavg().map((x) => x.toFixed(1)).join(', ')} on ${availableParallelism()} cores at the end`);
  console.log(`--workers 2 / 2 separate processes (what the workers add over any split in two): new ${ratio(NEW_TWO, NEW_SPLIT, whole)}× (net ${ratio(NEW_TWO, NEW_SPLIT, net)}×), reused ${ratio(REUSED_TWO, REUSED_SPLIT, whole)}× (net ${ratio(REUSED_TWO, REUSED_SPLIT, net)}×)`);
  console.log(`2 separate processes / 1 process (what splitting in two costs on these cores): new ${ratio(NEW_SPLIT, NEW_ONE, whole)}× (net ${ratio(NEW_SPLIT, NEW_ONE, net)}×), reused ${ratio(REUSED_SPLIT, REUSED_ONE, whole)}× (net ${ratio(REUSED_SPLIT, REUSED_ONE, net)}×)`);
}

await main().catch((error: Error) => {
  process.stderr.write(`bench:workers: ${error.message}\n`);
  process.exit(1);
});
