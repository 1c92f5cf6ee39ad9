/**
 * The HTML report without a browser: self-contained (uPlot inlined, nothing fetched), every
 * string from the results escaped, the summary's numbers on the page, and the two ways to get
 * it (`runner run --report`, `runner report-html`). test/browser/report.test.ts opens it for real.
 */
import { expectedHeadline } from '../report-figures.ts';
import { runCli as runCliProcess, type Ran } from '../cli-process.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import {
  buildChartData,
  createHtmlReportOutput,
  deliveryFigures as deliveryCards,
  formatSuccessRate,
  headlineFigures,
  percentileSpectrum,
  renderHtmlReport,
  spectrumExtent,
} from '../../runner/outputs/html-report.ts';
import { escapeHtml, html, jsonForScript } from '../../runner/outputs/html-template.ts';
import { createCiOutputs, createOutputs } from '../../runner/outputs/index.ts';
import { defaultReportPath, readReportSummary } from '../../runner/outputs/report-html-command.ts';
import { TrendSink } from '../../runner/metrics/trend.ts';
import { ExitCode, OutputError, RunnerError } from '../../runner/errors.ts';
import type { Summary } from '../../runner/results/types.ts';
import { deliveryFigures } from '../../runner/results/summarise.ts';

const require = createRequire(import.meta.url);
const UPLOT_JS = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');

/** A real summary: 60 messages against the fake proxy, 10% rejected at end-of-data with a hostile reply text. */
let realSummary: Summary | undefined;
async function summaryOfARun(): Promise<Summary> {
  if (realSummary) return structuredClone(realSummary);
  const failures = [{ phase: 'message' as const, probability: 0.1, kind: 'reply' as const, code: 451, enhanced: '4.3.0', text: 'Try <img src=x onerror=alert(2)> later' }];
  realSummary = await withFakeProxy({ failures }, async (proxy) => {
    const { summary } = await runAgainst(proxy, { numEmails: 60, concurrent: 4, check: false });
    return summary;
  });
  return structuredClone(realSummary);
}

const selfContained = suite('html report: one self-contained file');

selfContained('uPlot\'s script and stylesheet are inlined; nothing is loaded from a URL', async () => {
  const page = renderHtmlReport(await summaryOfARun());
  assert.ok(page.startsWith('<!DOCTYPE html>'));
  assert.ok(page.includes(UPLOT_JS), 'uPlot.iife.min.js inlined verbatim');
  assert.ok(page.includes(readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8')), 'uPlot.min.css inlined');
  for (const [what, pattern] of [
    ['a script with src', /<script[^>]*\ssrc\s*=/i],
    ['a stylesheet link', /<link\b/i],
    ['an http(s) src/href', /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i],
    ['a CSS import or url()', /@import|url\(\s*["']?https?:/i],
  ] as const) {
    assert.not.ok(pattern.test(page), `has ${what}`);
  }
});

selfContained('the chart data in the page parses back to what buildChartData made', async () => {
  const summary = await summaryOfARun();
  const page = renderHtmlReport(summary);
  const match = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(page);
  assert.ok(match, 'report-data element');
  assert.equal(JSON.parse(match![1]!), JSON.parse(JSON.stringify(buildChartData(summary))));
});

const escaping = suite('html report: strings from the results are escaped');

const HOSTILE_ACCOUNT = '<script>alert(1)</script>@x.test';

escaping('an account named <script>alert(1)</script>@x.test appears as text, never as markup', async () => {
  const summary = await summaryOfARun();
  const [first] = Object.keys(summary.accounts);
  summary.accounts = { [HOSTILE_ACCOUNT]: summary.accounts[first!]! };
  const page = renderHtmlReport(summary);
  assert.not.ok(page.includes(HOSTILE_ACCOUNT), 'raw account name in the page');
  assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;@x.test'), 'escaped account name in the accounts table');
});

escaping('a reply text with markup, from a real run, is shown escaped in the errors table', async () => {
  const summary = await summaryOfARun();
  assert.ok(summary.results.errors.length > 0, 'the run had rejections');
  const page = renderHtmlReport(summary);
  assert.not.ok(page.includes('<img src=x'), 'raw reply text');
  assert.ok(page.includes('Try &lt;img src=x onerror=alert(2)&gt; later'));
});

/** Replaces every string (and every name used as a key of a free-form map) with a payload naming its path. */
function poison(value: unknown, path: string, payloads: string[]): unknown {
  if (typeof value === 'string') {
    const payload = `<x-val data-x="${path}">'&amp;</x-val></script>`;
    payloads.push(payload);
    return payload;
  }
  if (Array.isArray(value)) return value.map((item, index) => poison(item, `${path}.${index}`, payloads));
  if (value && typeof value === 'object') {
    const renameKeys = /^\$\.(accounts|scenarios|custom_metrics|config|config\.scenarios|config\.scenarios\.[^.]+|results\.phases)$/.test(path);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => {
      const name = renameKeys ? `<x-key>${key}</x-key>` : key;
      if (renameKeys) payloads.push(name);
      return [name, poison(item, `${path}.${key}`, payloads)];
    }));
  }
  return value;
}

escaping('every string and every name in the summary, poisoned with markup, comes out escaped', async () => {
  const summary = await summaryOfARun();
  const { histograms, ...rest } = summary;
  const payloads: string[] = [];
  const poisoned = { ...(poison(rest, '$', payloads) as object), histograms } as Summary;
  poisoned.status = 'interrupted';
  poisoned.abort_reason = '<x-u>stopped</x-u>';
  payloads.push('<x-u>stopped</x-u>');
  poisoned.thresholds = [{ metric: '<x-em>m</x-em>', condition: 'p(95)<1s', ok: false, actual: 3, abort_on_fail: true, is_time: true }];
  payloads.push('<x-em>m</x-em>');
  const page = renderHtmlReport(poisoned);
  assert.ok(payloads.length > 40, `poisoned ${payloads.length} strings`);
  assert.not.match(page, /<x-/, 'no injected element in the page');
  for (const payload of ['<x-u>stopped</x-u>', '<x-em>m</x-em>', 'p(95)<1s']) assert.ok(page.includes(escapeHtml(payload)), `${payload} shown escaped`);
  const shown = payloads.filter((payload) => page.includes(escapeHtml(payload)));
  assert.ok(shown.length > 20, `only ${shown.length} of ${payloads.length} payloads shown`);
  // Nothing closed a script element early: exactly our three scripts.
  assert.is(page.match(/<\/script>/g)!.length, 3);
});

escaping('the html tag escapes values, keeps SafeHtml, joins arrays, drops null/false', () => {
  const cases: [ReturnType<typeof html>, string][] = [
    [html`<p>${'<a href="x">&\''}</p>`, '<p>&lt;a href=&quot;x&quot;&gt;&amp;&#39;</p>'],
    [html`<p>${html`<b>${'<'}</b>`}</p>`, '<p><b>&lt;</b></p>'],
    [html`${['<', html`<br>`, 1]}`, '&lt;<br>1'],
    [html`a${null}${undefined}${false}b${0}`, 'ab0'],
  ];
  for (const [got, want] of cases) assert.is(got.text, want);
  assert.is(jsonForScript({ s: '</script><!--&\u2028' }).text, '{"s":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028"}');
  assert.equal(JSON.parse(jsonForScript({ s: '</script>&' }).text), { s: '</script>&' });
});

const figures = suite('html report: the summary\'s numbers');

figures('headline cards carry the summary\'s figures as data-value and as text', async () => {
  const summary = await summaryOfARun();
  const page = renderHtmlReport(summary);
  const cases = expectedHeadline(summary.results);
  for (const [key, value, text] of cases) {
    const match = new RegExp(`data-figure="${key}" data-value="([^"]*)">([^<]*)<`).exec(page);
    assert.ok(match, `${key} on the page`);
    assert.is(Number(match![1]), value, `${key} data-value`);
    assert.is(match![2], text, `${key} text`);
  }
  assert.equal(headlineFigures(summary).map((f) => f.key), ['total_requests', 'success_rate', 'throughput_rps', 'p50_seconds', 'p95_seconds', 'p99_seconds']);
});

figures('phases, errors, thresholds and the configuration are on the page', async () => {
  const summary = await summaryOfARun();
  summary.thresholds = [
    { metric: 'smtp_txn_duration', condition: 'p(95)<0.5s', ok: true, actual: 12.5, abort_on_fail: false, is_time: true },
    { metric: 'smtp_txn_failed', condition: 'rate<0.01', ok: false, actual: 0.0179, abort_on_fail: false, is_time: false },
  ];
  const page = renderHtmlReport(summary);
  for (const [phase, latency] of Object.entries(summary.results.phases)) {
    assert.match(page, `<td class="l">${phase}</td><td>${latency.count}</td>`);
  }
  const rejected = summary.results.errors[0]!;
  assert.match(page, `<td class="l">message</td><td class="l mono">451 4.3.0</td><td>${rejected.count}</td>`);
  assert.match(page, '✓ pass');
  assert.match(page, '12.50ms');
  assert.match(page, 'messages_per_connection');
  assert.match(page, '<tr data-threshold-ok="true">');
  assert.match(page, '<tr data-threshold-ok="false">');
  assert.match(page, '✗ fail');
  assert.match(page, '0.0179');
  assert.match(page, 'thresholds: 1 of 2 failed');
  summary.thresholds = summary.thresholds.slice(0, 1);
  assert.match(renderHtmlReport(summary), 'thresholds: all 1 passed');
});

figures('chart data: per-second rates from the timeline, phases in protocol order', async () => {
  const summary = await summaryOfARun();
  const data = buildChartData(summary);
  assert.is(data.timeline.t.length, summary.timeline.length);
  summary.timeline.forEach((point, i) => {
    assert.ok(Math.abs(data.timeline.acceptedPerSecond[i]! - point.msgs_per_second) < 0.001, `accepted/s at ${point.t_seconds}`);
    assert.ok(Math.abs(data.timeline.startedPerSecond[i]! - (point.started * 1000) / point.window_ms) < 0.001, `started/s at ${point.t_seconds}`);
    assert.ok(Math.abs(data.timeline.failedPerSecond[i]! - (point.failed * 1000) / point.window_ms) < 0.001, `failed/s at ${point.t_seconds}`);
    assert.is(data.timeline.p95Ms[i], point.p95_ms);
  });
  assert.equal(data.phases.names, ['connect', 'greeting', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'message', 'quit']);
  assert.is(data.phases.p95Ms[7], Math.round(summary.results.phases['message']!.p95_seconds! * 1e6) / 1000);
  assert.is(data.spectrum.series[0]!.valuesMs.length, data.spectrum.x.length);
});

/** A real run's summary with known delivery figures: 40 lags of 20..800 ms, 7 lost (5 refused), a backlog per window. */
async function summaryWithDelivery(): Promise<Summary> {
  const summary = await summaryOfARun();
  const lag = new TrendSink();
  const e2e = new TrendSink();
  for (let i = 1; i <= 40; i++) {
    lag.record(i * 20_000);
    e2e.record(i * 20_000 + 5_000);
  }
  const figures = deliveryFigures({ counts: { delivered: 40, lost: 7, lost_refused: 5, lost_timeout: 2, pending: 0, duplicated: 0, unexpected: 0 }, lag, e2e }, summary.results.total_time_seconds);
  summary.delivery = { source: 'sink', timeout_seconds: 30, wait: 'complete', wait_seconds: 0.8, ...figures, late: 0, unknown: 0 };
  summary.timeline.forEach((point, i) => {
    point.delivered = i + 1;
    point.delivery_backlog = 10 * i;
  });
  return summary;
}

figures('delivery: accepted vs delivered per second and the backlog from the timeline; cards for delivered, lost (why) and the lag percentiles', async () => {
  const summary = await summaryWithDelivery();
  const data = buildChartData(summary);
  summary.timeline.forEach((point, i) => {
    assert.ok(Math.abs(data.delivery!.deliveredPerSecond[i]! - ((i + 1) * 1000) / point.window_ms) < 0.001, `delivered/s at ${point.t_seconds}`);
    assert.is(data.delivery!.backlog[i], 10 * i);
  });
  const page = renderHtmlReport(summary);
  assert.ok(page.includes('<section id="delivery">'));
  assert.ok(page.includes('id="chart-delivery"') && page.includes('id="chart-backlog"'));
  const d = summary.delivery!;
  for (const [key, value] of [['delivered', 40], ['lost', 7], ['delivered_rps', d.delivered_rps], ['delivery_lag_p95_seconds', d.lag.p95_seconds], ['delivery_lag_p50_seconds', d.lag.p50_seconds], ['delivery_lag_p99_seconds', d.lag.p99_seconds]] as const) {
    assert.ok(page.includes(`data-figure="${key}" data-value="${value}"`), `${key} = ${value}`);
  }
  assert.ok(page.includes('5 refused upstream · 2 not arrived in time'));
  assert.equal(deliveryCards(summary).map((c) => c.key), ['delivered', 'lost', 'delivery_lag_p95_seconds', 'e2e_p95_seconds']);
  // Without delivery tracking: no section, no chart data
  const plain = await summaryOfARun();
  assert.is(buildChartData(plain).delivery, undefined);
  assert.not.ok(renderHtmlReport(plain).includes('id="delivery"'));
});

const spectrum = suite('html report: percentile spectrum');

spectrum('extent: up to the percentile the sample count resolves, between p90 and p99.999', () => {
  const cases: [number, number][] = [[0, 1], [5, 1], [100, 2], [200, 2.5], [722, 3], [1000, 3], [123_456, 5], [1e9, 5]];
  for (const [count, xMax] of cases) assert.is(spectrumExtent(count), xMax, `count ${count}`);
});

spectrum('samples 1..1000 µs: p0 is the min, p90 ≈ 0.9 ms, p99 ≈ 0.99 ms, rising', () => {
  const trend = new TrendSink();
  for (let us = 1; us <= 1000; us++) trend.record(us);
  const { x, valuesMs } = percentileSpectrum(trend, 3, 4);
  assert.equal(x, [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3]);
  const cases: [number, number][] = [[0, 0.001], [4, 0.9], [8, 0.99], [12, 0.999]];
  for (const [index, ms] of cases) assert.ok(Math.abs(valuesMs[index]! - ms) <= ms * 0.002, `x=${x[index]}: ${valuesMs[index]} vs ${ms}`);
  for (let i = 1; i < valuesMs.length; i++) assert.ok(valuesMs[i]! >= valuesMs[i - 1]!, 'non-decreasing');
  assert.equal(percentileSpectrum(new TrendSink(), 3), { x: [], valuesMs: [] });
});

spectrum('success rate never rounds a failure away', () => {
  const cases: [number, number, string][] = [[1, 0, '100.0%'], [0, 0, '0.0%'], [0.9917, 6, '99.2%'], [0.99996, 1, '99.996%'], [0.9999996, 1, '99.99996%']];
  for (const [rate, failed, text] of cases) assert.is(formatSuccessRate(rate, failed), text);
});

const outputs = suite('html report: --report and runner report-html');

outputs('--report is an output of its own: with --out, and with --no-out too', () => {
  const temp = createTempDir();
  try {
    const withOut = createOutputs(['html=r.html'], temp.dir).map((o) => [o.description, o.path]);
    assert.equal(withOut, [['results file', withOut[0]![1]], ['HTML report', join(temp.dir, 'r.html')]]);
    const reportOnly = [...createOutputs(false, temp.dir), ...createCiOutputs({ report: 'r.html' }, temp.dir)].map((o) => [o.description, o.path]);
    assert.equal(reportOnly, [['HTML report', join(temp.dir, 'r.html')]]);
    assert.is(defaultReportPath('runs/a.json'), 'runs/a.html');
    assert.is(defaultReportPath('runs/a'), 'runs/a.html');
  } finally {
    temp.remove();
  }
});

outputs('prepare refuses a folder that does not exist, before any load', async () => {
  const temp = createTempDir();
  try {
    const output = createHtmlReportOutput(join(temp.dir, 'missing', 'r.html'));
    try {
      await output.prepare!({} as never);
      assert.unreachable('prepare should throw');
    } catch (error) {
      assert.instance(error, OutputError);
      assert.match((error as OutputError).message, 'does not exist');
    }
  } finally {
    temp.remove();
  }
});

outputs('a run with --report writes the report beside the results file, the same as report-html draws', async () => {
  const temp = createTempDir();
  try {
    const results = join(temp.dir, 'results.json');
    const report = join(temp.dir, 'report.html');
    const summary = await withFakeProxy({}, async (proxy) => (await runAgainst(proxy, { numEmails: 20, concurrent: 2, out: [results], report: report })).summary);
    assert.ok(existsSync(results) && existsSync(report));
    const page = readFileSync(report, 'utf8');
    assert.match(page, `data-figure="total_requests" data-value="${summary.results.total_requests}"`);
    assert.equal(await readReportSummary(results), JSON.parse(JSON.stringify(summary)));
    assert.is(renderHtmlReport(await readReportSummary(results)), page);
  } finally {
    temp.remove();
  }
});

function runCli(args: string[], cwd: string): Promise<Ran> {
  return runCliProcess(args, { cwd });
}

outputs('runner report-html results.json -o report.html, and clear errors for a wrong file', async () => {
  const temp = createTempDir();
  try {
    const results = join(temp.dir, 'results.json');
    writeFileSync(results, JSON.stringify(await summaryOfARun()));
    const ok = await runCli(['report-html', 'results.json', '-o', 'out.html'], temp.dir);
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, `HTML report written to: ${join(temp.dir, 'out.html')}`);
    assert.match(readFileSync(join(temp.dir, 'out.html'), 'utf8'), 'from results.json');
    const byDefault = await runCli(['report-html', 'results.json'], temp.dir);
    assert.is(byDefault.code, 0, byDefault.stderr);
    assert.ok(existsSync(join(temp.dir, 'results.html')));

    // The old Python tool's results file (the guide's shape): readable elsewhere, nothing to draw here.
    const latency = { min_seconds: 0.1, max_seconds: 0.3, avg_seconds: 0.2, p50_seconds: 0.2, p95_seconds: 0.3, p99_seconds: 0.3 };
    writeFileSync(join(temp.dir, 'old.json'), JSON.stringify({ timestamp: '2024-01-01T00:00:00', target: 'localhost:2525', config: {}, results: { total_requests: 5, successful: 5, failed: 0, success_rate: 1, throughput_rps: 1, throughput_rpm: 60, latency } }));
    writeFileSync(join(temp.dir, 'broken.json'), '{"results": ');
    const cases: [string[], RegExp][] = [
      [['report-html', 'nothing.json'], /error: cannot read .*nothing\.json: no such file/],
      [['report-html', 'broken.json'], /error: .*broken\.json is not JSON/],
      [['report-html', 'old.json'], /error: .*old\.json was written by the old Python tool: it has no timeline/],
      [['report-html', 'results.json', '-o', 'no/such/dir/r.html'], /error: HTML report .* does not exist/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(args, temp.dir);
      assert.ok(code === ExitCode.invalidOptions || code === ExitCode.outputError, `${args.join(' ')} → ${code}`);
      assert.match(stderr, message);
      assert.match(stderr, /hint: /);
      assert.not.match(stderr, /\n\s+at /);
    }
  } finally {
    temp.remove();
  }
});

outputs('runner run --report FILE (the flag, end to end through the CLI)', async () => {
  const temp = createTempDir();
  try {
    const { code, stdout, stderr } = await runCli(['run', '--with-fixture', '--num-emails', '10', '--concurrent', '2', '--out', 'r.json', '--report', 'r.html', '--quiet'], temp.dir);
    assert.is(code, 0, stderr);
    assert.match(readFileSync(join(temp.dir, 'r.html'), 'utf8'), 'data-figure="total_requests" data-value="10"');
    assert.match(stdout, `HTML report: ${join(temp.dir, 'r.html')}`);
    // With --no-out the report is still written: it is an output of its own.
    const reportOnly = await runCli(['run', '--with-fixture', '--no-out', '--report', 'only.html', '--num-emails', '5', '--quiet'], temp.dir);
    assert.is(reportOnly.code, 0, reportOnly.stderr);
    assert.ok(existsSync(join(temp.dir, 'only.html')));
    assert.not.ok(readdirSync(temp.dir).some((name) => name.startsWith('load_test_results_')));
  } finally {
    temp.remove();
  }
});

// A RunnerError, not a crash, is what a wrong results file produces (checked in-process too).
outputs('readReportSummary throws RunnerError for a file that is not a results file', async () => {
  const temp = createTempDir();
  try {
    const path = join(temp.dir, 'x.json');
    writeFileSync(path, '[]');
    try {
      await readReportSummary(path);
      assert.unreachable('should throw');
    } catch (error) {
      assert.instance(error, RunnerError);
    }
  } finally {
    temp.remove();
  }
});

selfContained.run();
escaping.run();
figures.run();
spectrum.run();
outputs.run();
