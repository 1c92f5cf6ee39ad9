/**
 * `--junit FILE`: the run's thresholds as JUnit XML, so a CI system (GitHub Actions test
 * reporters, GitLab, Jenkins) shows pass/fail per threshold beside the unit tests.
 *
 * Layout: one `<testsuite>` per run, one `<testcase>` per threshold condition named
 * `metric condition` (e.g. `smtp_txn_duration p(95)<0.5s`) with a `<failure>` carrying the
 * measured value when it failed, and always a last testcase `run completed` that fails when the
 * run was interrupted or aborted (so a run without thresholds still has one testcase that
 * says whether it ran to its end). Written atomically; the folder is checked before the load.
 */
import { basename } from 'node:path';
import { formatThresholdMs } from '../thresholds/index.ts';
import { assertWritable, writeFileAtomic, writeFileAtomicSync } from './atomic-write.ts';
import type { RunOutput } from './output.ts';
import type { Summary, ThresholdOutcome } from '../results/types.ts';

/** Name of the testcase that says whether the run reached its end. */
export const RUN_COMPLETED_TESTCASE = 'run completed';

/** Creates the JUnit output writing to an absolute `path`. */
export function createJunitOutput(path: string): RunOutput {
  let suiteName = 'runner';
  return {
    description: 'JUnit file',
    path,
    async prepare(context) {
      if (context.options.file) suiteName = `runner ${basename(context.options.file)}`;
      await assertWritable(path, 'JUnit file');
    },
    finish: (summary) => writeFileAtomic(path, formatJunit(summary, suiteName)),
    finishNow: (summary) => writeFileAtomicSync(path, formatJunit(summary, suiteName)),
    textNow: (summary) => formatJunit(summary, suiteName),
  };
}

/** Renders a summary's thresholds as a JUnit XML document; `suiteName` names the testsuite. */
export function formatJunit(summary: Summary, suiteName = 'runner'): string {
  const cases = summary.thresholds.map(thresholdTestcase);
  cases.push(runCompletedTestcase(summary));
  const failures = summary.thresholds.filter((t) => !t.ok).length + (summary.status === 'completed' ? 0 : 1);
  const tests = cases.length;
  const time = seconds(summary.results.total_time_seconds);
  const r = summary.results;
  const properties: Array<[string, string | number]> = [
    ['target', summary.target],
    ['status', summary.status],
    ['total_requests', r.total_requests],
    ['successful', r.successful],
    ['failed', r.failed],
    ['throughput_rps', r.throughput_rps],
  ];
  if (summary.abort_reason) properties.push(['abort_reason', summary.abort_reason]);
  const d = summary.delivery;
  if (d) properties.push(['delivered', d.delivered], ['lost', d.lost], ['pending', d.pending], ['duplicated', d.duplicated], ['unexpected', d.unexpected], ['delivery_lag_p95_seconds', d.lag.p95_seconds ?? '']);
  // With a retry policy: the retries block's figures (results file names), deferrals by reply code
  const retries = summary.retries;
  if (retries) {
    const a = retries.attempts_per_message;
    const e = retries.eventual_duration;
    properties.push(['retry_deferred', retries.deferred]);
    for (const [code, count] of Object.entries(retries.deferrals)) properties.push([`retry_deferrals_${code}`, count]);
    properties.push(
      ['retry_first_try', retries.first_try],
      ['retry_first_try_rate', retries.first_try_rate],
      ['retry_pending', retries.pending],
      ['retry_attempts_per_message_avg', a.avg],
      ['retry_attempts_per_message_p95', a.p95],
      ['retry_attempts_per_message_max', a.max],
      ['retry_eventual_duration_p50_seconds', e.p50_seconds ?? ''],
      ['retry_eventual_duration_p95_seconds', e.p95_seconds ?? ''],
      ['retry_eventual_duration_max_seconds', e.max_seconds ?? ''],
    );
  }
  // --summary-trend-stats: each chosen figure of each SMTP trend, e.g. smtp_txn_duration.p(99.9) (ms).
  for (const [metric, values] of Object.entries(summary.trend_stats?.metrics ?? {})) {
    for (const stat of summary.trend_stats!.stats) properties.push([`${metric}.${stat}`, values[stat] ?? '']);
  }
  const counts = `tests="${tests}" failures="${failures}" errors="0"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(suiteName)}" ${counts} time="${time}">`,
    `  <testsuite name="${attr(suiteName)}" ${counts} skipped="0" time="${time}" timestamp="${junitTimestamp(summary.timestamp)}">`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property name="${attr(name)}" value="${attr(String(value))}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function thresholdTestcase(t: ThresholdOutcome): string {
  const name = `${t.metric} ${t.condition}`;
  const actual = formatActual(t);
  const open = `    <testcase classname="thresholds.${attr(t.metric)}" name="${attr(name)}" time="0">`;
  if (t.ok) return `${open}\n      <system-out>${text(`actual ${actual}`)}</system-out>\n    </testcase>`;
  const message = `${name} failed: actual ${actual}${t.abort_on_fail ? ' (abortOnFail)' : ''}`;
  return [
    open,
    `      <failure type="threshold" message="${attr(message)}">${text(`${message}\nmetric: ${t.metric}\ncondition: ${t.condition}\nactual: ${actual}`)}</failure>`,
    '    </testcase>',
  ].join('\n');
}

function runCompletedTestcase(summary: Summary): string {
  const r = summary.results;
  const figures = `${r.total_requests} messages: ${r.successful} accepted, ${r.failed} failed in ${r.total_time_seconds} s`;
  const open = `    <testcase classname="run" name="${RUN_COMPLETED_TESTCASE}" time="${seconds(r.total_time_seconds)}">`;
  if (summary.status === 'completed') return `${open}\n      <system-out>${text(figures)}</system-out>\n    </testcase>`;
  const message = `run ${summary.status}${summary.abort_reason ? `: ${summary.abort_reason}` : ''}`;
  return [
    open,
    `      <failure type="${summary.status}" message="${attr(message)}">${text(`${message}\n${figures}`)}</failure>`,
    '    </testcase>',
  ].join('\n');
}

/** The measured value as people read it: times in ms/s, counts and rates plain. */
function formatActual(t: ThresholdOutcome): string {
  if (t.actual === null) return 'no samples';
  // is_time is the metric's; a count of a time metric is still a plain number.
  if (t.is_time && !/^\s*count\b/.test(t.condition)) return formatThresholdMs(t.actual);
  return Number.isInteger(t.actual) ? String(t.actual) : String(+t.actual.toFixed(4));
}

function seconds(value: number): string {
  return (Math.round(value * 1000) / 1000).toFixed(3);
}

/** JUnit's timestamp: ISO 8601 without zone or fraction (UTC), as its XSD wants. */
function junitTimestamp(iso: string): string {
  return iso.replace(/\.\d+/, '').replace(/Z$/, '');
}

// Characters XML 1.0 cannot hold at all (controls other than tab/LF/CR, lone surrogates,
// U+FFFE/U+FFFF): a server's reply text may carry them, and one would make the file unreadable.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes element text. */
export function text(value: string): string {
  return value.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value (double-quoted); newlines and tabs kept as character references. */
export function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
