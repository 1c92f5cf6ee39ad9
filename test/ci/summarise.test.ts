// test-tier: real-time
/**
 * .ci/summarise: the closing of .ci/run, fed logs as `npm test` writes them. One closing line
 * "N passed, N failed, N skipped", and each failure shown once more near it (not twice, and
 * not at all again when the test driver already repeated it above its totals).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '../helpers.ts';

const SCRIPT = fileURLToPath(new URL('../../.ci/summarise', import.meta.url));
const temp = createTempDir();

function summarise(log: string, status: number): string {
  const file = join(temp.dir, 'log');
  writeFileSync(file, log);
  const ran = spawnSync('bash', [SCRIPT, file, String(status)], { encoding: 'utf8' });
  assert.is(ran.status, 0, ran.stderr);
  return ran.stdout;
}

const FAILURE = '   FAIL  probe  "fails on purpose"\n    deliberate  (is)\n    at Object.handler (test/util/probe.test.ts:5:40)\n';
const TOTALS = '  Total:     99\n  Passed:    98\n  Skipped:   1\n  Duration:  22.19s\n';

const closing = suite('.ci/summarise');

closing('the test driver repeated the failure above its totals: only the closing line', () => {
  const log = `util/probe.test.ts\n${FAILURE}\n── failures (each also printed above, in its file's output)\n\nunit tier, part 2 of 2:\n${FAILURE}\n${TOTALS}`;
  assert.is(summarise(log, 1), '98 passed, 1 failed, 1 skipped\n');
});

closing('failures the driver did not repeat: each once, then the closing line', () => {
  const output = summarise(`util/probe.test.ts\n${FAILURE}\n${TOTALS}`, 1);
  assert.is(output.split('FAIL  probe').length - 1, 1, output);
  assert.ok(output.endsWith('98 passed, 1 failed, 1 skipped\n'), output);
});

closing('colour codes do not hide the totals', () => {
  assert.is(summarise('  Total:     5\x1b[32m\n  Passed:    5\x1b[39m\n  Skipped:   0\n', 0), '5 passed, 0 failed, 0 skipped\n');
});

closing('a suite that broke before counting (type check, build) is one failure', () => {
  assert.is(summarise('error TS2305: Module has no exported member\n', 2), '0 passed, 1 failed, 0 skipped\n');
});

closing.run();
