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
 * With too few VUs (maxVUs = V < R·S), the V VUs get stuck on the first V arrivals of the stall,
 * and the other R·S − V arrivals find no free VU. They wait in the executor's FIFO queue (for
 * at most maxQueueWait, 30 s by default) with their planned start. When the stall ends, the
 * stuck VUs finish and take the queue's oldest arrivals at once, one after the other: with an
 * iteration of s ≈ 5–10 ms on loopback during the burst, V = 2 VUs serve 2/s ≫ R per second, so
 * the backlog of ≈ 98 drains in ≈ 98·s/2 ≲ 0.5 s. The k-th arrival of the stall (planned k/R
 * after it began) is timed from its planned instant: it waits S − k/R for the stall, then k·s/2
 * for its turn in the drain, so its response time is ≈ S − k·(1/R − s/2). That is the
 * enough-VU spread, squeezed by the drain: p99 (k ≈ 5) ≈ 1.9 s; p90 (k ≈ 50) ≈ 1.1–1.3 s
 * instead of 1 s; p50 untouched. A late start is charged to response time (wrk2's model). The
 * service time of a queued arrival runs from its actual start, after the stall: s. Only the V
 * stuck iterations carry the stall in service time, V/N = 0.4% of the samples, so service p99
 * stays near normal (tens of ms at most, the burst); the gap response − service is the wait
 * for a VU, the figure that says "raise maxVUs". Measured once here: response p50/p90/p99/max
 * 0.003/1.33/1.94/2.0 s, service 0.002/0.007/0.096/2.0 s.
 *
 * The queue itself, from the same principles: before the stall an iteration takes a few ms of
 * the 1/R = 20 ms between arrivals, so a VU is always free and nothing queues. In the stall the
 * first V arrivals take the V VUs (and get stuck); every later one queues, so the queue grows by
 * one every 1/R and is longest just before the stall ends: R·S − V = 100 − 2 = 98. Then the drain
 * (≲ 0.5 s) empties it. The timeline's `queued` (the longest queue of each 1 s window) thus
 * climbs over the two or three windows the stall touches to ≈ 98 in the window where it ends, and
 * is 0 well before and well after it; the run warns once that every VU is busy. Predicted for a
 * stall from 4.5 s: 23 (t = 5 s), 73 (6 s), 98 (7 s); measured once: 0 0 0 0 24 74 99 0 0 0.
 *
 * With `maxQueueWait: '0s'` (k6's model) those arrivals are *dropped* (dropped_iterations)
 * instead: never timed at all, so the ≈ 98 waits are in no figure and response time hides the
 * stall (p90 stays normal); planned = started + dropped still holds.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { parseStallFlag, startFakeProxy } from '../../fixtures/fake-proxy.ts';
import { InvalidOptionsError } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import type { Summary } from '../../runner/results/types.ts';

const RATE_PER_SECOND = 50;
const STALL_MS = 2000;

/** A constant-arrival-rate run of `durationS` seconds at RATE_PER_SECOND (maxQueueWait: the default unless given). */
function arrivalScenario(durationS: number, preAllocatedVUs: number, maxVUs: number, maxQueueWait?: string): ScenarioFileOptions {
  return {
    scenarios: {
      steady: {
        executor: 'constant-arrival-rate',
        rate: RATE_PER_SECOND,
        timeUnit: '1s',
        duration: `${durationS}s`,
        preAllocatedVUs,
        maxVUs,
        ...(maxQueueWait === undefined ? {} : { maxQueueWait }),
      },
    },
  };
}

/** Runs `scenario` against a proxy that stalls STALL_MS from `stallAtMs` after the run is started. */
async function runWithStall(scenario: ScenarioFileOptions, stallAtMs: number): Promise<{ summary: Summary; repliesHeld: number; accepted: number; output: string }> {
  return withFakeProxy({}, async (proxy) => {
    // The run's clock starts a few ms after this (options are resolved first); the assertions
    // below never depend on the stall's position to better than half a second.
    const timer = setTimeout(() => proxy.stall(STALL_MS), stallAtMs);
    try {
      const { summary, output } = await runAgainst(proxy, { scenario, check: false, watchPid: false });
      return { summary, repliesHeld: proxy.stats.repliesHeld, accepted: proxy.stats.messagesAccepted, output };
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
  // Upper bound: the stall plus a release that a busy machine may stretch (2.88 s seen beside two
  // CPU hogs); what it rules out is a stall counted twice or timed from the run's start
  assert.ok(p99 >= 1.5 && p99 <= 3.5, `response p99 ${p99} s, expected ≈ 1.9 s`);
  // p90 sits inside the stall's spread (arrivals waited from ~2 s down to ~0): well below p99.
  // The absolute ceiling is loose (1.80 s seen beside two CPU hogs, whose release burst delays
  // every held message alike); what the spread rules out is every held message timed the same
  assert.ok(p90 >= 0.6 && p90 <= 2.5, `response p90 ${p90} s, expected ≈ 1 s: the stall is a hundred slow samples, not one`);
  assert.ok(p99 - p90 >= 0.4, `response p90 ${p90} s is near p99 ${p99} s: the held messages should have waited from ~2 s down to ~0`);
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
  const full = timeline.filter((point) => point.window_ms >= 900);
  for (const point of full) {
    assert.ok(point.started >= RATE_PER_SECOND * 0.7 && point.started <= RATE_PER_SECOND * 1.3, `window t=${point.t_seconds}: started ${point.started}, expected ≈ ${RATE_PER_SECOND}`);
  }
  const silent = timeline.map((point, index) => ({ point, index })).filter(({ point }) => point.accepted === 0 && point.window_ms >= 900);
  assert.ok(silent.length >= 1 && silent.length <= 2, `windows with nothing accepted: ${silent.map(({ point }) => point.t_seconds).join(', ')}`);
  // The release lasts well under a second, so it lies in the one or two windows after the last
  // silent one (two when the stall's end falls near a window's edge, as a busy machine shifts it)
  const burst = timeline.slice(silent[silent.length - 1]!.index + 1, silent[silent.length - 1]!.index + 3);
  const released = burst.reduce((sum, point) => sum + point.accepted, 0);
  assert.ok(released >= stalledArrivals * 0.8, `no release burst after the stall: ${JSON.stringify(burst)}`);
  assert.ok(Math.max(...burst.map((point) => point.p99_ms ?? 0)) >= 1500, `the burst windows' p99 ${burst.map((point) => point.p99_ms).join(', ')} ms do not show the stall`);
  const before = timeline.find((point) => point.t_seconds <= 3 && point.t_seconds >= 2)!;
  assert.ok(before.accepted >= RATE_PER_SECOND * 0.7 && before.p99_ms! < 500, `before the stall: ${JSON.stringify(before)}`);
  assert.is(timeline.reduce((sum, point) => sum + point.accepted, 0), planned);
  // Bytes per window add up to the run's message bytes
  assert.is(timeline.reduce((sum, point) => sum + point.message_bytes!, 0), results.message_bytes);
});

const scarce = suite('coordinated omission: too few VUs for the stall (maxVUs 2 < R·S)');

scarce('arrivals wait for a VU and are charged the wait: response p99 ≈ S − 1%·D, service p99 normal; nothing dropped', async () => {
  const durationS = 10;
  const maxVUs = 2;
  const { summary, repliesHeld, accepted, output } = await runWithStall(arrivalScenario(durationS, maxVUs, maxVUs), 4500);
  const results = summary.results;
  const planned = RATE_PER_SECOND * durationS;
  const stalledArrivals = (RATE_PER_SECOND * STALL_MS) / 1000;

  // Ground truth: every planned arrival ran (the backlog drained long before maxQueueWait) on 2 VUs
  assert.is(results.dropped_iterations, 0);
  assert.is(results.iterations, planned);
  assert.is(results.successful, accepted);
  assert.is(results.successful, planned);
  assert.is(results.vus_max, maxVUs);
  // Only the stuck VUs' messages were held by the stall; the rest waited in the executor's queue
  assert.ok(repliesHeld >= 1 && repliesHeld <= maxVUs, `replies held ${repliesHeld}, expected ${maxVUs}`);

  const response = results.response_time;
  const service = results.latency;
  const p99 = seconds(response.p99_seconds);
  const p90 = seconds(response.p90_seconds);
  // The issue's figure: a 2 s stall in a 10 s run shows in response p99 (≈ 1.9 s); p90 ≈ 1.2 s (see the module comment)
  // Upper bound: the stall plus a release that a busy machine may stretch (2.88 s seen beside two
  // CPU hogs); what it rules out is a stall counted twice or timed from the run's start
  assert.ok(p99 >= 1.5 && p99 <= 3.5, `response p99 ${p99} s, expected ≈ 1.9 s`);
  assert.ok(p90 >= 0.6 && p90 <= 1.8, `response p90 ${p90} s, expected ≈ 1.2 s: ≈ ${stalledArrivals} arrivals waited, not one`);
  assert.ok(seconds(response.p50_seconds) < 0.25, `response p50 ${response.p50_seconds} s: 80% of the run never met the stall`);
  assert.ok(seconds(response.max_seconds) >= 1.9, `response max ${response.max_seconds} s < the stall`);
  // Service time: only the 2 stuck iterations (0.4% of 500) saw the stall; the queued ones started after it
  const serviceP99 = seconds(service.p99_seconds);
  assert.ok(serviceP99 < 0.5, `service p99 ${serviceP99} s: the queued arrivals were served at normal speed once started`);
  assert.ok(seconds(service.max_seconds) >= 1.5, `service max ${service.max_seconds} s: the stuck VUs did not carry the stall`);
  assert.ok(p99 - serviceP99 >= 1, `response p99 ${p99} s − service p99 ${serviceP99} s: the wait for a VU is missing`);

  // Timeline: starts stop during the stall (only the queue grows) and burst when it ends; no drops
  const timeline = summary.timeline;
  assert.is(timeline.reduce((sum, point) => sum + point.started, 0), planned);
  assert.is(timeline.reduce((sum, point) => sum + point.dropped, 0), 0);
  const quiet = timeline.filter((point) => point.window_ms >= 900 && point.started <= maxVUs);
  assert.ok(quiet.length >= 1 && quiet.length <= 2, `windows with (almost) no start: ${quiet.map((point) => `${point.t_seconds}:${point.started}`).join(' ')}`);
  const burst = timeline.find((point) => point.started >= stalledArrivals * 0.8);
  assert.ok(burst !== undefined && burst.t_seconds > quiet[0]!.t_seconds, `no burst of starts after the stall: ${timeline.map((point) => point.started).join(' ')}`);

  // The queue: longest ≈ R·S − V = 98 just before the stall ends, only in the windows the stall touches
  const queues = timeline.map((point) => `${point.t_seconds}:${point.queued}`).join(' ');
  const longest = Math.max(...timeline.map((point) => point.queued ?? 0));
  const expectedLongest = stalledArrivals - maxVUs;
  assert.ok(longest >= expectedLongest * 0.85 && longest <= stalledArrivals + 5, `longest queue ${longest}, expected ≈ ${expectedLongest}: ${queues}`);
  const peak = timeline.find((point) => point.queued === longest)!;
  assert.ok(peak.t_seconds >= 6 && peak.t_seconds <= 8, `the longest queue is not where the stall (≈ 4.5–6.5 s) ends: ${queues}`);
  // A queue the stall made, not a pause of this process: a GC or a busy machine delaying the
  // event loop queues a handful, or a dozen beside CPU hogs (seen: 4 at t = 2 s; 12 at t = 4 s),
  // the stall 24, 74, 99. The stall's windows are those holding a quarter of the longest queue.
  const PAUSE_QUEUE = Math.ceil(longest / 4);
  const waiting = timeline.filter((point) => (point.queued ?? 0) > PAUSE_QUEUE);
  assert.ok(waiting.length >= 2 && waiting.length <= 4 && waiting.every((point) => point.t_seconds >= 4.5 && point.t_seconds <= 8.5), `windows with a queue: ${queues}`);
  // A window's queued is its maximum: a late timer may start two overdue arrivals together at the end
  assert.ok(timeline.at(-1)!.queued! <= PAUSE_QUEUE, `the queue drained: ${queues}`);
  assert.match(output, `warning: all ${maxVUs} VUs of scenario steady are busy: arrivals wait for a free VU and their wait counts in response time; raise maxVUs`);
  assert.is(output.split('are busy: arrivals wait').length, 2, 'the queue warning is given once');
  assert.not.match(output, 'dropped_iterations', 'no drop warning: nothing was dropped');
});

scarce("maxQueueWait '0s' (k6): arrivals that find no free VU are dropped and counted: planned = started + dropped; the two stuck VUs carry the stall", async () => {
  const durationS = 5;
  const maxVUs = 2;
  const { summary, repliesHeld, output } = await runWithStall(arrivalScenario(durationS, maxVUs, maxVUs, '0s'), 2000);
  const results = summary.results;
  const planned = RATE_PER_SECOND * durationS;
  const stalledArrivals = (RATE_PER_SECOND * STALL_MS) / 1000;
  assert.is(results.iterations + results.dropped_iterations, planned);
  assert.is(results.total_requests, results.iterations);
  // Only the messages of the stuck VUs were held; every other arrival during the stall was dropped
  assert.ok(repliesHeld <= maxVUs, `replies held ${repliesHeld} > ${maxVUs} VUs`);
  // The stall's drops, in the (at most three) windows it covers: a busy machine may add a few
  // elsewhere, when both VUs are late at once (checked below: they stay under 20% of the drops)
  const stallDrops = summary.timeline.map((point) => point.dropped).sort((a, b) => b - a).slice(0, 3).reduce((sum, n) => sum + n, 0);
  assert.ok(stallDrops >= stalledArrivals - maxVUs - 10 && stallDrops <= stalledArrivals + 15, `dropped ${stallDrops} in the stall's windows, expected ≈ ${stalledArrivals - maxVUs}`);
  assert.ok(seconds(results.latency.max_seconds) >= 1.5, `no message saw the stall: max ${results.latency.max_seconds} s`);
  // The dropped waits are in no figure: response p90 stays at the normal few ms (the queued model's is ≈ 1 s)
  assert.ok(seconds(results.response_time.p90_seconds) < 0.25, `response p90 ${results.response_time.p90_seconds} s`);
  const dropWindows = summary.timeline.filter((point) => point.dropped > 0);
  // The drops are the stall's: the three windows that can hold a 2 s stall hold most of them (a
  // busy machine may drop some arrivals elsewhere, when both VUs are late at once)
  const topThree = dropWindows.map((p) => p.dropped).sort((a, b) => b - a).slice(0, 3).reduce((sum, n) => sum + n, 0);
  assert.ok(topThree >= 0.8 * results.dropped_iterations, `drops outside the stall: ${dropWindows.map((p) => `${p.t_seconds}:${p.dropped}`).join(' ')}`);
  // Nothing ever queues; the drop warning says why they were dropped
  assert.ok(summary.timeline.every((point) => point.queued === 0), summary.timeline.map((point) => point.queued).join(' '));
  assert.match(output, "warning: scenario steady: no VU came free within maxQueueWait (0s) of an iteration's planned start (dropped_iterations); raise maxVUs or lower the rate");
  assert.not.match(output, 'are busy: arrivals wait');
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
