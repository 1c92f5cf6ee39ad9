/**
 * Watching the server process: /proc readings against known work, the listener lookup against
 * a process we start, and a run that finds the fake proxy's process by its port.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { findListeningPid, readProcessSample } from '../../runner/watch/proc.ts';
import { ProcessWatcher } from '../../runner/watch/watcher.ts';
import { runCommand } from '../../runner/run.ts';
import { createTextSink } from '../helpers.ts';

const proc = suite('watch: /proc');

proc('CPU seconds grow by the CPU we burn (as process.cpuUsage counts it); RSS is plausible', () => {
  const before = readProcessSample(process.pid)!;
  const reference = process.cpuUsage();
  const until = performance.now() + 300;
  let spin = 0;
  while (performance.now() < until) spin++;
  const referenceSeconds = (() => {
    const used = process.cpuUsage(reference);
    return (used.user + used.system) / 1e6;
  })();
  const after = readProcessSample(process.pid)!;
  const used = after.cpuSeconds - before.cpuSeconds;
  assert.ok(spin > 0);
  // /proc counts in 10 ms ticks, and the runtime's other threads may add a little.
  assert.ok(Math.abs(used - referenceSeconds) <= 0.05, `/proc says ${used} s, process.cpuUsage ${referenceSeconds} s`);
  assert.ok(after.rssBytes > 10 * 1048576 && after.rssBytes < 4096 * 1048576, `rss ${after.rssBytes}`);
});

proc('an IPv4 target with only a dual-stack listener ([::], in /proc/net/tcp6): still found', async () => {
  const child = spawn(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'::',()=>process.stdout.write(s.address().port+'\\n')).on('error',()=>{process.stdout.write('none\\n');process.exit(0)}); setTimeout(()=>process.exit(0),20000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    if (line === 'none') return; // no IPv6 on this machine
    assert.is(findListeningPid(Number(line), true), child.pid);
  } finally {
    child.kill();
  }
});

proc('a process that is gone reads as undefined', () => {
  assert.is(readProcessSample(2 ** 22 + 12345), undefined);
});

proc('the process listening on a port is found; a free port finds nothing', async () => {
  const child = spawn(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>process.stdout.write(s.address().port+'\\n')); setTimeout(()=>process.exit(0),20000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) => createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(line))));
    assert.is(findListeningPid(port), child.pid);
    assert.is(findListeningPid(port, true), child.pid, 'an IPv4 target: /proc/net/tcp alone');
    child.kill();
    await new Promise((resolve) => child.once('exit', resolve));
    assert.is(findListeningPid(port), undefined);
    assert.is(findListeningPid(port, true), undefined);
  } finally {
    child.kill();
  }
});

proc.run();

const bounded = suite('watch: bounded samples');

bounded('a long run keeps at most maxSamples samples, folded in time order; max and last stay exact', () => {
  const watcher = new ProcessWatcher(process.pid, 'flag', { maxSamples: 4 });
  for (let t = 1; t <= 50; t++) {
    watcher.onTick({ t });
    const { samples } = watcher.report();
    assert.ok(samples.length <= 4, `${samples.length} samples at t=${t}`);
    assert.is(samples.at(-1)!.t, t);
    for (let i = 1; i < samples.length; i++) assert.ok(samples[i]!.t > samples[i - 1]!.t, 'in time order');
  }
  const report = watcher.report();
  assert.ok(report.samples.length >= 2);
  // A folded sample's CPU is its windows' average: never above the largest one-second figure.
  for (const sample of report.samples) {
    assert.ok(sample.cpuPercent <= report.cpuPercentMax!, `cpu ${sample.cpuPercent} > max ${report.cpuPercentMax}`);
    assert.ok(sample.rssBytes <= report.rssBytesMax!);
    assert.equal(Object.keys(sample), ['t', 'cpuPercent', 'rssBytes'], 'the results file\'s sample fields only');
  }
  assert.is(report.rssBytesLast, report.samples.at(-1)!.rssBytes);
});

bounded.run();

const run = suite('watch: during a run');

run('--with-fixture: the fake proxy\'s process is found by its port and sampled every second', async () => {
  const stdout = createTextSink();
  const { summary } = await runCommand({
    scenarioFile: fileURLToPath(new URL('../e2e/data/two-seconds.yaml', import.meta.url)),
    overrides: {},
    withFixture: true,
    out: false,
    stdout,
    stderr: stdout,
    progressIntervalMs: 60_000,
  });
  const watch = summary.watch!;
  assert.ok(watch, 'no watch report');
  assert.is(watch.source, 'listening-port');
  assert.is(watch.name, 'node');
  assert.ok(watch.samples.length >= 2, `${watch.samples.length} samples`);
  // The fake proxy served thousands of messages: it used CPU, and it has memory.
  assert.ok(watch.cpu_percent_max! > 5, `cpu max ${watch.cpu_percent_max}`);
  assert.ok(watch.rss_bytes_max! > 10 * 1048576);
  assert.match(stdout.text(), /Server process \(pid \d+, node, listening on the target port\)/);
});

run.run();
