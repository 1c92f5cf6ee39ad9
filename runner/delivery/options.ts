/**
 * The `delivery` option: where runner learns what actually arrived upstream, and how long a
 * message may take. As written in a scenario file (DeliveryOptions), from `--delivery sink=URL`
 * and `--delivery-timeout`, and resolved (ResolvedDelivery). Checked here, every problem at once,
 * each with its path and what to do.
 */
import { parseDurationMs } from '../scenario/duration.ts';
import { DEFAULT_DELIVERY_TIMEOUT_MS } from './tracker.ts';

/** A real mailbox polled over IMAP for the run's trace ids. */
export interface ImapDeliveryOptions {
  host: string;
  /** @default 993 with tls, else 143 */
  port?: number;
  /** Implicit TLS (IMAPS). @default true */
  tls?: boolean;
  /** Accept a certificate that does not verify (a test server's). @default false */
  insecureSkipTlsVerify?: boolean;
  user: string;
  /** LOGIN password (give this or accessToken). */
  password?: string;
  /** OAuth2 access token: AUTHENTICATE XOAUTH2 (Gmail, Outlook). */
  accessToken?: string;
  /** @default 'INBOX' */
  mailbox?: string;
  /** Delete the messages found (the run's own test messages). @default false */
  deleteFound?: boolean;
  /** How often the mailbox is searched. @default '2s' */
  pollInterval?: string | number;
}

/** `delivery` in a scenario file: one source, and the timeout. */
export interface DeliveryOptions {
  /** Admin URL of a `runner sink` (http://HOST:ADMIN_PORT): its /__deliveries long poll. */
  sink?: string;
  imap?: ImapDeliveryOptions;
  /** How long after its 250 a message may take to arrive before it counts as lost. @default '60s' */
  timeout?: string | number;
}

/** The delivery source, resolved. */
export type ResolvedDeliverySource =
  | { kind: 'sink'; url: string }
  | { kind: 'imap'; host: string; port: number; tls: boolean; isTlsVerified: boolean; user: string; password: string | undefined; accessToken: string | undefined; mailbox: string; deleteFound: boolean; pollIntervalMs: number };

export interface ResolvedDelivery {
  source: ResolvedDeliverySource;
  timeoutMs: number;
}

/** What the CLI gives: `--delivery sink=URL`, `--delivery-timeout 30s`. */
export interface DeliveryCliOverrides {
  delivery?: string;
  deliveryTimeout?: string;
}

const DEFAULT_IMAP_POLL_MS = 2000;

/**
 * Resolves `delivery` (the file's, with the CLI's on top); problems are pushed as `path: message`.
 * Undefined when no delivery tracking is asked.
 */
export function resolveDelivery(file: DeliveryOptions | undefined, cli: DeliveryCliOverrides, problems: string[]): ResolvedDelivery | undefined {
  const merged: DeliveryOptions = { ...file };
  if (cli.delivery !== undefined) {
    const match = /^sink=(.+)$/.exec(cli.delivery.trim());
    if (!match) {
      problems.push(`--delivery: '${cli.delivery}' is not a delivery source: use --delivery sink=http://HOST:ADMIN_PORT (a runner sink's admin URL), or --with-sink`);
      return undefined;
    }
    merged.sink = match[1];
    delete merged.imap;
  }
  if (cli.deliveryTimeout !== undefined) merged.timeout = cli.deliveryTimeout;
  if (merged.sink === undefined && merged.imap === undefined) {
    if (file !== undefined || cli.deliveryTimeout !== undefined) {
      const where = cli.deliveryTimeout !== undefined && file === undefined ? '--delivery-timeout' : 'delivery';
      problems.push(`${where}: no delivery source: give delivery.sink (a runner sink's admin URL) or delivery.imap, or --delivery sink=URL / --with-sink`);
    }
    return undefined;
  }
  const where = cli.delivery !== undefined ? '--delivery' : 'delivery';
  const before = problems.length;
  let timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS;
  if (merged.timeout !== undefined) {
    const path = cli.deliveryTimeout !== undefined ? '--delivery-timeout' : 'delivery.timeout';
    try {
      timeoutMs = parseDurationMs(merged.timeout);
      if (!(timeoutMs > 0)) problems.push(`${path}: must be > 0: use e.g. '60s'`);
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
    }
  }
  if (merged.sink !== undefined && merged.imap !== undefined) {
    problems.push('delivery: give one source, sink or imap, not both');
    return undefined;
  }
  if (merged.sink !== undefined) {
    const url = checkSinkUrl(merged.sink, cli.delivery !== undefined ? '--delivery sink' : 'delivery.sink', problems);
    return url === undefined || problems.length > before ? undefined : { source: { kind: 'sink', url }, timeoutMs };
  }
  const imap = resolveImap(merged.imap!, `${where}.imap`, problems);
  return imap === undefined || problems.length > before ? undefined : { source: imap, timeoutMs };
}

/** An http(s) URL without a trailing slash, or undefined (problem pushed). */
function checkSinkUrl(value: unknown, path: string, problems: string[]): string | undefined {
  let url: URL | undefined;
  try {
    if (typeof value === 'string') url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    problems.push(`${path}: ${JSON.stringify(value)} is not an http URL: give the sink's admin URL, e.g. http://127.0.0.1:8025 (runner sink prints it)`);
    return undefined;
  }
  return url.href.replace(/\/+$/, '');
}

function resolveImap(imap: ImapDeliveryOptions, path: string, problems: string[]): ResolvedDeliverySource | undefined {
  const before = problems.length;
  if (typeof imap.host !== 'string' || imap.host === '') problems.push(`${path}.host: give the IMAP server's host name`);
  if (typeof imap.user !== 'string' || imap.user === '') problems.push(`${path}.user: give the mailbox's user name`);
  const hasPassword = typeof imap.password === 'string' && imap.password !== '';
  const hasToken = typeof imap.accessToken === 'string' && imap.accessToken !== '';
  if (hasPassword === hasToken) problems.push(`${path}: give either password or accessToken (XOAUTH2), ${hasPassword ? 'not both' : 'one of them'}`);
  const tls = imap.tls ?? true;
  const port = imap.port ?? (tls ? 993 : 143);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`${path}.port: ${port} is out of range 1-65535`);
  let pollIntervalMs = DEFAULT_IMAP_POLL_MS;
  if (imap.pollInterval !== undefined) {
    try {
      pollIntervalMs = parseDurationMs(imap.pollInterval);
      if (!(pollIntervalMs >= 100)) problems.push(`${path}.pollInterval: must be at least 100ms`);
    } catch (error) {
      problems.push(`${path}.pollInterval: ${(error as Error).message}`);
    }
  }
  if (problems.length > before) return undefined;
  return {
    kind: 'imap',
    host: imap.host,
    port,
    tls,
    isTlsVerified: !(imap.insecureSkipTlsVerify ?? false),
    user: imap.user,
    password: hasPassword ? imap.password : undefined,
    accessToken: hasToken ? imap.accessToken : undefined,
    mailbox: imap.mailbox ?? 'INBOX',
    deleteFound: imap.deleteFound ?? false,
    pollIntervalMs,
  };
}

/** What the results file's config says of the source (no secrets). */
export function describeDeliverySource(delivery: ResolvedDelivery): Record<string, unknown> {
  const { source } = delivery;
  const base = { timeout_ms: delivery.timeoutMs };
  if (source.kind === 'sink') return { source: 'sink', url: source.url, ...base };
  return { source: 'imap', host: source.host, port: source.port, user: source.user, mailbox: source.mailbox, ...base };
}
