/**
 * Tagged custom metrics end to end: a scenario file whose iteration calls
 * `trend.add(ms, { kind: 'big' | 'small' })` against the fake proxy, thresholds filtered on a tag
 * that pass (exit 0) or fail (exit 99), the tag sets in the results file (schema-valid, summing
 * to the totals, agreeing with what the proxy received) and in the console summary.
 */
import { DEFAULT_RUN_ID, TRACE_HEADER } from '../../runner/smtp/message.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { readResultsFile } from '../../runner/results/read.ts';
import { TrendSink } from '../../runner/metrics/trend.ts';

const data = (name: string) => fileURLToPath(new URL(`./data/${name}`, import.meta.url));

const tagged = suite('custom metrics with tags: a scenario file end to end');

tagged('thresholds on {kind:big} and {kind:small} judge each kind\'s samples: all pass, exit 0', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const resultsFile = join(temp.dir, 'results.json');
      const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile: data('tagged-metrics.ts'), check: false, out: [resultsFile] });
      assert.is(exitCode, ExitCode.ok, JSON.stringify(summary.thresholds));
      assert.is(summary.thresholds.length, 8);
      assert.ok(summary.thresholds.every((t) => t.ok));
      assert.is(proxy.stats.messagesAccepted, 20);

      const bytes = summary.custom_metrics['message_bytes']!;
      assert.is(bytes.count, 20);
      assert.equal(bytes.tag_sets!.map((set) => [set.tags, set.count]), [[{ kind: 'big' }, 10], [{ kind: 'small' }, 10]]);
      // The sets' histograms hold every byte the proxy accepted (their sum is exact beside the histogram).
      const sentBytes = bytes.tag_sets!.reduce((total, set) => total + TrendSink.decode(set.histogram!).sum / 1000, 0);
      // The proxy also received each message's trace line (`X-Runner-Trace: <run id>.<n>` + CRLF, put
      // above a message written in code): 20 of them, each as long as such a line can be.
      const traceBytes = proxy.stats.bytesAccepted - sentBytes;
      const lineBytes = (digits: number) => TRACE_HEADER.length + 2 + DEFAULT_RUN_ID.length + 1 + digits + 2;
      assert.ok(traceBytes >= 20 * lineBytes(1) && traceBytes <= 20 * lineBytes(9), `${traceBytes} bytes beside the scenario's own`);
      const counter = summary.custom_metrics['sent_by_kind']!;
      assert.equal([counter.count, counter.tag_sets!.map((set) => [set.tags, set.count])], [20, [[{ kind: 'big' }, 10], [{ kind: 'small' }, 10]]]);
      const sendMs = summary.custom_metrics['send_ms']!;
      assert.is(sendMs.tag_sets!.reduce((n, set) => n + set.count, 0), sendMs.count);

      // The results file carries them and passes the schema (readResultsFile validates it).
      const loaded = await readResultsFile(resultsFile);
      assert.equal(loaded.summary!.custom_metrics, JSON.parse(JSON.stringify(summary.custom_metrics)));
      // The console shows a trend's tag sets when it has several.
      // send_ms is a time trend: its figures carry their unit
      assert.match(output, /send_ms: trend, count 20[^\n]*\n {4}\{kind:big\}: count 10, avg [\d.]+(µs|ms|s), p95 [\d.]+(µs|ms|s), max [\d.]+(µs|ms|s)\n {4}\{kind:small\}: count 10/);
      assert.match(output, /✓ message_bytes\{kind:small\} {2}max<1000/);
      // A count of a time trend is a number of samples, not a duration
      assert.match(output, /✓ send_ms\{kind:big\} {2}count==10 [^\n]*\b10\b/);
      assert.not.match(output, /send_ms\{kind:big\} {2}count==10 [^\n]*10(\.00)?ms/);
    });
  } finally {
    temp.remove();
  }
});

tagged('a failing threshold on {kind:big} fails the run with exit 99; the same on {kind:small} passes', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile: data('tagged-metrics-fail.ts'), check: false });
    assert.is(exitCode, ExitCode.thresholdsFailed);
    assert.equal(summary.thresholds.map((t) => [t.metric, t.condition, t.ok, t.actual]), [
      ['message_bytes{kind:small}', 'max<1000', true, 'Subject: small\r\n\r\nhello\r\n'.length],
      ['message_bytes{kind:big}', 'max<1000', false, 100_016],
    ]);
    assert.match(output, /✗ message_bytes\{kind:big\} {2}max<1000 {2}actual 100016/);
    assert.is(proxy.stats.messagesAccepted, 20);
  });
});

tagged('values a metric cannot hold (NaN, a negative trend value, a string) are ignored: one warning per metric, counted in ignored_values', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({}, async (proxy) => {
      const resultsFile = join(temp.dir, 'results.json');
      const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile: data('bad-metric-values.ts'), check: false, out: [resultsFile] });
      assert.is(exitCode, ExitCode.ok, JSON.stringify(summary.thresholds));
      assert.is(proxy.stats.messagesAccepted, 10);
      const figures = (name: string) => {
        const { count, min, ignored_values: ignored } = summary.custom_metrics[name]!;
        return { count, min, ignored };
      };
      assert.equal(figures('skew'), { count: 5, min: 1, ignored: 5 });
      assert.is(figures('send_ms').count, 10);
      assert.is(figures('send_ms').ignored, 10);
      assert.equal(figures('sent'), { count: 10, min: undefined, ignored: 5 });
      // Every figure of the time trend is a number: the NaNs touched none of them.
      const sendMs = summary.custom_metrics['send_ms']!;
      for (const key of ['min', 'max', 'avg', 'p50', 'p95', 'p99'] as const) assert.ok(Number.isFinite(sendMs[key]), key);
      assert.is(output.match(/custom metric send_ms: add\(NaN\) ignored: values must be finite numbers/g)?.length, 1, output);
      assert.is(output.match(/custom metric skew: add\(-1\) ignored: a trend keeps values of 0 or more/g)?.length, 1, output);
      assert.is(output.match(/custom metric sent: add\("1"\) ignored/g)?.length, 1, output);
      assert.match(output, /skew: trend, count 5, [^\n]*5 values ignored/);
      // The results file carries the counts and passes the schema (readResultsFile validates it).
      const loaded = await readResultsFile(resultsFile);
      assert.is(loaded.summary!.custom_metrics['skew']!.ignored_values, 5);
    });
  } finally {
    temp.remove();
  }
});

tagged.run();
