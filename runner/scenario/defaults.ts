/**
 * Every default in one table. `--help`, the JSON schema's `default`s and the resolver all
 * read from here. The options every scenario shares have theirs below; each executor's own
 * options have theirs in its module (runner/executors/<name>.ts), merged in.
 */
import { executorDefaults } from '../executors/index.ts';

const SHARED_DEFAULTS = {
  host: '127.0.0.1',
  port: 2525,
  adminUrl: 'http://127.0.0.1:9090',
  from: 'test@example.com',
  to: 'recipient@outlook.com',
  auth: 'plain',
  password: 'placeholder',
  token: '',
  tls: 'none',
  insecureSkipTlsVerify: false,
  tlsResumption: false,
  protocol: 'smtp',
  ehloName: 'runner.localhost',
  /** Bytes of generated body. */
  messageSize: 1024,
  messagesPerConnection: 1,
  rsetBetweenMessages: true,
  pipelining: 'auto',
  chunking: false,
  /** Bytes per BDAT chunk; 0: one chunk. */
  chunkSize: 0,
  /** Per-phase reply timeout. */
  timeout: '30s',
  /** Guide's defaults for `runner run` without a scenario file. */
  numEmails: 100,
  concurrent: 10,
  startTime: '0s',
  gracefulStop: '30s',
  /** Longest setup() / teardown() may take (k6's defaults). */
  setupTimeout: '60s',
  teardownTimeout: '60s',
  accountsPick: 'round-robin',
} as const;

/** The shared defaults, typed, and every executor's (e.g. `DEFAULTS.maxQueueWait`). */
export const DEFAULTS: typeof SHARED_DEFAULTS & Readonly<Record<string, string | number | boolean>> = { ...executorDefaults(), ...SHARED_DEFAULTS };
