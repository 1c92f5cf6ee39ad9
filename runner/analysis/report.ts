/**
 * `runner report results/*.json`: the guide's "run multiple tests and analyze results". One row
 * per run (when, what, how many, success, throughput, p50/p95/p99), then the mean and spread of
 * each figure over the runs: sample standard deviation, min–max and the coefficient of variation
 * (stddev / mean), which says how far one run can be trusted to stand for the others. Runs of
 * different targets or loads are listed anyway, with a note: their spread mixes two things.
 */
import { formatLatency, formatTimestamp } from '../util/format.ts';
import type { LoadedResults } from '../results/read.ts';
import { distinctTargets } from '../results/targets.ts';
import { describeSpread, type Spread } from './stats.ts';
import { formatTable, type Cell } from '../util/table.ts';

/** One run in the report; latencies in seconds (null when the file has none). */
export interface ReportRow {
  file: string;
  timestamp: string;
  /** What ran: the scenario file, or the flags' size, e.g. 'flags 1000×50'. */
  scenario: string;
  target: string;
  requests: number;
  /** 0..1 */
  successRate: number;
  /** Requests per second. */
  rps: number;
  p50Seconds: number | null;
  p95Seconds: number | null;
  p99Seconds: number | null;
}

/** The figures whose spread the report computes. */
export const REPORT_FIGURES = ['requests', 'successRate', 'rps', 'p50Seconds', 'p95Seconds', 'p99Seconds'] as const;

/** A figure of REPORT_FIGURES. */
export type ReportFigure = (typeof REPORT_FIGURES)[number];

/** The report: rows oldest first, the spread of each figure (null when no run has it), notes. */
export interface RunReport {
  rows: ReportRow[];
  stats: Record<ReportFigure, Spread | null>;
  notes: string[];
}

/** What ran, in a few characters. */
export function describeWorkload(run: LoadedResults): string {
  const config = run.config;
  const size = typeof config['num_emails'] === 'number' && typeof config['concurrent'] === 'number' ? `${config['num_emails']}×${config['concurrent']}` : '';
  if (run.kind === 'legacy') return `old tool${size ? ` ${size}` : ''}`;
  if (Array.isArray(config['merged_from'])) return `merged ×${(config['merged_from'] as unknown[]).length}`;
  const file = config['scenario_file'];
  if (typeof file === 'string' && file) return file.split(/[\\/]/).pop()!;
  if (size) return `flags ${size}`;
  const names = Object.keys(run.summary?.scenarios ?? {});
  return names.join(',') || '-';
}

/** Builds the report over runs (any order; rows come out oldest first). */
export function buildReport(runs: readonly LoadedResults[]): RunReport {
  const rows: ReportRow[] = runs
    .map((run) => ({
      file: run.file,
      timestamp: run.timestamp,
      scenario: describeWorkload(run),
      target: run.target,
      requests: run.totalRequests,
      successRate: run.successRate,
      rps: run.throughputRps,
      p50Seconds: run.latency.p50_seconds,
      p95Seconds: run.latency.p95_seconds,
      p99Seconds: run.latency.p99_seconds,
    }))
    .sort((a, b) => timeOf(a.timestamp) - timeOf(b.timestamp));
  const stats = {} as Record<ReportFigure, Spread | null>;
  for (const figure of REPORT_FIGURES) {
    const values = rows.map((row) => row[figure]).filter((v): v is number => v !== null);
    stats[figure] = describeSpread(values) ?? null;
  }
  const notes: string[] = [];
  const targets = distinctTargets(rows.map((r) => r.target).filter(Boolean));
  if (targets.length > 1) notes.push(`the runs had different targets (${targets.join(', ')}): their spread mixes targets`);
  const workloads = new Set(rows.map((r) => r.scenario));
  if (workloads.size > 1) notes.push(`the runs ran different loads (${[...workloads].join(', ')}): their spread mixes loads`);
  if (rows.length === 1) notes.push('one run: run the same test several times to see its spread');
  const unfinished = runs.filter((r) => r.status && r.status !== 'completed');
  for (const run of unfinished) notes.push(`${run.file} was ${run.status}`);
  return { rows, stats, notes };
}

function timeOf(timestamp: string): number {
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? 0 : ms;
}

function formatFigure(figure: ReportFigure, value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  switch (figure) {
    case 'requests': return Number.isInteger(value) ? String(value) : value.toFixed(1);
    case 'successRate': return `${(value * 100).toFixed(1)}%`;
    case 'rps': return value.toFixed(1);
    default: return formatLatency(value);
  }
}

function formatCv(spread: Spread | null): string {
  if (!spread || spread.cv === null) return '-';
  return `${(spread.cv * 100).toFixed(1)}%`;
}

/** The report as people read it: one line per run, then mean, stddev, min, max and CV. */
export function formatReport(report: RunReport, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const header: Cell[] = ['file', 'timestamp', 'scenario', 'requests', 'success', 'rps', 'p50', 'p95', 'p99'].map((text): Cell => ({ text, color: 'bold' }));
  const rows: Cell[][] = report.rows.map((row) => [
    { text: row.file },
    { text: formatTimestamp(row.timestamp) },
    { text: row.scenario },
    ...REPORT_FIGURES.map((figure) => ({ text: formatFigure(figure, row[figure]) })),
  ]);
  const statLine = (label: string, value: (figure: ReportFigure, spread: Spread) => string): Cell[] => [
    { text: label, color: 'bold' },
    { text: '' },
    { text: '' },
    ...REPORT_FIGURES.map((figure) => {
      const spread = report.stats[figure];
      return { text: spread ? value(figure, spread) : '-' };
    }),
  ];
  const statRows = [
    statLine('mean', (f, s) => formatFigure(f, s.mean)),
    statLine('stddev', (f, s) => formatFigure(f, s.stddev)),
    statLine('min', (f, s) => formatFigure(f, s.min)),
    statLine('max', (f, s) => formatFigure(f, s.max)),
    statLine('CV', (_f, s) => formatCv(s)),
  ];
  const separator: Cell[] = [{ text: '' }];
  const lines = [
    `Runs: ${report.rows.length}`,
    '',
    formatTable([header, ...rows, separator, ...statRows], ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'], color),
    '',
    'stddev: sample standard deviation over the runs; CV: stddev / mean (how much one run can differ from the next).',
  ];
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
