/**
 * Message size distributions against the fake proxy (issue 16): every generated message draws its
 * body size from the scenario's distribution; the sizes the proxy received follow the bucket
 * weights (seeded, within a tolerance), and the results file's histogram counts exactly what the
 * proxy accepted, size by size.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { momentsOf, resolveMessageSize } from '../../runner/smtp/size-distribution.ts';
import { buildMessage } from '../../runner/smtp/builder.ts';
import { MAX_MESSAGE_SIZE_KEYS, countMessageSize, roundMessageSize } from '../../runner/metrics/series.ts';

const Ajv = AjvModule.default ?? AjvModule;
const schemaCheck = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(new URL('../../schemas/results.schema.json', import.meta.url), 'utf8')));

const sizes = suite('message sizes: drawn per message, counted against the proxy');

function scenario(messages: number, smtp: Record<string, unknown>): ScenarioFileOptions {
  return { scenarios: { mixed: { executor: 'shared-iterations', vus: 4, iterations: messages } }, smtp } as ScenarioFileOptions;
}

/** The proxy's accepted messages split at `boundaryBytes` (head + body as received). */
function splitAt(bySize: Record<string, number>, boundaryBytes: number): { below: number; above: number } {
  let below = 0;
  let above = 0;
  for (const [size, count] of Object.entries(bySize)) {
    if (Number(size) < boundaryBytes) below += count;
    else above += count;
  }
  return { below, above };
}

sizes('{ sizes: [[1024, 0.7], [\'20k\', 0.3]] }: the proxy got 70/30 within tolerance; the histogram is the proxy\'s count, size by size', async () => {
  await withFakeProxy({}, async (proxy) => {
    const messages = 400;
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: scenario(messages, { messageSize: { sizes: [[1024, 0.7], ['20k', 0.3]] }, messageSizeSeed: 7 }), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(proxy.stats.messagesAccepted, messages);
    const histogram = summary.results.message_sizes!;
    assert.equal(histogram.map((entry) => entry.body_bytes), [1024, 20 * 1024]);
    assert.is(histogram.reduce((total, entry) => total + entry.messages, 0), messages, 'the histogram counts every message sent');
    // Ground truth: the proxy's sizes (head ≈ 300 bytes on top) split between the two buckets
    const received = splitAt(proxy.stats.acceptedBySize, 10 * 1024);
    assert.is(received.below, histogram[0]!.messages);
    assert.is(received.above, histogram[1]!.messages);
    // 400 draws of p = 0.3: sd = √(400·0.3·0.7) ≈ 9.2; 4 sd
    assert.ok(Math.abs(received.above - 120) <= 37, `20k messages: ${received.above} of 400`);
    // Bytes: the results' message_bytes is what the proxy received; per second over the test's time
    assert.is(summary.results.message_bytes, proxy.stats.bytesAccepted);
    const perSecond = summary.results.message_bytes_per_second!;
    assert.ok(Math.abs(perSecond - summary.results.message_bytes / summary.results.total_time_seconds) <= Math.max(1, perSecond * 0.01), `${perSecond} bytes/s`);
    assert.ok(schemaCheck(JSON.parse(JSON.stringify(summary))), JSON.stringify(schemaCheck.errors));
  });
});

sizes('the same seed, the same sizes: two runs send the same histogram', async () => {
  const histograms: unknown[] = [];
  for (let run = 0; run < 2; run++) {
    await withFakeProxy({}, async (proxy) => {
      const { summary, exitCode, output } = await runAgainst(proxy, { scenario: scenario(60, { messageSize: '1k-8k', messageSizeSeed: 42 }), check: false });
      assert.is(exitCode, ExitCode.ok, output);
      histograms.push(summary.results.message_sizes);
    });
  }
  assert.equal(histograms[0], histograms[1]);
});

sizes('--message-size 1k-100k: every message a bucket of the uniform law; mean within tolerance of the law\'s', async () => {
  await withFakeProxy({}, async (proxy) => {
    const messages = 300;
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: scenario(messages, { messageSizeSeed: 3 }), overrides: { messageSize: '1k-100k' }, check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(proxy.stats.messagesAccepted, messages);
    const buckets = resolveMessageSize('1k-100k', Infinity);
    const histogram = summary.results.message_sizes!;
    assert.is(histogram.reduce((total, entry) => total + entry.messages, 0), messages);
    for (const entry of histogram) assert.ok(buckets.sizesBytes.includes(entry.body_bytes), `${entry.body_bytes} is a bucket`);
    const sentMean = histogram.reduce((total, entry) => total + entry.body_bytes * entry.messages, 0) / messages;
    const { mean, sd } = momentsOf(buckets);
    // 4 standard errors of the mean
    assert.ok(Math.abs(sentMean - mean) <= (4 * sd) / Math.sqrt(messages), `mean ${sentMean} vs ${mean}`);
    // What the proxy received is the bodies plus each message's head
    const bodyBytes = histogram.reduce((total, entry) => total + entry.body_bytes * entry.messages, 0);
    const headBytes = proxy.stats.bytesAccepted - bodyBytes;
    assert.ok(headBytes > 200 * messages && headBytes < 600 * messages, `${headBytes / messages} bytes of head per message`);
  });
});

sizes('a fixed size: one histogram entry; a bad distribution is refused with what to write', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode } = await runAgainst(proxy, { scenario: scenario(5, { messageSize: '2k' }), check: false });
    assert.is(exitCode, ExitCode.ok);
    assert.equal(summary.results.message_sizes, [{ body_bytes: 2048, messages: 5 }]);
    const bad = await runAgainst(proxy, { scenario: scenario(5, { messageSize: { sizes: [[1024, -1]] } }), check: false }).then(() => undefined, (error: unknown) => error as { exitCode: number; message: string });
    assert.is(bad?.exitCode, ExitCode.invalidOptions);
    assert.is(bad!.message, 'invalid options: smtp.messageSize: sizes: [1024,-1] is not [size, weight >= 0]');
  });
});

/** The results' message_total_sizes as the proxy's acceptedBySize is written: size → messages. */
function totalSizesOf(summary: { results: { message_total_sizes?: Array<{ bytes: number; messages: number }> } }): Record<string, number> {
  return Object.fromEntries((summary.results.message_total_sizes ?? []).map(({ bytes, messages }) => [String(bytes), messages]));
}

const TOTAL_SIZE_CASES: Array<{ name: string; smtp: Record<string, unknown>; iteration?: ScenarioFileOptions['iteration'] }> = [
  { name: 'generated messages of a distribution', smtp: { messageSize: '1k-8k', messageSizeSeed: 5 } },
  {
    name: 'a buildMessage() template (varying subject and text, lines starting with a dot, an attachment)',
    smtp: {},
    iteration: (() => {
      const template = buildMessage({
        subject: 'Order {{seq}} for {{name}}',
        text: '.leading dot line for {{name}}\nplain line\n..two dots {{iteration}}\n',
        attachments: [{ filename: 'a.bin', size: 2000 }],
      });
      return async (ctx) => void (await ctx.smtp.send({ message: template, vars: { name: 'x'.repeat(ctx.scenario.iterationInTest % 7) } }));
    })(),
  },
  {
    name: 'text written in scenario code (dot lines, 8-bit text, varying length)',
    smtp: {},
    iteration: async (ctx) => void (await ctx.smtp.send({ message: `Subject: text ${ctx.scenario.iterationInTest}\r\n\r\n.dot\r\nsmørbrød ${'y'.repeat(ctx.scenario.iterationInTest % 5)}\r\n` })),
  },
  {
    name: 'bytes given to ctx.smtp.data() (a Latin-1 Buffer with a dot line, declared 8-bit)',
    smtp: {},
    iteration: async (ctx) => {
      await ctx.smtp.connect();
      await ctx.smtp.ehlo();
      await ctx.smtp.auth();
      await ctx.smtp.mail(undefined, { eightBit: true });
      await ctx.smtp.rcpt();
      await ctx.smtp.data(Buffer.from(`Subject: caf\xe9 ${ctx.scenario.iterationInTest}\n\n.dot\nna\xefve${'z'.repeat(ctx.scenario.iterationInTest % 6)}\n`, 'latin1'));
      await ctx.smtp.quit();
    },
  },
];

for (const { name, smtp, iteration } of TOTAL_SIZE_CASES) {
  sizes(`message_total_sizes: every accepted message at its exact size, size by size as the proxy received it: ${name}`, async () => {
    await withFakeProxy({}, async (proxy) => {
      const options = scenario(40, smtp);
      if (iteration) options.iteration = iteration;
      const { summary, exitCode, output } = await runAgainst(proxy, { scenario: options, check: false });
      assert.is(exitCode, ExitCode.ok, output);
      assert.is(proxy.stats.messagesAccepted, 40);
      assert.ok(Object.keys(proxy.stats.acceptedBySize).length > 1, 'sizes vary');
      assert.equal(totalSizesOf(summary), proxy.stats.acceptedBySize);
      assert.is(summary.results.message_bytes, proxy.stats.bytesAccepted);
      assert.ok(schemaCheck(JSON.parse(JSON.stringify(summary))), JSON.stringify(schemaCheck.errors));
    });
  });
}

sizes(`message_total_sizes keeps at most ${MAX_MESSAGE_SIZE_KEYS} exact sizes per series, then 3 significant digits`, () => {
  const table: Array<[number, number]> = [[999, 999], [1000, 1000], [1234, 1230], [123_456, 123_000], [2_000_001, 2_000_000]];
  for (const [bytes, rounded] of table) assert.is(roundMessageSize(bytes), rounded, String(bytes));
  const map = new Map<number, number>();
  for (let bytes = 1; bytes <= MAX_MESSAGE_SIZE_KEYS; bytes++) countMessageSize(map, bytes);
  countMessageSize(map, 123_456);
  countMessageSize(map, 123_457);
  countMessageSize(map, 5);
  assert.is(map.size, MAX_MESSAGE_SIZE_KEYS + 1);
  assert.is(map.get(123_000), 2);
  assert.is(map.get(5), 2);
});

sizes.run();
