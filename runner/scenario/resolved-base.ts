/**
 * The resolved parts every scenario shares, whatever its executor: durations in ms, recipients
 * as arrays, every field present. A leaf: each executor module's resolved form extends
 * `ResolvedScenarioBase`, and resolved.ts re-exports these with the union of them all.
 */
import type { ResolvedSmtp } from '../smtp/settings.ts';
import type { RetryPolicy } from '../engine/retry-policy.ts';
import type { SegmentStripe } from '../executors/segment.ts';

export interface ResolvedTarget {
  host: string;
  port: number;
  adminUrl: string;
  /** `localIps` (or --local-ips) as written, each item a list, range or CIDR block; undefined: none. */
  localIps?: string[];
  /** Those expanded and checked (smtp/local-addresses.ts): the source address of each new connection, round robin. */
  localAddresses?: string[];
}

/** The SMTP settings a session uses; defined by the smtp layer, which must not import scenario/. */
export type { ResolvedSmtp } from '../smtp/settings.ts';

/** Senders for a scenario: one entry per account, with its weight (1 for round robin). */
export interface ResolvedAccounts {
  pick: 'round-robin' | 'weighted';
  emails: string[];
  weights: number[];
  /** The file they came from, for messages. */
  file: string | undefined;
  /** Most messages of one account in flight; undefined: no limit. */
  maxInFlight?: number;
  /** Milliseconds between two message starts of one account (accounts.rate); undefined: no limit. */
  rateIntervalMs?: number;
}

export interface ResolvedStage {
  durationMs: number;
  target: number;
}

/** What every resolved scenario has, beside its executor's own options. */
export interface ResolvedScenarioBase {
  name: string;
  startTimeMs: number;
  gracefulStopMs: number;
  tags: Record<string, string>;
  target: ResolvedTarget;
  smtp: ResolvedSmtp;
  accounts: ResolvedAccounts;
  /** Retries of deferred messages (engine/retry-policy.ts); absent: every reply is final. */
  retry?: RetryPolicy;
  /**
   * The execution segment this process runs (--execution-segment, --workers): its stripe of
   * the whole plan (executors/segment.ts). Absent for the whole plan.
   */
  segment?: SegmentStripe;
}
