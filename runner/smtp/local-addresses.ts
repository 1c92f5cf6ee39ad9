/**
 * Source addresses (`--local-ips`, `target.localIps`): the local IP each new connection binds to,
 * in k6's syntax (`--local-ips 192.168.0.10-192.168.0.25,10.0.0.0/30,fd00::1`): a comma-separated
 * list of addresses, ranges `first-last` and CIDR blocks `address/prefix`, IPv4 or IPv6. A proxy
 * that limits connections or messages per client IP sees the load spread over them: each new
 * connection takes the next address, round robin across every VU of the scenario (addressPool).
 */
import { BlockList, createServer, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Most addresses a list may expand to (each keeps its own figures and histogram, ~40 KB): a larger one is refused, not truncated. */
export const MAX_LOCAL_ADDRESSES = 1024;

/** Parsed `--local-ips`: the addresses in order, or the problems (each names the item and what to write instead). */
export interface LocalAddressList {
  addresses: string[];
  problems: string[];
}

/** Expands a k6-style list of addresses, ranges and CIDR blocks; duplicates are kept once. Pure. */
export function parseLocalIps(spec: string | readonly string[]): LocalAddressList {
  const items = (typeof spec === 'string' ? [spec] : spec).flatMap((part) => part.split(',')).map((item) => item.trim()).filter((item) => item !== '');
  const problems: string[] = [];
  const seen = new Set<string>();
  const addresses: string[] = [];
  if (items.length === 0) problems.push('no address given: e.g. 127.0.0.2-127.0.0.9,::1');
  for (const item of items) {
    const range = rangeOf(item);
    if (typeof range === 'string') {
      problems.push(`'${item}': ${range}`);
      continue;
    }
    const count = range.last - range.first + 1n;
    if (BigInt(addresses.length) + count > BigInt(MAX_LOCAL_ADDRESSES)) {
      problems.push(`'${item}': the list would hold more than ${MAX_LOCAL_ADDRESSES.toLocaleString('en-US')} addresses; give a smaller range or CIDR block`);
      break;
    }
    for (let value = range.first; value <= range.last; value++) {
      const address = formatAddress(value, range.family);
      if (seen.has(address)) continue;
      seen.add(address);
      addresses.push(address);
    }
  }
  return { addresses, problems };
}

interface AddressRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

/** One item as a range of integers, or why it is not one. */
function rangeOf(item: string): AddressRange | string {
  const slash = item.indexOf('/');
  if (slash >= 0) {
    const base = item.slice(0, slash);
    const family = isIP(base) as 0 | 4 | 6;
    const prefix = Number(item.slice(slash + 1));
    if (family === 0) return `'${base}' is not an IP address (CIDR is address/prefix, e.g. 127.0.0.0/29)`;
    const bits = family === 4 ? 32 : 128;
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || !/^\d+$/.test(item.slice(slash + 1))) return `the prefix must be a whole number from 0 to ${bits}`;
    const hostBits = BigInt(bits - prefix);
    const first = (parseAddress(base, family) >> hostBits) << hostBits;
    return { family, first, last: first + (1n << hostBits) - 1n };
  }
  // An IPv6 address has no '-', so the first '-' separates a range
  const dash = item.indexOf('-');
  if (dash >= 0) {
    const from = item.slice(0, dash).trim();
    const to = item.slice(dash + 1).trim();
    const family = isIP(from) as 0 | 4 | 6;
    if (family === 0 || isIP(to) !== family) return 'a range is first-last, two addresses of the same family, e.g. 127.0.0.2-127.0.0.9';
    const first = parseAddress(from, family);
    const last = parseAddress(to, family);
    if (last < first) return `the range ends before it starts: write ${to}-${from}`;
    return { family, first, last };
  }
  const family = isIP(item) as 0 | 4 | 6;
  if (family === 0) return 'not an IP address, a range (first-last) or a CIDR block (address/prefix)';
  const value = parseAddress(item, family);
  return { family, first: value, last: value };
}

/** An address as an integer (IPv4: 32 bits, IPv6: 128 bits; an embedded IPv4 tail is read too). */
function parseAddress(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
  let text = address.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const tail = parseAddress(v4[1]!, 4);
    text = `${text.slice(0, -v4[1]!.length)}${(tail >> 16n).toString(16)}:${(tail & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An integer back to the address's usual text (IPv6 compressed by net.SocketAddress's rules). */
function formatAddress(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes '::'
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestAt = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestAt < 0) return groups.join(':');
  return `${groups.slice(0, bestAt).join(':')}::${groups.slice(bestAt + bestLength).join(':')}`;
}

/**
 * The addresses of `addresses` this machine cannot bind to, each with why. An address an
 * interface lists is local; so, on Linux, is all of 127.0.0.0/8, which the loopback interface
 * answers for though os.networkInterfaces() lists only 127.0.0.1 (any other address is tried with
 * a bind, which is what a connection would do).
 */
export async function findNonLocalAddresses(addresses: readonly string[]): Promise<string[]> {
  const listed = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) listed.add(entry.address.split('%')[0]!);
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  const missing: string[] = [];
  for (const address of addresses) {
    if (listed.has(address)) continue;
    if (process.platform === 'linux' && isIP(address) === 4 && loopback.check(address, 'ipv4')) continue;
    const code = await bindError(address);
    if (code !== undefined) missing.push(`${address} (${code})`);
  }
  return missing;
}

/** Binding a TCP socket to `address` (port 0), as a connection from it would: undefined when it can, else the error code. */
function bindError(address: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'ERROR'));
    server.listen(0, address, () => server.close(() => resolve(undefined)));
  });
}

/** A round-robin cursor over source addresses, shared by every session given the same list. */
export interface AddressPool {
  /** The next address; each call moves on by one. */
  next(): string;
}

const pools = new WeakMap<readonly string[], AddressPool>();

/**
 * The pool of a list: one per list object, so every VU of a scenario (which share its resolved
 * list) takes turns on one cursor and the addresses are used evenly per connection.
 */
export function addressPool(addresses: readonly string[]): AddressPool {
  let pool = pools.get(addresses);
  if (pool === undefined) {
    let index = 0;
    pool = {
      next: () => {
        const address = addresses[index]!;
        index = index + 1 === addresses.length ? 0 : index + 1;
        return address;
      },
    };
    pools.set(addresses, pool);
  }
  return pool;
}
