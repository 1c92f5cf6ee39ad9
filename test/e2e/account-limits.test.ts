/**
 * Per-account limits inside one scenario (issue 16), against the fake proxy's own counters:
 * with accounts.maxInFlight at the proxy's --max-in-flight-per-account, no message is refused
 * 451 4.4.5 (without it, the same load is); accounts.rate spaces an account's starts, and the
 * wait is in the response time, not in the transaction time.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { AccountLimits, parseAccountRate } from '../../runner/engine/account-limits.ts';

const ACCOUNTS_FILE = fileURLToPath(new URL('../../fixtures/accounts.json', import.meta.url));

function scenario(messages: number, vus: number, accounts: Record<string, unknown>): ScenarioFileOptions {
  return {
    scenarios: { shaped: { executor: 'shared-iterations', vus, iterations: messages } },
    accounts: { file: ACCOUNTS_FILE, ...accounts },
  } as ScenarioFileOptions;
}

const limits = suite('accounts.maxInFlight and accounts.rate');

const RATES: Array<[string, number]> = [['100/m', 600], ['10/s', 100], ['3600/h', 1000], ['5/2s', 400], ['1/500ms', 500]];
for (const [rate, intervalMs] of RATES) limits(`rate '${rate}' → one start every ${intervalMs} ms`, () => assert.is(parseAccountRate(rate), intervalMs));
limits('a bad rate says what to write', () => assert.throws(() => parseAccountRate('100 per minute'), /write messages per unit, e\.g\. '100\/m'/));

limits('slots: at most maxInFlight, handed to waiters first come first served', async () => {
  const slots = new AccountLimits(2, 0);
  const order: number[] = [];
  await slots.acquire('a');
  await slots.acquire('a');
  const third = slots.acquire('a').then(() => order.push(3));
  const fourth = slots.acquire('a').then(() => order.push(4));
  await slots.acquire('b');
  assert.is(slots.inFlightOf('a'), 2);
  slots.release('a');
  await third;
  assert.equal(order, [3]);
  slots.release('a');
  await fourth;
  assert.equal(order, [3, 4]);
  assert.is(slots.inFlightOf('a'), 2);
  slots.release('a');
  slots.release('a');
  assert.is(slots.inFlightOf('a'), 0);
});

limits('maxInFlight 2 against --max-in-flight-per-account 2: 90 of 90 accepted, no 451 4.4.5; without it the proxy refuses some', async () => {
  await withFakeProxy({ maxInFlightPerAccount: 2, delays: { message: 5 } }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: scenario(90, 12, { maxInFlight: 2 }), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.equal(proxy.stats.rejections, {}, 'the proxy refused nothing');
    assert.is(proxy.stats.messagesAccepted, 90);
    assert.is(summary.results.successful, 90);
    for (const [email, counted] of Object.entries(proxy.stats.perAccount)) assert.is(summary.accounts[email]?.successful, counted.messagesAccepted, email);
  });
  await withFakeProxy({ maxInFlightPerAccount: 2, delays: { message: 5 } }, async (proxy) => {
    const { summary } = await runAgainst(proxy, { scenario: scenario(90, 12, {}), check: false });
    assert.ok((proxy.stats.rejections['data:451'] ?? 0) > 0, 'the control run hits the limit');
    assert.is(summary.results.failed, proxy.stats.rejections['data:451']);
  });
});

const SENDERS = ['test@example.com', 'sales@company.com', 'support@company.com'];

/** 60 messages sent by ctx.smtp.send({ from }) in scenario code from 12 VUs, round robin over three accounts. */
function sendInCode(accounts: Record<string, unknown>): ScenarioFileOptions {
  const options = scenario(60, 12, accounts);
  options.iteration = async (ctx) => {
    await ctx.smtp.send({ from: SENDERS[ctx.scenario.iterationInTest % SENDERS.length]! });
  };
  return options;
}

limits('ctx.smtp.send({ from }) keeps to maxInFlight 2 too: the proxy\'s own peak in flight per account is 2, no 451 4.4.5; without it the proxy refuses some', async () => {
  await withFakeProxy({ maxInFlightPerAccount: 2, delays: { message: 5 } }, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: sendInCode({ maxInFlight: 2 }), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.equal(proxy.stats.rejections, {}, 'the proxy refused nothing');
    assert.is(proxy.stats.messagesAccepted, 60);
    assert.is(summary.results.script_errors, 0);
    for (const email of SENDERS) {
      assert.is(proxy.stats.perAccount[email]!.messagesAccepted, 20, email);
      assert.is(summary.accounts[email]?.successful, 20, email);
      assert.ok(proxy.stats.peakInFlightByAccount[email]! <= 2, `${email}: ${proxy.stats.peakInFlightByAccount[email]} in flight at once`);
    }
    assert.is(Math.max(...SENDERS.map((email) => proxy.stats.peakInFlightByAccount[email]!)), 2, 'the limit was reached, not just kept under');
    assert.not.match(output, /not the single steps/);
  });
  await withFakeProxy({ maxInFlightPerAccount: 2, delays: { message: 5 } }, async (proxy) => {
    const { summary } = await runAgainst(proxy, { scenario: sendInCode({}), check: false });
    assert.ok((proxy.stats.rejections['data:451'] ?? 0) > 0, 'the control run hits the limit');
    assert.is(summary.results.failed, proxy.stats.rejections['data:451']);
  });
});

limits('ctx.smtp.send() and accounts.rate \'20/s\': an account\'s sends are spaced by 50 ms at the proxy too', async () => {
  await withFakeProxy({}, async (proxy) => {
    const options = scenario(6, 6, { rate: '20/s' });
    options.iteration = async (ctx) => void (await ctx.smtp.send({ from: 'sales@company.com' }));
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: options, check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(proxy.stats.perAccount['sales@company.com']!.messagesAccepted, 6);
    // The 6th start is 5 × 50 ms after the first: the response time of the last includes most of it
    assert.ok(summary.results.total_time_seconds >= 0.25, `${summary.results.total_time_seconds}s`);
    assert.ok(summary.results.response_time.max_seconds! >= 0.2, `response max ${summary.results.response_time.max_seconds}s`);
  });
});

limits('the single steps (ctx.smtp.mail/rcpt/data) are not limited: one clear warning says so and what to use', async () => {
  await withFakeProxy({}, async (proxy) => {
    const options = scenario(3, 1, { maxInFlight: 1 });
    options.iteration = async (ctx) => {
      await ctx.smtp.mail('test@example.com');
      await ctx.smtp.rcpt('load@example.com');
      await ctx.smtp.data('Subject: steps\r\n\r\nhello\r\n');
    };
    const { output } = await runAgainst(proxy, { scenario: options, check: false });
    assert.is(output.match(/not the single steps ctx\.smtp\.mail\(\)\/rcpt\(\)\/data\(\)/g)?.length, 1, output);
    assert.match(output, /use ctx\.smtp\.send\(\) for messages that must keep to the limits/);
  });
});

limits("rate '20/s' per account: 3 accounts × 5 messages take at least 4 intervals; the wait is in the response time only", async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: scenario(15, 15, { rate: '20/s' }), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(proxy.stats.messagesAccepted, 15);
    // Each account's 5th start is 4 × 50 ms after its first: no message can be sooner
    assert.ok(summary.results.total_time_seconds >= 0.2, `${summary.results.total_time_seconds}s`);
    const responseMax = summary.results.response_time.max_seconds!;
    // The last message of an account waited ~4 intervals after that account's first start; its own
    // iteration began a little after that first start (VUs start one after another, later on a busy
    // machine), so its response time is 200 ms less that skew: at least 3 intervals is certain.
    assert.ok(responseMax >= 0.15, `response max ${responseMax}s includes the wait`);
    assert.ok(responseMax > summary.results.latency.max_seconds!, 'the transaction time does not');
  });
});

limits.run();
