/**
 * Shared test helpers: a stream that collects what is written, a temp folder, and a fake proxy
 * started for one test and always closed.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeProxy, type FakeProxy, type FakeProxyOptions } from '../fixtures/fake-proxy.ts';
import { runCommand, type RunCommandOptions, type RunOutcome } from '../runner/run.ts';

/** A writable stream that keeps everything written to it as text. */
export function createTextSink(): Writable & { text(): string; isTTY: false } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { text(): string; isTTY: false };
  sink.text = () => chunks.join('');
  sink.isTTY = false;
  return sink;
}

/** A fresh temp folder, removed by the returned function. */
export function createTempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'runner-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `body` with a fake proxy that is closed afterwards whatever happens. */
export async function withFakeProxy<T>(options: FakeProxyOptions, body: (proxy: FakeProxy) => Promise<T>): Promise<T> {
  const proxy = await startFakeProxy({ seed: 1, ...options });
  try {
    return await body(proxy);
  } finally {
    await proxy.close();
  }
}

/** Runs `runner run` in-process against `proxy`, output collected, no results file unless given. */
export async function runAgainst(
  proxy: FakeProxy,
  command: Partial<RunCommandOptions> & { overrides?: RunCommandOptions['overrides'] },
  /** The streams the run writes to (read them while it runs); new ones when omitted. */
  sinks: { stdout: ReturnType<typeof createTextSink>; stderr: ReturnType<typeof createTextSink> } = { stdout: createTextSink(), stderr: createTextSink() },
): Promise<RunOutcome & { output: string }> {
  const { stdout, stderr } = sinks;
  const outcome = await runCommand({
    out: false,
    progressIntervalMs: 60_000,
    ...command,
    overrides: { host: '127.0.0.1', port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}`, ...command.overrides },
    stdout,
    stderr,
  });
  return { ...outcome, output: stdout.text() + stderr.text() };
}

/** A raw TCP server on 127.0.0.1 that runs `onConnection` per client (socket errors ignored); close() ends every socket. */
export async function startRawServer(onConnection: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
