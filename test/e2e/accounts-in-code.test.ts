/**
 * Results per account follow the user that authenticated, not the default sender (issue 16): a
 * scenario that picks the sender in code (send({ from }), or auth(user) in the steps) is counted
 * per account exactly as the fake proxy counted it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';

const data = (name: string) => fileURLToPath(new URL(`./data/${name}`, import.meta.url));

const attribution = suite('results per account follow the authenticated user');

attribution('12 messages as three accounts chosen in code: 4 each, as the proxy counted them', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenarioFile: data('senders-in-code.ts'), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(proxy.stats.messagesAccepted, 12);
    for (const email of ['test@example.com', 'sales@company.com', 'support@company.com']) {
      const truth = proxy.stats.perAccount[email]!;
      assert.is(truth.messagesAccepted, 4, `${email}: the proxy's count`);
      assert.is(summary.accounts[email]?.successful, truth.messagesAccepted, `${email}: ${JSON.stringify(summary.accounts)}`);
      assert.is(summary.accounts[email]?.total_requests, truth.messagesAccepted, email);
    }
    assert.equal(Object.keys(summary.accounts).sort(), ['sales@company.com', 'support@company.com', 'test@example.com']);
  });
});

attribution.run();
