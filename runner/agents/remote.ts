/**
 * The coordinator's side of one agent (`runner run --agents`): connects (retrying while the
 * agent is not up yet: in Kubernetes the agents' pods may start after the coordinator's), says
 * hello with the token, ships the scenario and its data files with this agent's job (its
 * execution segment), then carries the pool's messages out and the worker's messages in.
 * To the pool (workers/pool.ts) it is one more WorkerLink, like a local worker process.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import type { ParentMessage, WorkerJob, WorkerLink, WorkerLinkHandlers, WorkerMessage } from '../workers/protocol.ts';
import { encodeSetupData, readMessages, writeMessage, WIRE_VERSION, type AgentMessage, type ShippedFile } from './wire.ts';
import { loadBuiltin } from '../util/builtin.ts';

/** An agent's address as given to --agents. */
export interface AgentAddress {
  host: string;
  port: number;
}

/** How the coordinator reaches its agents. */
export interface AgentConnection {
  token: string;
  /** PEM text of the CA that signed the agents' certificates: TLS, verified, when given. */
  tlsCa?: string;
  /** How long to keep trying to connect to an agent that is not listening yet. */
  connectTimeoutMs: number;
}

/** What the agent runs: the job and the files it needs. */
export interface Shipment {
  scenarioPath: string | undefined;
  files: ShippedFile[];
}

const RETRY_MS = 500;

/** Parses `host:port` (IPv6 in brackets: `[::1]:6565`); undefined when it is not one. */
export function parseAgentAddress(text: string): AgentAddress | undefined {
  const match = /^\s*(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})\s*$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

/** Connects to one agent and drives it as a WorkerLink. */
export function connectAgent(address: AgentAddress, job: WorkerJob, shipment: Shipment, connection: AgentConnection, handlers: WorkerLinkHandlers): WorkerLink {
  const label = `agent ${address.host}:${address.port}`;
  let socket: Socket | undefined;
  let isGone = false;
  let isKilled = false;
  let refusal: string | undefined;
  let lastError: string | undefined;
  let settle: (how: { how: string; hint?: string }) => void = () => {};
  const exit = new Promise<{ how: string; hint?: string }>((resolve) => (settle = resolve));
  const deadline = Date.now() + connection.connectTimeoutMs;
  let hasConnected = false;
  let isWelcomed = false;
  /** A failure that retrying does not mend (a certificate, TLS on one side only), with what to do. */
  let mismatch: { how: string; hint: string } | undefined;
  const isTls = connection.tlsCa !== undefined;

  const attempt = (): void => {
    if (isKilled) return settle({ how: 'stopped before it connected' });
    const current = isTls
      ? loadBuiltin('node:tls').connect({ host: address.host, port: address.port, ca: connection.tlsCa, servername: isIp(address.host) ? undefined : address.host })
      : connectTcp({ host: address.host, port: address.port });
    socket = current;
    let isTcpConnected = false;
    current.once('connect', () => (isTcpConnected = true));
    const onConnected = (): void => {
      hasConnected = true;
      current.setNoDelay(true);
      writeMessage(current, { type: 'hello', token: connection.token, version: WIRE_VERSION });
    };
    if (isTls) current.once('secureConnect', onConnected);
    else {
      current.once('connect', onConnected);
      // A TLS agent answers a plain hello with a TLS record (an alert): say so, not 'connection lost'
      current.once('data', (chunk: Buffer) => {
        if (!isWelcomed && isTlsRecord(chunk)) mismatch = PLAIN_TO_TLS;
      });
    }
    current.on('error', (error: NodeJS.ErrnoException) => {
      lastError = error.code === 'ECONNREFUSED' ? 'connection refused (is runner agent listening there?)' : error.message;
      if (isTls && !hasConnected) {
        if (isCertificateError(error)) {
          mismatch = {
            how: `refused: its certificate was not verified against --agent-tls-ca (${error.message})`,
            hint: 'give --agent-tls-ca the CA that signed the agent\'s --tls-cert; the certificate must name the address dialled (subjectAltName DNS or IP)',
          };
        } else if (isTcpConnected) mismatch = TLS_TO_PLAIN(error.message);
      }
    });
    current.on('close', () => {
      if (isGone) return;
      if (!hasConnected && !isKilled && mismatch === undefined && Date.now() + RETRY_MS < deadline && !isTlsFailure(lastError)) {
        setTimeout(attempt, RETRY_MS);
        return;
      }
      isGone = true;
      if (refusal !== undefined) settle({ how: `refused the coordinator: ${refusal}` });
      else if (mismatch !== undefined) settle(mismatch);
      else if (!hasConnected) settle({ how: `could not be reached within ${connection.connectTimeoutMs / 1000} s: ${lastError ?? 'no answer'}` });
      else if (!isWelcomed && !isKilled && !isTls) settle({ how: 'closed the connection without answering hello, as a TLS agent (runner agent --tls-cert) does to a coordinator without TLS', hint: `if the agent runs with --tls-cert/--tls-key, ${PLAIN_TO_TLS.hint}` });
      else settle({ how: isKilled ? 'was stopped' : `connection lost${lastError ? ` (${lastError})` : ''}` });
    });
    readMessages<AgentMessage>(current, (message) => {
      if (message.type === 'welcome') {
        isWelcomed = true;
        handlers.onLine(`connected (${message.hostname})`);
        writeMessage(current, { type: 'ship', job, scenarioPath: shipment.scenarioPath, files: shipment.files });
      } else if (message.type === 'refused') {
        refusal = message.message;
      } else handlers.onMessage(message as WorkerMessage);
    }, (problem) => {
      lastError = `the agent sent ${problem}`;
    });
  };
  attempt();

  return {
    label,
    exit,
    send(message: ParentMessage): void {
      if (!socket || isGone) return;
      if (message.type === 'job') return; // shipped after the welcome
      if (message.type === 'start') writeMessage(socket, { type: 'start', setupDataV8: encodeSetupData(message.setupData) });
      else writeMessage(socket, message);
    },
    kill(): void {
      isKilled = true;
      socket?.destroy();
    },
  };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** A plain-TCP coordinator at a TLS agent. */
const PLAIN_TO_TLS = {
  how: 'answered in TLS: it runs with --tls-cert/--tls-key, and this coordinator connected without TLS',
  hint: 'give --agent-tls-ca with the CA that signed the agent\'s certificate (runner run --agents ... --agent-tls-ca ca.pem)',
};

/** A TLS coordinator at an agent that did not complete a handshake: most likely a plain-TCP agent. */
function TLS_TO_PLAIN(error: string): { how: string; hint: string } {
  return {
    how: `accepted the connection but no TLS handshake (${error}): it runs without --tls-cert/--tls-key, and this coordinator uses TLS (--agent-tls-ca)`,
    hint: 'start the agent with --tls-cert and --tls-key, or leave --agent-tls-ca out to connect over plain TCP',
  };
}

/** Whether bytes begin a TLS record: a handshake (22) or an alert (21), version 3.x. */
function isTlsRecord(chunk: Buffer): boolean {
  return chunk.length >= 2 && (chunk[0] === 0x15 || chunk[0] === 0x16) && chunk[1] === 0x03;
}

/** Whether a TLS error is the peer's certificate failing verification (OpenSSL's X509 codes, Node's name check). */
function isCertificateError(error: NodeJS.ErrnoException): boolean {
  return /CERT|SIGNATURE|ISSUER|ALTNAME|SELF_SIGNED/.test(error.code ?? '');
}

/** A TLS failure (an unverifiable certificate) does not get better by retrying. */
function isTlsFailure(error: string | undefined): boolean {
  return error !== undefined && /certificate|self.signed|ssl|tls/i.test(error);
}
