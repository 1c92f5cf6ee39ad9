/**
 * Benchmark: runner against Postfix's smtp-source (and a bare Node client, bench/bare-client.ts)
 * on the same no-AUTH flow to smtp-sink on loopback, in two modes: one connection per message,
 * and sessions reused (smtp-source -d, runner --messages-per-connection). A report, not a test:
 * it asserts nothing about time.
 *
 *   npm run bench [-- --messages 20000 --concurrency 50 --rounds 3 --size 1024 --mode both|new|reused
 *                    --tools smtp-source,runner,bare --compare-with DIR --quick --no-build]
 *
 * How it measures, and why (bench/README.md has measured figures):
 * - Each client is its own process, wrapped in /usr/bin/time (or bash's `times` when that is
 *   missing): CPU is the generator's user + sys only, never the sink's. Throughput is messages
 *   over the process's wall time, start-up included for all three (runner's own figure, which
 *   counts only its load phase, is printed beside it).
 * - Each round also times a one-message run of every client, and the report repeats the
 *   figures net of it: runner starts in ~0.3 s, the others in ~0.15 s or less, which at 20,000
 *   messages would otherwise hide the per-message costs.
 * - Every run gets a fresh smtp-sink on a fresh free port, so no run inherits another's sink
 *   state or TIME_WAIT 4-tuples. The sink's CPU is read from /proc before it is stopped.
 * - The clients take turns in a rotating order over the rounds, and the table shows medians,
 *   because this machine is shared and loopback figures move by tens of percent between runs.
 * - Everything runs on 127.0.0.1; every child has a time limit and is killed by its own process
 *   group id, and nothing else is touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findExecutable, freePort, killChild, waitForGreeting } from './processes.ts';
import { build } from 'esbuild';
import { buildHead } from '../runner/smtp/message.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FROM = 'test@example.com';
// A reserved test domain (RFC 2606): runner refuses real-looking recipients without --allow-real-recipients
const TO = 'recipient@example.com';
/** smtp-sink's listen backlog: above the concurrency, so no SYN is dropped. */
const SINK_BACKLOG = 1024;
/** How long smtp-sink may take to greet after it is started, ms. */
const SINK_READY_MS = 3000;
/** Slowest rate a client may run at before it is killed: bounds a run's time (messages/s). */
const SLOWEST_RATE_PER_SECOND = 100;

type Mode = 'new' | 'reused';
/**
 * In reused mode `runner` and `bare` make smtp-source's exchange (no RSET between accepted
 * messages: runner --no-rset); `runner-rset` is runner's default, RSET before every further message
 * (one more round trip per message). It runs in reused mode only (new mode sends no RSET).
 */
type Tool = 'smtp-source' | 'runner' | 'runner-np' | 'runner-rset' | 'bare' | 'bare-pl' | 'runner-base';
/**
 * `runner` pipelines (smtp-sink offers PIPELINING; runner's default), `runner-np` is runner
 * --no-pipelining; `bare` is the bare Node client one command at a time, `bare-pl` pipelined as
 * runner is (in reused mode with the next transaction in the message's write, --ahead): the floor
 * of each mode for a Node program. smtp-source never pipelines.
 */
const TOOLS: readonly Tool[] = ['smtp-source', 'runner', 'runner-np', 'runner-rset', 'bare', 'bare-pl'];
/** What runs without --tools: runner-rset (RSET between messages) only when asked for. */
const DEFAULT_TOOLS: readonly Tool[] = ['smtp-source', 'runner', 'runner-np', 'bare', 'bare-pl'];

interface Measurement {
  tool: Tool;
  /** 'start-up': a one-message run that measures what a client costs besides its messages. */
  mode: Mode | 'start-up';
  messages: number;
  wallMs: number;
  /** The client's user + sys CPU time, µs; userUs is the user part. */
  cpuUs: number;
  userUs: number;
  sinkCpuUs: number | undefined;
  /** runner only: its own throughput (load only). */
  selfReportedRps: number | undefined;
  /** Empty when the run delivered every message. */
  problem: string;
}

// ---- options ----

let parsedFlags;
try {
  parsedFlags = parseArgs({
    options: {
      messages: { type: 'string' },
      concurrency: { type: 'string', default: '50' },
      rounds: { type: 'string' },
      size: { type: 'string', default: '1024' },
      mode: { type: 'string', default: 'both' },
      tools: { type: 'string', default: DEFAULT_TOOLS.join(',') },
      quick: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'compare-with': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  usage((error as Error).message);
}
const { values: flags } = parsedFlags;

if (flags.help) {
  process.stdout.write(
    'usage: npm run bench -- [--messages N (20000; --quick 5000)] [--concurrency 50] [--rounds N (3; --quick 1)]\n' +
      '                        [--size BYTES (runner body, 1024)] [--mode both|new|reused] [--quick] [--no-build]\n' +
      '                        [--tools smtp-source,runner,runner-np,bare,bare-pl (default; also runner-rset; a subset skips the others and their ratios)]\n' +
      '                        [--compare-with DIR (another runner checkout, built: runs as runner-base, for before/after)]\n',
  );
  process.exit(0);
}

const messages = positiveInteger('--messages', flags.messages ?? (flags.quick ? '5000' : '20000'));
const concurrency = positiveInteger('--concurrency', flags.concurrency);
const rounds = positiveInteger('--rounds', flags.rounds ?? (flags.quick ? '1' : '3'));
const bodyBytes = positiveInteger('--size', flags.size);
if (!['both', 'new', 'reused'].includes(flags.mode)) usage(`--mode must be both, new or reused, got '${flags.mode}'`);
const modes: Mode[] = flags.mode === 'both' ? ['new', 'reused'] : [flags.mode as Mode];
const tools = flags.tools.split(',').filter((name) => name !== '') as Tool[];
for (const tool of tools) if (!TOOLS.includes(tool)) usage(`--tools: unknown tool '${tool}' (choose from ${TOOLS.join(', ')})`);
if (tools.length === 0) usage('--tools: name at least one tool');
const baseRoot = flags['compare-with'] === undefined ? undefined : resolve(flags['compare-with']);
if (baseRoot !== undefined) {
  // dist/cli.cjs since the code-cached launcher, dist/cli.js before it.
  if (!['dist/cli.cjs', 'dist/cli.js'].some((built) => existsSync(join(baseRoot, built)))) {
    usage(`--compare-with: ${baseRoot}/dist/cli.cjs (or cli.js) not found (build that checkout first)`);
  }
  tools.push('runner-base');
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) usage(`${name} must be a whole number ≥ 1, got '${text}'`);
  return value;
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

// ---- tools on this machine ----


const smtpSource = findExecutable('smtp-source');
const smtpSink = findExecutable('smtp-sink');
if (smtpSource === undefined || smtpSink === undefined) {
  process.stderr.write('bench: smtp-source and smtp-sink (Postfix) are needed: apt-get install postfix\n');
  process.exit(2);
}
const timeCommand = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const bash = findExecutable('bash');
if (timeCommand === undefined && bash === undefined) {
  process.stderr.write('bench: /usr/bin/time or bash is needed to measure a child\'s CPU time: apt-get install time\n');
  process.exit(2);
}
const isRoot = process.getuid?.() === 0;
const clockTicksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// ---- bytes per message, kept alike ----

/** runner: its generated head plus the body. */
const runnerMessageBytes = Buffer.byteLength(buildHead({ from: FROM, to: [TO], sequence: messages, runId: 'm0abcdefghijkl' })) + bodyBytes;
/**
 * smtp-source writes From, To, Date, Message-Id (~104 bytes + 3 × its host name, measured with
 * a capturing server) and then `-l` payload bytes in 80-character lines, each plus CRLF.
 */
const smtpSourceHeaderBytes = 104 + 3 * hostname().length;
const smtpSourcePayload = Math.max(1, Math.round(((runnerMessageBytes - smtpSourceHeaderBytes) * 80) / 82));
/** bare-client: a head of ~250 bytes; its body is sized to match runner's total. */
const bareBodyBytes = Math.max(0, runnerMessageBytes - 250);

// ---- child processes ----

const children = new Set<ChildProcess>();


/** Temporary folders in use, removed on the way out too (a signal's process.exit skips the finally blocks). */
const tempDirs = new Set<string>();

function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) killChild(child);
    process.exit(130);
  });
}

/** Runs a command in its own process group, with a time limit; resolves with its output. */
function run(command: string, args: string[], limitMs: number): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolvePromise) => {
    const startMs = performance.now();
    const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${Math.round(limitMs / 1000)} s)`;
      killChild(child);
    }, limitMs);
    child.on('close', (code) => {
      const wallMs = performance.now() - startMs;
      clearTimeout(timer);
      children.delete(child);
      resolvePromise({ code, stdout, stderr, wallMs });
    });
  });
}

/** Runs a client under a CPU meter; cpuUs is its user + sys time, userUs the user part (children included), µs. */
async function runMeasured(command: string, args: string[], limitMs: number) {
  const dir = makeTempDir('runner-bench-');
  const cpuFile = join(dir, 'cpu');
  try {
    const result = timeCommand
      ? await run(timeCommand, ['-f', '%U %S', '-o', cpuFile, command, ...args], limitMs)
      : // bash's `times` prints its children's user and sys time on its second line
        await run(bash!, ['-c', '"$@"; code=$?; times > "$0"; exit $code', cpuFile, command, ...args], limitMs);
    const cpu = existsSync(cpuFile) ? parseCpu(readFileSync(cpuFile, 'utf8')) : { userUs: NaN, sysUs: NaN };
    return { ...result, cpuUs: cpu.userUs + cpu.sysUs, userUs: cpu.userUs };
  } finally {
    removeTempDir(dir);
  }
}

/** User and sys µs from `/usr/bin/time -f '%U %S'` ("1.23 0.45") or bash's `times` ("0m1.230s 0m0.450s"). */
function parseCpu(text: string): { userUs: number; sysUs: number } {
  const lines = text.trim().split('\n');
  const last = lines[lines.length - 1]!.trim();
  const minutesForm = /^(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s$/.exec(last);
  if (minutesForm) {
    const [, um, us, sm, ss] = minutesForm.map(Number) as number[];
    return { userUs: (um! * 60 + us!) * 1e6, sysUs: (sm! * 60 + ss!) * 1e6 };
  }
  const [user, sys] = last.split(/\s+/).map(Number);
  return { userUs: user! * 1e6, sysUs: sys! * 1e6 };
}



interface Sink {
  port: number;
  /** Stops the sink; its CPU time (user + sys), µs, when /proc could tell. */
  stop(): Promise<number | undefined>;
}

async function startSink(): Promise<Sink> {
  const port = await freePort();
  // As root smtp-sink must drop privileges (-u); -m raises its connection cap above the concurrency.
  const args = [...(isRoot ? ['-u', 'nobody'] : []), '-m', String(Math.max(256, concurrency * 2)), `127.0.0.1:${port}`, String(SINK_BACKLOG)];
  const child = spawn(smtpSink!, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  try {
    await waitForGreeting(port, SINK_READY_MS);
  } catch (error) {
    killChild(child);
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    port,
    async stop() {
      let cpuUs: number | undefined;
      try {
        // /proc/<pid>/stat fields 14 and 15: utime and stime in clock ticks (after the ")" of comm)
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuUs = ((Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond) * 1e6;
      } catch {
        cpuUs = undefined;
      }
      killChild(child);
      await closed;
      children.delete(child);
      return cpuUs;
    },
  };
}

// ---- the three clients ----

let bareClientPath = '';

/** One client run: `count` messages over `sessions` connections at a time. */
async function measure(tool: Tool, mode: Mode | 'start-up', count: number, sessions: number): Promise<Measurement> {
  const sink = await startSink();
  const limitMs = 30_000 + (count / SLOWEST_RATE_PER_SECOND) * 1000;
  const port = String(sink.port);
  const isReused = mode === 'reused';
  let result: Awaited<ReturnType<typeof runMeasured>>;
  let problem = '';
  let selfReportedRps: number | undefined;
  const outDir = makeTempDir('runner-bench-out-');
  try {
    switch (tool) {
      case 'smtp-source': {
        const args = ['-s', String(sessions), '-m', String(count), '-l', String(smtpSourcePayload), '-f', FROM, '-t', TO];
        if (isReused) args.unshift('-d');
        result = await runMeasured(smtpSource!, [...args, `127.0.0.1:${port}`], limitMs);
        if (result.code !== 0) problem = `exit ${result.code}: ${result.stderr.trim().split('\n').pop()}`;
        break;
      }
      case 'runner':
      case 'runner-np':
      case 'runner-rset':
      case 'runner-base': {
        const outFile = join(outDir, 'results.json');
        const args = [
          join(tool === 'runner-base' ? baseRoot! : ROOT, 'bin/runner.js'), 'run', '--host', '127.0.0.1', '--port', port, '--no-auth', '--no-check',
          '--num-emails', String(count), '--concurrent', String(sessions), '--message-size', String(bodyBytes),
          '--from', FROM, '--to', TO, '--out', outFile, '--quiet',
        ];
        if (isReused) args.push('--messages-per-connection', String(count));
        if (isReused && tool !== 'runner-rset') args.push('--no-rset'); // runner-base: the same exchange as runner
        if (tool === 'runner-np') args.push('--no-pipelining');
        result = await runMeasured(process.execPath, args, limitMs);
        if (result.code !== 0) problem = `exit ${result.code}: ${result.stderr.trim().split('\n').pop()}`;
        else {
          const summary = JSON.parse(readFileSync(outFile, 'utf8')) as { results: { successful: number; throughput_rps: number } };
          selfReportedRps = summary.results.throughput_rps;
          if (summary.results.successful !== count) problem = `${summary.results.successful} of ${count} accepted`;
        }
        break;
      }
      case 'bare':
      case 'bare-pl': {
        const args = [bareClientPath, '--port', port, '--messages', String(count), '--concurrency', String(sessions), '--size', String(bareBodyBytes)];
        if (isReused) args.push('--messages-per-connection', String(count), '--no-rset');
        // Pipelined as runner is by default: within each transaction, and (reused) the next one with the message
        if (tool === 'bare-pl') args.push('--pipelining', ...(isReused ? ['--ahead'] : []));
        result = await runMeasured(process.execPath, args, limitMs);
        if (result.code !== 0) problem = `exit ${result.code}: ${result.stderr.trim().split('\n').pop()}`;
        else {
          const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { accepted: number };
          if (report.accepted !== count) problem = `${report.accepted} of ${count} accepted`;
        }
        break;
      }
    }
  } finally {
    removeTempDir(outDir);
  }
  const sinkCpuUs = await sink.stop();
  return { tool, mode, messages: count, wallMs: result.wallMs, cpuUs: result.cpuUs, userUs: result.userUs, sinkCpuUs, selfReportedRps, problem };
}

// ---- report ----

/** The tool whose one-message run is `tool`'s start-up (a flag changes nothing before the first message). */
function startupTool(tool: Tool): Tool {
  if (tool === 'runner-rset' || tool === 'runner-np') return 'runner';
  return tool === 'bare-pl' ? 'bare' : tool;
}

/** Whether `tool` runs in `mode` (runner-rset only where RSET can happen: reused connections). */
function runsIn(tool: Tool, mode: Mode): boolean {
  return tool !== 'runner-rset' || mode === 'reused';
}

function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fixed(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function range(values: number[]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? '' : `(${fixed(Math.min(...finite))}–${fixed(Math.max(...finite))})`;
}

function describeRun(m: Measurement): string {
  const what = `  ${m.mode.padEnd(8)} ${m.tool.padEnd(12)}`;
  const problem = m.problem ? '  PROBLEM: ' + m.problem : '';
  if (m.mode === 'start-up') {
    return `${what} one message: ${fixed(m.wallMs).padStart(5)} ms wall, ${fixed(m.cpuUs / 1000).padStart(4)} ms CPU (user ${fixed(m.userUs / 1000)})${problem}`;
  }
  const rate = (m.messages * 1000) / m.wallMs;
  const sink = m.sinkCpuUs === undefined ? '' : `  sink ${fixed(m.sinkCpuUs / m.messages)} µs/msg`;
  const self = m.selfReportedRps === undefined ? '' : `  (own figure ${fixed(m.selfReportedRps)} msgs/s)`;
  return `${what} ${fixed(rate).padStart(7)} msgs/s  ${fixed(m.cpuUs / m.messages).padStart(5)} µs CPU/msg (user ${fixed(m.userUs / m.messages).padStart(3)})${sink}${self}${problem}`;
}

interface Figures {
  rate: number;
  cpu: number;
}

function report(all: Measurement[]): void {
  const ok = (m: Measurement): boolean => m.problem === '';
  const lines: string[] = [];
  const startup = new Map<Tool, { wallMs: number; cpuUs: number }>();
  for (const tool of tools) {
    // runner-rset and runner-np are runner with another flag, bare-pl is bare: their start-up is theirs
    const runs = all.filter((m) => m.mode === 'start-up' && m.tool === startupTool(tool) && ok(m));
    startup.set(tool, { wallMs: median(runs.map((m) => m.wallMs)), cpuUs: median(runs.map((m) => m.cpuUs)) });
  }
  lines.push('');
  lines.push(`Medians of ${rounds} round(s); ${messages} messages, ${concurrency} concurrent. msgs/s = messages / the process's wall time, start-up included.`);
  lines.push('');
  lines.push('mode    tool            msgs/s (min–max)          CPU µs/msg (min–max)   user µs/msg  sink µs/msg');
  const whole = new Map<string, Figures>();
  const net = new Map<string, Figures>();
  for (const mode of modes) {
    for (const tool of tools) {
      if (!runsIn(tool, mode)) continue;
      const runs = all.filter((m) => m.mode === mode && m.tool === tool && ok(m));
      const rates = runs.map((m) => (messages * 1000) / m.wallMs);
      const cpus = runs.map((m) => m.cpuUs / messages);
      const rate = median(rates);
      const cpu = median(cpus);
      whole.set(`${mode}/${tool}`, { rate, cpu });
      const fixedCost = startup.get(tool)!;
      net.set(`${mode}/${tool}`, {
        rate: median(runs.map((m) => (messages * 1000) / (m.wallMs - fixedCost.wallMs))),
        cpu: median(runs.map((m) => (m.cpuUs - fixedCost.cpuUs) / messages)),
      });
      lines.push(
        `${mode.padEnd(7)} ${tool.padEnd(12)} ${fixed(rate).padStart(8)} ${range(rates).padEnd(16)}` +
          `${fixed(cpu).padStart(10)} ${range(cpus).padEnd(12)}` +
          `${fixed(median(runs.map((m) => m.userUs / messages))).padStart(11)}` +
          `${fixed(median(runs.map((m) => (m.sinkCpuUs ?? NaN) / messages))).padStart(13)}`,
      );
      if (tool === 'runner' || tool === 'runner-np' || tool === 'runner-base') {
        const own = median(runs.map((m) => m.selfReportedRps ?? NaN));
        if (Number.isFinite(own)) lines.push(`${''.padEnd(7)} ${tool}'s own figure (its load phase only): ${fixed(own)} msgs/s`);
      }
    }
  }
  lines.push('');
  lines.push('start-up (a one-message run: process start, set-up, exit), medians:');
  for (const tool of tools) {
    if (startupTool(tool) !== tool) continue;
    const cost = startup.get(tool)!;
    lines.push(`        ${tool.padEnd(12)} ${fixed(cost.wallMs).padStart(6)} ms wall ${fixed(cost.cpuUs / 1000).padStart(6)} ms CPU`);
  }
  lines.push('');
  lines.push('net of start-up (wall and CPU minus the one-message run):');
  for (const mode of modes) {
    for (const tool of tools) {
      if (!runsIn(tool, mode)) continue;
      const figures = net.get(`${mode}/${tool}`)!;
      lines.push(`${mode.padEnd(7)} ${tool.padEnd(12)} ${fixed(figures.rate).padStart(8)} msgs/s ${fixed(figures.cpu).padStart(8)} µs CPU/msg`);
    }
  }
  lines.push('');
  lines.push('ratios (of medians)               throughput  CPU/msg   targets (issue 15)');
  for (const [label, figures] of [['whole', whole], ['net', net]] as const) {
    for (const mode of modes) {
      const none = { rate: NaN, cpu: NaN };
      const source = figures.get(`${mode}/smtp-source`) ?? none;
      const runner = figures.get(`${mode}/runner`) ?? none;
      const bare = figures.get(`${mode}/bare`) ?? none;
      const ratioLine = (name: string, a: Figures, b: Figures, verdict = ''): void => {
        if (Number.isNaN(a.rate) || Number.isNaN(b.rate)) return;
        lines.push(`${label.padEnd(5)} ${mode.padEnd(7)}${name.padEnd(24)} ${fixed(a.rate / b.rate, 2).padStart(6)}×  ${fixed(a.cpu / b.cpu, 2).padStart(6)}×   ${verdict}`.trimEnd());
      };
      const runnerNp = figures.get(`${mode}/runner-np`) ?? none;
      const barePl = figures.get(`${mode}/bare-pl`) ?? none;
      // Pipelined: ≥ 1.5× smtp-source reused, ≥ 1.0× new, at ≤ 1.0× its CPU; not pipelined: ≥ 0.95× the bare client
      const rateTarget = mode === 'reused' ? 1.5 : 1.0;
      const met = (isMet: boolean): string => (isMet ? 'met' : 'NOT met');
      ratioLine('runner/smtp-source', runner, source, `≥ ${rateTarget.toFixed(1)}× ${met(runner.rate / source.rate >= rateTarget)}, CPU ≤ 1.0× ${met(runner.cpu / source.cpu <= 1.0)}`);
      ratioLine('runner/bare-pl', runner, barePl);
      ratioLine('runner-np/bare', runnerNp, bare, `≥ 0.95× ${met(runnerNp.rate / bare.rate >= 0.95)}`);
      ratioLine('runner-np/smtp-source', runnerNp, source);
      ratioLine('runner-rset/smtp-source', figures.get(`${mode}/runner-rset`) ?? none, source);
      ratioLine('bare-pl/smtp-source', barePl, source);
      ratioLine('bare/smtp-source', bare, source);
      ratioLine('runner/runner-base', runner, figures.get(`${mode}/runner-base`) ?? none);
    }
  }
  const failures = all.filter((m) => !ok(m));
  if (failures.length > 0) {
    lines.push('');
    lines.push(`${failures.length} run(s) left out of the medians because they did not deliver every message (see PROBLEM above).`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

// ---- main ----

async function main(): Promise<void> {
  if (!flags['no-build']) {
    // Measure the current sources: rebuild dist/ as `npm run build` does.
    const built = spawnSync(process.execPath, [join(ROOT, 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) usage('npm run build failed');
  }
  // Plain JS for the bare client, so tsx's loader is not part of what is measured.
  const bundleDir = makeTempDir('runner-bench-bare-');
  bareClientPath = join(bundleDir, 'bare-client.mjs');
  await build({ entryPoints: [join(ROOT, 'bench/bare-client.ts')], outfile: bareClientPath, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });

  process.stdout.write(
    `runner vs smtp-source vs bare Node client → smtp-sink on 127.0.0.1\n` +
      `${messages} messages, ${concurrency} concurrent, ${rounds} round(s), modes: ${modes.join(', ')}, tools: ${tools.join(', ')}\n` +
      `bytes per message ≈ runner ${runnerMessageBytes}, smtp-source ${smtpSourceHeaderBytes} + ${smtpSourcePayload} (-l) + line ends, bare ${250 + bareBodyBytes}\n` +
      `CPU by ${timeCommand ?? 'bash times'}; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n\n`,
  );
  const all: Measurement[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      // Rotate who goes first, so drift in the machine's load spreads over all of them.
      const order = tools.map((_, i) => tools[(i + round) % tools.length]!);
      for (const tool of order) {
        if (startupTool(tool) !== tool) continue;
        const measurement = await measure(tool, 'start-up', 1, 1);
        all.push(measurement);
        process.stdout.write(`round ${round + 1}${describeRun(measurement)}\n`);
      }
      for (const mode of modes) {
        for (const tool of order) {
          if (!runsIn(tool, mode)) continue;
          const measurement = await measure(tool, mode, messages, concurrency);
          all.push(measurement);
          process.stdout.write(`round ${round + 1}${describeRun(measurement)}\n`);
        }
      }
    }
  } finally {
    removeTempDir(bundleDir);
  }
  report(all);
  process.stdout.write(`\nload average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
}

await main();
