/**
 * The bounded-input policy: every size, count and duration a user gives runner (a scenario file,
 * a flag) has a limit here, with the reason for it, and one message form when it is exceeded.
 * Validation (options.ts `checkResolvedLimits`, `checkCliOverrides`), the flag parsers
 * (commands/flags.ts) and the loader (load.ts) all read this table; the README's "Limits" table
 * lists the same rows (a unit test keeps the two in step). What a *server* sends is bounded in
 * runner/smtp (reply lines, reply length, EHLO capabilities) and listed in the same README table.
 *
 * A leaf: imports nothing, so any layer may use it.
 */

/** One limit: its largest allowed value, the unit it is counted in, and why it is there. */
export interface Limit {
  /** What it bounds, as the README names it. */
  readonly what: string;
  readonly max: number;
  /** 'VUs', 'bytes', 'ms', … (for messages). */
  readonly unit: string;
  /** Why this value: what would happen above it. */
  readonly why: string;
}

const MIB = 1024 * 1024;
const DAY_MS = 24 * 3_600_000;

/** Every limit on user input, by name. */
export const LIMITS = {
  vus: {
    what: 'VUs of a scenario (vus, maxVUs, preAllocatedVUs, startVUs, stage targets; --vus, --concurrent, --max-vus)',
    max: 50_000,
    unit: 'VUs',
    why: 'each VU holds a connection (about 10 KiB of memory, measured) and a local port; one source address has ~28,000 ephemeral ports toward a target',
  },
  iterations: {
    what: 'iterations (iterations, vus × iterations for per-vu-iterations, messagesPerConnection; --iterations, --num-emails, a warm-up in messages)',
    max: 1e15,
    unit: 'iterations',
    why: 'counts stay exact integers (below 2^53) in every figure',
  },
  messageSizeBytes: {
    what: 'message body size (smtp.messageSize, --message-size)',
    max: 64 * MIB,
    unit: 'bytes',
    why: 'the body is built in memory once per size (three copies while built); mail systems refuse far smaller messages (10–50 MB is usual)',
  },
  durationMs: {
    what: 'any duration (duration, maxDuration, stage durations, startTime, gracefulStop, timeouts, timeUnit, warm-up; --duration, --timeout, --warmup)',
    max: 7 * DAY_MS,
    unit: 'ms',
    why: 'Node timers fire at once beyond ~24.8 days (2^31 ms); a week bounds a run and its report',
  },
  ratePerSecond: {
    what: 'arrival rate (rate, startRate and stage targets of arrival-rate scenarios, per second after timeUnit; --rate)',
    max: 1_000_000,
    unit: 'iterations/s',
    why: 'far above what one process can open connections for; a typo of a few zeros should not plan a billion arrivals',
  },
  recipients: {
    what: 'recipients per message (smtp.to, --to)',
    max: 1000,
    unit: 'recipients',
    why: 'RFC 5321 §4.5.3.1.8 asks servers to take 100; a thousand covers any test',
  },
  scenarios: {
    what: 'scenarios in one file',
    max: 1000,
    unit: 'scenarios',
    why: 'each has its VUs, timers and series; a thousand is more than any report can show',
  },
  stages: {
    what: 'stages of one scenario',
    max: 10_000,
    unit: 'stages',
    why: 'planned once, interpolated on every tick',
  },
  scenarioFileBytes: {
    what: 'scenario file size (the file named on the command line)',
    max: 4 * MIB,
    unit: 'bytes',
    why: 'a 50 MB YAML file took 1.8 GB and a minute to parse; scenarios are kilobytes (large data belongs in an accounts file)',
  },
  resultsFileBytes: {
    what: 'results file size (compare, merge, report, report-html)',
    max: 64 * MIB,
    unit: 'bytes',
    why: 'a results file is a few MB (its timeline is compacted to a bounded number of points); /dev/urandom read as one took 17 s and 1.1 GB before failing',
  },
  yamlAliases: {
    what: 'YAML aliases (*name) in a scenario file',
    max: 100,
    unit: 'aliases',
    why: 'an alias bomb ("billion laughs") expands exponentially',
  },
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof LIMITS;

/** Formats a limit's value with its unit for messages: '50,000 VUs', '64 MiB', '7 days'. */
export function formatLimit(name: LimitName): string {
  const limit = LIMITS[name];
  if (limit.unit === 'bytes') return limit.max % MIB === 0 ? `${limit.max / MIB} MiB (${limit.max.toLocaleString('en-US')} bytes)` : `${limit.max.toLocaleString('en-US')} bytes`;
  if (limit.unit === 'ms') return limit.max % DAY_MS === 0 ? `${limit.max / DAY_MS} days` : `${limit.max / 1000} s`;
  return `${limit.max.toLocaleString('en-US')} ${limit.unit}`;
}

/**
 * The problem with `value` under limit `name`, or undefined when it is within it. Not-a-number
 * and infinite values are over every limit. `shown` is the value as the user wrote it.
 */
export function exceedsLimit(name: LimitName, value: number, shown: string | number = value): string | undefined {
  if (Number.isFinite(value) && value <= LIMITS[name].max) return undefined;
  return `must be at most ${formatLimit(name)} (got ${shown}): ${LIMITS[name].why}`;
}
