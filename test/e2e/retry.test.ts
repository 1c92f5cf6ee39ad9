/**
 * Retries like an MTA against the fake proxy (issue 16): deferred messages are sent again until
 * accepted, and the figures match the fixture's own counters exactly: every message accepted once,
 * each deferral one 451/421 the proxy gave, attempts = messages + deferrals.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { renderHtmlReport } from '../../runner/outputs/html-report.ts';
import { readFileSync } from 'node:fs';
import { mergeResults } from '../../runner/analysis/merge.ts';
import type { LoadedResults } from '../../runner/results/read.ts';
import AjvModule from 'ajv';

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

retries.run();
