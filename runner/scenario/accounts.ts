/**
 * Senders from the proxy's own accounts.json (an array of `{email, provider, ...}`, or
 * `{accounts: [...]}` as its admin API returns them), and the deterministic picker that gives
 * each iteration its sender. The picker is a pure function of the iteration number, so a run's
 * per-account split is reproducible and exact over every cycle.
 */
import { RunnerError } from '../errors.ts';
import { readJsonFile } from '../util/json-file.ts';
import type { ResolvedAccounts } from './resolved.ts';

/** An accounts file that cannot be read or does not have the proxy's shape. */
export class AccountsFileError extends RunnerError {
  override name = 'AccountsFileError';
  constructor(message: string, hint?: string) {
    super(message, { code: 'E_ACCOUNTS_FILE', exit: 'invalidOptions', hint });
  }
}

const ACCOUNTS_HINT = 'accounts.json holds an array like [{"email": "sales@company.com", "provider": "gmail", ...}]';

/** Loose check for `local@domain`: no spaces or angle brackets, one '@' with text on each side. */
export function isEmailAddress(value: string): boolean {
  return /^[^\s@<>]+@[^\s@<>]+$/.test(value);
}

/**
 * Reads the sender addresses of an accounts file, in file order, without duplicates.
 * Throws AccountsFileError for a missing file, bad JSON (with line and column), a wrong
 * shape or an entry without a usable email.
 */
export async function readAccountsFile(path: string): Promise<string[]> {
  const read = await readJsonFile(path);
  if (!read.ok) {
    throw read.stage === 'read'
      ? new AccountsFileError(`cannot read accounts file ${path}: ${read.reason}`, 'the path is relative to the scenario file')
      : new AccountsFileError(`${path}${read.location}: not valid JSON: ${read.reason}`, ACCOUNTS_HINT);
  }
  const data = read.data;
  const entries = Array.isArray(data)
    ? data
    : data !== null && typeof data === 'object' && Array.isArray((data as { accounts?: unknown }).accounts)
      ? ((data as { accounts: unknown[] }).accounts)
      : undefined;
  if (entries === undefined) {
    throw new AccountsFileError(`${path}: expected an array of accounts (or {"accounts": [...]})`, ACCOUNTS_HINT);
  }
  if (entries.length === 0) throw new AccountsFileError(`${path}: the accounts list is empty`, ACCOUNTS_HINT);
  const emails: string[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const email = entry !== null && typeof entry === 'object' ? (entry as { email?: unknown }).email : undefined;
    if (typeof email !== 'string' || email === '') {
      throw new AccountsFileError(`${path}: account [${index}] has no "email"`, ACCOUNTS_HINT);
    }
    if (!isEmailAddress(email)) throw new AccountsFileError(`${path}: account [${index}]: '${email}' is not an email address`);
    if (!seen.has(email)) {
      seen.add(email);
      emails.push(email);
    }
  });
  return emails;
}

/** Accounts for a scenario without an accounts file: the one `from` sender. */
export function singleSender(from: string): ResolvedAccounts {
  return { pick: 'round-robin', emails: [from], weights: [1], file: undefined };
}

/** Largest accounts × total-weight product the weighted cycle is precomputed for. */
export const MAX_WEIGHTED_CYCLE_WORK = 50_000_000;

/**
 * Returns the sender of each iteration, by its 0-based number across the scenario.
 * Round robin: account `i mod n`. Weighted: smooth weighted round-robin (nginx's): over every
 * cycle of `sum(weights)` iterations each account is picked exactly `weight` times, spread out
 * rather than in runs; the cycle is precomputed, so a pick is one modulo and two array reads.
 * Weights are non-negative integers; accounts of weight 0 are never picked.
 */
export function createAccountPicker(accounts: ResolvedAccounts): (iterationInTest: number) => string {
  const { emails } = accounts;
  if (emails.length === 0) throw new RangeError('createAccountPicker: no accounts');
  if (accounts.pick === 'round-robin' || emails.length === 1) {
    const count = emails.length;
    return (iterationInTest) => emails[iterationInTest % count]!;
  }
  const cycle = buildWeightedCycle(accounts.weights);
  const length = cycle.length;
  return (iterationInTest) => emails[cycle[iterationInTest % length]!]!;
}

/** One cycle of smooth weighted round-robin, as account indexes; weights reduced by their GCD. */
export function buildWeightedCycle(weights: readonly number[]): Uint32Array {
  for (const weight of weights) {
    if (!Number.isInteger(weight) || weight < 0) throw new RangeError(`account weight ${weight} must be an integer >= 0`);
  }
  const divisor = weights.reduce((acc, weight) => gcd(acc, weight), 0);
  if (divisor === 0) throw new RangeError('at least one account weight must be > 0');
  const reduced = weights.map((weight) => weight / divisor);
  const total = reduced.reduce((sum, weight) => sum + weight, 0);
  if (total * reduced.length > MAX_WEIGHTED_CYCLE_WORK) {
    throw new RangeError(`account weights are too fine-grained (${reduced.length} accounts × total ${total}): use smaller whole numbers`);
  }
  const cycle = new Uint32Array(total);
  const current = new Float64Array(reduced.length);
  for (let step = 0; step < total; step++) {
    let best = -1;
    for (let i = 0; i < reduced.length; i++) {
      if (reduced[i] === 0) continue;
      current[i] += reduced[i]!;
      if (best === -1 || current[i]! > current[best]!) best = i;
    }
    current[best] -= total;
    cycle[step] = best;
  }
  return cycle;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
