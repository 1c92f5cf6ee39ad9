/**
 * The REST API's address (`--api HOST:PORT`, k6's flag and default) and its safety rule: it binds
 * to a loopback address unless `--api-allow-remote` says otherwise (listen-address.ts, the
 * rule --dashboard and --metrics-host share), since whoever reaches it can pause, resume and
 * rescale the load; a remote API also needs a token.
 */
import { UsageError } from '../errors.ts';
import { checkExposure, isLoopback, parseListenAddress, type ListenAddress } from '../listen-address.ts';

export { isLoopback };

/** k6's default address for its REST API. */
export const DEFAULT_API_ADDRESS = '127.0.0.1:6565';

/** Where the API listens (or is called). */
export type ApiAddress = ListenAddress;

/** Parses `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (host: 127.0.0.1); `flag` names it in the error. */
export function parseApiAddress(text: string, flag = '--api', example = `${DEFAULT_API_ADDRESS} (k6's default)`): ApiAddress {
  return parseListenAddress(text, flag, example);
}

/** Refuses a non-loopback address without `--api-allow-remote`, and a remote API without a token. */
export function checkApiExposure(address: ApiAddress, isRemoteAllowed: boolean, token: string | undefined): void {
  checkExposure(address, isRemoteAllowed, { flag: '--api', allowFlag: '--api-allow-remote with --api-token (or RUNNER_API_TOKEN)', risk: 'pause and rescale the load' });
  if (isLoopback(address.host)) return;
  if (!token) throw new UsageError('--api-allow-remote needs a token', 'add --api-token TOKEN (or set RUNNER_API_TOKEN): requests must then send Authorization: Bearer TOKEN');
}
