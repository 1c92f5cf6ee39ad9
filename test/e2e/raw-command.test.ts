/**
 * ctx.smtp.command() end to end: a scenario whose iteration sends NOOP before each message
 * against the fake proxy; the NOOP replies land in smtp_noop_duration (one per iteration), the
 * messages count as usual.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';

const data = (name: string) => fileURLToPath(new URL(`./data/${name}`, import.meta.url));

const raw = suite('ctx.smtp.command(): a raw command timed under its verb');

raw('NOOP before each of 10 messages: 10 samples in smtp_noop_duration, 10 messages accepted', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile: data('raw-command.ts'), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(proxy.stats.messagesAccepted, 10);
    assert.is(summary.custom_metrics['smtp_noop_duration']?.count, 10, JSON.stringify(Object.keys(summary.custom_metrics)));
  });
});

raw.run();
