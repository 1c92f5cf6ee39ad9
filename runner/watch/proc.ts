/**
 * Reading a process's CPU time and memory from Linux's /proc, and finding the process that
 * listens on a TCP port — what the old guide had users do by hand with `top -p`, `ps aux` and
 * `netstat -an | grep 2525`.
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we target). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** Page size for /proc/<pid>/statm (4 KiB on x86-64 and arm64 Linux). */
export const PAGE_BYTES = 4096;

/** A process's cumulative CPU time (user + system, seconds) and resident memory (bytes). */
export interface ProcessSample {
  cpuSeconds: number;
  rssBytes: number;
}

/** Reads one sample of `pid`, or undefined when the process is gone or /proc is unavailable. */
export function readProcessSample(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name, field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const statm = readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ');
    return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssBytes: Number(statm[1]) * PAGE_BYTES };
  } catch {
    return undefined;
  }
}

/** The name /proc gives a process (e.g. 'python', 'node'), or undefined. */
export function readProcessName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
  } catch {
    return undefined;
  }
}

/**
 * Socket inodes in LISTEN state on `port` (IPv4 and IPv6), from /proc/net/tcp{,6}. With
 * `isIpv4Target` (the target is an IPv4 address), an IPv4 listener found in /proc/net/tcp is the
 * one a connection reaches, and /proc/net/tcp6 is not read: the kernel walks its whole
 * connection table to list it, IPv4 sockets included (~1 ms of CPU with 13,000 TIME_WAIT
 * sockets, as a load generator leaves).
 */
export function listeningInodes(port: number, isIpv4Target = false): Set<string> {
  const inodes = new Set<string>();
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (isIpv4Target && inodes.size > 0) break;
    forEachListeningLine(table, (columns) => {
      if (columns[1]!.endsWith(`:${portHex}`)) inodes.add(columns[9]!);
    });
  }
  return inodes;
}

/**
 * Calls `visit` with the columns of each LISTEN line of a /proc/net/tcp table (sl,
 * local_address ADDR:PORT in hex, rem_address, st, …, inode at index 9). The kernel lists the
 * listening sockets before the established ones, so reading stops at the first other state: a
 * load generator leaves tens of thousands of TIME_WAIT lines, which would cost a hundred
 * milliseconds of kernel time to read.
 */
function forEachListeningLine(table: string, visit: (columns: string[]) => void): void {
  let fd: number;
  try {
    fd = openSync(table, 'r');
  } catch {
    return;
  }
  try {
    const chunk = Buffer.alloc(16_384);
    let pending = '';
    let isHeader = true;
    for (;;) {
      const bytes = readSync(fd, chunk, 0, chunk.length, null);
      if (bytes === 0) return;
      const lines = (pending + chunk.toString('latin1', 0, bytes)).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (isHeader) {
          isHeader = false;
          continue;
        }
        const columns = line.trim().split(/\s+/);
        if (columns.length < 10) continue;
        if (columns[3] !== '0A') return;
        visit(columns);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The pid of the process listening on `port` on this machine, or undefined when none is found
 * (nothing listens, or the process belongs to another user we cannot inspect). `isIpv4Target`:
 * see listeningInodes.
 */
export function findListeningPid(port: number, isIpv4Target = false): number | undefined {
  const inodes = listeningInodes(port, isIpv4Target);
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  // Newest processes first: a server started for the test is usually among them (each process
  // costs a readdir and a readlink per fd); never ourselves.
  const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid).sort((a, b) => Number(b) - Number(a));
  for (const entry of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // The fd closed while we looked; go on.
      }
    }
  }
  return undefined;
}
