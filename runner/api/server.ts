/**
 * The run's REST API (k6's, in spirit): a small HTTP server a running test listens on when given
 * `--api ADDR`, off by default.
 *
 * - `GET /v1/status`: phase (setup, running, done), paused, stopping, elapsed and paused ms, VUs,
 *   VUs allocated, and each scenario's progress.
 * - `PATCH /v1/status` with JSON `{"paused": true|false, "vus": N, "rate": R}` (any of them):
 *   pause or resume the run (engine.ts pause/resume), set the VUs of the externally-controlled
 *   scenarios, set the arrival rate of the running constant-arrival-rate scenarios (R: iterations
 *   per second as a number, or a rate as written, '200/m', '5/s'). Answers the new status, or 400
 *   with `{"error": …}` saying what was wrong (then nothing changed; a pause is refused during
 *   setup() and while the run ends), 413 for a body above MAX_BODY_BYTES.
 * - `GET /v1/metrics`: every metric with its figures now (ms for time trends).
 *
 * With a token (`--api-token`, or RUNNER_API_TOKEN) every request must carry
 * `Authorization: Bearer TOKEN` (401 otherwise). PATCH needs `Content-Type: application/json`, so
 * a web page cannot send it without a CORS preflight, which is never answered.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Engine } from '../engine/engine.ts';
import { RunnerError } from '../errors.ts';
import type { ApiAddress } from './address.ts';
import { parseRatePerSecond } from '../util/rate.ts';
import { loadBuiltin } from '../util/builtin.ts';

/** A rate per second as people read it: '20/s', '3.33/s'. */
export function formatRate(ratePerSecond: number): string {
  return `${Math.round(ratePerSecond * 1000) / 1000}/s`;
}

/** Largest request body read (bytes): a status change is a few dozen. */
const MAX_BODY_BYTES = 4096;

/** Trend percentiles GET /v1/metrics lists. */
const PERCENTILES = [50, 90, 95, 99] as const;

/** A listening API: where, and how to stop it. */
export interface ApiServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** What the server says happened (the run prints it, so a pause shows in its output). */
export type ApiEventSink = (message: string) => void;

/** Starts the API for `engine` on `address`; rejects with a RunnerError when it cannot listen. */
export async function startApiServer(engine: Engine, address: ApiAddress, token: string | undefined, onEvent: ApiEventSink = () => {}): Promise<ApiServer> {
  const server: Server = loadBuiltin('node:http').createServer((request, response) => {
    handle(engine, token, onEvent, request, response).catch((error: unknown) => send(response, 500, { error: (error as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new RunnerError(`--api ${address.host}:${address.port}: cannot listen: ${error.code ?? error.message}`, {
        code: 'E_API',
        exit: 'usage',
        hint: error.code === 'EADDRINUSE' ? 'another run (or program) uses that port: give another, e.g. --api 127.0.0.1:6566' : undefined,
      })),
    );
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    host: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(engine: Engine, token: string | undefined, onEvent: ApiEventSink, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (token !== undefined && !isAuthorized(request.headers.authorization, token)) {
    send(response, 401, { error: 'missing or wrong token: send Authorization: Bearer TOKEN (the run\'s --api-token)' });
    return;
  }
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/v1/status' && request.method === 'GET') return send(response, 200, statusBody(engine));
  if (path === '/v1/status' && request.method === 'PATCH') return patchStatus(engine, onEvent, request, response);
  if (path === '/v1/metrics' && request.method === 'GET') return send(response, 200, metricsBody(engine));
  if (path === '/v1/status' || path === '/v1/metrics') return send(response, 405, { error: `${request.method} is not allowed on ${path}` });
  send(response, 404, { error: `no such endpoint ${path}: GET /v1/status, PATCH /v1/status, GET /v1/metrics` });
}

function isAuthorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function patchStatus(engine: Engine, onEvent: ApiEventSink, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) {
    return send(response, 415, { error: 'send the change as JSON with Content-Type: application/json, e.g. {"paused": true}' });
  }
  const text = await readBody(request);
  if (text === undefined) {
    // Answered before the rest is read; the connection closes after it (the rest is not drained)
    response.setHeader('connection', 'close');
    return send(response, 413, { error: `the body is larger than ${MAX_BODY_BYTES} bytes: a change is a few dozen, e.g. {"paused": true}` });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return send(response, 400, { error: `the body is not JSON: ${(error as Error).message}` });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return send(response, 400, { error: 'send an object, e.g. {"paused": true} or {"vus": 10}' });
  const { paused, vus, rate, ...unknown } = body as { paused?: unknown; vus?: unknown; rate?: unknown };
  const problems: string[] = Object.keys(unknown).map((key) => `unknown field ${JSON.stringify(key)}: only paused, vus and rate can change`);
  if (paused !== undefined && typeof paused !== 'boolean') problems.push(`paused must be true or false, got ${JSON.stringify(paused)}`);
  if (vus !== undefined && !(typeof vus === 'number' && Number.isInteger(vus) && vus >= 0)) problems.push(`vus must be a whole number >= 0, got ${JSON.stringify(vus)}`);
  let ratePerSecond: number | undefined;
  if (rate !== undefined) {
    if (typeof rate !== 'number' && typeof rate !== 'string') problems.push(`rate must be iterations per second (20) or a rate such as "200/m", got ${JSON.stringify(rate)}`);
    else {
      try {
        ratePerSecond = parseRatePerSecond(rate);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
  }
  if (paused === true) {
    // A pause that cannot take must not answer 200 (the caller would believe the run paused)
    const now = engine.status();
    if (!now.isPaused && (now.isStopping || now.phase !== 'running')) {
      problems.push(`cannot pause now: ${now.isStopping || now.phase === 'done' ? 'the run is ending' : 'the run is in setup(); pause once its scenarios run (GET /v1/status: phase "running")'}`);
    }
  }
  // Both checked before either applies: a refused change leaves the run as it was
  if (problems.length === 0 && vus !== undefined) {
    const problem = engine.scaleVus(vus as number, true);
    if (problem) problems.push(problem);
  }
  if (problems.length === 0 && ratePerSecond !== undefined) {
    const problem = engine.scaleRate(ratePerSecond, true);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) return send(response, 400, { error: problems.join('; ') });
  if (vus !== undefined) {
    engine.scaleVus(vus as number);
    onEvent(`VUs of the externally-controlled scenarios set to ${vus as number} (through the API)`);
  }
  if (ratePerSecond !== undefined) {
    engine.scaleRate(ratePerSecond);
    onEvent(`arrival rate of the constant-arrival-rate scenarios set to ${formatRate(ratePerSecond)} (through the API)`);
  }
  if (paused === true && engine.pause()) onEvent('paused through the API: no iteration starts until resumed (runner resume)');
  if (paused === false && engine.resume()) onEvent('resumed through the API');
  send(response, 200, statusBody(engine));
}

/** The body as text, or undefined when it is larger than MAX_BODY_BYTES (reading stops there). */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  const declared = Number(request.headers['content-length']);
  if (declared > MAX_BODY_BYTES) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.off('data', onData);
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** GET /v1/status's body. */
export function statusBody(engine: Engine): Record<string, unknown> {
  const status = engine.status();
  return {
    phase: status.phase,
    paused: status.isPaused,
    stopping: status.isStopping,
    elapsed_ms: Math.round(status.elapsedMs),
    paused_ms: Math.round(status.pausedMs),
    vus: status.vus,
    vus_max: status.vusMax,
    controllable: engine.controllableScenarios(),
    scenarios: status.scenarios.map((s) => ({
      name: s.name,
      executor: s.executor,
      state: s.state,
      elapsed_ms: Math.round(s.elapsedMs),
      iterations_started: s.iterationsStarted,
      active_vus: s.activeVus,
      allocated_vus: s.allocatedVus,
      accepted: s.accepted,
      failed: s.failed,
      dropped: s.dropped,
      ...(s.ratePerSecond === undefined ? {} : { rate_per_second: s.ratePerSecond }),
    })),
  };
}

/** GET /v1/metrics's body: each metric's figures now. */
function metricsBody(engine: Engine): Record<string, unknown> {
  const registry = engine.registry;
  const elapsedMs = performance.now() - registry.startMs;
  const metrics: Record<string, unknown> = {};
  for (const [name, info] of registry.knownMetrics()) {
    const values = registry.values(name, {}, elapsedMs);
    if (values === undefined) continue;
    const figures: Record<string, number | null> = { count: values.count };
    const has = values.count > 0;
    if (values.rate) figures['rate'] = values.rate();
    if (values.value) figures['value'] = values.value();
    if (values.avg) figures['avg'] = has ? values.avg() : null;
    if (values.min) figures['min'] = has ? values.min() : null;
    if (values.max) figures['max'] = has ? values.max() : null;
    if (values.percentile) for (const p of PERCENTILES) figures[p === 50 ? 'med' : `p(${p})`] = has ? values.percentile(p) : null;
    metrics[name] = { type: info.type, ...(info.isTime ? { unit: 'ms' } : {}), ...figures };
  }
  return { elapsed_ms: Math.round(elapsedMs), metrics };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}
