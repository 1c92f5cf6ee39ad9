/**
 * `--junit FILE`: thresholds as JUnit testcases, as a CI system reads them: counts on the
 * suite, one testcase per condition named `metric condition`, a failure carrying the measured
 * value, a "run completed" testcase, and a well-formed document whatever a reply text holds.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatJunit, RUN_COMPLETED_TESTCASE } from '../../runner/outputs/junit.ts';
import type { Summary, ThresholdOutcome } from '../../runner/results/types.ts';
import { ExitCode, OutputError } from '../../runner/errors.ts';
import { formatThresholdMs } from '../../runner/thresholds/index.ts';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';

/** A summary with just what the JUnit file reads. */
function summaryWith(thresholds: ThresholdOutcome[], status: Summary['status'] = 'completed', abortReason: string | null = null): Summary {
  return {
    timestamp: '2025-03-01T10:20:30.456Z',
    target: '127.0.0.1:2525',
    config: {},
    status,
    abort_reason: abortReason,
    results: { total_time_seconds: 12.3456, total_requests: 100, successful: 98, failed: 2, throughput_rps: 8.1 },
    thresholds,
  } as unknown as Summary;
}

function threshold(metric: string, condition: string, ok: boolean, actual: number | null, isTime = true): ThresholdOutcome {
  return { metric, condition, ok, actual, abort_on_fail: false, is_time: isTime };
}

/**
 * Checks that `xml` is well-formed (the subset JUnit files use: declaration, elements,
 * double-quoted attributes, text, the five entities and numeric references) and returns its
 * elements in document order with their attributes (decoded) and direct text.
 */
function parseXml(xml: string): Array<{ name: string; attributes: Record<string, string>; text: string }> {
  const decode = (value: string): string => {
    assert.not.match(value, /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i, `bare & in ${JSON.stringify(value)}`);
    assert.not.match(value, /</, `bare < in ${JSON.stringify(value)}`);
    return value
      .replace(/&#(\d+);/g, (_m, d) => String.fromCodePoint(Number(d)))
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  };
  assert.not.match(xml, /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/, 'a character XML 1.0 forbids');
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'), 'XML declaration');
  const elements: Array<{ name: string; attributes: Record<string, string>; text: string }> = [];
  const open: Array<(typeof elements)[number]> = [];
  const token = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w.-]+="[^"]*")*)\s*(\/?)>|([^<]+)/gy;
  let rest = xml.slice(xml.indexOf('\n') + 1);
  token.lastIndex = 0;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = token.exec(rest)) !== null) {
    consumed = token.lastIndex;
    const [, closing, name, attributeText, selfClosing, text] = match;
    if (text !== undefined) {
      if (open.length === 0) assert.ok(text.trim() === '', `text outside the root: ${text}`);
      else open.at(-1)!.text += decode(text);
      continue;
    }
    if (closing) {
      const top = open.pop();
      assert.is(top?.name, name, `</${name}> closes <${top?.name}>`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const [, key, value] of attributeText!.matchAll(/([\w.-]+)="([^"]*)"/g)) {
      assert.not.ok(key! in attributes, `attribute ${key} twice`);
      attributes[key!] = decode(value!);
    }
    const element = { name: name!, attributes, text: '' };
    elements.push(element);
    if (!selfClosing) open.push(element);
  }
  rest = rest.slice(consumed);
  assert.is(rest, '', `unparsed: ${rest.slice(0, 80)}`);
  assert.is(open.length, 0, 'every element closed');
  return elements;
}

const cases = suite('junit: thresholds as testcases');

const table: Array<{ name: string; summary: Summary; tests: number; failures: number; failed: Array<[string, RegExp]>; passed: string[] }> = [
  {
    name: 'one failing and one passing threshold, plus run completed',
    summary: summaryWith([threshold('smtp_txn_duration', 'p(95)<500', false, 612.345), threshold('smtp_txn_failed', 'rate<0.01', true, 0.002, false)]),
    tests: 3,
    failures: 1,
    failed: [['smtp_txn_duration p(95)<500', /actual 612\.35ms/]],
    passed: ['smtp_txn_failed rate<0.01', RUN_COMPLETED_TESTCASE],
  },
  {
    name: 'no thresholds and a completed run: one passing testcase',
    summary: summaryWith([]),
    tests: 1,
    failures: 0,
    failed: [],
    passed: [RUN_COMPLETED_TESTCASE],
  },
  {
    name: 'no thresholds and an interrupted run: "run completed" fails',
    summary: summaryWith([], 'interrupted'),
    tests: 1,
    failures: 1,
    failed: [[RUN_COMPLETED_TESTCASE, /run interrupted/]],
    passed: [],
  },
  {
    name: 'aborted by an abortOnFail threshold: both fail, the reason is kept',
    summary: summaryWith([{ ...threshold('smtp_txn_failed', 'rate<0.1', false, 0.5, false), abort_on_fail: true }], 'aborted', 'threshold smtp_txn_failed rate<0.1 failed'),
    tests: 2,
    failures: 2,
    failed: [['smtp_txn_failed rate<0.1', /actual 0\.5 \(abortOnFail\)/], [RUN_COMPLETED_TESTCASE, /run aborted: threshold smtp_txn_failed rate<0\.1 failed/]],
    passed: [],
  },
  {
    name: 'a count of a time metric is a plain number; no samples says so',
    summary: summaryWith([threshold('smtp_auth_duration', 'count>10', false, 7), threshold('smtp_txn_duration{scenario:peak}', 'p(99)<2s', false, null)]),
    tests: 3,
    failures: 2,
    failed: [['smtp_auth_duration count>10', /actual 7$/m], ['smtp_txn_duration{scenario:peak} p(99)<2s', /actual no samples/]],
    passed: [RUN_COMPLETED_TESTCASE],
  },
  {
    name: 'markup, quotes and control characters from a reply are escaped',
    summary: summaryWith([threshold('smtp_txn_failed{account:a&b<c>"d\'}', 'rate<0.01', false, 1, false)], 'aborted', 'reply "550 <x@y> & \u0007bell\u0000"'),
    tests: 2,
    failures: 2,
    failed: [['smtp_txn_failed{account:a&b<c>"d\'} rate<0.01', /actual 1/], [RUN_COMPLETED_TESTCASE, /reply "550 <x@y> & \uFFFDbell\uFFFD"/]],
    passed: [],
  },
];

for (const row of table) {
  cases(row.name, () => {
    const elements = parseXml(formatJunit(row.summary, 'runner baseline.ts'));
    const [root, testsuite] = elements;
    assert.is(root!.name, 'testsuites');
    assert.is(testsuite!.name, 'testsuite');
    assert.is(elements.filter((e) => e.name === 'testsuite').length, 1, 'one testsuite per run');
    for (const element of [root!, testsuite!]) {
      assert.is(element.attributes['tests'], String(row.tests));
      assert.is(element.attributes['failures'], String(row.failures));
      assert.is(element.attributes['errors'], '0');
      assert.is(element.attributes['name'], 'runner baseline.ts');
      assert.is(element.attributes['time'], '12.346');
    }
    assert.is(testsuite!.attributes['timestamp'], '2025-03-01T10:20:30');
    // Testcases and what follows each (its failure, if any).
    const testcases = elements.flatMap((e, i) => (e.name === 'testcase' ? [{ name: e.attributes['name']!, next: elements[i + 1] }] : []));
    assert.is(testcases.length, row.tests);
    assert.is(testcases.at(-1)!.name, RUN_COMPLETED_TESTCASE, 'run completed comes last');
    for (const [name, message] of row.failed) {
      const testcase = testcases.find((t) => t.name === name);
      assert.ok(testcase, `testcase ${name}`);
      assert.is(testcase!.next?.name, 'failure', `${name} failed`);
      assert.match(testcase!.next!.attributes['message']!, message);
      assert.match(testcase!.next!.text, message);
    }
    for (const name of row.passed) {
      const testcase = testcases.find((t) => t.name === name);
      assert.ok(testcase, `testcase ${name}`);
      assert.is.not(testcase!.next?.name, 'failure', `${name} passed`);
    }
  });
}

cases.run();

const file = suite('junit: the file of a run');

const data = (name: string) => fileURLToPath(new URL(`../e2e/data/${name}`, import.meta.url));

file('a failing p(95) threshold: exit 99 and the JUnit file shows the failure with its value', async () => {
  const temp = createTempDir();
  try {
    const path = join(temp.dir, 'junit.xml');
    await withFakeProxy({ delays: { message: 300 } }, async (proxy) => {
      const { exitCode, summary } = await runAgainst(proxy, { scenarioFile: data('slow-threshold.yaml'), junit: path });
      assert.is(exitCode, ExitCode.thresholdsFailed);
      const elements = parseXml(readFileSync(path, 'utf8'));
      const failure = elements.find((e) => e.name === 'failure')!;
      assert.ok(failure, 'a failure element');
      const actual = summary.thresholds[0]!.actual!;
      assert.match(failure.attributes['message']!, /^smtp_txn_duration p\(95\)<0\.1s failed: actual \d+(\.\d+)?m?s$/);
      assert.ok(failure.attributes['message']!.endsWith(`actual ${formatThresholdMs(actual)}`), 'the measured value of the summary');
      assert.is(elements[0]!.attributes['failures'], '1');
    });
  } finally {
    temp.remove();
  }
});

file('a JUnit path in a missing folder fails before any load', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const path = join(temp.dir, 'no-such-folder', 'junit.xml');
      try {
        await runAgainst(proxy, { numEmails: 5, concurrent: 1, junit: path });
        assert.unreachable('should have thrown');
      } catch (error) {
        assert.instance(error, OutputError);
        assert.match((error as OutputError).message, /JUnit file .*no-such-folder/);
        assert.match((error as OutputError).hint!, /mkdir -p/);
      }
      assert.is(proxy.stats.messagesAccepted, 0);
      assert.not.ok(existsSync(path));
    });
  } finally {
    temp.remove();
  }
});

file.run();
