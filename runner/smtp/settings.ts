/**
 * The settings one SMTP session runs with, as the smtp layer's own types: the scenario layer
 * resolves a scenario file into them (scenario/options.ts) and re-exports them, never the other
 * way round, so smtp/ imports nothing from scenario/.
 */
import type { MessageSpec } from './builder.ts';
import type { Phase } from './phases.ts';
import type { ClientFaultChance } from './client-faults.ts';
import type { MessageSizes } from './size-distribution.ts';

/** AUTH mechanisms runner speaks, or 'none'. */
export type AuthMechanism = 'plain' | 'login' | 'xoauth2' | 'none';

/** Every AuthMechanism, for checks and help texts (--auth, runner check). */
export const AUTH_MECHANISMS: readonly AuthMechanism[] = ['plain', 'login', 'xoauth2', 'none'];

/** TLS protocol versions, as Node names them (minVersion/maxVersion; RFC 8446 is TLSv1.3, RFC 5246 TLSv1.2). */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Every TlsVersion, oldest first (--tls-min-version, --tls-max-version). */
export const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** How the SMTP connection is secured. */
export type TlsMode = 'none' | 'starttls' | 'implicit';

/**
 * When the session pipelines (RFC 2920), if the server's EHLO offers PIPELINING: 'auto' each
 * transaction's commands in one write, and the next transaction with a message's end-of-data when
 * the next message is granted already (session.ts writeAhead); 'transaction' each transaction's
 * commands in one write only; 'off' one command at a time.
 */
export type PipeliningMode = 'auto' | 'transaction' | 'off';

/**
 * The protocol spoken: 'smtp' (RFC 5321) or 'lmtp' (RFC 2033: LHLO instead of EHLO, and after the
 * data one reply per accepted recipient instead of one for the message).
 */
export type SmtpProtocol = 'smtp' | 'lmtp';

/** Every SmtpProtocol (--protocol, smtp.protocol). */
export const SMTP_PROTOCOLS: readonly SmtpProtocol[] = ['smtp', 'lmtp'];

/** RFC 3461 §4.1 NOTIFY keywords: NEVER alone, or any of the others. */
export type DsnNotify = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

/** Delivery status notification parameters (RFC 3461) a session declares; each optional. */
export interface DsnSettings {
  /** RCPT NOTIFY= (RFC 3461 §4.1). */
  notify?: DsnNotify[];
  /** MAIL RET= (RFC 3461 §4.3): return the full message or only its headers. */
  ret?: 'FULL' | 'HDRS';
  /** MAIL ENVID= (RFC 3461 §4.4): `<run id>.<message sequence>`, unique per message. */
  envid?: boolean;
  /** RCPT ORCPT=rfc822;<address> (RFC 3461 §4.2). */
  orcpt?: boolean;
}

/** The resolved SMTP settings of a session: every field the scenario layer fills in. */
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
  /** Client certificate chain for mutual TLS (PEM text read from smtp.tlsCert), or undefined. */
  tlsCert?: string | undefined;
  /** Its private key (PEM text read from smtp.tlsKey), or undefined. */
  tlsKey?: string | undefined;
  /** Oldest TLS version offered; undefined: Node's default (TLSv1.2). */
  tlsMinVersion?: TlsVersion | undefined;
  /** Newest TLS version offered; undefined: Node's default (TLSv1.3). */
  tlsMaxVersion?: TlsVersion | undefined;
  /** OpenSSL cipher list (TLS 1.2 suites and TLS 1.3 ones by their names); undefined: Node's default. */
  tlsCiphers?: string | undefined;
  /**
   * Resume TLS sessions (RFC 5077 tickets, RFC 8446 §2.2 PSK): each connection of a session offers
   * the previous connection's TLS session; resumed handshakes are timed as phase tls_resumed. @default false
   */
  tlsResumption?: boolean;
  ehloName: string;
  /** Body bytes of a generated message: the size, or a distribution's mean (rounded) with messageSizes. */
  messageSize: number;
  /** A size distribution (more than one bucket): each generated message draws its bucket; undefined: messageSize for all. */
  messageSizes?: MessageSizes | undefined;
  messagesPerConnection: number;
  /** RSET before every further message on a connection (false: only after a failed one). @default true */
  rsetBetweenMessages?: boolean;
  /** 'lmtp': LHLO and one reply per recipient after the data (RFC 2033). @default 'smtp' */
  protocol?: SmtpProtocol;
  /** Pipeline the transaction's commands when offered (RFC 2920). @default 'auto' */
  pipelining?: PipeliningMode;
  /** Send the message with BDAT (RFC 3030) instead of DATA when the server offers CHUNKING. @default false */
  chunking?: boolean;
  /** Largest BDAT chunk, bytes; 0: the whole message in one `BDAT <size> LAST`. @default 0 */
  chunkSizeBytes?: number;
  /** DSN parameters (RFC 3461) to declare; undefined: none. A server without DSN fails the message before MAIL. */
  dsn?: DsnSettings | undefined;
  /** Reply timeout per phase, milliseconds. */
  timeoutsMs: Record<Phase, number>;
  /**
   * The default flow's message from --header, --body-file, --attach: a buildMessage() spec (plain
   * data, so it crosses to workers), built once per process and rendered per message; undefined: generated.
   */
  composed?: MessageSpec | undefined;
  /** Client-side faults drawn per message of the default flow (--client-fault); undefined: none. */
  clientFaults?: readonly ClientFaultChance[] | undefined;
}
