/**
 * Per-account limits inside one scenario (issue 16): `accounts: { maxInFlight: 50, rate: '100/m' }`,
 * as a proxy or Gmail limit an account. A message waits for its account's slot (at most
 * maxInFlight in flight, starts spaced by the rate's interval) before its first command; the
 * wait is in its response time (measured from the intended start, as the arrival queue is) and
 * in no SMTP phase. Waiters are served first come, first served.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRateIntervalMs } from '../util/rate.ts';

/** One account's slots: messages in flight, messages waiting for one, the earliest next start (performance.now() ms). */
interface AccountSlots {
  inFlight: number;
  waiters: Array<() => void>;
  nextStartMs: number;
}

/** Per-account in-flight and rate limits of one scenario; acquire before a message, release after it. */
export class AccountLimits {
  private readonly maxInFlight: number;
  private readonly intervalMs: number;
  private readonly accounts = new Map<string, AccountSlots>();

  /** maxInFlight: Infinity for none; intervalMs: 0 for no rate. */
  constructor(maxInFlight: number, intervalMs: number) {
    this.maxInFlight = maxInFlight;
    this.intervalMs = intervalMs;
  }

  private slotsOf(account: string): AccountSlots {
    let slots = this.accounts.get(account);
    if (slots === undefined) {
      slots = { inFlight: 0, waiters: [], nextStartMs: 0 };
      this.accounts.set(account, slots);
    }
    return slots;
  }

  /** Waits for `account`'s slot: in-flight room first, then the rate's spacing. Resolves at once when both allow. */
  async acquire(account: string): Promise<void> {
    const slots = this.slotsOf(account);
    if (slots.inFlight < this.maxInFlight) slots.inFlight++;
    // release() hands its slot straight to the first waiter (inFlight stays counted)
    else await new Promise<void>((resolve) => slots.waiters.push(resolve));
    if (this.intervalMs > 0) {
      const nowMs = performance.now();
      const startMs = Math.max(nowMs, slots.nextStartMs);
      slots.nextStartMs = startMs + this.intervalMs;
      if (startMs > nowMs) await sleep(startMs - nowMs);
    }
  }

  /** The message of `account` is over (accepted, failed or deferred): its slot goes to the next waiter. */
  release(account: string): void {
    const slots = this.slotsOf(account);
    const next = slots.waiters.shift();
    if (next !== undefined) next();
    else slots.inFlight--;
  }

  /** Messages of `account` in flight now (tests). */
  inFlightOf(account: string): number {
    return this.accounts.get(account)?.inFlight ?? 0;
  }
}

/** Milliseconds between two starts of a rate as written: '100/m' → 600 ms; '10/s', '3600/h', '5/2s' (util/rate.ts). Throws a RangeError saying what is accepted. */
export function parseAccountRate(rate: string): number {
  return parseRateIntervalMs(rate);
}
