/**
 * NDJSON and CSV timelines: one whole line per second of the run, adding up to the summary.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { createCsvOutput, createNdjsonOutput, formatCsvLine, formatNdjsonLine, TIMELINE_COLUMNS } from '../../runner/outputs/timeline-stream.ts';
import { MetricsRegistry } from '../../runner/metrics/registry.ts';
import type { RunOutput } from '../../runner/outputs/output.ts';
import type { Summary } from '../../runner/results/types.ts';
import { timelineEntry } from '../../runner/results/names.ts';

const stream = suite('timeline streams');

stream('--out ndjson= and csv=: a line per window, the counts add up to the summary', async () => {
  const temp = createTempDir();
  try {
    // 30 messages per VU × ≥ 80 ms each: the run lasts ≥ 2.4 s however fast the machine (2+ windows)
    await withFakeProxy({ delays: { message: 80 } }, async (proxy) => {
      const ndjson = join(temp.dir, 'timeline.ndjson');
      const csv = join(temp.dir, 'timeline.csv');
      const { summary } = await runAgainst(proxy, {
        check: false,
        numEmails: 120,
        concurrent: 4,
        out: [`ndjson=${ndjson}`, `csv=${csv}`, join(temp.dir, 'results.json')],
      });
      const lines = readFileSync(ndjson, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
      assert.is(lines.length, summary.timeline.length);
      assert.ok(lines.length >= 3, `only ${lines.length} windows`);
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

stream('CSV leaves a missing percentile empty (and a queue length or bytes a results file from before lacks)', () => {
  const quiet = { t: 1, windowMs: 1000, started: 0, accepted: 0, failed: 0, dropped: 0, msgsPerSecond: 0, p50Ms: null, p95Ms: null, p99Ms: null, vus: 3 };
  assert.is(formatCsvLine({ ...quiet, queued: 17, messageBytes: 2600, bytesPerSecond: 2600, planned: 40 }), '1,1000,0,0,0,0,0.000,,,,3,17,2600,2600.000,40\n');
  assert.is(formatCsvLine(quiet), '1,1000,0,0,0,0,0.000,,,,3,,,,\n');
  assert.equal(JSON.parse(formatNdjsonLine({ ...quiet, queued: 17, txnHistogram: null }, 0)).queued, 17);
});

stream('a long run whose timeline folds windows still streams every second, the last partial one once', async () => {
  const temp = createTempDir();
  try {
    for (const [format, create] of [['ndjson', createNdjsonOutput], ['csv', createCsvOutput]] as const) {
      const path = join(temp.dir, `folded.${format}`);
      const output: RunOutput = create(path);
      await output.prepare!({} as never);
      output.listener!.onStart!({} as never);
      // A cap of 4 points: 30 windows fold into 8 s points in memory.
      const registry = new MetricsRegistry(0, new Map(), { timelineMaxPoints: 4 });
      for (let k = 1; k <= 30; k++) {
        for (let i = 0; i < k; i++) registry.noteAccepted(1000 + i);
        output.listener!.onTick!(registry.tick(k * 1000)!, [], registry);
      }
      registry.noteAccepted(5000);
      registry.tick(30_400, true);
      assert.ok(registry.timeline.length <= 4);
      const summary = { timeline: registry.timeline.map(timelineEntry) } as Summary;
      await output.finish!(summary, { result: { registry } } as never);
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
      const rows = format === 'csv' ? lines.slice(1).map((row) => Number(row.split(',')[TIMELINE_COLUMNS.indexOf('accepted')])) : lines.map((line) => JSON.parse(line).accepted);
      assert.is(rows.length, 31, `${format}: one line per second and the partial last one`);
      assert.equal(rows, [...Array.from({ length: 30 }, (_, k) => k + 1), 1], `${format}: each window as it closed`);
    }
  } finally {
    temp.remove();
  }
});

stream('NDJSON lines leave the window\'s histogram out', () => {
  const registry = new MetricsRegistry(0);
  registry.noteAccepted(1500);
  const point = registry.tick(1000)!;
  assert.ok(point.txnHistogram, 'the point has a histogram');
  const line = JSON.parse(formatNdjsonLine(point, 0));
  assert.not.ok('txnHistogram' in line);
  assert.equal(Object.keys(line), ['time', ...TIMELINE_COLUMNS]);
});

stream.run();
