/**
 * Types shared by the SMTP layer, the engine and scenario code: a parsed reply, a failure,
 * and the `ctx` a custom `iteration(ctx)` receives.
 */
import type { MessageTemplate } from './builder.ts';
import type { Phase } from './phases.ts';
import type { CheckSets, ThinkTime } from '../script/types.ts';
import type { ClientFault } from './client-faults.ts';

/** One complete SMTP reply (RFC 5321 §4.2), possibly multi-line. */
export interface Reply {
  /** Three-digit reply code, e.g. 250. */
  code: number;
  /** RFC 3463 enhanced status code from the first line, e.g. '2.1.0', or undefined. */
  enhanced: string | undefined;
  /** Text of each line, without the code, separator and enhanced code. */
  lines: string[];
}

/** Why a message failed: the phase, and either the server's reply or the socket's error. */
export interface Failure {
  phase: Phase;
  /** Reply code when the server answered with an unexpected code. */
  code?: number;
  /** Enhanced status code of that reply. */
  enhanced?: string;
  /** The reply's text, or the error's message. */
  text: string;
  /**
   * Socket-level error name when there was no reply: 'ECONNREFUSED', 'ECONNRESET', 'EPIPE',
   * 'EADDRNOTAVAIL', 'EMFILE', 'TIMEOUT' (no reply within the phase timeout), 'CLOSED' (the
   * server closed the connection), 'PROTOCOL' (the server sent something that is not a reply).
   */
  error?: string;
}

/** Thrown by `ctx.smtp` steps in a custom iteration when a step fails. */
export class SmtpStepError extends Error {
  override name = 'SmtpStepError';
  readonly failure: Failure;
  constructor(failure: Failure) {
    super(
      failure.code !== undefined
        ? `${failure.phase}: ${failure.code}${failure.enhanced ? ' ' + failure.enhanced : ''} ${failure.text}`
        : `${failure.phase}: ${failure.error ?? 'error'} ${failure.text}`,
    );
    this.failure = failure;
  }
}

/** Options for one `send()` (defaults come from the scenario's `smtp` options). */
export interface SendOptions {
  from?: string;
  to?: string | string[];
  /**
   * A complete RFC 5322 message to send instead of the generated one, or a template from
   * buildMessage() (rendered per message, with a fresh Message-ID and Date).
   */
  message?: string | MessageTemplate;
  /** Fields for a template's `{{name}}` variables (e.g. a CSV row), besides vu, iteration and seq. */
  vars?: Readonly<Record<string, unknown>>;
  /**
   * A client-side fault on this message, e.g. `{ kind: 'abort-data', afterBytes: 512 }` (kinds:
   * client-faults.ts): counted under client_faults, never as a failure, and neither is what the
   * server does about it. The message goes one command at a time with DATA.
   */
  fault?: ClientFault;
}

/** Options of a `mail()` step. */
export interface MailStepOptions {
  /**
   * Declare SMTPUTF8 (RFC 6531 §3.4) for recipients that are not ASCII; a sender that is not
   * ASCII declares it anyway. @default false
   */
  smtpUtf8?: boolean;
  /**
   * The message data() will send has 8-bit octets (e.g. a Buffer with a Latin-1 or raw UTF-8
   * body): declare BODY=8BITMIME (RFC 6152 §3), which is done only to a server that offers
   * 8BITMIME (as for every message runner sends). @default false
   */
  eightBit?: boolean;
}

/**
 * The steps of an SMTP session, for custom iterations. Each step times its phase, records it,
 * and throws SmtpStepError on an unexpected reply or socket error. The connection is the
 * VU's: it stays open between iterations until `quit()` or an error.
 */
export interface SmtpSteps {
  /** Opens the TCP connection and waits for the 220 greeting (timed as connect + greeting). */
  connect(): Promise<Reply>;
  ehlo(name?: string): Promise<Reply>;
  /** AUTH PLAIN with initial response; user defaults to the iteration's sender. */
  auth(user?: string, password?: string): Promise<Reply>;
  /** MAIL FROM; declares no SIZE= (the message is not known yet), BODY=8BITMIME only with `{ eightBit: true }`. */
  mail(from?: string, options?: MailStepOptions): Promise<Reply>;
  /** One RCPT TO per recipient; resolves with the last reply. */
  rcpt(to?: string | string[]): Promise<Reply>;
  /**
   * DATA, then the message (generated when omitted), dot-stuffed, then end-of-data. Resolves
   * with the 250 that accepts it; that acceptance is what counts as a successful message.
   * A string is sent as UTF-8; a Buffer or Uint8Array byte for byte (8-bit octets as they are:
   * declare them with `mail(from, { eightBit: true })`), line endings made CRLF either way.
   */
  data(message?: string | Uint8Array): Promise<Reply>;
  rset(): Promise<Reply>;
  quit(): Promise<Reply>;
  /**
   * A raw command line (no CRLF), e.g. `command('NOOP')` or `command('VRFY postmaster')`: written
   * as is; resolves with whatever the server answers (check `reply.code`), rejects only when there
   * is no reply (socket error, timeout, not connected) or the line is refused (a line break;
   * DATA, BDAT and STARTTLS, which change the framing: use data() and smtp.tls). Its reply is timed
   * under the phase of its verb when it has one (MAIL → mail, RSET → rset, …), else under a trend
   * named after the verb (`smtp_noop_duration`, milliseconds). It starts no message.
   */
  command(line: string): Promise<Reply>;
  /**
   * The whole default flow for one message, reusing the open connection when there is one. Under
   * the scenario's `retry`, a deferred message (a reply it retries) goes to the retry queue and
   * send() resolves, as a submission to an MTA's queue does; it rejects only on a final failure.
   */
  send(options?: SendOptions): Promise<void>;
  /** Whether the VU has an open connection. */
  readonly isConnected: boolean;
}

/** A custom metric handle. */
export interface MetricHandle {
  readonly name: string;
}

/** What `iteration(ctx)` receives. */
export interface IterationContext<SetupData = unknown> {
  /** VU number, 1-based, unique in the test. */
  vu: number;
  /** Iteration number of this VU in this scenario, 0-based. */
  iteration: number;
  scenario: {
    name: string;
    /** Iteration number within the scenario across all VUs, 0-based. */
    iterationInTest: number;
  };
  /**
   * Sender chosen for this iteration (from `smtp.from` or the accounts file). Results per account
   * follow the user the session authenticates as (send({ from }), auth(user)), not this pick.
   */
  from: string;
  /** Environment: process.env plus `--env KEY=VALUE` overrides. */
  env: Record<string, string | undefined>;
  /** What setup() returned. */
  data: SetupData;
  smtp: SmtpSteps;
  /**
   * State of this VU, kept across its iterations (starts as {}). Module globals of a scenario
   * file are shared by every VU of the process (unlike k6's per-VU runtimes): keep per-VU state here.
   */
  vuState: Record<string, unknown>;
  /** The current group path ('' outside any group, '::outer::inner' inside). */
  readonly groupPath: string;
  /**
   * The tags runner gives this iteration's samples: `{ scenario }`, plus `group` inside a group.
   * Custom metrics added inside a group carry it by themselves (`trend.add(ms)`); passing it
   * (`trend.add(ms, ctx.tags)`) also adds `scenario` outside groups. One object per scenario ×
   * group, so passing it costs no allocation.
   */
  readonly tags: Readonly<Record<string, string>>;
  /** check() with this iteration's scenario and group tags added (and any `tags` given). */
  check<T>(value: T, sets: CheckSets<T>, tags?: Record<string, string>): boolean;
  /**
   * Runs `fn` as group `name` (k6's group): every SMTP sample, custom-metric sample and check
   * taken inside carries the tag `group: '::name'` (nested: '::outer::name') and the scenario's;
   * its duration goes to group_duration. Groups of
   * one iteration run one after another (nesting is fine; a group started beside a running one, with
   * Promise.all or without await, is refused with a TypeError).
   */
  group<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** Think time (see sleep()); also moves the response-time base past the sleep. Resolves with the ms slept. */
  sleep(spec: ThinkTime): Promise<number>;
}
