/**
 * Delivery matching on synthetic arrivals, a fake clock and no sockets: every message's verdict
 * (delivered, lost, late, pending, duplicated, unexpected) and the lag figures are exact.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MetricsRegistry } from '../../runner/metrics/registry.ts';
import { DeliveryTracker } from '../../runner/delivery/tracker.ts';
import { resolveDelivery } from '../../runner/delivery/options.ts';
import { buildHead, traceHeaderLine } from '../../runner/smtp/message.ts';

const RUN = 'testrun';
/** Epoch ms that is performance.now() 0 in these tests. */
const ORIGIN = 1_700_000_000_000;

/** What happens to one message: its verdict from runner, and when (ms) it arrives upstream, in order. */
interface MessageCase {
  runner: 'accepted' | 'failed';
  /** performance.now() of the 250 (accepted) — the message started 10 ms before. */
  atMs?: number;
  arrivals: number[];
}

interface TrackerCase {
  name: string;
  messages: MessageCase[];
  /** When the wait ends, and whether by Ctrl+C. */
  finishAtMs: number;
  isInterrupted?: boolean;
  expected: { delivered: number; lost: number; late: number; pending: number; duplicated: number; unexpected: number };
  /** Lags (ms) recorded, sorted. */
  lagsMs?: number[];
}

const TIMEOUT_MS = 1000;

const CASES: TrackerCase[] = [
  {
    name: 'all arrive once',
    messages: [
      { runner: 'accepted', atMs: 100, arrivals: [150] },
      { runner: 'accepted', atMs: 200, arrivals: [450] },
      { runner: 'accepted', atMs: 300, arrivals: [1299] },
    ],
    finishAtMs: 2000,
    expected: { delivered: 3, lost: 0, late: 0, pending: 0, duplicated: 0, unexpected: 0 },
    lagsMs: [50, 250, 999],
  },
  {
    name: 'one never arrives: lost; one arrives after its timeout: lost (late)',
    messages: [
      { runner: 'accepted', atMs: 100, arrivals: [] },
      { runner: 'accepted', atMs: 100, arrivals: [1101] },
      { runner: 'accepted', atMs: 100, arrivals: [300] },
    ],
    finishAtMs: 5000,
    expected: { delivered: 1, lost: 2, late: 1, pending: 0, duplicated: 0, unexpected: 0 },
    lagsMs: [200],
  },
  {
    name: 'twice and three times: duplicated once each, delivered once',
    messages: [
      { runner: 'accepted', atMs: 100, arrivals: [200, 210] },
      { runner: 'accepted', atMs: 100, arrivals: [300, 310, 320] },
      { runner: 'accepted', atMs: 100, arrivals: [400] },
    ],
    finishAtMs: 5000,
    expected: { delivered: 3, lost: 0, late: 0, pending: 0, duplicated: 2, unexpected: 0 },
    lagsMs: [100, 200, 300],
  },
  {
    name: 'a failed message that arrives is unexpected; one that does not is nothing',
    messages: [
      { runner: 'failed', arrivals: [500] },
      { runner: 'failed', arrivals: [] },
      { runner: 'accepted', atMs: 100, arrivals: [200] },
    ],
    finishAtMs: 5000,
    expected: { delivered: 1, lost: 0, late: 0, pending: 0, duplicated: 0, unexpected: 1 },
  },
  {
    name: 'interrupted wait: awaited messages within their timeout are pending, those past it lost',
    messages: [
      { runner: 'accepted', atMs: 100, arrivals: [] },
      { runner: 'accepted', atMs: 900, arrivals: [] },
      { runner: 'accepted', atMs: 900, arrivals: [950] },
    ],
    finishAtMs: 1500,
    isInterrupted: true,
    expected: { delivered: 1, lost: 1, late: 0, pending: 1, duplicated: 0, unexpected: 0 },
    lagsMs: [50],
  },
  {
    name: 'an arrival before runner read its 250 (relay before 250) is delivered with lag 0',
    messages: [{ runner: 'accepted', atMs: 500, arrivals: [480] }],
    finishAtMs: 5000,
    expected: { delivered: 1, lost: 0, late: 0, pending: 0, duplicated: 0, unexpected: 0 },
    lagsMs: [0],
  },
];

const matching = suite('delivery: matching arrivals to accepted messages');

for (const c of CASES) {
  matching(c.name, () => {
    const registry = new MetricsRegistry(0);
    const series = registry.seriesFor('default', 'a@example.com');
    const tracker = new DeliveryTracker({ registry, runId: RUN, afterSequence: 1000, timeoutMs: TIMEOUT_MS, epochOriginMs: ORIGIN, lastSequence: () => 2000 });
    registry.delivery = tracker;
    // Events in time order, so an arrival before its 250 comes first
    const events: Array<{ atMs: number; run(): void }> = [];
    c.messages.forEach((message, i) => {
      const sequence = 1001 + i;
      if (message.runner === 'accepted') events.push({ atMs: message.atMs!, run: () => tracker.accepted(sequence, series, message.atMs!, message.atMs! - 10) });
      else events.push({ atMs: 0, run: () => tracker.failed(sequence, series) });
      for (const at of message.arrivals) events.push({ atMs: at, run: () => tracker.arrive(`${RUN}.${sequence}`, ORIGIN + at) });
    });
    events.sort((a, b) => a.atMs - b.atMs);
    for (const event of events) event.run();
    const totals = tracker.finish(c.finishAtMs, c.isInterrupted ?? false);
    const { delivered, lost, late, pending, duplicated, unexpected } = totals;
    assert.equal({ delivered, lost, late, pending, duplicated, unexpected }, c.expected);
    assert.equal([totals.lostRefused, totals.lostTimeout], [0, lost], 'without refusals every lost one timed out');
    assert.equal(
      { delivered: series.delivered, lost: series.lost, pending: series.pendingDelivery, duplicated: series.duplicated, unexpected: series.unexpected },
      { delivered, lost, pending, duplicated, unexpected },
      'the series holds the same counts',
    );
    if (c.lagsMs) {
      assert.is(series.deliveryLag.count, c.lagsMs.length);
      assert.is(series.deliveryLag.sum, c.lagsMs.reduce((a, b) => a + b, 0) * 1000, 'lag sum in µs');
      assert.is(series.deliveryLag.min, c.lagsMs[0]! * 1000);
      assert.is(series.deliveryLag.max, c.lagsMs[c.lagsMs.length - 1]! * 1000);
      // e2e runs from the start, 10 ms before each 250 (an early arrival's from the start too)
      assert.is(series.e2eDuration.count, c.lagsMs.length);
    }
    // The backlog: accepted minus arrived (in time or late)
    const accepted = c.messages.filter((m) => m.runner === 'accepted').length;
    const arrived = c.messages.filter((m) => m.runner === 'accepted' && m.arrivals.length > 0).length;
    assert.is(registry.deliveryBacklog, accepted - arrived);
  });
}

matching('arrivals of other runs, of earlier runs of this process, and of sequences never sent', () => {
  const registry = new MetricsRegistry(0);
  const series = registry.seriesFor('default', 'a@example.com');
  const tracker = new DeliveryTracker({ registry, runId: RUN, afterSequence: 10, epochOriginMs: ORIGIN, lastSequence: () => 11 });
  tracker.accepted(11, series, 5, 0);
  tracker.arrive('otherrun.11', ORIGIN + 6);
  tracker.arrive(null, ORIGIN + 6);
  tracker.arrive(`${RUN}.3`, ORIGIN + 6);
  tracker.arrive(`${RUN}.999999999`, ORIGIN + 6);
  tracker.arrive(`${RUN}.x`, ORIGIN + 6);
  assert.is(tracker.awaited, 1, 'none of them is message 11');
  tracker.arrive(` ${RUN}.11`.trim(), ORIGIN + 7);
  const totals = tracker.finish(100, false);
  assert.is(totals.delivered, 1);
  assert.is(totals.unknown, 2, 'a sequence never handed out, and one that is no number');
});

matching('messages of a warm-up: in the timeline, not in the totals', () => {
  const registry = new MetricsRegistry(0);
  const series = registry.seriesFor('default', 'a@example.com');
  const tracker = new DeliveryTracker({ registry, runId: RUN, afterSequence: 0, epochOriginMs: ORIGIN, lastSequence: () => 100 });
  registry.delivery = tracker;
  tracker.accepted(1, series, 10, 0);
  tracker.accepted(2, series, 10, 0);
  registry.endWarmup(20);
  tracker.accepted(3, series, 30, 25);
  tracker.arrive(`${RUN}.1`, ORIGIN + 40);
  tracker.arrive(`${RUN}.3`, ORIGIN + 50);
  const totals = tracker.finish(100_000, false);
  assert.equal([totals.accepted, totals.delivered, totals.lost], [1, 1, 0]);
  assert.equal([series.delivered, series.lost], [1, 0]);
  assert.is(registry.deliveryBacklog, 1, 'warm-up message 2 never arrived');
});

matching('thousands of messages: the arrays grow, every slot kept', () => {
  const registry = new MetricsRegistry(0);
  const series = registry.seriesFor('default', 'a@example.com');
  const tracker = new DeliveryTracker({ registry, runId: RUN, afterSequence: 0, epochOriginMs: ORIGIN, lastSequence: () => 5000 });
  for (let sequence = 1; sequence <= 5000; sequence++) tracker.accepted(sequence, series, sequence, sequence - 1);
  for (let sequence = 1; sequence <= 5000; sequence += 2) tracker.arrive(`${RUN}.${sequence}`, ORIGIN + sequence + 3);
  const totals = tracker.finish(1e9, false);
  assert.equal([totals.delivered, totals.lost], [2500, 2500]);
  assert.is(series.deliveryLag.sum, 2500 * 3000);
  assert.is(series.e2eDuration.sum, 2500 * 4000);
});

matching('refusals upstream: lost at once (lost_refused), out of the wait and the backlog; a retry that arrives in time is delivered', () => {
  const registry = new MetricsRegistry(0);
  const series = registry.seriesFor('default', 'a@example.com');
  const tracker = new DeliveryTracker({ registry, runId: RUN, afterSequence: 0, timeoutMs: TIMEOUT_MS, epochOriginMs: ORIGIN, lastSequence: () => 10 });
  registry.delivery = tracker;
  for (let sequence = 1; sequence <= 5; sequence++) tracker.accepted(sequence, series, 100, 90);
  tracker.refuse(`${RUN}.1`, ORIGIN + 150);
  tracker.refuse(`${RUN}.2`, ORIGIN + 160);
  tracker.refuse('otherrun.3', ORIGIN + 160);
  tracker.refuse(null, ORIGIN + 160);
  assert.is(tracker.awaited, 3, 'two of five are refused: no longer awaited');
  assert.is(registry.deliveryBacklog, 3, 'and out of the backlog');
  // Message 2 is retried by the proxy and arrives in time; 3 arrives; 4 is refused after arriving (no change)
  tracker.arrive(`${RUN}.2`, ORIGIN + 400);
  tracker.arrive(`${RUN}.3`, ORIGIN + 200);
  tracker.arrive(`${RUN}.4`, ORIGIN + 210);
  tracker.refuse(`${RUN}.4`, ORIGIN + 220);
  // Message 6 is refused before runner reads its 250: lost at once when it does
  tracker.refuse(`${RUN}.6`, ORIGIN + 300);
  tracker.accepted(6, series, 310, 300);
  assert.equal([tracker.awaited, registry.deliveryBacklog], [1, 1], 'only message 5 is still awaited');
  const totals = tracker.finish(5000, false);
  assert.equal(
    { delivered: totals.delivered, lost: totals.lost, lostRefused: totals.lostRefused, lostTimeout: totals.lostTimeout },
    { delivered: 3, lost: 3, lostRefused: 2, lostTimeout: 1 },
  );
  assert.equal([series.delivered, series.lost, series.lostRefused], [3, 3, 2], 'the series holds the same split');
  assert.is(series.deliveryLag.count, 3);
});

matching('the timeline: delivered per window and the backlog at its end', () => {
  const registry = new MetricsRegistry(0);
  const series = registry.seriesFor('default', 'a@example.com');
  const tracker = new DeliveryTracker({ registry, runId: RUN, afterSequence: 0, epochOriginMs: ORIGIN, lastSequence: () => 10 });
  for (let sequence = 1; sequence <= 4; sequence++) tracker.accepted(sequence, series, 100, 90);
  const first = registry.tick(1000)!;
  tracker.arrive(`${RUN}.1`, ORIGIN + 1100);
  tracker.arrive(`${RUN}.2`, ORIGIN + 1200);
  const second = registry.tick(2000)!;
  assert.equal([first.delivered, first.backlog], [0, 4]);
  assert.equal([second.delivered, second.backlog], [2, 2]);
});

const header = suite('delivery: the trace header');

header('a generated message carries X-Runner-Trace: <run id>.<trace sequence> beside its Message-ID', () => {
  const head = buildHead({ from: 'a@example.com', to: ['b@example.com'], sequence: 7, runId: 'r1', traceSequence: 42 });
  assert.match(head, /\r\nMessage-ID: <r1\.7\.[0-9a-z]+@runner\.localhost>\r\nX-Runner-Trace: r1\.42\r\n/);
  assert.is(traceHeaderLine('r1', 42), 'X-Runner-Trace: r1.42\r\n');
});

const options = suite('delivery: the option');

options('sources, timeout and every problem with its path', () => {
  const problems: string[] = [];
  assert.equal(resolveDelivery({ sink: 'http://127.0.0.1:8025/' }, {}, problems), { source: { kind: 'sink', url: 'http://127.0.0.1:8025' }, timeoutMs: 60_000 });
  assert.equal(resolveDelivery(undefined, { delivery: 'sink=http://h:1', deliveryTimeout: '5s' }, problems), { source: { kind: 'sink', url: 'http://h:1' }, timeoutMs: 5000 });
  assert.is(resolveDelivery(undefined, {}, problems), undefined);
  assert.equal(problems, []);
  const cases: Array<[Parameters<typeof resolveDelivery>[0], Parameters<typeof resolveDelivery>[1], RegExp]> = [
    [undefined, { delivery: 'http://h:1' }, /^--delivery: 'http:\/\/h:1' is not a delivery source: use --delivery sink=/],
    [{ sink: 'ftp://x' }, {}, /^delivery\.sink: "ftp:\/\/x" is not an http URL/],
    [{ sink: 'http://h:1', timeout: 'soon' }, {}, /^delivery\.timeout: 'soon' is not a duration/],
    [{ timeout: '5s' }, {}, /^delivery: no delivery source/],
    [{ imap: { host: 'h', user: 'u' } }, {}, /^delivery\.imap: give either password or accessToken \(XOAUTH2\), one of them/],
    [{ imap: { host: 'h', user: 'u', password: 'p', accessToken: 't' } }, {}, /not both/],
  ];
  for (const [file, cli, expected] of cases) {
    const found: string[] = [];
    assert.is(resolveDelivery(file, cli, found), undefined);
    assert.ok(found.some((p) => expected.test(p)), `${JSON.stringify([file, cli])}: ${found.join(' | ')}`);
  }
  const imap = resolveDelivery({ imap: { host: 'imap.example.com', user: 'u', accessToken: 't' } }, {}, problems)!;
  assert.equal(imap.source, { kind: 'imap', host: 'imap.example.com', port: 993, tls: true, isTlsVerified: true, user: 'u', password: undefined, accessToken: 't', mailbox: 'INBOX', deleteFound: false, pollIntervalMs: 2000 });
});

matching.run();
header.run();
options.run();
