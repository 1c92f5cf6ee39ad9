/**
 * CPU per message of runner with and without delivery tracking, side by side: the same built CLI
 * against the same stub relay+sink (test/delivery/stub-sink.ts, in this process so its CPU is not
 * counted), each run under /usr/bin/time, variants alternating, medians. A report, not a test.
 *
 *   node --import tsx bench/delivery-cpu.ts [messages=10000] [rounds=3]   (build first: node build.mjs)
 */
import * as cp from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startStubSink } from '../test/delivery/stub-sink.ts';
const BIN = fileURLToPath(new URL('../bin/runner.js', import.meta.url));
const N = Number(process.argv[2] ?? 10000);
const rounds = Number(process.argv[3] ?? 3);
const variants: Record<string, (url: string) => string[]> = {
  without: () => [BIN],
  'with --delivery': (url) => [BIN, '@', '--delivery', `sink=${url}`, '--delivery-timeout', '10s'],
};
const results: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, make] of Object.entries(variants)) {
    const stub = await startStubSink();
    const parts = make(stub.adminUrl);
    const bin = parts[0]!;
    const extra = parts.slice(2);
    const args = [bin, 'run', '--host', '127.0.0.1', '--port', String(stub.smtpPort), '--no-auth', '--no-check', '--no-watch', '--to', 'load@example.com', '--num-emails', String(N), '--concurrent', '20', '--messages-per-connection', '100', '--no-out', '--quiet', ...extra];
    const child = await new Promise<{ user: number; sys: number; out: string }>((resolve) => {
      const { spawn } = cp;
      const p = spawn('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c));
      p.stderr.on('data', (c: Buffer) => (out += c));
      p.on('close', () => {
        const m = /CPU ([\d.]+) ([\d.]+)/.exec(out)!;
        resolve({ user: Number(m[1]), sys: Number(m[2]), out });
      });
    });
    await stub.close();
    const delivered = /Delivered: (\d+)/.exec(child.out)?.[1];
    const cpuUsPerMsg = ((child.user + child.sys) * 1e6) / N;
    (results[name] ??= []).push(cpuUsPerMsg);
    console.log(`round ${r + 1} ${name}: ${cpuUsPerMsg.toFixed(1)} µs CPU/msg${delivered ? ` (delivered ${delivered})` : ''}`);
  }
}


const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(results)) console.log(`${name}: median ${median(xs).toFixed(1)} µs CPU/msg`);
console.log(`ratio with / without: ${(median(results['with --delivery']!) / median(results['without']!)).toFixed(3)}`);
