/**
 * `runner fixture`: the built-in fake XOAUTH2 proxy as a standalone process, for trying runner
 * without a real proxy and for `runner run --with-fixture` (which starts it on free ports and
 * reads the `--json` ready line).
 */
import { startFakeProxy, parseDelayFlag, parseFailureFlag, parseStallFlag, type FakeProxyOptions } from '../../fixtures/fake-proxy.ts';

/** Starts the fake proxy from CLI flags and keeps it running until SIGINT/SIGTERM. */
export async function runFixtureCommand(flags: Record<string, any>): Promise<void> {
  const options: FakeProxyOptions = {
    host: flags['host'],
    port: flags['port'],
    adminPort: flags['adminPort'],
    accounts: flags['accounts'],
    unknownAccountCode: Number(flags['unknownAccountCode']) as 535 | 454,
    delays: Object.fromEntries((flags['delay'] ?? []).map((spec: string) => parseDelayFlag(spec))),
    failures: (flags['failure'] ?? []).map((spec: string) => parseFailureFlag(spec)),
    firstAuthDelayMs: flags['firstAuthDelay'],
    maxClients: flags['maxClients'],
    maxInFlightPerAccount: flags['maxInFlightPerAccount'],
    maxConcurrentMessages: flags['maxConcurrentMessages'],
    seed: flags['seed'],
    stalls: (flags['stall'] ?? []).map((spec: string) => parseStallFlag(spec)),
    tls: flags['tls'],
  };
  const proxy = await startFakeProxy(options);
  if (flags['json']) {
    process.stdout.write(JSON.stringify({ port: proxy.port, adminPort: proxy.adminPort, caFile: proxy.caFile }) + '\n');
  } else {
    process.stdout.write(
      `fake XOAUTH2 proxy: SMTP on ${proxy.host}:${proxy.port}, admin on http://${proxy.host}:${proxy.adminPort}` +
        ` (GET /health, /admin/accounts, /__stats)` +
        (proxy.caFile === undefined ? '' : `; TLS: ${flags['tls']}, self-signed certificate: trust it with --tls-ca ${proxy.caFile}`) +
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
