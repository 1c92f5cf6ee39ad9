/**
 * A run controlled while it goes, through its REST API (`--api`): pause and resume (no message
 * reaches the fake proxy while paused, the arrival schedule restarts where it stood so every
 * planned arrival still starts, the timeline marks the paused windows), scaling an
 * externally-controlled scenario (its VUs follow, up to maxVUs), and the API's refusals. The waits
 * are logical: on the run's own status (iterations started, VUs busy, time paused), never on a
 * guess of the machine's speed; the fake proxy's counters are the ground truth.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { controlCommand } from '../../runner/api/client.ts';
import { ExitCode, RunnerError } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import type { RunOutcome } from '../../runner/run.ts';

const api = suite('REST API: pause, resume, scale, observed in the timeline and the proxy\'s counters');

type Status = { phase: string; paused: boolean; paused_ms: number; vus: number; vus_max: number; scenarios: Array<{ iterations_started: number; active_vus: number; allocated_vus: number; accepted: number; failed: number; rate_per_second?: number }> };

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
    // What was in flight finishes; from then on nothing may reach the proxy. Every started
    // iteration answered, not active_vus 0: an arrival reached as the pause began holds its VU,
    // waiting for the resume without starting (seen beside two CPU hogs: active_vus 1 throughout)
    const settled = await waitFor(address, (s) => s.scenarios[0]!.accepted + s.scenarios[0]!.failed === s.scenarios[0]!.iterations_started, 'the running iterations to finish');
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

/**
 * Arrivals with instants at or before `tS` (s since the start) of a schedule at `beforePerS` that
 * changed to `afterPerS` at `changeS`, ending at `endS`: the integral of the rate, as planned.
 */
function arrivalsUntil(tS: number, changeS: number, beforePerS: number, afterPerS: number, endS: number): number {
  const t = Math.min(tS, endS - 1e-9);
  if (t < 0) return 0;
  const integral = t <= changeS ? beforePerS * t : beforePerS * changeS + afterPerS * (t - changeS);
  return Math.floor(integral + 1e-9) + 1;
}

api('scale --rate: a constant-arrival-rate run goes on at the new rate from the recorded instant, no burst, no arrival lost', async () => {
  await withFakeProxy({}, async (proxy) => {
    // 5 arrivals per second for 3 s, then 15 per second from the change on
    const scenario: ScenarioFileOptions = { scenarios: { paced: { executor: 'constant-arrival-rate', rate: 5, timeUnit: '1s', duration: '3s', preAllocatedVUs: 4, maxVUs: 10 } } };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', onApiListening }));
    const before = await waitFor(address, (s) => s.scenarios[0]!.iterations_started >= 5, 'the first arrivals');
    assert.is(before.scenarios[0]!.rate_per_second, 5);
    const stdout = createTextSink();
    const after = (await controlCommand({ action: 'scale', ratePerSecond: 15, api: address, stdout })) as unknown as Status;
    assert.is(after.scenarios[0]!.rate_per_second, 15);
    assert.match(stdout.text(), /paced at 15\/s/);
    const { summary, exitCode } = await run;
    assert.is(exitCode, ExitCode.ok);
    // The change is in the timeline, at its instant
    const changes = summary.timeline.flatMap((w) => w.rate_changes ?? []);
    assert.is(changes.length, 1);
    assert.equal({ scenario: changes[0]!.scenario, rate: changes[0]!.rate_per_second }, { scenario: 'paced', rate: 15 });
    const changeS = changes[0]!.t_seconds;
    assert.ok(changeS >= 0.8 && changeS < 3, `changed at ${changeS} s`);
    // Every arrival the changed plan has was started once, none dropped: the total is the
    // integral of the rate (±1: the instant is read on the test's clock, not the scenario's)
    const planned = summary.timeline.reduce((sum, w) => sum + (w.planned ?? 0), 0);
    const expected = arrivalsUntil(3, changeS, 5, 15, 3);
    assert.ok(Math.abs(planned - expected) <= 1, `planned ${planned}, expected ${expected} for a change at ${changeS} s`);
    assert.is(summary.results.dropped_iterations, 0);
    assert.is(proxy.stats.messagesAccepted, planned);
    assert.is(summary.timeline.reduce((sum, w) => sum + w.started, 0), planned);
    // Per window: the arrivals the plan has in it, ±1 per window boundary (where an arrival falls is a matter of ms)
    let beforeCount = 0;
    let afterCount = 0;
    for (const w of summary.timeline) {
      const fromS = w.t_seconds - w.window_ms / 1000;
      const want = arrivalsUntil(w.t_seconds, changeS, 5, 15, 3) - arrivalsUntil(fromS, changeS, 5, 15, 3);
      assert.ok(Math.abs((w.planned ?? 0) - want) <= 2, `window ending ${w.t_seconds} s: ${w.planned} planned, ${want} expected`);
      if (w.t_seconds <= changeS) beforeCount += w.planned ?? 0;
      else if (fromS >= changeS && w.window_ms >= 999) afterCount = Math.max(afterCount, w.planned ?? 0);
    }
    // A whole second after the change carried about 15 arrivals, the seconds before about 5
    if (afterCount > 0) assert.ok(afterCount >= 13 && afterCount <= 17, `a whole second after the change: ${afterCount}`);
    assert.ok(beforeCount <= arrivalsUntil(changeS, changeS, 5, 15, 3) + 1);
  });
});

api('scale --rate refusals: not a rate, no constant-arrival-rate scenario, a ramping one follows its stages', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = {
      scenarios: {
        looping: { executor: 'constant-vus', vus: 1, duration: '1500ms' },
        ramp: { executor: 'ramping-arrival-rate', startRate: 5, timeUnit: '1s', preAllocatedVUs: 2, stages: [{ duration: '1500ms', target: 5 }] },
      },
    };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', onApiListening }));
    await waitFor(address, (s) => s.scenarios.every((x) => x.iterations_started >= 1), 'both scenarios to start');
    const patch = (body: unknown) => fetch(`http://${address}/v1/status`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const [body, message] of [
      [{ rate: -5 }, /rate -5 must be > 0/],
      [{ rate: 'fast' }, /'fast' is not a rate: give iterations per second \(20\) or per unit \('200\/m'/],
      [{ rate: true }, /rate must be iterations per second/],
      [{ rate: '200/m', paused: true }, /scenario ramp \(ramping-arrival-rate\) takes no rate change: only a running constant-arrival-rate scenario's rate can be changed \(a ramping-arrival-rate scenario follows its stages\)/],
    ] as const) {
      const answer = await patch(body);
      assert.is(answer.status, 400, JSON.stringify(body));
      assert.match(((await answer.json()) as { error: string }).error, message);
    }
    // A refused change changes nothing: the pause that came with it was not applied
    assert.is((await status(address)).paused, false);
    const refused = await controlCommand({ action: 'scale', ratePerSecond: 10, api: address, stdout: createTextSink() }).catch((error) => error);
    assert.instance(refused, RunnerError);
    assert.is(refused.exitCode, ExitCode.usage);
    assert.match(refused.message, /the run at .* refused: scenario ramp \(ramping-arrival-rate\) takes no rate change/);
    const { summary, exitCode } = await run;
    assert.is(exitCode, ExitCode.ok);
    assert.ok(summary.timeline.every((w) => w.rate_changes === undefined));
  });
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { looping: { executor: 'constant-vus', vus: 1, duration: '1s' } } };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', onApiListening }));
    const none = await controlCommand({ action: 'scale', ratePerSecond: 10, api: address, stdout: createTextSink() }).catch((error) => error);
    assert.match(none.message, /no constant-arrival-rate scenario is running: only its rate can be changed while a run goes/);
    assert.is((await run).exitCode, ExitCode.ok);
  });
  // The command's own checks, before any call (the built CLI: node build.mjs)
  const cli = fileURLToPath(new URL('../../bin/runner.js', import.meta.url));
  for (const [args, message] of [
    [['scale', '--rate', 'fast', '--api', '127.0.0.1:1'], /'fast' is not a rate/],
    [['scale', '--rate', '-5', '--api', '127.0.0.1:1'], /must be > 0|negative/],
    [['scale', '--rate', '1e9', '--api', '127.0.0.1:1'], /--rate must be at most 1,000,000 iterations\/s \(got 1000000000\)/],
    [['scale', '--api', '127.0.0.1:1'], /runner scale needs --vus N or --rate R/],
  ] as const) {
    const ran = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.is(ran.status, ExitCode.usage, `${args.join(' ')}: ${ran.stderr}`);
    assert.match(ran.stderr, message);
  }
});

api('a rate above the scenario limit (1e9/s) is refused: it blocked the event loop and the run died with its figures lost; a huge body gets 413', async () => {
  await withFakeProxy({}, async (proxy) => {
    const scenario: ScenarioFileOptions = { scenarios: { paced: { executor: 'constant-arrival-rate', rate: 5, timeUnit: '1s', duration: '1500ms', preAllocatedVUs: 1, maxVUs: 2 } } };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', onApiListening }));
    await waitFor(address, (s) => s.scenarios[0]!.iterations_started >= 1, 'the first arrival');
    const patch = (body: string) => fetch(`http://${address}/v1/status`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body });
    const tooFast = await patch(JSON.stringify({ rate: 1e9 }));
    assert.is(tooFast.status, 400);
    assert.match(((await tooFast.json()) as { error: string }).error, /rate must be at most 1,000,000 iterations\/s \(got 1000000000\): far above what one process/);
    const huge = await patch(JSON.stringify({ paused: true, pad: 'x'.repeat(100_000) }));
    assert.is(huge.status, 413);
    assert.match(((await huge.json()) as { error: string }).error, /larger than 4096 bytes/);
    const now = await status(address);
    assert.is(now.scenarios[0]!.rate_per_second, 5);
    assert.is(now.paused, false);
    const { summary, exitCode } = await run;
    assert.is(exitCode, ExitCode.ok);
    assert.ok(summary.timeline.every((w) => w.rate_changes === undefined));
    assert.is(proxy.stats.messagesAccepted, 8);
  });
});

api('pause during setup() is refused (it answered 200 and did not pause); once the scenarios run it takes', async () => {
  await withFakeProxy({}, async (proxy) => {
    let endSetup!: () => void;
    const setupGate = new Promise<void>((resolve) => (endSetup = resolve));
    const scenario: ScenarioFileOptions = {
      setup: () => setupGate,
      scenarios: { counted: { executor: 'shared-iterations', vus: 1, iterations: 3 } },
    };
    const { address, run } = await startControlledRun((onApiListening) =>
      runAgainst(proxy, { scenario, check: false, watchPid: false, api: '127.0.0.1:0', onApiListening }));
    assert.is((await status(address)).phase, 'setup');
    const refused = await controlCommand({ action: 'pause', api: address, stdout: createTextSink() }).catch((error) => error);
    assert.instance(refused, RunnerError);
    assert.match(refused.message, /refused: cannot pause now: the run is in setup\(\); pause once its scenarios run/);
    assert.is((await status(address)).paused, false);
    endSetup();
    const { exitCode } = await run;
    assert.is(exitCode, ExitCode.ok);
    assert.is(proxy.stats.messagesAccepted, 3);
  });
});

api.run();
