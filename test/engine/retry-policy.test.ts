/** Retries like an MTA: the backoff schedule, which replies defer, and --retry, by table (no timers). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isDeferral, parseRetryCodes, parseRetryFlag, retryDelayMs, type RetryPolicy } from '../../runner/engine/retry-policy.ts';

const policy = (fields: Partial<RetryPolicy> = {}): RetryPolicy => ({
  codes: new Set([451, 421]), isAny4xx: false, attempts: 5, initialMs: 1000, maxMs: 300_000, factor: 2, isJittered: false, ...fields,
});

const backoff = suite('retryDelayMs: initial × factor^(n-1), capped, jitter in [wait/2, wait]');

const SCHEDULE: Array<[string, Partial<RetryPolicy>, number, number, number]> = [
  // name, policy, failed attempt, random draw, expected ms
  ['first retry waits initial', {}, 1, 0.7, 1000],
  ['second doubles', {}, 2, 0.7, 2000],
  ['fifth: 16 × initial', {}, 5, 0.7, 16_000],
  ['capped at max', { maxMs: 5000 }, 5, 0.7, 5000],
  ['far attempts stay at max', { maxMs: 300_000 }, 40, 0.7, 300_000],
  ['factor 1: constant', { factor: 1 }, 7, 0.7, 1000],
  ['factor 3', { factor: 3, initialMs: 100 }, 3, 0.7, 900],
  ['jitter, draw 0: half the wait', { isJittered: true }, 3, 0, 2000],
  ['jitter, draw 0.5: three quarters', { isJittered: true }, 3, 0.5, 3000],
  ['jitter, draw near 1: nearly the wait', { isJittered: true }, 3, 0.999999, 3999.998],
  ['jitter under the cap: half the cap at least', { isJittered: true, maxMs: 5000 }, 10, 0, 2500],
];
for (const [name, fields, failedAttempt, draw, expectedMs] of SCHEDULE) {
  backoff(name, () => {
    assert.ok(Math.abs(retryDelayMs(policy(fields), failedAttempt, draw) - expectedMs) < 1e-6, `${retryDelayMs(policy(fields), failedAttempt, draw)} != ${expectedMs}`);
  });
}

const deferral = suite('isDeferral: the policy\'s codes, or every 4xx; never a 5xx or a socket error');
const DEFERRALS: Array<[Partial<RetryPolicy>, number | undefined, boolean]> = [
  [{}, 451, true],
  [{}, 421, true],
  [{}, 454, false],
  [{}, 550, false],
  [{}, undefined, false],
  [{ isAny4xx: true, codes: new Set() }, 454, true],
  [{ isAny4xx: true, codes: new Set() }, 499, true],
  [{ isAny4xx: true, codes: new Set() }, 500, false],
  [{ isAny4xx: true, codes: new Set() }, 250, false],
];
for (const [fields, code, expected] of DEFERRALS) {
  deferral(`${fields.isAny4xx ? '4xx' : '451,421'} / ${code}: ${expected}`, () => assert.is(isDeferral(policy(fields), code), expected));
}

const parsing = suite('retry codes and --retry: what is accepted, and every problem said');
parsing('codes: strings, numbers and 4xx', () => {
  const problems: string[] = [];
  const parsed = parseRetryCodes(['451', 421, ' 4XX '], 'retry.on', problems);
  assert.equal(problems, []);
  assert.equal([...parsed.codes], [451, 421]);
  assert.is(parsed.isAny4xx, true);
});
parsing('a 5xx, a 2xx and text are refused with their index and why', () => {
  const problems: string[] = [];
  parseRetryCodes(['550', '250', 'soon'], 'scenarios.a.retry.on', problems);
  assert.is(problems.length, 3);
  assert.match(problems[0]!, /scenarios\.a\.retry\.on\[0\]: '550' is not a transient reply.*5xx replies are final/);
  assert.match(problems[2]!, /\[2\]: 'soon'/);
});
const FLAGS: Array<[string, { on: string[]; attempts: number } | undefined]> = [
  ['451,421:5', { on: ['451', '421'], attempts: 5 }],
  ['4xx', { on: ['4xx'], attempts: 5 }],
  ['454:1', { on: ['454'], attempts: 1 }],
  ['451:0', undefined],
  ['451:101', undefined],
  ['550:3', undefined],
  [':3', undefined],
  ['451:x', undefined],
];
for (const [text, expected] of FLAGS) {
  parsing(`--retry ${text}`, () => {
    const problems: string[] = [];
    assert.equal(parseRetryFlag(text, problems), expected);
    if (expected === undefined) {
      assert.ok(problems.length > 0);
      assert.ok(problems.every((problem) => problem.startsWith('--retry')), problems.join('\n'));
    } else assert.equal(problems, []);
  });
}

backoff.run();
deferral.run();
parsing.run();
