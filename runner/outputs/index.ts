/**
 * Output kinds, one explicit map. `--out FILE` is the results file (the old tool's flag);
 * `--out KIND=TARGET` picks another kind, e.g. `--out ndjson=timeline.ndjson`.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { RunOutput } from './output.ts';
import { createResultsJsonOutput } from './results-json.ts';
import { createCsvOutput, createNdjsonOutput } from './timeline-stream.ts';

/** Output factories by kind; TARGET is an absolute path (or a port for endpoint kinds). */
export const OUTPUT_KINDS: Record<string, (target: string) => RunOutput> = {
  json: createResultsJsonOutput,
  ndjson: createNdjsonOutput,
  csv: createCsvOutput,
};

/** Parses one `--out` value into its kind and target (relative paths resolved against cwd). */
export function parseOutSpec(spec: string, cwd: string): { kind: string; target: string } {
  const match = /^([a-z][a-z0-9-]*)=(.+)$/.exec(spec);
  if (!match) return { kind: 'json', target: resolve(cwd, spec) };
  const kind = match[1]!;
  if (!(kind in OUTPUT_KINDS)) {
    throw new UsageError(`--out ${spec}: unknown output kind '${kind}'`, `use one of: ${Object.keys(OUTPUT_KINDS).join(', ')} (e.g. --out ${Object.keys(OUTPUT_KINDS).at(-1)}=FILE), or --out FILE for the results file`);
  }
  return { kind, target: /^\d+$/.test(match[2]!) ? match[2]! : resolve(cwd, match[2]!) };
}

/**
 * Builds the outputs for `--out` values. The results file is always among them (as
 * load_test_results_<unix>.json unless one is named), except with `--no-out` (false).
 */
export function createOutputs(specs: string[] | false | undefined, cwd: string, nowMs = Date.now()): RunOutput[] {
  if (specs === false) return [];
  const parsed = (specs ?? []).map((spec) => parseOutSpec(spec, cwd));
  if (!parsed.some((spec) => spec.kind === 'json')) {
    parsed.unshift({ kind: 'json', target: resolve(cwd, `load_test_results_${Math.floor(nowMs / 1000)}.json`) });
  }
  return parsed.map(({ kind, target }) => OUTPUT_KINDS[kind]!(target));
}
