/**
 * Every default in one place. `--help`, the JSON schema's `default`s and the resolver all
 * read from here.
 */
export const DEFAULTS = {
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
  ehloName: 'runner.localhost',
  /** Bytes of generated body. */
  messageSize: 1024,
  messagesPerConnection: 1,
  rsetBetweenMessages: true,
  /** Per-phase reply timeout. */
  timeout: '30s',
  /** Guide's defaults for `runner run` without a scenario file. */
  numEmails: 100,
  concurrent: 10,
  vus: 1,
  iterations: 1,
  maxDuration: '10m',
  startTime: '0s',
  gracefulStop: '30s',
  gracefulRampDown: '30s',
  timeUnit: '1s',
  /** Arrival-rate executors: longest wait for a free VU (see ConstantArrivalRateConfig.maxQueueWait). */
  maxQueueWait: '30s',
  startVUs: 1,
  startRate: 0,
  accountsPick: 'round-robin',
} as const;
