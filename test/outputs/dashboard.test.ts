/**
 * The live dashboard's server (`--dashboard`, runner/outputs/dashboard.ts) without a browser:
 * the SSE stream's format and one `update` per engine tick with the figures of the snapshot it
 * was built from (a synthetic snapshot source; the ticks are called by the test, no clock), the
 * final `end` event, clients that leave mid-stream, several at once, the page (no external
 * resource), 404/405, a port in use, the linger. Then the CLI end to end: a run whose page left
 * and whose other page stays connected still ends by itself with the run's figures in `end`.
 * (test/browser/dashboard.test.ts watches it in Chromium.)
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { get, request, type IncomingMessage } from 'node:http';
import { createConnection, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { createDashboardOutput, type DashboardOutput } from '../../runner/outputs/dashboard.ts';
import type { OutputContext } from '../../runner/outputs/output.ts';
import type { EngineListener } from '../../runner/engine/events.ts';
import type { TestResult } from '../../runner/engine/engine.ts';
import type { Summary } from '../../runner/results/types.ts';
import { parseResultsText } from '../../runner/results/read.ts';
import { ExitCode, OutputError, RunnerError, UsageError } from '../../runner/errors.ts';
import { createTempDir, createTextSink } from '../helpers.ts';
import { ROOT, startCli } from '../cli-process.ts';

/** A results file's summary, as the synthetic snapshot the dashboard renders. */
function baseSummary(): Summary {
  const file = join(ROOT, 'test/fixtures/results-v1/baseline.json');
  const summary = parseResultsText(readFileSync(file, 'utf8'), file).summary;
  if (!summary) throw new Error('the fixture has no summary');
  return summary;
}

/** One server-sent event as the stream carries it. */
interface SseEvent {
  name: string;
  dataLines: string[];
  raw: string;
}

/** An SSE client that collects events; `next(n)` waits (logically) for the n-th event. */
interface SseClient {
  response: IncomingMessage;
  prelude: string;
  events: SseEvent[];
  isEnded: boolean;
  next(count: number): Promise<SseEvent[]>;
  ended(): Promise<void>;
  destroy(): void;
}

/** A wait that fails the test instead of hanging it when what it waits for never comes (not a speed limit). */
function bounded<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`never received ${what}`)), 20_000)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

async function connectSse(url: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}events`, { agent: false }, (response) => {
      response.setEncoding('utf8');
      let buffer = '';
      let waiters: Array<() => void> = [];
      const client: SseClient = {
        response,
        prelude: '',
        events: [],
        isEnded: false,
        next: (count) => bounded(`event ${count}`, new Promise((done) => {
          const check = () => (client.events.length >= count || client.isEnded ? done(client.events.slice(0, count)) : waiters.push(check));
          check();
        })),
        ended: () => bounded('the end of the stream', new Promise((done) => {
          const check = () => (client.isEnded ? done() : waiters.push(check));
          check();
        })),
        destroy: () => req.destroy(),
      };
      const wake = () => {
        const pending = waiters;
        waiters = [];
        for (const waiter of pending) waiter();
      };
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const name = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
          if (name === undefined) client.prelude += `${block}\n\n`;
          else client.events.push({ name, dataLines: lines.filter((line) => line.startsWith('data: ')).map((line) => line.slice('data: '.length)), raw: block });
        }
        wake();
      });
      response.on('end', () => {
        client.isEnded = true;
        wake();
      });
      response.on('error', () => {});
      resolve(client);
    });
    req.on('error', reject);
  });
}

/** GET/POST a path; the status, headers and body. */
async function fetchPath(url: string, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The accepted count the page (or an event's <main>) shows. */
function acceptedShown(html: string): number {
  const match = /data-figure="successful" data-value="(\d+)"/.exec(html);
  if (!match) throw new Error('no accepted count in the page');
  return Number(match[1]);
}

/** An event's payload: the page's <main> and the chart data. */
function payloadOf(event: SseEvent): { main: string; data: unknown } {
  assert.is(event.dataLines.length, 1, 'one data line per event (JSON has no raw newline)');
  return JSON.parse(event.dataLines[0]!) as { main: string; data: unknown };
}

/** The synthetic snapshot source: the accepted count is whatever the test set last. */
function snapshotSource(): { set(accepted: number): void; builds: number; summaryNow: () => Summary } {
  const base = baseSummary();
  let accepted = 0;
  const source = {
    builds: 0,
    set: (value: number) => {
      accepted = value;
    },
    summaryNow: () => {
      source.builds++;
      const summary = structuredClone(base);
      summary.results.successful = accepted;
      summary.status = 'running' as Summary['status'];
      return summary;
    },
  };
  return source;
}

const CONTEXT = (stderr = createTextSink()): OutputContext & { stderr: ReturnType<typeof createTextSink> } => ({ options: {} as OutputContext['options'], cwd: ROOT, stdout: createTextSink(), stderr });

/** An engine tick, as the engine calls it once a second (the dashboard reads none of its arguments). */
function tick(output: DashboardOutput): void {
  (output.listener as EngineListener).onTick!({} as never, [], {} as never);
}

async function started(options: { lingerMs?: number } = {}): Promise<{ output: DashboardOutput; url: string; stderr: ReturnType<typeof createTextSink>; source: ReturnType<typeof snapshotSource> }> {
  const output = createDashboardOutput({ host: '127.0.0.1', port: 0, lingerMs: options.lingerMs ?? 0 });
  const context = CONTEXT();
  await output.prepare!(context);
  const source = snapshotSource();
  output.watch(source.summaryNow);
  return { output, url: output.url!, stderr: context.stderr, source };
}

async function finished(output: DashboardOutput, summary: Summary): Promise<void> {
  await output.finish!(summary, { ...CONTEXT(), result: {} as TestResult });
}

const stream = suite('dashboard: the server-sent event stream');

stream('headers, a retry line, then one `update` per tick carrying the snapshot of that tick', async () => {
  const { output, url, stderr, source } = await started();
  try {
    const client = await connectSse(url);
    assert.is(client.response.statusCode, 200);
    assert.is(client.response.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.is(client.response.headers['cache-control'], 'no-store');
    await new Promise((resolve) => setImmediate(resolve));
    const counts = [7, 19, 1234];
    for (const [index, count] of counts.entries()) {
      source.set(count);
      tick(output);
      const events = await client.next(index + 1);
      const event = events[index]!;
      assert.is(event.name, 'update');
      assert.match(event.raw, /^event: update\ndata: \{/);
      const payload = payloadOf(event);
      assert.is(acceptedShown(payload.main), count, `tick ${index + 1} shows the snapshot taken at it`);
      assert.ok(payload.data && typeof payload.data === 'object', 'chart data');
    }
    assert.is(client.prelude, 'retry: 1000\n\n');
    assert.is(client.events.length, counts.length, 'exactly one event per tick');
    assert.is(source.builds, counts.length, 'one snapshot built per tick');
    assert.is(stderr.text(), `dashboard: ${url}\n`);
  } finally {
    await output.close!({ linger: false });
  }
});

stream('ticks that come faster than an update is built coalesce into one; no page watching builds nothing', async () => {
  const { output, url, source } = await started();
  try {
    tick(output);
    tick(output);
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(source.builds, 0, 'nobody watching: no summary built');
    const client = await connectSse(url);
    source.set(3);
    tick(output);
    tick(output);
    tick(output);
    await client.next(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(client.events.length, 1);
    assert.is(source.builds, 1);
  } finally {
    await output.close!({ linger: false });
  }
});

stream('finish sends `end` with the final figures and closes every stream; a page that comes later gets `end` at once', async () => {
  const { output, url, source } = await started();
  try {
    const client = await connectSse(url);
    source.set(5);
    tick(output);
    await client.next(1);
    const final = baseSummary();
    final.results.successful = 4242;
    await finished(output, final);
    await client.ended();
    const last = client.events.at(-1)!;
    assert.is(last.name, 'end');
    assert.is(acceptedShown(payloadOf(last).main), 4242);
    // After the end, ticks send nothing (the run is over)
    tick(output);
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(client.events.length, 2);
    const late = await connectSse(url);
    await late.ended();
    assert.is(late.events.length, 1);
    assert.is(late.events[0]!.name, 'end');
    assert.is(acceptedShown(payloadOf(late.events[0]!).main), 4242);
    const page = await fetchPath(url, '/');
    assert.is(acceptedShown(page.body), 4242, 'the page reloaded after the run shows the final figures');
  } finally {
    await output.close!({ linger: false });
  }
});

stream('several pages at once each receive the same events', async () => {
  const { output, url, source } = await started();
  try {
    const clients = await Promise.all([connectSse(url), connectSse(url), connectSse(url)]);
    await new Promise((resolve) => setImmediate(resolve));
    for (const count of [11, 12]) {
      source.set(count);
      tick(output);
      await Promise.all(clients.map((client) => client.next(count - 10)));
    }
    assert.is(source.builds, 2, 'one snapshot per tick, whatever the number of pages');
    for (const client of clients) assert.equal(client.events.map((event) => acceptedShown(payloadOf(event).main)), [11, 12]);
    assert.is(clients[0]!.events[1]!.raw, clients[2]!.events[1]!.raw);
  } finally {
    await output.close!({ linger: false });
  }
});

stream('a page that stops reading skips updates instead of piling them up, then gets the latest and the end', async () => {
  const { output, url, source } = await started();
  // Each update about 1 MB (a long target name is in the page), so kernel buffers fill in a few
  const big = 'x'.repeat(1 << 20);
  const summaryNow = source.summaryNow;
  output.watch(() => {
    const summary = summaryNow();
    summary.target = big;
    return summary;
  });
  const { port } = new URL(url);
  const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  try {
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n');
    // Wait until the server registered the stream (its retry line came), then stop reading
    await bounded('the stream to open', new Promise<void>((resolve) => {
      const check = () => (received.includes('retry: 1000') ? resolve() : setImmediate(check));
      check();
    }));
    socket.pause();
    const TICKS = 40;
    for (let count = 1; count <= TICKS; count++) {
      source.set(count);
      tick(output);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.is(source.builds, TICKS, 'one snapshot per tick still');
    const final = baseSummary();
    final.results.successful = 999;
    await finished(output, final);
    socket.resume();
    await bounded('the server to end the stream', closed.then(() => undefined).catch(() => undefined));
  } finally {
    socket.destroy();
    await output.close!({ linger: false });
  }
  const updates = received.match(/^event: update$/gm)?.length ?? 0;
  assert.ok(updates < 40, `${updates} of ${40} updates queued for a page that did not read: the rest were skipped`);
  assert.ok(updates >= 1);
  assert.match(received, /event: end\ndata: .*data-figure=\\"successful\\" data-value=\\"999\\"/, 'the end, with the final figures, still came');
});

stream('a page that leaves mid-stream costs nothing: the others go on, no warning, close() ends at once', async () => {
  const { output, url, stderr, source } = await started();
  const leaving = await connectSse(url);
  const staying = await connectSse(url);
  source.set(1);
  tick(output);
  await Promise.all([leaving.next(1), staying.next(1)]);
  leaving.destroy();
  // Let the server see the close, then tick into the gap (and once more, writing to nobody)
  await new Promise((resolve) => setTimeout(resolve, 20));
  source.set(2);
  tick(output);
  await staying.next(2);
  assert.is(acceptedShown(payloadOf(staying.events[1]!).main), 2);
  assert.is(leaving.events.length, 1);
  await finished(output, baseSummary());
  await staying.ended();
  await output.close!({ linger: false });
  assert.is(stderr.text(), `dashboard: ${url}\n`, 'no warning');
  // The server is gone: a new connection is refused
  const refused = await fetchPath(url, '/').then(() => undefined, (error: NodeJS.ErrnoException) => error.code);
  assert.is(refused, 'ECONNREFUSED');
});

const page = suite('dashboard: the page and its paths');

page('GET / is the report page marked live, with no external resource', async () => {
  const { output, url } = await started();
  try {
    const before = await fetchPath(url, '/');
    assert.is(before.status, 200);
    assert.is(before.type, 'text/html; charset=utf-8');
    assert.match(before.body, /data-live/);
    assert.is(acceptedShown(before.body), 0);
    const body = before.body;
    // No src=/href=/url()/@import/fetch to another origin; the only absolute http(s) URLs allowed are none
    assert.not.match(body, /\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\//i, 'no external src/href');
    assert.not.match(body, /url\(\s*["']?(?:https?:)?\/\//i, 'no external CSS url()');
    assert.not.match(body, /@import/i);
    assert.not.match(body, /<link\b[^>]*\bhref\s*=\s*(?!["']?(?:data:|#))/i, 'no linked stylesheet or icon');
    assert.not.match(body, /<script\b[^>]*\bsrc\s*=/i, 'no external script');
    assert.is((await fetchPath(url, '/index.html')).status, 200);
    assert.is((await fetchPath(url, '/?refresh=1')).status, 200);
  } finally {
    await output.close!({ linger: false });
  }
});

page('before the run exists the page asks to be reloaded (503), never fails', async () => {
  const output = createDashboardOutput({ host: '127.0.0.1', port: 0, lingerMs: 0 });
  await output.prepare!(CONTEXT());
  try {
    const early = await fetchPath(output.url!, '/');
    assert.is(early.status, 503);
    assert.match(early.body, /http-equiv="refresh"/);
  } finally {
    await output.close!({ linger: false });
  }
});

const MISSING: Array<[string, string, number]> = [
  ['/nope', 'GET', 404],
  ['/events/x', 'GET', 404],
  ['/favicon.ico', 'GET', 404],
  ['/../etc/passwd', 'GET', 404],
  ['/', 'POST', 405],
  ['/events', 'DELETE', 405],
  ['/', 'HEAD', 200],
  ['/events', 'HEAD', 200],
  ['/nope', 'HEAD', 404],
];
page('paths that do not exist give 404, methods other than GET and HEAD 405', async () => {
  const { output, url } = await started();
  try {
    for (const [path, method, status] of MISSING) assert.is((await fetchPath(url, path, method)).status, status, `${method} ${path}`);
  } finally {
    await output.close!({ linger: false });
  }
});

const life = suite('dashboard: listening and ending');

life('a port in use: an output error (exit 111) naming the address and what to do, before any load', async () => {
  const blocker = createNetServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const output = createDashboardOutput({ host: '127.0.0.1', port });
    const error = await output.prepare!(CONTEXT()).then(() => undefined, (caught: unknown) => caught);
    assert.instance(error, OutputError);
    assert.is((error as RunnerError).exitCode, ExitCode.outputError);
    assert.is((error as Error).message, `dashboard: 127.0.0.1:${port} is already in use`);
    assert.match((error as RunnerError).hint ?? '', /--dashboard 127\.0\.0\.1:0 for any free port/);
    await output.close!({ linger: false });
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

life('a non-loopback host is refused by the output itself unless allowed (embedders too)', async () => {
  const output = createDashboardOutput({ host: '0.0.0.0', port: 0 });
  const error = await output.prepare!(CONTEXT()).then(() => undefined, (caught: unknown) => caught);
  assert.instance(error, UsageError);
  assert.match((error as Error).message, /--dashboard 0\.0\.0\.0:0 is reachable from other machines/);
  assert.is(output.url, undefined, 'nothing listened');
  // Allowed: it listens on every interface; reached through 127.0.0.1 only, and closed at once
  const allowed = createDashboardOutput({ host: '0.0.0.0', port: 0, isRemoteAllowed: true, lingerMs: 0 });
  await allowed.prepare!(CONTEXT());
  try {
    const port = Number(new URL(allowed.url!).port);
    assert.is((await fetchPath(`http://127.0.0.1:${port}/`, '/nope')).status, 404);
  } finally {
    await allowed.close!({ linger: false });
  }
});

life('close: no linger when no page watched, or when told not to; with a page, it says for how long', async () => {
  const quiet = await started({ lingerMs: 60_000 });
  await finished(quiet.output, baseSummary());
  // No page ever connected: close() does not wait its minute
  await quiet.output.close!({ linger: true });
  assert.is(quiet.stderr.text(), `dashboard: ${quiet.url}\n`);

  const watched = await started({ lingerMs: 60_000 });
  const client = await connectSse(watched.url);
  await finished(watched.output, baseSummary());
  await client.ended();
  // linger false (an error path, a second Ctrl+C): at once, whatever the linger
  await watched.output.close!({ linger: false });

  const lingering = await started({ lingerMs: 1 });
  const other = await connectSse(lingering.url);
  await finished(lingering.output, baseSummary());
  await other.ended();
  await lingering.output.close!({ linger: true });
  assert.match(lingering.stderr.text(), /dashboard: serving the final figures at http:\/\/127\.0\.0\.1:\d+\/ for .* \(--dashboard-linger 0 skips this\)\n$/);
});

const cli = suite('dashboard: through the CLI');

cli('a run whose pages left or stayed connected ends by itself, the last `end` showing the run\'s count', async () => {
  const temp = createTempDir();
  try {
    const scenario = join(temp.dir, 's.yaml');
    // 40 messages at 20/s: about 2 s, enough for a page to see updates and leave mid-stream
    writeFileSync(scenario, ['scenarios:', '  s:', '    executor: constant-arrival-rate', '    rate: 20', '    duration: 2s', '    preAllocatedVUs: 4'].join('\n'));
    let resolveUrl: (url: string) => void = () => {};
    const urlSeen = new Promise<string>((resolve) => (resolveUrl = resolve));
    const run = startCli(['run', scenario, '--with-fixture', '--no-out', '--quiet', '--dashboard', '127.0.0.1:0', '--dashboard-linger', '300ms'], {
      cwd: temp.dir,
      limitMs: 30_000,
      onStderr: (text) => {
        const match = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(text);
        if (match) resolveUrl(match[1]!);
      },
    });
    const url = await Promise.race([urlSeen, run.done.then((ran) => Promise.reject(new Error(`exited first: ${ran.stderr}`)))]);
    // The page answers 503 until the engine exists; the stream is there from the start
    const leaving = await connectSse(url);
    const staying = await connectSse(url);
    await leaving.next(1);
    leaving.destroy();
    const ran = await run.done;
    assert.is(ran.code, 0, ran.stderr);
    assert.is(ran.signal, null, 'ended by itself, not by the test\'s limit');
    await staying.ended();
    const last = staying.events.at(-1)!;
    assert.is(last.name, 'end');
    assert.ok(staying.events.length >= 2, `updates before the end: ${staying.events.length - 1}`);
    assert.is(acceptedShown(payloadOf(last).main), 40, 'the end shows every message of the plan, all accepted by the fixture');
    assert.match(ran.stderr, /dashboard: serving the final figures/);
    assert.not.match(ran.stderr, /warning|Error:/);
  } finally {
    temp.remove();
  }
});

cli('Ctrl+C while it serves the final figures ends that wait; the exit code is still the run\'s (0), not a signal\'s', async () => {
  const temp = createTempDir();
  try {
    let url: string | undefined;
    let isSignalled = false;
    const run = startCli(['run', '--with-fixture', '--no-out', '--quiet', '--iterations', '20', '--dashboard', '127.0.0.1:0', '--dashboard-linger', '10m'], {
      cwd: temp.dir,
      limitMs: 30_000,
      onStderr: (text, child) => {
        const match = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(text);
        if (match && url === undefined) {
          url = match[1]!;
          // A page connected: the linger applies
          void connectSse(url).catch(() => undefined);
        }
        if (!isSignalled && /serving the final figures/.test(text)) {
          isSignalled = true;
          child.kill('SIGINT');
        }
      },
    });
    const ran = await run.done;
    assert.ok(isSignalled, ran.stderr);
    assert.is(ran.signal, null, 'not killed by the signal (nor by the test\'s limit)');
    assert.is(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /\nSIGINT: no longer serving the final figures\n/);
  } finally {
    temp.remove();
  }
});

cli('a port in use: one error line and a hint, exit 111, no load and no stack trace', async () => {
  const blocker = createNetServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const temp = createTempDir();
  try {
    const ran = await startCli(['run', '--with-fixture', '--no-out', '--iterations', '5', '--dashboard', `127.0.0.1:${port}`], { cwd: temp.dir, limitMs: 30_000 }).done;
    assert.is(ran.code, ExitCode.outputError, ran.stderr);
    assert.match(ran.stderr, new RegExp(`error: dashboard: 127\\.0\\.0\\.1:${port} is already in use\nhint: .*--dashboard 127\\.0\\.0\\.1:0 for any free port`));
    assert.not.match(ran.stderr, /\n\s+at /, 'no stack trace');
    assert.not.match(ran.stdout, /Total requests/, 'no load ran');
  } finally {
    temp.remove();
    await new Promise((resolve) => blocker.close(resolve));
  }
});

stream.run();
page.run();
life.run();
cli.run();
