/**
 * Threshold grammar (k6's, plus units), parsed and checked against the metric catalogue before
 * a run starts, so a typo fails in milliseconds instead of after an hour of load.
 *
 * A condition, spaces allowed between tokens:
 *
 *     condition   = aggregation op value
 *     aggregation = "avg" | "min" | "max" | "med" | "count" | "rate" | "value" | "p(" N ")"
 *                   N: a number with 0 < N <= 100, e.g. p(95), p(99.9)
 *     op          = "<" | "<=" | ">" | ">=" | "==" | "!="      ("===" is read as "==", as in k6)
 *     value       = number [unit]
 *     number      = [+|-] digits [. digits] [e [+|-] digits]  (or .digits)
 *     unit        = "us" | "µs" | "ms" | "s"
 *
 * Units are allowed only on duration aggregations (avg, min, max, med, p(N)) and, once the
 * metric is known, only on time trends. A time trend's value is normalized to milliseconds; a
 * bare number on a time trend is milliseconds (as in k6), so `p(95)<0.5s`, `p(95)<500` and
 * `p(95)<500ms` are the same condition. Other values are kept raw (`rate<0.01`, `count>100`).
 *
 * A metric key is a name, optionally with a sub-metric tag filter (k6 syntax):
 *
 *     key    = name [ "{" filter { "," filter } "}" ]
 *     name   = letter-or-_ { letter | digit | _ }      (at most 128 characters, as in k6)
 *     filter = tag ":" tagValue
 *     tag    = { letter | digit | _ | - | . }+
 *     tagValue = unquoted text without , { } " ' (may hold @ . : and inner spaces)
 *              | "..." | '...'  (quoted: anything but the quote, commas included)
 *
 * Spaces around every token are ignored: `smtp_txn_duration{ scenario: peak, account: "sales@company.com" }`.
 *
 * Tag keys: any key is accepted (scenarios add custom tags) unless the caller passes
 * `knownTags` to compileThresholds, in which case only those are accepted on built-in metrics.
 * A custom metric's filter may use any tag: its tags are whatever scenario code gives
 * `add(value, tags)` at run time (as in k6).
 */
import { InvalidOptionsError, RunnerError } from '../errors.ts';
import { AGGREGATIONS, BUILT_IN_METRICS, type MetricInfo, type MetricType } from '../metrics/catalogue.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import { suggestName } from '../util/suggest.ts';

/** An aggregation a condition reads from a metric; 'p' is a percentile (see `percentile`). */
export type Aggregation = 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' | 'p';

/** A comparison operator. */
export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A unit written after a threshold value. */
export type ThresholdUnit = 'us' | 'ms' | 's';

/** One parsed condition, e.g. `p(95)<0.5s` → { aggregation: 'p', percentile: 95, op: '<', value: 500, unit: 's' }. */
export interface ParsedCondition {
  /** The condition as written, trimmed. */
  source: string;
  aggregation: Aggregation;
  /** With aggregation 'p': the percentile, 0 < percentile <= 100. */
  percentile?: number;
  op: ThresholdOp;
  /** Milliseconds for time trends (units converted, bare numbers are ms); raw otherwise. */
  value: number;
  /** The unit written, if any; compileThresholds rejects it on metrics that are not time trends. */
  unit?: ThresholdUnit;
}

/** A parsed metric key, e.g. `smtp_txn_duration{scenario:peak}`. */
export interface ParsedMetricKey {
  /** The key exactly as written in the options (how summaries name the threshold). */
  key: string;
  /** The metric name, e.g. 'smtp_txn_duration'. */
  metric: string;
  /** The sub-metric filter: a sample counts when it carries every one of these tags; {} for the whole metric. */
  tags: Record<string, string>;
}

/** A condition of a checked threshold, with its abort settings. */
export type CompiledCondition = ParsedCondition & {
  /** Stop the run as soon as this condition fails. */
  abortOnFail: boolean;
  /** With abortOnFail: milliseconds of test time before the condition may abort the run. */
  delayAbortEvalMs: number;
};

/** The thresholds of one metric key, checked against the metric's type. */
export interface ThresholdDefinition {
  metric: ParsedMetricKey;
  /** The metric's type, so the evaluator knows how to read it even when it has no samples. */
  type: MetricType;
  /** Whether values are durations (ms in conditions and summaries). */
  isTime: boolean;
  conditions: CompiledCondition[];
}

/** The threshold forms an options file may use (ThresholdSpec in scenario/types.ts). */
export type ThresholdInput = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string | number };

/** A condition or metric key that does not follow the grammar; `position` is the 0-based index of the fault. */
export class ThresholdSyntaxError extends RunnerError {
  override name = 'ThresholdSyntaxError';
  /** The text that failed to parse. */
  readonly source: string;
  /** 0-based index in `source` where parsing stopped. */
  readonly position: number;
  constructor(message: string, source: string, position: number, hint: string) {
    super(message, { code: 'E_THRESHOLD_SYNTAX', exit: 'invalidOptions', hint });
    this.source = source;
    this.position = position;
  }
}

const CONDITION_EXAMPLE = 'p(95)<500, p(99.9)<1s, avg<200ms, rate<0.01, count>100';
const KEY_EXAMPLE = "smtp_txn_duration or smtp_txn_duration{scenario:peak,account:sales@company.com}";

const WORD_AGGREGATIONS: ReadonlySet<string> = new Set(['avg', 'min', 'max', 'med', 'count', 'rate', 'value']);
/** Aggregations that are durations on a time trend, so they may carry a unit. */
const DURATION_AGGREGATIONS: ReadonlySet<Aggregation> = new Set(['avg', 'min', 'max', 'med', 'p']);
/** Words people write for an aggregation by habit from other tools. */
const AGGREGATION_ALIASES: Readonly<Record<string, string>> = {
  mean: 'avg', average: 'avg', median: 'med', minimum: 'min', maximum: 'max', sum: 'count', total: 'count', last: 'value',
};
/** Power of ten that turns a value in this unit into milliseconds. */
const UNIT_EXPONENT: Readonly<Record<string, { unit: ThresholdUnit; exponent: number }>> = {
  us: { unit: 'us', exponent: -3 },
  'µs': { unit: 'us', exponent: -3 }, // U+00B5 micro sign
  'μs': { unit: 'us', exponent: -3 }, // U+03BC Greek mu, what many keyboards give
  ms: { unit: 'ms', exponent: 0 },
  s: { unit: 's', exponent: 3 },
};

const NUMBER = /([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+))?/y;
const LETTERS = /[A-Za-zµμ]+/y;
const METRIC_NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const TAG_KEY = /[A-Za-z0-9_.-]+/y;
const MAX_METRIC_NAME_LENGTH = 128;

function skipSpaces(text: string, index: number): number {
  while (index < text.length && (text[index] === ' ' || text[index] === '\t')) index++;
  return index;
}

function matchAt(pattern: RegExp, text: string, index: number): RegExpExecArray | null {
  pattern.lastIndex = index;
  return pattern.exec(text);
}

/**
 * Scales a decimal number by 10^exponent through its text, so '0.1' s gives exactly 100 ms
 * (0.1 * 1000 in binary floating point is not always exact: 1.1 * 1000 = 1100.0000000000002).
 */
function scaleDecimal(mantissa: string, exponentText: string | undefined, shift: number): number {
  return Number(`${mantissa}e${(exponentText === undefined ? 0 : Number(exponentText)) + shift}`);
}

/** Parses one condition such as `p(95) < 0.5s`; syntax only (the metric's type is checked by compileThresholds). */
export function parseCondition(source: string): ParsedCondition {
  const text = source;
  const fail = (reason: string, position: number, fix = `e.g. ${CONDITION_EXAMPLE}`): never => {
    throw new ThresholdSyntaxError(
      `'${text}' is not a threshold: ${reason} at column ${position + 1}; ${fix}`,
      text,
      position,
      `a threshold is <aggregation> <op> <value>, e.g. ${CONDITION_EXAMPLE}`,
    );
  };

  let index = skipSpaces(text, 0);
  if (index === text.length) {
    throw new ThresholdSyntaxError(`empty threshold: write e.g. ${CONDITION_EXAMPLE}`, text, index, `a threshold is <aggregation> <op> <value>, e.g. p(95)<500`);
  }

  // Aggregation.
  const aggregationStart = index;
  const word = matchAt(LETTERS, text, index)?.[0] ?? '';
  if (word === '') fail(`expected an aggregation (avg, min, max, med, p(N), count, rate, value)`, index);
  index += word.length;
  let aggregation: Aggregation;
  let percentile: number | undefined;
  if (word === 'p') {
    const afterP = index;
    const digits = matchAt(NUMBER, text, afterP);
    if (digits && text[afterP] !== '+' && text[afterP] !== '-') {
      // `p95<500`: a habit from other tools; show the exact fix.
      const fixed = `${text.slice(0, afterP)}(${digits[0]})${text.slice(afterP + digits[0].length)}`.trim();
      throw new ThresholdSyntaxError(`'${text}' is not a threshold: write ${fixed}`, text, afterP, `percentiles take parentheses: p(95), p(99.9)`);
    }
    index = skipSpaces(text, index);
    if (text[index] !== '(') fail(`expected '(' after p`, index, 'write a percentile as p(95) or p(99.9)');
    index = skipSpaces(text, index + 1);
    const numberMatch = matchAt(NUMBER, text, index);
    if (!numberMatch) fail(`expected the percentile inside p( )`, index, 'write a percentile as p(95) or p(99.9)');
    percentile = Number(numberMatch![0]);
    if (!(percentile > 0 && percentile <= 100)) {
      fail(`percentile ${numberMatch![0]} is out of range`, index, 'N in p(N) must be > 0 and <= 100, e.g. p(99.9)');
    }
    index = skipSpaces(text, index + numberMatch![0].length);
    if (text[index] !== ')') fail(`expected ')' to close p(`, index, 'write a percentile as p(95) or p(99.9)');
    index++;
    aggregation = 'p';
  } else if (WORD_AGGREGATIONS.has(word)) {
    aggregation = word as Aggregation;
  } else {
    const lower = word.toLowerCase();
    const suggestion = WORD_AGGREGATIONS.has(lower) ? lower : AGGREGATION_ALIASES[lower];
    let fix = `use avg, min, max, med, p(N), count, rate or value, e.g. ${CONDITION_EXAMPLE}`;
    if (suggestion) fix = `write ${suggestion}${text.slice(index).trim()}`;
    else if (lower === 'p') fix = 'a percentile is written p(N) in lower case, e.g. p(95)<500';
    fail(`unknown aggregation '${word}'`, aggregationStart, fix);
  }

  const aggregationText = text.slice(aggregationStart, index);
  const exampleValue = aggregation! === 'rate' ? '0.01' : aggregation! === 'count' ? '100' : '200';

  // Operator: two-character operators first so '<=' is not read as '<'.
  index = skipSpaces(text, index);
  let op: ThresholdOp;
  const two = text.slice(index, index + 2);
  if (text.startsWith('===', index)) {
    op = '==';
    index += 3;
  } else if (two === '<=' || two === '>=' || two === '==' || two === '!=') {
    op = two;
    index += 2;
  } else if (text[index] === '<' || text[index] === '>') {
    op = text[index] as '<' | '>';
    index += 1;
  } else if (two === '=<' || two === '=>') {
    fail(`'${two}' is not an operator`, index, `write ${two[1]}=`);
  } else if (text[index] === '=') {
    fail(`'=' is not an operator`, index, 'compare with ==');
  } else {
    fail(index === text.length ? `missing operator` : `expected an operator instead of '${text[index]}'`, index, 'use <, <=, >, >=, == or !=, e.g. p(95)<500');
  }

  // Value and unit.
  index = skipSpaces(text, index);
  const valueStart = index;
  const numberMatch = matchAt(NUMBER, text, index);
  if (!numberMatch) {
    fail(index === text.length ? `missing value after '${op!}'` : `expected a number instead of '${text.slice(index)}'`, index, `e.g. ${aggregationText}${op!}${exampleValue}`);
  }
  index = skipSpaces(text, index + numberMatch![0].length);
  if (text[index] === '%') {
    fail(`'%' is not a unit`, index, `write a fraction: ${aggregationText}${op!}${+(Number(numberMatch![0]) / 100).toPrecision(12)}`);
  }
  const unitStart = index;
  const unitWord = matchAt(LETTERS, text, index)?.[0] ?? '';
  let unit: ThresholdUnit | undefined;
  let value: number;
  if (unitWord === '') {
    value = Number(numberMatch![0]);
  } else {
    const known = UNIT_EXPONENT[unitWord];
    if (!known) fail(`unknown unit '${unitWord}'`, unitStart, 'use ms, s or us, or no unit for milliseconds, e.g. p(95)<1.5s');
    if (!DURATION_AGGREGATIONS.has(aggregation!)) {
      fail(`${aggregation!} takes no unit ('${unitWord}')`, unitStart, aggregation! === 'rate'
        ? 'rate is a fraction 0..1 (rate metrics) or a number per second (counters), e.g. rate<0.01'
        : `write a plain number, e.g. ${aggregation!}>100`);
    }
    unit = known!.unit;
    value = scaleDecimal(numberMatch![1]!, numberMatch![2], known!.exponent);
    index += unitWord.length;
  }
  if (!Number.isFinite(value)) fail(`value '${text.slice(valueStart, index).trim()}' is not a finite number`, valueStart);

  index = skipSpaces(text, index);
  if (index !== text.length) fail(`unexpected '${text.slice(index)}'`, index);

  const condition: ParsedCondition = { source: text.trim(), aggregation: aggregation!, op: op!, value: value! };
  if (percentile !== undefined) condition.percentile = percentile;
  if (unit !== undefined) condition.unit = unit;
  return condition;
}

/** Parses a metric key such as `smtp_txn_duration{scenario:peak,account:sales@company.com}`. */
export function parseMetricKey(key: string): ParsedMetricKey {
  const fail = (reason: string, position: number): never => {
    throw new ThresholdSyntaxError(
      `'${key}' is not a metric key: ${reason} at column ${position + 1}; write e.g. ${KEY_EXAMPLE}`,
      key,
      position,
      `a metric key is a name with an optional {tag:value,...} filter, e.g. ${KEY_EXAMPLE}`,
    );
  };

  let index = skipSpaces(key, 0);
  if (index === key.length) {
    throw new ThresholdSyntaxError(`empty metric key: write e.g. ${KEY_EXAMPLE}`, key, index, `e.g. ${KEY_EXAMPLE}`);
  }
  const name = matchAt(METRIC_NAME, key, index)?.[0] ?? '';
  if (name === '') fail(`a metric name starts with a letter or _, not '${key[index]}'`, index);
  if (name.length > MAX_METRIC_NAME_LENGTH) fail(`metric name longer than ${MAX_METRIC_NAME_LENGTH} characters`, index);
  index = skipSpaces(key, index + name.length);
  const tags: Record<string, string> = {};
  if (index === key.length) return { key, metric: name, tags };
  if (key[index] !== '{') fail(`a metric name holds only letters, digits and _, not '${key[index]}'`, index);

  index = skipSpaces(key, index + 1);
  if (key[index] === '}') fail(`empty tag filter (drop the braces or write {tag:value})`, index);
  for (;;) {
    const tagStart = index;
    const tag = matchAt(TAG_KEY, key, index)?.[0] ?? '';
    if (tag === '') fail(index === key.length ? `missing '}'` : `expected a tag name instead of '${key[index]}'`, index);
    // '__proto__' would set the object's prototype instead of adding a tag.
    if (tag === '__proto__') fail(`'__proto__' cannot be a tag name`, tagStart);
    index = skipSpaces(key, index + tag.length);
    if (key[index] !== ':') fail(`tag '${tag}' has no value (write {${tag}:value})`, index);
    index = skipSpaces(key, index + 1);

    let value: string;
    const quote = key[index];
    if (quote === '"' || quote === "'") {
      const close = key.indexOf(quote, index + 1);
      if (close === -1) fail(`unterminated ${quote} quote`, index);
      value = key.slice(index + 1, close);
      index = skipSpaces(key, close + 1);
    } else {
      const valueStart = index;
      while (index < key.length && !',{}"\''.includes(key[index]!)) index++;
      value = key.slice(valueStart, index).trim();
      if (key[index] === '{' || key[index] === '"' || key[index] === "'") fail(`unexpected '${key[index]}' in the value of tag '${tag}'`, index);
    }
    if (value === '') fail(`tag '${tag}' has an empty value`, index);
    if (Object.hasOwn(tags, tag)) fail(`tag '${tag}' given twice`, tagStart);
    tags[tag] = value;

    if (key[index] === ',') {
      index = skipSpaces(key, index + 1);
      continue;
    }
    if (key[index] === '}') break;
    fail(index === key.length ? `missing '}'` : `expected ',' or '}' instead of '${key[index]}'`, index);
  }
  index = skipSpaces(key, index + 1);
  if (index !== key.length) fail(`unexpected '${key.slice(index)}' after '}'`, index);
  return { key, metric: name, tags };
}

/** The catalogue's name of an aggregation ('p(N)' for percentiles). */
function catalogueAggregation(aggregation: Aggregation): string {
  return aggregation === 'p' ? 'p(N)' : aggregation;
}

/** How a condition's aggregation reads, e.g. 'p(95)'. */
function describeAggregation(condition: ParsedCondition): string {
  return condition.aggregation === 'p' ? `p(${condition.percentile})` : condition.aggregation;
}

/** A known metric close to an unknown `name`: metric names are long, so allow more edits (a quarter of the length, at least 2). */
function closestName(name: string, candidates: Iterable<string>): string | undefined {
  return suggestName(name, candidates, Math.max(2, Math.floor(name.length / 4)));
}

function joinOr(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

const OBJECT_FIELDS: ReadonlySet<string> = new Set(['threshold', 'abortOnFail', 'delayAbortEval']);

/**
 * Parses and checks the `thresholds` option against known metrics before a run. Returns the
 * definitions (in the options' order) or throws ONE InvalidOptionsError listing every problem
 * with its path, e.g. `thresholds["smtp_txn_duration"][0]: 'p95<500' is not a threshold: write p(95)<500`.
 *
 * `metrics`: built-ins (BUILT_IN_METRICS) plus the scenario's custom metrics. `knownTags`: when
 * given, tag filters on built-in metrics may use only these keys; when omitted, any tag key is
 * accepted. Filters on custom metrics accept any key (their tags come from `add(value, tags)`).
 */
export function compileThresholds(
  thresholds: Record<string, ThresholdInput[]> | undefined,
  metrics: ReadonlyMap<string, MetricInfo>,
  knownTags?: readonly string[],
): ThresholdDefinition[] {
  if (thresholds === undefined || thresholds === null) return [];
  if (typeof thresholds !== 'object' || Array.isArray(thresholds)) {
    throw new InvalidOptionsError([`thresholds: must be an object of metric → conditions, e.g. { smtp_txn_duration: ['p(95)<500'] }`]);
  }
  const problems: string[] = [];
  const definitions: ThresholdDefinition[] = [];
  const knownTagSet = knownTags === undefined ? undefined : new Set(knownTags);

  for (const [key, specs] of Object.entries(thresholds)) {
    const keyPath = `thresholds[${JSON.stringify(key)}]`;
    let metricKey: ParsedMetricKey | undefined;
    let info: MetricInfo | undefined;
    try {
      metricKey = parseMetricKey(key);
    } catch (error) {
      if (!(error instanceof ThresholdSyntaxError)) throw error;
      problems.push(`${keyPath}: ${error.message}`);
    }
    if (metricKey) {
      info = metrics.get(metricKey.metric);
      if (!info) {
        const guess = closestName(metricKey.metric, metrics.keys());
        problems.push(
          `${keyPath}: unknown metric ${metricKey.metric}${guess ? ` (did you mean ${guess}?)` : ''}; known: ${[...metrics.keys()].join(', ')}`,
        );
      }
      // Custom metrics carry the tags scenario code gives add(): unknown until the run.
      if (knownTagSet && BUILT_IN_METRICS.has(metricKey.metric)) {
        for (const tag of Object.keys(metricKey.tags)) {
          if (!knownTagSet.has(tag)) problems.push(`${keyPath}: unknown tag ${tag}; known: ${[...knownTagSet].join(', ')}`);
        }
      }
    }

    if (!Array.isArray(specs)) {
      const example = typeof specs === 'string' ? `[${JSON.stringify(specs)}]` : `['p(95)<500']`;
      problems.push(`${keyPath}: must be a list of conditions, e.g. ${example}`);
      continue;
    }
    if (specs.length === 0) {
      problems.push(`${keyPath}: no conditions; give at least one, e.g. ['p(95)<500'], or remove the key`);
      continue;
    }

    const conditions: CompiledCondition[] = [];
    specs.forEach((spec: unknown, index) => {
      const path = `${keyPath}[${index}]`;
      let source: string;
      let abortOnFail = false;
      let delayAbortEvalMs = 0;
      if (typeof spec === 'string') {
        source = spec;
      } else if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
        const object = spec as Record<string, unknown>;
        let isUsable = true;
        for (const field of Object.keys(object)) {
          if (!OBJECT_FIELDS.has(field)) {
            problems.push(`${path}.${field}: unknown field; use threshold, abortOnFail, delayAbortEval`);
            isUsable = false;
          }
        }
        if (typeof object.threshold !== 'string') {
          problems.push(`${path}.threshold: must be a condition string, e.g. { threshold: 'p(95)<500', abortOnFail: true }`);
          return;
        }
        source = object.threshold;
        if (object.abortOnFail !== undefined) {
          if (typeof object.abortOnFail === 'boolean') abortOnFail = object.abortOnFail;
          else {
            problems.push(`${path}.abortOnFail: must be true or false`);
            isUsable = false;
          }
        }
        if (object.delayAbortEval !== undefined) {
          try {
            if (typeof object.delayAbortEval !== 'string' && typeof object.delayAbortEval !== 'number') throw new RangeError(`must be a duration such as '30s' or a number of milliseconds`);
            delayAbortEvalMs = parseDurationMs(object.delayAbortEval);
          } catch (error) {
            if (!(error instanceof RangeError)) throw error;
            problems.push(`${path}.delayAbortEval: ${error.message}`);
            isUsable = false;
          }
          // k6 silently ignores it without abortOnFail; the user clearly expected an abort.
          if (object.abortOnFail !== true) {
            problems.push(`${path}.delayAbortEval: only applies with abortOnFail: true; add abortOnFail: true or remove delayAbortEval`);
            isUsable = false;
          }
        }
        if (!isUsable) {
          // Still parse the condition so its own mistakes are reported in the same pass.
          tryParse(source, path);
          return;
        }
      } else {
        problems.push(`${path}: must be a condition string such as 'p(95)<500' or { threshold: 'p(95)<500', abortOnFail: true }`);
        return;
      }

      const condition = tryParse(source, path);
      if (!condition || !info) return;
      const problem = checkConditionAgainstMetric(condition, info);
      if (problem) {
        problems.push(`${path}: ${problem}`);
        return;
      }
      conditions.push({ ...condition, abortOnFail, delayAbortEvalMs });
    });

    if (metricKey && info) definitions.push({ metric: metricKey, type: info.type, isTime: info.isTime, conditions });
  }

  if (problems.length > 0) {
    throw new InvalidOptionsError(problems, `threshold syntax: <aggregation> <op> <value>, e.g. ${CONDITION_EXAMPLE}; on metrics: ${KEY_EXAMPLE}`);
  }
  return definitions;

  function tryParse(source: string, path: string): ParsedCondition | undefined {
    try {
      return parseCondition(source);
    } catch (error) {
      if (!(error instanceof ThresholdSyntaxError)) throw error;
      problems.push(`${path}: ${error.message}`);
      return undefined;
    }
  }
}

/** Why a syntactically valid condition cannot apply to this metric, or undefined when it can. */
function checkConditionAgainstMetric(condition: ParsedCondition, info: MetricInfo): string | undefined {
  const allowed = AGGREGATIONS[info.type];
  if (!allowed.includes(catalogueAggregation(condition.aggregation))) {
    // k6 accepts these and fails or passes silently at the end (its issue 1526); we refuse them.
    return `${info.type} metric ${info.name} cannot give ${describeAggregation(condition)}; use ${joinOr(allowed)}`;
  }
  if (condition.unit !== undefined && !info.isTime) {
    return `${info.type} metric ${info.name} is not a duration, so '${condition.source}' cannot have a unit; write a plain number`;
  }
  if (info.type === 'rate' && (condition.value < 0 || condition.value > 1)) {
    // A rate is a fraction: 'rate<5' meaning 5% always passes, which is worse than an error.
    return `rate metric ${info.name} gives a fraction between 0 and 1, not ${condition.value}; for ${condition.value}% write rate${condition.op}${+(condition.value / 100).toPrecision(12)}`;
  }
  return undefined;
}
