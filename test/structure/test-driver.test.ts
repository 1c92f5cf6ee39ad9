// test-tier: unit
/**
 * The test driver's own logic (test/run.ts): which tier a file belongs to, uvu's totals read from
 * its output, and how short real-time files share processes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isRealTime, packShortFiles, readUvuTotals } from '../run.ts';

const driver = suite('test driver');

driver('a file is real-time when it starts servers or processes or sets timers, or says so', () => {
  assert.is(isRealTime(`import { withFakeProxy } from '../helpers.ts';`), true);
  assert.is(isRealTime(`import { spawn } from 'node:child_process';`), true);
  assert.is(isRealTime(`setTimeout(done, 10);`), true);
  assert.is(isRealTime(`import { round } from '../../runner/util/format.ts';`), false);
  assert.is(isRealTime(`// test-tier: unit\nsetTimeout(done, 10);`), false);
  assert.is(isRealTime(`// test-tier: real-time\nconst x = 1;`), true);
});

driver("uvu's closing counts, colours and all; none when it crashed first", () => {
  const output = '\x1b[32m  Total:     12\x1b[39m\n  Passed:    11\n  Skipped:   1\n  Duration:  3.2s\n';
  assert.equal(readUvuTotals(output), { total: 12, passed: 11, skipped: 1 });
  assert.is(readUvuTotals('TypeError: boom\n    at x (y.ts:1:1)\n'), undefined);
});

driver('short files (by the last run) share processes up to the group budget; long and never-timed files run alone, first', () => {
  const times = { 'a.test.ts': 30_000, 'b.test.ts': 3_000, 'c.test.ts': 3_000, 'd.test.ts': 3_000, 'e.test.ts': 500 };
  const ordered = ['a.test.ts', 'new.test.ts', 'b.test.ts', 'c.test.ts', 'd.test.ts', 'e.test.ts'];
  assert.equal(packShortFiles(ordered, times), [['a.test.ts'], ['new.test.ts'], ['b.test.ts', 'c.test.ts'], ['d.test.ts', 'e.test.ts']]);
  // Every file exactly once
  assert.equal(packShortFiles(ordered, times).flat().sort(), [...ordered].sort());
  // No times yet (first run, or a new checkout): one file per process
  assert.equal(packShortFiles(['x.test.ts', 'y.test.ts'], {}), [['x.test.ts'], ['y.test.ts']]);
});

driver.run();
