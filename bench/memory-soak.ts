/**
 * Memory soak, compressed: runner at the highest rate the fake proxy takes, for --minutes
 * (default 10), its RSS read from /proc every second; after the warm-up a trend line is fitted
 * through the floor of each 10-s window (runner/analysis/trend-detect.ts, corrected for
 * autocorrelation) and the growth it implies per 10 minutes is compared with a small bound. A
 * leak of a few tens of bytes per message shows up as megabytes per 10 minutes at these rates.
 * A check, not a CI test.
 *
 *   npm run bench:memory [-- --minutes 10 --vus 50 --messages-per-connection 1
 *                           --warmup-seconds 60 --bound-mb 10 --no-build]
 *
 * Exit code: 0 when RSS is flat (no slope told apart from noise, or one under the bound), 1 when
 * it grows beyond the bound (or there were too few windows), 2 for a bad flag.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fitTrend, type TrendVerdict } from '../runner/analysis/trend-detect.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin/runner.js');
const MIB = 2 ** 20;
/** RSS is read this often, ms. */
const SAMPLE_EVERY_MS = 1000;

interface Settings {
  minutes: number;
  vus: number;
  messagesPerConnection: number;
  warmupSeconds: number;
  boundMb: number;
  build: boolean;
}

/** One RSS reading: seconds since the runner started, and the RSS of runner and of the fake proxy, bytes. */
interface Sample {
  t: number;
  runnerRss: number;
  proxyRss: number | undefined;
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      vus: { type: 'string', default: '50' },
      'messages-per-connection': { type: 'string', default: '1' },
      'warmup-seconds': { type: 'string' },
      'bound-mb': { type: 'string', default: '10' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const number = (name: string, text: string, min: number): number => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min) {
      process.stderr.write(`error: --${name} must be a number ≥ ${min}, got '${text}'\n`);
      process.exit(2);
    }
    return value;
  };
  const minutes = number('minutes', values.minutes, 0.5);
  return {
    minutes,
    vus: Math.round(number('vus', values.vus, 1)),
    messagesPerConnection: Math.round(number('messages-per-connection', values['messages-per-connection'], 1)),
    // Default: a fifth of the run, at most a minute (heap sizing and JIT settle in the first tens of seconds).
    warmupSeconds: values['warmup-seconds'] === undefined ? Math.min(60, minutes * 12) : number('warmup-seconds', values['warmup-seconds'], 0),
    boundMb: number('bound-mb', values['bound-mb'], 0),
    build: !values['no-build'],
  };
}

/** VmRSS of a process, bytes; undefined once it is gone. */
function readRss(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `runner fixture` (no delays: it answers as fast as it can) and reads its ports. */
async function startFixture(): Promise<{ child: ChildProcess; port: number; adminPort: number }> {
  const child = spawn(process.execPath, [BIN, 'fixture', '--port', '0', '--admin-port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<{ port: number; adminPort: number }>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake proxy did not start within 15 s')), 15_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolveReady(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`the fake proxy exited (${code}) before it was ready`)));
  });
  return { child, ...ready };
}

/** Seconds of samples whose lowest RSS is one point of the trend. */
const WINDOW_SECONDS = 10;

/** The lowest value of each whole WINDOW_SECONDS window of [t, value] samples, at the window's midpoint. */
function windowFloors(samples: Array<[number, number]>): Array<[number, number]> {
  const floors: Array<[number, number]> = [];
  let index = 0;
  while (index < samples.length) {
    const start = samples[index]![0];
    let lowest = Infinity;
    let count = 0;
    for (; index < samples.length && samples[index]![0] < start + WINDOW_SECONDS; index++, count++) lowest = Math.min(lowest, samples[index]![1]);
    // A last window with fewer than half its samples says little about its floor.
    if (count * (SAMPLE_EVERY_MS / 1000) >= WINDOW_SECONDS / 2) floors.push([start + WINDOW_SECONDS / 2, lowest]);
  }
  return floors;
}

/** Median of a list of numbers. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/** Growth per 10 minutes a trend line implies, bytes. */
const per10Minutes = (trend: TrendVerdict) => trend.slopePerHour / 6;

function describeTrend(label: string, trend: TrendVerdict): string {
  const p = trend.pValue === null ? 'n/a' : trend.pValue < 0.001 ? '<0.001' : trend.pValue.toFixed(3);
  const sign = per10Minutes(trend) >= 0 ? '+' : '−';
  return `  ${label.padEnd(8)} ${sign}${(Math.abs(per10Minutes(trend)) / MIB).toFixed(2)} MiB per 10 min (fitted from ${mib(trend.baseline)}; ` +
    `p=${p}, ${trend.significant ? 'significant' : 'not significant'}; lag-1 autocorrelation ${trend.autocorrelation.toFixed(2)}, ${trend.effectivePoints.toFixed(0)} effective of ${trend.points} windows)`;
}

async function main(): Promise<void> {
  const settings = readSettings();
  if (settings.build && spawnSync(process.execPath, [join(ROOT, 'build.mjs')], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');

  const temp = mkdtempSync(join(tmpdir(), 'runner-memory-soak-'));
  const fixture = await startFixture();
  let runner: ChildProcess | undefined;
  const stopChildren = () => {
    runner?.kill('SIGKILL');
    fixture.child.kill('SIGTERM');
  };
  process.once('SIGINT', () => {
    stopChildren();
    process.exit(130);
  });
  try {
    const scenario = join(temp, 'soak.yaml');
    writeFileSync(scenario, [
      'smtp:',
      `  messagesPerConnection: ${settings.messagesPerConnection}`,
      'scenarios:',
      '  soak:',
      '    executor: constant-vus',
      `    vus: ${settings.vus}`,
      `    duration: ${Math.round(settings.minutes * 60)}s`,
      '',
    ].join('\n'));
    const results = join(temp, 'results.json');
    const args = [
      BIN, 'run', scenario, '--host', '127.0.0.1', '--port', String(fixture.port), '--admin-url', `http://127.0.0.1:${fixture.adminPort}`,
      '--to', 'soak@example.com', '--no-watch', '--quiet', '--out', results,
    ];
    console.log(`memory soak: ${settings.minutes} min, constant-vus ${settings.vus}, ${settings.messagesPerConnection} message(s) per connection, ` +
      `warm-up ${settings.warmupSeconds} s, bound ${settings.boundMb} MiB per 10 min; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const startedMs = performance.now();
    runner = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const runnerPid = runner.pid!;
    const exited = new Promise<number | null>((resolveExit) => runner!.once('exit', (code) => resolveExit(code)));

    const samples: Sample[] = [];
    let lastPrintMs = startedMs;
    const timer = setInterval(() => {
      const runnerRss = readRss(runnerPid);
      if (runnerRss === undefined) return;
      const t = (performance.now() - startedMs) / 1000;
      samples.push({ t, runnerRss, proxyRss: readRss(fixture.child.pid) });
      if (performance.now() - lastPrintMs >= 60_000) {
        lastPrintMs = performance.now();
        console.log(`  [${Math.round(t)} s] runner RSS ${mib(runnerRss)}`);
      }
    }, SAMPLE_EVERY_MS);
    const code = await exited;
    clearInterval(timer);
    if (code !== 0) throw new Error(`runner exited with ${code}`);

    const summary = JSON.parse(readFileSync(results, 'utf8'));
    const r = summary.results;
    const steady = samples.filter((s) => s.t >= settings.warmupSeconds);
    // RSS is a sawtooth (it climbs between major collections), so 1-s samples are strongly
    // autocorrelated and the trend test rightly finds little information in them. The floor of
    // each 10-s window is what the process keeps after collecting, and what a leak raises.
    const runnerFloors = windowFloors(steady.map((s) => [s.t, s.runnerRss]));
    const proxyFloors = windowFloors(steady.filter((s) => s.proxyRss !== undefined).map((s) => [s.t, s.proxyRss!]));
    const trendOptions = { minPoints: 6, minRelativePerHour: 0 };
    const runnerTrend = fitTrend(runnerFloors.map(([t]) => t), runnerFloors.map(([, rss]) => rss), 'rssBytes', trendOptions);
    const proxyTrend = fitTrend(proxyFloors.map(([t]) => t), proxyFloors.map(([, rss]) => rss), 'rssBytes', trendOptions);

    const rss = samples.map((s) => s.runnerRss);
    console.log(`\nload: ${r.total_requests} messages in ${r.total_time_seconds.toFixed(0)} s (${r.throughput_rps.toFixed(0)}/s), ` +
      `${r.successful} accepted, ${r.failed} failed, ${r.connections} connections`);
    console.log(`runner RSS: first ${mib(rss[0] ?? 0)}, after warm-up ${mib(steady[0]?.runnerRss ?? 0)}, ` +
      `median of the steady part ${mib(median(steady.map((s) => s.runnerRss)))}, last ${mib(rss.at(-1) ?? 0)}, max ${mib(Math.max(...rss))}`);
    console.log(`trend after warm-up (least squares through the floor of each ${WINDOW_SECONDS}-s window, RSS against time):`);
    console.log(describeTrend('runner', runnerTrend));
    console.log(describeTrend('proxy', proxyTrend));
    if (runnerTrend.points < 3) {
      console.log(`\nverdict: too little data (${runnerTrend.points} windows after warm-up): run longer`);
      process.exitCode = 1;
      return;
    }
    const growthMb = per10Minutes(runnerTrend) / MIB;
    // A slope told apart from noise (p < 0.01) decides; with too little information for the test
    // (p n/a) the fitted slope decides alone, which errs towards reporting growth.
    const isJudged = runnerTrend.significant || runnerTrend.pValue === null;
    const isFlat = !isJudged || growthMb < settings.boundMb;
    // Growth per second over messages per second: what each message would leave behind, if it were a leak.
    const bytesPerMessage = per10Minutes(runnerTrend) / 600 / Math.max(r.throughput_rps, 1);
    const judged = !isJudged ? 'not told apart from noise' : `${isFlat ? '<' : '≥'} bound ${settings.boundMb} MiB`;
    console.log(`\nverdict: runner RSS ${isFlat ? 'flat' : 'GROWS'}: ${growthMb >= 0 ? '+' : ''}${growthMb.toFixed(2)} MiB per 10 min, ${judged} ` +
      `(${bytesPerMessage.toFixed(2)} bytes per message at ${r.throughput_rps.toFixed(0)} msgs/s)`);
    process.exitCode = isFlat ? 0 : 1;
  } finally {
    stopChildren();
    rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
