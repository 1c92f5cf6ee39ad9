/**
 * Reading results files for compare, report and merge. Two shapes are accepted:
 *
 * - runner's own (`runner run` → load_test_results_<unix>.json or --out): validated against
 *   schemas/results.schema.json with ajv, every problem listed with its JSON path; a version-1
 *   file (no `schema_version`, written before version 2) against schemas/results-v1.schema.json,
 *   then upgraded to version 2 in memory (names.ts upgradeV1), so every reader sees version 2;
 * - the old Python tool's (the guide's load_test_results_<unix>.json): `results.total_requests`,
 *   `successful`, `failed`, `success_rate`, `throughput_rps/rpm` and `results.latency.*_seconds`.
 *   It has no histograms, timeline or phases, so it can be compared and reported but not merged,
 *   and its differences cannot be tested for significance; the commands say so.
 *
 * Either way the caller gets one normalised view (LoadedResults) and, for runner's files, the
 * Summary itself. Anything else is a ResultsFileError that says what the file is and what was
 * expected, never a stack trace.
 */
import { open } from 'node:fs/promises';
import { formatLimit, LIMITS } from '../scenario/limits.ts';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import schema from '../../schemas/results.schema.json' with { type: 'json' };
import schemaV1 from '../../schemas/results-v1.schema.json' with { type: 'json' };
import { RunnerError } from '../errors.ts';
import { TrendSink, type EncodedTrend } from '../metrics/trend.ts';
import { upgradeV1, type SummaryV1 } from './names.ts';
import { RESULTS_SCHEMA_VERSION } from './version.ts';
import { SWEEP_FILE_KIND } from './sweep.ts';
import type { LatencySeconds, Summary } from './types.ts';
import { formatTimestamp } from '../util/format.ts';
import { escapeControlDeep } from '../util/escape.ts';

/** What `runner run` writes, for hints. */
const RESULTS_FILE_HINT = 'give a results file written by `runner run` (load_test_results_<unix time>.json, or the file named with --out) or by the old Python tool';

/** A results file that cannot be read, is not JSON, or is not a results file. Exit code 104. */
export class ResultsFileError extends RunnerError {
  override name = 'ResultsFileError';
  /** The file as the user named it. */
  readonly file: string;
  constructor(file: string, message: string, hint: string = RESULTS_FILE_HINT, cause?: unknown) {
    super(message, { code: 'E_RESULTS_FILE', exit: 'invalidOptions', hint, cause });
    this.file = file;
  }
}

/** Which tool wrote a results file. */
export type ResultsKind = 'runner' | 'legacy';

/** A results file read and normalised; figures in the units of the file (seconds, per second). */
export interface LoadedResults {
  /** The path as given on the command line. */
  file: string;
  kind: ResultsKind;
  /** The whole file, for runner's files (histograms, timeline, phases…), as version 2. */
  summary: Summary | undefined;
  /** The format version the file was written in (1 or 2); null for the old tool's files. */
  schemaVersion: number | null;
  /** Start time as written (ISO 8601; the old tool wrote local time without a zone). */
  timestamp: string;
  target: string;
  config: Record<string, unknown>;
  /** completed / interrupted / aborted; null for the old tool's files. */
  status: string | null;
  totalRequests: number;
  successful: number;
  failed: number;
  /** successful / (successful + failed), 0..1. */
  successRate: number;
  /** Requests (successful + failed) per second of wall-clock time. */
  throughputRps: number;
  throughputRpm: number;
  /** Accepted messages per second of wall-clock time. */
  successfulRps: number;
  /** Wall-clock test time in seconds; null when the file does not say (old tool). */
  totalTimeSeconds: number | null;
  /** Latency in seconds; figures the file lacks are null (the old tool had no p90/p99.9). */
  latency: LatencySeconds;
}

interface Validators {
  runner: ValidateFunction;
  runnerV1: ValidateFunction;
  legacy: ValidateFunction;
}

let compiled: Validators | undefined;

const LEGACY_SCHEMA = {
  type: 'object',
  required: ['results'],
  properties: {
    timestamp: { type: 'string' },
    target: { type: 'string' },
    config: { type: 'object' },
    results: {
      type: 'object',
      required: ['total_requests', 'successful', 'failed', 'throughput_rps', 'latency'],
      properties: {
        total_requests: { type: 'integer', minimum: 0 },
        successful: { type: 'integer', minimum: 0 },
        failed: { type: 'integer', minimum: 0 },
        success_rate: { type: 'number', minimum: 0, maximum: 1 },
        throughput_rps: { type: 'number', minimum: 0 },
        throughput_rpm: { type: 'number', minimum: 0 },
        latency: {
          type: 'object',
          properties: Object.fromEntries(
            ['min', 'max', 'avg', 'p50', 'p95', 'p99'].map((name) => [`${name}_seconds`, { type: ['number', 'null'], minimum: 0 }]),
          ),
        },
      },
    },
  },
};

function validators(): Validators {
  if (!compiled) {
    // strict: false: the results schema uses allOf with sibling keywords, which strict mode rejects.
    // ajv loads on first use (~30 ms): `runner run` imports this module and never validates here.
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    compiled = { runner: ajv.compile(schema), runnerV1: ajv.compile(schemaV1), legacy: ajv.compile(LEGACY_SCHEMA) };
  }
  return compiled;
}

/** `path: message` lines for ajv errors, at most `limit`, with a count of the rest. */
function describeAjvErrors(errors: ErrorObject[] | null | undefined, limit = 8): string[] {
  const lines = (errors ?? []).map((e) => {
    const where = e.instancePath === '' ? '(top level)' : e.instancePath.slice(1).replaceAll('/', '.');
    const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
    return `${where}: ${e.message}${extra}`;
  });
  const unique = [...new Set(lines)];
  if (unique.length <= limit) return unique;
  return [...unique.slice(0, limit), `… and ${unique.length - limit} more`];
}

/** Whether a parsed object looks like runner's own results file (it has a field the old tool never wrote). */
function isRunnerShaped(data: Record<string, unknown>): boolean {
  return 'schema_version' in data || 'histograms' in data || 'timeline' in data || 'status' in data || 'scenarios' in data;
}

/** Parses and validates the text of a results file; `file` names it in errors. */
export function parseResultsText(text: string, file: string): LoadedResults {
  let data: unknown;
  try {
    // Everything read back may be printed (compare, report, merge): control characters shown escaped (issue 19)
    data = escapeControlDeep(JSON.parse(text));
  } catch (error) {
    throw new ResultsFileError(file, `${file} is not JSON (${(error as Error).message.replace(/\r?\n/g, '\\n')})`, RESULTS_FILE_HINT, error);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const what = data === null ? 'null' : Array.isArray(data) ? 'an array' : `a ${typeof data}`;
    throw new ResultsFileError(file, `${file} is not a results file: it holds ${what}, not an object`);
  }
  const record = data as Record<string, unknown>;
  if (record['kind'] === SWEEP_FILE_KIND) {
    throw new ResultsFileError(file, `${file} is a sweep file (runner sweep --out): a curve of steps, not one run's results`,
      'run the sweep with --out-dir FOLDER to keep each step\'s results file, then give those (e.g. runner report FOLDER)');
  }
  const { legacy } = validators();
  if (isRunnerShaped(record)) {
    const writtenVersion = record['schema_version'] ?? 1;
    return fromSummary(toVersion2(record, file), file, writtenVersion as number);
  }
  if (typeof record['results'] !== 'object' || record['results'] === null) {
    const keys = Object.keys(record).slice(0, 6).join(', ');
    throw new ResultsFileError(file, `${file} is not a runner results file: it has no "results" object (it has: ${keys || 'nothing'})`);
  }
  if (!legacy(record)) {
    const problems = describeAjvErrors(legacy.errors);
    throw new ResultsFileError(
      file,
      `${file} looks like the old tool's results file but is incomplete:\n  - ${problems.join('\n  - ')}`,
      'the old tool\'s file needs results.total_requests, successful, failed, throughput_rps and latency.*_seconds',
    );
  }
  return fromLegacy(record as unknown as LegacyResults, file);
}

/**
 * A runner results file as version 2: validated against its version's schema, a version-1 file
 * upgraded (the one place a version-1 file is turned into version 2). Throws ResultsFileError.
 */
function toVersion2(record: Record<string, unknown>, file: string): Summary {
  const version = record['schema_version'] ?? 1;
  if (version !== 1 && version !== RESULTS_SCHEMA_VERSION) {
    throw new ResultsFileError(file, `${file} is a results file of format version ${JSON.stringify(version)}; this runner reads versions 1 and ${RESULTS_SCHEMA_VERSION}`,
      'read it with the runner that wrote it, or update runner');
  }
  const validate = version === 1 ? validators().runnerV1 : validators().runner;
  // validate() narrows `record`; the other version's check below needs it as written
  const asWritten = record;
  if (!validate(record)) {
    const problems = describeAjvErrors(validate.errors);
    const isDeclared = 'schema_version' in record;
    // A file whose fields are the other version's: say so, not the dozens of fields that differ
    const otherVersion = version === 1 ? RESULTS_SCHEMA_VERSION : 1;
    if ((otherVersion === 1 ? validators().runnerV1 : validators().runner)(withVersion(asWritten, otherVersion))) {
      const claim = isDeclared ? `says "schema_version": ${version}` : 'has no schema_version (so format version 1)';
      throw new ResultsFileError(file, `${file} ${claim}, but its fields are format version ${otherVersion}'s`,
        otherVersion === 1 ? 'remove its schema_version (version 1 files have none), or re-run the test' : `set "schema_version": ${otherVersion} in it, or re-run the test`);
    }
    throw new ResultsFileError(
      file,
      `${file} is not a valid runner results file of format version ${version}${isDeclared ? '' : ' (it has no schema_version)'}:\n  - ${problems.join('\n  - ')}`,
      'was it edited by hand, cut short, or written by another version of runner? Re-run the test to get a fresh file',
    );
  }
  return version === 1 ? upgradeV1(record as unknown as SummaryV1) : (record as unknown as Summary);
}

/** The file's fields as format `version` would write them: version 1 without schema_version. */
function withVersion(record: Record<string, unknown>, version: number): Record<string, unknown> {
  const copy = { ...record };
  if (version === 1) delete copy['schema_version'];
  else copy['schema_version'] = version;
  return copy;
}

/**
 * A file's text, at most `maxBytes` of it: read in chunks, so a device or FIFO without a size
 * (/dev/zero, a process substitution) is bounded too. Undefined when it is larger.
 */
async function readBoundedText(file: string, maxBytes: number): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) return undefined;
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Reads, parses and validates a results file. Throws ResultsFileError with a hint. */
export async function readResultsFile(file: string): Promise<LoadedResults> {
  let text: string | undefined;
  try {
    text = await readBoundedText(file, LIMITS.resultsFileBytes.max);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new ResultsFileError(file, `cannot read ${file}: ${reason}`, RESULTS_FILE_HINT, error);
  }
  if (text === undefined) {
    throw new ResultsFileError(file, `${file} is larger than ${formatLimit('resultsFileBytes')}: not a results file`, `${RESULTS_FILE_HINT} (${LIMITS.resultsFileBytes.why})`);
  }
  return parseResultsText(text, file);
}

/** Reads several results files in order; the first bad one throws. */
export async function readResultsFiles(files: readonly string[]): Promise<LoadedResults[]> {
  const loaded: LoadedResults[] = [];
  for (const file of files) loaded.push(await readResultsFile(file));
  return loaded;
}

/** The old tool's results file, as far as we read it. */
interface LegacyResults {
  timestamp?: string;
  target?: string;
  config?: Record<string, unknown>;
  results: {
    total_requests: number;
    successful: number;
    failed: number;
    success_rate?: number;
    throughput_rps: number;
    throughput_rpm?: number;
    latency: Partial<Record<'min_seconds' | 'max_seconds' | 'avg_seconds' | 'p50_seconds' | 'p95_seconds' | 'p99_seconds', number | null>>;
  };
}

function fromSummary(summary: Summary, file: string, schemaVersion: number): LoadedResults {
  const r = summary.results;
  return {
    file,
    kind: 'runner',
    summary,
    schemaVersion,
    timestamp: summary.timestamp,
    target: summary.target,
    config: summary.config,
    status: summary.status,
    totalRequests: r.total_requests,
    successful: r.successful,
    failed: r.failed,
    successRate: r.success_rate,
    throughputRps: r.throughput_rps,
    throughputRpm: r.throughput_rpm,
    successfulRps: r.successful_rps,
    totalTimeSeconds: r.total_time_seconds,
    latency: r.latency,
  };
}

function fromLegacy(legacy: LegacyResults, file: string): LoadedResults {
  const r = legacy.results;
  const judged = r.successful + r.failed;
  const latency = (name: keyof LegacyResults['results']['latency']): number | null => r.latency[name] ?? null;
  return {
    file,
    kind: 'legacy',
    summary: undefined,
    schemaVersion: null,
    timestamp: legacy.timestamp ?? '',
    target: legacy.target ?? '',
    config: legacy.config ?? {},
    status: null,
    totalRequests: r.total_requests,
    successful: r.successful,
    failed: r.failed,
    successRate: r.success_rate ?? (judged ? r.successful / judged : 0),
    throughputRps: r.throughput_rps,
    throughputRpm: r.throughput_rpm ?? r.throughput_rps * 60,
    // The old tool divided all requests by the test time, so accepted/s scales by the success share.
    successfulRps: r.total_requests > 0 ? (r.throughput_rps * r.successful) / r.total_requests : 0,
    totalTimeSeconds: r.throughput_rps > 0 ? r.total_requests / r.throughput_rps : null,
    latency: {
      // The old tool timed the messages it sent successfully.
      count: r.successful,
      min_seconds: latency('min_seconds'),
      max_seconds: latency('max_seconds'),
      avg_seconds: latency('avg_seconds'),
      p50_seconds: latency('p50_seconds'),
      p90_seconds: null,
      p95_seconds: latency('p95_seconds'),
      p99_seconds: latency('p99_seconds'),
      p999_seconds: null,
    },
  };
}

/** Checks a (version 2) summary against schemas/results.schema.json; returns the problems (empty when valid). */
export function validateSummary(summary: unknown): string[] {
  const { runner } = validators();
  return runner(summary) ? [] : describeAjvErrors(runner.errors, 50);
}

/** Decodes one encoded histogram of a file, naming the file and field when it is corrupt. */
export function decodeTrend(encoded: EncodedTrend, file: string, field: string): TrendSink {
  try {
    return TrendSink.decode(encoded);
  } catch (error) {
    throw new ResultsFileError(file, `${file}: histogram ${field} cannot be decoded (${(error as Error).message})`,
      'the file was probably edited or truncated; re-run the test to get a fresh file', error);
  }
}

/** A short description of a run for headers: `file (2025-11-24 10:30:00, 127.0.0.1:2525, 1000 requests)`. */
export function describeRun(run: LoadedResults): string {
  const parts = [formatTimestamp(run.timestamp), run.target, `${run.totalRequests} requests`];
  if (run.totalTimeSeconds !== null) parts.push(`${run.totalTimeSeconds.toFixed(1)} s`);
  if (run.kind === 'legacy') parts.push('old tool');
  else if (run.status !== 'completed') parts.push(run.status ?? '');
  return `${run.file} (${parts.filter(Boolean).join(', ')})`;
}
