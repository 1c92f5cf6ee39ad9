/**
 * `runner inspect`: loads and resolves a scenario exactly as `runner run` would (the same flags,
 * the same checks), then prints what the run would do instead of doing it: the resolved
 * options, each scenario's planned schedule, iterations and length, the thresholds as parsed and
 * the warnings. It opens no connection and sends nothing.
 */
import { resolve as resolvePath } from 'node:path';
import type { CliOverrides } from '../scenario/options.ts';
import { parseDurationMs, formatDurationMs } from '../scenario/duration.ts';
import type { ThresholdDefinition } from '../thresholds/index.ts';
import { formatTable } from '../util/table.ts';
import { paint, shouldColor } from '../util/color.ts';
import { UsageError } from '../errors.ts';
import { RUNNER_VERSION } from '../version.ts';
import { prepareScenario } from '../prepare.ts';
import { describeOptions } from './describe-options.ts';
import { DEFAULT_EXPECTED_LATENCY, planRun, type ScenarioPlan } from './plan.ts';

/** What `runner inspect` takes. */
export interface InspectCommandOptions {
  /** A scenario file or an archive (`runner archive`). */
  scenarioFile: string;
  overrides: CliOverrides;
  /** `--expected-latency`: how long one message is assumed to take. @default '1s' */
  expectedLatency?: string;
  /** Print JSON (for machines) instead of text. */
  json?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What inspect reports (`--json` prints this object). */
export interface InspectReport {
  runnerVersion: string;
  expectedLatencyMs: number;
  /** Expected time of one iteration: the latency plus the mean think time (--think-time). */
  iterationMs: number;
  options: Record<string, unknown>;
  scenarios: ScenarioPlan[];
  thresholds: Array<{
    key: string;
    metric: string;
    tags: Record<string, string>;
    type: string;
    isTime: boolean;
    conditions: Array<{ source: string; aggregation: string; percentile: number | null; op: string; value: number; abortOnFail: boolean; delayAbortEvalMs: number }>;
  }>;
  warnings: string[];
}

/** Plans the run, prints the report, returns it. Throws the same errors `runner run` would for bad input. */
export async function inspectCommand(command: InspectCommandOptions): Promise<InspectReport> {
  const stdout = command.stdout ?? process.stdout;
  const cwd = command.cwd ?? process.cwd();
  const expectedLatencyMs = parseExpectedLatency(command.expectedLatency ?? DEFAULT_EXPECTED_LATENCY);
  const prepared = await prepareScenario({ scenarioFile: resolvePath(cwd, command.scenarioFile), overrides: command.overrides, env: command.env ?? process.env });
  try {
    const { options, thresholds } = prepared;
    const planned = planRun(options, expectedLatencyMs);
    const report: InspectReport = {
      runnerVersion: RUNNER_VERSION,
      expectedLatencyMs,
      iterationMs: planned.iterationMs,
      options: describeOptions(options, { baseDir: prepared.baseDir, fileName: prepared.fileName, envNames: Object.keys(prepared.overrides.env ?? {}) }),
      scenarios: planned.scenarios,
      thresholds: thresholds.map(describeThreshold),
      warnings: [...prepared.notes, ...planned.warnings],
    };
    stdout.write(command.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspect(report, shouldColor(stdout, command.env ?? process.env), prepared.archive));
    return report;
  } finally {
    await prepared.cleanup();
  }
}

function parseExpectedLatency(text: string): number {
  let ms: number;
  try {
    ms = parseDurationMs(text);
  } catch {
    ms = NaN;
  }
  if (!(ms > 0)) throw new UsageError(`--expected-latency '${text}' is not a duration > 0`, `give how long one message takes, e.g. --expected-latency 250ms (a measured p(95) is a good choice; default ${DEFAULT_EXPECTED_LATENCY})`);
  return ms;
}

function describeThreshold(definition: ThresholdDefinition): InspectReport['thresholds'][number] {
  return {
    key: definition.metric.key,
    metric: definition.metric.metric,
    tags: definition.metric.tags,
    type: definition.type,
    isTime: definition.isTime,
    conditions: definition.conditions.map((c) => ({
      source: c.source,
      aggregation: c.aggregation,
      percentile: c.percentile ?? null,
      op: c.op,
      value: c.value,
      abortOnFail: c.abortOnFail,
      delayAbortEvalMs: c.delayAbortEvalMs,
    })),
  };
}

/** The report for people. */
export function formatInspect(report: InspectReport, color: boolean, archive?: string): string {
  const lines: string[] = [];
  const heading = (text: string) => lines.push('', paint('bold', text, color));
  const file = report.options['file'];
  lines.push(`${paint('bold', 'runner inspect', color)}: ${file ?? 'flags only'}${archive ? ` (from the archive ${archive})` : ''}, runner ${report.runnerVersion}`);
  lines.push(`Expected iteration time: ${formatDurationMs(report.iterationMs)} (--expected-latency ${formatDurationMs(report.expectedLatencyMs)}${report.iterationMs !== report.expectedLatencyMs ? ' + mean think time' : ''})`);

  heading('Options');
  lines.push(...formatValue(report.options, '  '));

  for (const plan of report.scenarios) {
    heading(`Scenario ${plan.name} (${plan.executor})`);
    lines.push(`  ${plan.description}`);
    const starts = plan.startTimeMs > 0 ? `starts at ${formatDurationMs(plan.startTimeMs)}, ` : '';
    const iterations = plan.iterations === null ? 'iterations: as many as the server allows (duration-based)' : `iterations: ${plan.iterations}${plan.unit === 'arrivals' ? ' (arrivals planned: each starts or is dropped)' : ''}`;
    lines.push(`  ${iterations}`);
    lines.push(`  duration: ${formatDurationMs(plan.plannedDurationMs)} planned, ${starts}+ gracefulStop ${formatDurationMs(plan.gracefulStopMs)}${plan.isScheduleEstimated ? `; about ${formatDurationMs(plan.scheduleLengthMs)} at the expected iteration time` : ''}`);
    const vus = plan.vusMax.min === plan.vusMax.max ? `${plan.vusMax.max}` : `${plan.vusMax.min}..${plan.vusMax.max} (as the responses require)`;
    lines.push(`  VUs allocated: ${vus}${plan.peakRatePerSecond !== undefined ? `; peak rate ${Math.round(plan.peakRatePerSecond * 100) / 100}/s` : ''}`);
    if (plan.intervals.length === 0) continue;
    const what = plan.unit === 'vus' ? 'VUs (most at once)' : 'arrivals';
    lines.push(`  ${what} per ${formatDurationMs(plan.intervalMs)}${plan.isScheduleEstimated ? ' (estimated)' : ''}: ${plan.sparkline}`);
    const rows = [['from', 'to', plan.unit === 'vus' ? 'VUs' : 'arrivals'], ...plan.intervals.map((i) => [formatDurationMs(i.startMs), formatDurationMs(i.endMs), String(i.value)])];
    lines.push(formatTable(rows, ['right', 'right', 'right'], color, '    '));
  }

  heading('Thresholds');
  if (report.thresholds.length === 0) lines.push('  (none)');
  for (const threshold of report.thresholds) {
    for (const condition of threshold.conditions) {
      const abort = condition.abortOnFail ? ` (abortOnFail${condition.delayAbortEvalMs > 0 ? ` after ${formatDurationMs(condition.delayAbortEvalMs)}` : ''})` : '';
      const value = threshold.isTime && condition.aggregation !== 'count' ? `${condition.value} ms` : String(condition.value);
      const aggregation = condition.aggregation === 'p' ? `p(${condition.percentile})` : condition.aggregation;
      lines.push(`  ${threshold.key}  ${aggregation} ${condition.op} ${value}${abort}  [${threshold.type}]`);
    }
  }

  heading('Warnings');
  if (report.warnings.length === 0) lines.push('  (none)');
  for (const warning of report.warnings) lines.push(`  ${paint('yellow', '!', color)} ${warning}`);
  lines.push('', 'Nothing was sent: runner inspect only plans.');
  return lines.join('\n') + '\n';
}

/** Nested data as indented `key: value` lines (objects opened, short arrays inline). */
function formatValue(value: Record<string, unknown>, indent: string): string[] {
  const lines: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      if (Object.keys(item).length === 0) lines.push(`${indent}${key}: {}`);
      else lines.push(`${indent}${key}:`, ...formatValue(item as Record<string, unknown>, `${indent}  `));
    } else lines.push(`${indent}${key}: ${Array.isArray(item) ? item.map((part) => (typeof part === 'object' ? JSON.stringify(part) : String(part))).join(', ') || '[]' : String(item)}`);
  }
  return lines;
}
