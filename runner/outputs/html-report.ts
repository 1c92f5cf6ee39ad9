/**
 * The HTML report: one self-contained file a person opens to understand a run without reading
 * JSON — headline figures, throughput and latency over time, the latency distribution
 * (percentile spectrum), phases, errors, thresholds, scenarios, accounts and the configuration;
 * with delivery tracking, what reached the upstream: accepted vs delivered per second, the
 * backlog over time and the delivery lag's percentiles.
 * uPlot's script and stylesheet are inlined, so the file opens offline and can be mailed or
 * attached to a CI run. Built from the Summary alone, so `runner report-html results.json`
 * gives the same page as `runner run --report`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, basename, join } from 'node:path';
import { PHASES } from '../smtp/phases.ts';
import { TrendSink, type EncodedTrend } from '../metrics/trend.ts';
import { formatDurationMs } from '../scenario/duration.ts';
import { OutputError } from '../errors.ts';
import { isOpenModelExecutor } from '../executors/index.ts';
import { assertWritable, writeFileAtomic, writeFileAtomicSync } from './atomic-write.ts';
import { formatBytes, formatLatency, formatNumber, formatTimestamp, round } from '../util/format.ts';
import type { RunOutput } from './output.ts';
import type { ErrorFigure, GroupFigures, LatencySeconds, Summary, ThresholdOutcome } from '../results/types.ts';
import type { Distributions } from '../results/summarise.ts';
import { html, inlineAsset, jsonForScript, SafeHtml } from './html-template.ts';
import { loadReportAssets } from './report-assets.ts';
import { describeCrossedThreshold, formatErrorBrief, formatThresholdValue, verdictOfSummary } from './verdict.ts';
import { parseCondition, parseMetricKey } from '../thresholds/parse.ts';
import { formatTooShort, formatTrend, isTooShortForTrend } from '../analysis/trend-detect.ts';
import { trendInMemory } from '../results/names.ts';
import { SIGNIFICANCE_ALPHA } from '../analysis/significance.ts';
import { ExitCode } from '../errors.ts';

/** uPlot's minified script and stylesheet, as installed (inlined into every report). */
export interface ChartAssets {
  script: string;
  css: string;
  version: string;
}

let cachedAssets: ChartAssets | undefined;

/**
 * Reads uPlot from the installed package (not bundled into dist/, which keeps packages
 * external). Throws an OutputError with the fix when the package is missing.
 */
export function loadChartAssets(): ChartAssets {
  if (cachedAssets) return cachedAssets;
  try {
    const require = createRequire(import.meta.url);
    const script = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    const version = (JSON.parse(readFileSync(require.resolve('uplot/package.json'), 'utf8')) as { version: string }).version;
    cachedAssets = { script, css, version };
    return cachedAssets;
  } catch (error) {
    throw new OutputError(`cannot read the chart library for the HTML report: ${(error as Error).message}`, 'reinstall runner\'s dependencies (npm install); the report inlines the uplot package', error);
  }
}

/** One headline figure: `value` is the raw number from the summary, `text` what the page shows. */
export interface HeadlineFigure {
  /** Stable key, the summary's field name (`total_requests`, `p95_seconds`, …); the DOM's data-figure. */
  key: string;
  label: string;
  value: number | null;
  text: string;
  sub?: SafeHtml;
  tone?: 'ok' | 'warn' | 'bad';
}

/** What the browser script draws: columns ready for uPlot (times in s, rates per s, latencies in ms). */
export interface ReportChartData {
  timeline: {
    /** Seconds since the start, at the end of each window. */
    t: number[];
    startedPerSecond: number[];
    acceptedPerSecond: number[];
    failedPerSecond: number[];
    vus: number[];
    /** Longest arrival queue of each window (0 in closed models and old results files). */
    queued: number[];
    p50Ms: (number | null)[];
    p95Ms: (number | null)[];
    p99Ms: (number | null)[];
  };
  /** Percentile spectrum: x = log10(1 / (1 - p/100)), so 1 is p90, 2 is p99, 3 is p99.9. */
  spectrum: { xMax: number; x: number[]; series: { key: string; label: string; valuesMs: number[] }[] };
  phases: { names: string[]; p50Ms: number[]; p95Ms: number[] };
  /** With delivery tracking: per timeline window (same t), delivered per second and the backlog at its end. */
  delivery?: { deliveredPerSecond: number[]; backlog: number[] };
  /** Latency thresholds on smtp_txn_duration, drawn as horizontal lines on the latency charts (ms). */
  latencyThresholds: LatencyThresholdLine[];
  /** The watched server process: CPU % of one core and RSS in MB per sample; null when none was watched. */
  server: { t: number[]; cpuPercent: number[]; rssMb: number[] } | null;
}

/** One threshold drawn on a latency chart. */
export interface LatencyThresholdLine {
  /** As people read it: 'p(95)<500ms'. */
  label: string;
  /** The limit in ms. */
  ms: number;
  /** The latency-over-time series it limits ('p95'), or null (avg, max, …: drawn in grey). */
  series: 'p50' | 'p95' | 'p99' | null;
  ok: boolean;
}

const DRAWN_AGGREGATIONS = new Set(['p', 'med', 'avg', 'max', 'min']);

/**
 * The latency thresholds a chart can draw: conditions on the whole smtp_txn_duration (a
 * sub-metric with tags is a different population, so it is left out) that compare a time.
 */
export function latencyThresholdLines(thresholds: readonly ThresholdOutcome[]): LatencyThresholdLine[] {
  const lines: LatencyThresholdLine[] = [];
  for (const t of thresholds) {
    try {
      const key = parseMetricKey(t.metric);
      if (key.metric !== 'smtp_txn_duration' || Object.keys(key.tags).length > 0) continue;
      const condition = parseCondition(t.condition);
      if (!DRAWN_AGGREGATIONS.has(condition.aggregation)) continue;
      const percentile = condition.aggregation === 'med' ? 50 : condition.percentile;
      const series = percentile === 50 ? 'p50' : percentile === 95 ? 'p95' : percentile === 99 ? 'p99' : null;
      lines.push({ label: condition.source, ms: condition.value, series, ok: t.ok });
    } catch {
      // A condition the grammar no longer takes (an old file): not drawn, still listed in the table.
    }
  }
  return lines;
}

/** Points per decade of the spectrum's x axis (p0→p90, p90→p99, …). */
const SPECTRUM_STEPS_PER_DECADE = 40;
/** The spectrum goes at most to p99.999, HdrHistogram's customary end. */
const SPECTRUM_MAX_DECADES = 5;

/**
 * The x extent of a spectrum for `count` samples: up to the percentile the samples still resolve
 * (1/(1-p) ≤ count; beyond it every percentile is the max), at least p90, at most p99.999.
 */
export function spectrumExtent(count: number): number {
  if (count <= 10) return 1;
  return Math.min(SPECTRUM_MAX_DECADES, Math.ceil(Math.log10(count) * 4) / 4);
}

/**
 * Samples a trend (µs) at percentiles spaced evenly on the log axis, HdrHistogram-style, from
 * p0 (the min) to the percentile at `xMax`; returns the x positions and the latencies in ms.
 */
export function percentileSpectrum(trend: TrendSink, xMax: number, stepsPerDecade = SPECTRUM_STEPS_PER_DECADE): { x: number[]; valuesMs: number[] } {
  const x: number[] = [];
  const valuesMs: number[] = [];
  if (trend.count === 0) return { x, valuesMs };
  const steps = Math.round(xMax * stepsPerDecade);
  for (let i = 0; i <= steps; i++) {
    const position = i / stepsPerDecade;
    x.push(position);
    valuesMs.push(round(trend.percentile(100 * (1 - 10 ** -position)) / 1000, 3));
  }
  return { x, valuesMs };
}

function secondsToMs(seconds: number | null): number {
  return seconds === null ? 0 : round(seconds * 1000, 3);
}

/** Whether any scenario is open-model (its response time counts waiting for a free VU). */
function isOpenModel(summary: Summary): boolean {
  return Object.values(summary.scenarios).some((s) => isOpenModelExecutor(s.executor));
}

/** Decodes a histogram of the summary; an empty trend when it is missing or corrupt (unlike results/read.ts's decodeTrend, which throws). */
function decodeTrendOrEmpty(encoded: EncodedTrend | undefined): TrendSink {
  if (!encoded) return new TrendSink();
  try {
    return TrendSink.decode(encoded);
  } catch {
    // A hand-edited or truncated histogram must not cost the whole report: the chart says "no data".
    return new TrendSink();
  }
}

/**
 * Builds the chart columns from a summary. `distributions`: the run's own histograms when the
 * report is drawn by the run itself; without them (a results file) they are decoded from it.
 */
export function buildChartData(summary: Summary, distributions?: Distributions): ReportChartData {
  const timeline: ReportChartData['timeline'] = { t: [], startedPerSecond: [], acceptedPerSecond: [], failedPerSecond: [], vus: [], queued: [], p50Ms: [], p95Ms: [], p99Ms: [] };
  for (const point of summary.timeline) {
    const perSecond = point.window_ms > 0 ? 1000 / point.window_ms : 0;
    timeline.t.push(point.t_seconds);
    timeline.startedPerSecond.push(round(point.started * perSecond, 3));
    timeline.acceptedPerSecond.push(round(point.msgs_per_second, 3));
    timeline.failedPerSecond.push(round(point.failed * perSecond, 3));
    timeline.vus.push(point.vus);
    timeline.queued.push(point.queued ?? 0);
    timeline.p50Ms.push(point.p50_ms);
    timeline.p95Ms.push(point.p95_ms);
    timeline.p99Ms.push(point.p99_ms);
  }

  const duration = distributions?.txn ?? decodeTrendOrEmpty(summary.histograms?.txn_duration);
  const trends = [{ key: 'txn', label: 'transaction duration', trend: duration }];
  if (isOpenModel(summary)) trends.push({ key: 'response', label: 'response time (from planned start)', trend: distributions?.responseTime ?? decodeTrendOrEmpty(summary.histograms?.txn_response_time) });
  const xMax = spectrumExtent(Math.max(...trends.map((t) => t.trend.count)));
  const sampled = trends.filter((t) => t.trend.count > 0).map((t) => ({ key: t.key, label: t.label, ...percentileSpectrum(t.trend, xMax) }));
  const spectrum: ReportChartData['spectrum'] = {
    xMax,
    x: sampled[0]?.x ?? [],
    series: sampled.map(({ key, label, valuesMs }) => ({ key, label, valuesMs })),
  };

  const names = orderedPhases(Object.keys(summary.results.phases));
  const phases: ReportChartData['phases'] = {
    names,
    p50Ms: names.map((name) => secondsToMs(summary.results.phases[name]!.p50_seconds)),
    p95Ms: names.map((name) => secondsToMs(summary.results.phases[name]!.p95_seconds)),
  };
  const samples = summary.watch?.samples ?? [];
  const server = samples.length > 0
    ? { t: samples.map((p) => p.t_seconds), cpuPercent: samples.map((p) => p.cpu_percent), rssMb: samples.map((p) => round(p.rss_bytes / 1048576, 1)) }
    : null;
  const data: ReportChartData = { timeline, spectrum, phases, latencyThresholds: latencyThresholdLines(summary.thresholds), server };
  if (summary.delivery) {
    data.delivery = {
      deliveredPerSecond: summary.timeline.map((point) => round(point.window_ms > 0 ? ((point.delivered ?? 0) * 1000) / point.window_ms : 0, 3)),
      backlog: summary.timeline.map((point) => point.delivery_backlog ?? 0),
    };
  }
  return data;
}

/** Phase names in protocol order (unknown names, from a newer results file, last). */
function orderedPhases(names: string[]): string[] {
  const rank = (name: string) => {
    const index = (PHASES as readonly string[]).indexOf(name);
    return index < 0 ? PHASES.length : index;
  };
  return [...names].sort((a, b) => rank(a) - rank(b));
}

/** A whole number with thousands separators: 12,345. */
export function formatCount(value: number): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * A success rate as a percentage with one decimal, more when rounding would show 100.0% while
 * messages failed (a report must not hide a failure in the rounding).
 */
export function formatSuccessRate(rate: number, failed: number): string {
  let digits = 1;
  let text = (rate * 100).toFixed(digits);
  while (failed > 0 && Number(text) >= 100 && digits < 6) text = (rate * 100).toFixed(++digits);
  return `${text}%`;
}

/** A rate per second for people: one decimal, or three below 1. */
function formatRate(perSecond: number): string {
  return perSecond >= 1 || perSecond === 0 ? perSecond.toFixed(1) : perSecond.toFixed(3);
}

/**
 * The success rate's colour: green without failures; with some, red when a threshold on
 * smtp_txn_failed failed (or, without one, below 99%), amber when they are within bounds.
 */
function successTone(summary: Summary): HeadlineFigure['tone'] {
  const r = summary.results;
  if (r.failed === 0) return r.successful > 0 ? 'ok' : undefined;
  const judged = summary.thresholds.filter((t) => t.metric === 'smtp_txn_failed');
  if (judged.length) return judged.every((t) => t.ok) ? 'warn' : 'bad';
  return r.success_rate < 0.99 ? 'bad' : 'warn';
}

/** The figures in the cards at the top. */
export function headlineFigures(summary: Summary): HeadlineFigure[] {
  const r = summary.results;
  const latency = r.latency;
  const open = isOpenModel(summary);
  return [
    {
      key: 'total_requests', label: 'Requests', value: r.total_requests, text: formatCount(r.total_requests),
      sub: html`<span data-figure="successful" data-value="${r.successful}">${formatCount(r.successful)}</span> accepted · <span data-figure="failed" data-value="${r.failed}">${formatCount(r.failed)}</span> failed`,
    },
    {
      key: 'success_rate', label: 'Success rate', value: r.success_rate, text: formatSuccessRate(r.success_rate, r.failed),
      sub: html`of messages judged${r.interrupted ? ` (${formatCount(r.interrupted)} interrupted)` : ''}`,
      tone: successTone(summary),
    },
    {
      key: 'throughput_rps', label: 'Throughput', value: r.throughput_rps, text: `${formatRate(r.throughput_rps)} msg/s`,
      sub: html`<span data-figure="throughput_rpm" data-value="${r.throughput_rpm}">${formatCount(r.throughput_rpm)}</span> per minute`,
    },
    { key: 'p50_seconds', label: 'Latency p50', value: latency.p50_seconds, text: formatLatency(latency.p50_seconds), sub: html`avg ${formatLatency(latency.avg_seconds)}` },
    {
      key: 'p95_seconds', label: 'Latency p95', value: latency.p95_seconds, text: formatLatency(latency.p95_seconds),
      sub: open ? html`response time ${formatLatency(r.response_time.p95_seconds)}` : html`p90 ${formatLatency(latency.p90_seconds)}`,
    },
    { key: 'p99_seconds', label: 'Latency p99', value: latency.p99_seconds, text: formatLatency(latency.p99_seconds), sub: html`max ${formatLatency(latency.max_seconds)}` },
  ];
}

function renderHeader(summary: Summary, isRunning = false): SafeHtml {
  const failedThresholds = summary.thresholds.filter((t) => !t.ok).length;
  const statusBadge = isRunning
    ? html`<span class="badge warn" data-status="running">running</span>`
    : summary.status === 'completed'
    ? html`<span class="badge ok" data-status="completed">completed</span>`
    : html`<span class="badge ${summary.status === 'aborted' ? 'bad' : 'warn'}" data-status="${summary.status}">${summary.status}</span>`;
  const thresholdBadge = summary.thresholds.length === 0
    ? null
    : failedThresholds === 0
      ? html`<span class="badge ok">thresholds: all ${summary.thresholds.length} passed</span>`
      : html`<span class="badge bad">thresholds: ${failedThresholds} of ${summary.thresholds.length} failed</span>`;
  const config = summary.config ?? {};
  const scenarioFile = typeof config['scenario_file'] === 'string' ? config['scenario_file'] : null;
  const executors = Object.entries(summary.scenarios).map(([name, s]) => `${name} (${s.executor})`).join(', ');
  return html`<header class="run">
  <div>
    <h1>SMTP load test · <span class="target">${summary.target || 'unknown target'}</span></h1>
    <ul class="meta">
      <li>started <b>${formatTimestamp(summary.timestamp, { isUtcShown: true })}</b></li>
      <li>duration <b>${formatDurationMs(summary.results.total_time_seconds * 1000)}</b></li>
      ${scenarioFile ? html`<li>scenario file <b>${scenarioFile}</b></li>` : html`<li>from command-line flags</li>`}
      ${executors ? html`<li>scenarios <b>${executors}</b></li>` : null}
    </ul>
  </div>
  <div class="badges">${statusBadge}${thresholdBadge}</div>
</header>
${summary.status !== 'completed' && !isRunning ? html`<p class="notice">Run ${summary.status}${summary.abort_reason ? `: ${summary.abort_reason}` : ''}. The figures cover what was measured until then.</p>` : null}`;
}

/** The delivery cards (with delivery tracking): delivered, lost, the lag's percentiles, end to end. */
export function deliveryFigures(summary: Summary): HeadlineFigure[] {
  const d = summary.delivery;
  if (!d) return [];
  const judged = d.delivered + d.lost;
  const share = (n: number) => (judged ? `${((n / judged) * 100).toFixed(1)}%` : '-');
  const lostWhy = [d.lost_refused ? `${formatCount(d.lost_refused)} refused upstream` : '', (d.lost_timeout ?? d.lost - (d.lost_refused ?? 0)) ? `${formatCount(d.lost_timeout ?? d.lost - (d.lost_refused ?? 0))} not arrived in time` : '']
    .filter(Boolean)
    .join(' · ');
  return [
    {
      key: 'delivered', label: 'Delivered', value: d.delivered, text: formatCount(d.delivered),
      sub: html`${share(d.delivered)} of accepted · <span data-figure="delivered_rps" data-value="${d.delivered_rps}">${formatRate(d.delivered_rps)}</span>/s`,
      tone: d.lost === 0 && d.delivered > 0 ? 'ok' : undefined,
    },
    {
      key: 'lost', label: 'Lost', value: d.lost, text: formatCount(d.lost),
      sub: html`${d.lost ? lostWhy : 'none'}${d.pending ? ` · ${formatCount(d.pending)} pending` : ''}`,
      tone: d.lost > 0 ? 'bad' : d.pending > 0 ? 'warn' : undefined,
    },
    {
      key: 'delivery_lag_p95_seconds', label: 'Delivery lag p95', value: d.lag.p95_seconds, text: formatLatency(d.lag.p95_seconds),
      sub: html`p50 <span data-figure="delivery_lag_p50_seconds" data-value="${d.lag.p50_seconds ?? ''}">${formatLatency(d.lag.p50_seconds)}</span> · p99 <span data-figure="delivery_lag_p99_seconds" data-value="${d.lag.p99_seconds ?? ''}">${formatLatency(d.lag.p99_seconds)}</span> · max ${formatLatency(d.lag.max_seconds)}`,
    },
    {
      key: 'e2e_p95_seconds', label: 'End to end p95', value: d.e2e.p95_seconds, text: formatLatency(d.e2e.p95_seconds),
      sub: html`start to arrival · p50 ${formatLatency(d.e2e.p50_seconds)}`,
    },
  ];
}

function renderCard(figure: HeadlineFigure): SafeHtml {
  return html`<div class="card">
  <div class="label">${figure.label}</div>
  <div class="value${figure.tone ? ` ${figure.tone}` : ''}" data-figure="${figure.key}" data-value="${figure.value ?? ''}">${figure.text}</div>
  ${figure.sub ? html`<div class="sub">${figure.sub}</div>` : null}
</div>`;
}

/** The delivery section: its cards, accepted vs delivered per second, the backlog over time; nothing without tracking. */
function renderDelivery(summary: Summary): SafeHtml | null {
  const d = summary.delivery;
  if (!d) return null;
  const wait = { complete: 'every accepted message arrived or was refused', timed_out: 'the timeout passed', interrupted: 'interrupted (the rest are pending)', skipped: 'not waited (the load was interrupted)' }[d.wait];
  // Its own line after the thresholds; nothing at all without tracking (the page is as before)
  return html`
<section id="delivery"><h2>Delivery upstream</h2>
<p class="note">What of the accepted messages reached the upstream (${d.source === 'sink' ? 'a runner sink' : 'an IMAP mailbox'}, timeout ${formatDurationMs(d.timeout_seconds * 1000)}): a relaying proxy says 250 before it relays, so accepted is not delivered. Lag: the 250 to the arrival upstream. Wait after the load ${d.wait_seconds.toFixed(1)} s, ${wait}.</p>
<div class="cards">${deliveryFigures(summary).map(renderCard)}</div>
<div class="grid2">
  <div><h3>Accepted vs delivered per second</h3><div id="chart-delivery" class="chart"></div></div>
  <div><h3>Backlog over time</h3><p class="note">Accepted, not arrived nor refused yet: the proxy's own queue (the lost stay in it).</p><div id="chart-backlog" class="chart"></div></div>
</div></section>`;
}

/**
 * The banner at the top: the verdict line a run prints last (✓ PASSED / ✗ FAILED: what crossed
 * and why — exit N), from the summary alone, and the commonest errors when messages failed.
 */
function renderVerdict(summary: Summary): SafeHtml {
  const { exitCode, text } = verdictOfSummary(summary);
  const tone = exitCode === ExitCode.ok ? 'ok' : exitCode === ExitCode.interrupted ? 'warn' : 'bad';
  const crossed = summary.thresholds.filter((t) => !t.ok);
  const errors = [...summary.results.errors].sort((a, b) => b.count - a.count).slice(0, 3);
  return html`<section id="verdict" class="verdict ${tone}" data-exit-code="${exitCode}" role="status">
  <p class="verdict-line">${text}</p>
  ${crossed.length > 0 ? html`<ul class="crossed">${crossed.map((t) => html`<li>${describeCrossedThreshold(summary, t)}</li>`)}</ul>` : null}
  ${tone !== 'ok' && errors.length > 0 ? html`<p class="why">Commonest errors: ${errors.map(formatErrorBrief).join('; ')}.</p>` : null}
</section>`;
}

function renderCards(summary: Summary): SafeHtml {
  const r = summary.results;
  const cards = headlineFigures(summary).map((figure) => html`<div class="card">
  <div class="label">${figure.label}</div>
  <div class="value${figure.tone ? ` ${figure.tone}` : ''}" data-figure="${figure.key}" data-value="${figure.value ?? ''}">${figure.text}</div>
  ${figure.sub ? html`<div class="sub">${figure.sub}</div>` : null}
</div>`);
  const facts: [string, string][] = [
    ['connections', formatCount(r.connections)],
    ['iterations', formatCount(r.iterations)],
    ['max VUs', formatCount(r.vus_max)],
    ['sent', formatBytes(r.bytes_sent)],
    ['received', formatBytes(r.bytes_received)],
  ];
  if (r.dropped_iterations) facts.push(['dropped iterations', formatCount(r.dropped_iterations)]);
  if (r.interrupted) facts.push(['interrupted', formatCount(r.interrupted)]);
  if (r.script_errors) facts.push(['script errors', formatCount(r.script_errors)]);
  return html`<div class="cards">${cards}</div>
<p class="facts">${facts.map(([label, value]) => html`<span>${label} <b>${value}</b></span>`)}</p>`;
}

function table(headers: (string | [string, string])[], rows: SafeHtml[]): SafeHtml {
  const head = headers.map((h) => (typeof h === 'string' ? html`<th>${h}</th>` : html`<th class="${h[1]}">${h[0]}</th>`));
  return html`<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

function renderThresholds(summary: Summary): SafeHtml {
  if (summary.thresholds.length === 0) {
    return html`<section id="thresholds"><h2>Thresholds</h2><p class="note">None defined. Add <code>thresholds</code> to the scenario (e.g. <code>smtp_txn_duration: ['p(95)&lt;500ms']</code>) to make the run pass or fail in CI.</p></section>`;
  }
  // data-label: the column's name, shown beside each cell when a narrow screen stacks the rows.
  const rows = summary.thresholds.map((t) => html`<tr data-threshold-ok="${String(t.ok)}">
  <td class="l ${t.ok ? 'pass' : 'fail'}" data-label="result">${t.ok ? '✓ pass' : '✗ fail'}</td><td class="l mono" data-label="metric">${t.metric}</td><td class="l mono" data-label="condition">${t.condition}</td>
  <td data-label="actual" data-threshold-actual="${t.actual ?? ''}">${formatThresholdValue(summary, t)}</td><td class="l" data-label="">${t.abort_on_fail ? 'aborts the run' : ''}</td></tr>`);
  return html`<section id="thresholds"><h2>Thresholds</h2>
<p class="note">Each condition judged over the whole run; a failed one makes <code>runner run</code> exit with code 99.</p>
<div class="stack-narrow">${table([['result', 'l'], ['metric', 'l'], ['condition', 'l'], 'actual', ['', 'l']], rows)}</div></section>`;
}

function latencyCells(latency: LatencySeconds): SafeHtml {
  return html`<td>${formatLatency(latency.p50_seconds)}</td><td>${formatLatency(latency.p95_seconds)}</td><td>${formatLatency(latency.p99_seconds)}</td>`;
}

function groupCells(group: GroupFigures): SafeHtml {
  return html`<td>${formatCount(group.total_requests)}</td><td>${formatCount(group.successful)}</td><td>${formatCount(group.failed)}</td>
<td>${formatSuccessRate(group.success_rate, group.failed)}</td><td>${formatRate(group.throughput_rps)}</td>${latencyCells(group.latency)}`;
}

const GROUP_HEADERS = ['requests', 'accepted', 'failed', 'success', 'req/s', 'p50', 'p95', 'p99'];

function renderScenarios(summary: Summary): SafeHtml {
  const rows = Object.entries(summary.scenarios).map(([name, s]) => html`<tr><td class="l">${name}</td><td class="l">${s.executor}</td>${groupCells(s)}<td>${formatCount(s.dropped_iterations)}</td></tr>`);
  return html`<section id="scenarios"><h2>Scenarios</h2>
${rows.length ? table([['scenario', 'l'], ['executor', 'l'], ...GROUP_HEADERS, 'dropped'], rows) : html`<p class="empty">No scenarios.</p>`}</section>`;
}

function renderAccounts(summary: Summary): SafeHtml {
  const rows = Object.entries(summary.accounts)
    .sort((a, b) => b[1].total_requests - a[1].total_requests)
    .map(([name, a]) => html`<tr><td class="l mono">${name}</td>${groupCells(a)}</tr>`);
  return html`<section id="accounts"><h2>Accounts</h2>
<p class="note">Per sender (AUTH user). A proxy with per-account limits or token refreshes shows it here first.</p>
${rows.length ? table([['account', 'l'], ...GROUP_HEADERS], rows) : html`<p class="empty">No messages were sent.</p>`}</section>`;
}

/** Retries (with a scenario's `retry`): deferrals by reply, first-try share, attempts and eventual duration. */
function renderRetries(summary: Summary): SafeHtml | null {
  const r = summary.retries;
  if (!r) return null;
  const byReply = Object.entries(r.deferrals).map(([code, count]) => html`<tr><td class="l mono">${code}</td><td>${formatCount(count)}</td></tr>`);
  const e = r.eventual_duration;
  return html`<section id="retries"><h2>Retries</h2>
<p class="note">Deferred messages are sent again after a backoff, as an MTA does; they count as failed only once their attempts run out. Eventual duration: the first attempt's start to the final 250 or final failure.</p>
${table([['figure', 'l'], 'value'], [
    html`<tr><td class="l">deferred attempts</td><td>${formatCount(r.deferred)}</td></tr>`,
    html`<tr><td class="l">accepted on the first try</td><td>${formatCount(r.first_try)} (${(r.first_try_rate * 100).toFixed(1)}%)</td></tr>`,
    html`<tr><td class="l">attempts per message (avg / p95 / max)</td><td>${r.attempts_per_message.avg.toFixed(2)} / ${String(r.attempts_per_message.p95)} / ${String(r.attempts_per_message.max)}</td></tr>`,
    html`<tr><td class="l">eventual duration (p50 / p95 / p99)</td><td>${formatLatency(e.p50_seconds)} / ${formatLatency(e.p95_seconds)} / ${formatLatency(e.p99_seconds)}</td></tr>`,
    html`<tr><td class="l">pending at the end</td><td>${formatCount(r.pending)}</td></tr>`,
  ])}
${byReply.length ? table([['reply', 'l'], 'deferrals'], byReply) : html``}</section>`;
}

function replyOf(e: ErrorFigure): string {
  if (e.code !== null) return e.enhanced ? `${e.code} ${e.enhanced}` : String(e.code);
  return e.error ?? 'unknown';
}

function errorRows(errors: ErrorFigure[], total: number): SafeHtml[] {
  const rank = (phase: string) => {
    const index = (PHASES as readonly string[]).indexOf(phase);
    return index < 0 ? PHASES.length : index;
  };
  return [...errors]
    .sort((a, b) => rank(a.phase) - rank(b.phase) || b.count - a.count)
    .map((e) => html`<tr><td class="l">${e.phase}</td><td class="l mono">${replyOf(e)}</td><td>${formatCount(e.count)}</td>
<td>${total > 0 ? `${((e.count / total) * 100).toFixed(1)}%` : '-'}</td><td class="text">${e.text}</td></tr>`);
}

function renderErrors(summary: Summary): SafeHtml {
  const r = summary.results;
  const failedTotal = r.errors.reduce((sum, e) => sum + e.count, 0);
  const headers: (string | [string, string])[] = [['phase', 'l'], ['reply / error', 'l'], 'count', 'share', ['text', 'l']];
  const failed = r.errors.length
    ? table(headers, errorRows(r.errors, failedTotal))
    : html`<p class="empty">No failed messages.</p>`;
  const after = r.errors_after_accept.length
    ? html`<h3>After the message was accepted (not failures)</h3>${table(headers, errorRows(r.errors_after_accept, r.errors_after_accept.reduce((sum, e) => sum + e.count, 0)))}`
    : null;
  return html`<section id="errors"><h2>Errors by phase and reply</h2>
<p class="note">Where each failed message stopped, and what the server said (or the client error: timeout, reset, …).</p>
${failed}${after}</section>`;
}

function renderPercentiles(summary: Summary, open: boolean): SafeHtml {
  const rows: [string, LatencySeconds][] = [['transaction', summary.results.latency]];
  if (open) rows.push(['response time', summary.results.response_time]);
  return table([['', 'l'], 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'], rows.map(([label, l]) => html`<tr><td class="l">${label}</td>
<td>${formatLatency(l.p50_seconds)}</td><td>${formatLatency(l.p90_seconds)}</td><td>${formatLatency(l.p95_seconds)}</td>
<td>${formatLatency(l.p99_seconds)}</td><td>${formatLatency(l.p999_seconds)}</td><td>${formatLatency(l.max_seconds)}</td></tr>`));
}

function renderPhases(summary: Summary): SafeHtml {
  const names = orderedPhases(Object.keys(summary.results.phases));
  const rows = names.map((name) => {
    const l = summary.results.phases[name]!;
    return html`<tr><td class="l">${name}</td><td>${formatCount(l.count)}</td><td>${formatLatency(l.avg_seconds)}</td>
${latencyCells(l)}<td>${formatLatency(l.max_seconds)}</td></tr>`;
  });
  return html`<section id="phases"><h2>Per-phase latency</h2>
<p class="note">Time from sending each command to its reply; <b>message</b> is the body and final dot until the server accepts (its relay upstream). Log scale: each grid step is ten times longer, so short phases stay visible.</p>
<div id="chart-phases" class="chart"></div>
${rows.length ? table([['phase', 'l'], 'count', 'avg', 'p50', 'p95', 'p99', 'max'], rows) : null}</section>`;
}

function renderCustomMetrics(summary: Summary): SafeHtml | null {
  const entries = Object.entries(summary.custom_metrics ?? {});
  if (!entries.length) return null;
  const number = (value: number | undefined) => (value === undefined ? '-' : Number.isInteger(value) ? formatCount(value) : value.toFixed(3));
  const rows = entries.map(([name, m]) => html`<tr><td class="l mono">${name}</td><td class="l">${m.type}</td><td>${formatCount(m.count)}</td>
<td>${m.rate === undefined ? '-' : m.type === 'rate' ? `${(m.rate * 100).toFixed(2)}%` : `${number(m.rate)}/s`}</td><td>${number(m.value)}</td>
<td>${number(m.avg)}</td><td>${number(m.p95)}</td><td>${number(m.max)}</td></tr>`);
  const ignored = entries.filter(([, m]) => m.ignored_values).map(([name, m]) => `${name}: ${formatCount(m.ignored_values!)}`);
  return html`<section id="custom-metrics"><h2>Custom metrics</h2>
<p class="note">Declared by the scenario code; trends of time in ms.</p>
${ignored.length ? html`<p class="note">Values add() ignored (not a finite number, or a negative trend value), in no figure: ${ignored.join(', ')}.</p>` : null}
${table([['metric', 'l'], ['type', 'l'], 'count', 'rate', 'value', 'avg', 'p95', 'max'], rows)}</section>`;
}

/** The watched server process (CPU, memory) and the trend verdicts; null when neither is in the summary. */
function renderServerAndTrends(summary: Summary): SafeHtml | null {
  const watch = summary.watch;
  const trends = summary.trends;
  if (!watch && !trends) return null;
  const size = (bytes: number | null) => (bytes === null ? '-' : formatBytes(bytes));
  const server = watch
    ? html`<p class="note">Process ${String(watch.pid)}${watch.name ? ` (${watch.name})` : ''}${watch.source === 'listening-port' ? ', found listening on the target port' : ''}: CPU avg <b>${String(watch.cpu_percent_avg ?? '-')}%</b>, max <b>${String(watch.cpu_percent_max ?? '-')}%</b> of one core; memory (RSS) <b>${size(watch.rss_bytes_first)} → ${size(watch.rss_bytes_last)}</b> (max ${size(watch.rss_bytes_max)})${watch.exited ? '; it exited during the run' : ''}.</p>
<div id="chart-server" class="chart"></div>`
    : html`<p class="note">No server process was watched (--watch-pid, or a process listening on the target port on this machine).</p>`;
  let trendRows: SafeHtml[] = [];
  let trendNote: SafeHtml | null = null;
  if (trends) {
    const all = [['latency (p95)', trends.latency], ['throughput', trends.throughput], ['server memory', trends.server_memory]] as const;
    trendRows = all.filter(([, t]) => t !== null).map(([label, t]) => {
      const inMemory = trendInMemory(t!);
      const text = t!.verdict === 'insufficient data' ? (isTooShortForTrend(inMemory) ? formatTooShort(inMemory) : 'not enough data') : formatTrend(inMemory);
      const tone = t!.verdict === 'creep' || t!.verdict === 'degrading' ? 'fail' : t!.verdict === 'insufficient data' ? '' : 'pass';
      return html`<tr data-trend="${t!.metric}" data-verdict="${t!.verdict}"><td class="l">${label}</td><td class="l ${tone}">${t!.verdict}</td><td class="text">${text}</td></tr>`;
    });
    trendNote = html`<p class="note">Trends are fitted over the steady part of the run; a verdict needs enough steady windows and a change that matters, and a significant one has p &lt; ${String(SIGNIFICANCE_ALPHA)} (runner's one rule, as in <code>compare</code>).</p>`;
  }
  return html`<section id="server"><h2>Server and trends over time</h2>
${server}
${trendNote}${trendRows.length ? table([['metric', 'l'], ['verdict', 'l'], ['detail', 'l']], trendRows) : null}</section>`;
}

/** One configuration value for people: durations from *_ms, sizes from *_bytes, stages as steps. */
function formatConfigValue(key: string, value: unknown, timeUnitMs?: number): string {
  if (value === null || value === undefined) return '—';
  if (key === 'stages' && Array.isArray(value)) {
    const unit = timeUnitMs ? `/${formatDurationMs(timeUnitMs)}` : '';
    return value
      .map((stage: { durationMs?: number; target?: number }) => `${typeof stage.durationMs === 'number' ? formatDurationMs(stage.durationMs) : '?'} → ${stage.target ?? '?'}${unit}`)
      .join(', ');
  }
  if (typeof value === 'number' && key.endsWith('_ms')) return formatDurationMs(value);
  if (typeof value === 'number' && key.endsWith('_bytes')) return `${formatCount(value)} bytes`;
  if (Array.isArray(value)) return value.length ? value.map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item))).join(', ') : '—';
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length ? entries.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ') : '—';
  }
  return String(value);
}

function configList(config: Record<string, unknown>): SafeHtml {
  const timeUnitMs = typeof config['time_unit_ms'] === 'number' ? config['time_unit_ms'] : undefined;
  return html`<dl class="config">${Object.entries(config).map(([key, value]) => html`<dt>${key}</dt><dd>${formatConfigValue(key, value, timeUnitMs)}</dd>`)}</dl>`;
}

function renderConfig(summary: Summary): SafeHtml {
  const { scenarios, ...top } = (summary.config ?? {}) as Record<string, unknown>;
  const perScenario = scenarios && typeof scenarios === 'object' ? Object.entries(scenarios as Record<string, Record<string, unknown>>) : [];
  return html`<section id="config"><h2>Configuration</h2>
<p class="note">As the run resolved it (defaults and command-line overrides applied).</p>
${configList(top)}
${perScenario.map(([name, config]) => html`<h3>Scenario ${name}</h3>${configList(config ?? {})}`)}</section>`;
}

/** Options for rendering a report. */
export interface HtmlReportOptions {
  /** Where the data came from, shown in the footer (e.g. the results file's name). */
  source?: string;
  /** The run's own histograms (see buildChartData). */
  distributions?: Distributions;
  /** Served live (outputs/dashboard.ts): the page subscribes to these server-sent events. */
  live?: { eventsPath: string };
  /** The figures so far of a run still going (the live dashboard): the status badge says `running`. */
  isRunning?: boolean;
}

/** Renders the whole report page for a summary (synchronous: also used on a second Ctrl+C). */
export function renderHtmlReport(summary: Summary, options: HtmlReportOptions = {}): string {
  const assets = loadChartAssets();
  const own = loadReportAssets();
  const live = options.live;
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="runner">
<title>${live ? 'Live · ' : ''}SMTP load test · ${summary.target} · ${formatTimestamp(summary.timestamp, { isUtcShown: true })}</title>
<style>${inlineAsset(assets.css, 'style', 'uPlot.min.css')}</style>
<style>
${inlineAsset(own.css, 'style', 'report.css')}</style>
</head>
<body${live ? html` data-live="${live.eventsPath}"` : null}>${live ? html`
<p class="live-status" id="live-status" data-state="connecting">Live dashboard: connecting…</p>` : null}
<main>
${new SafeHtml(renderReportMain(summary, options))}
</main>
<script type="application/json" id="report-data">${jsonForScript(buildChartData(summary, options.distributions))}</script>
<script>${inlineAsset(assets.script, 'script', 'uPlot.iife.min.js')}</script>
<script>
${inlineAsset(own.script, 'script', 'report.js')}</script>
</body>
</html>
`;
  return page.text;
}

/**
 * The content of the page's <main>: everything but the chart data and scripts. The live
 * dashboard (outputs/dashboard.ts) sends it each second with the chart data.
 */
export function renderReportMain(summary: Summary, options: HtmlReportOptions = {}): string {
  const assets = loadChartAssets();
  const open = isOpenModel(summary);
  return html`${renderHeader(summary, options.isRunning)}
${renderVerdict(summary)}
${renderCards(summary)}
${renderThresholds(summary)}${renderDelivery(summary)}
<div class="grid2">
  <section id="throughput"><h2>Throughput over time</h2>
    <p class="note">Per second: messages started (the offered load), accepted and failed; active VUs on the right axis.</p>
    <div id="chart-throughput" class="chart"></div></section>
  <section id="latency"><h2>Latency over time</h2>
    <p class="note">Percentiles of the transaction (connect to message accepted) among messages accepted in each second; dashed lines: the latency thresholds.</p>
    <div id="chart-latency" class="chart"></div></section>
</div>
<div class="grid2">
  <section id="distribution"><h2>Latency distribution</h2>
    <p class="note">Percentile spectrum: the latency below which each share of messages finished. The right end is the rare slow tail${open ? '; response time adds any wait for a free VU after the planned start' : ''}.</p>
    <div id="chart-spectrum" class="chart"></div>
    ${renderPercentiles(summary, open)}</section>
  ${renderPhases(summary)}
</div>
${renderErrors(summary)}
${renderServerAndTrends(summary)}
${renderRetries(summary)}${renderScenarios(summary)}
${renderAccounts(summary)}
${renderCustomMetrics(summary)}
${renderConfig(summary)}
<footer>Generated by runner${options.source ? ` from ${options.source}` : ''}. Charts drawn with uPlot ${assets.version} (MIT), inlined: this ${options.live ? 'page' : 'file'} needs no network access.</footer>`.text;
}

/** Creates the HTML report output (`--report FILE`, `--out html=FILE`) for an absolute `path`. */
export function createHtmlReportOutput(path: string): RunOutput {
  return {
    description: 'HTML report',
    path,
    async prepare() {
      await assertWritable(path, 'HTML report');
      // Fail before the load, not after it, when the chart library is missing.
      loadChartAssets();
    },
    finish: (summary, context) => writeFileAtomic(path, renderHtmlReport(summary, { distributions: context.distributions })),
    finishNow: (summary) => writeFileAtomicSync(path, renderHtmlReport(summary)),
  };
}
