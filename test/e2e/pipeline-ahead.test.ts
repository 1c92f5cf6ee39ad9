/**
 * The next transaction written with a message's data (session.ts writeAhead), end to end: the
 * closed-model executors grant a VU's next iteration early (vu-loops.ts), and the counts stay
 * exact against the sink (which offers PIPELINING): every message runner counts accepted was
 * delivered, none more, and an iteration count opens no transaction it does not fill.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startSink, type Sink } from '../../fixtures/sink.ts';
import { runCommand } from '../../runner/run.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { createTextSink } from '../helpers.ts';
import { controlCommand } from '../../runner/api/client.ts';

async function withSink<T>(body: (sink: Sink) => Promise<T>): Promise<T> {
  const sink = await startSink({ tls: 'none', seed: 3 });
  try {
    return await body(sink);
  } finally {
    await sink.close();
  }
}

function options(sink: Sink, scenario: Record<string, unknown>, smtp: Record<string, unknown> = {}): ScenarioFileOptions {
  return {
    target: { host: '127.0.0.1', port: sink.smtpPort },
    smtp: { to: 'load@example.com', messagesPerConnection: 25, rsetBetweenMessages: false, ...smtp },
    scenarios: { ahead: scenario },
  } as unknown as ScenarioFileOptions;
}

async function run(scenario: ScenarioFileOptions) {
  const stdout = createTextSink();
  const stderr = createTextSink();
  const outcome = await runCommand({ scenario, overrides: {}, out: false, check: false, progressIntervalMs: 60_000, stdout, stderr });
  return { ...outcome, output: stdout.text() + stderr.text() };
}

/** Transactions the sink saw the client leave unfinished (MAIL accepted, then the connection closed). */
function dropped(sink: Sink): number {
  return sink.stats.unfinished;
}

const Ahead = suite('the next transaction with the message, end to end against the sink');

for (const [name, scenario, total] of [
  ['shared-iterations (10 VUs, 300 messages)', { executor: 'shared-iterations', vus: 10, iterations: 300 }, 300],
  ['per-vu-iterations (7 VUs × 31)', { executor: 'per-vu-iterations', vus: 7, iterations: 31 }, 217],
] as const) {
  Ahead(`${name}: exactly the planned messages delivered, no transaction opened in vain`, async () => {
    await withSink(async (sink) => {
      const { summary, exitCode, output } = await run(options(sink, scenario));
      assert.is(exitCode, ExitCode.ok, output);
      assert.equal([summary.results.successful, summary.results.failed, summary.results.interrupted], [total, 0, 0], output);
      assert.is(sink.stats.delivered, total);
      assert.is(dropped(sink), 0, JSON.stringify(sink.stats));
      // The same count of connections as without it: messagesPerConnection per connection
      const vus = scenario.vus;
      assert.ok(sink.stats.connections <= Math.ceil(total / 25) + vus, `${sink.stats.connections} connections`);
    });
  });
}

Ahead('constant-vus for a duration: accepted == delivered; at most one transaction per VU left without a message at the end', async () => {
  await withSink(async (sink) => {
    const vus = 4;
    const { summary, exitCode, output } = await run(options(sink, { executor: 'constant-vus', vus, duration: '400ms' }));
    assert.is(exitCode, ExitCode.ok, output);
    assert.ok(summary.results.successful > 0, output);
    assert.is(summary.results.failed, 0, output);
    assert.is(sink.stats.delivered, summary.results.successful);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(dropped(sink) <= vus, JSON.stringify(sink.stats));
  });
});

Ahead("smtp.pipelining 'transaction' and think time: the same counts, nothing written ahead", async () => {
  await withSink(async (sink) => {
    const { summary, exitCode, output } = await run(options(sink, { executor: 'constant-vus', vus: 3, duration: '300ms' }, { pipelining: 'transaction' }));
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(sink.stats.delivered, summary.results.successful);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.is(dropped(sink), 0, JSON.stringify(sink.stats));
  });
});

Ahead('paused in the drain with an iteration granted early, never resumed: the run ends at the grace end, still paused, as a run without a grant does (the grant revoked, never started)', async () => {
  const sink = await startSink({ tls: 'none', seed: 3, delays: { message: 600 } });
  try {
    // One VU, 600 ms per message: the second message (from ~0.6 s) is in flight at the planned end
    // (1 s) with the third granted; paused there, the third waits for a resume that never comes
    // until the grace (1 s) runs out and revokes it.
    const scenario = options(sink, { executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '1s' });
    const stdout = createTextSink();
    const stderr = createTextSink();
    let outcome: Promise<Awaited<ReturnType<typeof runCommand>>> | undefined;
    const address = await new Promise<string>((resolve, reject) => {
      outcome = runCommand({ scenario, overrides: {}, out: false, check: false, progressIntervalMs: 60_000, stdout, stderr, api: '127.0.0.1:0', onApiListening: (a) => resolve(`${a.host}:${a.port}`) });
      outcome.catch(reject);
    });
    for (const deadline = Date.now() + 10_000; ; ) {
      const status = (await controlCommand({ action: 'status', api: address, stdout: createTextSink() })) as unknown as { scenarios: Array<{ state: string }> };
      if (status.scenarios[0]!.state === 'draining') break;
      if (Date.now() > deadline) throw new Error('gave up waiting for the drain');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await controlCommand({ action: 'pause', api: address, stdout: createTextSink() });
    // The grace ends at most 1 s after the pause (it began before it)
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([outcome!.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, 5000, false)))]);
    clearTimeout(timer);
    assert.ok(ended, `the run did not end within 5 s of the pause:\n${stdout.text()}${stderr.text()}`);
    const { summary, exitCode } = await outcome!;
    assert.is(exitCode, ExitCode.ok, stdout.text() + stderr.text());
    // The granted third message never started: accepted == delivered, nothing interrupted
    assert.equal([summary.results.successful, summary.results.interrupted], [2, 0]);
    assert.is(sink.stats.delivered, 2);
  } finally {
    await sink.close();
  }
});

Ahead.run();
