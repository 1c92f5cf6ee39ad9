/**
 * The scripted SMTP server and the recording SessionRecorder the session tests share
 * (session.test.ts, pipeline-ahead.test.ts): a server that answers each command from a script and
 * records every read, and a recorder that keeps everything a session reports.
 */
import { createServer, type Socket } from 'node:net';
import type { Failure } from '../../runner/smtp/api.ts';
import { PHASES, type Phase } from '../../runner/smtp/phases.ts';
import type { ResolvedSmtp } from '../../runner/scenario/resolved.ts';
import { SmtpSession, type SessionRecorder } from '../../runner/smtp/session.ts';
import { startRawServer } from '../helpers.ts';
// ---------------------------------------------------------------------------------------------
// A scripted fake SMTP server: answers each command from a script, per occurrence if needed.

/** What the server does when a command (or the greeting, or end-of-data) is due an answer. */
export type Answer =
  /** Reply text; CRLF is added when missing. */
  | string
  /** Never answer. */
  | { kind: 'silent' }
  /** Optionally reply, then close the connection (FIN) or reset it (RST). */
  | { kind: 'close' | 'reset'; reply?: string }
  /** Write these raw bytes as they are. */
  | { kind: 'raw'; bytes: string }
  /** Answer by occurrence (0-based count of this step across the server's life). */
  | ((occurrence: number) => Answer);

export type Step = 'greeting' | 'ehlo' | 'auth' | 'mail' | 'rcpt' | 'data' | 'message' | 'rset' | 'quit';

export interface Script extends Partial<Record<Step, Answer>> {
  /** Write every reply one byte at a time, yielding between bytes. */
  isByteByByte?: boolean;
}

export interface ScriptedServer {
  port: number;
  connections: number;
  /** Every command line received, in order, across connections. */
  commands: string[];
  /** Every message received after DATA, dot-unstuffed, without the end-of-data line. */
  messages: string[];
  /** Per read (socket 'data' event): the command lines it completed, '<message>' for an end-of-data. */
  reads: string[][];
  close(): Promise<void>;
}

export const PROXY_LIKE: Record<Step, Answer> = {
  greeting: '220 fake.test ESMTP ready',
  ehlo: '250-fake.test Hello\r\n250-AUTH PLAIN\r\n250-SIZE 52428800\r\n250 8BITMIME',
  auth: '235 2.7.0 Authentication successful',
  mail: '250 2.1.0 OK',
  rcpt: '250 2.1.5 OK',
  data: '354 Start mail input; end with <CRLF>.<CRLF>',
  message: '250 2.0.0 OK',
  rset: '250 2.0.0 OK',
  quit: { kind: 'close', reply: '221 2.0.0 Goodbye' },
};

const VERBS: Record<string, Step> = { EHLO: 'ehlo', HELO: 'ehlo', LHLO: 'ehlo', AUTH: 'auth', MAIL: 'mail', RCPT: 'rcpt', DATA: 'data', RSET: 'rset', QUIT: 'quit' };

export async function startScriptedServer(script: Script = {}): Promise<ScriptedServer> {
  const occurrences = new Map<Step, number>();
  const state: ScriptedServer = { port: 0, connections: 0, commands: [], messages: [], reads: [], close: async () => undefined };

  const write = async (socket: Socket, text: string): Promise<void> => {
    if (!script.isByteByByte) {
      socket.write(text, 'latin1');
      return;
    }
    for (let i = 0; i < text.length && !socket.destroyed; i++) {
      socket.write(text[i]!, 'latin1');
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  const answer = async (socket: Socket, step: Step): Promise<void> => {
    const count = occurrences.get(step) ?? 0;
    occurrences.set(step, count + 1);
    let planned: Answer = script[step] ?? PROXY_LIKE[step];
    while (typeof planned === 'function') planned = planned(count);
    if (typeof planned === 'string') return write(socket, planned.endsWith('\r\n') ? planned : planned + '\r\n');
    switch (planned.kind) {
      case 'silent':
        return;
      case 'raw':
        return write(socket, planned.bytes);
      case 'close':
      case 'reset':
        if (planned.reply !== undefined) await write(socket, planned.reply + '\r\n');
        if (planned.kind === 'close') socket.end();
        else socket.resetAndDestroy();
    }
  };

  const server = await startRawServer((socket) => {
    state.connections++;
    socket.setNoDelay(true);
    let buffer = '';
    let isInData = false;
    /** BDAT (RFC 3030): bytes of the current chunk still to read, whether it is the last, the message so far. */
    let bdatRemaining = 0;
    let isBdatLast = false;
    let bdatMessage = '';
    // Replies go out in order even when written byte by byte
    let queue = answer(socket, 'greeting');
    const reply = (step: Step) => {
      queue = queue.then(() => answer(socket, step));
    };
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      const carried: string[] = [];
      state.reads.push(carried);
      for (;;) {
        if (bdatRemaining > 0) {
          const take = Math.min(bdatRemaining, buffer.length);
          bdatMessage += buffer.slice(0, take);
          buffer = buffer.slice(take);
          bdatRemaining -= take;
          if (bdatRemaining > 0) return;
          if (isBdatLast) {
            state.messages.push(bdatMessage);
            bdatMessage = '';
            carried.push('<message>');
            reply('message');
          } else {
            queue = queue.then(() => write(socket, '250 2.0.0 chunk accepted\r\n'));
          }
          continue;
        }
        if (isInData) {
          // The data ends with CRLF "." CRLF; the first CRLF may be the DATA line's own
          let end: number;
          let rest: number;
          if (buffer.startsWith('.\r\n')) {
            end = 0;
            rest = 3;
          } else {
            const at = buffer.indexOf('\r\n.\r\n');
            if (at < 0) return;
            end = at + 2;
            rest = at + 5;
          }
          state.messages.push(buffer.slice(0, end).replace(/(^|\r\n)\.\./g, '$1.'));
          carried.push('<message>');
          buffer = buffer.slice(rest);
          isInData = false;
          reply('message');
          continue;
        }
        const lineEnd = buffer.indexOf('\r\n');
        if (lineEnd < 0) return;
        const line = buffer.slice(0, lineEnd);
        buffer = buffer.slice(lineEnd + 2);
        state.commands.push(line);
        carried.push(line);
        const bdat = /^BDAT (\d+)( LAST)?$/i.exec(line);
        if (bdat !== null) {
          bdatRemaining = Number(bdat[1]);
          isBdatLast = bdat[2] !== undefined;
          if (bdatRemaining === 0 && isBdatLast) {
            state.messages.push(bdatMessage);
            bdatMessage = '';
            reply('message');
          }
          continue;
        }
        const step = VERBS[line.slice(0, 4).toUpperCase()];
        if (step === undefined) {
          queue = queue.then(() => write(socket, '500 5.5.1 unknown command\r\n'));
          continue;
        }
        if (step === 'data') {
          const planned = script.data ?? PROXY_LIKE.data;
          const count = occurrences.get('data') ?? 0;
          const resolved = typeof planned === 'function' ? planned(count) : planned;
          isInData = typeof resolved === 'string' && resolved.startsWith('354');
        }
        reply(step);
      }
    });
  });
  state.port = server.port;
  state.close = server.close;
  return state;
}

/** A port nothing listens on: a server is opened and closed to get one. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// A recorder that keeps everything the session reports.

export class TestRecorder implements SessionRecorder {
  opened = 0;
  closed = 0;
  bytesSent = 0;
  bytesReceived = 0;
  phases: Array<{ phase: Phase; durationUs: number }> = [];
  acceptedMessages: Array<{ txnUs: number; messageBytes: number }> = [];
  failures: Array<{ failure: Failure; txnUs: number }> = [];
  afterAccept: Failure[] = [];
  commands: Array<{ verb: string; durationUs: number }> = [];
  /** LMTP: each recipient's reply after the data, undefined when accepted. */
  lmtpReplies: Array<Failure | undefined> = [];

  connectionOpened(): void {
    this.opened++;
  }
  phase(phaseIndex: number, durationUs: number): void {
    this.phases.push({ phase: PHASES[phaseIndex]!, durationUs });
  }
  accepted(txnUs: number, messageBytes: number): void {
    this.acceptedMessages.push({ txnUs, messageBytes });
  }
  failed(failure: Failure, txnUs: number): void {
    this.failures.push({ failure, txnUs });
  }
  afterAcceptError(failure: Failure): void {
    this.afterAccept.push(failure);
  }
  connectionClosed(bytesSent: number, bytesReceived: number): void {
    this.closed++;
    this.bytesSent += bytesSent;
    this.bytesReceived += bytesReceived;
  }
  command(verb: string, durationUs: number): void {
    this.commands.push({ verb, durationUs });
  }
  lmtpRecipient(failure: Failure | undefined): void {
    this.lmtpReplies.push(failure);
  }
  /** Client-side faults done, by kind, in order. */
  faults: string[] = [];
  clientFault(kind: string): void {
    this.faults.push(kind);
  }
  phaseNames(): Phase[] {
    return this.phases.map((entry) => entry.phase);
  }
}

export function smtpOptions(overrides: Partial<ResolvedSmtp> = {}, timeoutMs = 5000): ResolvedSmtp {
  return {
    from: 'test@example.com',
    to: ['rcpt@example.com'],
    auth: 'plain',
    password: 'placeholder',
    ehloName: 'runner.test',
    messageSize: 1024,
    messagesPerConnection: 1,
    timeoutsMs: Object.fromEntries(PHASES.map((phase) => [phase, timeoutMs])) as Record<Phase, number>,
    ...overrides,
  };
}

/** Runs `body` against a scripted server with a fresh session; closes both whatever happens. */
export async function withSession(
  script: Script,
  smtp: Partial<ResolvedSmtp>,
  body: (session: SmtpSession, recorder: TestRecorder, server: ScriptedServer) => Promise<void>,
  timeoutMs = 5000,
): Promise<void> {
  const server = await startScriptedServer(script);
  const recorder = new TestRecorder();
  const session = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtpOptions(smtp, timeoutMs), recorder);
  try {
    await body(session, recorder, server);
  } finally {
    session.close();
    await server.close();
  }
}

