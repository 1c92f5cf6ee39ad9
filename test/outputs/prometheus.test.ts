/**
 * `--metrics-port`: the Prometheus endpoint. The exposition is checked against the registry it
 * copies (counters, failures by phase and code, cumulative buckets), the endpoint as a scraper
 * meets it (content type, 404, a port in use, the final-scrape linger), and finally a real
 * Prometheus server (Debian's `prometheus`) scrapes a 5 s run of the CLI and its HTTP API
 * must give back the run's own numbers.
 */
import { runCli as runCliProcess, type Ran } from '../cli-process.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { register as globalRegister } from 'prom-client';
import { MetricsRegistry } from '../../runner/metrics/registry.ts';
import { countError } from '../../runner/metrics/series.ts';
import { PHASE_INDEX } from '../../runner/smtp/phases.ts';
import { createPrometheusOutput, DELIVERY_BUCKETS_SECONDS, PrometheusExporter, SMTP_DURATION_BUCKETS_SECONDS } from '../../runner/outputs/prometheus.ts';
import { DeliveryTracker } from '../../runner/delivery/tracker.ts';
import type { OutputContext } from '../../runner/outputs/output.ts';
import type { ResolvedOptions } from '../../runner/scenario/resolved.ts';
import type { ScenarioProgress } from '../../runner/engine/events.ts';
import type { TestResult } from '../../runner/engine/engine.ts';
import type { Summary } from '../../runner/results/types.ts';
import { ExitCode, OutputError } from '../../runner/errors.ts';
import { createTempDir, createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { IS_CI, findProgram, missingProgram, missingUnderCi } from '../tools.ts';

/** Parses exposition text into `name{labels}` → value (labels sorted as written). */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    assert.ok(match, `exposition line: ${line}`);
    samples.set(`${match![1]}${match![2] ?? ''}`, Number(match![3]));
  }
  return samples;
}

function progress(name: string, activeVus: number, allocatedVus: number, queuedArrivals = 0): ScenarioProgress {
  return { name, executor: 'constant-vus', elapsedMs: 0, plannedMs: 0, plannedIterations: undefined, iterationsStarted: 0, activeVus, allocatedVus, queuedArrivals, accepted: 0, failed: 0, dropped: 0, state: 'running' };
}

/** A registry with two senders of scenario 'peak': known samples, failures and drops. */
function sampleRegistry(): MetricsRegistry {
  const registry = new MetricsRegistry(0);
  const a = registry.seriesFor('peak', 'a@example.com');
  const b = registry.seriesFor('peak', 'b@example.com');
  // Service times in µs: 0.5 ms, 3 ms, 40 ms, 2 s (a) and 45 s (b, beyond the last bucket).
  for (const us of [500, 3_000, 40_000, 2_000_000]) a.txnDuration.record(us);
  b.txnDuration.record(45_000_000);
  a.phases[PHASE_INDEX.message]!.record(30_000);
  a.phases[PHASE_INDEX.connect]!.record(200);
  Object.assign(a, { txns: 6, accepted: 4, failed: 2, connections: 6, bytesSent: 9000, bytesReceived: 800, iterations: 6, messageBytes: 4096 });
  Object.assign(b, { txns: 2, accepted: 1, failed: 1, connections: 2, bytesSent: 3000, bytesReceived: 200, iterations: 2, messageBytes: 1024 });
  countError(a.errors, { phase: 'message', code: 451, enhanced: '4.3.0', error: undefined, text: 'Try again later', count: 2 }, 2);
  countError(b.errors, { phase: 'connect', code: undefined, enhanced: undefined, error: 'ECONNREFUSED', text: 'refused', count: 1 });
  registry.noteDropped('peak');
  registry.noteDropped('peak');
  return registry;
}

const exposition = suite('prometheus: the exposition copies the registry');

exposition('counters, failures by phase and code, gauges and cumulative buckets', async () => {
  const registry = sampleRegistry();
  const exporter = new PrometheusExporter(['peak', 'idle']);
  exporter.update(registry, [progress('peak', 3, 5, 12)], 2500);
  const samples = parseExposition(await exporter.metrics());
  const total = registry.aggregate();
  const expected: Array<[string, number]> = [
    ['runner_smtp_txns_total{scenario="peak"}', total.txns],
    ['runner_smtp_messages_accepted_total{scenario="peak"}', total.accepted],
    ['runner_smtp_messages_failed_total{scenario="peak",phase="message",code="451"}', 2],
    ['runner_smtp_messages_failed_total{scenario="peak",phase="connect",code="ECONNREFUSED"}', 1],
    ['runner_smtp_connections_total{scenario="peak"}', total.connections],
    ['runner_data_sent_bytes_total{scenario="peak"}', total.bytesSent],
    ['runner_data_received_bytes_total{scenario="peak"}', total.bytesReceived],
    ['runner_smtp_message_bytes_total{scenario="peak"}', total.messageBytes],
    ['runner_iterations_total{scenario="peak"}', total.iterations],
    ['runner_dropped_iterations_total{scenario="peak"}', 2],
    ['runner_vus{scenario="peak"}', 3],
    ['runner_vus_max{scenario="peak"}', 5],
    ['runner_arrivals_queued{scenario="peak"}', 12],
    ['runner_arrivals_queued{scenario="idle"}', 0],
    ['runner_run_elapsed_seconds', 2.5],
    ['runner_run_finished', 0],
    // A scenario with nothing yet is there at zero from the start.
    ['runner_smtp_messages_accepted_total{scenario="idle"}', 0],
    ['runner_vus{scenario="idle"}', 0],
    ['runner_smtp_txn_duration_seconds_count{scenario="idle"}', 0],
    // Cumulative: 0.5 ms | 3 ms | 40 ms | 2 s | 45 s.
    ['runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="0.001"}', 1],
    ['runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="0.0025"}', 1],
    ['runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="0.005"}', 2],
    ['runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="0.05"}', 3],
    ['runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="1"}', 3],
    ['runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="2.5"}', 4],
    ['runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="30"}', 4],
    ['runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="+Inf"}', 5],
    ['runner_smtp_txn_duration_seconds_count{scenario="peak"}', 5],
    ['runner_smtp_txn_duration_seconds_sum{scenario="peak"}', 47.0435],
    ['runner_smtp_phase_duration_seconds_bucket{scenario="peak",phase="message",le="0.025"}', 0],
    ['runner_smtp_phase_duration_seconds_bucket{scenario="peak",phase="message",le="0.05"}', 1],
    ['runner_smtp_phase_duration_seconds_count{scenario="peak",phase="connect"}', 1],
  ];
  for (const [key, value] of expected) assert.is(samples.get(key), value, key);
  // Phases that never ran have no series.
  assert.not.ok(samples.has('runner_smtp_phase_duration_seconds_count{scenario="peak",phase="rset"}'));
  // Buckets never decrease.
  const buckets = SMTP_DURATION_BUCKETS_SECONDS.map((le) => samples.get(`runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="${le}"}`)!);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]! >= buckets[i - 1]!, `bucket ${i}`);
});

exposition('a later copy sees new samples (the per-trend cache follows the count) and the final flag', async () => {
  const registry = sampleRegistry();
  const exporter = new PrometheusExporter(['peak']);
  exporter.update(registry, [], 1000);
  registry.seriesFor('peak', 'a@example.com').txnDuration.record(800);
  exporter.update(registry, [], 2000);
  exporter.markFinished();
  const samples = parseExposition(await exporter.metrics());
  assert.is(samples.get('runner_smtp_txn_duration_seconds_bucket{scenario="peak",le="0.001"}'), 2);
  assert.is(samples.get('runner_smtp_txn_duration_seconds_count{scenario="peak"}'), 6);
  assert.is(samples.get('runner_run_finished'), 1);
});

exposition('delivery: delivered, lost by reason, duplicated, unexpected, the lag and e2e histograms, the backlog gauge — the tracker\'s own counts', async () => {
  const registry = new MetricsRegistry(0);
  const a = registry.seriesFor('peak', 'a@example.com');
  const origin = 1_700_000_000_000;
  const tracker = new DeliveryTracker({ registry, runId: 'r', afterSequence: 0, timeoutMs: 10_000, epochOriginMs: origin, lastSequence: () => 20 });
  registry.delivery = tracker;
  // Six accepted at 100 ms (started at 90 ms); lags 20 ms, 300 ms, 3 s; #4 refused; #5 never arrives; #6 twice
  for (let sequence = 1; sequence <= 6; sequence++) tracker.accepted(sequence, a, 100, 90);
  tracker.failed(7, a);
  tracker.arrive('r.1', origin + 120);
  tracker.arrive('r.2', origin + 400);
  tracker.arrive('r.3', origin + 3100);
  tracker.refuse('r.4', origin + 150);
  tracker.arrive('r.6', origin + 200);
  tracker.arrive('r.6', origin + 210);
  tracker.arrive('r.7', origin + 220);
  const exporter = new PrometheusExporter(['peak', 'idle'], SMTP_DURATION_BUCKETS_SECONDS, true);
  exporter.update(registry, [], 1000);
  let samples = parseExposition(await exporter.metrics());
  assert.equal([samples.get('runner_smtp_delivery_backlog'), samples.get('runner_smtp_lost_total{scenario="peak",reason="timeout"}')], [1, 0], 'during the run: #5 still awaited');
  tracker.finish(20_000, false);
  exporter.update(registry, [], 20_000);
  samples = parseExposition(await exporter.metrics());
  const expected: Array<[string, number]> = [
    ['runner_smtp_delivered_total{scenario="peak"}', 4],
    ['runner_smtp_lost_total{scenario="peak",reason="refused"}', 1],
    ['runner_smtp_lost_total{scenario="peak",reason="timeout"}', 1],
    ['runner_smtp_duplicated_total{scenario="peak"}', 1],
    ['runner_smtp_unexpected_total{scenario="peak"}', 1],
    ['runner_smtp_delivered_total{scenario="idle"}', 0],
    ['runner_smtp_lost_total{scenario="idle",reason="refused"}', 0],
    ['runner_smtp_delivery_backlog', 1],
    // Lags 20 ms, 100 ms (#6), 300 ms, 3 s
    ['runner_smtp_delivery_lag_seconds_bucket{scenario="peak",le="0.01"}', 0],
    ['runner_smtp_delivery_lag_seconds_bucket{scenario="peak",le="0.025"}', 1],
    ['runner_smtp_delivery_lag_seconds_bucket{scenario="peak",le="0.1"}', 2],
    ['runner_smtp_delivery_lag_seconds_bucket{scenario="peak",le="0.25"}', 2],
    ['runner_smtp_delivery_lag_seconds_bucket{scenario="peak",le="0.5"}', 3],
    ['runner_smtp_delivery_lag_seconds_bucket{scenario="peak",le="5"}', 4],
    ['runner_smtp_delivery_lag_seconds_count{scenario="peak"}', 4],
    ['runner_smtp_delivery_lag_seconds_sum{scenario="peak"}', 3.42],
    ['runner_smtp_e2e_duration_seconds_count{scenario="peak"}', 4],
    ['runner_smtp_e2e_duration_seconds_sum{scenario="peak"}', 3.46],
    ['runner_smtp_delivery_lag_seconds_count{scenario="idle"}', 0],
  ];
  for (const [key, value] of expected) assert.is(samples.get(key), value, key);
  assert.is(DELIVERY_BUCKETS_SECONDS.at(-1), 120);
  // Without delivery tracking: none of these series
  const plain = parseExposition(await new PrometheusExporter(['peak']).metrics());
  assert.not.ok([...plain.keys()].some((key) => /deliver|lost|duplicated|unexpected|e2e/.test(key)));
});

exposition("its own registry: nothing lands in prom-client's global one", () => {
  new PrometheusExporter(['peak']);
  assert.is(globalRegister.getSingleMetric('runner_smtp_txns_total'), undefined);
  assert.is(globalRegister.getSingleMetric('runner_smtp_txn_duration_seconds'), undefined);
});

exposition.run();

// ---------------------------------------------------------------------------------------------

function outputContext(): OutputContext & { stderrText(): string } {
  const stderr = createTextSink();
  return {
    options: { scenarios: [{ name: 'peak' }] } as unknown as ResolvedOptions,
    cwd: process.cwd(),
    stdout: createTextSink(),
    stderr,
    stderrText: () => stderr.text(),
  };
}

function finishedResult(registry: MetricsRegistry): OutputContext & { result: TestResult } {
  const result: TestResult = { registry, startedAt: new Date(), durationMs: 3000, stopReason: undefined, scenarios: [progress('peak', 0, 5)], setupData: undefined };
  return { ...outputContext(), result };
}

/** A TCP server holding a port on 127.0.0.1. */
async function occupyPort(): Promise<{ port: number; server: NetServer }> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const { port, server } = await occupyPort();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const endpoint = suite('prometheus: the endpoint');

endpoint('GET /metrics serves the text format on 127.0.0.1; other paths 404, other methods 405', async () => {
  const output = createPrometheusOutput({ port: 0 });
  const context = outputContext();
  await output.prepare!(context);
  try {
    assert.match(output.url!, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.match(context.stderrText(), `metrics: Prometheus endpoint at ${output.url}`);
    const response = await fetch(output.url!);
    assert.is(response.status, 200);
    assert.is(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const samples = parseExposition(await response.text());
    assert.is(samples.get('runner_run_finished'), 0);
    assert.is(samples.get('runner_smtp_messages_accepted_total{scenario="peak"}'), 0);
    assert.is((await fetch(output.url!.replace('/metrics', '/'))).status, 404);
    assert.is((await fetch(output.url!, { method: 'POST' })).status, 405);
  } finally {
    await output.close({ linger: false });
  }
  await fetch(output.url!).then(
    () => assert.unreachable('still listening after close'),
    () => undefined,
  );
});

endpoint('a scrape after a tick reads the registry the tick handed over', async () => {
  const output = createPrometheusOutput({ port: 0 });
  await output.prepare!(outputContext());
  try {
    const registry = sampleRegistry();
    output.listener!.onTick!({} as never, [progress('peak', 4, 4)], registry);
    const samples = parseExposition(await (await fetch(output.url!)).text());
    assert.is(samples.get('runner_smtp_messages_accepted_total{scenario="peak"}'), 5);
    assert.is(samples.get('runner_vus{scenario="peak"}'), 4);
  } finally {
    await output.close({ linger: false });
  }
});

endpoint('a port in use: a clear error before the run, and runner run sends nothing', async () => {
  const { port, server } = await occupyPort();
  try {
    const output = createPrometheusOutput({ port });
    try {
      await output.prepare!(outputContext());
      assert.unreachable('prepare should fail');
    } catch (error) {
      assert.instance(error, OutputError);
      assert.is((error as OutputError).message, `metrics endpoint: 127.0.0.1:${port} is already in use`);
      assert.match((error as OutputError).hint!, /--metrics-port/);
    }
    await withFakeProxy({}, async (proxy) => {
      try {
        await runAgainst(proxy, { numEmails: 5, concurrent: 1, metrics: { port } });
        assert.unreachable('run should fail');
      } catch (error) {
        assert.instance(error, OutputError);
        assert.is((error as OutputError).exitCode, ExitCode.outputError);
      }
      assert.is(proxy.stats.messagesAccepted, 0);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

interface LingerCase {
  name: string;
  scrapedDuringRun: boolean;
  linger: boolean;
  /** When to scrape after close() is called, ms; undefined: no scrape. */
  scrapeAfterMs: number | undefined;
  /** close() must return within this many ms. */
  withinMs: number;
  /** ... and not before this many. */
  notBeforeMs: number;
}

const lingerCases: LingerCase[] = [
  { name: 'scraped during the run: waits for the next scrape (final values), not the whole linger', scrapedDuringRun: true, linger: true, scrapeAfterMs: 300, withinMs: 3000, notBeforeMs: 250 },
  { name: 'scraped during the run, no scraper comes back: stops after the linger', scrapedDuringRun: true, linger: true, scrapeAfterMs: undefined, withinMs: 3000, notBeforeMs: 900 },
  { name: 'never scraped: nobody is watching, stops at once', scrapedDuringRun: false, linger: true, scrapeAfterMs: undefined, withinMs: 500, notBeforeMs: 0 },
  { name: 'the run failed (no linger asked): stops at once', scrapedDuringRun: true, linger: false, scrapeAfterMs: undefined, withinMs: 500, notBeforeMs: 0 },
];

for (const row of lingerCases) {
  endpoint(`linger: ${row.name}`, async () => {
    const output = createPrometheusOutput({ port: 0, lingerMs: 1000 });
    await output.prepare!(outputContext());
    if (row.scrapedDuringRun) await (await fetch(output.url!)).text();
    const registry = sampleRegistry();
    await output.finish!({} as Summary, finishedResult(registry));
    const started = performance.now();
    let finalText: string | undefined;
    const scrape = row.scrapeAfterMs === undefined
      ? undefined
      : new Promise<void>((resolve) => setTimeout(async () => {
        finalText = await (await fetch(output.url!)).text();
        resolve();
      }, row.scrapeAfterMs));
    await output.close({ linger: row.linger });
    const tookMs = performance.now() - started;
    await scrape;
    assert.ok(tookMs < row.withinMs && tookMs >= row.notBeforeMs, `close took ${tookMs.toFixed(0)} ms`);
    if (finalText !== undefined) {
      const samples = parseExposition(finalText);
      assert.is(samples.get('runner_run_finished'), 1);
      assert.is(samples.get('runner_smtp_messages_accepted_total{scenario="peak"}'), 5);
      assert.is(samples.get('runner_vus_max{scenario="peak"}'), 5);
    }
  });
}

endpoint.run();

// ---------------------------------------------------------------------------------------------


/** The prometheus binary, or why not (tests never install it: .ci/run does). */
function findPrometheus(): { path: string } | { missing: string } {
  const path = findProgram('prometheus');
  return path ? { path } : { missing: missingProgram('prometheus', 'prometheus')! };
}

/** Waits until `check` returns a value (polling every 200 ms), or fails after `limitMs`. */
async function waitFor<T>(what: string, limitMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + limitMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs the CLI to its end; killed after `limitMs`. */
function runCli(args: string[], cwd: string, limitMs: number): Promise<Ran> {
  return runCliProcess(args, { cwd, limitMs });
}

const real = suite('prometheus: a real Prometheus scrapes a run');

real('--metrics-host without --metrics-port is a usage error', async () => {
  const temp = createTempDir();
  try {
    const { code, stderr } = await runCli(['run', '--metrics-host', '0.0.0.0', '--no-check'], temp.dir, 20_000);
    assert.is(code, ExitCode.usage);
    assert.match(stderr, 'error: --metrics-host needs --metrics-port');
  } finally {
    temp.remove();
  }
});

real('the series Prometheus stored equal the run summary (messages, failures by code, histogram)', async () => {
  const found = findPrometheus();
  if ('missing' in found) {
    if (IS_CI) assert.unreachable(missingUnderCi(found.missing));
    console.log(`\n  SKIPPED (real Prometheus): ${found.missing}`);
    return;
  }
  const temp = createTempDir();
  let prometheus: ChildProcess | undefined;
  try {
    const metricsPort = await freePort();
    const prometheusPort = await freePort();
    writeFileSync(join(temp.dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: runner',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${metricsPort}']`,
      '',
    ].join('\n'));
    writeFileSync(join(temp.dir, 'steady.yaml'), [
      'scenarios:',
      '  steady:',
      '    executor: constant-arrival-rate',
      '    rate: 80',
      '    duration: 5s',
      '    preAllocatedVUs: 10',
      '',
    ].join('\n'));
    let prometheusLog = '';
    prometheus = spawn(found.path, [
      `--config.file=${join(temp.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(temp.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    prometheus.stderr!.on('data', (chunk) => (prometheusLog += chunk));
    const api = `http://127.0.0.1:${prometheusPort}`;
    await waitFor('Prometheus to be ready', 20_000, async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined)).catch((error) => {
      throw new Error(`${error.message}\nprometheus said:\n${prometheusLog}`);
    });
    // Prometheus hands new targets to its scrapers up to ~5 s after it starts (its discovery
    // manager batches updates): wait until ours is listed, or a 5 s run may be scraped only once.
    await waitFor('Prometheus to list the runner target', 20_000, async () => {
      const body = (await (await fetch(`${api}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ scrapeUrl: string }> } };
      return body.data.activeTargets.some((target) => target.scrapeUrl.includes(`:${metricsPort}/`)) ? true : undefined;
    }).catch((error) => {
      throw new Error(`${error.message}\nprometheus said:\n${prometheusLog}`);
    });

    const run = await runCli([
      'run', 'steady.yaml', '--with-fixture', '--fixture-delay', 'message=20', '--fixture-failure', 'message=451:0.1',
      '--metrics-port', String(metricsPort), '--metrics-linger', '10s', '--summary-json', 'summary.json', '--no-out', '--quiet',
    ], temp.dir, 40_000);
    assert.is(run.code, ExitCode.ok, run.stderr);
    assert.match(run.stderr, `metrics: Prometheus endpoint at http://127.0.0.1:${metricsPort}/metrics`);
    const summary = JSON.parse(readFileSync(join(temp.dir, 'summary.json'), 'utf8')) as Summary;
    const r = summary.results;
    assert.ok(r.successful > 300, `successful ${r.successful}`);
    assert.ok(r.failed > 0, 'some 451s were injected');

    /** One number from an instant query (range selectors skip the staleness markers set once the endpoint is gone). */
    const query = async (promql: string): Promise<number | undefined> => {
      const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; error?: string; data: { result: Array<{ value: [number, string] }> } };
      assert.is(body.status, 'success', `${promql}: ${body.error}`);
      const first = body.data.result[0];
      return first ? Number(first.value[1]) : undefined;
    };
    // The runner lingers until a scrape has read its final values; wait until Prometheus has stored it.
    await waitFor('the final scrape in Prometheus', 10_000, async () => ((await query('max_over_time(runner_run_finished[5m])')) === 1 ? true : undefined));

    const last = (selector: string) => query(`sum(last_over_time(${selector}[5m]))`);
    assert.is(await last('runner_smtp_messages_accepted_total{scenario="steady"}'), r.successful);
    assert.is(await last('runner_smtp_txns_total{scenario="steady"}'), r.total_requests);
    assert.is(await last('runner_smtp_messages_failed_total{scenario="steady",phase="message",code="451"}'), r.failed);
    assert.is(await last('runner_smtp_txn_duration_seconds_count{scenario="steady"}'), r.successful);
    assert.is(await last('runner_smtp_phase_duration_seconds_count{scenario="steady",phase="message"}'), r.phases['message']!.count);
    assert.is(await last('runner_smtp_connections_total{scenario="steady"}'), r.connections);
    // It was scraped while the run went, and the counter grew between scrapes.
    const scrapes = await query('count_over_time(runner_smtp_messages_accepted_total{scenario="steady"}[5m])');
    assert.ok(scrapes! >= 2, `scrapes ${scrapes}`);
    assert.ok((await query('min_over_time(runner_smtp_messages_accepted_total{scenario="steady"}[5m])'))! < r.successful, 'an early scrape saw fewer messages');
    assert.ok((await query('max_over_time(runner_vus{scenario="steady"}[5m])'))! >= 1, 'VUs were active');
    // Prometheus's p50 estimate from the buckets lies in the bucket that holds the summary's p50.
    const p50 = r.latency.p50_seconds!;
    const estimate = (await query('histogram_quantile(0.5, sum by (le) (last_over_time(runner_smtp_txn_duration_seconds_bucket{scenario="steady"}[5m])))'))!;
    const upper = SMTP_DURATION_BUCKETS_SECONDS.find((le) => le >= p50)!;
    const lower = SMTP_DURATION_BUCKETS_SECONDS[SMTP_DURATION_BUCKETS_SECONDS.indexOf(upper) - 1] ?? 0;
    assert.ok(estimate >= lower && estimate <= upper, `p50 ${p50} s, Prometheus estimate ${estimate} s, bucket (${lower}, ${upper}]`);
  } finally {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      const killer = setTimeout(() => prometheus!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    temp.remove();
  }
});

real.run();
