/**
 * Retries like an MTA (issue 16): which replies defer a message rather than fail it, how many
 * attempts it gets, and when each retry is due. Pure functions of the policy, the attempt number
 * and a random draw, tested by table; the queue that waits for the instants is retry-queue.ts.
 *
 * The backoff is Postfix's and every queue's: the n-th retry waits `initial × factor^(n-1)`,
 * capped at `max`. With jitter, the wait is drawn uniformly from [wait/2, wait] ("equal jitter"):
 * deferred messages of one burst spread out instead of coming back together (the burst that
 * made a per-account limit answer 451 would otherwise come back as one), and no retry comes
 * sooner than half its schedule.
 */

/** A retry policy, resolved: times in ms. */
export interface RetryPolicy {
  /** Reply codes that defer a message (451, 421, …); every 4xx when `isAny4xx`. */
  codes: ReadonlySet<number>;
  isAny4xx: boolean;
  /** Attempts a message gets in all, the first included (>= 1; 1 = no retry). */
  attempts: number;
  initialMs: number;
  maxMs: number;
  /** Growth of the wait from one retry to the next (>= 1). */
  factor: number;
  isJittered: boolean;
}

/** The defaults of `retry` (the issue's, an MTA's order of magnitude compressed for a test run). */
export const RETRY_DEFAULTS = { on: ['4xx'], attempts: 5, initial: '1s', max: '5m', factor: 2, jitter: true } as const;

/** Whether a reply `code` defers a message under `policy` (socket errors, without a code, never do). */
export function isDeferral(policy: RetryPolicy, code: number | undefined): boolean {
  if (code === undefined) return false;
  if (policy.isAny4xx) return code >= 400 && code < 500;
  return policy.codes.has(code);
}

/**
 * How long to wait, ms, before the attempt after failed attempt number `failedAttempt` (1 = the
 * first attempt failed); `random01` is a draw in [0, 1), used only with jitter.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random01: number): number {
  const exponent = Math.max(0, failedAttempt - 1);
  const unjittered = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  if (!policy.isJittered) return unjittered;
  return unjittered / 2 + (unjittered / 2) * random01;
}

/**
 * Parses the reply list of `on` (`['4xx']`, `['451', '421', 454]`) into a policy's codes; a
 * problem message per entry that is neither '4xx' nor a 4xx code (5xx is final in SMTP: RFC
 * 5321 §4.2.1, a client must not repeat the same request).
 */
export function parseRetryCodes(on: readonly (string | number)[], where: string, problems: string[]): { codes: Set<number>; isAny4xx: boolean } {
  const codes = new Set<number>();
  let isAny4xx = false;
  on.forEach((entry, index) => {
    const text = String(entry).trim().toLowerCase();
    if (text === '4xx') {
      isAny4xx = true;
      return;
    }
    const code = Number(text);
    if (!/^\d{3}$/.test(text) || code < 400 || code > 499) {
      problems.push(`${where}[${index}]: '${entry}' is not a transient reply: give '4xx' or 4xx codes such as '451', '421', '454' (5xx replies are final, RFC 5321 §4.2.1)`);
      return;
    }
    codes.add(code);
  });
  return { codes, isAny4xx };
}

/**
 * `--retry 451,421:5` (codes, then attempts in all; `--retry 4xx` or `--retry 4xx:3` too): the
 * codes and attempts, or a problem. The backoff keeps its defaults.
 */
export function parseRetryFlag(text: string, problems: string[]): { on: string[]; attempts: number } | undefined {
  const match = /^([^:]+)(?::(\d+))?$/.exec(text.trim());
  const hint = `write --retry <codes>[:<attempts>], e.g. --retry 451,421:5 or --retry 4xx (attempts in all, first included, default ${RETRY_DEFAULTS.attempts})`;
  if (match === null) {
    problems.push(`--retry '${text}': ${hint}`);
    return undefined;
  }
  const on = match[1]!.split(',').map((code) => code.trim()).filter((code) => code !== '');
  const attempts = match[2] === undefined ? RETRY_DEFAULTS.attempts : Number(match[2]);
  const before = problems.length;
  parseRetryCodes(on, '--retry', problems);
  if (on.length === 0) problems.push(`--retry '${text}': no reply code; ${hint}`);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > MAX_RETRY_ATTEMPTS) problems.push(`--retry '${text}': attempts must be 1..${MAX_RETRY_ATTEMPTS}; ${hint}`);
  return problems.length === before ? { on, attempts } : undefined;
}

/** Most attempts a message may get (bounded input: a queue of retries per message stays small). */
export const MAX_RETRY_ATTEMPTS = 100;
