/**
 * Checks a scenario file's options twice, as k6 does, and reports *every* problem at once:
 *
 * 1. the JSON schema (schemas/scenario.schema.json, ajv, all errors): shape, types, names,
 *    required options per executor, unknown options (with a "did you mean" for typos);
 * 2. semantic checks the schema cannot express well: values that parse (durations, emails),
 *    ranges and relations between options (maxVUs >= preAllocatedVUs), each with what to do.
 *
 * Each problem is `path: message` with a path as written in the file
 * (`scenarios.ramp.stages[1].duration: '5x' is not a duration: use e.g. '30s', '5m'`). An
 * executor's own options are checked by its module (runner/executors/<name>.ts, `validate`). When
 * both checks flag the same path, the semantic message wins: it says more.
 */
import type { ErrorObject } from 'ajv';
import schema from '../../schemas/scenario.schema.json' with { type: 'json' };
import { PHASES } from '../smtp/phases.ts';
import { SYSTEM_TAGS } from '../metrics/catalogue.ts';
import { isEmailAddress } from './accounts.ts';
import { Checker, durationMessage, formatPath, formatProblem, isRecord, quote, type PathSegments, type Problem } from './checks.ts';
import { findExecutor } from '../executors/index.ts';
import { scenarioSchemaValidator } from './schema-validator.ts';
import { suggestName } from '../util/suggest.ts';
import { LIMITS } from './limits.ts';
import { isSingleSize, resolveMessageSize, type MessageSizeSpec } from '../smtp/size-distribution.ts';

export { formatPath, formatProblem, quote, durationMessage, type Problem, type PathSegments } from './checks.ts';

// ---------------------------------------------------------------------------------------------
// Schema (ajv)

type SchemaNode = {
  properties?: Record<string, unknown>;
  allOf?: Array<{ if: { properties: { executor: { enum?: string[]; const?: string } } }; then: SchemaNode }>;
  enum?: unknown[];
};

const EXECUTORS = (schema.definitions.scenario.properties.executor.enum as string[]).slice();

/** Which executors accept each scenario option (read from the schema's if/then blocks). */
const OPTION_EXECUTORS: ReadonlyMap<string, string[]> = (() => {
  const map = new Map<string, string[]>();
  for (const block of (schema.definitions.scenario as unknown as SchemaNode).allOf ?? []) {
    const condition = block.if.properties.executor;
    const executors = condition.enum ?? [condition.const!];
    for (const option of Object.keys(block.then.properties ?? {})) {
      map.set(option, [...(map.get(option) ?? []), ...executors]);
    }
  }
  return map;
})();

/** Splits an ajv instancePath ('/scenarios/peak/stages/1') into segments, array indexes as numbers. */
function pointerSegments(pointer: string, data: unknown): Array<string | number> {
  const segments: Array<string | number> = [];
  if (pointer === '') return segments;
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'null',
};

/** Options whose values are secrets (redact.ts): problems with them name the option, never its value. */
const SECRET_OPTIONS: ReadonlySet<string> = new Set(['password', 'token']);

/** Converts one ajv error into a problem with a file path and a fix, or undefined to drop it. */
function convertAjvError(error: ErrorObject, data: unknown): Problem | undefined {
  const segments = pointerSegments(error.instancePath, data);
  const at = (extra?: string | number) => formatPath(extra === undefined ? segments : [...segments, extra]);
  const isScenario = segments.length === 2 && segments[0] === 'scenarios';
  const executor = isScenario ? (error.data as { executor?: unknown } | null)?.executor : undefined;
  const params = error.params as Record<string, any>;
  // A secret option's value is never echoed, even a wrong one (issue 19): it may be the real secret mistyped
  const isSecret = SECRET_OPTIONS.has(String(segments[segments.length - 1]));
  const shown = (value: unknown): string => (isSecret ? 'a value not shown here: it is a secret' : quote(value));

  // propertyNames: the only one in the schema is the scenario-name pattern; its inner error
  // names the property, the outer one only says "property name must be valid".
  if (error.keyword === 'propertyNames') return undefined;
  if (error.propertyName !== undefined) {
    return { path: at(error.propertyName), message: `scenario names may only contain letters, digits, '_' and '-'` };
  }
  switch (error.keyword) {
    case 'if':
      return undefined; // the `then` errors say what is wrong
    case 'required': {
      const missing = params['missingProperty'] as string;
      if (missing === 'executor') return { path: at(missing), message: `is required: one of ${EXECUTORS.join(', ')}` };
      if (missing === 'scenarios' && segments.length === 0) {
        return { path: at(missing), message: `is required: e.g. scenarios: { main: { executor: 'shared-iterations', vus: 10, iterations: 100 } }` };
      }
      if (isScenario && typeof executor === 'string') return { path: at(missing), message: `is required by executor ${executor}` };
      return { path: at(missing), message: 'is required' };
    }
    case 'additionalProperties': {
      const unknown = params['additionalProperty'] as string;
      const known = Object.keys((error.parentSchema as SchemaNode | undefined)?.properties ?? {});
      const owners = isScenario ? OPTION_EXECUTORS.get(unknown) : undefined;
      if (owners && typeof executor === 'string') {
        return { path: at(unknown), message: `is not an option of executor ${executor} (it belongs to ${owners.join(', ')})` };
      }
      const suggestion = suggestName(unknown, known);
      if (suggestion) return { path: at(unknown), message: `unknown option: did you mean '${suggestion}'?` };
      return { path: at(unknown), message: `unknown option: expected one of ${known.join(', ')}` };
    }
    case 'enum': {
      const allowed = params['allowedValues'] as unknown[];
      const suggestion = typeof error.data === 'string' ? suggestName(error.data, allowed.map(String)) : undefined;
      return {
        path: at(),
        message: `${shown(error.data)} is not one of ${allowed.map(String).join(', ')}${suggestion ? `: did you mean '${suggestion}'?` : ''}`,
      };
    }
    case 'type': {
      const types = String(params['type']).split(',').map((type) => TYPE_WORDS[type] ?? type);
      return { path: at(), message: `must be ${types.join(' or ')} (got ${shown(error.data)})` };
    }
    case 'pattern':
      if (error.schemaPath.includes('/duration/')) return { path: at(), message: durationMessage(error.data) };
      return { path: at(), message: isSecret ? `must match ${params['pattern']}` : `${quote(error.data)} must match ${params['pattern']}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path: at(), message: `must be ${params['comparison']} ${params['limit']} (got ${shown(error.data)})` };
    case 'minItems':
    case 'minProperties':
    case 'minLength':
      return { path: at(), message: 'must not be empty' };
    default:
      return { path: at(), message: error.message ?? `fails ${error.keyword}` };
  }
}

/** Validates against the JSON schema; every error, as problems. */
export function checkSchema(options: unknown): Problem[] {
  const validate = scenarioSchemaValidator();
  if (validate(options)) return [];
  const problems: Problem[] = [];
  for (const error of validate.errors ?? []) {
    const problem = convertAjvError(error, options);
    if (problem) problems.push(problem);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Semantic checks. They run on data the schema may have rejected, so every check first makes
// sure the value has the type it expects (the schema reports wrong types).

/** An email option: a string that is an email address. */
function checkEmail(check: Checker, value: unknown, path: PathSegments): void {
  if (typeof value === 'string' && !isEmailAddress(value)) check.add(path, `${quote(value)} is not an email address`);
}

function checkTarget(check: Checker, target: unknown, path: PathSegments): void {
  if (!isRecord(target)) return;
  if (typeof target['host'] === 'string' && /\s/.test(target['host'])) check.add([...path, 'host'], `${quote(target['host'])} is not a host name or IP`);
  const port = target['port'];
  if (typeof port === 'number' && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    check.add([...path, 'port'], `${port} is out of range 1-65535`);
  }
  const adminUrl = target['adminUrl'];
  if (typeof adminUrl === 'string') {
    let isHttp = false;
    try {
      isHttp = /^https?:$/.test(new URL(adminUrl).protocol);
    } catch {
      // reported below
    }
    if (!isHttp) check.add([...path, 'adminUrl'], `${quote(adminUrl)} is not an http(s) URL: use e.g. 'http://127.0.0.1:9090'`);
  }
}

function checkSmtp(check: Checker, smtp: unknown, path: PathSegments): void {
  if (!isRecord(smtp)) return;
  checkEmail(check, smtp['from'], [...path, 'from']);
  const to = smtp['to'];
  if (typeof to === 'string') checkEmail(check, to, [...path, 'to']);
  else if (Array.isArray(to)) to.forEach((recipient, index) => checkEmail(check, recipient, [...path, 'to', index]));
  if (smtp['messageSize'] !== undefined) {
    const problem = messageSizeProblem(smtp['messageSize']);
    if (problem) check.add([...path, 'messageSize'], problem);
  }
  if (smtp['messageSizeSeed'] !== undefined) check.integer(smtp['messageSizeSeed'], [...path, 'messageSizeSeed'], 0);
  check.integer(smtp['messagesPerConnection'], [...path, 'messagesPerConnection'], 1);
  const dsn = smtp['dsn'];
  // RFC 3461 §4.1: NEVER is only valid alone
  if (isRecord(dsn) && Array.isArray(dsn['notify']) && dsn['notify'].includes('NEVER') && dsn['notify'].length > 1) {
    check.add([...path, 'dsn', 'notify'], "NEVER cannot be combined with other values (RFC 3461 §4.1): use ['NEVER'] alone, or any of SUCCESS, FAILURE, DELAY");
  }
  check.duration(smtp['timeout'], [...path, 'timeout'], true);
  const timeouts = smtp['timeouts'];
  if (isRecord(timeouts)) {
    for (const phase of PHASES) check.duration(timeouts[phase], [...path, 'timeouts', phase], true);
  }
}

function checkAccounts(check: Checker, accounts: unknown, path: PathSegments): void {
  if (!isRecord(accounts)) return;
  const weights = accounts['weights'];
  if (isRecord(weights)) {
    if (accounts['pick'] !== 'weighted') {
      check.add([...path, 'weights'], `weights are only used with pick: 'weighted': add it, or remove weights`);
    }
    for (const [email, weight] of Object.entries(weights)) {
      check.integer(weight, [...path, 'weights', email], 0);
      checkEmail(check, email, [...path, 'weights', email]);
    }
  }
}

function checkTags(check: Checker, tags: unknown, path: PathSegments): void {
  if (!isRecord(tags)) return;
  for (const key of Object.keys(tags)) {
    if ((SYSTEM_TAGS as readonly string[]).includes(key)) {
      check.add([...path, key], `tag '${key}' is set by runner on every sample: choose another name`);
    } else if (!/^[A-Za-z0-9_.-]+$/.test(key)) {
      // Threshold filters read `{key:value,...}`, so a key must not hold those characters.
      check.add([...path, key], `tag names may only contain letters, digits, '_', '.' and '-'`);
    }
  }
}

function checkScenario(check: Checker, name: string, scenario: unknown): void {
  if (!isRecord(scenario)) return;
  const path = ['scenarios', name];
  const at = (key: string) => [...path, key];
  check.duration(scenario['startTime'], at('startTime'), false);
  check.duration(scenario['gracefulStop'], at('gracefulStop'), false);
  checkTags(check, scenario['tags'], at('tags'));
  checkTarget(check, scenario['target'], at('target'));
  checkSmtp(check, scenario['smtp'], at('smtp'));
  checkAccounts(check, scenario['accounts'], at('accounts'));
  // An unknown or missing executor is the schema's to report.
  const definition = findExecutor(scenario['executor']);
  if (definition) check.problems.push(...definition.validate(scenario, path));
}

function checkThresholds(check: Checker, thresholds: unknown): void {
  if (!isRecord(thresholds)) return;
  for (const [metric, specs] of Object.entries(thresholds)) {
    const path = ['thresholds', metric];
    if (metric.trim() === '') check.add(path, 'a threshold needs a metric name, e.g. smtp_txn_duration');
    if (typeof specs === 'string') {
      check.add(path, `must be a list of conditions, e.g. [${quote(specs)}]`);
      continue;
    }
    if (!Array.isArray(specs)) continue;
    specs.forEach((spec, index) => {
      if (isRecord(spec)) check.duration(spec['delayAbortEval'], [...path, index, 'delayAbortEval'], false);
    });
  }
}

/** Semantic checks on the options of a scenario file (code fields already removed). */
export function checkSemantics(options: unknown): Problem[] {
  const check = new Checker();
  if (!isRecord(options)) return check.problems;
  checkTarget(check, options['target'], ['target']);
  checkSmtp(check, options['smtp'], ['smtp']);
  checkAccounts(check, options['accounts'], ['accounts']);
  checkThresholds(check, options['thresholds']);
  check.duration(options['setupTimeout'], ['setupTimeout'], true);
  check.duration(options['teardownTimeout'], ['teardownTimeout'], true);
  const scenarios = options['scenarios'];
  if (isRecord(scenarios)) {
    if (Object.keys(scenarios).length === 0) {
      check.add(['scenarios'], `add at least one scenario, e.g. { main: { executor: 'shared-iterations', vus: 10, iterations: 100 } }`);
    }
    for (const [name, scenario] of Object.entries(scenarios)) checkScenario(check, name, scenario);
  }
  return check.problems;
}

/**
 * Every problem of a scenario file's options (code fields already removed), formatted as
 * `path: message`, sorted by path; empty when the options are valid.
 */
export function validateScenarioFile(options: unknown): string[] {
  const semantic = checkSemantics(options);
  const semanticPaths = new Set(semantic.map((problem) => problem.path));
  const all = [...semantic];
  const seen = new Set<string>();
  for (const problem of checkSchema(options)) {
    const text = formatProblem(problem);
    if (semanticPaths.has(problem.path) || seen.has(text)) continue;
    seen.add(text);
    all.push(problem);
  }
  all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return all.map(formatProblem);
}

/** What is wrong with a message size or distribution (smtp.messageSize, --message-size), or undefined. */
export function messageSizeProblem(spec: unknown): string | undefined {
  try {
    // One size's bound is checked with the other limits (check-limits.ts); a distribution's here
    resolveMessageSize(spec as MessageSizeSpec, isSingleSize(spec as MessageSizeSpec) ? Infinity : LIMITS.messageSizeBytes.max);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
