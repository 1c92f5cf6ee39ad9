/**
 * k6's `check(value, { name: (v) => boolean }, tags?)`: non-fatal assertions. Each condition adds
 * one sample to the built-in `checks` rate, tagged `check` (its name) plus the tags given (ctx.check
 * adds the iteration's scenario and group). A check never ends the iteration: a condition that
 * throws (or returns a Promise) counts as failed, and the first such error per check name is reported once.
 *
 * Cheap when repeated: the tag set of a (tags object, name) pair is looked up once and kept, as
 * long as the same tags object is passed again (ctx.tags is one object per scenario × group).
 */
import { CHECKS, type CustomTagSet, type SampleTags } from '../metrics/custom.ts';
import { currentGroupTags } from '../metrics/group-scope.ts';

import type { CheckSets } from './types.ts';

export type { CheckCondition, CheckSets } from './types.ts';

const NO_TAGS: SampleTags = Object.freeze({}) as SampleTags;

/** Tag sets by tags object, then by check name; dropped when CHECKS is reset (see `cacheResets`). */
let cache = new WeakMap<object, Map<string, CustomTagSet>>();
let cacheResets = -1;
const reportedThrows = new Set<string>();

/** Where the first exception of a check goes (stderr unless the engine points it elsewhere). */
let reportThrow: (message: string) => void = (message) => process.stderr.write(`warning: ${message}\n`);

/** Sends the warnings about conditions that threw to `warn` (the engine's warnOnce sink). */
export function setCheckWarningSink(warn: (message: string) => void): void {
  reportThrow = warn;
  reportedThrows.clear();
}

function tagSetOf(tags: SampleTags, name: string): CustomTagSet {
  if (cacheResets !== CHECKS.resets) {
    cache = new WeakMap();
    cacheResets = CHECKS.resets;
  }
  let byName = cache.get(tags);
  if (byName === undefined) {
    byName = new Map();
    cache.set(tags, byName);
  }
  let set = byName.get(name);
  if (set === undefined) {
    set = CHECKS.tagSetFor({ ...tags, check: name });
    byName.set(name, set);
  }
  return set;
}

/**
 * Judges each named condition on `value`, records one `checks` sample per condition, and returns
 * whether all passed. Pass the same `tags` object each time (not a fresh literal) to keep it cheap.
 */
export function check<T>(value: T, sets: CheckSets<T>, tags?: SampleTags): boolean {
  if (sets === null || typeof sets !== 'object') throw new TypeError('check(value, sets): sets must be an object of named conditions, e.g. { accepted: (r) => r.code === 250 }');
  // Inside ctx.group() the group's tags come along, as for every sample (ctx.check's tags have them already)
  const group = currentGroupTags();
  const base = tags === undefined ? (group ?? NO_TAGS) : group === undefined || 'group' in tags ? tags : { ...group, ...tags };
  if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function' && !reportedThrows.has('\0promise value')) {
    // check(ctx.smtp.mail(), …) without await: the conditions judge a Promise, not the reply
    reportedThrows.add('\0promise value');
    reportThrow(`check(value, …) was given a Promise (a step not awaited?): its conditions judge the Promise, not its result; write check(await ctx.smtp.mail(), …)`);
  }
  let isAllPassed = true;
  for (const name in sets) {
    const condition = sets[name];
    let isPassed: boolean;
    if (typeof condition === 'function') {
      try {
        const result: unknown = condition(value);
        // An async condition's Promise is truthy whatever it resolves to: failed, not a silent pass
        if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
          (result as Promise<unknown>).then(undefined, () => {});
          throw new TypeError('it returned a Promise (an async function?): a condition must decide at once; await the value first, then check it');
        }
        isPassed = Boolean(result);
      } catch (error) {
        isPassed = false;
        if (!reportedThrows.has(name)) {
          reportedThrows.add(name);
          reportThrow(`check '${name}' threw (counted as failed): ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    } else {
      isPassed = Boolean(condition);
    }
    const set = tagSetOf(base, name);
    set.samples++;
    if (isPassed) set.nonZero++;
    else isAllPassed = false;
  }
  return isAllPassed;
}

/** What the SMTP check helpers read: a Reply, a Failure, or the SmtpStepError a failed step threw. */
export interface ReplyLike {
  code?: number;
  enhanced?: string;
  /** A Reply's lines. */
  lines?: readonly string[];
  /** A Failure's text. */
  text?: string;
  /** An SmtpStepError's failure. */
  failure?: { code?: number; enhanced?: string; text?: string };
}

function replyOf(value: ReplyLike | null | undefined): { code: number | undefined; enhanced: string | undefined; text: string } {
  if (value === null || value === undefined) return { code: undefined, enhanced: undefined, text: '' };
  const source = value.failure ?? value;
  const lines = (source as ReplyLike).lines;
  return { code: source.code, enhanced: source.enhanced, text: lines ? lines.join('\n') : (source.text ?? '') };
}

/** A condition: the reply's code is in class `digit`xx (2: success, 4: transient, 5: permanent; RFC 5321 §4.2.1). */
export function replyClass(digit: 2 | 3 | 4 | 5): (reply: ReplyLike) => boolean {
  return (reply) => {
    const { code } = replyOf(reply);
    return code !== undefined && Math.floor(code / 100) === digit;
  };
}

/** A condition: the reply's code is one of `codes` (e.g. replyCode(250, 251)). */
export function replyCode(...codes: number[]): (reply: ReplyLike) => boolean {
  return (reply) => {
    const { code } = replyOf(reply);
    return code !== undefined && codes.includes(code);
  };
}

/**
 * A condition: the RFC 3463 enhanced code matches `pattern`, where `x` stands for any number
 * ('2.x.x', '5.7.x', '2.6.0').
 */
export function enhancedCode(pattern: string): (reply: ReplyLike) => boolean {
  const parts = pattern.split('.');
  if (parts.length !== 3 || parts.some((part) => part !== 'x' && !/^\d{1,3}$/.test(part))) {
    throw new TypeError(`enhancedCode('${pattern}'): write class.subject.detail with numbers or x, e.g. '2.6.0' or '5.7.x'`);
  }
  return (reply) => {
    const { enhanced } = replyOf(reply);
    if (enhanced === undefined) return false;
    const actual = enhanced.split('.');
    return actual.length === 3 && parts.every((part, i) => part === 'x' || Number(part) === Number(actual[i]));
  };
}

/** A condition: the reply's text (all lines) contains `text`, or matches the regular expression. */
export function replyText(text: string | RegExp): (reply: ReplyLike) => boolean {
  return (reply) => {
    const actual = replyOf(reply).text;
    return typeof text === 'string' ? actual.includes(text) : text.test(actual);
  };
}
