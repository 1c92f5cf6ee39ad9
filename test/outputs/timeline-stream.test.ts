/**
 * NDJSON and CSV timelines: one whole line per second of the run, adding up to the summary.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { formatCsvLine, TIMELINE_COLUMNS } from '../../runner/outputs/timeline-stream.ts';

const stream = suite('timeline streams');

stream('--out ndjson= and csv=: a line per window, the counts add up to the summary', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({ delays: { message: 5 } }, async (proxy) => {
      const ndjson = join(temp.dir, 'timeline.ndjson');
      const csv = join(temp.dir, 'timeline.csv');
      const { summary } = await runAgainst(proxy, {
        check: false,
        numEmails: 400,
        concurrent: 4,
        out: [`ndjson=${ndjson}`, `csv=${csv}`, join(temp.dir, 'results.json')],
      });
      const lines = readFileSync(ndjson, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
      assert.is(lines.length, summary.timeline.length);
      assert.ok(lines.length >= 2, `only ${lines.length} windows`);
      assert.is(lines.reduce((sum, p) => sum + p.accepted, 0), summary.results.successful);
      assert.is(summary.results.successful, proxy.stats.messagesAccepted);
      for (const line of lines) assert.match(line.time, /^\d{4}-\d\d-\d\dT/);
      const rows = readFileSync(csv, 'utf8').trimEnd().split('\n');
      assert.is(rows[0], TIMELINE_COLUMNS.join(','));
      assert.is(rows.length - 1, summary.timeline.length);
      const acceptedColumn = TIMELINE_COLUMNS.indexOf('accepted');
      assert.is(rows.slice(1).reduce((sum, row) => sum + Number(row.split(',')[acceptedColumn]), 0), summary.results.successful);
    });
  } finally {
    temp.remove();
  }
});

stream('CSV leaves a missing percentile empty', () => {
  const line = formatCsvLine({ t: 1, windowMs: 1000, started: 0, accepted: 0, failed: 0, dropped: 0, msgsPerSecond: 0, p50Ms: null, p95Ms: null, p99Ms: null, vus: 3 });
  assert.is(line, '1,1000,0,0,0,0,0.000,,,,3\n');
});

stream.run();
