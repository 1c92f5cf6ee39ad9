/**
 * The resolved options as plain data (what `runner inspect` prints and `runner archive` records):
 * the names of ResolvedOptions, durations in ms, secrets and certificate text left out, code as
 * booleans, paths relative to the scenario file's folder, and of the environment only the
 * `--env` names, so the description is the same wherever the file (or its archive) is opened.
 */
import { basename, isAbsolute, relative } from 'node:path';
import type { ResolvedOptions, ResolvedScenario } from '../scenario/resolved.ts';
import { describeDeliverySource } from '../delivery/options.ts';
import { DEFAULTS } from '../scenario/defaults.ts';

/** What `describeOptions` needs besides the options. */
export interface DescribeContext {
  /** The scenario file's folder: paths are shown relative to it. */
  baseDir: string;
  /** The scenario file's name as shown (an archive keeps its original's). */
  fileName: string | undefined;
  /** `--env` names (their values may be secrets: not shown). */
  envNames: readonly string[];
}

/** The resolved options as JSON-ready data. */
export function describeOptions(options: ResolvedOptions, context: DescribeContext): Record<string, unknown> {
  const described: Record<string, unknown> = {
    file: context.fileName ?? null,
    description: options.description ?? null,
    warmup: options.warmup,
    summaryTrendStats: options.summaryTrendStats ?? null,
    thinkTime: options.thinkTime ?? null,
    setupTimeoutMs: options.setupTimeoutMs,
    teardownTimeoutMs: options.teardownTimeoutMs,
    code: {
      iteration: options.iteration !== undefined,
      setup: options.setup !== undefined,
      teardown: options.teardown !== undefined,
      handleSummary: options.handleSummary !== undefined,
    },
    env: [...context.envNames].sort(),
    delivery: options.delivery ? describeDeliverySource(options.delivery) : null,
    thresholds: options.thresholds,
    scenarios: Object.fromEntries(options.scenarios.map((scenario) => [scenario.name, describeScenario(scenario, context.baseDir)])),
  };
  // Plain JSON (no undefined fields): what --json prints is what the text shows
  return JSON.parse(JSON.stringify(described)) as Record<string, unknown>;
}

function describeScenario(scenario: ResolvedScenario, baseDir: string): Record<string, unknown> {
  const { smtp, name: _name, executor, ...resolved } = scenario;
  return {
    // The resolved scenario as the engine runs it: its executor's own options by their names
    executor,
    ...resolved,
    smtp: {
      ...smtp,
      // Secrets never leave the process; say only whether one is set.
      password: smtp.password !== DEFAULTS.password ? '(set)' : '(default)',
      token: smtp.token ? '(set)' : '(none)',
      tlsCa: smtp.tlsCa === undefined ? null : `(PEM, ${Buffer.byteLength(smtp.tlsCa)} bytes)`,
    },
    accounts: {
      pick: scenario.accounts.pick,
      count: scenario.accounts.emails.length,
      emails: scenario.accounts.emails,
      weights: scenario.accounts.weights,
      file: scenario.accounts.file === undefined ? null : shownPath(scenario.accounts.file, baseDir),
    },
  };
}

/** A path relative to `baseDir` when inside it, else its file name (an archive moves it). */
function shownPath(path: string, baseDir: string): string {
  const fromBase = relative(baseDir, path);
  return fromBase !== '' && !isAbsolute(fromBase) && !fromBase.startsWith('..') ? fromBase : basename(path);
}
