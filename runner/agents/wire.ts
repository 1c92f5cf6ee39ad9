/**
 * The wire between `runner run --agents` (the coordinator) and `runner agent`: the messages of
 * workers/protocol.ts, one JSON object per line (newline-delimited JSON), over TCP or TLS.
 *
 * A line is bounded (MAX_LINE_BYTES): a peer that sends more without a newline is cut off, so a
 * stranger cannot make either side buffer without end. setup()'s data travels as V8's
 * serialization (base64) inside its line: the same structured clone the local workers get over
 * IPC (Dates, Maps), which JSON alone would lose.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { loadBuiltin } from '../util/builtin.ts';
import type { ParentMessage, WorkerJob, WorkerMessage } from '../workers/protocol.ts';

/** The wire protocol's version: a coordinator and an agent of different versions refuse each other. */
export const WIRE_VERSION = 1;

/** Longest line either side accepts: a shipped scenario with its data files, or a snapshot. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** A file shipped with the scenario: its path relative to the scenario's folder, its bytes in base64. */
export interface ShippedFile {
  path: string;
  base64: string;
}

/** coordinator → agent: `hello` (the token) first, then `ship` (the job and its files), then ParentMessages. */
export type CoordinatorMessage =
  | { type: 'hello'; token: string; version: number }
  | { type: 'ship'; job: WorkerJob; scenarioPath: string | undefined; files: ShippedFile[] }
  | Exclude<ParentMessage, { type: 'start' | 'job' }>
  | { type: 'start'; setupDataV8: string };

/** agent → coordinator: `welcome` or `refused` to the hello, then the worker's messages. */
export type AgentMessage =
  | { type: 'welcome'; version: number; hostname: string }
  | { type: 'refused'; message: string }
  | WorkerMessage;

/** setup()'s data as a line can carry it (V8 serialization, base64). */
export function encodeSetupData(data: unknown): string {
  return loadBuiltin('node:v8').serialize(data).toString('base64');
}

export function decodeSetupData(text: string): unknown {
  return loadBuiltin('node:v8').deserialize(Buffer.from(text, 'base64'));
}

/** Whether `given` is the token, in time that does not depend on where they differ (both hashed first: equal lengths). */
export function isTokenValid(given: unknown, token: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/**
 * Splits a byte stream into lines: feed chunks, get whole lines; throws when a line grows past
 * the bound. Pure (no socket), tested by feeding strings.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private pendingBytes = 0;
  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** The whole lines this chunk completes (without their newline). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, at);
      if (this.pendingBytes + piece.length > this.maxLineBytes) throw new Error(`a line longer than ${this.maxLineBytes} bytes`);
      this.parts.push(piece);
      lines.push(Buffer.concat(this.parts).toString('utf8'));
      this.parts = [];
      this.pendingBytes = 0;
      start = at + 1;
    }
    const rest = chunk.subarray(start);
    if (this.pendingBytes + rest.length > this.maxLineBytes) throw new Error(`a line longer than ${this.maxLineBytes} bytes`);
    if (rest.length > 0) {
      // A copy: the socket may reuse its buffer.
      this.parts.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
    }
    return lines;
  }
}

/** Reads the socket's lines as JSON objects; a bad line or an overlong one ends the connection with onError. */
export function readMessages<T>(socket: Socket, onMessage: (message: T) => void, onError: (problem: string) => void): void {
  const splitter = new LineSplitter();
  socket.on('data', (chunk: Buffer) => {
    let lines: string[];
    try {
      lines = splitter.push(chunk);
    } catch (error) {
      onError((error as Error).message);
      socket.destroy();
      return;
    }
    for (const line of lines) {
      if (line.trim() === '') continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        onError('a line that is not JSON');
        socket.destroy();
        return;
      }
      if (message === null || typeof message !== 'object' || typeof (message as { type?: unknown }).type !== 'string') {
        onError('a message without a type');
        socket.destroy();
        return;
      }
      onMessage(message as T);
    }
  });
}

/** Writes one message as one line. */
export function writeMessage(socket: Socket, message: CoordinatorMessage | AgentMessage): void {
  if (socket.destroyed || !socket.writable) return;
  socket.write(JSON.stringify(message) + '\n');
}

/** The shared token from a --token-file: its first line, trimmed; a missing or empty file is the user's to fix. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--token-file ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'give a file holding the shared secret, e.g. openssl rand -hex 32 > token; the same file on the coordinator and every agent');
  }
  const token = text.split('\n')[0]!.trim();
  if (token.length < 16) throw new UsageError(`--token-file ${path}: the token is ${token.length === 0 ? 'empty' : 'shorter than 16 characters'}`, 'make one that cannot be guessed: openssl rand -hex 32 > token');
  return token;
}
