/**
 * The option types every scenario shares (target, SMTP, accounts, the base of every executor's
 * config), as the user writes them. A leaf: the executor modules build their configs on these,
 * and types.ts re-exports them with the rest of the public API.
 */
import type { AuthMechanism, DsnSettings, PipeliningMode, SmtpProtocol, TlsMode, TlsVersion } from '../smtp/settings.ts';
import type { Phase } from '../smtp/phases.ts';
import type { MessageSizeSpec } from '../smtp/size-distribution.ts';

/** A duration: `'250ms'`, `'30s'`, `'5m'`, `'1h'`, `'1h30m'`, or a number of milliseconds. */
export type Duration = string | number;

/** Where to send load. */
export interface TargetOptions {
  /** SMTP server host name or IP. @default '127.0.0.1' */
  host?: string;
  /** SMTP server port. @default 2525 */
  port?: number;
  /** Base URL of the proxy's admin HTTP API, used by preflight checks. @default 'http://127.0.0.1:9090' */
  adminUrl?: string;
  /**
   * Source addresses, k6's `--local-ips` syntax: addresses, ranges and CIDR blocks, comma-separated
   * or as a list, e.g. `'127.0.0.2-127.0.0.9,::1'` or `['10.0.0.0/29', '10.0.1.5']`. Each new
   * connection binds to the next one, round robin across the scenario's VUs; results are also
   * given per source address (`source_ips`). Every address must be on this machine. @default none
   */
  localIps?: string | string[];
}

// The smtp layer owns these (smtp/ imports nothing from scenario/); named here for scenario files.
export type { AuthMechanism, DsnSettings, PipeliningMode, SmtpProtocol, TlsMode, TlsVersion } from '../smtp/settings.ts';

/** How each message is sent. */
export interface SmtpOptions {
  /** Envelope sender and AUTH PLAIN user; must be an account the proxy knows. @default 'test@example.com' */
  from?: string;
  /** One or more recipients (one RCPT TO each). @default 'recipient@outlook.com' */
  to?: string | string[];
  /**
   * AUTH mechanism (RFC 4954): `'plain'` (RFC 4616, with an initial response), `'login'` (the
   * two-challenge LOGIN), `'xoauth2'` (a bearer token, `token`), or `'none'` to skip AUTH. @default 'plain'
   */
  auth?: AuthMechanism;
  /** AUTH PLAIN/LOGIN password; the XOAUTH2 proxy ignores it. Redacted in every output. @default 'placeholder' */
  password?: string;
  /** OAuth2 bearer token for `auth: 'xoauth2'`. Redacted in every output. @default '' */
  token?: string;
  /**
   * `'starttls'`: upgrade after EHLO (RFC 3207); `'implicit'`: TLS from the first byte (port 465
   * style, RFC 8314); `'none'`: plain text. @default 'none'
   */
  tls?: TlsMode;
  /** Accept any server certificate (self-signed, wrong name, expired). @default false */
  insecureSkipTlsVerify?: boolean;
  /** Name checked against the certificate and sent as SNI. @default the target host (no SNI for an IP) */
  tlsServername?: string;
  /** PEM file of extra CA certificates to trust (a self-signed setup), relative to the working directory. */
  tlsCa?: string;
  /** PEM file of a client certificate (chain) for mutual TLS (RFC 8446 §4.4.2); needs `tlsKey`. */
  tlsCert?: string;
  /** PEM file of the client certificate's private key; needs `tlsCert`. */
  tlsKey?: string;
  /** Oldest TLS version to offer: 'TLSv1', 'TLSv1.1', 'TLSv1.2' (RFC 5246), 'TLSv1.3' (RFC 8446). @default Node's, 'TLSv1.2' */
  tlsMinVersion?: TlsVersion;
  /** Newest TLS version to offer. @default Node's, 'TLSv1.3' */
  tlsMaxVersion?: TlsVersion;
  /** OpenSSL cipher list, e.g. 'ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256'. @default Node's */
  tlsCiphers?: string;
  /**
   * Resume TLS sessions (RFC 5077 session tickets, RFC 8446 §2.2): each connection of a VU offers
   * the session its previous connection got. Resumed handshakes are timed apart as the phase
   * `tls_resumed` (`smtp_tls_resumed_duration`; its count is the number resumed), full ones as `tls`. @default false
   */
  tlsResumption?: boolean;
  /**
   * `'lmtp'`: speak LMTP (RFC 2033) to a delivery agent (Dovecot, Cyrus): LHLO instead of EHLO, and
   * after the data one reply per accepted recipient; the message counts as accepted when every
   * recipient accepted it, and each recipient's reply is counted (lmtp_recipients_accepted,
   * lmtp_recipients_refused). @default 'smtp'
   */
  protocol?: SmtpProtocol;
  /** Name sent with EHLO. @default 'runner.localhost' */
  ehloName?: string;
  /**
   * Size of the generated message body (headers come on top): bytes (`4096`) or with a k/m suffix
   * (`'20k'`), or a distribution each message draws from: `'1k-100k'` (uniform),
   * `{ lognormal: { median: '20k', sigma: 1 } }`, `{ sizes: [[1024, 0.7], ['2m', 0.3]] }` (weights).
   * A distribution is cut into at most 64 sizes whose bodies are built once. @default 1024
   */
  messageSize?: MessageSizeSpec;
  /** Seed of the message size draws (the same seed, the same sizes in the same order); @default random */
  messageSizeSeed?: number;
  /** Messages sent on one connection before QUIT (RSET between them). @default 1 */
  messagesPerConnection?: number;
  /**
   * Send RSET before each further message on a reused connection. false: only after a
   * transaction that did not end with an accepted message (RFC 5321 needs no RSET after a 250 to
   * end-of-data; an MTA such as Postfix's smtp client, or smtp-source, sends none). @default true
   */
  rsetBetweenMessages?: boolean;
  /**
   * `'auto'`: when the server's EHLO offers PIPELINING (RFC 2920), send RSET, MAIL, every RCPT and
   * DATA in one write, and QUIT with the last message of a connection, as an MTA does; on a reused
   * connection the next message's RSET, MAIL, RCPT and DATA go with the previous message's data
   * when the executor starts it at once (a closed-model loop, no think time, one sender);
   * `'transaction'`: the same without that; `'off'`: one command at a time. @default 'auto'
   */
  pipelining?: PipeliningMode;
  /**
   * Send the message with BDAT (RFC 3030) instead of DATA when the server offers CHUNKING (else
   * DATA, as an MTA falls back). @default false
   */
  chunking?: boolean;
  /** Largest BDAT chunk in bytes; 0: the whole message in one `BDAT <size> LAST`. @default 0 */
  chunkSize?: number;
  /**
   * Delivery status notification parameters (RFC 3461) on MAIL (`ret`, `envid`) and each RCPT
   * (`notify`, `orcpt`). A server that does not offer DSN fails each message at `mail` before
   * anything is sent. @default none
   */
  dsn?: DsnSettings;
  /** Per-phase reply timeouts; a phase not listed uses `timeout`. */
  timeouts?: Partial<Record<Phase, Duration>>;
  /** Default timeout for every phase. @default '30s' */
  timeout?: Duration;
}

/** Senders taken from a proxy-style accounts.json (an array of `{email, provider, ...}`). */
export interface AccountsOptions {
  /** Path to accounts.json, relative to the scenario file. */
  file: string;
  /** How each iteration picks its sender. @default 'round-robin' */
  pick?: 'round-robin' | 'weighted';
  /** With `pick: 'weighted'`: relative weight per email; unlisted accounts weigh 1. */
  weights?: Record<string, number>;
  /**
   * Most messages of one account in flight at once (as the proxy's --max-in-flight-per-account and
   * Gmail limit them); a message waits for its account's slot, and the wait is in its response
   * time. Applies to generated messages and their retries. @default no limit
   */
  maxInFlight?: number;
  /** Most message starts per account: `'100/m'`, `'10/s'`, `'3600/h'` (starts spaced evenly); the wait is in the response time. @default no limit */
  rate?: string;
}

/**
 * Retries like an MTA (issue 16): a message whose reply is in `on` is deferred (counted in
 * smtp_deferrals, not failed) and sent again after a backoff, until `attempts` run out. The run's
 * end waits for pending retries within gracefulStop; the rest are reported as pending. Applies
 * to the generated message flow (scenarios without `iteration(ctx)`).
 */
export interface RetryOptions {
  /** Replies that defer: `'4xx'` (every transient reply) or codes such as `'451'`, `'421'`, `'454'`. @default ['4xx'] */
  on?: (string | number)[];
  /** Attempts a message gets in all, the first included (1: no retry). @default 5 */
  attempts?: number;
  backoff?: {
    /** Wait before the first retry. @default '1s' */
    initial?: Duration;
    /** Longest wait between two attempts. @default '5m' */
    max?: Duration;
    /** Growth of the wait from one retry to the next (>= 1). @default 2 */
    factor?: number;
    /** Draw each wait uniformly from [wait/2, wait]. @default true */
    jitter?: boolean;
  };
}

/** One `{duration, target}` step of a ramp: move linearly to `target` over `duration`. */
export interface Stage {
  duration: Duration;
  /** VUs (ramping-vus) or iterations per `timeUnit` (ramping-arrival-rate) at the end of the stage. */
  target: number;
}

/** Options every executor accepts. */
export interface BaseScenarioConfig {
  /** Delay from the start of the test before this scenario begins. @default '0s' */
  startTime?: Duration;
  /** How long iterations still running at the scenario's end may take to finish. @default '30s' */
  gracefulStop?: Duration;
  /** Tags added to every metric sample of this scenario. */
  tags?: Record<string, string>;
  /** Per-scenario overrides of the top-level target. */
  target?: TargetOptions;
  /** Per-scenario overrides of the top-level SMTP settings. */
  smtp?: SmtpOptions;
  /** Per-scenario sender accounts. */
  accounts?: AccountsOptions;
  /** Retries of deferred messages (over the top-level `retry`). @default none: every reply is final */
  retry?: RetryOptions;
}
