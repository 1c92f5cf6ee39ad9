// test-tier: real-time
/**
 * sleep()'s timer: a sleep longer than setTimeout's limit (2^31 - 1 ms) still sleeps until a stop
 * wakes it; a sleep nobody awaited (k6's habit: sleep(1) without await) is warned about.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setSleepWarningSink, sleep, wakeSleepers } from '../../runner/script/sleep.ts';
import { IterationScope } from '../../runner/engine/iteration-scope.ts';

test('sleep(1e9 s) waits (setTimeout would fire at once past 24.8 days) until the stop wakes it', async () => {
  let isDone = false;
  const slept = sleep(1e9).then((ms) => {
    isDone = true;
    return ms;
  });
  // A few turns of the timer phase: an overflowed timeout (1 ms) would have fired by then.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.is(isDone, false);
  wakeSleepers();
  assert.ok((await slept) >= 0);
  assert.is(isDone, true);
});

test('sleep() without await warns once it ends (it did not pause the iteration); awaited or .then()ed it does not', async () => {
  const warnings: string[] = [];
  setSleepWarningSink((message) => warnings.push(message));
  void sleep('5ms');
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /^sleep\(\) was not awaited, so the iteration did not pause: write await sleep\(\.\.\.\) \(runner's sleep is async, unlike k6's\)/);
  assert.ok((await sleep('5ms')) >= 0);
  await new Promise<number>((resolve) => sleep(0.005).then(resolve));
  assert.ok((await Promise.all([sleep('1ms'), sleep('2ms')])).length === 2);
  assert.is(warnings.length, 1);
});

test('ctx.sleep() likewise, and awaited it still moves the response-time base past the pause', async () => {
  const warnings: string[] = [];
  setSleepWarningSink((message) => warnings.push(message));
  const recorder = { point() {}, currentAccount: undefined, intendedStartMs: 0 };
  const state = { id: 1, iterations: 0, session: {}, vuState: {}, recorder };
  const ctx = new IterationScope(state as never, { groupTags: () => ({}), recordGroupDuration() {} }, { scenario: 's', iterationInTest: 0, from: 'a@b', env: {}, data: undefined });
  const slept = await ctx.sleep('5ms');
  assert.is(recorder.intendedStartMs, slept);
  assert.is(warnings.length, 0);
  void ctx.sleep('5ms');
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.match(warnings.join('\n'), /^ctx\.sleep\(\) was not awaited/);
  await ctx.sleep('bad').then(() => assert.unreachable('a bad duration resolved'), (error: Error) => assert.match(error.message, /"bad" is not a duration/));
});

test.run();
