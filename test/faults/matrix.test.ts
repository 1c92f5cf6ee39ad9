/**
 * Server faults (issue 6): `runner run`, in-process, against a server that misbehaves at each SMTP
 * phase in each way (fixtures/fault-server.ts) on a share of its connections. For every case the
 * run ends by itself, every failure is counted once under the right phase and code (or socket
 * error), the counts add up, successes equal what the server accepted, and the other VUs go on.
 * Then what no single fault covers: the server killed and restarted mid-run (ECONNREFUSED), a
 * full listen backlog, and `421 Too many connected clients`.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startFaultServer, startStuckListener, type Fault, type FaultKind, type FaultPhase, type FaultServer } from '../../fixtures/fault-server.ts';
import { startFakeProxy, type FailureRule } from '../../fixtures/fake-proxy.ts';
import { runCommand } from '../../runner/run.ts';
import type { ScenarioConfig, ScenarioFileOptions } from '../../runner/scenario/types.ts';
import type { ErrorFigure, Summary } from '../../runner/results/types.ts';
import type { Phase } from '../../runner/smtp/phases.ts';
import { ExitCode } from '../../runner/errors.ts';
import { createTextSink } from '../helpers.ts';
import { REFUSED_PAUSE_MS } from '../../runner/engine/scenario-run.ts';

/**
 * Reply timeout of every phase in runs where a timeout is the expected outcome, ms: short, so
 * never-answered cases end quickly, yet well above a busy machine's event-loop stalls (the fault
 * server shares this process's loop, so a stall also delays its replies).
 */
const TIMEOUT_MS = 1000;
/** Reply timeout where no timeout is expected, ms: a stall on a busy machine never reaches it. */
const RELAXED_TIMEOUT_MS = 10_000;
/** A run that has not ended after this long has hung, ms (the slowest case takes about 1 s). */
const HANG_BOUND_MS = 20_000;
/** Share of connections that get the fault: the rest must go on. */
const FRACTION = 0.25;
const VUS = 8;
const ITERATIONS = 40;

// ---------------------------------------------------------------------------------------------
// What the runner must report

/** One kind of error entry: the phase, and a reply code or a socket error. */
interface Reported {
  phase: Phase;
  code?: number;
  error?: string;
}

/**
 * - ok: the client copes (a valid reply, however it arrives, or a close where a close is fine): nothing fails
 * - failed: each fault fails its message, counted once under `phase` and code/error
 * - afterAccept: the message was already accepted (QUIT): an error after acceptance, no failed message
 */
type Outcome = { result: 'ok' } | ({ result: 'failed' } & Reported) | ({ result: 'afterAccept' } & Reported);

const ok: Outcome = { result: 'ok' };
const fails = (phase: Phase, what: number | string): Outcome =>
  typeof what === 'number' ? { result: 'failed', phase, code: what } : { result: 'failed', phase, error: what };
const afterAccept = (what: number | string): Outcome =>
  typeof what === 'number' ? { result: 'afterAccept', phase: 'quit', code: what } : { result: 'afterAccept', phase: 'quit', error: what };

/**
 * The matrix: server phase × fault → what the runner reports. The server's `connect` acts the
 * moment it accepts (TCP is already up), so the client sees it while awaiting the greeting.
 * A reset at accept can beat the client's own connect completion: then it is a connect failure
 * (see `alsoAt`).
 */
const MATRIX: Array<[FaultPhase, FaultKind, Outcome, alsoAt?: Phase]> = [
  ['connect', 'close', fails('greeting', 'CLOSED')],
  ['connect', 'reset', fails('greeting', 'ECONNRESET'), 'connect'],
  ['connect', 'reply-4xx', fails('greeting', 451)],
  ['connect', 'reply-5xx', fails('greeting', 554)],
  ['connect', 'reply-421', fails('greeting', 421)],
  ['connect', 'silence', fails('greeting', 'TIMEOUT')],
  ['connect', 'not-a-reply', fails('greeting', 'PROTOCOL')],
  ['connect', 'long-line', ok],
  ['connect', 'overlong-line', fails('greeting', 'PROTOCOL')],
  ['connect', 'fragmented', ok],
  ['connect', 'mixed-multiline', fails('greeting', 'PROTOCOL')],
  ['connect', 'slow', ok],

  ['greeting', 'close', fails('greeting', 'CLOSED')],
  ['greeting', 'reset', fails('greeting', 'ECONNRESET'), 'connect'],
  ['greeting', 'reply-4xx', fails('greeting', 451)],
  ['greeting', 'reply-5xx', fails('greeting', 554)],
  ['greeting', 'reply-421', fails('greeting', 421)],
  ['greeting', 'silence', fails('greeting', 'TIMEOUT')],
  ['greeting', 'not-a-reply', fails('greeting', 'PROTOCOL')],
  ['greeting', 'long-line', ok],
  ['greeting', 'overlong-line', fails('greeting', 'PROTOCOL')],
  ['greeting', 'fragmented', ok],
  ['greeting', 'mixed-multiline', fails('greeting', 'PROTOCOL')],
  ['greeting', 'slow', ok],

  ['ehlo', 'close', fails('ehlo', 'CLOSED')],
  ['ehlo', 'reset', fails('ehlo', 'ECONNRESET')],
  ['ehlo', 'reply-4xx', fails('ehlo', 451)],
  ['ehlo', 'reply-5xx', fails('ehlo', 554)],
  ['ehlo', 'reply-421', fails('ehlo', 421)],
  ['ehlo', 'silence', fails('ehlo', 'TIMEOUT')],
  ['ehlo', 'not-a-reply', fails('ehlo', 'PROTOCOL')],
  ['ehlo', 'long-line', ok],
  ['ehlo', 'overlong-line', fails('ehlo', 'PROTOCOL')],
  ['ehlo', 'fragmented', ok],
  ['ehlo', 'mixed-multiline', fails('ehlo', 'PROTOCOL')],
  ['ehlo', 'slow', ok],

  ['auth', 'close', fails('auth', 'CLOSED')],
  ['auth', 'reset', fails('auth', 'ECONNRESET')],
  ['auth', 'reply-4xx', fails('auth', 451)],
  ['auth', 'reply-5xx', fails('auth', 554)],
  ['auth', 'reply-421', fails('auth', 421)],
  ['auth', 'silence', fails('auth', 'TIMEOUT')],
  ['auth', 'not-a-reply', fails('auth', 'PROTOCOL')],
  ['auth', 'long-line', ok],
  ['auth', 'overlong-line', fails('auth', 'PROTOCOL')],
  ['auth', 'fragmented', ok],
  ['auth', 'mixed-multiline', fails('auth', 'PROTOCOL')],
  ['auth', 'slow', ok],

  ['mail', 'close', fails('mail', 'CLOSED')],
  ['mail', 'reset', fails('mail', 'ECONNRESET')],
  ['mail', 'reply-4xx', fails('mail', 451)],
  ['mail', 'reply-5xx', fails('mail', 554)],
  ['mail', 'reply-421', fails('mail', 421)],
  ['mail', 'silence', fails('mail', 'TIMEOUT')],
  ['mail', 'not-a-reply', fails('mail', 'PROTOCOL')],
  ['mail', 'long-line', ok],
  ['mail', 'overlong-line', fails('mail', 'PROTOCOL')],
  ['mail', 'fragmented', ok],
  ['mail', 'mixed-multiline', fails('mail', 'PROTOCOL')],
  ['mail', 'slow', ok],

  ['rcpt', 'close', fails('rcpt', 'CLOSED')],
  ['rcpt', 'reset', fails('rcpt', 'ECONNRESET')],
  ['rcpt', 'reply-4xx', fails('rcpt', 451)],
  ['rcpt', 'reply-5xx', fails('rcpt', 554)],
  ['rcpt', 'reply-421', fails('rcpt', 421)],
  ['rcpt', 'silence', fails('rcpt', 'TIMEOUT')],
  ['rcpt', 'not-a-reply', fails('rcpt', 'PROTOCOL')],
  ['rcpt', 'long-line', ok],
  ['rcpt', 'overlong-line', fails('rcpt', 'PROTOCOL')],
  ['rcpt', 'fragmented', ok],
  ['rcpt', 'mixed-multiline', fails('rcpt', 'PROTOCOL')],
  ['rcpt', 'slow', ok],

  ['data', 'close', fails('data', 'CLOSED')],
  ['data', 'reset', fails('data', 'ECONNRESET')],
  ['data', 'reply-4xx', fails('data', 451)],
  ['data', 'reply-5xx', fails('data', 554)],
  ['data', 'reply-421', fails('data', 421)],
  ['data', 'silence', fails('data', 'TIMEOUT')],
  ['data', 'not-a-reply', fails('data', 'PROTOCOL')],
  ['data', 'long-line', ok],
  ['data', 'overlong-line', fails('data', 'PROTOCOL')],
  ['data', 'fragmented', ok],
  ['data', 'mixed-multiline', fails('data', 'PROTOCOL')],
  ['data', 'slow', ok],

  ['message', 'close', fails('message', 'CLOSED')],
  ['message', 'reset', fails('message', 'ECONNRESET')],
  ['message', 'reply-4xx', fails('message', 451)],
  ['message', 'reply-5xx', fails('message', 554)],
  ['message', 'reply-421', fails('message', 421)],
  ['message', 'silence', fails('message', 'TIMEOUT')],
  ['message', 'not-a-reply', fails('message', 'PROTOCOL')],
  ['message', 'long-line', ok],
  ['message', 'overlong-line', fails('message', 'PROTOCOL')],
  ['message', 'fragmented', ok],
  ['message', 'mixed-multiline', fails('message', 'PROTOCOL')],
  ['message', 'slow', ok],

  // RFC 5321 §4.1.1.10: the server closing instead of answering QUIT is a clean end
  ['quit', 'close', ok],
  ['quit', 'reset', ok],
  ['quit', 'reply-4xx', afterAccept(451)],
  ['quit', 'reply-5xx', afterAccept(554)],
  ['quit', 'reply-421', afterAccept(421)],
  ['quit', 'silence', afterAccept('TIMEOUT')],
  ['quit', 'not-a-reply', afterAccept('PROTOCOL')],
  ['quit', 'long-line', ok],
  ['quit', 'overlong-line', afterAccept('PROTOCOL')],
  ['quit', 'fragmented', ok],
  ['quit', 'mixed-multiline', afterAccept('PROTOCOL')],
  ['quit', 'slow', ok],
];

// ---------------------------------------------------------------------------------------------
// Running

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects when `promise` has not settled within `boundMs`: a hang fails the test instead of the suite. */
async function withinMs<T>(promise: Promise<T>, boundMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still running after ${boundMs} ms (a hang)`)), boundMs);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

interface RunShape {
  executor?: ScenarioConfig;
  timeoutMs?: number;
  messagesPerConnection?: number;
  /** A custom iteration (ctx.smtp steps) instead of the default flow. */
  iteration?: ScenarioFileOptions['iteration'];
}

/** `runner run` in-process against 127.0.0.1:port: no preflight, no outputs, no process watcher. */
async function runLoad(port: number, shape: RunShape = {}): Promise<Summary> {
  const sink = createTextSink();
  const outcome = await withinMs(
    runCommand({
      scenario: {
        scenarios: { faults: shape.executor ?? { executor: 'shared-iterations', vus: VUS, iterations: ITERATIONS, maxDuration: '30s' } },
        ...(shape.iteration === undefined ? {} : { iteration: shape.iteration }),
      },
      overrides: {
        host: '127.0.0.1',
        port,
        timeoutMs: shape.timeoutMs ?? TIMEOUT_MS,
        ...(shape.messagesPerConnection === undefined ? {} : { messagesPerConnection: shape.messagesPerConnection }),
      },
      check: false,
      out: false,
      quiet: true,
      watchPid: false,
      stdout: sink,
      stderr: sink,
    }),
    HANG_BOUND_MS,
    'runner run',
  );
  assert.is(outcome.exitCode, ExitCode.ok, sink.text());
  return outcome.summary;
}

async function withFaultServer<T>(fault: Fault | undefined, body: (server: FaultServer) => Promise<T>): Promise<T> {
  const server = await startFaultServer({ fault, seed: 7 });
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

/** Error entries as [phase, code or error, count], for readable diffs. */
function entries(errors: ErrorFigure[]): Array<[string, number | string, number]> {
  return errors.map((e) => [e.phase, e.code ?? e.error ?? 'unknown', e.count]);
}

/** The books balance: attempted = successful + failed, nothing interrupted, successes = what the server accepted. */
function assertCountsAddUp(summary: Summary, server: { stats: { messagesAccepted: number } }, attempted?: number): void {
  const results = summary.results;
  if (attempted !== undefined) assert.is(results.total_requests, attempted, 'attempted');
  assert.is(results.successful + results.failed, results.total_requests, 'successful + failed = attempted');
  assert.is(results.interrupted, 0, 'interrupted');
  assert.is(results.successful, server.stats.messagesAccepted, 'successful = accepted by the server');
}

// ---------------------------------------------------------------------------------------------

const matrix = suite('server faults: phase × fault → the runner counts each once, in the right place');

for (const [phase, kind, outcome, alsoAt] of MATRIX) {
  const expected = outcome.result === 'ok' ? 'no failure' : `${outcome.result} at ${outcome.phase} ${outcome.code ?? outcome.error}`;
  matrix(`${phase} × ${kind} → ${expected}`, async () => {
    // slow within the timeout: the longest reply (EHLO, 46 bytes) drips in ~50-150 ms
    const fault: Fault = { phase, kind, fraction: FRACTION, byteDelayMs: 1 };
    const expectsTimeout = (outcome.result === 'ok' ? undefined : outcome.error) === 'TIMEOUT';
    await withFaultServer(fault, async (server) => {
      const summary = await runLoad(server.port, { timeoutMs: expectsTimeout ? TIMEOUT_MS : RELAXED_TIMEOUT_MS });
      const results = summary.results;
      const injected = server.stats.faultsInjected[phase];
      assertCountsAddUp(summary, server, ITERATIONS);
      // The fault fired once on every connection drawn for it, and the draw hit some but not all
      assert.ok(injected > 0, 'no fault was injected: the case proves nothing');
      assert.is(injected, server.stats.faultedConnections);
      assert.ok(server.stats.faultedConnections < server.stats.connections, 'every connection faulted');
      // A connect failure (see alsoAt) never opened its connection on the client's side
      const failedAtConnect = results.errors.find((e) => e.phase === 'connect')?.count ?? 0;
      assert.is(results.connections, server.stats.connections - failedAtConnect, 'connections opened = accepted');
      switch (outcome.result) {
        case 'ok':
          assert.equal(entries(results.errors), []);
          assert.equal(entries(results.errors_after_accept), []);
          assert.is(results.successful, ITERATIONS);
          break;
        case 'failed': {
          const what = outcome.code ?? outcome.error!;
          const reported = entries(results.errors);
          if (alsoAt !== undefined) {
            // Either phase, but every failure once, with the same error
            for (const [at, code] of reported) assert.ok((at === outcome.phase || at === alsoAt) && code === what, JSON.stringify(reported));
            assert.is(reported.reduce((sum, [, , count]) => sum + count, 0), injected);
          } else {
            assert.equal(reported, [[outcome.phase, what, injected]]);
          }
          assert.is(results.failed, injected);
          assert.equal(entries(results.errors_after_accept), []);
          assert.ok(results.successful > 0, 'the other VUs went on');
          break;
        }
        case 'afterAccept':
          assert.equal(entries(results.errors), []);
          assert.equal(entries(results.errors_after_accept), [[outcome.phase, outcome.code ?? outcome.error!, injected]]);
          assert.is(results.successful, ITERATIONS);
          break;
      }
    });
  });
}

matrix.run();

const pace = suite('server faults: slow and split replies');

pace('a greeting dripped one byte per 40 ms outlasts the 1 s timeout: TIMEOUT at greeting, once per faulted connection', async () => {
  await withFaultServer({ phase: 'greeting', kind: 'slow', byteDelayMs: 40, fraction: FRACTION }, async (server) => {
    const summary = await runLoad(server.port);
    const injected = server.stats.faultsInjected.greeting;
    assertCountsAddUp(summary, server, ITERATIONS);
    assert.ok(injected > 0);
    assert.equal(entries(summary.results.errors), [['greeting', 'TIMEOUT', injected]]);
  });
});

pace('an EHLO reply one byte per TCP packet, 2 ms apart, on every connection: all accepted', async () => {
  await withFaultServer({ phase: 'ehlo', kind: 'fragmented', pieceBytes: 1, pieceDelayMs: 2 }, async (server) => {
    const summary = await runLoad(server.port, { executor: { executor: 'shared-iterations', vus: 4, iterations: 8, maxDuration: '30s' } });
    assertCountsAddUp(summary, server, 8);
    assert.is(server.stats.faultsInjected.ehlo, 8);
    assert.is(summary.results.successful, 8);
  });
});

pace.run();

const reuse = suite('server faults: reused connections (3 messages per connection)');

/** Reply failures after MAIL keep the connection (RSET, next message); the others replace it. */
const REUSE_CASES: Array<[FaultPhase, FaultKind, Phase, number | string]> = [
  ['mail', 'reply-4xx', 'mail', 451],
  ['rcpt', 'reply-5xx', 'rcpt', 554],
  ['data', 'reply-4xx', 'data', 451],
  ['message', 'reply-4xx', 'message', 451],
  ['message', 'reply-421', 'message', 421],
  ['mail', 'close', 'mail', 'CLOSED'],
  ['message', 'silence', 'message', 'TIMEOUT'],
  // RSET between messages (RFC 5321 §4.1.1.5): its failure fails the message it starts
  ['rset', 'reply-4xx', 'rset', 451],
  ['rset', 'close', 'rset', 'CLOSED'],
  ['rset', 'mixed-multiline', 'rset', 'PROTOCOL'],
];

for (const [phase, kind, reportedPhase, what] of REUSE_CASES) {
  reuse(`${phase} × ${kind} → failed at ${reportedPhase} ${what}; the connection's other messages go through`, async () => {
    await withFaultServer({ phase, kind, fraction: 0.5 }, async (server) => {
      const summary = await runLoad(server.port, {
        messagesPerConnection: 3,
        executor: { executor: 'shared-iterations', vus: 4, iterations: 36, maxDuration: '30s' },
      });
      const injected = server.stats.faultsInjected[phase];
      assertCountsAddUp(summary, server, 36);
      assert.ok(injected > 0);
      assert.equal(entries(summary.results.errors), [[reportedPhase, what, injected]]);
      assert.is(summary.results.connections, server.stats.connections);
      // A kept connection carries on with RSET (RFC 5321 §4.1.1.5)
      if (typeof what === 'number' && what !== 421) assert.ok((summary.results.phases['rset']?.count ?? 0) > 0, 'no RSET after a failure');
    });
  });
}

reuse.run();

const steps = suite('server faults: custom iterations (ctx.smtp steps)');

/** A custom iteration that walks the steps one by one, QUIT in a finally (as the README shows). */
const stepByStep: NonNullable<ScenarioFileOptions['iteration']> = async (ctx) => {
  try {
    await ctx.smtp.connect();
    await ctx.smtp.ehlo();
    await ctx.smtp.auth();
    await ctx.smtp.mail();
    await ctx.smtp.rcpt();
    await ctx.smtp.data();
  } finally {
    await ctx.smtp.quit();
  }
};

const STEP_CASES: Array<[FaultPhase, FaultKind, Outcome]> = [
  ['greeting', 'reply-421', fails('greeting', 421)],
  ['ehlo', 'close', fails('ehlo', 'CLOSED')],
  ['rcpt', 'reply-5xx', fails('rcpt', 554)],
  ['data', 'not-a-reply', fails('data', 'PROTOCOL')],
  ['message', 'silence', fails('message', 'TIMEOUT')],
  ['quit', 'reset', ok],
  ['quit', 'reply-4xx', afterAccept(451)],
];

for (const [phase, kind, outcome] of STEP_CASES) {
  const expected = outcome.result === 'ok' ? 'no failure' : `${outcome.result} at ${outcome.phase} ${outcome.code ?? outcome.error}`;
  steps(`${phase} × ${kind} → ${expected}; a failed step is no script error`, async () => {
    await withFaultServer({ phase, kind, fraction: FRACTION }, async (server) => {
      const summary = await runLoad(server.port, { iteration: stepByStep });
      const results = summary.results;
      const injected = server.stats.faultsInjected[phase];
      assertCountsAddUp(summary, server, ITERATIONS);
      assert.ok(injected > 0);
      assert.is(results.script_errors, 0);
      if (outcome.result === 'failed') {
        assert.equal(entries(results.errors), [[outcome.phase, outcome.code ?? outcome.error!, injected]]);
        assert.ok(results.successful > 0);
      } else {
        assert.equal(entries(results.errors), []);
        assert.equal(entries(results.errors_after_accept), outcome.result === 'ok' ? [] : [[outcome.phase, outcome.code ?? outcome.error!, injected]]);
      }
    });
  });
}

steps.run();

const proxy = suite('server faults: the fake proxy (smtp-server) agrees with the fault server');

/** The fake proxy's failure rules, its stats key, and what the runner must report. */
const PROXY_CASES: Array<[FailureRule, string, Phase, number | string]> = [
  [{ phase: 'connect', kind: 'reply', code: 421, probability: 0.25 }, 'connect:421', 'greeting', 421],
  [{ phase: 'auth', kind: 'silence', probability: 0.25 }, 'auth:silence', 'auth', 'TIMEOUT'],
  [{ phase: 'rcpt', kind: 'disconnect', probability: 0.25 }, 'rcpt:disconnect', 'rcpt', 'CLOSED'],
  [{ phase: 'data', kind: 'reset', probability: 0.25 }, 'data:reset', 'data', 'ECONNRESET'],
  [{ phase: 'message', kind: 'reply', code: 554, probability: 0.25 }, 'message:554', 'message', 554],
];

for (const [rule, key, reportedPhase, what] of PROXY_CASES) {
  proxy(`${rule.phase} ${rule.kind}${rule.code ? ' ' + rule.code : ''} → failed at ${reportedPhase} ${what}, as many as the proxy injected`, async () => {
    const fake = await startFakeProxy({ failures: [rule], adminPort: null, seed: 5 });
    try {
      const summary = await runLoad(fake.port);
      const injected = fake.stats.rejections[key] ?? 0;
      assertCountsAddUp(summary, fake, ITERATIONS);
      assert.ok(injected > 0 && summary.results.successful > 0, `injected ${injected}`);
      assert.equal(entries(summary.results.errors), [[reportedPhase, what, injected]]);
    } finally {
      await fake.close();
    }
  });
}

proxy.run();

const outages = suite('server faults: outages');

outages('the server is killed mid-run and restarted on the same port: the gap counts as connect ECONNREFUSED, then the run recovers', async () => {
  const first = await startFaultServer({ seed: 1 });
  const port = first.port;
  let second: FaultServer | undefined;
  /** Kill once the run is under way (a few messages in), restart after a 300 ms gap; bounded waits. */
  let gapMs = 0;
  const outage = (async () => {
    for (let waitedMs = 0; first.stats.messagesAccepted < 10 && waitedMs < 5000; waitedMs += 5) await sleep(5);
    const downMs = performance.now();
    await first.close();
    await sleep(300);
    second = await startFaultServer({ port, seed: 2 });
    gapMs = performance.now() - downMs;
  })();
  try {
    const summary = await runLoad(port, { executor: { executor: 'constant-vus', vus: 4, duration: '1500ms', gracefulStop: '2s' } });
    await outage;
    const results = summary.results;
    const refused = results.errors.filter((e) => e.error === 'ECONNREFUSED');
    assert.equal(refused.map((e) => e.phase), ['connect']);
    assert.ok(refused[0]!.count > 0);
    // Each VU pauses REFUSED_PAUSE_MS after a refused connect: about gap / 100 ms refusals per VU,
    // not as many as the loop can spin (1,806 with 4 VUs before the pause)
    const vus = 4;
    const mostRefused = vus * (Math.ceil(gapMs / REFUSED_PAUSE_MS) + 2);
    assert.ok(refused[0]!.count <= mostRefused, `${refused[0]!.count} refused connects in a ${Math.round(gapMs)} ms outage, more than ${mostRefused}`);
    // Messages in flight when the server died fail once each with a socket error, at most one per VU
    // (a connect still completing meets the RST of the dying listener: connect ECONNRESET)
    const others = results.errors.filter((e) => e.error !== 'ECONNREFUSED');
    for (const error of others) assert.ok(['CLOSED', 'ECONNRESET', 'EPIPE'].includes(error.error ?? ''), JSON.stringify(error));
    assert.ok(others.reduce((sum, e) => sum + e.count, 0) <= 4, JSON.stringify(others));
    assert.ok(first.stats.messagesAccepted >= 10, 'nothing sent before the kill');
    assert.ok(second!.stats.messagesAccepted > 0, 'the run did not recover after the restart');
    assert.is(results.successful, first.stats.messagesAccepted + second!.stats.messagesAccepted);
    assert.is(results.successful + results.failed, results.total_requests);
    assert.is(results.interrupted, 0);
    assert.is(summary.status, 'completed');
  } finally {
    await outage.catch(() => undefined);
    await first.close();
    await second?.close();
  }
});

outages('a full listen backlog (a listener that never accepts): connects time out at connect, queued ones at greeting; the run ends', async () => {
  const listener = await startStuckListener({ backlog: 1, holdMs: 15_000 });
  try {
    const summary = await runLoad(listener.port, { timeoutMs: 200, executor: { executor: 'shared-iterations', vus: 4, iterations: 12, maxDuration: '30s' } });
    const results = summary.results;
    assert.is(results.total_requests, 12);
    assert.is(results.failed, 12);
    assert.is(results.successful, 0);
    const reported = entries(results.errors);
    for (const [phase, what] of reported) assert.ok((phase === 'connect' || phase === 'greeting') && what === 'TIMEOUT', JSON.stringify(reported));
    // The kernel queues backlog + 1 handshakes; every later SYN is dropped: a connect timeout
    assert.ok((results.errors.find((e) => e.phase === 'connect')?.count ?? 0) >= 8, JSON.stringify(reported));
  } finally {
    await listener.close();
  }
});

outages('421 Too many connected clients (fake proxy maxClients 2, 6 VUs): failed at greeting 421, as many as the proxy refused', async () => {
  const proxy = await startFakeProxy({ maxClients: 2, delays: { message: 20 }, adminPort: null, seed: 1 });
  try {
    const summary = await runLoad(proxy.port, { executor: { executor: 'shared-iterations', vus: 6, iterations: 36, maxDuration: '30s' } });
    const refused = proxy.stats.rejections['connect:421'] ?? 0;
    assertCountsAddUp(summary, proxy, 36);
    assert.ok(refused > 0, 'the proxy refused nobody');
    assert.ok(summary.results.successful > 0, 'the admitted VUs went on');
    assert.equal(entries(summary.results.errors), [['greeting', 421, refused]]);
    assert.match(summary.results.errors[0]!.text, 'Too many connected clients');
  } finally {
    await proxy.close();
  }
});

outages.run();
