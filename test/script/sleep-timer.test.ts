// test-tier: real-time
/** sleepMs's timer: a sleep longer than setTimeout's limit (2^31 - 1 ms) still sleeps until a stop wakes it. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sleep, wakeSleepers } from '../../runner/script/sleep.ts';

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

test.run();
