/** check() and the SMTP check helpers, without sockets: tables of replies and their verdicts. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { check, enhancedCode, replyClass, replyCode, replyText, setCheckWarningSink } from '../../runner/script/check.ts';
import { CHECKS, clearCustomMetrics } from '../../runner/metrics/custom.ts';
import { SmtpStepError } from '../../runner/smtp/api.ts';

const checks = suite('check(): one checks sample per condition, never throwing');

checks.before.each(() => clearCustomMetrics(() => {}));

checks('returns whether all passed and counts each condition under its check tag', () => {
  assert.is(check(250, { ok: (code) => code === 250, also: true }), true);
  assert.is(check(451, { ok: (code) => code === 250, also: true }), false);
  const sets = CHECKS.tagSetsWithSamples().map((set) => [set.tags, set.samples, set.nonZero]);
  assert.equal(sets, [[{ check: 'also' }, 2, 2], [{ check: 'ok' }, 2, 1]]);
});

checks('a condition that throws fails, is reported once, and does not stop the other conditions', () => {
  const warnings: string[] = [];
  setCheckWarningSink((message) => warnings.push(message));
  for (let i = 0; i < 3; i++) assert.is(check(null as unknown as { x: number }, { bad: (v) => v.x > 0, good: true }), false);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /check 'bad' threw/);
  assert.equal(CHECKS.aggregate({ check: 'good' }).nonZero, 3);
  assert.equal(CHECKS.aggregate({ check: 'bad' }).samples, 3);
});

checks('an async condition fails (its Promise is not a pass), reported once with how to fix it', async () => {
  const warnings: string[] = [];
  setCheckWarningSink((message) => warnings.push(message));
  for (let i = 0; i < 3; i++) assert.is(check(250, { 'async ok': async (code) => code === 250, sync: (code) => code === 250 }), false);
  assert.equal(CHECKS.aggregate({ check: 'async ok' }).samples, 3);
  assert.equal(CHECKS.aggregate({ check: 'async ok' }).nonZero, 0);
  assert.equal(CHECKS.aggregate({ check: 'sync' }).nonZero, 3);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /check 'async ok' threw \(counted as failed\): it returned a Promise \(an async function\?\)[^]*await the value first/);
  // A rejected Promise from a condition is not an unhandled rejection
  check(1, { rejects: () => Promise.reject(new Error('later')) });
  await new Promise((resolve) => setImmediate(resolve));
});

checks('a Promise as the value (a step not awaited) is judged as given, with one warning saying to await it', async () => {
  const warnings: string[] = [];
  setCheckWarningSink((message) => warnings.push(message));
  const pending = Promise.resolve({ code: 250 });
  for (let i = 0; i < 2; i++) assert.is(check(pending, { accepted: (r) => (r as unknown as { code?: number }).code === 250 }), false);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /was given a Promise \(a step not awaited\?\)[^]*check\(await ctx\.smtp\.mail\(\), …\)/);
  assert.is(check(await pending, { accepted: (r) => r.code === 250 }), true);
  assert.is(warnings.length, 1);
});

checks('tags are added to the check tag; the same tags object reuses its tag sets across a warm-up reset', () => {
  const tags = Object.freeze({ scenario: 's' });
  check(1, { one: true }, tags);
  CHECKS.reset();
  check(1, { one: true }, tags);
  assert.equal(CHECKS.tagSetsWithSamples().map((set) => [set.tags, set.samples]), [[{ check: 'one', scenario: 's' }, 1]]);
});

checks('sets must be an object', () => {
  assert.throws(() => check(1, null as never), /sets must be an object/);
});

const helpers = suite('SMTP check helpers: reply class, code, enhanced code, text');

const accepted = { code: 250, enhanced: '2.6.0', lines: ['2.6.0 Queued as ABC'] };
const greylisted = { code: 451, enhanced: '4.7.1', lines: ['Try again later'] };
const stepError = new SmtpStepError({ phase: 'rcpt', code: 550, enhanced: '5.1.1', text: 'No such user' });

const CASES: Array<[string, (r: never) => boolean, unknown, boolean]> = [
  ['replyClass(2) on 250', replyClass(2), accepted, true],
  ['replyClass(2) on 451', replyClass(2), greylisted, false],
  ['replyClass(4) on 451', replyClass(4), greylisted, true],
  ['replyClass(5) on a thrown 550', replyClass(5), stepError, true],
  ['replyCode(250, 251) on 250', replyCode(250, 251), accepted, true],
  ['replyCode(250) on 451', replyCode(250), greylisted, false],
  ["enhancedCode('2.x.x') on 2.6.0", enhancedCode('2.x.x'), accepted, true],
  ["enhancedCode('2.6.0') on 2.6.0", enhancedCode('2.6.0'), accepted, true],
  ["enhancedCode('5.1.x') on a thrown 5.1.1", enhancedCode('5.1.x'), stepError, true],
  ["enhancedCode('4.7.2') on 4.7.1", enhancedCode('4.7.2'), greylisted, false],
  ["enhancedCode('2.x.x') on no enhanced code", enhancedCode('2.x.x'), { code: 250, lines: ['ok'] }, false],
  ["replyText('Queued') on 'Queued as ABC'", replyText('Queued'), accepted, true],
  ['replyText(/no such user/i) on a thrown error', replyText(/no such user/i), stepError, true],
  ['replyClass(2) on undefined', replyClass(2), undefined, false],
];

for (const [name, condition, reply, expected] of CASES) {
  helpers(name, () => assert.is(condition(reply as never), expected));
}

helpers('enhancedCode refuses a pattern that is not class.subject.detail', () => {
  assert.throws(() => enhancedCode('2.6'), /class\.subject\.detail/);
  assert.throws(() => enhancedCode('2.y.0'), /class\.subject\.detail/);
});

checks.run();
helpers.run();
