/**
 * Safety: more than REAL_MAIL_FREE_MESSAGES messages to recipients outside reserved test
 * domains need an acknowledgement (a terminal's "yes" or --allow-real-recipients); the built-in
 * fixture never asks; CI (no terminal) is refused with the way out. Every command that sends mail
 * asks: `run`, and `sweep` (once, for all its steps). `check` sends none (test/check: MAIL FROM,
 * then RSET; the fixture counts no message).
 */
import { runCli as runCliProcess, type Ran } from '../cli-process.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { createTextSink, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { resolveOptions } from '../../runner/scenario/options.ts';
import type { ScenarioConfig } from '../../runner/scenario/types.ts';
import { confirmRealRecipients, isReservedRecipient, planRealMail, RealRecipientsError, REAL_MAIL_FREE_MESSAGES } from '../../runner/safety.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const Reserved = suite('reserved test domains (RFC 2606, RFC 6761)');

const RESERVED_CASES: Array<[address: string, isReserved: boolean]> = [
  ['a@example.com', true],
  ['a@EXAMPLE.ORG', true],
  ['a@example.net', true],
  ['a@mail.example.com', true],
  ['a@anything.example', true],
  ['a@proxy.test', true],
  ['a@nowhere.invalid', true],
  ['a@runner.localhost', true],
  ['recipient@outlook.com', false],
  ['someone@gmail.com', false],
  ['a@example.com.evil.org', false],
  ['a@notexample.com', false],
  ['a@test.com', false],
];
for (const [address, isReserved] of RESERVED_CASES) {
  Reserved(`${address} → ${isReserved ? 'reserved' : 'real'}`, () => assert.is(isReservedRecipient(address), isReserved));
}

async function optionsWith(to: string[] | undefined, executor: ScenarioConfig) {
  return resolveOptions({ smtp: to ? { to } : {}, scenarios: { s: executor } }, {}, { baseDir: ROOT, env: {} });
}

const Plan = suite('the real-mail plan: messages to scenarios with a real recipient');

Plan('the default recipient (recipient@outlook.com) is real; counts follow the executor', async () => {
  assert.equal(planRealMail(await optionsWith(undefined, { executor: 'shared-iterations', vus: 2, iterations: 100 })), { messages: 100, recipients: ['recipient@outlook.com'] });
  assert.is(planRealMail(await optionsWith(undefined, { executor: 'per-vu-iterations', vus: 3, iterations: 5 })).messages, 15);
  assert.is(planRealMail(await optionsWith(undefined, { executor: 'constant-vus', vus: 1, duration: '1s' })).messages, Infinity);
  assert.is(planRealMail(await optionsWith(['a@example.com', 'b@x.test'], { executor: 'shared-iterations', iterations: 1000 })).messages, 0);
  assert.equal(planRealMail(await optionsWith(['a@example.com', 'b@gmail.com'], { executor: 'shared-iterations', iterations: 20 })).recipients, ['b@gmail.com']);
});

const Confirm = suite('confirmRealRecipients: who is asked, who is refused');

const CONFIRM_CASES: Array<{ name: string; iterations: number; to?: string[]; isAllowed?: boolean; isFixture?: boolean; answer?: string; isTty: boolean; outcome: 'go' | 'refused' | 'asked-go' | 'asked-stop' }> = [
  { name: `${REAL_MAIL_FREE_MESSAGES} messages: a few, no question`, iterations: REAL_MAIL_FREE_MESSAGES, isTty: false, outcome: 'go' },
  { name: 'more, no terminal (CI): refused', iterations: REAL_MAIL_FREE_MESSAGES + 1, isTty: false, outcome: 'refused' },
  { name: 'more, with --allow-real-recipients: no question', iterations: 100, isAllowed: true, isTty: false, outcome: 'go' },
  { name: 'more, against --with-fixture: no question', iterations: 100, isFixture: true, isTty: false, outcome: 'go' },
  { name: 'more, to example.com: no question', iterations: 100, to: ['a@example.com'], isTty: false, outcome: 'go' },
  { name: 'more, on a terminal, "yes": goes on', iterations: 100, isTty: true, answer: 'yes', outcome: 'asked-go' },
  { name: 'more, on a terminal, "y": stops (only yes goes on)', iterations: 100, isTty: true, answer: 'y', outcome: 'asked-stop' },
  { name: 'more, on a terminal, Enter: stops', iterations: 100, isTty: true, answer: '', outcome: 'asked-stop' },
];
for (const c of CONFIRM_CASES) {
  Confirm(c.name, async () => {
    const options = await optionsWith(c.to, { executor: 'shared-iterations', vus: 1, iterations: c.iterations });
    const stderr = createTextSink();
    const questions: string[] = [];
    const ask = c.isTty ? async (question: string) => (questions.push(question), c.answer ?? '') : undefined;
    let error: unknown;
    try {
      await confirmRealRecipients(options, { isAllowed: c.isAllowed ?? false, isFixture: c.isFixture ?? false, ask, stderr });
    } catch (caught) {
      error = caught;
    }
    const isAsked = c.outcome.startsWith('asked');
    assert.is(questions.length, isAsked ? 1 : 0);
    if (isAsked) assert.match(stderr.text(), /WARNING: this run sends 100 messages to real recipients: recipient@outlook\.com/);
    if (c.outcome === 'go' || c.outcome === 'asked-go') assert.is(error, undefined);
    else {
      assert.instance(error, RealRecipientsError);
      assert.is((error as RealRecipientsError).exitCode, ExitCode.usage);
      assert.match((error as RealRecipientsError).hint ?? '', /--allow-real-recipients/);
    }
  });
}

function runCli(args: string[]): Promise<Ran> {
  return runCliProcess(args);
}

const Cli = suite('the CLI without a terminal (CI)');

Cli('the guide\'s defaults against a proxy (not the fixture): refused before any message, exit 2, the way out named', async () => {
  await withFakeProxy({}, async (proxy) => {
    const ran = await runCli(['run', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--num-emails', '20', '--no-out', '--no-watch']);
    assert.is(ran.code, ExitCode.usage, ran.stderr);
    assert.match(ran.stderr, /refusing to send 20 messages to real recipients: recipient@outlook\.com/);
    assert.match(ran.stderr, /hint: .*example\.com.*--with-fixture.*--allow-real-recipients/);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

const CLI_GO_CASES: Array<{ name: string; args: string[] }> = [
  { name: '--allow-real-recipients', args: ['--allow-real-recipients'] },
  { name: '--to a reserved domain', args: ['--to', 'someone@example.com'] },
  { name: `--num-emails ${REAL_MAIL_FREE_MESSAGES} (a few)`, args: ['--num-emails', String(REAL_MAIL_FREE_MESSAGES)] },
];
for (const { name, args } of CLI_GO_CASES) {
  Cli(`${name}: runs`, async () => {
    await withFakeProxy({}, async (proxy) => {
      const ran = await runCli(['run', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--num-emails', '20', '--concurrent', '5', '--no-out', '--no-watch', ...args]);
      assert.is(ran.code, 0, ran.stderr);
      assert.ok(proxy.stats.messagesAccepted >= REAL_MAIL_FREE_MESSAGES);
    });
  });
}

Cli('--with-fixture (npm start): no question, no flag needed', async () => {
  const ran = await runCli(['run', '--with-fixture', '--num-emails', '30', '--concurrent', '5', '--no-out', '--no-watch']);
  assert.is(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /Fake proxy received: 30 messages/);
});

const Sweep = suite('runner sweep without a terminal (CI): asks as run does, once for all its steps');

/** `runner sweep` aimed at `proxy`: 2 steps, short pauses, no process watching. */
function sweepAgainst(proxy: { port: number; adminPort?: number }, args: string[]): Promise<Ran> {
  return runCli(['sweep', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`, '--pause', '100ms', '--no-watch', ...args]);
}

Sweep('the guide\'s defaults, --concurrent 2,4 --num-emails 30: refused before any message, exit 2, run\'s message for the 60 messages of both steps', async () => {
  await withFakeProxy({}, async (proxy) => {
    const ran = await sweepAgainst(proxy, ['--concurrent', '2,4', '--num-emails', '30']);
    assert.is(ran.code, ExitCode.usage, ran.stderr);
    assert.match(ran.stderr, /error: refusing to send 60 messages to real recipients: recipient@outlook\.com: through the proxy they reach real mailboxes/);
    assert.match(ran.stderr, /hint: .*example\.com.*--with-fixture.*--allow-real-recipients/);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

Sweep('duration-based steps count as more than a few: refused', async () => {
  await withFakeProxy({}, async (proxy) => {
    const ran = await sweepAgainst(proxy, ['--concurrent', '1,2', '--step-duration', '1s']);
    assert.is(ran.code, ExitCode.usage, ran.stderr);
    assert.match(ran.stderr, /refusing to send messages for the whole run \(duration-based\) to real recipients: recipient@outlook\.com/);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

Sweep(`${REAL_MAIL_FREE_MESSAGES / 2} per step is more than ${REAL_MAIL_FREE_MESSAGES} in all: refused`, async () => {
  await withFakeProxy({}, async (proxy) => {
    const ran = await sweepAgainst(proxy, ['--concurrent', '1,2,3', '--num-emails', String(REAL_MAIL_FREE_MESSAGES / 2)]);
    assert.is(ran.code, ExitCode.usage, ran.stderr);
    assert.match(ran.stderr, `refusing to send ${(REAL_MAIL_FREE_MESSAGES / 2) * 3} messages`);
    assert.is(proxy.stats.messagesAccepted, 0);
  });
});

const SWEEP_GO_CASES: Array<{ name: string; args: string[] }> = [
  { name: '--allow-real-recipients', args: ['--allow-real-recipients'] },
  { name: '--to a reserved domain', args: ['--to', 'someone@example.com'] },
];
for (const { name, args } of SWEEP_GO_CASES) {
  Sweep(`${name}: every step runs`, async () => {
    await withFakeProxy({}, async (proxy) => {
      const ran = await sweepAgainst(proxy, ['--concurrent', '1,2', '--num-emails', '8', ...args]);
      assert.is(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /step 2\/2: 2 concurrent … /);
      assert.is(proxy.stats.messagesAccepted, 16);
    });
  });
}

Sweep('--with-fixture: no question, no flag needed', async () => {
  const ran = await runCli(['sweep', '--with-fixture', '--concurrent', '1,2', '--num-emails', '8', '--pause', '100ms', '--no-watch']);
  assert.is(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /SWEEP RESULTS/);
});

Reserved.run();
Plan.run();
Confirm.run();
Cli.run();
Sweep.run();
