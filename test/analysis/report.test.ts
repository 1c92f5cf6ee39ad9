/**
 * `runner report`: one row per run, oldest first, and the mean and spread of each figure, checked
 * against figures worked out by hand; the old tool's files join in; mixed loads are pointed out.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, formatReport } from '../../runner/analysis/report.ts';
import { parseResultsText, ResultsFileError } from '../../runner/results/read.ts';
import { runReportCommand } from '../../runner/analysis/report-command.ts';
import { createTempDir, createTextSink } from '../helpers.ts';
import { GUIDE_LEGACY_FILE, loadSynthetic, type TimedSample } from './summaries.ts';

/** `count` messages of `latencyMs` spread over `seconds`. */
function constant(count: number, seconds: number, latencyMs: number): TimedSample[] {
  return Array.from({ length: count }, (_, i) => ({ tSeconds: ((i + 0.5) / count) * seconds, latencyUs: latencyMs * 1000 }));
}

const config = { num_emails: 0, concurrent: 10, scenario_file: 'baseline.ts' };
// Three runs of 10 s: 100, 120 and 140 requests (10, 12, 14 rps), every message 20, 30 or 40 ms.
const runs = () => [
  loadSynthetic({ samples: constant(120, 10, 30), timestamp: '2025-01-01T00:02:00.000Z', durationSeconds: 10, config }, 'r2.json'),
  loadSynthetic({ samples: constant(100, 10, 20), timestamp: '2025-01-01T00:01:00.000Z', durationSeconds: 10, config }, 'r1.json'),
  loadSynthetic({ samples: constant(140, 10, 40), timestamp: '2025-01-01T00:03:00.000Z', durationSeconds: 10, config }, 'r3.json'),
];

const figures = suite('report: rows and spread');

figures('rows oldest first; mean, sample stddev, min–max and CV of each figure', () => {
  const report = buildReport(runs());
  assert.equal(report.rows.map((r) => r.file), ['r1.json', 'r2.json', 'r3.json']);
  assert.equal(report.rows.map((r) => r.scenario), ['baseline.ts', 'baseline.ts', 'baseline.ts']);
  assert.equal(report.rows.map((r) => r.rps), [10, 12, 14]);
  assert.equal(report.rows.map((r) => r.p95Seconds), [0.02, 0.03, 0.04]);
  const rps = report.stats.rps!;
  assert.is(rps.mean, 12);
  assert.is(rps.stddev, 2);
  assert.is(rps.min, 10);
  assert.is(rps.max, 14);
  assert.ok(Math.abs(rps.cv! - 2 / 12) < 1e-12);
  assert.is(report.stats.requests!.mean, 120);
  assert.ok(Math.abs(report.stats.p95Seconds!.mean - 0.03) < 1e-12);
  assert.ok(Math.abs(report.stats.p95Seconds!.stddev - 0.01) < 1e-12);
  assert.is(report.stats.successRate!.stddev, 0);
  assert.equal(report.notes, []);
});

figures('the table: one line per run, then mean, stddev, min, max and CV', () => {
  const text = formatReport(buildReport(runs()));
  assert.match(text, /^Runs: 3\n/);
  assert.match(text, /r1\.json +2025-01-01 00:01:00 +baseline\.ts +100 +100\.0% +10\.0 +20\.00ms +20\.00ms +20\.00ms/);
  assert.match(text, /\nmean +120 +100\.0% +12\.0 +30\.00ms +30\.00ms +30\.00ms/);
  assert.match(text, /\nstddev +20 +0\.0% +2\.0 +10\.00ms/);
  assert.match(text, /\nmin +100 +100\.0% +10\.0 +20\.00ms/);
  assert.match(text, /\nmax +140 +100\.0% +14\.0 +40\.00ms/);
  assert.match(text, /\nCV +16\.7% +0\.0% +16\.7% +33\.3%/);
  assert.not.match(text, '\u001b[');
});

figures('the old tool\'s files join in; different targets and loads are pointed out', () => {
  const legacy = parseResultsText(GUIDE_LEGACY_FILE, 'load_test_results_1732382456.json');
  const other = loadSynthetic({ samples: constant(50, 5, 10), target: '10.0.0.2:2525', config: { num_emails: 50, concurrent: 5 } }, 'other.json');
  const report = buildReport([legacy, other]);
  assert.equal(report.rows.map((r) => r.scenario), ['flags 50×5', 'old tool 100×10']);
  assert.ok(report.notes.some((n) => n.startsWith('the runs had different targets')));
  assert.ok(report.notes.some((n) => n.startsWith('the runs ran different loads')));
  assert.is(report.stats.p99Seconds!.n, 2);
  assert.match(buildReport([legacy]).notes.join('\n'), 'one run: run the same test several times');
});

figures('targets are named once each, a merged file\'s parts included', () => {
  const [r2, r1, r3] = runs();
  const merged = { ...r3!, target: '127.0.0.1:2525, 10.0.0.1:2525' };
  const notes = buildReport([r1!, { ...r2!, target: '10.0.0.1:2525' }, merged]).notes;
  assert.ok(notes.includes('the runs had different targets (127.0.0.1:2525, 10.0.0.1:2525): their spread mixes targets'), notes.join('\n'));
});

figures.run();

const command = suite('report: the command');

command('a folder stands for its .json files; --json prints the report as data; a bad file stops it', async () => {
  const temp = createTempDir();
  try {
    runs().forEach((run, i) => writeFileSync(join(temp.dir, `run${i}.json`), JSON.stringify(run.summary)));
    writeFileSync(join(temp.dir, 'notes.txt'), 'not a results file');
    const stdout = createTextSink();
    assert.is(await runReportCommand({ files: [temp.dir], json: true, stdout }), 0);
    const report = JSON.parse(stdout.text());
    assert.is(report.rows.length, 3);
    assert.is(report.stats.rps.mean, 12);

    writeFileSync(join(temp.dir, 'broken.json'), '{');
    try {
      await runReportCommand({ files: [temp.dir], stdout: createTextSink() });
      assert.unreachable('should throw');
    } catch (error) {
      assert.instance(error, ResultsFileError);
      assert.match((error as Error).message, 'broken.json is not JSON');
    }
  } finally {
    temp.remove();
  }
});

command.run();
