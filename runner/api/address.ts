/**
 * The REST API's address (`--api HOST:PORT`, k6's flag and default) and its safety rule: it binds
 * to a loopback address unless `--api-allow-remote` says otherwise, since whoever reaches it can
 * pause, resume and rescale the load.
 */
import { isIP } from 'node:net';
import { UsageError } from '../errors.ts';

/** k6's default address for its REST API. */
export const DEFAULT_API_ADDRESS = '127.0.0.1:6565';

/** Where the API listens (or is called). */
export interface ApiAddress {
  host: string;
  port: number;
}

/** Parses `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (host: 127.0.0.1); `flag` names it in the error. */
export function parseApiAddress(text: string, flag = '--api', example = `${DEFAULT_API_ADDRESS} (k6's default)`): ApiAddress {
  const match = /^(?:\[([^\]]+)\]|([^:\s]*)):?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`${flag} '${text}' is not HOST:PORT`, `e.g. ${flag} ${example}, or ${flag} 127.0.0.1:0 for any free port`);
  }
  const host = match[1] ?? (match[2] || '127.0.0.1');
  return { host, port };
}

/** Whether `host` is this machine only: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Refuses a non-loopback address without `--api-allow-remote`, and a remote API without a token. */
export function checkApiExposure(address: ApiAddress, isRemoteAllowed: boolean, token: string | undefined): void {
  if (isLoopback(address.host)) return;
  if (!isRemoteAllowed) {
    throw new UsageError(
      `--api ${address.host}:${address.port} is reachable from other machines, and whoever reaches it can pause and rescale the load`,
      'bind to 127.0.0.1 (the default), or add --api-allow-remote with --api-token (or RUNNER_API_TOKEN)',
    );
  }
  if (!token) throw new UsageError('--api-allow-remote needs a token', 'add --api-token TOKEN (or set RUNNER_API_TOKEN): requests must then send Authorization: Bearer TOKEN');
}
