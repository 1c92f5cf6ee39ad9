/**
 * What delivery tracking costs: runner's CPU per message with and without `--delivery`, side by
 * side in one run. The same built CLI sends to a `runner sink` (fixtures/sink.ts, in this process,
 * so the sink's CPU is never counted) over plain SMTP with AUTH PLAIN; with `--delivery` runner
 * also reads the sink's /__deliveries long poll and matches every message's trace id. Each run is
 * timed by /usr/bin/time (user + sys of the runner process only), variants alternate round by
 * round, and the table shows medians. A one-message run of each variant is timed too, so the
 * per-message figure can be read net of process start-up. A report, not a test.
 *
 *   npm run bench:delivery                              (build first: node build.mjs)
 *   npm run bench:delivery -- --messages 20000 --rounds 5 --concurrent 20
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSink } from '../fixtures/sink.ts';

const BIN = fileURLToPath(new URL('../bin/runner.js', import.meta.url));
const TIME = '/usr/bin/time';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    concurrent: { type: 'string', default: '20' },
    'messages-per-connection': { type: 'string', default: '100' },
  },
});
const messages = Number(values.messages);
const rounds = Number(values.rounds);
const concurrent = Number(values.concurrent);
const perConnection = Number(values['messages-per-connection']);
for (const [name, value] of [['--messages', messages], ['--rounds', rounds], ['--concurrent', concurrent], ['--messages-per-connection', perConnection]] as const) {
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`${name}: ${value} must be a whole number >= 1\n`);
    process.exit(2);
  }
}
if (!existsSync(BIN) || !existsSync(fileURLToPath(new URL('../dist', import.meta.url)))) {
  process.stderr.write('runner is not built: run `node build.mjs` first\n');
  process.exit(2);
}
if (!existsSync(TIME)) {
  process.stderr.write(`${TIME} is missing (Debian: apt-get install time)\n`);
  process.exit(2);
}

type Variant = 'without' | 'with --delivery';
const VARIANTS: Variant[] = ['without', 'with --delivery'];

interface Timed {
  cpuSeconds: number;
  output: string;
}

/** One runner process of `count` messages against a fresh sink; its CPU (user + sys). */
async function timeRun(variant: Variant, count: number): Promise<Timed & { delivered: number | undefined; sinkDelivered: number }> {
  const sink = await startSink({ tls: 'none' });
  try {
    const args = [
      BIN, 'run', '--host', '127.0.0.1', '--port', String(sink.smtpPort), '--auth', 'plain', '--password', 'bench',
      '--no-check', '--no-watch', '--to', 'load@example.com', '--num-emails', String(count), '--concurrent', String(Math.min(concurrent, count)),
      '--messages-per-connection', String(perConnection), '--no-out', '--quiet',
      ...(variant === 'with --delivery' ? ['--delivery', `sink=http://127.0.0.1:${sink.adminPort}`, '--delivery-timeout', '30s'] : []),
    ];
    const timed = await new Promise<Timed>((resolve, reject) => {
      const child = spawn(TIME, ['-f', 'CPU %U %S', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk));
      child.on('error', reject);
      child.on('close', () => {
        const match = /CPU ([\d.]+) ([\d.]+)/.exec(output);
        if (!match) return reject(new Error(`no CPU figure from ${TIME}:\n${output}`));
        resolve({ cpuSeconds: Number(match[1]) + Number(match[2]), output });
      });
    });
    const delivered = /Delivered: (\d+)/.exec(timed.output)?.[1];
    return { ...timed, delivered: delivered === undefined ? undefined : Number(delivered), sinkDelivered: sink.stats.delivered };
  } finally {
    await sink.close();
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perMessageUs: Record<Variant, number[]> = { without: [], 'with --delivery': [] };
const startupSeconds: Record<Variant, number[]> = { without: [], 'with --delivery': [] };

process.stdout.write(`delivery tracking CPU: ${messages} messages, ${concurrent} concurrent, ${perConnection} per connection, ${rounds} round(s), runner → runner sink (AUTH PLAIN, no TLS)\n`);
for (let round = 0; round < rounds; round++) {
  // Alternate which goes first, so neither always meets a warmer (or busier) machine
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const variant of order) {
    const startup = await timeRun(variant, 1);
    startupSeconds[variant].push(startup.cpuSeconds);
    const run = await timeRun(variant, messages);
    if (run.sinkDelivered !== messages) throw new Error(`the sink received ${run.sinkDelivered} of ${messages} messages:\n${run.output}`);
    if (variant === 'with --delivery' && run.delivered !== messages) throw new Error(`runner reported ${run.delivered} delivered of ${messages}:\n${run.output}`);
    const us = (run.cpuSeconds * 1e6) / messages;
    perMessageUs[variant].push(us);
    process.stdout.write(`  round ${round + 1} ${variant.padEnd(16)} ${us.toFixed(1)} µs CPU/msg (${run.cpuSeconds.toFixed(2)} s CPU; start-up ${startup.cpuSeconds.toFixed(2)} s)${run.delivered !== undefined ? `, delivered ${run.delivered}` : ''}\n`);
  }
}

const net = (variant: Variant) => ((median(perMessageUs[variant]) * messages) / 1e6 - median(startupSeconds[variant])) * 1e6 / messages;
process.stdout.write('\n                   CPU/msg (median)   net of start-up\n');
for (const variant of VARIANTS) process.stdout.write(`  ${variant.padEnd(16)} ${`${median(perMessageUs[variant]).toFixed(1)} µs`.padStart(16)}   ${`${net(variant).toFixed(1)} µs`.padStart(15)}\n`);
const ratio = median(perMessageUs['with --delivery']) / median(perMessageUs['without']);
const netRatio = net('with --delivery') / net('without');
process.stdout.write(`  ratio with / without: ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)}%), net of start-up ${netRatio.toFixed(3)} (${((netRatio - 1) * 100).toFixed(1)}%); the issue's target is within 10%\n`);
