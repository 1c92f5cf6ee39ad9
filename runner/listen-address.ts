/**
 * Where runner's own HTTP endpoints listen (`--api`, `--dashboard`, `--metrics-host`) and the one
 * exposure rule they share: a loopback address unless the user says otherwise with the
 * endpoint's own `--…-allow-remote` flag, since whoever reaches an endpoint can read (or, for the
 * API, steer) the run.
 */
import { BlockList, isIP } from 'node:net';
import { UsageError } from './errors.ts';

/** A host and TCP port to listen on (or call). */
export interface ListenAddress {
  host: string;
  port: number;
}

/** The host `PORT` and `:PORT` mean: this machine only. */
export const LOOPBACK_HOST = '127.0.0.1';

/** An IPv6 address as a URL writes it ('[::1]', RFC 3986 §3.2.2) is the address ('::1'); anything else as given. */
export function unbracketHost(host: string): string {
  const inner = /^\[(.*)\]$/.exec(host)?.[1];
  return inner !== undefined && isIP(inner) === 6 ? inner : host;
}

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (host: 127.0.0.1); the port is 0 to 65535
 * (0: any free one). `flag` and `example` name the flag in the error.
 */
export function parseListenAddress(text: string, flag: string, example: string): ListenAddress {
  const trimmed = text.trim();
  // The host part, when given, ends with ':'; an IPv6 host needs its brackets (`::1:80` is ambiguous).
  const match = /^(?:(?:\[([^\]\s]+)\]|([^:\s[\]]*)):)?(\d{1,5})$/.exec(trimmed);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    const why = /^\d+$/.test(trimmed) ? `: ports go from 0 to 65535` : trimmed.includes('::') && !trimmed.startsWith('[') ? ': put an IPv6 address in brackets, e.g. [::1]:5665' : '';
    throw new UsageError(`${flag} '${text}' is not [HOST:]PORT${why}`, `e.g. ${flag} ${example}, or ${flag} 127.0.0.1:0 for any free port`);
  }
  const host = match[1] ?? (match[2] || LOOPBACK_HOST);
  return { host, port };
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// 127.0.0.0/8 written as an IPv4-mapped IPv6 address (::ffff:127.0.0.1)
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether `host` is this machine only: 127.0.0.0/8, ::1 (in any spelling) or localhost. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIP(host);
  if (family === 4) return LOOPBACK.check(host, 'ipv4');
  if (family === 6) return LOOPBACK.check(host, 'ipv6');
  return false;
}

/** An endpoint that may listen beyond this machine only when told. */
export interface Exposure {
  /** The flag that names the address, as the user typed it: '--dashboard'. */
  flag: string;
  /** The flag that allows a non-loopback address: '--dashboard-allow-remote'. */
  allowFlag: string;
  /** What whoever reaches it can do: 'read the run's figures'. */
  risk: string;
  /** The flag names the host alone (--metrics-host): the error shows the host, not host:port. */
  isHostOnly?: boolean;
}

/**
 * Refuses a non-loopback address unless `isRemoteAllowed`; the error says what is exposed and
 * how to allow it. Hostnames other than localhost count as remote: they may resolve anywhere.
 */
export function checkExposure(address: ListenAddress, isRemoteAllowed: boolean, exposure: Exposure): void {
  if (isRemoteAllowed || isLoopback(address.host)) return;
  const shown = exposure.isHostOnly ? address.host : `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  throw new UsageError(
    `${exposure.flag} ${shown} ${isIP(address.host) === 0 ? 'may be reachable from other machines (a name other than localhost may resolve to any address)' : 'is reachable from other machines'}, and whoever reaches it can ${exposure.risk}`,
    `listen on ${LOOPBACK_HOST} (the default), or add ${exposure.allowFlag} to mean it`,
  );
}

/** One of runner's own endpoints, named by its flag, where it will listen. */
export interface NamedListenAddress extends ListenAddress {
  flag: string;
}

const ANY_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * Refuses two of runner's endpoints on one port (0, any free port, excepted): the second would
 * fail with "already in use" and blame another program. Hosts that differ do not clash, unless
 * one is every interface (0.0.0.0, ::).
 */
export function checkDistinctPorts(endpoints: ReadonlyArray<NamedListenAddress | undefined>): void {
  const given = endpoints.filter((endpoint): endpoint is NamedListenAddress => endpoint !== undefined && endpoint.port !== 0);
  for (const [index, first] of given.entries()) {
    for (const second of given.slice(index + 1)) {
      const isSameHost = first.host === second.host || ANY_HOSTS.has(first.host) || ANY_HOSTS.has(second.host);
      if (first.port === second.port && isSameHost) {
        const other = first.port === 65535 ? 0 : first.port + 1;
        const example = second.flag.startsWith('--out prometheus=') ? `--out prometheus=${other}` : second.flag === '--metrics-port' ? `--metrics-port ${other}` : `${second.flag} 127.0.0.1:${other}`;
        throw new UsageError(`${first.flag} and ${second.flag} both ask for port ${first.port}`, `give each its own port, e.g. ${example} (0: any free port)`);
      }
    }
  }
}
