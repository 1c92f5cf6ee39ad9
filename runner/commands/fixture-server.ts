/**
 * `runner fixture`: the built-in fake XOAUTH2 proxy as a standalone process, for trying runner
 * without a real proxy and for `runner run --with-fixture` (which starts it on free ports and
 * reads the `--json` ready line).
 */
import { startFakeProxy, parseDelayFlag, parseFailureFlag, parseStallFlag, type FakeProxyOptions } from '../../fixtures/fake-proxy.ts';

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
  json?: boolean;
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
  };
  const proxy = await startFakeProxy(options);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ port: proxy.port, adminPort: proxy.adminPort, caFile: proxy.caFile }) + '\n');
  } else {
    process.stdout.write(
      `fake XOAUTH2 proxy: SMTP on ${proxy.host}:${proxy.port}, admin on http://${proxy.host}:${proxy.adminPort}` +
        ` (GET /health, /admin/accounts, /__stats)` +
        (proxy.caFile === undefined ? '' : `; TLS: ${flags.tls}, self-signed certificate: trust it with --tls-ca ${proxy.caFile}`) +
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
