/**
 * A run controlled while it goes, through its REST API (`--api`): pause and resume (no message
 * reaches the fake proxy while paused, the arrival schedule restarts where it stood so every
 * planned arrival still starts, the timeline marks the paused windows), scaling an
 * externally-controlled scenario (its VUs follow, up to maxVUs), and the API's refusals. The waits
 * are logical: on the run's own status (iterations started, VUs busy, time paused), never on a
 * guess of the machine's speed; the fake proxy's counters are the ground truth.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { controlCommand } from '../../runner/api/client.ts';
import { ExitCode, RunnerError } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import type { RunOutcome } from '../../runner/run.ts';

const api = suite('REST API: pause, resume, scale, observed in the timeline and the proxy\'s counters');

type Status = { phase: string; paused: boolean; paused_ms: number; vus: number; vus_max: number; scenarios: Array<{ iterations_started: number; active_vus: number; allocated_vus: number; accepted: number; failed: number }> };

/** Starts a run with the API on a free port; resolves once it listens. */
async function startControlledRun(start: (onApiListening: (address: { host: string; port: number }) => void) => Promise<RunOutcome & { output: string }>) {
  let run!: Promise<RunOutcome & { output: string }>;
  const address = await new Promise<string>((resolve, reject) => {
    run = start((a) => resolve(`${a.host}:${a.port}`));
    run.then(() => reject(new Error('the run ended before its API listened')), reject);
  });
  return { address, run };
}

async function status(address: string, token?: string): Promise<Status> {
  return (await controlCommand({ action: 'status', api: address, apiToken: token, stdout: createTextSink() })) as unknown as Status;
}

/** Polls the run's status until `isReady` (a logical condition), at most `limitMs`. */
async function waitFor(address: string, isReady: (s: Status) => boolean, what: string, limitMs = 20_000): Promise<Status> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const now = await status(address);
    if (isReady(now)) return now;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(now)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

api('pause: nothing sent while paused, the schedule restarts, every planned arrival starts, the timeline marks the pause', async () => {
  await withFakeProxy({}, async (proxy) => {
    // 20 arrivals per second for 2 s: 40 planned
    const scenario: ScenarioFileOptions = { scenarios: { paced: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '2s', preAllocatedVUs: 4, maxVUs: 8 } } };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', onApiListening }));
    await waitFor(address, (s) => s.scenarios[0]!.iterations_started >= 5, 'the first arrivals');
    const stdout = createTextSink();
    await controlCommand({ action: 'pause', api: address, stdout });
    assert.match(stdout.text(), /^run paused: /);
    // What was in flight finishes; from then on nothing may reach the proxy
    const settled = await waitFor(address, (s) => s.scenarios[0]!.active_vus === 0, 'the running iterations to finish');
    const acceptedAtPause = proxy.stats.messagesAccepted;
    const connectionsAtPause = proxy.stats.connections;
    // Paused long enough that at least one whole timeline window (1 s) lies inside the pause
    const later = await waitFor(address, (s) => s.paused_ms >= 2300, 'the pause to cover a whole window');
    assert.is(proxy.stats.messagesAccepted, acceptedAtPause, 'a message reached the proxy while paused');
    assert.is(proxy.stats.connections, connectionsAtPause);
    assert.is(later.scenarios[0]!.iterations_started, settled.scenarios[0]!.iterations_started);
    assert.ok(later.paused);
    await controlCommand({ action: 'resume', api: address, stdout });
    const { summary, exitCode } = await run;
    assert.is(exitCode, ExitCode.ok);
    // The schedule stopped and restarted: every planned arrival started, none was dropped
    assert.is(proxy.stats.messagesAccepted, 40);
    assert.is(summary.results.dropped_iterations, 0);
    assert.is(summary.timeline.reduce((sum, w) => sum + (w.planned ?? 0), 0), 40);
    // The timeline marks the pause; a window paused throughout started, planned and accepted nothing
    const paused = summary.timeline.filter((w) => (w.paused_ms ?? 0) > 0);
    assert.ok(paused.length >= 2, JSON.stringify(summary.timeline.map((w) => [w.t_seconds, w.paused_ms])));
    const whole = paused.filter((w) => w.paused_ms! >= w.window_ms - 1);
    assert.ok(whole.length >= 1);
    for (const w of whole) {
      assert.is(w.started, 0);
      assert.is(w.accepted, 0);
      assert.is(w.planned, 0);
    }
    const pausedInTimeline = paused.reduce((sum, w) => sum + w.paused_ms!, 0);
    assert.ok(pausedInTimeline >= later.paused_ms - 1, `${pausedInTimeline} < ${later.paused_ms}`);
  });
});

api('pause of a closed model (constant-vus): its VUs start no iteration while paused, its duration is extended by the pause', async () => {
  await withFakeProxy({ delays: { message: 10 } }, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { looping: { executor: 'constant-vus', vus: 2, duration: '1500ms' } } };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', onApiListening }));
    await waitFor(address, (s) => s.scenarios[0]!.iterations_started >= 4, 'the first iterations');
    await controlCommand({ action: 'pause', api: address, stdout: createTextSink() });
    // One message per iteration: once every started one is answered, nothing is in flight
    const settled = await waitFor(address, (s) => s.scenarios[0]!.accepted + s.scenarios[0]!.failed === s.scenarios[0]!.iterations_started, 'the running iterations to finish');
    const acceptedAtPause = proxy.stats.messagesAccepted;
    const later = await waitFor(address, (s) => s.paused_ms >= 1600, 'a pause longer than the whole duration');
    assert.is(proxy.stats.messagesAccepted, acceptedAtPause, 'a message reached the proxy while paused');
    assert.is(later.scenarios[0]!.iterations_started, settled.scenarios[0]!.iterations_started);
    // The scenario's clock stood still: it is still running, past its 1.5 s of wall time
    assert.is(later.phase, 'running');
    await controlCommand({ action: 'resume', api: address, stdout: createTextSink() });
    const { summary, exitCode } = await run;
    assert.is(exitCode, ExitCode.ok);
    // After the resume the VUs went on: more messages than at the pause
    assert.ok(proxy.stats.messagesAccepted > acceptedAtPause);
    assert.is(proxy.stats.messagesAccepted, summary.results.successful);
    assert.ok(summary.timeline.some((w) => (w.paused_ms ?? 0) > 0));
  });
});

api('scale: an externally-controlled scenario follows runner scale --vus, up to maxVUs', async () => {
  await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
    const scenario: ScenarioFileOptions = {
      thresholds: { vus: ['max>=0'], vus_max: ['value>=0'] },
      scenarios: { steered: { executor: 'externally-controlled', vus: 1, maxVUs: 5, duration: '2s' } },
    };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', onApiListening }));
    const first = await waitFor(address, (s) => s.scenarios[0]!.iterations_started >= 2, 'the first iterations');
    assert.is(first.vus_max, 1);
    await controlCommand({ action: 'scale', vus: 4, api: address, stdout: createTextSink() });
    await waitFor(address, (s) => s.scenarios[0]!.active_vus === 4, 'four VUs');
    const refused = await controlCommand({ action: 'scale', vus: 6, api: address, stdout: createTextSink() }).catch((error) => error);
    assert.instance(refused, RunnerError);
    assert.match(refused.message, /vus 6 is above maxVUs 5 of scenario steered/);
    const { summary, exitCode } = await run;
    assert.is(exitCode, ExitCode.ok);
    assert.is(summary.thresholds.find((t) => t.metric === 'vus_max')!.actual, 4);
    assert.is(summary.thresholds.find((t) => t.metric === 'vus')!.actual, 4);
    assert.is(proxy.stats.messagesAccepted, summary.results.successful);
    assert.ok(summary.timeline.some((w) => w.vus === 4));
  });
});

api('refusals: a token, JSON only, no VUs to scale, nothing listening', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '1s' } } };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', apiToken: 'tok-5678', onApiListening }));
    const noToken = await fetch(`http://${address}/v1/status`);
    assert.is(noToken.status, 401);
    const wrongType = await fetch(`http://${address}/v1/status`, { method: 'PATCH', headers: { authorization: 'Bearer tok-5678' }, body: '{"paused":true}' });
    assert.is(wrongType.status, 415);
    const bad = await fetch(`http://${address}/v1/status`, { method: 'PATCH', headers: { authorization: 'Bearer tok-5678', 'content-type': 'application/json' }, body: '{"paused":"yes","speed":2}' });
    assert.is(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /unknown field "speed".*paused must be true or false/);
    const noScale = await controlCommand({ action: 'scale', vus: 3, api: address, apiToken: 'tok-5678', stdout: createTextSink() }).catch((error) => error);
    assert.match(noScale.message, /no externally-controlled scenario is running/);
    const metrics = (await (await fetch(`http://${address}/v1/metrics`, { headers: { authorization: 'Bearer tok-5678' } })).json()) as { metrics: Record<string, { type: string }> };
    assert.is(metrics.metrics['smtp_txn_duration']!.type, 'trend');
    const { exitCode } = await run;
    assert.is(exitCode, ExitCode.ok);
  });
  const gone = await controlCommand({ action: 'pause', api: '127.0.0.1:1', stdout: createTextSink() }).catch((error) => error);
  assert.is(gone.exitCode, ExitCode.targetUnreachable);
  assert.match(gone.hint, /start the run with --api/);
  const remote = await withFakeProxy({}, (proxy) => runAgainst(proxy, { scenario: { scenarios: { s: { executor: 'shared-iterations' } } }, api: '0.0.0.0:0' }).catch((error) => error));
  assert.match(remote.message, /reachable from other machines/);
});

api.run();
