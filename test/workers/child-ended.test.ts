// test-tier: real-time
/**
 * A worker's end is known only once its last message has arrived: many workers that report and
 * leave at the same moment (`--workers 64 --num-emails 2`) each have their final report merged,
 * none is called lost.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { childEnded } from '../../runner/workers/child-ended.ts';

const ended = suite('childEnded');

/** A child that sends one large report (as a worker's final snapshot) and leaves at once. */
function reportAndLeave() {
  return spawn(process.execPath, ['-e', `
    const report = new Float64Array(20000);
    process.once('message', () => process.send({ report }, undefined, {}, () => process.disconnect()));
  `], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' });
}

ended('48 children that report and leave together: every report arrives before its child is said to have ended', async () => {
  const count = 48;
  const received: number[] = [];
  await Promise.all(Array.from({ length: count }, async () => {
    const child = reportAndLeave();
    let reports = 0;
    child.on('message', () => reports++);
    child.once('spawn', () => child.send('go'));
    const { how } = await childEnded(child);
    assert.is(how, 'exited with code 0');
    received.push(reports);
  }));
  assert.equal(received, Array(count).fill(1));
});

ended('a killed child says by which signal', async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  await new Promise((resolve) => child.once('spawn', resolve));
  child.kill('SIGKILL');
  assert.equal(await childEnded(child), { how: 'was killed (SIGKILL)' });
});

ended.run();
