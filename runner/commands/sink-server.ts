/**
 * `runner sink`: the fake upstream provider as a standalone process (fixtures/sink.ts), for a
 * proxy (the real one or `runner fixture --relay-to`) to relay to, and for delivery tracking.
 */
import { readFileSync } from 'node:fs';
import { InvalidOptionsError } from '../errors.ts';
import { parseDelayFlag, parseFailureFlag } from '../../fixtures/fake-proxy.ts';
import { parseDelaySpec, checkDelaySpec, type DelaySpec } from '../../fixtures/delays.ts';
import { startSink, type SinkOptions } from '../../fixtures/sink.ts';
import { parseTokenFailureFlag } from '../../fixtures/token-endpoint.ts';

/** What commander parses for `runner sink` (commands/sink.ts declares the flags). */
export interface SinkFlags {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  cert?: string;
  key?: string;
  adminPort: number;
  tokenPort?: number;
  accounts?: string;
  acceptAnyToken?: boolean;
  delay?: string[];
  failure?: string[];
  deliveredFailure?: string[];
  duplicate?: number;
  rateLimit?: number;
  dailyQuota?: number;
  maxConnections?: number;
  maxSize?: number;
  tokenDelay?: string;
  tokenFailure?: string[];
  tokenLifetime: number;
  seed?: number;
  json?: boolean;
}

/** Reads a PEM file for --cert/--key, with a clear error. */
function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidOptionsError([`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`], 'give a PEM file, or leave out --cert and --key for a self-signed certificate');
  }
}

/** Builds SinkOptions from the flags (every mistake reported as InvalidOptionsError). */
export function sinkOptionsFromFlags(flags: SinkFlags): SinkOptions {
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new InvalidOptionsError(['--cert and --key go together'], 'give both, or neither for a self-signed certificate');
  let tokenLatency: DelaySpec | undefined;
  if (flags.tokenDelay !== undefined) {
    const spec = parseDelaySpec(flags.tokenDelay);
    const problems = spec === undefined ? [`--token-delay ${flags.tokenDelay}: not a delay`] : checkDelaySpec(spec, '--token-delay');
    if (problems.length > 0) throw new InvalidOptionsError(problems, 'write e.g. --token-delay 200, uniform:100-300 or lognormal:150,0.5 (milliseconds)');
    tokenLatency = spec!;
  }
  return {
    host: flags.host,
    port: flags.port,
    adminPort: flags.adminPort,
    tokenPort: flags.tokenPort ?? null,
    tls: flags.tls,
    ...(flags.cert === undefined ? {} : { cert: readPem(flags.cert, '--cert'), key: readPem(flags.key!, '--key') }),
    accounts: flags.accounts,
    acceptAnyToken: flags.acceptAnyToken,
    delays: Object.fromEntries((flags.delay ?? []).map((spec) => parseDelayFlag(spec))),
    failures: (flags.failure ?? []).map((spec) => parseFailureFlag(spec)),
    deliveredFailures: (flags.deliveredFailure ?? []).map((spec) => parseFailureFlag(spec)),
    duplicateProbability: flags.duplicate,
    ratePerMinutePerAccount: flags.rateLimit,
    dailyQuotaPerAccount: flags.dailyQuota,
    maxConnections: flags.maxConnections,
    maxMessageBytes: flags.maxSize,
    token: { latency: tokenLatency, failures: (flags.tokenFailure ?? []).map((spec) => parseTokenFailureFlag(spec)), lifetimeSeconds: flags.tokenLifetime },
    seed: flags.seed,
  };
}

/** Starts the sink from CLI flags and keeps it running until SIGINT/SIGTERM. */
export async function runSinkCommand(flags: SinkFlags): Promise<void> {
  const sink = await startSink(sinkOptionsFromFlags(flags));
  if (flags.json) {
    const ready = { smtpPort: sink.smtpPort, adminPort: sink.adminPort, tokenPort: sink.tokenPort, tokenUrl: sink.tokenUrl, microsoftTokenUrl: sink.microsoftTokenUrl, caFile: sink.caFile, seed: sink.seed };
    process.stdout.write(JSON.stringify(ready) + '\n');
  } else {
    const lines = [
      `sink: SMTP on ${sink.host}:${sink.smtpPort} (TLS: ${flags.tls}), admin on http://${sink.host}:${sink.adminPort} (GET /health, /__stats, /__deliveries?after=&wait_ms=)`,
      sink.tokenUrl === undefined ? undefined : `token endpoint: ${sink.tokenUrl} (Google shape), ${sink.microsoftTokenUrl} (Microsoft shape)`,
      sink.caFile === undefined ? undefined : `self-signed certificate for localhost/127.0.0.1: trust ${sink.caFile} as CA (e.g. runner fixture --relay-ca ${sink.caFile}, NODE_EXTRA_CA_CERTS=${sink.caFile})`,
      `seed ${sink.seed}; Ctrl+C to stop`,
    ];
    process.stdout.write(lines.filter((line) => line !== undefined).join('\n') + '\n');
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
  await sink.close();
}
