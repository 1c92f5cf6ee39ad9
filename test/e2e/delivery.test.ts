/**
 * Delivery truth end to end: `runner run --delivery sink=URL` against a stub that relays (or
 * loses, duplicates, holds) what it accepts and serves the sink's /__deliveries contract. Every
 * figure is checked against the stub's own counters; the wait after the load and its Ctrl+C
 * (pending, not lost) run in a real process.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { createTempDir, createTextSink } from '../helpers.ts';
import { runCommand, type RunCommandOptions } from '../../runner/run.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { ROOT, runCli } from '../cli-process.ts';
import { startStubSink, type StubSink, type StubSinkOptions } from '../delivery/stub-sink.ts';
import { parseResultsText } from '../../runner/results/read.ts';

const Ajv = AjvModule.default ?? AjvModule;
const validateResults = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/results.schema.json'), 'utf8')));

async function withStub<T>(options: StubSinkOptions, body: (stub: StubSink) => Promise<T>): Promise<T> {
  const stub = await startStubSink(options);
  try {
    return await body(stub);
  } finally {
    await stub.close();
  }
}

/** `messages` messages at 5 VUs into the stub, delivery read from its admin URL. */
function scenario(stub: StubSink, messages: number, extra: Partial<ScenarioFileOptions> = {}): ScenarioFileOptions {
  return {
    target: { host: '127.0.0.1', port: stub.smtpPort },
    smtp: { to: 'load@example.com', auth: 'none' },
    delivery: { sink: stub.adminUrl, timeout: '3s' },
    scenarios: { default: { executor: 'shared-iterations', vus: 5, iterations: messages } },
    ...extra,
  };
}

async function run(options: ScenarioFileOptions, command: Partial<RunCommandOptions> = {}) {
  const stdout = createTextSink();
  const stderr = createTextSink();
  const outcome = await runCommand({ scenario: options, overrides: {}, out: false, check: false, progressIntervalMs: 60_000, stdout, stderr, ...command });
  return { ...outcome, output: stdout.text() + stderr.text() };
}

const truth = suite('delivery: runner\'s figures are the stub\'s');

truth('every accepted message arrives: delivered == accepted, nothing lost, a lag per message', async () => {
  await withStub({}, async (stub) => {
    const { summary, exitCode, output } = await run(scenario(stub, 60, { thresholds: { smtp_lost: ['count==0'], smtp_delivery_lag: ['p(95)<3s'] } }));
    assert.is(exitCode, ExitCode.ok, output);
    const d = summary.delivery!;
    assert.is(summary.results.successful, 60);
    assert.is(stub.stats.delivered, 60);
    assert.equal([d.delivered, d.lost, d.pending, d.duplicated, d.unexpected], [60, 0, 0, 0, 0]);
    assert.is(d.lag.count, 60);
    assert.is(d.e2e.count, 60);
    assert.ok(d.e2e.min_seconds! >= d.lag.min_seconds!, 'start → arrival is longer than 250 → arrival');
    assert.is(d.wait, 'complete');
    assert.is(summary.accounts[Object.keys(summary.accounts)[0]!]!.delivery!.delivered, 60, 'per account');
    assert.is(summary.scenarios['default']!.delivery!.delivered, 60, 'per scenario');
    const timeline = summary.timeline;
    assert.is(timeline.reduce((n, p) => n + (p.delivered ?? 0), 0), 60, 'timeline delivered adds up');
    assert.is(timeline[timeline.length - 1]!.delivery_backlog, 0, 'the backlog drains to 0');
    assert.ok(validateResults(summary), JSON.stringify(validateResults.errors));
    assert.match(output, /Delivery \(runner sink, timeout 3s\):/);
    assert.match(output, /Delivered: 60 \(100\.0%\)/);
    // Every trace id the stub saw is this run's and distinct
    const traces = new Set(stub.deliveries.map((entry) => entry.trace));
    assert.is(traces.size, 60);
    for (const trace of traces) assert.match(trace!, /^[0-9a-z]+\.\d+$/);
  });
});

truth('retries: a 451 that was delivered all the same is one message arrived twice (duplicated), never unexpected: every attempt carries its trace', async () => {
  await withStub({ refuseButDeliverEvery: 4, refuseCode: 451 }, async (stub) => {
    const { summary, exitCode, output } = await run(scenario(stub, 30, { retry: { on: ['451'], attempts: 20, backoff: { initial: '5ms', max: '20ms' } } }));
    assert.is(exitCode, ExitCode.ok, output);
    assert.ok(stub.stats.refused > 0);
    assert.is(summary.results.successful, 30);
    assert.is(summary.retries!.deferred, stub.stats.refused);
    const arrivals = new Map<string, number>();
    for (const entry of stub.deliveries) arrivals.set(entry.trace!, (arrivals.get(entry.trace!) ?? 0) + 1);
    assert.is(arrivals.size, 30, 'one trace per message, whatever its attempts');
    const d = summary.delivery!;
    assert.equal([d.delivered, d.lost, d.unexpected, d.duplicated], [30, 0, 0, [...arrivals.values()].filter((n) => n > 1).length]);
  });
});

truth('a relay that drops every 10th message: lost is exactly the stub\'s drops, the accept figures unchanged', async () => {
  await withStub({ dropEvery: 10 }, async (stub) => {
    const { summary, exitCode } = await run(scenario(stub, 50, { delivery: { sink: stub.adminUrl, timeout: '1s' }, thresholds: { smtp_lost: ['count==0'] } }));
    assert.is(stub.stats.dropped, 5);
    assert.is(summary.results.successful, 50, 'the relay still said 250 to all');
    assert.is(summary.results.success_rate, 1);
    const d = summary.delivery!;
    assert.equal([d.delivered, d.lost, d.late, d.pending], [45, 5, 0, 0]);
    assert.is(d.delivered_rate, 0.9);
    assert.is(d.wait, 'timed_out');
    assert.is(exitCode, ExitCode.thresholdsFailed, 'smtp_lost count==0 fails');
    const failed = summary.thresholds.find((t) => t.metric === 'smtp_lost')!;
    assert.equal([failed.ok, failed.actual], [false, 5]);
    assert.is(summary.timeline[summary.timeline.length - 1]!.delivery_backlog, 5, 'the lost stay in the backlog');
  });
});

truth('a relay that delivers every 5th message twice: duplicated is exactly the stub\'s', async () => {
  await withStub({ duplicateEvery: 5 }, async (stub) => {
    const { summary } = await run(scenario(stub, 40));
    assert.is(stub.stats.duplicated, 8);
    const d = summary.delivery!;
    assert.equal([d.delivered, d.duplicated, d.lost], [40, 8, 0]);
  });
});

truth('messages refused but delivered all the same: unexpected is exactly the stub\'s', async () => {
  await withStub({ refuseButDeliverEvery: 4 }, async (stub) => {
    const { summary } = await run(scenario(stub, 40));
    assert.is(stub.stats.refused, 10);
    assert.is(summary.results.failed, 10);
    const d = summary.delivery!;
    assert.equal([d.delivered, d.unexpected, d.lost], [30, 10, 0]);
  });
});

truth('a sink that does not answer: refused before any load, with what to do', async () => {
  await withStub({}, async (stub) => {
    const options = scenario(stub, 5);
    options.delivery = { sink: 'http://127.0.0.1:1' };
    let error: any;
    try {
      await run(options);
    } catch (caught) {
      error = caught;
    }
    assert.is(error?.code, 'E_DELIVERY_SOURCE');
    assert.match(error.hint, /--with-sink/);
    assert.is(stub.stats.received, 0, 'no message sent');
  });
});

const waiting = suite('delivery: the wait after the load');

waiting('deliveries held past the load: the run waits and shows it, then counts them delivered', async () => {
  await withStub({ isHolding: true }, async (stub) => {
    const stdout = createTextSink();
    // Released once the run says it waits: every arrival comes after every 250
    const write = stdout.write.bind(stdout);
    stdout.write = ((chunk: any, ...rest: any[]) => {
      if (String(chunk).includes('waiting for')) setTimeout(() => stub.release(), 200);
      return write(chunk, ...rest);
    }) as typeof stdout.write;
    const outcome = await runCommand({ scenario: scenario(stub, 10), overrides: {}, out: false, check: false, progressIntervalMs: 60_000, stdout, stderr: createTextSink() });
    const d = outcome.summary.delivery!;
    assert.equal([d.delivered, d.lost, d.pending], [10, 0, 0]);
    assert.match(stdout.text(), /waiting for 10 deliveries, [1-3] s left/);
    assert.is(d.wait, 'complete');
    assert.ok(d.wait_seconds > 0, `waited ${d.wait_seconds} s`);
    assert.ok(d.lag.min_seconds! > 0, 'each arrived after its 250');
  });
});

waiting('Ctrl+C during the wait (a real process): the awaited are pending, not lost; exit 105; results written', async () => {
  const temp = createTempDir();
  try {
    await withStub({ isHolding: true }, async (stub) => {
      const results = join(temp.dir, 'results.json');
      let signalled = false;
      const ran = await runCli(
        ['run', '--host', '127.0.0.1', '--port', String(stub.smtpPort), '--no-auth', '--no-check', '--to', 'load@example.com', '--num-emails', '12', '--concurrent', '3',
          '--delivery', `sink=${stub.adminUrl}`, '--delivery-timeout', '60s', '--progress-interval', '0.5', '--out', results],
        {
          onStdout: (text, child) => {
            if (!signalled && /waiting for 12 deliveries/.test(text)) {
              signalled = true;
              child.kill('SIGINT');
            }
          },
        },
      );
      assert.ok(signalled, `never saw the wait: ${ran.stdout}${ran.stderr}`);
      assert.is(ran.code, ExitCode.interrupted, ran.stderr);
      assert.match(ran.stderr, /stopping the wait for deliveries: the 12 still awaited are reported as pending, not lost/);
      assert.match(ran.stdout, /Pending: 12/);
      const file = parseResultsText(readFileSync(results, 'utf8'), results);
      const d = file.summary!.delivery!;
      assert.equal([d.delivered, d.lost, d.pending, d.wait], [0, 0, 12, 'interrupted']);
    });
  } finally {
    temp.remove();
  }
});

truth.run();
waiting.run();
