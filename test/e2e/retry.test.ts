/**
 * Retries like an MTA against the fake proxy (issue 16): deferred messages are sent again until
 * accepted, and the figures match the fixture's own counters exactly: every message accepted once,
 * each deferral one 451/421 the proxy gave, attempts = messages + deferrals.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { renderHtmlReport } from '../../runner/outputs/html-report.ts';
import { readFileSync } from 'node:fs';
import { mergeResults } from '../../runner/analysis/merge.ts';
import type { LoadedResults } from '../../runner/results/read.ts';
import AjvModule from 'ajv';
import { formatJunit } from '../../runner/outputs/junit.ts';
import { buildMessage } from '../../runner/smtp/builder.ts';

const Ajv = AjvModule.default ?? AjvModule;
const schemaCheck = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(new URL('../../schemas/results.schema.json', import.meta.url), 'utf8')));
const validateResults = (summary: unknown) => (schemaCheck(JSON.parse(JSON.stringify(summary))) ? [] : schemaCheck.errors);

const FAST_BACKOFF = { initial: '5ms', max: '40ms', factor: 2, jitter: true };

function scenario(messages: number, vus: number, retry: ScenarioFileOptions['retry'], extra: Record<string, unknown> = {}): ScenarioFileOptions {
  return {
    scenarios: { mta: { executor: 'shared-iterations', vus, iterations: messages, ...extra } },
    retry,
    thresholds: { smtp_txn_failed: ['rate==0'] },
  } as ScenarioFileOptions;
}

const retries = suite('retry: deferred messages are sent again, counted against the proxy');

retries('451 injected on 30% of messages: all 60 accepted once, deferrals = the proxy\'s 451s, attempts exact', async () => {
  await withFakeProxy({ failures: [{ phase: 'message', probability: 0.3, kind: 'reply', code: 451 }] }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: scenario(60, 4, { on: ['451'], attempts: 20, backoff: FAST_BACKOFF }), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    const injected = proxy.stats.rejections['message:451'] ?? 0;
    assert.ok(injected > 0, 'the fixture deferred some');
    assert.is(proxy.stats.messagesAccepted, 60);
    assert.is(summary.results.successful, 60);
    assert.is(summary.results.failed, 0);
    const r = summary.retries!;
    assert.is(r.deferred, injected);
    assert.equal(r.deferrals, { '451': injected });
    assert.is(r.pending, 0);
    assert.is(r.attempts_per_message.count, 60);
    assert.is(Math.round(r.attempts_per_message.avg * 60), 60 + injected, JSON.stringify(r.attempts_per_message));
    assert.ok(r.first_try < 60 && r.first_try > 0);
    assert.is(r.first_try_rate, Math.round((r.first_try / 60) * 10_000) / 10_000);
    assert.is(r.eventual_duration.count, 60);
    assert.match(output, /Retries \(deferred messages sent again/);
    assert.match(output, /Deferred attempts: \d+ \(451 ×\d+\)/);
    const report = renderHtmlReport(summary);
    assert.match(report, /<section id="retries"><h2>Retries<\/h2>/);
    assert.match(report, new RegExp(`<td class="l">deferred attempts</td><td>${injected}</td>`));
    assert.equal(validateResults(summary), [], 'the results schema takes the retries block');
    // runner merge adds the retries of two files exactly
    const copy = JSON.parse(JSON.stringify(summary)) as typeof summary;
    const merged = mergeResults([{ file: 'a.json', summary: copy } as LoadedResults, { file: 'b.json', summary: copy } as LoadedResults]).summary.retries!;
    assert.is(merged.deferred, 2 * injected);
    assert.is(merged.first_try, 2 * r.first_try);
    assert.is(merged.attempts_per_message.count, 120);
    assert.is(Math.round(merged.attempts_per_message.avg * 120), 2 * (60 + injected));
  });
});

retries('421 at MAIL (the connection closes): every message accepted; --retry 421:30 from the flags', async () => {
  await withFakeProxy({ failures: [{ phase: 'mail', probability: 0.25, kind: 'reply', code: 421 }] }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, {
      scenario: scenario(40, 3, undefined),
      overrides: { retry: '421:30' },
      check: false,
    });
    assert.is(exitCode, ExitCode.ok, output);
    const injected = proxy.stats.rejections['mail:421'] ?? 0;
    assert.ok(injected > 0);
    assert.is(proxy.stats.messagesAccepted, 40);
    assert.is(summary.results.successful, 40);
    assert.equal(summary.retries!.deferrals, { '421': injected });
    assert.is(Math.round(summary.retries!.attempts_per_message.avg * 40), 40 + injected);
  });
});

retries('--max-in-flight-per-account 2 with 8 VUs: the 451 4.4.5 bursts retried until all 80 go through', async () => {
  await withFakeProxy({ maxInFlightPerAccount: 2, delays: { message: 5 } }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: scenario(80, 8, { on: ['4xx'], attempts: 100, backoff: FAST_BACKOFF }), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    const injected = proxy.stats.rejections['data:451'] ?? 0;
    assert.ok(injected > 0, 'the limit deferred some');
    assert.is(proxy.stats.messagesAccepted, 80);
    assert.is(summary.results.successful, 80);
    assert.is(summary.results.failed, 0);
    assert.is(summary.retries!.deferred, injected);
    assert.is(Math.round(summary.retries!.attempts_per_message.avg * 80), 80 + injected);
  });
});

retries('attempts run out: each message fails after exactly 3 attempts, the proxy saw 3 per message', async () => {
  await withFakeProxy({ failures: [{ phase: 'message', probability: 1, kind: 'reply', code: 451 }] }, async (proxy) => {
    const { summary, output } = await runAgainst(proxy, { scenario: scenario(10, 2, { on: ['451'], attempts: 3, backoff: { initial: '1ms', max: '2ms' } }), check: false });
    assert.is(proxy.stats.rejections['message:451'], 30, output);
    assert.is(summary.results.failed, 10);
    assert.is(summary.retries!.deferred, 20);
    assert.is(summary.retries!.attempts_per_message.max, 3);
    assert.is(summary.retries!.attempts_per_message.avg, 3);
    assert.is(summary.retries!.first_try, 0);
  });
});

retries('gracefulStop runs out: the deferred are reported pending, neither failed nor accepted', async () => {
  await withFakeProxy({ failures: [{ phase: 'message', probability: 1, kind: 'reply', code: 451 }] }, async (proxy) => {
    const { summary, output } = await runAgainst(proxy, {
      scenario: scenario(6, 2, { on: ['451'], attempts: 5, backoff: { initial: '1m', max: '5m' } }, { gracefulStop: '100ms' }),
      check: false,
    });
    assert.is(proxy.stats.rejections['message:451'], 6, output);
    assert.is(summary.results.failed, 0);
    assert.is(summary.results.successful, 0);
    assert.is(summary.retries!.pending, 6);
    assert.is(summary.retries!.deferred, 6);
    assert.match(output, /Pending: 6 \(still deferred when gracefulStop ran out/);
  });
});

retries('thresholds judge the new metrics: smtp_deferrals{reply:451}, smtp_first_try, smtp_attempts_per_message', async () => {
  await withFakeProxy({ failures: [{ phase: 'message', probability: 1, kind: 'reply', code: 451 }] }, async (proxy) => {
    const options = scenario(4, 1, { on: ['451'], attempts: 2, backoff: { initial: '1ms', max: '1ms' } });
    options.thresholds = { 'smtp_deferrals{reply:451}': ['count==4'], smtp_first_try: ['rate==0'], smtp_attempts_per_message: ['max==2'], smtp_eventual_duration: ['count==4'] };
    const { summary, output } = await runAgainst(proxy, { scenario: options, check: false });
    for (const outcome of summary.thresholds) assert.ok(outcome.ok, `${outcome.metric} ${outcome.condition}: ${outcome.actual}\n${output}`);
    assert.is(summary.thresholds.length, 4);
  });
});

retries('ctx.smtp.send({ from }) in scenario code: deferred sends are queued and resolve; per account as the proxy counted', async () => {
  const senders = ['test@example.com', 'sales@company.com', 'support@company.com'];
  await withFakeProxy({ failures: [{ phase: 'message', probability: 0.3, kind: 'reply', code: 451 }] }, async (proxy) => {
    const options = scenario(30, 3, { on: ['451'], attempts: 30, backoff: FAST_BACKOFF });
    options.iteration = async (ctx) => {
      await ctx.smtp.send({ from: senders[ctx.scenario.iterationInTest % 3]! });
    };
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: options, check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(summary.results.script_errors, 0);
    assert.is(proxy.stats.messagesAccepted, 30);
    for (const email of senders) assert.is(summary.accounts[email]?.successful, proxy.stats.perAccount[email]!.messagesAccepted, email);
    assert.is(summary.retries!.deferred, proxy.stats.rejections['message:451']);
  });
});

/** Every message the proxy received with its reply, by X-Runner-Trace: the attempts of one message. */
function attemptsByTrace(received: Array<{ message: Buffer; code: number }>): Map<string, Array<{ message: Buffer; code: number }>> {
  const byTrace = new Map<string, Array<{ message: Buffer; code: number }>>();
  for (const attempt of received) {
    const trace = /^X-Runner-Trace: (\S+)\r$/m.exec(attempt.message.toString('latin1'))?.[1] ?? '';
    byTrace.set(trace, [...(byTrace.get(trace) ?? []), attempt]);
  }
  return byTrace;
}

const SAME_BYTES_CASES: Array<{ name: string; iteration: ScenarioFileOptions['iteration'] }> = [
  { name: 'the generated message', iteration: undefined },
  {
    name: 'a buildMessage() template with {{vu}}, {{iteration}}, {{seq}} and an attachment, via ctx.smtp.send()',
    iteration: (() => {
      const template = buildMessage({ subject: 'Order {{seq}} of VU {{vu}}', text: 'iteration {{iteration}}, {{name}}', headers: { 'X-Campaign': 'q4' }, attachments: [{ filename: 'a.bin', size: 3000 }] });
      return async (ctx) => {
        await ctx.smtp.send({ message: template, vars: { name: `n${ctx.scenario.iterationInTest}` } });
      };
    })(),
  },
  { name: 'a message given as text via ctx.smtp.send()', iteration: async (ctx) => void (await ctx.smtp.send({ message: `Subject: plain ${ctx.scenario.iterationInTest}\r\n\r\nbody\r\n` })) },
];

for (const { name, iteration } of SAME_BYTES_CASES) {
  retries(`every attempt of a message sends the same bytes (Message-ID, Date, trace header): ${name}`, async () => {
    const received: Array<{ message: Buffer; code: number }> = [];
    await withFakeProxy({ failures: [{ phase: 'message', probability: 0.4, kind: 'reply', code: 451 }], onMessage: (message, code) => received.push({ message, code }) }, async (proxy) => {
      const options = scenario(30, 3, { on: ['451'], attempts: 30, backoff: FAST_BACKOFF });
      if (iteration) options.iteration = iteration;
      const { summary, exitCode, output } = await runAgainst(proxy, { scenario: options, check: false });
      assert.is(exitCode, ExitCode.ok, output);
      const injected = proxy.stats.rejections['message:451'] ?? 0;
      assert.ok(injected > 0);
      assert.is(received.length, 30 + injected, 'the proxy saw every attempt');
      const byTrace = attemptsByTrace(received);
      assert.is(byTrace.size, 30, 'one trace per message, whatever its attempts');
      let retried = 0;
      for (const [trace, attempts] of byTrace) {
        assert.ok(trace !== '', 'every attempt carries the trace header');
        // Each message: deferred k times, then accepted once, every attempt the same bytes
        assert.equal(attempts.map((a) => a.code), [...attempts.slice(0, -1).map(() => 451), 250], trace);
        for (const attempt of attempts) assert.ok(attempt.message.equals(attempts[0]!.message), `${trace}: attempt differs:\n${attempt.message.toString().slice(0, 400)}\n---\n${attempts[0]!.message.toString().slice(0, 400)}`);
        if (attempts.length > 1) retried++;
      }
      assert.ok(retried > 0);
      const messageIds = new Set(received.map((a) => /^Message-ID: (.*)\r$/im.exec(a.message.toString('latin1'))?.[1]));
      if (iteration === undefined || name.startsWith('a buildMessage')) assert.is(messageIds.size, 30, 'one Message-ID per message');
      assert.is(summary.retries!.deferred, injected);
      assert.is(summary.retries!.first_try, 30 - retried);
    });
  });
}

/** The samples of an exposition text: `name{labels}` → value. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match) samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

retries('the retry figures in JUnit and the Prometheus endpoint equal the proxy\'s injected 451s and 421s exactly', async () => {
  await withFakeProxy({ failures: [{ phase: 'message', probability: 0.25, kind: 'reply', code: 451 }, { phase: 'mail', probability: 0.1, kind: 'reply', code: 421 }] }, async (proxy) => {
    // Any free port (one found free beforehand can be taken meanwhile): the run says where on stderr
    const sinks = { stdout: createTextSink(), stderr: createTextSink() };
    // Scrape all along: the endpoint then lingers for a scrape of the final values (runner_run_finished 1)
    let final: Map<string, number> | undefined;
    let isRunning = true;
    const scraper = (async () => {
      while (isRunning && final === undefined) {
        const url = /metrics: Prometheus endpoint at (\S+)/.exec(sinks.stderr.text())?.[1];
        if (url === undefined) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        const text = await fetch(url).then((r) => r.text(), () => '');
        const samples = parseExposition(text);
        if (samples.get('runner_run_finished') === 1) final = samples;
        else await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    let outcome;
    try {
      outcome = await runAgainst(proxy, { scenario: scenario(50, 4, { on: ['451', '421'], attempts: 30, backoff: FAST_BACKOFF }), metrics: { port: 0, lingerMs: 10_000 }, check: false }, sinks);
    } finally {
      isRunning = false;
      await scraper;
    }
    const { summary, exitCode, output } = outcome;
    assert.is(exitCode, ExitCode.ok, output);
    const injected451 = proxy.stats.rejections['message:451'] ?? 0;
    const injected421 = proxy.stats.rejections['mail:421'] ?? 0;
    assert.ok(injected451 > 0 && injected421 > 0, JSON.stringify(proxy.stats.rejections));
    assert.is(proxy.stats.messagesAccepted, 50);
    const r = summary.retries!;
    assert.equal(r.deferrals, { '421': injected421, '451': injected451 });

    const junit = formatJunit(summary);
    const property = (name: string) => new RegExp(`<property name="${name}" value="([^"]*)"/>`).exec(junit)?.[1];
    assert.is(property('retry_deferred'), String(injected451 + injected421));
    assert.is(property('retry_deferrals_451'), String(injected451));
    assert.is(property('retry_deferrals_421'), String(injected421));
    assert.is(property('retry_first_try'), String(r.first_try));
    assert.is(property('retry_first_try_rate'), String(r.first_try_rate));
    assert.is(property('retry_pending'), '0');
    assert.is(Math.round(Number(property('retry_attempts_per_message_avg')) * 50), 50 + injected451 + injected421);
    assert.is(property('retry_attempts_per_message_max'), String(r.attempts_per_message.max));
    assert.is(property('retry_eventual_duration_p95_seconds'), String(r.eventual_duration.p95_seconds));

    assert.ok(final, 'a scrape read the final values');
    const samples = final!;
    assert.is(samples.get('runner_smtp_deferrals_total{scenario="mta",code="451"}'), injected451);
    assert.is(samples.get('runner_smtp_deferrals_total{scenario="mta",code="421"}'), injected421);
    assert.is(samples.get('runner_smtp_first_try_total{scenario="mta"}'), r.first_try);
    assert.is(samples.get('runner_smtp_retry_messages_total{scenario="mta"}'), 50);
    assert.is(samples.get('runner_smtp_retry_pending{scenario="mta"}'), 0);
    // Attempts: 50 messages, their sum = every attempt the proxy answered (accepted + deferred)
    assert.is(samples.get('runner_smtp_attempts_per_message_count{scenario="mta"}'), 50);
    assert.is(samples.get('runner_smtp_attempts_per_message_sum{scenario="mta"}'), 50 + injected451 + injected421);
    assert.is(samples.get('runner_smtp_attempts_per_message_bucket{scenario="mta",le="1"}'), r.first_try);
    assert.is(samples.get('runner_smtp_attempts_per_message_bucket{scenario="mta",le="+Inf"}'), 50);
    assert.is(samples.get('runner_smtp_eventual_duration_seconds_count{scenario="mta"}'), 50);
  });
});

retries('no retry policy: no retry series on the endpoint', async () => {
  const { PrometheusExporter } = await import('../../runner/outputs/prometheus.ts');
  const text = await new PrometheusExporter(['peak']).metrics();
  assert.not.match(text, /runner_smtp_deferrals_total|runner_smtp_attempts_per_message|runner_smtp_eventual_duration/);
});

retries.run();
