/**
 * `runner fixture`: the built-in fake XOAUTH2 proxy as a standalone process, for trying runner
 * without a real proxy and for `runner run --with-fixture` (which starts it on free ports and
 * reads the `--json` ready line).
 */
import { readFileSync } from 'node:fs';
import { InvalidOptionsError } from '../errors.ts';
import { startFakeProxy, parseDelayFlag, parseFailureFlag, parseStallFlag, type FakeProxyOptions, type RelayOptions } from '../../fixtures/fake-proxy.ts';

/** What commander parses for `runner fixture` (commands/fixture.ts declares the flags). */
export interface FixtureFlags {
  host: string;
  port: number;
  adminPort: number;
  accounts?: string;
  unknownAccountCode: '535' | '454';
  delay?: string[];
  failure?: string[];
  firstAuthDelay?: number;
  maxClients?: number;
  maxInFlightPerAccount?: number;
  maxConcurrentMessages?: number;
  seed?: number;
  stall?: string[];
  tls: 'none' | 'starttls' | 'implicit';
  relayTo?: string;
  relayTls: 'none' | 'starttls' | 'implicit';
  relayCa?: string;
  relayMode: 'after-250' | 'before-250';
  relayTokenUrl?: string;
  json?: boolean;
}

const RELAY_HINT = 'e.g. --relay-to 127.0.0.1:2587 --relay-ca /tmp/runner-tls-…/cert.pem (runner sink prints its port and CA file)';

/** The relay options of the flags, or undefined without --relay-to; mistakes as InvalidOptionsError. */
export function relayOptionsFromFlags(flags: FixtureFlags): RelayOptions | undefined {
  const relayOnly = (['relayCa', 'relayTokenUrl'] as const).filter((key) => flags[key] !== undefined);
  if (flags.relayTo === undefined) {
    if (relayOnly.length > 0) throw new InvalidOptionsError([`--${relayOnly[0] === 'relayCa' ? 'relay-ca' : 'relay-token-url'} needs --relay-to`], RELAY_HINT);
    return undefined;
  }
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(flags.relayTo.trim());
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535) throw new InvalidOptionsError([`--relay-to ${flags.relayTo}: expected HOST:PORT`], RELAY_HINT);
  let ca: string | undefined;
  if (flags.relayCa !== undefined) {
    try {
      ca = readFileSync(flags.relayCa, 'utf8');
    } catch (error) {
      throw new InvalidOptionsError([`--relay-ca ${flags.relayCa}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`], RELAY_HINT);
    }
  }
  return { host: match[1]!, port: Number(match[2]), tls: flags.relayTls, ca, mode: flags.relayMode, tokenUrl: flags.relayTokenUrl };
}

/** Starts the fake proxy from CLI flags and keeps it running until SIGINT/SIGTERM. */
export async function runFixtureCommand(flags: FixtureFlags): Promise<void> {
  const options: FakeProxyOptions = {
    host: flags.host,
    port: flags.port,
    adminPort: flags.adminPort,
    accounts: flags.accounts,
    unknownAccountCode: Number(flags.unknownAccountCode) as 535 | 454,
    delays: Object.fromEntries((flags.delay ?? []).map((spec) => parseDelayFlag(spec))),
    failures: (flags.failure ?? []).map((spec) => parseFailureFlag(spec)),
    firstAuthDelayMs: flags.firstAuthDelay,
    maxClients: flags.maxClients,
    maxInFlightPerAccount: flags.maxInFlightPerAccount,
    maxConcurrentMessages: flags.maxConcurrentMessages,
    seed: flags.seed,
    stalls: (flags.stall ?? []).map((spec) => parseStallFlag(spec)),
    tls: flags.tls,
    relay: relayOptionsFromFlags(flags),
    // The real proxy logs a relay failure and drops the message; so does this one, on stderr
    onRelayFailure: (event) =>
      process.stderr.write(`relay failed for ${event.account} at ${event.phase}: ${event.code ?? ''} ${event.text}${event.isDropped ? ' (message dropped)' : ' (passed back)'}\n`),
  };
  const proxy = await startFakeProxy(options);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ port: proxy.port, adminPort: proxy.adminPort, caFile: proxy.caFile }) + '\n');
  } else {
    process.stdout.write(
      `fake XOAUTH2 proxy: SMTP on ${proxy.host}:${proxy.port}, admin on http://${proxy.host}:${proxy.adminPort}` +
        ` (GET /health, /admin/accounts, /__stats)` +
        (proxy.caFile === undefined ? '' : `; TLS: ${flags.tls}, self-signed certificate: trust it with --tls-ca ${proxy.caFile}`) +
        (options.relay === undefined ? '' : `; relaying to ${options.relay.host}:${options.relay.port} (${options.relay.tls}, ${options.relay.mode})`) +
        '; Ctrl+C to stop\n',
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await proxy.close();
}
