import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunnerError } from '../../runner/errors.ts';
import { buildWeightedCycle, createAccountPicker, readAccountsFile, singleSender } from '../../runner/scenario/accounts.ts';
import type { ResolvedAccounts } from '../../runner/scenario/resolved.ts';

const DATA = fileURLToPath(new URL('./data/', import.meta.url));
const data = (name: string) => join(DATA, name);

const Read = suite('accounts: reading the proxy accounts.json');

Read('an array of {email, provider, ...}', async () => {
  assert.equal(await readAccountsFile(data('accounts.json')), ['sales@company.com', 'support@company.com', 'ops@company.com']);
});

Read('the admin API shape {accounts: [...]}', async () => {
  assert.equal(await readAccountsFile(data('accounts-wrapped.json')), ['a@example.com', 'b@example.com']);
});

Read('the repository fixture file', async () => {
  const emails = await readAccountsFile(fileURLToPath(new URL('../../fixtures/accounts.json', import.meta.url)));
  assert.ok(emails.includes('test@example.com'));
});

const errorCases: Array<{ name: string; file: string; message: RegExp }> = [
  { name: 'missing file', file: 'no-such-accounts.json', message: /cannot read accounts file .*no-such-accounts\.json: no such file/ },
  { name: 'not JSON, with line and column', file: 'accounts-broken.json', message: /accounts-broken\.json:3:\d+: not valid JSON/ },
  { name: 'not an array', file: 'accounts-object.json', message: /expected an array of accounts/ },
  { name: 'an entry without email', file: 'accounts-no-email.json', message: /account \[1\] has no "email"/ },
];
for (const { name, file, message } of errorCases) {
  Read(`error: ${name}`, async () => {
    try {
      await readAccountsFile(data(file));
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.instance(error, RunnerError);
      assert.is((error as RunnerError).code, 'E_ACCOUNTS_FILE');
      assert.match((error as Error).message, message);
    }
  });
}

const Pick = suite('accounts: picking a sender per iteration');

const accounts = (emails: string[], weights: number[], pick: ResolvedAccounts['pick']): ResolvedAccounts => ({ pick, emails, weights, file: undefined });

/** How many times each email is picked over iterations [0, count). */
function tally(picker: (iteration: number) => string, count: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) counts[picker(i)] = (counts[picker(i)] ?? 0) + 1;
  return counts;
}

Pick('no accounts file: always smtp.from', () => {
  const picker = createAccountPicker(singleSender('test@example.com'));
  assert.equal(tally(picker, 10), { 'test@example.com': 10 });
});

Pick('round robin: in file order, by iteration number', () => {
  const picker = createAccountPicker(accounts(['a@x.com', 'b@x.com', 'c@x.com'], [1, 1, 1], 'round-robin'));
  assert.equal([0, 1, 2, 3, 4, 5, 6].map(picker), ['a@x.com', 'b@x.com', 'c@x.com', 'a@x.com', 'b@x.com', 'c@x.com', 'a@x.com']);
  assert.equal(tally(picker, 300), { 'a@x.com': 100, 'b@x.com': 100, 'c@x.com': 100 });
});

const proportionCases: Array<{ weights: number[]; cycle: number }> = [
  { weights: [3, 1], cycle: 4 },
  { weights: [5, 3, 2], cycle: 10 },
  { weights: [4, 2], cycle: 3 }, // reduced by the GCD: the same as [2, 1]
  { weights: [1, 0, 1], cycle: 2 }, // weight 0: never picked
  { weights: [97, 1, 2], cycle: 100 },
];
for (const { weights, cycle } of proportionCases) {
  Pick(`weighted ${JSON.stringify(weights)}: exact proportions over every cycle of ${cycle}`, () => {
    const emails = weights.map((_, index) => `account${index}@x.com`);
    const picker = createAccountPicker(accounts(emails, weights, 'weighted'));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    for (const cycles of [1, 7]) {
      const counts = tally(picker, cycle * cycles);
      weights.forEach((weight, index) => assert.is(counts[emails[index]!] ?? 0, (weight * cycle * cycles) / total, `account${index}`));
    }
    // Deterministic: a second picker gives the same sequence.
    const again = createAccountPicker(accounts(emails, weights, 'weighted'));
    for (let i = 0; i < 3 * cycle; i++) assert.is(again(i), picker(i));
  });
}

Pick('weighted is smooth: picks are spread, not in runs', () => {
  assert.equal([...buildWeightedCycle([2, 1])], [0, 1, 0]);
  // nginx's example: weights 5, 1, 1 → a a b a c a a
  assert.equal([...buildWeightedCycle([5, 1, 1])], [0, 0, 1, 0, 2, 0, 0]);
});

Pick('invalid weights', () => {
  assert.throws(() => buildWeightedCycle([0, 0]), /at least one account weight must be > 0/);
  assert.throws(() => buildWeightedCycle([1.5, 1]), /must be an integer >= 0/);
});

Read.run();
Pick.run();
