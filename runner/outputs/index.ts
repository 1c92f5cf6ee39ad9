/**
 * Output kinds, one explicit map. `--out FILE` is the results file (the old tool's flag);
 * `--out KIND=TARGET` picks another kind, e.g. `--out ndjson=timeline.ndjson`.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { CloseOptions, RunOutput } from './output.ts';
import { createResultsJsonOutput } from './results-json.ts';
import { createHtmlReportOutput } from './html-report.ts';
import { createCsvOutput, createNdjsonOutput } from './timeline-stream.ts';
import { createJunitOutput } from './junit.ts';
import { createSummaryJsonOutput } from './summary-json.ts';
import { createPrometheusOutput, type MetricsEndpointOptions } from './prometheus.ts';
import { createRemoteWriteOutput } from './remote-write.ts';
import { createDashboardOutput, type DashboardOptions } from './dashboard.ts';
import { isSameFile, isSpecialFileSync } from './atomic-write.ts';
import { escapeControl } from '../util/escape.ts';

/** Output factories by kind; TARGET is an absolute path (or a port for endpoint kinds). */
export const OUTPUT_KINDS: Record<string, (target: string) => RunOutput> = {
  json: createResultsJsonOutput,
  html: createHtmlReportOutput,
  ndjson: createNdjsonOutput,
  csv: createCsvOutput,
  junit: createJunitOutput,
  'summary-json': createSummaryJsonOutput,
  // TARGET is a port here (`--out prometheus=9464`); --metrics-host/--metrics-linger need the flags.
  prometheus: (target) => {
    if (!/^\d+$/.test(target)) throw new UsageError(`--out prometheus=${target}: the target is a port`, 'e.g. --out prometheus=9464, or use --metrics-port 9464 --metrics-host HOST');
    return createPrometheusOutput({ port: Number(target) });
  },
  // TARGET is a URL here (`--out prometheus-rw=http://127.0.0.1:9090/api/v1/write`).
  'prometheus-rw': (target) => createRemoteWriteOutput(target),
};

/** Kinds whose TARGET is a URL, not a path (kept as written). */
const URL_TARGET_KINDS = new Set(['prometheus-rw']);

/** Parses one `--out` value into its kind and target (relative paths resolved against cwd). */
export function parseOutSpec(spec: string, cwd: string): { kind: string; target: string } {
  const match = /^([a-z][a-z0-9-]*)=(.*)$/.exec(spec);
  if (!match) return { kind: 'json', target: resolve(cwd, spec) };
  const kind = match[1]!;
  if (!(kind in OUTPUT_KINDS)) {
    throw new UsageError(`--out ${spec}: unknown output kind '${kind}'`, `use one of: ${Object.keys(OUTPUT_KINDS).join(', ')} (e.g. --out ndjson=FILE), or --out FILE for the results file`);
  }
  if (match[2] === '') throw new UsageError(`--out ${spec}: no target after '='`, kind === 'prometheus-rw' ? 'write the receiver\'s URL, e.g. --out prometheus-rw=http://127.0.0.1:9090/api/v1/write' : kind === 'prometheus' ? 'write a port, e.g. --out prometheus=9464' : `write --out ${kind}=FILE`);
  if (URL_TARGET_KINDS.has(kind)) return { kind, target: match[2]! };
  return { kind, target: /^\d+$/.test(match[2]!) ? match[2]! : resolve(cwd, match[2]!) };
}

/**
 * Builds the outputs for `--out` values. The results file is always among them (as
 * load_test_results_<unix>.json unless one is named), except with `--no-out` (false: no
 * outputs; or `hasResultsFile: false`: only the KIND=TARGET ones).
 */
export function createOutputs(specs: string[] | false | undefined, cwd: string, nowMs = Date.now(), options: { hasResultsFile?: boolean } = {}): RunOutput[] {
  if (specs === false) return [];
  const parsed = (specs ?? []).map((spec) => parseOutSpec(spec, cwd));
  if (options.hasResultsFile === false) {
    const file = (specs ?? []).find((_spec, i) => parsed[i]!.kind === 'json');
    if (file !== undefined) throw new UsageError(`--out ${file} and --no-out contradict each other`, 'leave out one of them (--no-out drops only the results file: --out KIND=TARGET outputs are still written)');
  } else if (!parsed.some((spec) => spec.kind === 'json')) {
    parsed.unshift({ kind: 'json', target: resolve(cwd, `load_test_results_${Math.floor(nowMs / 1000)}.json`) });
  }
  return parsed.map(({ kind, target }) => OUTPUT_KINDS[kind]!(target));
}

/** The CI and monitoring flags of `runner run`, each becoming one output. */
export interface CiOutputFlags {
  /** `--junit FILE`: thresholds as JUnit XML. */
  junit?: string;
  /** `--summary-json FILE`: the summary without timeline and histograms. */
  summaryJson?: string;
  /** `--metrics-port` (with --metrics-host, --metrics-linger): a Prometheus endpoint. */
  metrics?: MetricsEndpointOptions;
  /** `--report FILE`: the self-contained HTML report. */
  report?: string;
  /** `--dashboard [HOST:]PORT`: the live web dashboard. */
  dashboard?: DashboardOptions;
}

/** Builds the outputs of --junit, --summary-json, --metrics-port, --report and --dashboard (independent of --out/--no-out). */
export function createCiOutputs(flags: CiOutputFlags, cwd: string): RunOutput[] {
  const outputs: RunOutput[] = [];
  if (flags.junit !== undefined) outputs.push(createJunitOutput(resolve(cwd, flags.junit)));
  if (flags.summaryJson !== undefined) outputs.push(createSummaryJsonOutput(resolve(cwd, flags.summaryJson)));
  if (flags.metrics) outputs.push(createPrometheusOutput(flags.metrics));
  if (flags.report !== undefined) outputs.push(createHtmlReportOutput(resolve(cwd, flags.report)));
  if (flags.dashboard) outputs.push(createDashboardOutput(flags.dashboard));
  return outputs;
}

/**
 * Lets outputs that still serve something after the summary finish it (the metrics endpoint
 * waits for a scrape of the final values when `linger`), then release it. Never throws.
 */
export async function closeOutputs(outputs: readonly RunOutput[], options: CloseOptions): Promise<void> {
  await Promise.all(outputs.map((output) => output.close?.(options).catch(() => undefined)));
}

/** An output that could not be written: which, where, and why. */
export interface OutputFailure {
  output: RunOutput;
  error: Error;
}

/**
 * Finishes every output with the summary, each attempted whatever became of the others (one
 * full disk must not cost the JUnit file, the report or the console summary: issue 19), and
 * returns the ones that failed, in order. Never throws.
 */
export async function finishOutputs(
  outputs: readonly RunOutput[],
  summary: Parameters<NonNullable<RunOutput['finish']>>[0],
  context: Parameters<NonNullable<RunOutput['finish']>>[1],
): Promise<OutputFailure[]> {
  const failures: OutputFailure[] = [];
  for (const output of outputs) {
    try {
      await output.finish?.(summary, context);
    } catch (error) {
      failures.push({ output, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return failures;
}

/** The same on a second Ctrl+C, synchronously (`finishNow`); returns the failures. Never throws. */
export function finishOutputsNow(outputs: readonly RunOutput[], summary: Parameters<NonNullable<RunOutput['finishNow']>>[0]): OutputFailure[] {
  const failures: OutputFailure[] = [];
  for (const output of outputs) {
    try {
      output.finishNow?.(summary);
    } catch (error) {
      failures.push({ output, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return failures;
}

/** `error: <what> <path>: <reason>` and its `hint:` line, for stderr. */
export function formatOutputFailure(failure: OutputFailure): string {
  const { output, error } = failure;
  const where = output.path !== undefined && !error.message.includes(output.path) ? ` ${output.path}` : '';
  const hint = (error as { hint?: unknown }).hint;
  // A path or a system's message may hold control characters: shown escaped (issue 19)
  return escapeControl(`error: ${output.description}${where}: ${error.message}\n${typeof hint === 'string' ? `hint: ${hint}\n` : ''}`, true);
}

/**
 * Refuses, before anything is opened, outputs that would overwrite each other or an input: two
 * outputs on one path, or an output on the scenario file (or another file the run reads).
 * Devices and FIFOs (/dev/null, /dev/stdout) may take several outputs: nothing is overwritten.
 */
export function checkOutputPaths(outputs: readonly RunOutput[], inputs: ReadonlyArray<{ path: string; what: string }>): void {
  const seen: RunOutput[] = [];
  for (const output of outputs) {
    const path = output.path;
    if (path === undefined) continue;
    for (const input of inputs) {
      if (isSameFile(path, input.path)) {
        throw new UsageError(`${output.description} ${path} is the ${input.what}: writing it would overwrite the ${input.what}`, 'choose another path for the output');
      }
    }
    if (isSpecialFileSync(path)) continue;
    const clash = seen.find((other) => isSameFile(other.path!, path));
    if (clash) {
      throw new UsageError(`${clash.description} and ${output.description} are both ${path}: one would overwrite the other`, 'give each output its own path');
    }
    seen.push(output);
  }
}
