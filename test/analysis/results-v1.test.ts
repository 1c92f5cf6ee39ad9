/**
 * Results files of format version 1 (written by runner before version 2, kept in
 * test/fixtures/results-v1/ with the scenario that wrote one) are still read by merge, compare,
 * report and report-html, with the same figures: the expected outputs in expected/ were written by
 * the version-1 code from these files.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseResultsText, readResultsFile, ResultsFileError, validateSummary, type LoadedResults } from '../../runner/results/read.ts';
import { resultsText } from '../../runner/results/write.ts';
import { upgradeV1, type SummaryV1 } from '../../runner/results/names.ts';
import { mergeResults } from '../../runner/analysis/merge.ts';
import { compareRuns, formatComparison } from '../../runner/analysis/compare.ts';
import { buildReport, formatReport } from '../../runner/analysis/report.ts';
import { readReportSummary } from '../../runner/outputs/report-html-command.ts';
import { buildChartData, renderHtmlReport } from '../../runner/outputs/html-report.ts';
import { formatSummary } from '../../runner/outputs/console.ts';

const FIXTURES = new URL('../fixtures/results-v1/', import.meta.url);
/** The names the expected outputs were written with (paths relative to the repository). */
const LABEL = 'test/fixtures/results-v1/';
const FILES = ['baseline.json', 'multi-scenario.json'] as const;

function text(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

function load(name: string): LoadedResults {
  return parseResultsText(text(name), LABEL + name);
}

const reading = suite('results v1: read and upgraded to version 2 in memory');

reading('each file is read as a runner file of version 1, upgraded to a valid version 2', () => {
  for (const name of FILES) {
    const loaded = load(name);
    assert.is(loaded.kind, 'runner');
    assert.is(loaded.schemaVersion, 1);
    const summary = loaded.summary!;
    assert.is(summary.schema_version, 2);
    assert.equal(validateSummary(summary), [], `${name} upgraded`);
    // A version 2 file written from it reads back the same.
    const again = parseResultsText(resultsText(summary), `${name} v2`);
    assert.is(again.schemaVersion, 2);
    assert.equal(again.summary, summary);
  }
});

reading('the upgrade renames, and every figure stays as written', () => {
  const raw = JSON.parse(text('multi-scenario.json')) as SummaryV1;
  const summary = load('multi-scenario.json').summary!;
  // The old tool's fields and the other snake_case parts are unchanged.
  assert.equal(summary.results, raw.results);
  assert.equal(summary.scenarios, raw.scenarios);
  assert.equal(summary.custom_metrics, raw.custom_metrics);
  assert.equal(summary.histograms, raw.histograms);
  assert.is(summary.timeline.length, raw.timeline.length);
  summary.timeline.forEach((entry, k) => {
    const old = raw.timeline[k]!;
    assert.equal(
      [entry.t_seconds, entry.window_ms, entry.started, entry.accepted, entry.failed, entry.dropped, entry.msgs_per_second, entry.p50_ms, entry.p95_ms, entry.p99_ms, entry.vus, entry.queued, entry.message_bytes, entry.bytes_per_second, entry.planned, entry.txn_histogram],
      [old.t, old.windowMs, old.started, old.accepted, old.failed, old.dropped, old.msgsPerSecond, old.p50Ms, old.p95Ms, old.p99Ms, old.vus, old.queued, old.messageBytes, old.bytesPerSecond, old.planned, old.txnHistogram],
      `timeline[${k}]`,
    );
  });
  assert.equal(summary.thresholds.map((t) => [t.metric, t.actual, t.abort_on_fail, t.is_time]), raw.thresholds.map((t) => [t.metric, t.actual, t.abortOnFail, t.isTime]));
  const watch = summary.watch!;
  assert.equal([watch.cpu_percent_avg, watch.cpu_percent_max, watch.rss_bytes_first, watch.rss_bytes_last, watch.rss_bytes_max], [raw.watch!.cpuPercentAvg, raw.watch!.cpuPercentMax, raw.watch!.rssBytesFirst, raw.watch!.rssBytesLast, raw.watch!.rssBytesMax]);
  assert.equal(watch.samples.map((s) => [s.t_seconds, s.cpu_percent, s.rss_bytes]), raw.watch!.samples.map((s) => [s.t, s.cpuPercent, s.rssBytes]));
  const latency = summary.trends!.latency;
  assert.equal([latency.metric, latency.effective_points, latency.slope_per_hour, latency.span_seconds, latency.p_value, latency.verdict], ['p95_ms', raw.trends!.latency.effectivePoints, raw.trends!.latency.slopePerHour, raw.trends!.latency.spanSeconds, raw.trends!.latency.pValue, raw.trends!.latency.verdict]);
  assert.is(summary.trends!.server_memory!.metric, 'rss_bytes');
});

reading('readResultsFile reads them from disk too', async () => {
  const loaded = await readResultsFile(fileURLToPath(new URL('baseline.json', FIXTURES)));
  assert.is(loaded.schemaVersion, 1);
  assert.is(loaded.totalRequests, 30);
});

reading.run();

const versions = suite('results files: a wrong, missing or future schema_version is named in one error');

/** A version-2 file: the v1 fixture upgraded as version 2 writes it. */
function version2(): Record<string, unknown> {
  return JSON.parse(resultsText(upgradeV1(JSON.parse(text('baseline.json')) as SummaryV1))) as Record<string, unknown>;
}

const VERSION_CASES: Array<{ name: string; edit: (file: Record<string, unknown>) => void; message: RegExp }> = [
  { name: 'a future version', edit: (f) => (f['schema_version'] = 3), message: /^v2\.json is a results file of format version 3; this runner reads versions 1 and 2$/ },
  { name: 'a version that is not a number', edit: (f) => (f['schema_version'] = 'two'), message: /^v2\.json is a results file of format version "two"/ },
  { name: 'version 0', edit: (f) => (f['schema_version'] = 0), message: /^v2\.json is a results file of format version 0/ },
  { name: 'a version-2 file without schema_version', edit: (f) => delete f['schema_version'], message: /^v2\.json has no schema_version \(so format version 1\), but its fields are format version 2's$/ },
  { name: 'a version-2 file that says version 1', edit: (f) => (f['schema_version'] = 1), message: /^v2\.json says "schema_version": 1, but its fields are format version 2's$/ },
  { name: 'a version-2 file with a field missing', edit: (f) => delete f['status'], message: /^v2\.json is not a valid runner results file of format version 2:\n {2}- \(top level\): must have required property 'status'/ },
];

for (const { name, edit, message } of VERSION_CASES) {
  versions(name, () => {
    const file = version2();
    edit(file);
    try {
      parseResultsText(JSON.stringify(file), 'v2.json');
      assert.unreachable('read');
    } catch (error) {
      assert.instance(error, ResultsFileError);
      assert.match((error as Error).message, message);
      assert.ok((error as ResultsFileError).hint, 'with a hint');
    }
  });
}

versions('a version-1 file that says version 2 is named as such', () => {
  const file = JSON.parse(text('baseline.json')) as Record<string, unknown>;
  file['schema_version'] = 2;
  assert.throws(() => parseResultsText(JSON.stringify(file), 'v1.json'), (error: Error) => /^v1\.json says "schema_version": 2, but its fields are format version 1's$/.test(error.message));
});

versions('a sweep file (runner sweep --out) is named as one, with the way to its steps\' results files', () => {
  const sweep = { kind: 'runner-sweep', schema_version: 2, timestamp: '2025-01-01T00:00:00.000Z', target: '127.0.0.1:2525', mode: 'concurrent', steps: [] };
  assert.throws(() => parseResultsText(JSON.stringify(sweep), 'sweep.json'), (error: Error) =>
    error instanceof ResultsFileError && /^sweep\.json is a sweep file \(runner sweep --out\)/.test(error.message) && /--out-dir/.test(error.hint ?? ''));
});

versions.run();

const commands = suite('results v1: merge, compare, report and report-html give the figures version 1 gave');

commands('merge: the same merged file as version 1 wrote, in version 2', () => {
  const { summary, warnings } = mergeResults(FILES.map(load));
  const expected = upgradeV1(JSON.parse(text('expected/merged.json')) as SummaryV1);
  assert.equal(summary, expected);
  assert.is(warnings.length, 2);
  // A version 1 and a version 2 file merge as two version 1 files do.
  const v2 = parseResultsText(resultsText(load('multi-scenario.json').summary!), LABEL + 'multi-scenario.json');
  assert.equal(mergeResults([load('baseline.json'), v2]).summary, expected);
});

commands('compare: the same table', () => {
  const [before, after] = FILES.map(load) as [LoadedResults, LoadedResults];
  assert.fixture(formatComparison(compareRuns(before, after)) + '\n', text('expected/compare-baseline-multi-scenario.txt'));
});

commands('report: the same table for each file', () => {
  assert.fixture(formatReport(buildReport([load('baseline.json')])) + '\n', text('expected/report-baseline.txt'));
  assert.fixture(formatReport(buildReport([load('multi-scenario.json')])) + '\n', text('expected/report-multi-scenario.txt'));
});

commands('report-html: the same page body and chart data', async () => {
  const summary = await readReportSummary(fileURLToPath(new URL('multi-scenario.json', FIXTURES)));
  assert.is(summary.schema_version, 2);
  assert.equal(buildChartData(summary), JSON.parse(text('expected/report-html-data.json')));
  const page = renderHtmlReport(summary, { source: 'multi-scenario.json' });
  const bodyStart = page.indexOf('<body');
  assert.fixture(page.slice(bodyStart, page.indexOf('<script', bodyStart)), text('expected/report-html-body.html'));
});

commands('console summary of an upgraded file: the threshold and server lines', () => {
  const summary = load('multi-scenario.json').summary!;
  const output = formatSummary(summary, { color: false });
  assert.match(output, '✓ body_ms  p(95)<100  actual 7.25');
  assert.match(output, 'CPU: avg 6%, max 6% of one core');
});

commands.run();
