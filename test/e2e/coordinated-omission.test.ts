/**
 * Coordinated omission, end to end: the fake proxy stalls (holds every reply back) for 2 s in
 * the middle of a 10 s constant-arrival-rate run, and the figures must show the stall for what
 * it is: a hundred messages kept waiting, not one slow sample.
 *
 * First principles. Arrivals are planned every 1/R (R = 50/s, D = 10 s: N = R·D = 500). During
 * a stall of S = 2 s, R·S = 100 arrivals come. With enough VUs each starts on time on a VU of
 * its own (allocated on demand), connects (the kernel still accepts) and waits for its greeting
 * until the stall ends: the one that arrived x after the stall began waits S − x, so these
 * waits are spread evenly over (0, S]. The k-th largest latency of the run is then
 * ≈ S − (k−1)/R, and percentile q (rank k = (1−q)·N from the top) is ≈ S − (1−q)·D:
 *   p99 ≈ 2 − 0.1 = 1.9 s,  p90 ≈ 2 − 1 = 1 s,  p50: untouched (the stall holds 20% of the run).
 * Held messages are released together, and the burst adds a little on top (≲ 0.3 s here).
 *
 * Response time (from the *planned* start) minus service time (from the *actual* start) is
 * the executor's own lateness: how long a planned iteration waited for a VU or for the event
 * loop. With enough VUs nothing waits for a VU, so both carry the stall and differ by timer lag
 * only (ms). That is the point of the open model: in a closed model (one VU looping) the same
 * stall is one slow sample among thousands and hides below p99 (coordinated omission).
 *
 * With too few VUs (maxVUs < R·S), arrivals that find no free VU are *dropped*
 * (dropped_iterations), not queued: they are never timed at all. The ground truth of that
 * case is checked below (planned = started + dropped); that the response time then does not
 * show the stall is the engine's current model, reported as a gap (see the skipped test).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { parseStallFlag, startFakeProxy } from '../../fixtures/fake-proxy.ts';
import { InvalidOptionsError } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import type { Summary } from '../../runner/outputs/summary.ts';

const RATE_PER_SECOND = 50;
const STALL_MS = 2000;

/** A constant-arrival-rate run of `durationS` seconds at RATE_PER_SECOND. */
function arrivalScenario(durationS: number, preAllocatedVUs: number, maxVUs: number): ScenarioFileOptions {
  return {
    scenarios: {
      steady: { executor: 'constant-arrival-rate', rate: RATE_PER_SECOND, timeUnit: '1s', duration: `${durationS}s`, preAllocatedVUs, maxVUs },
    },
  };
}

/** Runs `scenario` against a proxy that stalls STALL_MS from `stallAtMs` after the run is started. */
async function runWithStall(scenario: ScenarioFileOptions, stallAtMs: number): Promise<{ summary: Summary; repliesHeld: number; accepted: number }> {
  return withFakeProxy({}, async (proxy) => {
    // The run's clock starts a few ms after this (options are resolved first); the assertions
    // below never depend on the stall's position to better than half a second.
    const timer = setTimeout(() => proxy.stall(STALL_MS), stallAtMs);
    try {
      const { summary } = await runAgainst(proxy, { scenario, check: false, watchPid: false });
      return { summary, repliesHeld: proxy.stats.repliesHeld, accepted: proxy.stats.messagesAccepted };
    } finally {
      clearTimeout(timer);
    }
  });
}

const seconds = (value: number | null): number => {
  assert.ok(value !== null, 'a latency figure is null');
  return value!;
};

const enough = suite('coordinated omission: 50/s for 10 s, a 2 s stall in the middle, enough VUs');

enough('response time shows the stall (p99 ≈ S − 1%·D); service time too, within timer lag; the timeline dips and bursts', async () => {
  const durationS = 10;
  const { summary, repliesHeld, accepted } = await runWithStall(arrivalScenario(durationS, 5, 200), 4500);
  const results = summary.results;
  const planned = RATE_PER_SECOND * durationS;
  const stalledArrivals = (RATE_PER_SECOND * STALL_MS) / 1000;

  // Ground truth: every planned arrival ran and was accepted; none dropped (enough VUs)
  assert.is(results.dropped_iterations, 0);
  assert.is(results.total_requests, planned);
  assert.is(results.successful, accepted);
  assert.is(results.successful, planned);
  // The stall caught about R·S messages (one held reply each, plus those in flight when it began)
  assert.ok(repliesHeld >= stalledArrivals * 0.8 && repliesHeld <= stalledArrivals * 1.3, `replies held ${repliesHeld}, expected ≈ ${stalledArrivals}`);
  // …and the runner needed about that many VUs at once: one per waiting message
  assert.ok(results.vus_max >= stalledArrivals * 0.8, `vus_max ${results.vus_max}`);

  const response = results.response_time;
  const service = results.latency;
  const p99 = seconds(response.p99_seconds);
  const p90 = seconds(response.p90_seconds);
  // p99 ≈ 1.9 s, p90 ≈ 1 s (see the module comment); bounds leave room for the release burst and a slow machine
  assert.ok(p99 >= 1.5 && p99 <= 2.8, `response p99 ${p99} s, expected ≈ 1.9 s`);
  assert.ok(p90 >= 0.6 && p90 <= 1.8, `response p90 ${p90} s, expected ≈ 1 s: the stall is a hundred slow samples, not one`);
  assert.ok(seconds(response.p50_seconds) < 0.25, `response p50 ${response.p50_seconds} s: 80% of the run never met the stall`);
  assert.ok(seconds(response.max_seconds) >= 1.9, `response max ${response.max_seconds} s < the stall`);

  // Service time: the same messages waited, from their actual start, which was their planned start
  const serviceP99 = seconds(service.p99_seconds);
  assert.ok(serviceP99 >= 1.5, `service p99 ${serviceP99} s hides the stall`);
  assert.ok(serviceP99 <= p99, 'service time above response time: response time is measured from a later instant than the start');
  assert.ok(p99 - serviceP99 < 0.25, `response p99 ${p99} s − service p99 ${serviceP99} s: more than timer lag with enough VUs`);
  assert.ok(seconds(response.avg_seconds) >= seconds(service.avg_seconds));

  // Timeline: the open model keeps starting R per second through the stall; nothing completes
  // during it (at least one whole window lies inside 2 s); the release shows as a burst after.
  const timeline = summary.timeline;
  const full = timeline.filter((point) => point.windowMs >= 900);
  for (const point of full) {
    assert.ok(point.started >= RATE_PER_SECOND * 0.7 && point.started <= RATE_PER_SECOND * 1.3, `window t=${point.t}: started ${point.started}, expected ≈ ${RATE_PER_SECOND}`);
  }
  const silent = timeline.map((point, index) => ({ point, index })).filter(({ point }) => point.accepted === 0 && point.windowMs >= 900);
  assert.ok(silent.length >= 1 && silent.length <= 2, `windows with nothing accepted: ${silent.map(({ point }) => point.t).join(', ')}`);
  const burst = timeline[silent[silent.length - 1]!.index + 1];
  assert.ok(burst !== undefined && burst.accepted >= stalledArrivals * 0.8, `no release burst after the stall: ${JSON.stringify(burst)}`);
  assert.ok(burst!.p99Ms! >= 1500, `the burst window's p99 ${burst!.p99Ms} ms does not show the stall`);
  const before = timeline.find((point) => point.t <= 3 && point.t >= 2)!;
  assert.ok(before.accepted >= RATE_PER_SECOND * 0.7 && before.p99Ms! < 500, `before the stall: ${JSON.stringify(before)}`);
  assert.is(timeline.reduce((sum, point) => sum + point.accepted, 0), planned);
});

const scarce = suite('coordinated omission: too few VUs for the stall (maxVUs 2 < R·S)');

scarce('arrivals that find no free VU are dropped and counted: planned = started + dropped; the two stuck VUs carry the stall', async () => {
  const durationS = 5;
  const maxVUs = 2;
  const { summary, repliesHeld } = await runWithStall(arrivalScenario(durationS, maxVUs, maxVUs), 2000);
  const results = summary.results;
  const planned = RATE_PER_SECOND * durationS;
  const stalledArrivals = (RATE_PER_SECOND * STALL_MS) / 1000;
  assert.is(results.iterations + results.dropped_iterations, planned);
  assert.is(results.total_requests, results.iterations);
  // Only the messages of the stuck VUs were held; every other arrival during the stall was dropped
  assert.ok(repliesHeld <= maxVUs, `replies held ${repliesHeld} > ${maxVUs} VUs`);
  assert.ok(
    results.dropped_iterations >= stalledArrivals - maxVUs - 10 && results.dropped_iterations <= stalledArrivals + 15,
    `dropped ${results.dropped_iterations}, expected ≈ ${stalledArrivals - maxVUs}`,
  );
  assert.ok(seconds(results.latency.max_seconds) >= 1.5, `no message saw the stall: max ${results.latency.max_seconds} s`);
  const dropWindows = summary.timeline.filter((point) => point.dropped > 0);
  assert.ok(dropWindows.length >= 1 && dropWindows.length <= 4, `drops outside the stall: ${dropWindows.map((p) => `${p.t}:${p.dropped}`).join(' ')}`);
});

// The issue's goal for this case (wrk2's model: a late start is charged to response time) is not
// what the engine does: runArrivals drops an arrival that finds no free VU (dropIteration) instead of
// queueing it for the next free VU with its planned start, so those ~98 messages never get a
// response-time sample and response p99 stays at the normal few ms. Enable when arrivals queue.
scarce.skip('response time charges the stall to the arrivals that waited for a VU (p99 ≥ 1.5 s)', async () => {
  const { summary } = await runWithStall(arrivalScenario(5, 2, 2), 2000);
  assert.ok(seconds(summary.results.response_time.p99_seconds) >= 1.5);
});

// ---------------------------------------------------------------------------------------------------
// The fixture's stall knob itself, with a raw socket: what is held, for how long, in what order.

/** Reads complete replies (a line `NNN text` ends one) from a raw socket. */
function createReplyReader(socket: net.Socket): () => Promise<string> {
  let buffered = '';
  const waiting: Array<(reply: string) => void> = [];
  const ready: string[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(buffered); match; match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(buffered)) {
      buffered = buffered.slice(match[0].length);
      const reply = match[0].trimEnd();
      const waiter = waiting.shift();
      if (waiter) waiter(reply);
      else ready.push(reply);
    }
  });
  return () => {
    const reply = ready.shift();
    return reply !== undefined ? Promise.resolve(reply) : new Promise((resolve) => waiting.push(resolve));
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const knob = suite('fake proxy: stalls hold every reply back until they end');

knob('a planned stall from the start holds the greeting of a new connection until it ends', async () => {
  const proxy = await startFakeProxy({ adminPort: null, seed: 1, stalls: [{ atMs: 0, durationMs: 300 }] });
  const socket = await connect(proxy.port);
  try {
    const startedMs = performance.now();
    const greeting = await createReplyReader(socket)();
    const waitedMs = performance.now() - startedMs;
    assert.match(greeting, /^220 /);
    assert.ok(waitedMs >= 250 && waitedMs < 2000, `greeting after ${waitedMs} ms`);
    assert.is(proxy.stats.repliesHeld, 1);
  } finally {
    socket.destroy();
    await proxy.close();
  }
});

knob('proxy.stall(ms) mid-session: EHLO waits, later replies flow at once; QUIT\'s 221 arrives before the close', async () => {
  const proxy = await startFakeProxy({ adminPort: null, seed: 1 });
  const socket = await connect(proxy.port);
  try {
    const next = createReplyReader(socket);
    assert.match(await next(), /^220 /);
    proxy.stall(200);
    let startedMs = performance.now();
    socket.write('EHLO client.test\r\n');
    assert.match(await next(), /^250-xoauth2-proxy/);
    assert.ok(performance.now() - startedMs >= 150, 'EHLO was answered during the stall');
    startedMs = performance.now();
    socket.write('NOOP\r\n');
    assert.match(await next(), /^250 /);
    assert.ok(performance.now() - startedMs < 150, 'NOOP after the stall still waited');
    proxy.stall(200);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('QUIT\r\n');
    assert.match(await next(), /^221 /);
    await closed;
    assert.is(proxy.stats.repliesHeld, 2);
  } finally {
    socket.destroy();
    await proxy.close();
  }
});

knob('close() during a stall drops the held replies and leaves no timer behind', async () => {
  const proxy = await startFakeProxy({ adminPort: null, seed: 1, stalls: [{ atMs: 0, durationMs: 60_000 }] });
  const socket = await connect(proxy.port);
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.destroy();
  const startedMs = performance.now();
  await proxy.close();
  assert.ok(performance.now() - startedMs < 1000);
});

knob('--stall atMs+durationMs is parsed; bad stalls are reported with their path', async () => {
  assert.equal(parseStallFlag('3000+2000'), { atMs: 3000, durationMs: 2000 });
  assert.equal(parseStallFlag(' 0 + 1.5 '), { atMs: 0, durationMs: 1.5 });
  for (const text of ['3000', '3000-2000', 'a+b', '3000+0']) assert.throws(() => parseStallFlag(text), (error: unknown) => error instanceof InvalidOptionsError, text);
  const error = await startFakeProxy({ stalls: [{ atMs: -1, durationMs: 0 }] }).then(() => undefined, (caught: unknown) => caught);
  assert.instance(error, InvalidOptionsError);
  const problems = (error as InvalidOptionsError).problems;
  assert.is(problems.length, 2);
  assert.ok(problems[0]!.startsWith('stalls[0].atMs') && problems[1]!.startsWith('stalls[0].durationMs'), problems.join('; '));
});

enough.run();
scarce.run();
knob.run();
