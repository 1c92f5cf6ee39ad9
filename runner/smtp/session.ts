/**
 * The SMTP client session of one VU, on node:net, written for load.
 *
 * Walk (RFC 5321 §3, §4.1): TCP connect → 220 greeting → EHLO → AUTH PLAIN with initial response
 * (RFC 4954, RFC 4616) → MAIL FROM → RCPT TO per recipient → DATA → dot-stuffed message and
 * end-of-data → QUIT. No PIPELINING (RFC 2920): one command at a time, so each phase is timed alone.
 *
 * Hot path design:
 * - sendMessage() creates one Promise per message; every later step is driven from the reply
 *   callback by a state field (`awaiting`, the phase whose reply is expected), not by awaits.
 * - Constant commands are preallocated Buffers; MAIL/AUTH lines are cached per sender; RCPT lines
 *   per recipient list. The generated message is a short head string plus one shared body Buffer
 *   (ending with end-of-data) written in one corked writev.
 * - No timer per command: a command stores an absolute deadline that one shared ticker checks
 *   (deadlines.ts; timeouts fire up to DEADLINE_RESOLUTION_MS late).
 * - Timings are performance.now() differences in integer microseconds; one clock read per reply
 *   serves both as the end of one phase and the start of the next.
 * - Socket listeners are static functions (no per-connection closures); a stale socket's events
 *   are ignored by identity.
 * - A host name is resolved once and the answer reused for DNS_CACHE_TTL_MS (cachedLookup): a
 *   lookup per connection (getaddrinfo on libuv's thread pool) measured ~100 µs of CPU per
 *   connection against `localhost`. An IP address is used as is.
 * - Sockets are reused: once a closed socket has emitted 'close', the session's next connection
 *   calls connect() on it again (Node documents reconnecting after 'close'). Constructing a
 *   net.Socket with any options measured 12–15 µs on Node 20 here (without options 1–2 µs),
 *   and a reused one also keeps its listeners.
 * - Reads bypass the socket's Readable stream (net.Socket `onread`): the kernel's bytes land in
 *   one buffer shared by every session and go straight to the reply parser, so a read allocates
 *   no Buffer and emits no 'data' event. Sharing is safe because reads are delivered one at a
 *   time on this thread and the parser keeps nothing of the buffer after push() returns.
 *
 * Failures never throw into the engine: each becomes a Failure recorded exactly once per message.
 */
// Node's global `performance` is a getter on globalThis: every read of it from hot code is an IC
// miss and a call (~20 ns per performance.now(), measured); the module's binding is a plain load.
import { performance } from 'node:perf_hooks';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, Socket, type ConnectOpts, type SocketConstructorOpts } from 'node:net';
import { SmtpStepError, type Failure, type Reply, type SendOptions, type SmtpSteps } from './api.ts';
import { PHASES, PHASE_INDEX } from './phases.ts';
import type { ResolvedSmtp } from './settings.ts';
import { ReplyParser } from './reply-parser.ts';
import { bodyWithEndOfData, buildHead, DEFAULT_RUN_ID, encodeMessageData, END_OF_DATA, nextTraceSequence, traceHeaderLine } from './message.ts';
import { unwatchDeadline, watchDeadline, type DeadlineTarget } from './deadlines.ts';
import type { TLSSocket } from 'node:tls';
import { startTlsHandshake, startTlsNotOfferedFailure, tlsFailure, type TlsListener } from './tls.ts';
import { authContinuationLine, authInitialLine, describeXoauth2Challenge, type SaslMechanism } from './auth.ts';
import { REDACTED } from '../redact.ts';

/** What a session reports; implemented by the engine's metrics (the session never touches metrics). */
export interface SessionRecorder {
  /** A TCP connection was established (pairs with exactly one connectionClosed). */
  connectionOpened(): void;
  /** A phase completed with its expected reply; index in PHASES order, duration in µs. */
  phase(phaseIndex: number, durationUs: number): void;
  /**
   * A message got 250 after end-of-data; txnUs: its first command's start to that 250, µs;
   * messageBytes: head + body; traceSequence: its X-Runner-Trace sequence (message.ts).
   */
  accepted(txnUs: number, messageBytes: number, traceSequence: number): void;
  /**
   * A message failed; called exactly once per failed message; txnUs: its first command's start to
   * the failure, µs. `failure.error === INTERRUPTED_ERROR` means close() cut it off: count it as
   * interrupted, not failed. traceSequence: the X-Runner-Trace sequence when the message's data
   * was written (it may still arrive upstream), else 0.
   */
  failed(failure: Failure, txnUs: number, traceSequence: number): void;
  /** Something failed after the message was already accepted (e.g. QUIT): not a failed message. */
  afterAcceptError(failure: Failure): void;
  /** An established connection was closed; its totals in bytes. */
  connectionClosed(bytesSent: number, bytesReceived: number): void;
}

/**
 * `--debug` protocol transcript hook: 'open' when a connection is established (text: host:port),
 * 'C' per command line we write, 'S' per reply line we read. Texts carry no CRLF; AUTH
 * continuation lines arrive as REDACTED and message data as a byte count; the listener still
 * runs redact() (AUTH initial responses, secrets echoed by a server).
 */
export type SessionTranscript = (direction: 'open' | 'C' | 'S', text: string) => void;

/** Failure.error of a message cut off by close() (a hard stop), not by the server. */
export const INTERRUPTED_ERROR = 'INTERRUPTED';

/** Where to connect. */
export interface SessionTarget {
  host: string;
  port: number;
}

const CONNECT = PHASE_INDEX.connect;
const TLS = PHASE_INDEX.tls;
const GREETING = PHASE_INDEX.greeting;
const EHLO = PHASE_INDEX.ehlo;
const AUTH = PHASE_INDEX.auth;
const MAIL = PHASE_INDEX.mail;
const RCPT = PHASE_INDEX.rcpt;
const DATA = PHASE_INDEX.data;
const MESSAGE = PHASE_INDEX.message;
const RSET = PHASE_INDEX.rset;
const QUIT = PHASE_INDEX.quit;
/** `awaiting` when no reply is expected. */
const IDLE = -1;

// Reply codes (RFC 5321 §4.2.2, RFC 4954 §6)
const CODE_READY = 220;
const CODE_CLOSING = 221;
const CODE_OK = 250;
const CODE_WILL_FORWARD = 251;
const CODE_START_INPUT = 354;
/** RFC 4954 §4: a server challenge during AUTH. */
const CODE_AUTH_CONTINUE = 334;
const CODE_SERVICE_UNAVAILABLE = 421;

/** Who is waiting on the session: nobody, sendMessage()/send() (the flow), or one ctx.smtp step. */
const DRIVER_NONE = 0;
const DRIVER_FLOW = 1;
const DRIVER_STEP = 2;

const RSET_LINE = Buffer.from('RSET\r\n');
/** Room for longer heads (sequence numbers grow) before the session's message buffer is replaced. */
const MESSAGE_BUFFER_SLACK_BYTES = 256;
const DATA_LINE = Buffer.from('DATA\r\n');
const QUIT_LINE = Buffer.from('QUIT\r\n');
const STARTTLS_LINE = Buffer.from('STARTTLS\r\n');

/** Remedies appended to errors a load generator causes itself (issue 6). */
const ERROR_REMEDIES: Readonly<Record<string, string>> = {
  EADDRNOTAVAIL:
    'no free local port (ephemeral ports exhausted, often by TIME_WAIT): reuse connections (messagesPerConnection), lower the rate, or widen net.ipv4.ip_local_port_range',
  EMFILE: 'too many open files: raise the limit (ulimit -n) or lower the number of VUs',
  ENFILE: 'the system file table is full: lower the number of VUs',
};

/** How long a resolved host name is reused, ms (as k6's default DNS TTL, 5 minutes). */
export const DNS_CACHE_TTL_MS = 5 * 60 * 1000;

/** Answers of getaddrinfo by family and host name, with when they expire (performance.now() ms). */
const dnsCache = new Map<string, { addresses: LookupAddress[]; expiresMs: number }>();

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.Socket#connect that asks dns.lookup once per host and family and then
 * answers from the cache (failures are not cached). It answers in both shapes Node asks for:
 * all addresses (`all: true`, used by Node's family autoselection) or the first one.
 */
function cachedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  const key = `${options.family ?? 0}/${hostname}`;
  const cached = dnsCache.get(key);
  if (cached !== undefined && cached.expiresMs > performance.now()) {
    // Asynchronous like a real lookup, so Node's connect sees the order of events it expects
    process.nextTick(answerLookup, cached.addresses, options, callback);
    return;
  }
  dnsLookup(hostname, { family: options.family, hints: options.hints, all: true }, (error, addresses) => {
    if (error) {
      callback(error, '');
      return;
    }
    dnsCache.set(key, { addresses, expiresMs: performance.now() + DNS_CACHE_TTL_MS });
    answerLookup(addresses, options, callback);
  });
}

function answerLookup(addresses: LookupAddress[], options: LookupOptions, callback: LookupCallback): void {
  if (options.all) callback(null, addresses);
  else callback(null, addresses[0]!.address, addresses[0]!.family);
}

/**
 * Where every session's socket reads land (see the module doc), bytes. Replies are small; a
 * larger burst is simply delivered in several reads.
 */
const READ_BUFFER_BYTES = 64 * 1024;
const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

/** Closed sockets a session keeps for its next connections (one is enough unless closes lag). */
const MAX_SPARE_SOCKETS = 4;

/** The socket of a session, carrying its owner so listeners can be shared static functions. */
class SessionSocket extends Socket {
  readonly session: SmtpSession;
  /** A TLSSocket took over its handle (TLS): it is never connected again. */
  isTlsWrapped = false;
  constructor(session: SmtpSession, onRead: (length: number) => boolean) {
    // Node 20 reads `onread` in the Socket constructor (where current Node docs list it), while
    // @types/node 20 lists it only among the connect options: hence the widened type.
    const options: SocketConstructorOpts & Pick<ConnectOpts, 'onread'> = {
      onread: { buffer: readBuffer, callback: onRead },
    };
    super(options);
    this.session = session;
  }
}

/** Integer microseconds between two performance.now() readings. */
function elapsedUs(fromMs: number, toMs: number): number {
  return Math.round((toMs - fromMs) * 1000);
}

function hasLineBreak(text: string): boolean {
  return text.includes('\n') || text.includes('\r');
}


/**
 * One VU's SMTP session. `sendMessage()` runs the default flow and never rejects; the SmtpSteps
 * methods (for custom iterations) reject with SmtpStepError. One operation at a time.
 *
 * Decisions:
 * - AUTH succeeds on any 2xx: RFC 4954 says 235, but Postfix's smtp-sink (the benchmark target)
 *   answers 250, and a 2xx is never a refusal.
 * - A reply failure at mail/rcpt/data/message keeps the connection (the next message sends RSET
 *   first) unless it is 421; any other failure (socket error, timeout, protocol error, failure
 *   before MAIL, 421) destroys the socket and the next message reconnects.
 * - One failing recipient fails the message at 'rcpt'; the remaining RCPTs are not sent.
 * - The server closing (or resetting) the connection while QUIT's reply is awaited is a clean end.
 * - A connection authenticated as another sender than the next message's is replaced (the XOAUTH2
 *   proxy relays as the authenticated account).
 * - close() interrupts: an in-flight sendMessage() resolves with `{error: 'INTERRUPTED'}` and a
 *   step rejects with it. A message in progress is reported once through recorder.failed with
 *   that error: the recorder must count it as interrupted, not failed (ExecutorContext.drain).
 *   Nothing is reported when only QUIT was pending. The session can be used again after.
 */
export class SmtpSession implements SmtpSteps {
  /** Sender of the next message (MAIL FROM, From header, AUTH user); the engine sets it per iteration. */
  from: string;
  /** Sequence number of the next generated message (Subject, Message-ID); the engine sets it. */
  sequence = 0;
  /** Run id in generated Message-IDs. */
  runId: string = DEFAULT_RUN_ID;
  /** The EHLO reply of the current connection, undefined before EHLO. */
  ehloReply: Reply | undefined = undefined;

  /** `--debug` transcript of this session's connections; undefined (the norm) costs one check per command and reply. */
  transcript: SessionTranscript | undefined = undefined;
  private readonly host: string;
  private readonly port: number;
  /** Whether `host` is an IP address (connect to it as is) rather than a name (cachedLookup). */
  private readonly isHostIp: boolean;
  private readonly smtp: ResolvedSmtp;
  private readonly recorder: SessionRecorder;
  private readonly timeoutMsByPhase: number[];
  private readonly isAuthNeeded: boolean;
  private readonly ehloLine: Buffer;
  /** The generated body and end-of-data (shared, never mutated). */
  private readonly body: Buffer;
  /** The generated message's bytes, reused from message to message (see writeMessage). */
  private messageBuffer: Buffer | undefined = undefined;
  private readonly parser: ReplyParser;
  private readonly deadline: DeadlineTarget;
  /**
   * The onread callback of this session's sockets (one per session, not per connection). It
   * needs no identity check: teardown() destroys a replaced socket, and a destroyed socket
   * delivers no more reads.
   */
  private readonly onRead = (length: number): boolean => {
    this.chunkCount++;
    this.parser.push(readBuffer, length);
    return true; // false would pause the socket
  };

  // Connection state
  private socket: SessionSocket | undefined = undefined;
  /** The TLS layer over `socket` once a handshake started (smtp.tls): writes go to it. */
  private tlsSocket: TLSSocket | undefined = undefined;
  /** The handshake finished on this connection. */
  private isSecure = false;
  /** 334 challenges answered in the current AUTH exchange (LOGIN, XOAUTH2). */
  private authChallenges = 0;
  /** A refused XOAUTH2 token's decoded challenge, added to the 535 that follows. */
  private authChallengeText: string | undefined = undefined;
  /** Events of the TLS socket (tls.ts); a replaced TLS socket's events are ignored by identity. */
  private readonly tlsListener: TlsListener = {
    onSecure: (tls) => {
      if (this.tlsSocket === tls) this.handleSecure();
    },
    onData: (tls, chunk) => {
      if (this.tlsSocket !== tls) return;
      this.chunkCount++;
      this.parser.push(chunk, chunk.length);
    },
    onEnd: (tls) => {
      if (this.tlsSocket === tls) this.handleEnd();
    },
    onError: (tls, error) => {
      if (this.tlsSocket !== tls) return;
      if (this.awaiting === TLS) this.fail(tlsFailure(error), false);
      else this.handleSocketError(error);
    },
  };
  /** Sockets that emitted 'close', ready to connect again. */
  private readonly spareSockets: SessionSocket[] = [];
  private isEstablished = false;
  private isEhloDone = false;
  private isAuthDone = false;
  private authUser = '';
  /** A MAIL was sent on this connection since the last RSET: the next transaction starts with RSET. */
  private needsRset = false;
  private messagesOnConnection = 0;
  private capabilityCache: Map<string, string> | undefined = undefined;

  // Reply wait
  /** Phase index whose reply is expected, or IDLE. */
  private awaiting = IDLE;
  private phaseStartMs = 0;
  /** Data events on the current socket, and the value it had when the last command was written. */
  private chunkCount = 0;
  private commandChunk = -1;

  // Who waits
  private driver = DRIVER_NONE;
  private flowResolve: ((failure: Failure | undefined) => void) | undefined = undefined;
  private flowResult: Failure | undefined = undefined;
  private stepResolve: ((reply: Reply) => void) | undefined = undefined;
  private stepReject: ((error: SmtpStepError) => void) | undefined = undefined;
  /** The phase whose success completes the running step. */
  private stepEndPhase = IDLE;

  // Transaction (message) state
  private isInTxn = false;
  private txnStartMs = 0;
  /** The last message was accepted and no new one started: failures now are after-accept errors. */
  private isAccepted = false;
  private messageFrom = '';
  private rcptTo: readonly string[];
  private rcptLines: readonly Buffer[];
  private rcptIndex = 0;
  /** A user-given message already encoded for the wire, or undefined for a generated one. */
  private userData: string | undefined = undefined;
  private messageBytes = 0;
  /** X-Runner-Trace sequence of the message whose data was written in this transaction; 0 before. */
  private traceSequence = 0;

  // Caches of lines built per sender / recipient list
  private readonly defaultRcptLines: readonly Buffer[];
  private mailLineFrom: string | undefined = undefined;
  private mailLine: Buffer = Buffer.alloc(0);
  private authLineUser: string | undefined = undefined;
  private authLine: Buffer = Buffer.alloc(0);

  /** Stores the flow's resolver; a field so no closure is made per message. */
  private readonly captureFlow = (resolve: (failure: Failure | undefined) => void): void => {
    this.flowResolve = resolve;
  };
  private readonly captureStep = (resolve: (reply: Reply) => void, reject: (error: SmtpStepError) => void): void => {
    this.stepResolve = resolve;
    this.stepReject = reject;
  };

  constructor(target: SessionTarget, smtp: ResolvedSmtp, recorder: SessionRecorder) {
    this.host = target.host;
    this.port = target.port;
    this.isHostIp = isIP(target.host) !== 0;
    this.smtp = smtp;
    this.recorder = recorder;
    this.from = smtp.from;
    this.timeoutMsByPhase = PHASES.map((phase) => smtp.timeoutsMs[phase]);
    this.isAuthNeeded = smtp.auth !== 'none';
    this.ehloLine = Buffer.from(`EHLO ${smtp.ehloName}\r\n`);
    this.body = bodyWithEndOfData(smtp.messageSize);
    this.defaultRcptLines = smtp.to.map(rcptLineFor);
    this.rcptTo = smtp.to;
    this.rcptLines = this.defaultRcptLines;
    this.parser = new ReplyParser(
      (reply) => this.handleReply(reply.code, reply),
      (message) => this.handleProtocolError(message),
      { wantsCodeOnly: (code) => this.wantsCodeOnly(code), onCode: (code) => this.handleReply(code, undefined) },
    );
    this.deadline = { deadlineMs: 0, onDeadline: () => this.handleDeadline() };
  }

  /** Whether the VU has an established connection. */
  get isConnected(): boolean {
    return this.socket !== undefined && this.isEstablished;
  }

  /** EHLO keywords of the current connection (upper case) → their parameters, e.g. 'SIZE' → '52428800'. */
  get capabilities(): ReadonlyMap<string, string> {
    if (this.capabilityCache === undefined) {
      const map = new Map<string, string>();
      const lines = this.ehloReply?.lines ?? [];
      // RFC 5321 §4.1.1.1: the first line is the domain and greeting, then one keyword per line
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!.trim();
        if (line === '') continue;
        const space = line.indexOf(' ');
        if (space < 0) map.set(line.toUpperCase(), '');
        else map.set(line.slice(0, space).toUpperCase(), line.slice(space + 1));
      }
      this.capabilityCache = map;
    }
    return this.capabilityCache;
  }

  /**
   * Sends one message with the default flow: connect, greeting, EHLO and AUTH when not connected,
   * else RSET when a message was already sent on the connection; MAIL, RCPT per recipient, DATA,
   * the generated message; then QUIT and close when messagesPerConnection messages were sent on
   * the connection. Resolves with the failure, or undefined when the message was accepted
   * (even if QUIT then failed). Never rejects.
   */
  sendMessage(): Promise<Failure | undefined> {
    if (this.driver !== DRIVER_NONE) return Promise.resolve(busyFailure('connect'));
    this.messageFrom = this.from;
    this.rcptTo = this.smtp.to;
    this.rcptLines = this.defaultRcptLines;
    this.userData = undefined;
    return this.runFlow();
  }

  /** Destroys the connection now; an operation in flight ends with error 'INTERRUPTED' (see class doc). */
  close(): void {
    const phase = this.awaiting;
    this.teardown();
    if (this.driver === DRIVER_NONE) return;
    const failure: Failure = {
      phase: PHASES[phase === IDLE ? CONNECT : phase]!,
      error: INTERRUPTED_ERROR,
      text: 'interrupted: the runner closed the connection',
    };
    if (this.isInTxn) {
      this.isInTxn = false;
      if (this.driver === DRIVER_FLOW) this.flowResult = failure;
      this.recorder.failed(failure, elapsedUs(this.txnStartMs, performance.now()), this.traceSequence);
    }
    this.settle(failure);
  }

  // ---- SmtpSteps (custom iterations) ----

  /** Opens a new connection (closing any open one) and waits for the 220 greeting. */
  connect(): Promise<Reply> {
    if (this.driver !== DRIVER_NONE) return rejectBusy('connect');
    const now = performance.now();
    const promise = this.beginStep(GREETING, now);
    if (this.socket !== undefined) this.teardown();
    this.startConnect(now);
    return promise;
  }

  /** EHLO with `name` (default: smtp.ehloName); resolves with the 250 reply. */
  ehlo(name?: string): Promise<Reply> {
    if (this.driver !== DRIVER_NONE) return rejectBusy('ehlo');
    const now = performance.now();
    const promise = this.beginStep(EHLO, now);
    if (!this.requireConnection(EHLO)) return promise;
    if (name !== undefined && hasLineBreak(name)) {
      this.fail({ phase: 'ehlo', error: 'INVALID', text: 'EHLO name contains a line break' }, true);
      return promise;
    }
    this.writeCommand(EHLO, name === undefined ? this.ehloLine : `EHLO ${name}\r\n`, now);
    return promise;
  }

  /** AUTH PLAIN with initial response; user defaults to `from`, password to smtp.password. */
  auth(user?: string, password?: string): Promise<Reply> {
    if (this.driver !== DRIVER_NONE) return rejectBusy('auth');
    const now = performance.now();
    const promise = this.beginStep(AUTH, now);
    if (!this.requireConnection(AUTH)) return promise;
    const authUser = user ?? this.from;
    this.authUser = authUser;
    this.authChallenges = 0;
    this.authChallengeText = undefined;
    this.writeCommand(AUTH, authInitialLine(this.mechanism(), authUser, password ?? this.authSecret()), now);
    return promise;
  }

  /** MAIL FROM:<from> (default: `from`). */
  mail(from?: string): Promise<Reply> {
    if (this.driver !== DRIVER_NONE) return rejectBusy('mail');
    const now = performance.now();
    const promise = this.beginStep(MAIL, now);
    if (!this.requireConnection(MAIL)) return promise;
    this.messageFrom = from ?? this.from;
    this.writeMail(now);
    return promise;
  }

  /** RCPT TO for each recipient (default: smtp.to); resolves with the last reply. */
  rcpt(to?: string | string[]): Promise<Reply> {
    if (this.driver !== DRIVER_NONE) return rejectBusy('rcpt');
    const now = performance.now();
    const promise = this.beginStep(RCPT, now);
    if (!this.requireConnection(RCPT)) return promise;
    this.setRecipients(to);
    this.writeFirstRcpt(now);
    return promise;
  }

  /** DATA, then the message (generated when omitted; else CRLF-normalized and dot-stuffed) and end-of-data. */
  data(message?: string): Promise<Reply> {
    if (this.driver !== DRIVER_NONE) return rejectBusy('data');
    const now = performance.now();
    const promise = this.beginStep(MESSAGE, now);
    if (!this.requireConnection(DATA)) return promise;
    this.userData = message === undefined ? undefined : encodeMessageData(message);
    this.writeCommand(DATA, DATA_LINE, now);
    return promise;
  }

  /** RSET (RFC 5321 §4.1.1.5): aborts the current transaction. */
  rset(): Promise<Reply> {
    if (this.driver !== DRIVER_NONE) return rejectBusy('rset');
    const now = performance.now();
    const promise = this.beginStep(RSET, now);
    if (!this.requireConnection(RSET)) return promise;
    this.writeCommand(RSET, RSET_LINE, now);
    return promise;
  }

  /**
   * QUIT, then close. Resolves with the 221, or with a synthetic 221 whose text says so when the
   * server closed instead of answering, or when there was no connection (so `quit()` in a
   * `finally` is always safe).
   */
  quit(): Promise<Reply> {
    if (this.driver !== DRIVER_NONE) return rejectBusy('quit');
    const now = performance.now();
    const promise = this.beginStep(QUIT, now);
    if (this.socket === undefined || !this.isEstablished || this.awaiting !== IDLE) {
      if (this.socket !== undefined) this.teardown();
      this.settleStep({ code: CODE_CLOSING, enhanced: undefined, lines: ['not connected'] });
      return promise;
    }
    this.writeCommand(QUIT, QUIT_LINE, now);
    return promise;
  }

  /** The default flow for one message with optional overrides; rejects with SmtpStepError on failure. */
  async send(options?: SendOptions): Promise<void> {
    if (this.driver !== DRIVER_NONE) throw new SmtpStepError(busyFailure('connect'));
    this.messageFrom = options?.from ?? this.from;
    if (options?.to !== undefined) this.setRecipients(options.to);
    else {
      this.rcptTo = this.smtp.to;
      this.rcptLines = this.defaultRcptLines;
    }
    this.userData = options?.message === undefined ? undefined : encodeMessageData(options.message);
    const failure = await this.runFlow();
    if (failure !== undefined) throw new SmtpStepError(failure);
  }

  // ---- the flow ----

  private runFlow(): Promise<Failure | undefined> {
    this.driver = DRIVER_FLOW;
    this.flowResult = undefined;
    const now = performance.now();
    this.beginTxn(now);
    const promise = new Promise<Failure | undefined>(this.captureFlow);
    this.advanceFlow(now);
    return promise;
  }

  /** Next command of the flow before MAIL, from the connection's state. */
  private advanceFlow(now: number): void {
    if (this.socket !== undefined && this.isAuthDone && this.authUser !== this.messageFrom) this.teardown();
    if (this.socket === undefined) this.startConnect(now);
    else if (!this.isEhloDone) this.writeCommand(EHLO, this.ehloLine, now);
    else if (this.isAuthNeeded && !this.isAuthDone) this.writeAuth(now);
    else if (this.needsRset) this.writeCommand(RSET, RSET_LINE, now);
    else this.writeMail(now);
  }

  private writeAuth(now: number): void {
    const user = this.messageFrom;
    if (user !== this.authLineUser) {
      this.authLine = Buffer.from(authInitialLine(this.mechanism(), user, this.authSecret()));
      this.authLineUser = user;
    }
    this.authUser = user;
    this.authChallenges = 0;
    this.authChallengeText = undefined;
    this.writeCommand(AUTH, this.authLine, now);
  }

  private writeMail(now: number): void {
    const from = this.messageFrom;
    if (from !== this.mailLineFrom) {
      if (hasLineBreak(from)) {
        this.fail({ phase: 'mail', error: 'INVALID', text: 'sender address contains a line break' }, true);
        return;
      }
      this.mailLine = Buffer.from(`MAIL FROM:<${from}>\r\n`);
      this.mailLineFrom = from;
    }
    this.messagesOnConnection++;
    this.needsRset = true;
    this.writeCommand(MAIL, this.mailLine, now);
  }

  private setRecipients(to: string | readonly string[] | undefined): void {
    if (to === undefined) {
      this.rcptTo = this.smtp.to;
      this.rcptLines = this.defaultRcptLines;
      return;
    }
    const list = typeof to === 'string' ? [to] : to;
    this.rcptTo = list;
    this.rcptLines = list.map(rcptLineFor);
  }

  private writeFirstRcpt(now: number): void {
    const lines = this.rcptLines;
    if (lines.length === 0) {
      this.fail({ phase: 'rcpt', error: 'INVALID', text: 'no recipients' }, true);
      return;
    }
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.length === 0) {
        this.fail({ phase: 'rcpt', error: 'INVALID', text: `recipient ${JSON.stringify(this.rcptTo[i])} contains a line break` }, true);
        return;
      }
    }
    this.rcptIndex = 0;
    this.writeCommand(RCPT, lines[0]!, now);
  }

  /** Writes the message after 354: generated head + shared body in one corked writev, or the user's data. */
  private writeMessage(now: number): void {
    const socket = (this.tlsSocket ?? this.socket)!;
    this.awaiting = MESSAGE;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[MESSAGE]!;
    this.commandChunk = this.chunkCount;
    const userData = this.userData;
    const traceSequence = (this.traceSequence = nextTraceSequence());
    if (userData !== undefined) {
      // A message written in scenario code carries the trace header too, as its first line
      const data = traceHeaderLine(this.runId, traceSequence) + userData;
      this.messageBytes = Buffer.byteLength(data) - END_OF_DATA.length;
      if (this.transcript !== undefined) this.traceMessage();
      socket.write(data);
      return;
    }
    const head = buildHead({ from: this.messageFrom, to: this.rcptTo, sequence: this.sequence, runId: this.runId, traceSequence });
    const body = this.body;
    const headBytes = Buffer.byteLength(head);
    this.messageBytes = headBytes + body.length - END_OF_DATA.length;
    if (this.transcript !== undefined) this.traceMessage();
    // One Buffer, one plain write: a corked writev of a string and a Buffer costs Node's stream
    // layer more (chunk arrays, string encoding in C++) than copying ~1 KB here. The buffer is
    // the session's own and reused: by the time the next message is written the server has
    // answered this one, so the kernel has every byte; it is replaced if a write is still queued
    // (writableLength) or over TLS (whose layer may keep a reference).
    const size = headBytes + body.length;
    let message = this.messageBuffer;
    if (message === undefined || message.length < size || socket.writableLength > 0 || this.tlsSocket !== undefined) {
      message = Buffer.allocUnsafeSlow(size + MESSAGE_BUFFER_SLACK_BYTES);
      this.messageBuffer = this.tlsSocket === undefined ? message : undefined;
    }
    message.write(head, 0, headBytes, 'utf8');
    body.copy(message, headBytes);
    socket.write(message.subarray(0, size));
  }

  private finishFlow(): void {
    const resolve = this.flowResolve!;
    const result = this.flowResult;
    this.flowResolve = undefined;
    this.flowResult = undefined;
    this.driver = DRIVER_NONE;
    resolve(result);
  }

  // ---- steps ----

  /** Starts a step (the caller checked that nothing else runs): its promise. */
  private beginStep(endPhase: number, now: number): Promise<Reply> {
    this.driver = DRIVER_STEP;
    this.stepEndPhase = endPhase;
    if (!this.isInTxn && endPhase !== QUIT) this.beginTxn(now);
    return new Promise<Reply>(this.captureStep);
  }

  /** Fails the running step when there is no idle established connection. */
  private requireConnection(phase: number): boolean {
    if (this.socket !== undefined && this.isEstablished && this.awaiting === IDLE) return true;
    this.fail({ phase: PHASES[phase]!, error: 'CLOSED', text: 'not connected: call connect() first' }, true);
    return false;
  }

  private settleStep(reply: Reply): void {
    const resolve = this.stepResolve!;
    this.stepResolve = undefined;
    this.stepReject = undefined;
    this.driver = DRIVER_NONE;
    resolve(reply);
  }

  /** Ends whatever waits (flow or step) with a failure. */
  private settle(failure: Failure): void {
    if (this.driver === DRIVER_FLOW) {
      this.finishFlow();
    } else if (this.driver === DRIVER_STEP) {
      const reject = this.stepReject!;
      this.stepResolve = undefined;
      this.stepReject = undefined;
      this.driver = DRIVER_NONE;
      reject(new SmtpStepError(failure));
    }
  }

  // ---- commands, replies, failures ----

  private beginTxn(now: number): void {
    this.isInTxn = true;
    this.isAccepted = false;
    this.traceSequence = 0;
    this.txnStartMs = now;
  }

  private writeCommand(phase: number, line: Buffer | string, now: number): void {
    this.awaiting = phase;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[phase]!;
    this.commandChunk = this.chunkCount;
    if (this.transcript !== undefined) this.traceCommand(line);
    (this.tlsSocket ?? this.socket)!.write(line);
  }

  private createSocket(): SessionSocket {
    const socket = new SessionSocket(this, this.onRead);
    // Kept across reconnects (applied after each connect)
    socket.setNoDelay(true);
    socket.on('connect', SmtpSession.onSocketConnect);
    socket.on('end', SmtpSession.onSocketEnd);
    socket.on('error', SmtpSession.onSocketError);
    socket.on('close', SmtpSession.onSocketClose);
    return socket;
  }

  private startConnect(now: number): void {
    const socket = this.spareSockets.pop() ?? this.createSocket();
    this.socket = socket;
    this.isEstablished = false;
    this.chunkCount = 0;
    this.commandChunk = -1;
    this.awaiting = CONNECT;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[CONNECT]!;
    watchDeadline(this.deadline);
    try {
      if (this.isHostIp) socket.connect(this.port, this.host);
      else socket.connect({ port: this.port, host: this.host, lookup: cachedLookup });
    } catch (error) {
      // e.g. ERR_SOCKET_BAD_PORT is thrown synchronously
      const err = error as NodeJS.ErrnoException;
      this.fail({ phase: 'connect', error: err.code ?? 'ERROR', text: err.message }, false);
    }
  }

  private handleConnect(): void {
    const now = performance.now();
    this.isEstablished = true;
    this.recorder.connectionOpened();
    if (this.transcript !== undefined) this.transcript('open', `${this.host}:${this.port}`);
    this.recorder.phase(CONNECT, elapsedUs(this.phaseStartMs, now));
    if (this.smtp.tls === 'implicit') {
      // RFC 8314 §3.3: TLS from the first byte; the greeting comes over it
      this.phaseStartMs = now;
      this.beginTls(now);
      return;
    }
    this.awaiting = GREETING;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[GREETING]!;
    this.commandChunk = -1;
  }

  /**
   * A routine reply the flow needs only the code of (no text decoded): an expected code to any
   * command but EHLO, whose reply is kept. Failures and step replies always come whole.
   */
  private wantsCodeOnly(code: number): boolean {
    const phase = this.awaiting;
    // A transcript shows every reply's text
    if (this.transcript !== undefined) return false;
    return this.driver === DRIVER_FLOW && phase !== IDLE && phase !== CONNECT && phase !== EHLO && isExpectedCode(phase, code);
  }

  /** A reply: `reply` is undefined only for what wantsCodeOnly() accepted. */
  private handleReply(code: number, reply: Reply | undefined): void {
    if (this.transcript !== undefined && reply !== undefined) this.traceReply(reply);
    const phase = this.awaiting;
    if (phase === IDLE || phase === CONNECT) {
      // Unsolicited (e.g. 421 on an idle connection): the connection's state is unknown now
      this.teardown();
      return;
    }
    if (this.commandChunk === this.chunkCount) {
      // Same chunk as the reply that let us write the command: the server answered before it
      this.fail({ phase: PHASES[phase]!, error: 'PROTOCOL', text: `unexpected reply before the command was sent: ${code}` }, false);
      return;
    }
    if (phase === AUTH && code === CODE_AUTH_CONTINUE) {
      this.continueAuth(reply!);
      return;
    }
    if (!isExpectedCode(phase, code)) {
      this.failReply(phase, reply!);
      return;
    }
    const now = performance.now();
    if (phase === TLS) {
      // RFC 3207 §4: 220 to STARTTLS; the handshake is still part of the tls phase
      this.beginTls(now);
      return;
    }
    if (phase === RCPT && ++this.rcptIndex < this.rcptLines.length) {
      // Next recipient: the rcpt phase keeps its start, the deadline is per reply
      this.deadline.deadlineMs = now + this.timeoutMsByPhase[RCPT]!;
      this.commandChunk = this.chunkCount;
      if (this.transcript !== undefined) this.traceCommand(this.rcptLines[this.rcptIndex]!);
      (this.tlsSocket ?? this.socket)!.write(this.rcptLines[this.rcptIndex]!);
      return;
    }
    this.recorder.phase(phase, elapsedUs(this.phaseStartMs, now));
    this.awaiting = IDLE;
    this.deadline.deadlineMs = 0;
    switch (phase) {
      case EHLO:
        this.isEhloDone = true;
        this.ehloReply = reply!;
        this.capabilityCache = undefined;
        if (this.smtp.tls === 'starttls' && !this.isSecure) {
          this.writeStartTls(now);
          return;
        }
        break;
      case AUTH:
        this.isAuthDone = true;
        break;
      case RSET:
        this.needsRset = false;
        break;
      case DATA:
        // 354: the message follows in both drivers (the data() step ends at the message's 250)
        this.writeMessage(now);
        return;
      case MESSAGE:
        this.isInTxn = false;
        this.isAccepted = true;
        this.recorder.accepted(elapsedUs(this.txnStartMs, now), this.messageBytes, this.traceSequence);
        // The transaction is over (RFC 5321 §4.1.1.4): the next MAIL needs no RSET unless asked for
        if (this.smtp.rsetBetweenMessages === false) this.needsRset = false;
        break;
      case QUIT:
        this.teardown();
        break;
    }
    if (this.driver === DRIVER_STEP) {
      if (phase === this.stepEndPhase) this.settleStep(reply!);
      return;
    }
    if (this.driver !== DRIVER_FLOW) return;
    switch (phase) {
      case MAIL:
        this.writeFirstRcpt(now);
        return;
      case RCPT:
        this.writeCommand(DATA, DATA_LINE, now);
        return;
      case MESSAGE:
        if (this.messagesOnConnection >= this.smtp.messagesPerConnection) this.writeCommand(QUIT, QUIT_LINE, now);
        else this.finishFlow();
        return;
      case QUIT:
        this.finishFlow();
        return;
      default:
        // greeting, ehlo, auth, rset
        this.advanceFlow(now);
    }
  }

  /** The server closed (or reset) the connection while `awaiting` QUIT's reply: a clean end. */
  private endQuitByClose(): void {
    const now = performance.now();
    this.recorder.phase(QUIT, elapsedUs(this.phaseStartMs, now));
    this.teardown();
    if (this.driver === DRIVER_STEP) this.settleStep({ code: CODE_CLOSING, enhanced: undefined, lines: ['connection closed by the server'] });
    else if (this.driver === DRIVER_FLOW) this.finishFlow();
  }

  private handleEnd(): void {
    const phase = this.awaiting;
    if (phase === QUIT) this.endQuitByClose();
    else if (phase === IDLE) this.teardown();
    else {
      const text = this.parser.hasPartialReply
        ? 'the server closed the connection in the middle of a reply'
        : 'the server closed the connection';
      this.fail({ phase: PHASES[phase]!, error: 'CLOSED', text }, false);
    }
  }

  private handleSocketError(error: NodeJS.ErrnoException): void {
    const phase = this.awaiting;
    const code = error.code ?? 'ERROR';
    if (phase === QUIT && (code === 'ECONNRESET' || code === 'EPIPE')) this.endQuitByClose();
    else if (phase === IDLE) this.teardown();
    else {
      const remedy = ERROR_REMEDIES[code];
      this.fail({ phase: PHASES[phase]!, error: code, text: remedy === undefined ? error.message : `${error.message}: ${remedy}` }, false);
    }
  }

  private handleProtocolError(message: string): void {
    const phase = this.awaiting;
    if (phase === IDLE) this.teardown();
    else this.fail({ phase: PHASES[phase]!, error: 'PROTOCOL', text: message }, false);
  }

  private handleDeadline(): void {
    const phase = this.awaiting;
    if (phase === IDLE) return;
    const timeoutMs = this.timeoutMsByPhase[phase]!;
    this.fail(
      { phase: PHASES[phase]!, error: 'TIMEOUT', text: phase === CONNECT ? `not connected within ${timeoutMs} ms` : `no reply within ${timeoutMs} ms` },
      false,
    );
  }

  private failReply(phase: number, reply: Reply): void {
    const code = reply.code;
    let text = reply.lines.join(' ');
    if (phase === AUTH && this.authChallengeText !== undefined) text = `${text} (${this.authChallengeText})`;
    const failure: Failure = { phase: PHASES[phase]!, code, enhanced: reply.enhanced, text };
    // RFC 5321 §3.8: 421 means the server is closing the channel
    const isReusable = code !== CODE_SERVICE_UNAVAILABLE && (phase === MAIL || phase === RCPT || phase === DATA || phase === MESSAGE);
    this.fail(failure, isReusable);
  }

  /**
   * Records a failure once (a failed message while one is in progress, an after-accept error after
   * an accepted one, else nothing), drops the connection unless `keepConnection`, and ends the
   * waiting flow or step. A flow that reached messagesPerConnection still says QUIT first.
   */
  private fail(failure: Failure, keepConnection: boolean): void {
    const now = performance.now();
    this.awaiting = IDLE;
    this.deadline.deadlineMs = 0;
    if (this.isInTxn) {
      this.isInTxn = false;
      if (this.driver === DRIVER_FLOW) this.flowResult = failure;
      this.recorder.failed(failure, elapsedUs(this.txnStartMs, now), this.traceSequence);
    } else if (this.isAccepted) {
      this.recorder.afterAcceptError(failure);
    }
    if (!keepConnection) this.teardown();
    if (
      this.driver === DRIVER_FLOW &&
      keepConnection &&
      this.socket !== undefined &&
      this.messagesOnConnection >= this.smtp.messagesPerConnection
    ) {
      this.writeCommand(QUIT, QUIT_LINE, now);
      return;
    }
    this.settle(failure);
  }

  /** Destroys the socket (if any) and forgets the connection's state. */
  private teardown(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    this.socket = undefined;
    this.awaiting = IDLE;
    this.deadline.deadlineMs = 0;
    unwatchDeadline(this.deadline);
    this.parser.reset();
    if (this.isEstablished) {
      this.isEstablished = false;
      this.recorder.connectionClosed(socket.bytesWritten, socket.bytesRead);
    }
    this.isEhloDone = false;
    this.isAuthDone = false;
    this.needsRset = false;
    this.messagesOnConnection = 0;
    this.ehloReply = undefined;
    this.capabilityCache = undefined;
    const tls = this.tlsSocket;
    if (tls !== undefined) {
      this.tlsSocket = undefined;
      this.isSecure = false;
      tls.destroy();
    }
    socket.destroy();
  }

  // ---- TLS (tls.ts) and AUTH challenges (auth.ts) ----

  /** The mechanism of AUTH lines; an explicit auth() step with smtp.auth 'none' uses PLAIN. */
  private mechanism(): SaslMechanism {
    const auth = this.smtp.auth;
    return auth === 'none' ? 'plain' : auth;
  }

  /** The password, or the bearer token for XOAUTH2. */
  private authSecret(): string {
    return this.smtp.auth === 'xoauth2' ? this.smtp.token ?? '' : this.smtp.password;
  }

  /** After the first EHLO with smtp.tls 'starttls': STARTTLS when offered (RFC 3207 §4), else a tls failure. */
  private writeStartTls(now: number): void {
    if (!this.capabilities.has('STARTTLS')) {
      this.fail(startTlsNotOfferedFailure(), false);
      return;
    }
    this.writeCommand(TLS, STARTTLS_LINE, now);
  }

  /** Starts the handshake on the established socket; the tls phase keeps its start (STARTTLS or the connect). */
  private beginTls(now: number): void {
    const socket = this.socket!;
    this.awaiting = TLS;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[TLS]!;
    this.commandChunk = -1;
    socket.isTlsWrapped = true;
    try {
      this.tlsSocket = startTlsHandshake(socket, this.host, this.smtp, this.tlsListener);
    } catch (error) {
      // e.g. an unparsable tlsCa
      this.fail(tlsFailure(error as NodeJS.ErrnoException), false);
    }
  }

  /** The handshake is done: the tls phase ends; implicit TLS now waits for the greeting, STARTTLS says EHLO again. */
  private handleSecure(): void {
    if (this.awaiting !== TLS) return;
    const now = performance.now();
    this.isSecure = true;
    this.recorder.phase(TLS, elapsedUs(this.phaseStartMs, now));
    if (this.smtp.tls === 'implicit') {
      this.awaiting = GREETING;
      this.phaseStartMs = now;
      this.deadline.deadlineMs = now + this.timeoutMsByPhase[GREETING]!;
      this.commandChunk = -1;
      return;
    }
    // RFC 3207 §4.2: forget what the server said before TLS; EHLO again
    this.isEhloDone = false;
    this.ehloReply = undefined;
    this.capabilityCache = undefined;
    this.writeCommand(EHLO, this.ehloLine, now);
  }

  /** A 334 during AUTH: the mechanism's next line (auth.ts), or a failure when it expects none. */
  private continueAuth(reply: Reply): void {
    const mechanism = this.mechanism();
    const line = authContinuationLine(mechanism, this.authChallenges++, this.authUser, this.authSecret());
    if (line === undefined) {
      this.failReply(AUTH, reply);
      return;
    }
    if (mechanism === 'xoauth2') this.authChallengeText = describeXoauth2Challenge(reply.lines.join(''));
    this.deadline.deadlineMs = performance.now() + this.timeoutMsByPhase[AUTH]!;
    this.commandChunk = this.chunkCount;
    // Usernames and secrets in base64, whatever the mechanism
    if (this.transcript !== undefined) this.transcript('C', REDACTED);
    (this.tlsSocket ?? this.socket)!.write(line);
  }

  // ---- --debug transcript (only called when `transcript` is set) ----

  private traceCommand(line: Buffer | string): void {
    const text = typeof line === 'string' ? line : line.toString('utf8');
    this.transcript!('C', text.endsWith('\r\n') ? text.slice(0, -2) : text);
  }

  private traceMessage(): void {
    this.transcript!('C', `<${this.messageBytes.toLocaleString('en-US')} bytes of message data>`);
  }

  /** RFC 5321 §4.2.1: `code-text` on every line but the last, `code text` on the last. */
  private traceReply(reply: Reply): void {
    const lines = reply.lines;
    const last = Math.max(lines.length - 1, 0);
    for (let i = 0; i <= last; i++) {
      const enhanced = i === 0 && reply.enhanced !== undefined ? `${reply.enhanced} ` : '';
      this.transcript!('S', `${reply.code}${i === last ? ' ' : '-'}${enhanced}${lines[i] ?? ''}`);
    }
  }

  // Socket listeners: shared functions; `this` is the socket, events of a replaced socket are ignored.
  private static onSocketConnect(this: SessionSocket): void {
    const session = this.session;
    if (session.socket === this) session.handleConnect();
  }

  private static onSocketEnd(this: SessionSocket): void {
    const session = this.session;
    if (session.socket === this) session.handleEnd();
  }

  private static onSocketError(this: SessionSocket, error: NodeJS.ErrnoException): void {
    const session = this.session;
    if (session.socket === this) session.handleSocketError(error);
  }

  /** The handle is closed: the socket may connect again. */
  private static onSocketClose(this: SessionSocket): void {
    const session = this.session;
    // Every path that loses a connection tears it down first; this covers one that did not.
    if (session.socket === this) session.handleEnd();
    if (session.socket !== this && !this.isTlsWrapped && session.spareSockets.length < MAX_SPARE_SOCKETS) session.spareSockets.push(this);
  }
}

/** Whether `code` is the success reply to the command of `phase` (not CONNECT or IDLE). */
function isExpectedCode(phase: number, code: number): boolean {
  switch (phase) {
    case GREETING: return code === CODE_READY;
    // RFC 3207 §4: 220 Ready to start TLS
    case TLS: return code === CODE_READY;
    // RFC 4954 §6: 235; any 2xx accepted (see class doc)
    case AUTH: return code >= 200 && code < 300;
    // RFC 5321 §3.3: 251 "user not local; will forward" accepts the recipient
    case RCPT: return code === CODE_OK || code === CODE_WILL_FORWARD;
    case DATA: return code === CODE_START_INPUT;
    case QUIT: return code === CODE_CLOSING;
    default: return code === CODE_OK;
  }
}

/** RCPT TO line for one recipient, or an empty Buffer when the address has a line break (refused at send). */
function rcptLineFor(address: string): Buffer {
  return hasLineBreak(address) ? Buffer.alloc(0) : Buffer.from(`RCPT TO:<${address}>\r\n`);
}

function rejectBusy(phase: Failure['phase']): Promise<Reply> {
  return Promise.reject(new SmtpStepError(busyFailure(phase)));
}

function busyFailure(phase: Failure['phase']): Failure {
  return { phase, error: 'BUSY', text: 'another operation is still running on this session' };
}
