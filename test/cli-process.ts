/**
 * The built `runner` as a separate process, for end-to-end tests of what a person sees: its
 * output, its exit code, its signals, its memory (/proc) and its file-descriptor limit (prlimit).
 * Requires `node build.mjs` first (npm test does it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeProxyStats } from '../fixtures/fake-proxy.ts';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The CLI entry point, as npm installs it. */
export const BIN = join(ROOT, 'bin/runner.js');

/** A finished CLI process. */
export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** SIGKILL after this long, ms. @default 60000 */
  limitMs?: number;
  /** Soft and hard RLIMIT_NOFILE of the process (through prlimit, which execs: the pid is node's). */
  nofile?: number;
  /** Called with all stdout so far, on each chunk. */
  onStdout?: (text: string, child: ChildProcess) => void;
  /** Called with all stderr so far, on each chunk. */
  onStderr?: (text: string, child: ChildProcess) => void;
  /** In a process group of its own (as a shell runs a command), so `process.kill(-pid, …)` signals it and its children, as Ctrl+C does. */
  detached?: boolean;
}

/** A running CLI process; `done` settles when it has exited and its output is read. */
export interface CliProcess {
  child: ChildProcess;
  pid: number;
  done: Promise<Ran>;
}

/** Starts `runner ARGS…` (no colours). */
export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const command = options.nofile === undefined
    ? [process.execPath, BIN, ...args]
    : ['prlimit', `--nofile=${options.nofile}:${options.nofile}`, process.execPath, BIN, ...args];
  const child = spawn(command[0]!, command.slice(1), { cwd: options.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1' }, detached: options.detached ?? false });
  let stdout = '';
  let stderr = '';
  const limit = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 60_000);
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
    options.onStdout?.(stdout, child);
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    options.onStderr?.(stderr, child);
  });
  const done = new Promise<Ran>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, pid: child.pid!, done };
}

/** Runs `runner ARGS…` to the end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<Ran> {
  return startCli(args, options).done;
}

/** Resident set size of a process in bytes, from /proc (undefined once it has exited). */
export function readRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The hard RLIMIT_NOFILE this process may raise a child's limit to, or undefined without prlimit. */
export function maxNofile(): number | undefined {
  if (spawnSync('prlimit', ['--version']).status !== 0) return undefined;
  const match = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (!match) return undefined;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/** The fake proxy (`runner fixture`) in a process of its own: its counters are read over its admin API. */
export interface FixtureProcess {
  port: number;
  adminPort: number;
  pid: number;
  /** The flags that aim `runner run` at it. */
  targetArgs: string[];
  stats(): Promise<FakeProxyStats>;
  /** Zeroes its counters. */
  resetStats(): Promise<void>;
  /** SIGTERM, and waits for it to exit. */
  close(): Promise<void>;
}

/** Starts `runner fixture --port 0 --admin-port 0 --json ARGS…`, optionally with its own fd limit. */
export async function startFixtureProcess(args: string[] = [], options: { nofile?: number } = {}): Promise<FixtureProcess> {
  const fixtureArgs = [BIN, 'fixture', '--port', '0', '--admin-port', '0', '--json', ...args];
  const command = options.nofile === undefined ? [process.execPath, ...fixtureArgs] : ['prlimit', `--nofile=${options.nofile}:${options.nofile}`, process.execPath, ...fixtureArgs];
  const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fixture did not start within 15 s')), 15_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fixture exited with ${code} before it was ready`));
    });
  }).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  const admin = `http://127.0.0.1:${ready.adminPort}`;
  return {
    ...ready,
    pid: child.pid!,
    // A reserved test domain (RFC 2606) as recipient: runner refuses to mail real people without being told.
    targetArgs: ['--host', '127.0.0.1', '--port', String(ready.port), '--admin-url', admin, '--to', 'load@example.com'],
    async stats() {
      const response = await fetch(`${admin}/__stats`);
      return (await response.json()) as FakeProxyStats;
    },
    async resetStats() {
      await fetch(`${admin}/__reset`, { method: 'POST' });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
