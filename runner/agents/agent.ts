/**
 * `runner agent --listen HOST:PORT --token-file F`: a load machine's side of a run over many
 * machines. It waits for a coordinator (`runner run --agents`), refuses one without the token,
 * receives the bundled scenario and its data files, and runs the coordinator's execution segment
 * in a worker process (workers/worker.ts, the same one `--workers` starts), relaying its messages
 * both ways: the coordinator's start barrier, stop and interrupt in; the worker's per-second
 * snapshots out. One coordinator at a time; `--once` leaves after one run (a Kubernetes Job).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { runnerCliPath } from '../cli-path.ts';
import { childEnded } from '../workers/child-ended.ts';
import { loadBuiltin } from '../util/builtin.ts';
import type { WorkerMessage } from '../workers/protocol.ts';
import { decodeSetupData, isTokenValid, readMessages, writeMessage, WIRE_VERSION, type AgentMessage, type CoordinatorMessage, type ShippedFile } from './wire.ts';

/** How long a coordinator has to say hello with the token. */
const HELLO_TIMEOUT_MS = 10_000;

export interface AgentSpec {
  host: string;
  port: number;
  token: string;
  /** PEM texts: TLS when both are given. */
  tlsCert?: string;
  tlsKey?: string;
  /** Leave after one coordinator's run. */
  isOnce: boolean;
  stderr: NodeJS.WritableStream;
}

/** A running agent: the port it listens on, a promise that settles when it stops, and close(). */
export interface RunningAgent {
  port: number;
  done: Promise<void>;
  close(): void;
}

/** Starts listening; resolves once bound. */
export function startAgent(spec: AgentSpec): Promise<RunningAgent> {
  let isBusy = false;
  /** The worker running a coordinator's segment now, if any. */
  let running: ChildProcess | undefined;
  let isStopping = false;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const say = (line: string): void => void spec.stderr.write(`runner agent: ${line}\n`);
  const onConnection = (socket: Socket): void => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    if (isBusy) {
      writeMessage(socket, { type: 'refused', message: 'this agent is running another coordinator\'s load; start another agent' });
      socket.end();
      return;
    }
    isBusy = true;
    serve(socket, peer, spec, say, (child) => (running = child)).finally(() => {
      isBusy = false;
      running = undefined;
      if (spec.isOnce || isStopping) {
        server.close();
        finish();
      }
    });
  };
  const server: Server = spec.tlsCert !== undefined && spec.tlsKey !== undefined
    ? loadBuiltin('node:tls').createServer({ cert: spec.tlsCert, key: spec.tlsKey }, onConnection)
      // A coordinator without --agent-tls-ca (plain TCP), or one that does not trust this certificate
      .on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => say(`refused a connection from ${socket.remoteAddress}:${socket.remotePort}: no TLS handshake (${error.code ?? error.message}); the coordinator needs --agent-tls-ca with the CA of this agent's --tls-cert`))
    : createTcpServer(onConnection);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, spec.host, () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : spec.port;
      say(`listening on ${spec.host}:${port}${spec.tlsCert ? ' (TLS)' : ''}; waiting for a coordinator (runner run --agents)`);
      resolve({
        port,
        done,
        close: () => {
          server.close();
          // Busy: the first close (Ctrl+C) stops the segment as a coordinator's stop does, so its
          // last report reaches the coordinator; a second one cuts the running messages off.
          if (running?.connected) {
            if (isStopping) {
              say('interrupting the running messages');
              running.send({ type: 'interrupt' });
            } else {
              isStopping = true;
              say('stopping: the running segment ends gracefully and sends its last report (Ctrl+C again: cut the messages off)');
              running.send({ type: 'stop', reason: 'interrupt', message: 'the agent was interrupted' });
            }
            return;
          }
          finish();
        },
      });
    });
  });
}

/** One coordinator's connection: hello, ship, run the worker, relay, clean up. */
function serve(socket: Socket, peer: string, spec: AgentSpec, say: (line: string) => void, onWorker: (child: ChildProcess) => void): Promise<void> {
  return new Promise((resolveServe) => {
    let state: 'hello' | 'ship' | 'running' | 'closed' = 'hello';
    let workDir: string | undefined;
    let child: ChildProcess | undefined;
    const helloTimer = setTimeout(() => refuse('no hello with a token within 10 s'), HELLO_TIMEOUT_MS);
    const end = (): void => {
      if (state === 'closed') return;
      state = 'closed';
      clearTimeout(helloTimer);
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      resolveServe();
    };
    const refuse = (why: string): void => {
      say(`refused the coordinator at ${peer}: ${why}`);
      writeMessage(socket, { type: 'refused', message: why });
      socket.end();
      end();
    };
    socket.on('close', () => {
      // The coordinator gone: the worker stops itself when its IPC channel closes (worker.ts).
      if (child && child.connected) child.disconnect();
      if (!child) end();
    });
    if (!(socket as { encrypted?: boolean }).encrypted) {
      // A TLS coordinator (--agent-tls-ca) at this plain-TCP agent: its ClientHello would wait for the hello timeout
      socket.once('data', (chunk: Buffer) => {
        if (state !== 'hello' || chunk.length < 2 || chunk[0] !== 0x16 || chunk[1] !== 0x03) return;
        say(`refused the coordinator at ${peer}: it started TLS (--agent-tls-ca), and this agent listens on plain TCP (start it with --tls-cert/--tls-key)`);
        end();
        socket.destroy();
      });
    }
    readMessages<CoordinatorMessage>(socket, (message) => {
      if (state === 'closed') return;
      if (state === 'hello') {
        if (message.type !== 'hello') return refuse('the first message must be hello with the token');
        clearTimeout(helloTimer);
        if (!isTokenValid(message.token, spec.token)) return refuse('wrong token (give the coordinator the agent\'s --token-file)');
        if (message.version !== WIRE_VERSION) return refuse(`protocol version ${String(message.version)}, this agent speaks ${WIRE_VERSION}: run the same runner version on both`);
        state = 'ship';
        say(`coordinator ${peer} accepted`);
        writeMessage(socket, { type: 'welcome', version: WIRE_VERSION, hostname: hostname() });
        return;
      }
      if (state === 'ship') {
        if (message.type !== 'ship') return refuse('expected the scenario (ship)');
        try {
          workDir = mkdtempSync(join(tmpdir(), 'runner-agent-'));
          writeShippedFiles(workDir, message.files);
        } catch (error) {
          return refuse(`cannot write the shipped files: ${(error as Error).message}`);
        }
        state = 'running';
        child = startWorker(socket, say);
        onWorker(child);
        // 'close', not 'exit': by then every message it sent (its last report) has been relayed
        void childEnded(child).then(() => {
          socket.end();
          end();
        });
        const scenarioFile = message.scenarioPath === undefined ? undefined : join(workDir, message.scenarioPath);
        child.send({ type: 'job', job: { ...message.job, scenarioFile, cwd: workDir } });
        return;
      }
      if (!child?.connected) return;
      if (message.type === 'start') child.send({ type: 'start', setupData: decodeSetupData(message.setupDataV8) });
      else if (message.type === 'stop' || message.type === 'interrupt') child.send(message);
    }, (problem) => {
      if (state === 'closed') return;
      say(`dropped the coordinator at ${peer}: ${problem}`);
      end();
    });
  });
}

/** Writes each shipped file under `dir`, refusing any path that would leave it. */
export function writeShippedFiles(dir: string, files: ShippedFile[]): void {
  for (const file of files) {
    const path = normalize(file.path);
    if (isAbsolute(path) || path.startsWith('..') || path === '.') throw new Error(`a shipped file's path must stay inside the scenario's folder, got '${file.path}'`);
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(file.base64, 'base64'));
  }
}

function startWorker(socket: Socket, say: (line: string) => void): ChildProcess {
  // Its own process group: Ctrl+C on the agent's terminal reaches the agent, which stops the worker gracefully
  const child = loadBuiltin('node:child_process').spawn(process.execPath, [runnerCliPath(), 'worker'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', detached: true });
  loadBuiltin('node:readline').createInterface({ input: child.stderr! }).on('line', (line) => say(`worker: ${line}`));
  child.on('message', (message: WorkerMessage) => writeMessage(socket, message as AgentMessage));
  const killChild = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', killChild);
  child.once('exit', () => process.off('exit', killChild));
  return child;
}
