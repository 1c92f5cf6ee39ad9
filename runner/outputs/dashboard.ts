/**
 * `--dashboard [HOST:]PORT`: a live web dashboard, as k6's. `GET /` serves the HTML report page
 * (html-report.ts, the same look as `--report`, every asset inlined: no network access) built
 * from the figures so far; `GET /events` is a server-sent event stream that sends, after each
 * engine tick (once a second), the page's <main> and the chart data as they are now (event
 * `update`), and once the run is over its final figures (event `end`). The page's script
 * (report-assets/report.js) subscribes when the page says it is served live (`data-live`).
 *
 * The summary so far is built only while a page is connected, out of the engine's tick (deferred
 * with setImmediate), so nobody watching costs nothing. Lifecycle: prepare() listens (loopback
 * unless told; a port in use fails before any load) and prints the URL on stderr; run.ts hands
 * over how to build the summary now (`watch`); finish() sends the final figures; close() keeps
 * serving them for `lingerMs` when a page was connected (so the final state can be seen and
 * reloaded), then stops.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { EngineListener } from '../engine/events.ts';
import type { Summary } from '../results/types.ts';
import type { Distributions } from '../results/summarise.ts';
import { OutputError } from '../errors.ts';
import { formatDurationMs } from '../scenario/duration.ts';
import { buildChartData, renderHtmlReport, renderReportMain } from './html-report.ts';
import { lingerFor, type OutputContext, type RunOutput } from './output.ts';
import { checkExposure, type Exposure } from '../listen-address.ts';
import { listenHttp } from './http-endpoint.ts';

/** Default listen address: this machine only. */
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
/** Default time to keep serving the final figures after the run when a page watched it, ms. */
export const DEFAULT_DASHBOARD_LINGER_MS = 10_000;
/** Who may reach it: loopback unless --dashboard-allow-remote (listen-address.ts). */
export const DASHBOARD_EXPOSURE: Exposure = { flag: '--dashboard', allowFlag: '--dashboard-allow-remote', risk: "read the run's figures, its target and accounts included" };
/** Bytes queued for a page that does not read, beyond which it skips updates. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Where the page subscribes. */
const EVENTS_PATH = '/events';

/** Where and how long the dashboard listens. */
export interface DashboardOptions {
  /** TCP port; 0 takes any free port (its URL is printed). */
  port: number;
  /** Listen address. @default '127.0.0.1' */
  host?: string;
  /** Whether `host` may be an address other machines reach (--dashboard-allow-remote). @default false */
  isRemoteAllowed?: boolean;
  /** After the run, how long to keep serving the final figures when a page was connected, ms. @default 10000 */
  lingerMs?: number;
}

/** The dashboard output; run.ts calls `watch` once the engine exists. */
export interface DashboardOutput extends RunOutput {
  /** `http://host:port/` once prepared. */
  readonly url: string | undefined;
  /** How to build the summary of the run so far (called at most once a second, only with a page connected). */
  watch(summaryNow: () => Summary): void;
}

/** Creates the dashboard output. */
export function createDashboardOutput(options: DashboardOptions): DashboardOutput {
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  const lingerMs = options.lingerMs ?? DEFAULT_DASHBOARD_LINGER_MS;
  let server: Server | undefined;
  let url: string | undefined;
  let stderr: NodeJS.WritableStream = process.stderr;
  let summaryNow: (() => Summary) | undefined;
  let final: { summary: Summary; distributions?: Distributions } | undefined;
  let hasWatcher = false;
  let isPushPending = false;
  const clients = new Set<ServerResponse>();

  /** The page and its data as of now (the final figures once the run is over). */
  const current = (): { summary: Summary; distributions?: Distributions } | undefined => {
    if (final) return final;
    return summaryNow ? { summary: summaryNow() } : undefined;
  };

  const eventText = (name: 'update' | 'end', state: { summary: Summary; distributions?: Distributions }): string => {
    const payload = JSON.stringify({ main: renderReportMain(state.summary, { isRunning: final === undefined, live: { eventsPath: EVENTS_PATH } }), data: buildChartData(state.summary, state.distributions) });
    return `event: ${name}\ndata: ${payload}\n\n`;
  };

  const send = (name: 'update' | 'end') => {
    if (clients.size === 0) return;
    let text: string;
    try {
      const state = current();
      if (!state) return;
      text = eventText(name, state);
    } catch (error) {
      // A bug here must cost one update, never the run.
      stderr.write(`warning: dashboard: ${(error as Error).message}\n`);
      return;
    }
    for (const client of clients) {
      // A page that does not read (a stalled tab, a stuck proxy) is sent nothing more until it has
      // caught up: each update is the whole state, so it loses nothing, and memory stays bounded
      // (an hour-long run's update is ~200 KB a second). The final `end` always goes.
      if (name === 'update' && client.writableLength > MAX_BUFFERED_BYTES) continue;
      client.write(text);
    }
  };

  const serve = (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    // HEAD (curl -I, a link checker) answers as GET without the body (node:http leaves it out)
    const isHead = request.method === 'HEAD';
    if (request.method !== 'GET' && !isHead) {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET /\n');
      return;
    }
    if (path === EVENTS_PATH && isHead) {
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' }).end();
      return;
    }
    if (path === EVENTS_PATH) {
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      // Reconnect after 1 s if the stream breaks (the browser's default is about 3 s).
      response.write('retry: 1000\n\n');
      hasWatcher = true;
      if (final) {
        response.end(eventText('end', final));
        return;
      }
      clients.add(response);
      request.on('close', () => clients.delete(response));
      return;
    }
    if (path !== '/' && path !== '/index.html') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('runner: the dashboard is at /\n');
      return;
    }
    let page: string;
    try {
      const state = current();
      if (!state) {
        response.writeHead(503, { 'retry-after': '1', 'content-type': 'text/html; charset=utf-8' })
          .end('<!DOCTYPE html><meta http-equiv="refresh" content="1"><title>runner</title><p>The run is starting; this page reloads in a second.</p>\n');
        return;
      }
      page = renderHtmlReport(state.summary, { distributions: state.distributions, live: { eventsPath: EVENTS_PATH }, isRunning: final === undefined });
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(error as Error).message}\n`);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
  };

  const listener: EngineListener = {
    onTick() {
      // Out of the engine's tick: the summary is built after it, and only for a connected page.
      if (clients.size === 0 || isPushPending) return;
      isPushPending = true;
      setImmediate(() => {
        isPushPending = false;
        if (!final) send('update');
      });
    },
  };

  const stop = async () => {
    const current = server;
    server = undefined;
    if (!current) return;
    for (const client of clients) client.end();
    clients.clear();
    await new Promise<void>((resolve) => {
      current.close(() => resolve());
      current.closeAllConnections();
    });
  };

  return {
    description: 'dashboard',
    get url() {
      return url;
    },
    listener,
    watch(provider) {
      summaryNow = provider;
    },
    async prepare(context: OutputContext) {
      stderr = context.stderr;
      checkExposure({ host, port: options.port }, options.isRemoteAllowed === true, DASHBOARD_EXPOSURE);
      const endpoint = await listenHttp(serve, host, options.port, (error) => listenError(error, host, options.port));
      server = endpoint.server;
      url = `${endpoint.origin}/`;
      stderr.write(`dashboard: ${url}\n`);
    },
    async finish(summary, context) {
      final = { summary, distributions: context.distributions };
      send('end');
      for (const client of clients) client.end();
      clients.clear();
    },
    async close(closeOptions) {
      if (!server) return;
      if (closeOptions.linger && final && hasWatcher && lingerMs > 0) {
        stderr.write(`dashboard: serving the final figures at ${url} for ${formatDurationMs(lingerMs)} (--dashboard-linger 0 skips this)\n`);
        // This timer (not the unref'd server) keeps the process alive while we wait; a signal ends it.
        await lingerFor(lingerMs, closeOptions.signal);
      }
      await stop();
    },
  };
}

/** A listen failure as a user-facing error with what to do. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): OutputError {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return new OutputError(`dashboard: ${where} is already in use`, `another process listens there: choose another port, e.g. --dashboard ${host}:0 for any free port (find it with: ss -ltnp 'sport = :${port}')`, error);
  }
  if (error.code === 'EACCES') return new OutputError(`dashboard: not allowed to listen on ${where}`, 'ports below 1024 need privileges: use e.g. --dashboard 5665', error);
  return new OutputError(`dashboard: cannot listen on ${where}: ${error.message}`, 'choose another --dashboard HOST:PORT', error);
}
