/**
 * The resolved parts every scenario shares, whatever its executor: durations in ms, recipients
 * as arrays, every field present. A leaf: each executor module's resolved form extends
 * `ResolvedScenarioBase`, and resolved.ts re-exports these with the union of them all.
 */
import type { Phase } from '../smtp/phases.ts';
import type { AuthMechanism, TlsMode } from './base-config.ts';

export interface ResolvedTarget {
  host: string;
  port: number;
  adminUrl: string;
}

export interface ResolvedSmtp {
  from: string;
  to: string[];
  auth: AuthMechanism;
  password: string;
  // The TLS and token fields are optional so that sessions built by hand (the check command,
  // tests) stay plain-text sessions without naming them; the resolver always sets them.
  /** XOAUTH2 bearer token; absent or '' when not given. */
  token?: string;
  /** @default 'none' */
  tls?: TlsMode;
  /** Verify the server certificate (false with insecureSkipTlsVerify). @default true */
  isTlsVerified?: boolean;
  /** SNI and certificate name; undefined → the target host. */
  tlsServername?: string | undefined;
  /** Extra trusted CA certificates (PEM text read from smtp.tlsCa), or undefined. */
  tlsCa?: string | undefined;
  ehloName: string;
  messageSize: number;
  messagesPerConnection: number;
  /** RSET before every further message on a connection (false: only after a failed one). @default true */
  rsetBetweenMessages?: boolean;
  /** Reply timeout per phase, milliseconds. */
  timeoutsMs: Record<Phase, number>;
}

/** Senders for a scenario: one entry per account, with its weight (1 for round robin). */
export interface ResolvedAccounts {
  pick: 'round-robin' | 'weighted';
  emails: string[];
  weights: number[];
  /** The file they came from, for messages. */
  file: string | undefined;
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
}
