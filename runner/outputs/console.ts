/**
 * The console: the header before the run, progress while it runs, and the LOAD TEST RESULTS
 * block at the end — the old Python tool's layout, line for line where it had one, so people
 * who grep its output ("Overall", "Per minute", "Average", "P95") keep working.
 */
import { escapeControl } from '../util/escape.ts';
import type { Writable } from 'node:stream';
import type { EngineListener, ScenarioProgress } from '../engine/events.ts';
import type { MetricsRegistry, TimelinePoint } from '../metrics/registry.ts';
import { LiveFigures, type LiveFrame, type LivePlan, type LiveScenario, type LiveTotals } from './live-figures.ts';
import type { ResolvedOptions } from '../scenario/resolved.ts';
import { formatDurationMs } from '../scenario/duration.ts';
import type { GroupFigures, LatencySeconds, Summary } from '../results/types.ts';
import { formatTooShort, formatTrend, isTooShortForTrend } from '../analysis/trend-detect.ts';
import { executorOf, isOpenModelExecutor, plannedRatePerSecond } from '../executors/index.ts';
import { trendInMemory } from '../results/names.ts';
import { paint } from '../util/color.ts';
import { clipText, formatBytes, formatLatency, formatNumber, formatRounded } from '../util/format.ts';
import { formatThresholdValue } from './verdict.ts';
import { formatTable, type Align } from '../util/table.ts';
import { CLIENT_FAULTS_METRIC } from '../smtp/client-faults.ts';

const RULE = '='.repeat(80);

/** The header block printed before the load starts. */
export function formatHeader(options: ResolvedOptions): string {
  const lines = [RULE, 'SMTP Load Test Starting', RULE];
  const first = options.scenarios[0]!;
  if (options.file) lines.push(`Scenario file: ${options.file}`);
  if (options.description) lines.push(`Description: ${options.description}`);
  lines.push(`Target: ${first.target.host}:${first.target.port}`);
  for (const s of options.scenarios) {
    const prefix = options.scenarios.length > 1 ? `[${s.name}] ` : '';
    // An executor describes itself in several lines; each is escaped on its own below
    for (const line of executorOf(s).describe(s).split('\n')) lines.push(`${prefix}${line}`);
  }
  const senders = first.accounts.emails;
  lines.push(`From: ${senders.length > 1 ? `${senders.length} accounts (${first.accounts.pick}): ${senders.join(', ')}` : senders[0]}`);
  lines.push(`To: ${first.smtp.to.join(', ')}`);
  if (first.smtp.messagesPerConnection > 1) lines.push(`Messages per connection: ${first.smtp.messagesPerConnection}`);
  lines.push(RULE);
  // The description, names, addresses come from a scenario file: shown, never obeyed (issue 19)
  return lines.map((line) => escapeControl(line)).join('\n');
}

/** Options of the live lines: the terminal's width, and whether the run is stopping. */
export interface LiveLineOptions {
  /** Columns of the terminal; lines are cut to one less (no line ever wraps). Undefined: not a terminal (no cut). */
  columns?: number;
  /** The first Ctrl+C was pressed: the totals line says so. */
  isStopping?: boolean;
}

/** At or below this many columns the live view is one line (k6 degrades the same way). */
export const NARROW_COLUMNS = 60;

/** `[=======>------]` for a share done of 0..1, `width` characters inside the brackets. */
export function formatBar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  const body = filled >= width ? '='.repeat(width) : filled === 0 ? '-'.repeat(width) : '='.repeat(filled - 1) + '>' + '-'.repeat(width - filled);
  return `[${body}]`;
}

const rate = (perSecond: number) => perSecond.toFixed(1);
/** A time on the live view, in whole seconds (`1m5s`, not `1.01s`); a planned length under a second stays exact. */
const wholeSeconds = (ms: number) => formatDurationMs(ms >= 1000 ? Math.floor(ms / 1000) * 1000 : ms);
const p95Text = (ms: number | null) => (ms === null ? '-' : formatLatency(ms / 1000));
const percentText = (fraction: number) => ` ${Math.floor(fraction * 100)}%`;

/** How far a scenario is: `25s/1m` or, for iteration counts, `480/1000 iterations`. */
function doneText(s: LiveScenario): string {
  return s.plannedIterations !== undefined ? `${s.accepted + s.failed}/${s.plannedIterations} iterations` : `${wholeSeconds(s.elapsedMs)}/${wholeSeconds(s.plannedMs)}`;
}

/** Below this many columns the scenario lines use short labels (`VUs 8/10`, `ok 480 err 2`; the totals line names them). */
export const COMPACT_COLUMNS = 120;

/** The fields of one scenario's line, most important first (a narrow terminal cuts the last ones). */
function scenarioFields(s: LiveScenario, isCompact = false): string[] {
  if (isCompact) {
    const fields = [`VUs ${s.activeVus}/${s.allocatedVus}`, `${rate(s.msgsPerSecond)} msg/s`, `ok ${s.accepted} err ${s.failed}`];
    if (s.plannedPerSecond !== undefined) fields.push(`plan ${rate(s.plannedPerSecond)}/s`);
    fields.push(`p95 ${p95Text(s.p95Ms)}`);
    if (s.queuedArrivals > 0) fields.push(`queued ${s.queuedArrivals}`);
    if (s.dropped) fields.push(`dropped ${s.dropped}`);
    return fields;
  }
  const fields = [
    `VUs ${s.activeVus} busy/${s.allocatedVus} allocated`,
    `${rate(s.msgsPerSecond)} msgs/s`,
  ];
  if (s.plannedPerSecond !== undefined) fields.push(`rate ${rate(s.startedPerSecond)}/s of ${rate(s.plannedPerSecond)}/s planned`);
  fields.push(`p95 ${p95Text(s.p95Ms)}`, `Success: ${s.accepted}`, `Failed: ${s.failed}`);
  if (s.queuedArrivals > 0) fields.push(`Queued: ${s.queuedArrivals}`);
  if (s.dropped) fields.push(`Dropped: ${s.dropped}`);
  return fields;
}

function totalsFields(t: LiveTotals, isCompact = false): string[] {
  const fields = isCompact
    ? [`VUs busy/alloc ${t.activeVus}/${t.allocatedVus}`, `${rate(t.msgsPerSecond)} msg/s`, `ok ${t.accepted} err ${t.failed}`, `p95 ${p95Text(t.p95Ms)}`]
    : [`VUs ${t.activeVus} busy/${t.allocatedVus} allocated`, `${rate(t.msgsPerSecond)} msgs/s`, `p95 ${p95Text(t.p95Ms)}`, `Success: ${t.accepted}`, `Failed: ${t.failed}`];
  if (t.dropped) fields.push(isCompact ? `dropped ${t.dropped}` : `Dropped: ${t.dropped}`);
  return fields;
}

const STOPPING = 'stopping: waiting for running messages (gracefulStop); Ctrl+C again quits at once';

/** A line cut to `columns - 1` characters (the last column would wrap on some terminals), with an ellipsis. */
export function fitLine(line: string, columns: number | undefined): string {
  if (columns === undefined) return line;
  const max = Math.max(1, columns - 1);
  const chars = [...line];
  return chars.length <= max ? line : chars.slice(0, max - 1).join('') + '…';
}

/**
 * The delivery part of the progress (with delivery tracking): arrived upstream so far, this
 * window's rate, and the backlog (accepted, not arrived nor refused yet: the relay's queue).
 */
export function formatDeliveryProgress(point: TimelinePoint, deliveredSoFar: number): string {
  const perSecond = point.windowMs > 0 ? ((point.delivered ?? 0) * 1000) / point.windowMs : 0;
  return `Delivered: ${deliveredSoFar} (${perSecond.toFixed(1)}/s) | Backlog: ${point.backlog ?? 0}`;
}

/**
 * The live view on a terminal, as k6 draws it: a totals line, then one line per scenario with
 * its bar, time, VUs (labelled), its own msgs/s, planned vs achieved rate (open models), p95 and
 * errors. At or below NARROW_COLUMNS, one line for the whole run. Every line fits the width.
 */
export function formatLiveLines(frame: LiveFrame, options: LiveLineOptions = {}): string[] {
  const { scenarios, totals } = frame;
  const columns = options.columns;
  const overall = totals.plannedSeconds > 0 ? Math.min(1, totals.elapsedSeconds / totals.plannedSeconds) : 0;
  const time = `${wholeSeconds(totals.elapsedSeconds * 1000)}/${wholeSeconds(totals.plannedSeconds * 1000)}`;
  if (columns !== undefined && columns <= NARROW_COLUMNS) {
    // Most important first: a very narrow terminal cuts the end
    const head = options.isStopping ? 'stopping (^C again: quit)' : `${formatBar(overall, 8)}${percentText(overall)}`;
    return [fitLine(`${head} ${time} ok ${totals.accepted} fail ${totals.failed} ${rate(totals.msgsPerSecond)}/s p95 ${p95Text(totals.p95Ms)} VUs ${totals.activeVus}/${totals.allocatedVus}`, columns)];
  }
  const isCompact = columns !== undefined && columns < COMPACT_COLUMNS;
  const barWidth = columns !== undefined && columns >= 140 ? 30 : columns !== undefined && columns >= 100 ? 20 : 10;
  // A long name is cut in a compact view, so the figures stay on screen
  const nameWidth = Math.min(isCompact ? 10 : 40, Math.max(5, ...scenarios.map((s) => [...s.name].length)));
  const gap = isCompact ? ' ' : '  ';
  const lines = [`${(options.isStopping ? STOPPING : `running ${time}`)}${gap}${totalsFields(totals, isCompact).join(gap)}`];
  for (const s of scenarios) {
    const state = s.state === 'waiting' ? 'waiting' : s.state === 'draining' ? 'draining' : s.state === 'done' ? 'done' : '';
    const name = fitLine(s.name, nameWidth + 1).padEnd(nameWidth);
    const head = `${name} ${formatBar(s.fraction, barWidth)}${percentText(s.fraction)} ${doneText(s)}${state ? ` ${state}` : ''}`;
    lines.push(s.state === 'running' || s.state === 'draining' ? `${head}${gap}${scenarioFields(s, isCompact).join(gap)}` : head);
  }
  return lines.map((line) => fitLine(line, columns));
}

/** The plain lines of a CI log (no terminal): `[25s] [steady] running 25s/1m (42%) | VUs … | …`, and a total when several scenarios run. */
export function formatPlainLines(frame: LiveFrame, isStopping = false): string[] {
  const multi = frame.scenarios.length > 1;
  const running = frame.scenarios.filter((s) => s.state === 'running' || s.state === 'draining');
  const lines = running.map((s) => {
    const name = multi ? `[${s.name}] ` : '';
    return [`${name}${s.state === 'draining' ? 'draining' : 'running'} ${doneText(s)} (${Math.floor(s.fraction * 100)}%)`, ...scenarioFields(s)].join(' | ');
  });
  if (multi) lines.push([`[total] ${isStopping ? 'stopping' : 'running'} ${wholeSeconds(frame.totals.elapsedSeconds * 1000)}/${wholeSeconds(frame.totals.plannedSeconds * 1000)}`, ...totalsFields(frame.totals)].join(' | '));
  else if (isStopping && lines.length) lines[0] += ' | stopping';
  return lines;
}

/** Rows a line of `length` characters takes on a terminal `columns` wide. */
function rowsOf(line: string, columns: number): number {
  const length = [...line].length;
  return length === 0 ? 1 : Math.ceil(length / columns);
}

/**
 * Progress while running. On a terminal the live view is redrawn in place every tick: the rows
 * drawn last time are counted at the terminal's current width (a terminal that rewraps on
 * resize takes more rows), erased, and the new lines (cut to the width) drawn. Elsewhere (CI
 * logs) plain lines every `intervalMs`, without control characters.
 */
export class ConsoleProgress implements EngineListener {
  private readonly out: Writable & { isTTY?: boolean; columns?: number };
  private readonly isTTY: boolean;
  private readonly intervalMs: number;
  private readonly fixedColumns: number | undefined;
  private lastPrintMs = -Infinity;
  private drawn: string[] = [];
  private figures = new LiveFigures();
  private isStopping = false;
  /** With delivery tracking: arrivals upstream so far (the ticks' delivered added up). */
  private deliveredSoFar = 0;
  /** Batches per batches-scenario, known from its first (full) batch. */
  private readonly batchTotals = new Map<string, number>();

  constructor(out: Writable & { isTTY?: boolean; columns?: number }, options: { intervalMs?: number; isTTY?: boolean; columns?: number } = {}) {
    this.out = out;
    this.isTTY = options.isTTY ?? Boolean(out.isTTY);
    this.intervalMs = options.intervalMs ?? 5000;
    this.fixedColumns = options.columns;
  }

  onStart(options: ResolvedOptions): void {
    this.figures = new LiveFigures(livePlans(options));
  }

  onTick(point: TimelinePoint, scenarios: ScenarioProgress[], registry?: MetricsRegistry): void {
    // Every tick counts, drawn or not (each carries only its own window's arrivals)
    this.deliveredSoFar += point.delivered ?? 0;
    const frame = this.figures.frame(point, scenarios, registry);
    if (!scenarios.some((s) => s.state === 'running' || s.state === 'draining')) return;
    // Delivery is the run's, not a scenario's: a line of its own under the view
    const delivery = point.backlog === undefined ? undefined : formatDeliveryProgress(point, this.deliveredSoFar);
    if (this.isTTY) {
      const columns = this.columns();
      const lines = formatLiveLines(frame, { columns, isStopping: this.isStopping });
      if (delivery !== undefined) lines.push(fitLine(`delivery  ${delivery}`, columns));
      this.clear();
      this.out.write(lines.join('\n') + '\n');
      this.drawn = lines;
      return;
    }
    const now = performance.now();
    if (now - this.lastPrintMs < this.intervalMs) return;
    this.lastPrintMs = now;
    const plain = formatPlainLines(frame, this.isStopping);
    // On the one line of a single scenario, or a line of its own beside several
    if (delivery !== undefined && frame.scenarios.length === 1 && plain.length === 1) plain[0] = `${plain[0]} | ${delivery}`;
    else if (delivery !== undefined) plain.push(`[delivery] ${delivery}`);
    this.out.write(plain.map((line) => `[${point.t.toFixed(0)}s] ${line}`).join('\n') + '\n');
  }

  /** The first Ctrl+C: erase the view (the caller prints why), and say "stopping" from now on. */
  noteStopping(): void {
    this.clear();
    this.isStopping = true;
  }

  onBatch(scenario: string, batch: { index: number; count: number; sent: number; total: number; durationMs: number }, accepted: number, failed: number): void {
    this.clear();
    const seconds = batch.durationMs / 1000;
    const rps = seconds > 0 ? batch.count / seconds : 0;
    if (batch.index === 1) this.batchTotals.set(scenario, Math.ceil(batch.total / Math.max(1, batch.count)));
    this.out.write(
      `[Batch ${batch.index}/${this.batchTotals.get(scenario) ?? '?'}] Sent: ${batch.sent}/${batch.total} | Success: ${accepted} | Failed: ${failed} | Batch time: ${seconds.toFixed(2)}s | Throughput: ${rps.toFixed(1)} req/s\n`,
    );
  }

  onWarning(message: string): void {
    this.clear();
    // Warnings quote scenario code's errors and servers' replies
    this.out.write(`warning: ${escapeControl(message, true)}\n`);
  }

  /** Erases the lines drawn in place (before the summary, a warning or a message on stderr). */
  clear(): void {
    if (!this.isTTY || this.drawn.length === 0) return;
    const columns = this.columns() ?? Infinity;
    let rows = 0;
    for (const line of this.drawn) rows += rowsOf(line, columns);
    this.out.write(`\u001b[${rows}A\u001b[0J`);
    this.drawn = [];
  }

  private columns(): number | undefined {
    const columns = this.fixedColumns ?? this.out.columns;
    return columns !== undefined && columns > 0 ? columns : this.isTTY ? 80 : undefined;
  }
}

/** Each scenario's start time and planned rate, for the live figures. */
export function livePlans(options: ResolvedOptions): Map<string, LivePlan> {
  return new Map(options.scenarios.map((scenario) => [scenario.name, {
    startTimeMs: scenario.startTimeMs,
    plannedRateAt: (elapsedMs: number) => plannedRatePerSecond(scenario, elapsedMs),
  }]));
}

function latencyBlock(latency: LatencySeconds): string[] {
  return [
    `  Min: ${formatLatency(latency.min_seconds)}`,
    `  Max: ${formatLatency(latency.max_seconds)}`,
    `  Average: ${formatLatency(latency.avg_seconds)}`,
    `  P50 (median): ${formatLatency(latency.p50_seconds)}`,
    `  P95: ${formatLatency(latency.p95_seconds)}`,
    `  P99: ${formatLatency(latency.p99_seconds)}`,
  ];
}

/** An indented table's lines: the first column (and a trailing `text` column) left-aligned, numbers right. */
function table(header: string[], rows: string[][]): string[] {
  const align = header.map((name, i): Align => (i === 0 || (i === header.length - 1 && name === 'text') ? 'left' : 'right'));
  return formatTable([header, ...rows], align, false, '  ').split('\n');
}

/** The LOAD TEST RESULTS block. */
export function formatSummary(
  summary: Summary,
  options: { color?: boolean; resultsFile?: string; files?: ReadonlyArray<{ description: string; path?: string }> } = {},
): string {
  const color = options.color ?? false;
  const r = summary.results;
  const lines = [RULE, 'LOAD TEST RESULTS', RULE];
  if (summary.status !== 'completed') {
    lines.push(paint('yellow', `Run ${summary.status}${summary.abort_reason ? `: ${summary.abort_reason}` : ''}; figures cover what was measured until then.`, color));
  }
  lines.push(
    `Total time: ${r.total_time_seconds.toFixed(2)} seconds`,
    `Total requests: ${r.total_requests}`,
    `Successful: ${r.successful}`,
    `Failed: ${r.failed}`,
    `Success rate: ${(r.success_rate * 100).toFixed(1)}%`,
  );
  if (r.warmup) {
    lines.push(r.warmup.ended_at_seconds === null
      ? paint('yellow', `Warm-up (${r.warmup.asked}) never ended: these figures include it.`, color)
      : `Warm-up: the first ${r.warmup.ended_at_seconds.toFixed(1)} s (${r.warmup.asked}) are left out of these figures (the timeline keeps them).`);
  }
  if (r.interrupted) lines.push(`Interrupted: ${r.interrupted} (cut off by the stop; not counted as failed)`);
  if (r.dropped_iterations) {
    lines.push(`Dropped iterations: ${r.dropped_iterations} (never started: no VU came free within maxQueueWait of their planned start, or the scenario ended first; they are in no latency figure: raise maxVUs or maxDuration to measure them)`);
  }
  lines.push(
    '',
    'Throughput:',
    `  Overall: ${r.throughput_rps.toFixed(1)} requests/sec (${r.successful_rps.toFixed(1)} successful/sec)`,
    `  Per minute: ${Math.round(r.throughput_rpm)} requests/minute`,
    '',
    'Latency (connect to message accepted):',
    ...latencyBlock(r.latency),
  );
  const openModel = Object.values(summary.scenarios).some((s) => isOpenModelExecutor(s.executor));
  if (openModel) {
    lines.push('', 'Response time (from the planned start; includes waiting for a free VU):', ...latencyBlock(r.response_time));
  }
  lines.push(...deliveryBlock(summary, color));
  lines.push(...retriesBlock(summary, color));
  lines.push(...clientFaultsBlock(summary));
  const phaseRows = Object.entries(r.phases).map(([phase, l]) => [
    phase, String(l.count), formatLatency(l.min_seconds), formatLatency(l.avg_seconds), formatLatency(l.p50_seconds),
    formatLatency(l.p95_seconds), formatLatency(l.p99_seconds), formatLatency(l.max_seconds),
  ]);
  if (phaseRows.length) lines.push('', 'Phases:', ...table(['phase', 'count', 'min', 'avg', 'p50', 'p95', 'p99', 'max'], phaseRows));
  if (summary.trend_stats) lines.push(...trendStatsBlock(summary.trend_stats));
  if (r.errors.length) {
    lines.push('', 'Errors (failed messages by phase and reply):');
    lines.push(...table(['phase', 'reply', 'count', 'text'], r.errors.map((e) => [
      // A reply's text is the server's, so clipped; a socket error's is ours and may end with its remedy (EMFILE: ulimit -n).
      e.phase, e.code !== null ? `${e.code}${e.enhanced ? ' ' + e.enhanced : ''}` : (e.error ?? '?'), String(e.count), clipText(e.text, e.code !== null ? 60 : 240),
    ])).map((l) => l.trimEnd()));
  }
  if (r.errors_after_accept.length) {
    lines.push('', 'Errors after the message was accepted (not failures):');
    for (const e of r.errors_after_accept) lines.push(`  ${e.phase} ${e.code ?? e.error}: ${e.count}× ${clipText(e.text, 60)}`);
  }
  if (r.script_errors) {
    lines.push('', paint('red', `Iteration errors: ${r.script_errors} iterations threw (iteration_errors; a bug in the scenario code, not an SMTP failure)`, color));
    const groups = r.iteration_errors ?? [];
    if (groups.length) {
      const rows = groups.slice(0, MAX_ITERATION_ERROR_LINES).map((g) => [String(g.count), g.location ?? '?', clipText(g.message, 120)]);
      lines.push(...formatTable([['count', 'where', 'error'], ...rows], ['right', 'left', 'left'], false, '  ').split('\n').map((l) => l.trimEnd()));
      if (groups.length > MAX_ITERATION_ERROR_LINES) lines.push(`  … ${groups.length - MAX_ITERATION_ERROR_LINES} more in the results file`);
    }
  }
  const scenarioNames = Object.keys(summary.scenarios);
  const isTracked = summary.delivery !== undefined;
  const deliveryHeader = isTracked ? ['delivered', 'lost', 'lag p95'] : [];
  const deliveryCells = (g: GroupFigures) => (isTracked ? [String(g.delivery?.delivered ?? 0), String(g.delivery?.lost ?? 0), formatLatency(g.delivery?.lag.p95_seconds ?? null)] : []);
  if (scenarioNames.length > 1) {
    lines.push('', 'Scenarios:', ...table(['scenario', 'requests', 'ok', 'failed', 'req/s', 'p50', 'p95', 'p99', ...deliveryHeader], scenarioNames.map((name) => {
      const s = summary.scenarios[name]!;
      return [name, String(s.total_requests), String(s.successful), String(s.failed), s.throughput_rps.toFixed(1),
        formatLatency(s.latency.p50_seconds), formatLatency(s.latency.p95_seconds), formatLatency(s.latency.p99_seconds), ...deliveryCells(s)];
    })));
  }
  const accountNames = Object.keys(summary.accounts);
  if (accountNames.length > 1) {
    lines.push('', 'Accounts:', ...table(['account', 'requests', 'ok', 'failed', 'req/s', 'p50', 'p95', 'p99', ...deliveryHeader], accountNames.map((name) => {
      const a = summary.accounts[name]!;
      return [name, String(a.total_requests), String(a.successful), String(a.failed), a.throughput_rps.toFixed(1),
        formatLatency(a.latency.p50_seconds), formatLatency(a.latency.p95_seconds), formatLatency(a.latency.p99_seconds), ...deliveryCells(a)];
    })));
  }
  const sourceIps = Object.entries(summary.source_ips ?? {});
  if (sourceIps.length > 0) {
    // A long --local-ips list is in the results file whole; the console shows the first ones
    const shown = sourceIps.slice(0, MAX_SOURCE_IP_LINES);
    lines.push('', 'Source addresses (--local-ips):', ...table(['source', 'connections', 'requests', 'ok', 'failed', 'p50', 'p95', 'p99'], shown.map(([address, a]) =>
      [address, String(a.connections), String(a.total_requests), String(a.successful), String(a.failed),
        formatLatency(a.latency.p50_seconds), formatLatency(a.latency.p95_seconds), formatLatency(a.latency.p99_seconds)])));
    if (sourceIps.length > shown.length) lines.push(`  … and ${sourceIps.length - shown.length} more in the results file (source_ips)`);
  }
  const watch = summary.watch;
  if (watch && watch.samples.length) {
    const size = (bytes: number | null) => (bytes === null ? '-' : formatBytes(bytes));
    lines.push(
      '',
      `Server process (pid ${watch.pid}${watch.name ? `, ${watch.name}` : ''}${watch.source === 'listening-port' ? ', listening on the target port' : ''}):`,
      `  CPU: avg ${watch.cpu_percent_avg}%, max ${watch.cpu_percent_max}% of one core`,
      `  Memory (RSS): ${size(watch.rss_bytes_first)} → ${size(watch.rss_bytes_last)} (max ${size(watch.rss_bytes_max)})`,
    );
    if (watch.exited) lines.push(paint('red', '  The process exited during the run.', color));
  }
  const trends = summary.trends;
  if (trends && isTooShortForTrend(trendInMemory(trends.latency))) {
    lines.push('', `Over time: trends ${formatTooShort(trendInMemory(trends.latency))}`);
  } else if (trends && trends.latency.verdict !== 'insufficient data') {
    lines.push('', 'Over time (steady part of the run):', `  ${formatTrend(trendInMemory(trends.latency))}`, `  ${formatTrend(trendInMemory(trends.throughput))}`);
    if (trends.server_memory && trends.server_memory.verdict !== 'insufficient data') lines.push(`  ${formatTrend(trendInMemory(trends.server_memory))}`);
  }
  lines.push(...checksBlock(summary, color), ...groupsBlock(summary));
  const custom = Object.entries(summary.custom_metrics).filter(([name]) => !SCRIPT_METRIC_NAMES.has(name));
  if (custom.length) {
    lines.push('', 'Custom metrics:');
    for (const [name, m] of custom) {
      // A time trend's figures are ms: shown with their unit (2.93ms, 1.204s); other values rounded.
      const figure = (value: number) => (m.is_time ? formatLatency(value / 1000) : formatRounded(value));
      const parts = [`${m.type}`, `count ${formatNumber(m.count)}`];
      if (m.rate !== undefined) parts.push(m.type === 'rate' ? `rate ${(m.rate * 100).toFixed(2)}%` : `${formatRounded(m.rate)}/s`);
      if (m.value !== undefined) parts.push(`value ${formatRounded(m.value)}`);
      if (m.avg !== undefined) parts.push(`avg ${figure(m.avg)}`, `p95 ${figure(m.p95!)}`, `max ${figure(m.max!)}`);
      if (m.ignored_values) parts.push(paint('yellow', `${formatNumber(m.ignored_values)} values ignored (see the warning)`, color));
      lines.push(`  ${name}: ${parts.join(', ')}`);
      // A trend's tag sets (add(value, tags)) when there are several; the rest are in the results file.
      const sets = m.type === 'trend' ? m.tag_sets ?? [] : [];
      if (sets.length > 1) {
        for (const set of sets.slice(0, MAX_TAG_SET_LINES)) {
          const figures = [`count ${formatNumber(set.count)}`];
          if (set.avg !== undefined) figures.push(`avg ${figure(set.avg)}`, `p95 ${figure(set.p95!)}`, `max ${figure(set.max!)}`);
          lines.push(`    ${formatTags(set.tags)}: ${figures.join(', ')}`);
        }
        if (sets.length > MAX_TAG_SET_LINES) lines.push(`    … ${sets.length - MAX_TAG_SET_LINES} more tag sets in the results file`);
      }
    }
  }
  if (summary.thresholds.length) {
    lines.push('', 'Thresholds:');
    for (const t of summary.thresholds) {
      const mark = t.ok ? paint('green', '✓', color) : paint('red', '✗', color);
      const actual = t.actual === null ? 'no samples' : `actual ${formatThresholdValue(summary, t)}`;
      lines.push(`  ${mark} ${t.metric}  ${t.condition}  ${actual}`);
    }
  }
  if (options.resultsFile) lines.push('', `Results saved to: ${options.resultsFile}`);
  for (const file of options.files ?? []) {
    if (file.path && file.path !== options.resultsFile) lines.push(`${file.description[0]!.toUpperCase()}${file.description.slice(1)}: ${file.path}`);
  }
  lines.push(RULE);
  return lines.join('\n');
}

/** The wait after the load, as its progress line says it: `waiting for 37 deliveries, 12 s left`. */
export function formatDeliveryWait(awaited: number, leftMs: number): string {
  return `waiting for ${awaited} ${awaited === 1 ? 'delivery' : 'deliveries'}, ${Math.ceil(leftMs / 1000)} s left (Ctrl+C: stop waiting, report them pending)`;
}

const WAIT_ENDS: Readonly<Record<NonNullable<Summary['delivery']>['wait'], string>> = {
  complete: 'every accepted message arrived or was judged',
  timed_out: 'the timeout passed',
  interrupted: 'interrupted: the messages still awaited are pending, not lost',
  skipped: 'not waited (the load was interrupted): the messages still awaited are pending',
};

/** Why the lost were lost: `(3 refused upstream, 2 not arrived in time, 1 of them late)`; empty when none. */
function describeLost(d: NonNullable<Summary['delivery']>): string {
  if (!d.lost) return '';
  const refused = d.lost_refused ?? 0;
  const timedOut = d.lost_timeout ?? d.lost - refused;
  const parts: string[] = [];
  if (refused) parts.push(`${refused} refused upstream`);
  if (timedOut) parts.push(`${timedOut} not arrived in time${d.late ? `, ${d.late} of them after the timeout` : ''}`);
  return ` (${parts.join(', ')})`;
}

/** The Delivery block: what of the accepted messages arrived upstream (with `delivery`). */
function deliveryBlock(summary: Summary, color: boolean): string[] {
  const d = summary.delivery;
  if (!d) return [];
  const accepted = d.delivered + d.lost + d.pending;
  const percent = (n: number) => (accepted ? ` (${((n / accepted) * 100).toFixed(1)}%)` : '');
  const lines = [
    '',
    `Delivery (${d.source === 'sink' ? 'runner sink' : 'IMAP mailbox'}, timeout ${formatDurationMs(d.timeout_seconds * 1000)}):`,
    `  Delivered: ${d.delivered}${percent(d.delivered)} — ${d.delivered_rps.toFixed(1)} delivered/sec (${summary.results.successful_rps.toFixed(1)} accepted/sec)`,
    (d.lost ? (s: string) => paint('red', s, color) : (s: string) => s)(`  Lost: ${d.lost}${percent(d.lost)}${describeLost(d)}`),
  ];
  if (d.pending) lines.push(paint('yellow', `  Pending: ${d.pending}${percent(d.pending)} (still awaited when the wait was interrupted)`, color));
  if (d.duplicated) lines.push(paint('yellow', `  Duplicated: ${d.duplicated} (arrived more than once)`, color));
  if (d.unexpected) lines.push(paint('yellow', `  Unexpected: ${d.unexpected} (arrived though counted failed)`, color));
  if (d.unknown) lines.push(`  Unknown arrivals: ${d.unknown} (this run's id, no message it sent)`);
  lines.push(
    `  Lag (250 to arrival): p50 ${formatLatency(d.lag.p50_seconds)}, p95 ${formatLatency(d.lag.p95_seconds)}, p99 ${formatLatency(d.lag.p99_seconds)}, max ${formatLatency(d.lag.max_seconds)}`,
    `  End to end (start to arrival): p50 ${formatLatency(d.e2e.p50_seconds)}, p95 ${formatLatency(d.e2e.p95_seconds)}, p99 ${formatLatency(d.e2e.p99_seconds)}`,
    `  Wait after the load: ${d.wait_seconds.toFixed(1)} s, ${WAIT_ENDS[d.wait]}`,
  );
  return lines;
}

/** The Retries block (with a retry policy): deferrals by reply, first-try share, attempts, eventual duration, pending. */
function retriesBlock(summary: Summary, color: boolean): string[] {
  const retries = summary.retries;
  if (!retries) return [];
  const byReply = Object.entries(retries.deferrals).map(([code, count]) => `${code} ×${count}`).join(', ');
  const attempts = retries.attempts_per_message;
  const eventual = retries.eventual_duration;
  const lines = [
    '',
    'Retries (deferred messages sent again; counted failed only once their attempts ran out):',
    `  Deferred attempts: ${retries.deferred}${byReply ? ` (${byReply})` : ''}`,
    `  Accepted on the first try: ${retries.first_try} (${(retries.first_try_rate * 100).toFixed(1)}% of messages)`,
    `  Attempts per message: avg ${attempts.avg.toFixed(2)}, p95 ${attempts.p95}, max ${attempts.max}`,
    `  Eventual duration (first attempt to final outcome): p50 ${formatLatency(eventual.p50_seconds)}, p95 ${formatLatency(eventual.p95_seconds)}, p99 ${formatLatency(eventual.p99_seconds)}, max ${formatLatency(eventual.max_seconds)}`,
  ];
  if (retries.pending) lines.push(paint('yellow', `  Pending: ${retries.pending} (still deferred when gracefulStop ran out: neither accepted nor failed)`, color));
  return lines;
}

/** Built-in metrics kept beside the custom ones in the results file, shown in their own blocks. */
const SCRIPT_METRIC_NAMES: ReadonlySet<string> = new Set(['checks', 'group_duration', CLIENT_FAULTS_METRIC]);

/** Client-side faults done on purpose (--client-fault, send({ fault })), by kind: not failures. */
function clientFaultsBlock(summary: Summary): string[] {
  const faults = summary.client_faults;
  if (!faults) return [];
  const parts = Object.entries(faults).map(([kind, count]) => `${kind} ${formatNumber(count)}`);
  return ['', `Client faults (done on purpose, not failures): ${parts.join(', ')}`];
}

/**
 * The Checks block (k6's ✓/✗ list): one line per check name and group, its passes and fails,
 * then the checks rate. Empty without checks.
 */
function checksBlock(summary: Summary, color: boolean): string[] {
  const checks = summary.custom_metrics['checks'];
  if (!checks || checks.count === 0) return [];
  // Sum a check's sets over the other tags (scenario, user tags): one line per group and name.
  const byKey = new Map<string, { group: string; name: string; passes: number; total: number }>();
  for (const set of checks.tag_sets ?? []) {
    const group = set.tags['group'] ?? '';
    const name = set.tags['check'] ?? '(unnamed)';
    const key = `${group}\u0000${name}`;
    const entry = byKey.get(key) ?? { group, name, passes: 0, total: 0 };
    entry.passes += Math.round((set.rate ?? 0) * set.count);
    entry.total += set.count;
    byKey.set(key, entry);
  }
  const lines = ['', 'Checks:'];
  let lastGroup: string | undefined;
  const entries = [...byKey.values()].sort((a, b) => (a.group === b.group ? 0 : a.group < b.group ? -1 : 1));
  for (const entry of entries.slice(0, MAX_CHECK_LINES)) {
    if (entry.group !== lastGroup && entry.group !== '') lines.push(`  █ ${entry.group.split('::').filter(Boolean).join(' › ')}`);
    lastGroup = entry.group;
    const indent = entry.group === '' ? '  ' : '    ';
    const fails = entry.total - entry.passes;
    const mark = fails === 0 ? paint('green', '✓', color) : paint('red', '✗', color);
    const detail = fails === 0 ? `${formatNumber(entry.passes)}/${formatNumber(entry.total)}` : `${((entry.passes / entry.total) * 100).toFixed(1)}% — ✓ ${formatNumber(entry.passes)} / ✗ ${formatNumber(fails)}`;
    lines.push(`${indent}${mark} ${entry.name}  ${detail}`);
  }
  if (entries.length > MAX_CHECK_LINES) lines.push(`  … ${entries.length - MAX_CHECK_LINES} more checks in the results file`);
  const passes = Math.round((checks.rate ?? 0) * checks.count);
  lines.push(`  checks: ${((checks.rate ?? 0) * 100).toFixed(2)}%  ✓ ${formatNumber(passes)}  ✗ ${formatNumber(checks.count - passes)}`);
  return lines;
}

/** The Groups block: per ctx.group() path, its duration and the SMTP figures of the samples inside. */
function groupsBlock(summary: Summary): string[] {
  const durations = new Map<string, { count: number; avg?: number; p95?: number }>();
  for (const set of summary.custom_metrics['group_duration']?.tag_sets ?? []) {
    const path = set.tags['group'];
    if (path === undefined) continue;
    const known = durations.get(path);
    // Several scenarios may share a group name: their counts add; the first one's figures are shown.
    if (known) known.count += set.count;
    else durations.set(path, { count: set.count, avg: set.avg, p95: set.p95 });
  }
  const paths = [...new Set([...durations.keys(), ...Object.keys(summary.groups ?? {})])].sort();
  if (paths.length === 0) return [];
  const ms = (value: number | undefined) => (value === undefined ? '-' : formatLatency(value / 1000));
  return ['', 'Groups (group_duration; messages sent inside the group):', ...table(['group', 'runs', 'avg', 'p95', 'requests', 'failed', 'msg p95'], paths.map((path) => {
    const duration = durations.get(path);
    const smtp = summary.groups?.[path];
    return [path, String(duration?.count ?? 0), ms(duration?.avg), ms(duration?.p95), String(smtp?.total_requests ?? 0), String(smtp?.failed ?? 0), formatLatency(smtp?.latency.p95_seconds ?? null)];
  }))];
}

/** The `--summary-trend-stats` table: one row per SMTP trend, one column per chosen stat. */
function trendStatsBlock(trendStats: NonNullable<Summary['trend_stats']>): string[] {
  const { stats, metrics } = trendStats;
  const cell = (stat: string, value: number | null | undefined) =>
    value === null || value === undefined ? '-' : stat === 'count' ? formatNumber(value) : formatLatency(value / 1000);
  return ['', 'Trends (--summary-trend-stats):', ...table(['trend', ...stats], Object.entries(metrics).map(([name, values]) => [name, ...stats.map((stat) => cell(stat, values[stat]))]))];
}

/** Source address lines shown; the results file has them all. */
const MAX_SOURCE_IP_LINES = 20;

/** Check lines shown; the results file has them all. */
const MAX_CHECK_LINES = 30;

/** Groups of iteration errors shown; the results file has them all. */
const MAX_ITERATION_ERROR_LINES = 10;

/** Tag-set lines shown under a custom trend; the results file has them all. */
const MAX_TAG_SET_LINES = 10;

/** A tag set as a threshold filter names it, e.g. `{kind:big}` (quoted where the grammar needs it); untagged samples: `(no tags)`. */
function formatTags(tags: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(tags).map(([name, value]) => {
    if (value !== '' && value.trim() === value && !/[,{}"']/.test(value)) return `${name}:${value}`;
    return value.includes('"') ? `${name}:'${value}'` : `${name}:"${value}"`;
  });
  return pairs.length ? `{${pairs.join(',')}}` : '(no tags)';
}
