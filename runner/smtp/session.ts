/**
 * The SMTP client session of one VU, on node:net, written for load.
 *
 * Walk (RFC 5321 §3, §4.1): TCP connect → 220 greeting → EHLO → AUTH PLAIN with initial response
 * (RFC 4954, RFC 4616) → MAIL FROM → RCPT TO per recipient → DATA → dot-stuffed message and
 * end-of-data → QUIT. With a server that offers PIPELINING (RFC 2920) the flow writes RSET, MAIL,
 * every RCPT and DATA as one group, and QUIT with the last message of a connection; each reply
 * of a group is timed from the group's write to its own arrival (advanceGroup). MAIL declares
 * SIZE, BODY and SMTPUTF8 as offered (mail-parameters.ts). With smtp.protocol 'lmtp' (RFC 2033)
 * the greeting is answered with LHLO and the data with one reply per accepted recipient
 * (takeLmtpReply): the message counts as accepted when every recipient accepted it.
 *
 * Hot path design:
 * - sendMessage() creates one Promise per message; every later step is driven from the reply
 *   callback by a state field (`awaiting`, the phase whose reply is expected), not by awaits.
 * - Constant commands are preallocated Buffers; MAIL/AUTH lines are cached per sender; RCPT lines
 *   per recipient list. The generated message's head is written as bytes into a reused Buffer
 *   (message.ts HeadWriter: no string per message), then set with the shared body (ending with
 *   end-of-data) into the session's message Buffer and written in one plain write.
 * - The EHLO reply of a server that answers every connection alike is parsed once
 *   (parseCapabilitiesOnce).
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
import { SmtpStepError, type Failure, type MailStepOptions, type Reply, type SendOptions, type SmtpSteps } from './api.ts';
import { PHASES, PHASE_INDEX } from './phases.ts';
import type { ResolvedSmtp } from './settings.ts';
import { ReplyParser } from './reply-parser.ts';
import { drawBucket } from './size-distribution.ts';
import { isMessageTemplate, templateOf, type MessageTemplate, type RenderFields, type WireMessage } from './builder.ts';
import { bodyWithEndOfData, bucketBodiesWithEndOfData, buildHead, countStuffedDots, encodeMessageBytes, DEFAULT_RUN_ID, drawMessageIdRandom, HeadWriter, encodeMessageData, END_OF_DATA, nextTraceSequence, normalizeLineEndings, traceHeaderLine } from './message.ts';
import { bdatChunkCount, bdatWireBytes, writeBdatChunks } from './bdat.ts';
import { unwatchDeadline, watchDeadline, type DeadlineTarget } from './deadlines.ts';
import type { TLSSocket } from 'node:tls';
import { isTlsAlert, startTlsHandshake, startTlsNotOfferedFailure, tlsFailure, unsentTlsBytes, type TlsListener } from './tls.ts';
import { authContinuationLine, authInitialLine, describeXoauth2Challenge, type SaslMechanism } from './auth.ts';
import { REDACTED } from '../redact.ts';
import { parseCapabilitiesOnce } from './capabilities.ts';
import { describeEarlyAcceptance, describeOutOfTurn } from './hostile.ts';
import { NO_EXTENSIONS, readExtensions, type OfferedExtensions } from './extensions.ts';
import { addressPool, type AddressPool } from './local-addresses.ts';
import {
  DSN_NOT_OFFERED,
  DSN_NOT_OFFERED_TEXT,
  dsnMailParameters,
  dsnRcptParameters,
  hasDsnParameters,
  hasNonAsciiAddress,
  isAscii,
  mailParameters,
  SMTPUTF8_NOT_OFFERED,
  SMTPUTF8_NOT_OFFERED_TEXT,
} from './mail-parameters.ts';
import type { DsnSettings } from './settings.ts';
import { CLIENT_FAULT_DEFAULTS, describeInvalidFault, pickClientFault, slowBodyPlan, type ClientFault, type ClientFaultKind } from './client-faults.ts';

/** What a session reports; implemented by the engine's metrics (the session never touches metrics). */
export interface SessionRecorder {
  /** A TCP connection was established (pairs with exactly one connectionClosed). */
  connectionOpened(): void;
  /** A phase completed with its expected reply; index in PHASES order, duration in µs. */
  phase(phaseIndex: number, durationUs: number): void;
  /**
   * A message got 250 after end-of-data; txnUs: its first command's start to that 250, µs;
   * messageBytes: head + body; traceSequence: its X-Runner-Trace sequence (message.ts); bodyBytes:
   * the generated body's size (its bucket with a size distribution), -1 for a message from scenario code.
   */
  accepted(txnUs: number, messageBytes: number, traceSequence: number, bodyBytes?: number): void;
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
  /** A connection is about to be made from this source address (smtp localAddresses); its events until the next call belong to it. */
  sourceAddress?(address: string): void;
  /** A raw command (ctx.smtp.command) whose verb names no phase got its reply; verb upper case, duration in µs. */
  command?(verb: string, durationUs: number): void;
  /**
   * The account the next samples belong to: the AUTH user of the connection, or the envelope
   * sender when it is not authenticated. Called where it may change (a flow's start, AUTH, MAIL);
   * results per account follow it, not the sender the engine picked (issue 16).
   */
  account?(user: string): void;
  /**
   * LMTP (RFC 2033 §4.2): one accepted recipient's own reply after the data; `failure` when the
   * server refused the message for that recipient (phase 'message'), else undefined.
   */
  lmtpRecipient?(failure: Failure | undefined): void;
  /**
   * A client-side fault was done on the current message (client-faults.ts): counted by kind, never
   * as a failure; what the server then does to that message fails it neither.
   */
  clientFault?(kind: ClientFaultKind): void;
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

/** Where to connect, and from where. */
export interface SessionTarget {
  host: string;
  port: number;
  /**
   * Source addresses (local-addresses.ts): each new connection binds to the next one, round robin
   * over every session given the same list object; undefined: the kernel's choice.
   */
  localAddresses?: readonly string[];
}

const CONNECT = PHASE_INDEX.connect;
const TLS = PHASE_INDEX.tls;
const TLS_RESUMED = PHASE_INDEX.tls_resumed;
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
/** The capabilities before EHLO (shared, never mutated). */
const NO_CAPABILITIES: ReadonlyMap<string, string> = new Map();

// Reply codes (RFC 5321 §4.2.2, RFC 4954 §6)
const CODE_READY = 220;
const CODE_CLOSING = 221;
const CODE_OK = 250;
const CODE_WILL_FORWARD = 251;
const CODE_START_INPUT = 354;
/** RFC 4954 §4: a server challenge during AUTH. */
const CODE_AUTH_CONTINUE = 334;
const CODE_SERVICE_UNAVAILABLE = 421;

/**
 * Who is waiting on the session: nobody, sendMessage()/send() (the flow), one ctx.smtp step, or
 * nobody yet for a transaction written ahead with the previous message's data (writeAhead): its
 * replies are read as they come and the next sendMessage() takes it over (adoptAhead).
 */
const DRIVER_NONE = 0;
const DRIVER_FLOW = 1;
const DRIVER_STEP = 2;
const DRIVER_AHEAD = 3;
/**
 * Bytes added to the size a transaction written ahead declares (RFC 1870 SIZE is the client's
 * estimate): its head is written only when its iteration starts, and a head grows by a digit when
 * a sequence number does. A message that would still exceed it is not sent on that transaction.
 */
const AHEAD_SIZE_SLACK_BYTES = 64;

/** The capabilities map readExtensions last read, and what it found: maps repeat (parseCapabilitiesOnce). */
let lastCapabilityMap: ReadonlyMap<string, string> | undefined = undefined;
let lastOffered: OfferedExtensions = NO_EXTENSIONS;

/** readExtensions(capabilities), once per distinct map (the result is only read). */
function offeredOf(capabilities: ReadonlyMap<string, string>): OfferedExtensions {
  if (capabilities !== lastCapabilityMap) {
    lastOffered = readExtensions(capabilities);
    lastCapabilityMap = capabilities;
  }
  return lastOffered;
}

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

/** A failure that is the server ending the connection (FIN or RST), not a reply or a timeout. */
function isConnectionLoss(error: string | undefined): boolean {
  return error === 'CLOSED' || error === 'ECONNRESET' || error === 'EPIPE';
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
/**
 * A message's content as the flow first fixed it (copyMessage), to send it again unchanged: a
 * retry is the same message, as an MTA re-sends it (same Message-ID, Date, X-Runner-Trace and
 * body), so delivery tracking counts one message once whatever its attempts.
 */
export interface MessageCopy {
  /** Its X-Runner-Trace sequence. */
  readonly traceSequence: number;
  /** A generated message's head bytes (with its trace line) and body (ending with end-of-data); undefined for a given one. */
  readonly head: Buffer | undefined;
  readonly body: Buffer;
  /** A template's rendered message (with the template and fields, for the paths that take text). */
  readonly wire: WireMessage | undefined;
  readonly wireTemplate: MessageTemplate | undefined;
  readonly wireFields: RenderFields | undefined;
  /** A message given as text: encoded for DATA, and as given (BDAT). */
  readonly userData: string | undefined;
  readonly userMessage: string | undefined;
}

export class SmtpSession implements SmtpSteps {
  /** Sender of the next message (MAIL FROM, From header, AUTH user); the engine sets it per iteration. */
  from: string;
  /** Sequence number of the next generated message (Subject, Message-ID); the engine sets it. */
  sequence = 0;
  /** Run id in generated Message-IDs. */
  runId: string = DEFAULT_RUN_ID;
  /** VU number and its iteration, for a message template's {{vu}} and {{iteration}}; the engine sets them. */
  vu = 0;
  iteration = 0;

  /** `--debug` transcript of this session's connections; undefined (the norm) costs one check per command and reply. */
  transcript: SessionTranscript | undefined = undefined;
  /**
   * The engine's grant of this VU's next iteration (engine/scenario-run.ts), set per flag-only
   * message when the next one would follow at once with the same envelope; undefined otherwise.
   * Asked once a message's data is about to be written on a pipelined connection that carries
   * another message: true, and the next transaction goes in the same write (see writeAhead).
   */
  nextIterationGrant: (() => boolean) | undefined = undefined;
  private readonly host: string;
  private readonly port: number;
  /** Whether `host` is an IP address (connect to it as is) rather than a name (cachedLookup). */
  private readonly isHostIp: boolean;
  /** Round robin over the source addresses, or undefined (no bind). */
  private readonly localPool: AddressPool | undefined;
  /** The source address of the current connection, or undefined. */
  private localAddress: string | undefined = undefined;
  private readonly smtp: ResolvedSmtp;
  private readonly recorder: SessionRecorder;
  private readonly timeoutMsByPhase: number[];
  private readonly isAuthNeeded: boolean;
  /** LMTP (RFC 2033): LHLO instead of EHLO, one reply per accepted recipient after the data. */
  private readonly isLmtp: boolean;
  /** 'EHLO', or 'LHLO' with LMTP (RFC 2033 §4.1). */
  private readonly helloVerb: string;
  private readonly ehloLine: Buffer;
  /** The generated body and end-of-data (shared, never mutated; the drawn bucket's with a size distribution). */
  private body: Buffer;
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
  /** The last TLS session the server issued to this VU (smtp.tlsResumption), offered on its next connection. */
  private tlsSession: Buffer | undefined = undefined;
  /** 334 challenges answered in the current AUTH exchange (LOGIN, XOAUTH2). */
  private authChallenges = 0;
  /** A refused XOAUTH2 token's decoded challenge, added to the 535 that follows. */
  private authChallengeText: string | undefined = undefined;
  /** Events of the TLS socket (tls.ts); a replaced TLS socket's events are ignored by identity. */
  private readonly tlsListener: TlsListener = {
    onSecure: (tls) => {
      if (this.tlsSocket === tls) this.handleSecure();
    },
    onSession: (tls, ticket) => {
      if (this.tlsSocket === tls) this.tlsSession = ticket;
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
      // RFC 8446 §4.4.2: under TLS 1.3 the server judges a client certificate after the client's
      // handshake is done, so its refusal (an alert) arrives while the greeting is awaited
      if (this.awaiting === TLS || isTlsAlert(error)) this.fail(tlsFailure(error), false);
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
  /** EHLO capabilities of the current connection, parsed and bounded (capabilities.ts); empty before EHLO. */
  private capabilityMap: ReadonlyMap<string, string> = NO_CAPABILITIES;
  /** Why the last connection was dropped when a step finds none: a reply out of turn (issue 19). */
  private lostConnectionText: string | undefined = undefined;
  /** What the current connection's EHLO offered; NO_EXTENSIONS before it. */
  private offered: OfferedExtensions = NO_EXTENSIONS;
  /** The flow pipelines on this connection: offered (RFC 2920) and smtp.pipelining is not 'off'. */
  private isPipelined = false;
  /** The flow sends BDAT on this connection: smtp.chunking and offered (RFC 3030). */
  private isChunked = false;

  // A pipelined group (RFC 2920): the phases whose replies the one write asked for, in order
  /** Phases of the group's replies; `awaiting` is groupPhases[groupNext - 1]. Reused, never shrunk. */
  private readonly groupPhases: number[] = [];
  /** Index of the next reply's phase in groupPhases; equal to groupLength when no group is pending. */
  private groupNext = 0;
  private groupLength = 0;
  /** A group's reply failed while later replies of it are still due: they are read and dropped. */
  private drainFailure: Failure | undefined = undefined;

  // The next transaction written ahead with a message's data (writeAhead, RFC 2920 §3.1)
  /** The message being written carries the next transaction: its 250 hands the connection over (beginAhead). */
  private isAheadWritten = false;
  /** The transaction written ahead got its 354: the next message's data may go at once. */
  private isAheadReady = false;
  /** When that 354 came (performance.now() ms): the wait from it to the message's start is the client's. */
  private aheadReadyMs = 0;
  /** Its sender, and the size its MAIL declared (-1: none). */
  private aheadFrom = '';
  private aheadDeclaredBytes = -1;
  /** It failed before any message took it over: the failure and its duration, reported by adoptAhead. */
  private aheadFailure: Failure | undefined = undefined;
  private aheadFailureUs = 0;
  /** groupNext while the transaction written ahead still awaits its first reply (beginAhead); -1 otherwise. */
  private aheadFirstGroupNext = -1;
  /** Its commands (RSET when due, MAIL, every RCPT, DATA) as bytes, reused while its parts stay the same. */
  private aheadGroup: Buffer = Buffer.alloc(0);
  private aheadGroupMailLine: Buffer | undefined = undefined;
  private aheadGroupHasRset = false;
  /** The group's bytes, reused while its parts (RSET or not, MAIL line, RCPT lines) stay the same. */
  private groupBuffer: Buffer = Buffer.alloc(0);
  private groupHasRset = false;
  private groupHasData = false;
  private groupMailLine: Buffer | undefined = undefined;
  private groupRcptLines: readonly Buffer[] | undefined = undefined;

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
  /** The verb of the raw command (command()) whose reply is awaited, upper case; undefined otherwise. */
  private rawVerb: string | undefined = undefined;
  /** Whether that verb names a phase (its reply is timed there) or not (recorder.command). */
  private isRawVerbPhase = false;

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
  /** That message as given (BDAT sends it unstuffed), or undefined. */
  private userMessage: string | undefined = undefined;
  /**
   * A template's message in chunks (builder.ts WireMessage): written as they are by the DATA path;
   * the other paths (BDAT, client faults) take userData/userMessage, made from it on first need
   * (wireToText). Undefined for any other message.
   */
  private userWire: WireMessage | undefined = undefined;
  /** Its template and fields (BDAT sends it unstuffed: rendered again when a text line was stuffed). */
  private wireTemplate: MessageTemplate | undefined = undefined;
  private wireFields: RenderFields | undefined = undefined;
  /** BDAT (RFC 3030): the message content being sent, its chunk count and the next chunk to write. */
  private bdatContent: Buffer = Buffer.alloc(0);
  private bdatChunkTotal = 0;
  private bdatNextChunk = 0;
  /** Where a generated message's content is laid out for BDAT, reused. */
  private contentBuffer: Buffer | undefined = undefined;
  private messageBytes = 0;
  /** Generated body bytes of the message written (its size bucket), -1 for a message written in scenario code. */
  private sentBodyBytes = -1;
  /** A size distribution's bodies (smtp.messageSizes), in bucket order; undefined: one body for every message. */
  private readonly bucketBodies: readonly Buffer[] | undefined;
  /**
   * The next generated message's body, drawn early from the size distribution (writeAhead: the
   * size its transaction's MAIL declares); taken by the next drawBody(). Undefined: none drawn.
   */
  private nextBody: Buffer | undefined = undefined;
  /** A message to send again as it was (resendMessage), taken by prepareMessage; undefined: a new one. */
  private replay: MessageCopy | undefined = undefined;
  /**
   * The flow wrote the generated head before MAIL (its size is declared, RFC 1870) into headWriter,
   * preparedHeadBytes long; false: it is built at DATA.
   */
  private hasPreparedHead = false;
  private preparedHeadBytes = 0;
  private readonly headWriter = new HeadWriter();
  /** Bytes written after the message's end-of-data in the same write (QUIT, a transaction written ahead): not the message's. */
  private messageTrailerBytes = 0;
  /** messageBuffer's first bytes as written last (writeMessage), kept while its size stays. */
  private messageView: Buffer | undefined = undefined;
  /** The message has 8-bit octets (RFC 6152); known before MAIL in the flow only. */
  private isEightBit = false;
  /** The transaction's MAIL declared SMTPUTF8 (RFC 6531 §3.4). */
  private isUtf8Declared = false;
  /** A recipient of rcptTo is not ASCII. */
  private hasUtf8Recipient = false;
  /** X-Runner-Trace sequence of this transaction's message, taken once its content is fixed (takeTrace); 0 before. */
  private traceSequence = 0;
  /** RCPTs of this transaction the server accepted (LMTP owes one reply per each after the data). */
  private rcptAccepted = 0;
  /** LMTP: the message's end is written and its recipients' replies are awaited (RFC 2033 §4.2). */
  private isLmtpDataSent = false;
  /** LMTP: recipient replies still due after the first one came, its next one's index, the refusals so far. */
  private lmtpRepliesDue = 0;
  private lmtpRecipientIndex = 0;
  private lmtpRefused = 0;
  private lmtpFirstRefusal: Failure | undefined = undefined;

  // Client-side faults (client-faults.ts); `fault` is undefined on every message that carries none
  /** The current flow message's fault, or undefined. */
  private fault: ClientFault | undefined = undefined;
  /** The fault was done: what follows on this message (the server's answer to it) fails nothing. */
  private isFaultDone = false;
  /** rset-storm: RSETs still to send before MAIL. */
  private rsetStormLeft = 0;
  /** The pending timer of idle-after-mail or slow-body, or undefined. */
  private faultTimer: NodeJS.Timeout | undefined = undefined;
  /** slow-body: the message data being written, how much of it is, and the bytes and interval per write. */
  private slowData: Buffer | undefined = undefined;
  private slowOffset = 0;
  private slowChunkBytes = 0;
  private slowTickMs = 0;

  // Caches of lines built per sender / recipient list
  private readonly defaultRcptLines: readonly Buffer[];
  private mailLineFrom: string | undefined = undefined;
  /** The declared SIZE (-1: none) and BODY/SMTPUTF8 flags mailLine was built with. */
  private mailLineBytes = -1;
  private mailLineFlags = 0;
  private mailLine: Buffer = Buffer.alloc(0);
  private readonly defaultHasUtf8Recipient: boolean;
  /** The last sender checked for non-ASCII characters, and the answer (one check per sender, not per message). */
  private asciiCheckedFrom: string | undefined = undefined;
  private isFromUtf8 = false;
  /** smtp.dsn when it asks for any DSN parameter (RFC 3461), else undefined. */
  private readonly dsn: DsnSettings | undefined;
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
    this.localPool = target.localAddresses !== undefined && target.localAddresses.length > 0 ? addressPool(target.localAddresses) : undefined;
    this.smtp = smtp;
    this.recorder = recorder;
    this.from = smtp.from;
    this.timeoutMsByPhase = PHASES.map((phase) => smtp.timeoutsMs[phase]);
    this.isAuthNeeded = smtp.auth !== 'none';
    this.isLmtp = smtp.protocol === 'lmtp';
    this.helloVerb = this.isLmtp ? 'LHLO' : 'EHLO';
    this.ehloLine = Buffer.from(`${this.helloVerb} ${smtp.ehloName}\r\n`);
    this.body = bodyWithEndOfData(smtp.messageSize);
    this.bucketBodies = smtp.messageSizes !== undefined ? bucketBodiesWithEndOfData(smtp.messageSizes.sizesBytes) : undefined;
    this.dsn = hasDsnParameters(smtp.dsn) ? smtp.dsn : undefined;
    this.defaultRcptLines = smtp.to.map((address) => rcptLineFor(address, this.dsn));
    this.rcptTo = smtp.to;
    this.rcptLines = this.defaultRcptLines;
    this.defaultHasUtf8Recipient = hasNonAsciiAddress(smtp.to);
    this.hasUtf8Recipient = this.defaultHasUtf8Recipient;
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

  /** EHLO keywords of the current connection (upper case) → their parameters, e.g. 'SIZE' → '52428800' (bounded: capabilities.ts). */
  get capabilities(): ReadonlyMap<string, string> {
    return this.capabilityMap;
  }

  /**
   * Sends one message with the default flow: connect, greeting, EHLO and AUTH when not connected,
   * else RSET when a message was already sent on the connection; MAIL, RCPT per recipient, DATA,
   * the generated message; then QUIT and close when messagesPerConnection messages were sent on
   * the connection. Resolves with the failure, or undefined when the message was accepted
   * (even if QUIT then failed). Never rejects.
   */
  sendMessage(): Promise<Failure | undefined> {
    if (this.driver === DRIVER_AHEAD) {
      const adopted = this.adoptAhead();
      if (adopted !== undefined) return adopted;
    }
    if (this.driver !== DRIVER_NONE) return Promise.resolve(busyFailure('connect'));
    this.messageFrom = this.from;
    this.setRecipients(undefined);
    const composed = this.smtp.composed;
    this.userWire = undefined;
    if (composed === undefined) {
      this.userData = undefined;
      this.userMessage = undefined;
    } else this.useTemplate(templateOf(composed), undefined);
    const chances = this.smtp.clientFaults;
    this.fault = chances === undefined ? undefined : pickClientFault(chances, Math.random());
    return this.runFlow();
  }

  /**
   * The content of the message the last flow (sendMessage, send) sent, to send it again with
   * resendMessage(). Meant for a deferred message (a retry): it copies references, and a
   * generated head's few hundred bytes (the session's head buffer is rewritten per message).
   */
  copyMessage(): MessageCopy {
    const isGiven = this.userWire !== undefined || this.userData !== undefined;
    return {
      traceSequence: this.traceSequence,
      head: isGiven ? undefined : this.headWriter.copy(),
      body: this.body,
      wire: this.userWire,
      wireTemplate: this.wireTemplate,
      wireFields: this.wireFields,
      userData: this.userData,
      userMessage: this.userMessage,
    };
  }

  /**
   * Sends `copy` again, byte for byte (same Message-ID, Date and X-Runner-Trace), through the
   * flow: `options` (from, to, fault) as the first attempt was given them, undefined for the
   * generated flow's sender and recipients. Resolves with the failure, or undefined once accepted.
   */
  resendMessage(copy: MessageCopy, options: SendOptions | undefined): Promise<Failure | undefined> {
    if (this.isBusy()) return Promise.resolve(busyFailure('connect'));
    this.messageFrom = options?.from ?? this.from;
    this.setRecipients(options?.to);
    this.userWire = copy.wire;
    this.wireTemplate = copy.wireTemplate;
    this.wireFields = copy.wireFields;
    this.userData = copy.userData;
    this.userMessage = copy.userMessage;
    if (options !== undefined) this.fault = options.fault;
    else {
      const chances = this.smtp.clientFaults;
      this.fault = chances === undefined ? undefined : pickClientFault(chances, Math.random());
    }
    this.replay = copy;
    return this.runFlow();
  }

  /** Whether a flow or a step runs; a transaction written ahead is given up first (a step or another flow replaces it). */
  private isBusy(): boolean {
    if (this.driver === DRIVER_AHEAD) this.abandonAhead();
    return this.driver !== DRIVER_NONE;
  }

  /** Destroys the connection now; an operation in flight ends with error 'INTERRUPTED' (see class doc). */
  close(): void {
    if (this.driver === DRIVER_AHEAD) this.abandonAhead();
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
    if (this.isBusy()) return rejectBusy('connect');
    const now = performance.now();
    const promise = this.beginStep(GREETING, now);
    if (this.socket !== undefined) this.teardown();
    this.startConnect(now);
    return promise;
  }

  /** EHLO (LHLO with LMTP) with `name` (default: smtp.ehloName); resolves with the 250 reply. */
  ehlo(name?: string): Promise<Reply> {
    if (this.isBusy()) return rejectBusy('ehlo');
    const now = performance.now();
    const promise = this.beginStep(EHLO, now);
    if (!this.requireConnection(EHLO)) return promise;
    if (name !== undefined && hasLineBreak(name)) {
      this.fail({ phase: 'ehlo', error: 'INVALID', text: 'EHLO name contains a line break' }, true);
      return promise;
    }
    this.writeCommand(EHLO, name === undefined ? this.ehloLine : `${this.helloVerb} ${name}\r\n`, now);
    return promise;
  }

  /** AUTH PLAIN with initial response; user defaults to `from`, password to smtp.password. */
  auth(user?: string, password?: string): Promise<Reply> {
    if (this.isBusy()) return rejectBusy('auth');
    const now = performance.now();
    const promise = this.beginStep(AUTH, now);
    if (!this.requireConnection(AUTH)) return promise;
    const authUser = user ?? this.from;
    this.authUser = authUser;
    if (this.recorder.account !== undefined) this.recorder.account(authUser);
    this.authChallenges = 0;
    this.authChallengeText = undefined;
    this.writeCommand(AUTH, authInitialLine(this.mechanism(), authUser, password ?? this.authSecret()), now);
    return promise;
  }

  /**
   * MAIL FROM:<from> (default: `from`). The message is not known yet: no SIZE= or BODY= is
   * declared; SMTPUTF8 is when the sender is not ASCII or `options.smtpUtf8` asks for it (for
   * recipients that are not ASCII).
   */
  mail(from?: string, options?: MailStepOptions): Promise<Reply> {
    if (this.isBusy()) return rejectBusy('mail');
    const now = performance.now();
    const promise = this.beginStep(MAIL, now);
    if (!this.requireConnection(MAIL)) return promise;
    this.messageFrom = from ?? this.from;
    if (this.recorder.account !== undefined) this.recorder.account(this.isAuthDone ? this.authUser : this.messageFrom);
    this.messageBytes = -1;
    this.isEightBit = options?.eightBit === true;
    this.writeMail(now, options?.smtpUtf8 === true);
    return promise;
  }

  /** RCPT TO for each recipient (default: smtp.to); resolves with the last reply. */
  rcpt(to?: string | string[]): Promise<Reply> {
    if (this.isBusy()) return rejectBusy('rcpt');
    const now = performance.now();
    const promise = this.beginStep(RCPT, now);
    if (!this.requireConnection(RCPT)) return promise;
    this.setRecipients(to);
    this.writeFirstRcpt(now);
    return promise;
  }

  /** DATA, then the message (generated when omitted; else CRLF-normalized and dot-stuffed) and end-of-data. */
  data(message?: string | Uint8Array): Promise<Reply> {
    if (this.isBusy()) return rejectBusy('data');
    const now = performance.now();
    const promise = this.beginStep(MESSAGE, now);
    if (message !== undefined && typeof message !== 'string' && !(message instanceof Uint8Array)) {
      this.fail({ phase: 'data', error: 'INVALID', text: `data(message): got ${message === null ? 'null' : Array.isArray(message) ? 'an array' : typeof message}; give the message as a string, a Buffer or a Uint8Array` }, true);
      return promise;
    }
    if (!this.requireConnection(DATA)) return promise;
    this.userWire = undefined;
    if (message instanceof Uint8Array) {
      // Bytes: written as they are after the trace line (a wire message of one Buffer, no template)
      const encoded = encodeMessageBytes(message);
      this.userData = undefined;
      this.userWire = { chunks: ['', encoded.data], bytes: encoded.data.length, isEightBit: encoded.isEightBit, stuffedDots: encoded.stuffedDots };
      this.wireTemplate = undefined;
    } else this.userData = message === undefined ? undefined : encodeMessageData(message);
    this.writeCommand(DATA, DATA_LINE, now);
    return promise;
  }

  /** RSET (RFC 5321 §4.1.1.5): aborts the current transaction. */
  rset(): Promise<Reply> {
    if (this.isBusy()) return rejectBusy('rset');
    const now = performance.now();
    const promise = this.beginStep(RSET, now);
    if (!this.requireConnection(RSET)) return promise;
    this.writeCommand(RSET, RSET_LINE, now);
    return promise;
  }

  /**
   * A raw command line (see SmtpSteps.command): any reply settles it. A verb that names no phase
   * is attributed to rset if the connection fails under it (RFC 5321 §4.1.4: like RSET, NOOP, VRFY,
   * EXPN and HELP may come at any time, outside a transaction's order).
   */
  command(line: string): Promise<Reply> {
    if (this.isBusy()) return rejectBusy('rset');
    const verb = (/^[A-Za-z]+/.exec(line)?.[0] ?? '').toUpperCase();
    const phase = RAW_VERB_PHASES[verb] ?? RSET;
    const now = performance.now();
    const promise = this.beginStep(phase, now, false);
    if (verb === '' || hasLineBreak(line)) {
      this.fail({ phase: PHASES[phase]!, error: 'INVALID', text: `command(${JSON.stringify(line)}): give one command line starting with its verb, without CR or LF` }, true);
      return promise;
    }
    if (verb === 'DATA' || verb === 'BDAT' || verb === 'STARTTLS') {
      this.fail({ phase: PHASES[phase]!, error: 'INVALID', text: `command('${verb}') would change the framing: use data() for the message, smtp.tls for TLS` }, true);
      return promise;
    }
    if (!this.requireConnection(phase)) return promise;
    this.rawVerb = verb;
    this.isRawVerbPhase = RAW_VERB_PHASES[verb] !== undefined;
    this.writeCommand(phase, line + '\r\n', now);
    return promise;
  }

  /** The reply to a raw command: timed, then the step resolves with it whatever its code. */
  private settleRawCommand(reply: Reply): void {
    const now = performance.now();
    const durationUs = elapsedUs(this.phaseStartMs, now);
    if (this.isRawVerbPhase) this.recorder.phase(this.awaiting, durationUs);
    else if (this.recorder.command !== undefined) this.recorder.command(this.rawVerb!, durationUs);
    this.rawVerb = undefined;
    this.awaiting = IDLE;
    this.deadline.deadlineMs = 0;
    // RFC 5321 §4.1.1.10: 221 to QUIT, and 421 from any command, close the channel
    if (reply.code === CODE_CLOSING || reply.code === CODE_SERVICE_UNAVAILABLE) this.teardown();
    this.settleStep(reply);
  }

  /**
   * QUIT, then close. Resolves with the 221, or with a synthetic 221 whose text says so when the
   * server closed instead of answering, or when there was no connection (so `quit()` in a
   * `finally` is always safe).
   */
  quit(): Promise<Reply> {
    if (this.isBusy()) return rejectBusy('quit');
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
    if (this.isBusy()) throw new SmtpStepError(busyFailure('connect'));
    const fault = options?.fault;
    const faultProblem = fault === undefined ? undefined : describeInvalidFault(fault);
    if (faultProblem !== undefined) throw new SmtpStepError({ phase: 'connect', error: 'INVALID', text: `send({ fault }): ${faultProblem}` });
    this.fault = fault;
    this.messageFrom = options?.from ?? this.from;
    this.setRecipients(options?.to);
    const given = options?.message;
    this.userWire = undefined;
    if (isMessageTemplate(given)) this.useTemplate(given, options?.vars);
    else {
      this.userData = given === undefined ? undefined : encodeMessageData(given);
      this.userMessage = given;
    }
    const failure = await this.runFlow();
    if (failure !== undefined) throw new SmtpStepError(failure);
  }

  /**
   * A template's message for this send (the transaction's sender and recipients, this VU's
   * fields), rendered straight to its wire form; the unstuffed text BDAT sends is the same text
   * unless a text line starts with '.', then rendered once more.
   */
  private useTemplate(template: MessageTemplate, vars: Readonly<Record<string, unknown>> | undefined): void {
    const fields = { from: this.messageFrom, to: this.rcptTo, vu: this.vu, iteration: this.iteration, seq: this.sequence, runId: this.runId, vars };
    this.userWire = template.renderWire(fields);
    this.wireTemplate = template;
    this.wireFields = fields;
    this.userData = undefined;
    this.userMessage = undefined;
  }

  /** The dots dot-stuffing added to userData (one indexOf scan; the end-of-data line has none). */
  private userDataStuffedDots(): number {
    return countStuffedDots(this.userData!);
  }

  /** userData and userMessage of a template's message, for the paths that take text (see userWire). */
  private wireToText(): void {
    const wire = this.userWire;
    if (wire === undefined) return;
    this.userWire = undefined;
    const data = Buffer.concat(wire.chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk))).toString();
    this.userData = data;
    const template = this.wireTemplate;
    // Without a template (bytes given to data()): the text as written, dot-stuffed already
    this.userMessage = template !== undefined && template.hasDotLines ? template.render(this.wireFields!) : data.slice(0, data.length - END_OF_DATA.length);
  }

  // ---- the flow ----

  private runFlow(): Promise<Failure | undefined> {
    // The flow authenticates as the message's sender (advanceFlow replaces a connection
    // authenticated as another), so the sender is the account of every sample it takes.
    if (this.recorder.account !== undefined) this.recorder.account(this.messageFrom);
    this.driver = DRIVER_FLOW;
    this.flowResult = undefined;
    const now = performance.now();
    this.beginTxn(now);
    const fault = this.fault;
    this.rsetStormLeft = fault !== undefined && fault.kind === 'rset-storm' ? fault.count ?? CLIENT_FAULT_DEFAULTS.count : 0;
    this.prepareMessage();
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
    else if (this.rsetStormLeft > 0) this.writeStormRset(now);
    // A message with a fault goes one command at a time, so the fault lands where it says
    else if (this.isPipelined && this.fault === undefined) this.writeTransactionGroup(now);
    else if (this.needsRset) this.writeCommand(RSET, RSET_LINE, now);
    else this.writeMail(now, this.hasUtf8Recipient);
  }

  /**
   * The flow knows its message before MAIL, so MAIL can declare its size (RFC 1870) and 8-bit
   * body (RFC 6152): a user message is already encoded; a generated head is built now and
   * written at DATA.
   */
  private prepareMessage(): void {
    const replay = this.replay;
    if (replay !== undefined) {
      // The same message again: takeTrace() gives its trace sequence, the head and body are its own
      this.replay = undefined;
      this.traceSequence = replay.traceSequence;
    }
    const wire = this.userWire;
    if (wire !== undefined) {
      // Client faults and BDAT take the message as text
      if (this.fault !== undefined || this.smtp.chunking === true) this.wireToText();
      else {
        this.messageBytes = wire.bytes + traceHeaderLine(this.runId, this.takeTrace()).length - END_OF_DATA.length;
        this.isEightBit = wire.isEightBit;
        this.hasPreparedHead = false;
        return;
      }
    }
    const userData = this.userData;
    if (userData !== undefined) {
      const dataBytes = Buffer.byteLength(userData);
      const bytes = dataBytes + traceHeaderLine(this.runId, this.takeTrace()).length;
      // RFC 1870 §4 counts no stuffed dots: this slight overestimate is what §6.1 expects of a client
      this.messageBytes = bytes - END_OF_DATA.length;
      this.isEightBit = dataBytes !== userData.length;
      this.hasPreparedHead = false;
      return;
    }
    const writer = this.headWriter;
    let headBytes;
    if (replay !== undefined && replay.head !== undefined) {
      headBytes = writer.load(replay.head);
      this.body = replay.body;
    } else {
      this.drawBody();
      headBytes = writer.write(this.messageFrom, this.rcptTo, this.sequence, this.runId, this.takeTrace(), drawMessageIdRandom());
    }
    this.hasPreparedHead = true;
    this.preparedHeadBytes = headBytes;
    this.messageBytes = headBytes + this.body.length - END_OF_DATA.length;
    // The generated body is ASCII: only the head (From, To) can be 8-bit
    this.isEightBit = writer.isEightBit;
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

  /** MAIL alone; `hasUtf8Recipient`: a recipient of the transaction is not ASCII (SMTPUTF8 is declared). */
  private writeMail(now: number, hasUtf8Recipient: boolean): void {
    if (!this.prepareMailLine(hasUtf8Recipient)) return;
    this.messagesOnConnection++;
    this.needsRset = true;
    this.rcptAccepted = 0;
    this.writeCommand(MAIL, this.mailLine, now);
  }

  /**
   * Sets `mailLine` for this transaction: `MAIL FROM:<from>` and its parameters (mail-parameters.ts),
   * rebuilt only when the sender or what it declares changes. False, and the failure reported,
   * when it must not be sent (nothing was written).
   */
  private prepareMailLine(hasUtf8Recipient: boolean): boolean {
    const from = this.messageFrom;
    if (from !== this.asciiCheckedFrom) {
      this.asciiCheckedFrom = from;
      this.isFromUtf8 = !isAscii(from);
    }
    const hasUtf8Address = hasUtf8Recipient || this.isFromUtf8;
    const offered = this.offered;
    // RFC 6531 §3.4: an internationalized address only to a server that offers SMTPUTF8
    if (hasUtf8Address && !offered.smtpUtf8) {
      this.fail({ phase: 'mail', error: SMTPUTF8_NOT_OFFERED, text: SMTPUTF8_NOT_OFFERED_TEXT }, true);
      return false;
    }
    const dsn = this.dsn;
    // RFC 3461 §4: DSN parameters only to a server that offers DSN
    if (dsn !== undefined && !offered.dsn) {
      this.fail({ phase: 'mail', error: DSN_NOT_OFFERED, text: DSN_NOT_OFFERED_TEXT }, true);
      return false;
    }
    this.isUtf8Declared = hasUtf8Address;
    // Checked once per sender: mailLineFrom is one that passed
    if (from !== this.mailLineFrom && hasLineBreak(from)) {
      this.fail({ phase: 'mail', error: 'INVALID', text: 'sender address contains a line break' }, true);
      return false;
    }
    this.mailLineFor(offered.size ? this.messageBytes : -1, hasUtf8Address);
    return true;
  }

  /**
   * `MAIL FROM:<messageFrom>` declaring `declaredBytes` (-1: no SIZE) and the message's BODY and
   * SMTPUTF8 as offered, into `mailLine`: rebuilt only when one of them changes (with DSN, per
   * message: ENVID names it). The caller checked the sender.
   */
  private mailLineFor(declaredBytes: number, hasUtf8Address: boolean): Buffer {
    const from = this.messageFrom;
    const offered = this.offered;
    const dsn = this.dsn;
    const flags = (this.isEightBit ? 1 : 0) | (hasUtf8Address ? 2 : 0) | (offered.eightBitMime ? 4 : 0) | (offered.smtpUtf8 ? 8 : 0);
    if (dsn !== undefined || from !== this.mailLineFrom || declaredBytes !== this.mailLineBytes || flags !== this.mailLineFlags) {
      const parameters =
        mailParameters(offered, { messageBytes: declaredBytes, isEightBit: this.isEightBit, hasUtf8Address }) +
        dsnMailParameters(dsn, `${this.runId}.${this.sequence}`);
      this.mailLine = Buffer.from(`MAIL FROM:<${from}>${parameters}\r\n`);
      this.mailLineFrom = from;
      this.mailLineBytes = declaredBytes;
      this.mailLineFlags = flags;
    }
    return this.mailLine;
  }

  /**
   * RFC 2920 §3.1: RSET (when due), MAIL, every RCPT and DATA in one write; DATA may only end a
   * group (its 354 changes the state), so the message waits for it. The replies are then read in
   * order (advanceGroup); the group's bytes are reused while its parts stay the same.
   */
  private writeTransactionGroup(now: number): void {
    this.aheadFirstGroupNext = -1;
    if (!this.prepareMailLine(this.hasUtf8Recipient) || !this.checkRecipients()) return;
    const hasRset = this.needsRset;
    const mailLine = this.mailLine;
    const rcptLines = this.rcptLines;
    // With BDAT the group goes on with the message itself (RFC 3030 §4.2 allows BDAT anywhere in a group)
    const hasData = !this.isChunked;
    if (hasRset !== this.groupHasRset || mailLine !== this.groupMailLine || rcptLines !== this.groupRcptLines || hasData !== this.groupHasData) {
      const parts = hasRset ? [RSET_LINE, mailLine, ...rcptLines] : [mailLine, ...rcptLines];
      if (hasData) parts.push(DATA_LINE);
      this.groupBuffer = Buffer.concat(parts);
      this.groupHasRset = hasRset;
      this.groupMailLine = mailLine;
      this.groupRcptLines = rcptLines;
      this.groupHasData = hasData;
    }
    const phases = this.groupPhases;
    let count = 0;
    if (hasRset) phases[count++] = RSET;
    phases[count++] = MAIL;
    for (let i = 0; i < rcptLines.length; i++) phases[count++] = RCPT;
    if (hasData) phases[count++] = DATA;
    this.groupLength = count;
    this.groupNext = 1;
    this.rcptIndex = 0;
    this.messagesOnConnection++;
    this.needsRset = true;
    this.rcptAccepted = 0;
    if (this.transcript !== undefined) {
      if (hasRset) this.traceCommand(RSET_LINE);
      this.traceCommand(mailLine);
      for (const line of rcptLines) this.traceCommand(line);
      if (hasData) this.traceCommand(DATA_LINE);
    }
    this.awaiting = phases[0]!;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[this.awaiting]!;
    this.commandChunk = this.chunkCount;
    if (hasData) (this.tlsSocket ?? this.socket)!.write(this.groupBuffer);
    else this.writeBdat(now, count);
  }

  /**
   * The message as BDAT chunks (RFC 3030), after `groupCount` queued replies of a pipelined group
   * whose command bytes (groupBuffer) go first in the same write (0: no group, the RCPTs were
   * answered). Pipelined, every chunk goes in this write, and QUIT after the last message of a
   * connection; else one chunk per reply. The message phase runs from this write to the last
   * chunk's 250.
   */
  private writeBdat(now: number, groupCount: number): void {
    const content = this.messageContent();
    const chunkBytes = this.smtp.chunkSizeBytes ?? 0;
    const total = bdatChunkCount(content.length, chunkBytes);
    this.bdatContent = content;
    this.bdatChunkTotal = total;
    this.bdatNextChunk = 0;
    this.messageTrailerBytes = 0;
    if (groupCount === 0) {
      this.awaiting = MESSAGE;
      this.phaseStartMs = now;
      this.deadline.deadlineMs = now + this.timeoutMsByPhase[MESSAGE]!;
      this.commandChunk = this.chunkCount;
    }
    if (!this.isPipelined) {
      this.writeBdatChunks(0);
      return;
    }
    const phases = this.groupPhases;
    let count = groupCount;
    for (let i = 0; i < total; i++) phases[count++] = MESSAGE;
    const isQuitPipelined = this.driver === DRIVER_FLOW && this.messagesOnConnection >= this.smtp.messagesPerConnection;
    if (isQuitPipelined) phases[count++] = QUIT;
    this.groupLength = count;
    this.groupNext = 1;
    this.writeBdatChunks(groupCount === 0 ? 0 : this.groupBuffer.length, isQuitPipelined);
    // A group that starts with the message: `awaiting` is its first reply
    if (groupCount === 0) this.awaiting = MESSAGE;
  }

  /**
   * Writes the next BDAT chunk, or every remaining one on a pipelined connection, in one write,
   * after `prefixBytes` of groupBuffer and before QUIT when `withQuit`.
   */
  private writeBdatChunks(prefixBytes: number, withQuit = false): void {
    const socket = (this.tlsSocket ?? this.socket)!;
    const content = this.bdatContent;
    const chunkBytes = this.smtp.chunkSizeBytes ?? 0;
    const from = this.bdatNextChunk;
    const to = this.isPipelined ? this.bdatChunkTotal : from + 1;
    const size = prefixBytes + bdatWireBytes(content.length, chunkBytes, from, to) + (withQuit ? QUIT_LINE.length : 0);
    const wire = this.writableBuffer(size, socket);
    if (prefixBytes > 0) this.groupBuffer.copy(wire, 0, 0, prefixBytes);
    let at = writeBdatChunks(wire, prefixBytes, content, chunkBytes, from, to);
    if (withQuit) at += QUIT_LINE.copy(wire, at);
    this.bdatNextChunk = to;
    if (to === this.bdatChunkTotal) this.expectLmtpReplies();
    if (this.transcript !== undefined) {
      this.transcript('C', `<${to - from} BDAT chunk${to - from === 1 ? '' : 's'}, ${content.length.toLocaleString('en-US')} bytes of message${to === this.bdatChunkTotal ? ', LAST' : ''}>`);
      if (withQuit) this.traceCommand(QUIT_LINE);
    }
    socket.write(wire.subarray(0, at));
  }

  /** The session's reusable write buffer with room for `size` bytes (see writeMessage on when it is replaced). */
  private writableBuffer(size: number, socket: { writableLength: number }): Buffer {
    let buffer = this.messageBuffer;
    if (buffer === undefined || buffer.length < size || socket.writableLength > 0 || this.tlsSocket !== undefined) {
      buffer = Buffer.allocUnsafeSlow(size + MESSAGE_BUFFER_SLACK_BYTES);
      this.messageBuffer = this.tlsSocket === undefined ? buffer : undefined;
    }
    return buffer;
  }

  /**
   * The message's bytes for BDAT (RFC 3030 §2: not dot-stuffed, no end-of-data line): a given
   * message with CRLF line endings, or the generated head and body in a reused buffer.
   */
  private messageContent(): Buffer {
    this.wireToText();
    const userMessage = this.userMessage;
    if (userMessage !== undefined) {
      const normalized = traceHeaderLine(this.runId, this.takeTrace()) + normalizeLineEndings(userMessage);
      const content = Buffer.from(normalized.endsWith('\r\n') ? normalized : normalized + '\r\n');
      this.messageBytes = content.length;
      this.sentBodyBytes = -1;
      return content;
    }
    const preparedHead = this.takePreparedHead();
    if (preparedHead === undefined) this.drawBody();
    this.sentBodyBytes = this.body.length - END_OF_DATA.length;
    const head = preparedHead ?? buildHead({ from: this.messageFrom, to: this.rcptTo, sequence: this.sequence, runId: this.runId, traceSequence: this.takeTrace() });
    const headBytes = preparedHead !== undefined ? this.preparedHeadBytes : Buffer.byteLength(head);
    const bodyBytes = this.body.length - END_OF_DATA.length;
    const size = headBytes + bodyBytes;
    let content = this.contentBuffer;
    if (content === undefined || content.length < size) {
      content = Buffer.allocUnsafeSlow(size + MESSAGE_BUFFER_SLACK_BYTES);
      this.contentBuffer = content;
    }
    content.write(head, 0, headBytes, 'utf8');
    this.body.copy(content, headBytes, 0, bodyBytes);
    this.messageBytes = size;
    return content.subarray(0, size);
  }

  /**
   * A reply of a pipelined group that is not its last: the phase is timed from the group's write
   * to this reply's arrival (the rcpt phase once, at the last recipient's reply), and the next
   * reply is expected. The group's last reply takes the normal path (handleReply).
   */
  private advanceGroup(phase: number, now: number): void {
    if (phase === MESSAGE && this.isAheadWritten) {
      this.recorder.phase(MESSAGE, elapsedUs(this.phaseStartMs, now));
      this.acceptMessage(now);
      this.beginAhead(now);
      return;
    }
    const next = this.groupPhases[this.groupNext++]!;
    // Several RCPTs (or BDAT chunks) are one phase, ended by the last one's reply
    if (phase !== next) {
      this.recorder.phase(phase, elapsedUs(this.phaseStartMs, now));
      if (phase === MESSAGE) this.acceptMessage(now);
    }
    this.awaiting = next;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[next]!;
  }

  /**
   * A reply of a group after one of its replies failed. RFC 2920 §3.1: the client reads every
   * reply of the group; they are dropped (the failure is already recorded). A DATA the server
   * still accepted (354) is not followed by the lone dot §3.1 suggests, which would deliver an
   * empty message to any accepted recipient: the connection is closed instead, and a server
   * delivers nothing whose end-of-data it did not get (RFC 5321 §4.1.1.4).
   */
  private drainReply(phase: number, code: number): void {
    const now = performance.now();
    if (this.groupNext < this.groupLength) {
      this.awaitNextOfDrainedGroup(now);
      return;
    }
    const failure = this.drainFailure!;
    this.drainFailure = undefined;
    this.awaiting = IDLE;
    this.deadline.deadlineMs = 0;
    if (phase === DATA && code === CODE_START_INPUT) this.teardown();
    this.endFailure(failure, now);
  }

  /** Expects the next reply of a group being drained; QUIT's reply ends the flow the usual way. */
  private awaitNextOfDrainedGroup(now: number): void {
    const next = this.groupPhases[this.groupNext++]!;
    this.awaiting = next;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[next]!;
    if (next === QUIT) this.drainFailure = undefined;
  }

  private setRecipients(to: string | readonly string[] | undefined): void {
    if (to === undefined) {
      this.rcptTo = this.smtp.to;
      this.rcptLines = this.defaultRcptLines;
      this.hasUtf8Recipient = this.defaultHasUtf8Recipient;
      return;
    }
    const list = typeof to === 'string' ? [to] : to;
    this.rcptTo = list;
    this.rcptLines = list.map((address) => rcptLineFor(address, this.dsn));
    this.hasUtf8Recipient = hasNonAsciiAddress(list);
  }

  private writeFirstRcpt(now: number): void {
    if (!this.checkRecipients()) return;
    this.rcptIndex = 0;
    this.writeCommand(RCPT, this.rcptLines[0]!, now);
  }

  /** Whether the recipients can be sent; else the failure is reported (nothing was written). */
  private checkRecipients(): boolean {
    const lines = this.rcptLines;
    if (lines.length === 0) {
      this.fail({ phase: 'rcpt', error: 'INVALID', text: 'no recipients' }, true);
      return false;
    }
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.length === 0) {
        this.fail({ phase: 'rcpt', error: 'INVALID', text: `recipient ${JSON.stringify(this.rcptTo[i])} contains a line break` }, true);
        return false;
      }
    }
    // RFC 6531 §3.4: an internationalized recipient needs SMTPUTF8 on this transaction's MAIL
    if (this.hasUtf8Recipient && !this.isUtf8Declared) {
      const text = this.offered.smtpUtf8
        ? 'a recipient is not ASCII and MAIL did not declare SMTPUTF8 (RFC 6531): call mail(from, { smtpUtf8: true }) first'
        : SMTPUTF8_NOT_OFFERED_TEXT;
      this.fail({ phase: 'rcpt', error: SMTPUTF8_NOT_OFFERED, text }, true);
      return false;
    }
    return true;
  }

  /**
   * Writes the message after 354: generated head + shared body in one write, or the user's data.
   * On a pipelined connection the flow's last message on it carries QUIT in the same write
   * (RFC 2920 §3.1: message content may start a group, QUIT may end one).
   */
  private writeMessage(now: number): void {
    const fault = this.fault;
    if (fault !== undefined && (fault.kind === 'abort-data' || fault.kind === 'slow-body')) {
      this.writeFaultyMessage(fault, now);
      return;
    }
    const socket = (this.tlsSocket ?? this.socket)!;
    this.aheadFirstGroupNext = -1;
    this.awaiting = MESSAGE;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[MESSAGE]!;
    this.commandChunk = this.chunkCount;
    this.bdatChunkTotal = 0;
    this.bdatNextChunk = 0;
    this.expectLmtpReplies();
    const isQuitPipelined = this.isPipelined && this.driver === DRIVER_FLOW && fault === undefined && this.messagesOnConnection >= this.smtp.messagesPerConnection;
    this.messageTrailerBytes = isQuitPipelined ? QUIT_LINE.length : 0;
    if (isQuitPipelined) {
      this.groupPhases[0] = MESSAGE;
      this.groupPhases[1] = QUIT;
      this.groupNext = 1;
      this.groupLength = 2;
    }
    const wire = this.userWire;
    if (wire !== undefined) {
      // A template's message: its chunks in one corked writev, the attachments' Buffers as they are
      const chunks = wire.chunks;
      const traceLine = traceHeaderLine(this.runId, this.takeTrace());
      // The size the server keeps: without the dots stuffing added (RFC 5321 §4.5.2)
      this.messageBytes = wire.bytes + traceLine.length - END_OF_DATA.length - wire.stuffedDots;
      this.sentBodyBytes = -1;
      if (this.transcript !== undefined) this.traceMessage(isQuitPipelined);
      socket.cork();
      socket.write(traceLine + (chunks[0] as string));
      for (let i = 1; i < chunks.length; i++) socket.write(chunks[i]!);
      if (isQuitPipelined) socket.write(QUIT_LINE);
      socket.uncork();
      return;
    }
    const userData = this.userData;
    if (userData !== undefined) {
      // A message written in scenario code carries the trace header too, as its first line
      const data = traceHeaderLine(this.runId, this.takeTrace()) + userData;
      this.messageBytes = Buffer.byteLength(data) - END_OF_DATA.length - this.userDataStuffedDots();
      this.sentBodyBytes = -1;
      if (this.transcript !== undefined) this.traceMessage(isQuitPipelined);
      socket.write(isQuitPipelined ? data + 'QUIT\r\n' : data);
      return;
    }
    const hasPreparedHead = this.hasPreparedHead;
    this.hasPreparedHead = false;
    if (!hasPreparedHead) this.drawBody();
    const head = hasPreparedHead ? undefined : buildHead({ from: this.messageFrom, to: this.rcptTo, sequence: this.sequence, runId: this.runId, traceSequence: this.takeTrace() });
    const headBytes = head === undefined ? this.preparedHeadBytes : Buffer.byteLength(head);
    const body = this.body;
    this.sentBodyBytes = body.length - END_OF_DATA.length;
    this.messageBytes = headBytes + body.length - END_OF_DATA.length;
    if (this.transcript !== undefined) this.traceMessage(isQuitPipelined);
    const ahead = isQuitPipelined ? undefined : this.writeAhead(headBytes);
    // One Buffer, one plain write: a corked writev of a string and a Buffer costs Node's stream
    // layer more (chunk arrays, string encoding in C++) than copying ~1 KB here. The buffer is
    // the session's own and reused: by the time the next message is written the server has
    // answered this one, so the kernel has every byte; it is replaced if a write is still queued
    // (writableLength) or over TLS (whose layer may keep a reference).
    const size = headBytes + body.length + this.messageTrailerBytes;
    let message = this.messageBuffer;
    if (message === undefined || message.length < size || socket.writableLength > 0 || this.tlsSocket !== undefined) {
      message = Buffer.allocUnsafeSlow(size + MESSAGE_BUFFER_SLACK_BYTES);
      this.messageBuffer = this.tlsSocket === undefined ? message : undefined;
    }
    if (head === undefined) message.set(this.headWriter.view(), 0);
    else message.write(head, 0, headBytes, 'utf8');
    message.set(body, headBytes);
    if (isQuitPipelined) message.set(QUIT_LINE, headBytes + body.length);
    else if (ahead !== undefined) message.set(ahead, headBytes + body.length);
    // The same view while the size stays (a subarray per message was a Buffer object per message)
    let view = this.messageView;
    if (view === undefined || view.buffer !== message.buffer || view.length !== size) {
      view = message.subarray(0, size);
      this.messageView = view;
    }
    socket.write(view);
  }

  /**
   * RFC 2920 §3.1 lets message content start a group. When the engine grants this VU's next
   * iteration now (nextIterationGrant: a closed-model loop, no think time, one sender) and the
   * connection will carry it, that message's RSET (when due), MAIL, every RCPT and DATA follow
   * this one's end-of-data in the same write: the server answers this message and opens the next
   * transaction in one go, one round trip per message instead of two, as smtp.pipelining 'auto'
   * asks ('transaction' keeps each transaction to its own writes). Only for generated messages with
   * the default envelope and no client faults, LMTP or DSN. Its MAIL declares this message's head,
   * the next message's body (drawn now from a size distribution, nextBody) and
   * AHEAD_SIZE_SLACK_BYTES: the next head is written when its iteration starts. Returns the
   * group's bytes, or undefined (nothing written).
   */
  private writeAhead(headBytes: number): Buffer | undefined {
    const grant = this.nextIterationGrant;
    if (
      grant === undefined ||
      !this.isPipelined ||
      this.driver !== DRIVER_FLOW ||
      this.smtp.pipelining === 'transaction' ||
      this.fault !== undefined ||
      this.isLmtp ||
      this.dsn !== undefined ||
      this.smtp.clientFaults !== undefined ||
      this.smtp.composed !== undefined ||
      this.messageFrom !== this.from ||
      this.rcptLines !== this.defaultRcptLines ||
      this.messagesOnConnection >= this.smtp.messagesPerConnection
    ) {
      return undefined;
    }
    // Its message's body is drawn now (a size distribution), so SIZE is declared for that body,
    // not the largest bucket's: an overestimate would have a server's limit refuse small messages
    const bodies = this.bucketBodies;
    let nextBodyBytes = this.body.length;
    if (bodies !== undefined) {
      const next = this.nextBody ?? bodies[drawBucket(this.smtp.messageSizes!)]!;
      this.nextBody = next;
      nextBodyBytes = next.length;
    }
    const offered = this.offered;
    const declaredBytes = offered.size ? headBytes + nextBodyBytes - END_OF_DATA.length + AHEAD_SIZE_SLACK_BYTES : -1;
    // RFC 1870 §6.1: an estimate past the server's limit is refused at MAIL, where the exact size
    // its own transaction declares may not be: such a message goes in its own group
    if (offered.sizeLimitBytes > 0 && declaredBytes > offered.sizeLimitBytes) return undefined;
    // Asked last: a true answer is the next iteration's start
    if (!grant()) return undefined;
    const mailLine = this.mailLineFor(declaredBytes, this.isUtf8Declared);
    // RFC 5321 §4.1.1.4: the reply to end-of-data ends the transaction; RSET as between any two messages
    const hasRset = this.smtp.rsetBetweenMessages !== false;
    const rcptLines = this.rcptLines;
    if (mailLine !== this.aheadGroupMailLine || hasRset !== this.aheadGroupHasRset) {
      const parts = hasRset ? [RSET_LINE, mailLine, ...rcptLines, DATA_LINE] : [mailLine, ...rcptLines, DATA_LINE];
      this.aheadGroup = Buffer.concat(parts);
      this.aheadGroupMailLine = mailLine;
      this.aheadGroupHasRset = hasRset;
    }
    const phases = this.groupPhases;
    let count = 0;
    phases[count++] = MESSAGE;
    if (hasRset) phases[count++] = RSET;
    phases[count++] = MAIL;
    for (let i = 0; i < rcptLines.length; i++) phases[count++] = RCPT;
    phases[count++] = DATA;
    this.groupLength = count;
    this.groupNext = 1;
    this.messagesOnConnection++;
    this.isAheadWritten = true;
    this.aheadFrom = this.messageFrom;
    this.aheadDeclaredBytes = declaredBytes;
    this.messageTrailerBytes = this.aheadGroup.length;
    if (this.transcript !== undefined) {
      if (hasRset) this.traceCommand(RSET_LINE);
      this.traceCommand(mailLine);
      for (const line of rcptLines) this.traceCommand(line);
      this.traceCommand(DATA_LINE);
    }
    return this.aheadGroup;
  }

  /**
   * The message's reply arrived on a write that carried the next transaction: the message's
   * iteration ends, and the transaction written ahead is read on under DRIVER_AHEAD until the next
   * sendMessage() takes it over. It starts now (the server reads its commands after answering the
   * message): its phases and its message's latency are timed from this reply.
   */
  private beginAhead(now: number): void {
    const next = this.groupPhases[this.groupNext++]!;
    this.aheadFirstGroupNext = this.groupNext;
    this.isAheadWritten = false;
    this.finishFlow();
    this.driver = DRIVER_AHEAD;
    this.isInTxn = true;
    this.isAccepted = false;
    this.isFaultDone = false;
    this.txnStartMs = now;
    // Its MAIL is sent (acceptMessage may have cleared this for the message before)
    this.needsRset = true;
    this.rcptAccepted = 0;
    this.aheadFailure = undefined;
    this.isAheadReady = false;
    this.awaiting = next;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[next]!;
  }

  /**
   * The message was refused (not 421) on a write that carried the next transaction: it fails, and
   * that transaction goes on (RFC 5321 §4.1.1.4: the reply to end-of-data ends the transaction
   * whatever it says).
   */
  private refuseMessageBeforeAhead(reply: Reply): void {
    const now = performance.now();
    this.recordTxnFailure({ phase: 'message', code: reply.code, enhanced: reply.enhanced, text: reply.lines.join(' ') }, now);
    this.beginAhead(now);
  }

  /**
   * The next message takes over the transaction written ahead: the grant promised the same
   * sender, the default recipients and a generated message. Its 354 may be in (the data goes now),
   * its replies may still be coming (the flow goes on from them), or it may have failed (reported
   * now, as this message's failure: the server refused this message's MAIL or RCPT). Undefined,
   * after abandonAhead, when it cannot be taken over: the caller then starts the usual flow.
   */
  private adoptAhead(): Promise<Failure | undefined> | undefined {
    const failure = this.aheadFailure;
    if (this.from !== this.aheadFrom || this.smtp.composed !== undefined || this.smtp.clientFaults !== undefined || (failure === undefined && this.socket === undefined)) {
      this.abandonAhead();
      return undefined;
    }
    this.messageFrom = this.from;
    this.setRecipients(undefined);
    this.userWire = undefined;
    this.userData = undefined;
    this.userMessage = undefined;
    this.fault = undefined;
    if (this.recorder.account !== undefined) this.recorder.account(this.messageFrom);
    this.traceSequence = 0;
    this.prepareMessage();
    if (failure === undefined && this.aheadDeclaredBytes >= 0 && this.messageBytes > this.aheadDeclaredBytes) {
      // Larger than its MAIL declared (RFC 1870): not sent on that transaction
      this.abandonAhead();
      return undefined;
    }
    this.driver = DRIVER_FLOW;
    this.flowResult = undefined;
    const promise = new Promise<Failure | undefined>(this.captureFlow);
    if (failure !== undefined) {
      this.aheadFailure = undefined;
      this.flowResult = failure;
      this.recorder.failed(failure, this.aheadFailureUs, this.traceSequence);
      // A group still being read ends the flow at its last reply (drainReply)
      if (this.drainFailure === undefined) this.endFailure(failure, performance.now());
      return promise;
    }
    if (this.isAheadReady) {
      this.isAheadReady = false;
      const now = performance.now();
      // The server was done waiting at its 354; the time until this message came (a pause between
      // iterations, a busy event loop) is the client's and in no latency: the transaction's clock
      // stood still meanwhile, as it never stops in a flow that writes the data at the 354
      this.txnStartMs += now - this.aheadReadyMs;
      this.writeMessage(now);
    }
    return promise;
  }

  /**
   * Gives up the transaction written ahead: its message will not come (another envelope, a step,
   * the end of the run). Once DATA is sent only an end-of-data ends it, and a lone dot would
   * deliver an empty message (RFC 5321 §4.1.1.4), so the connection is closed and the server
   * delivers nothing. A transaction that failed and whose replies were all read leaves the
   * connection as it is. Nothing is recorded: no iteration owned it.
   */
  private abandonAhead(): void {
    this.driver = DRIVER_NONE;
    this.isInTxn = false;
    const isOpen = this.isAheadReady || this.awaiting !== IDLE;
    this.aheadFailure = undefined;
    this.isAheadReady = false;
    if (isOpen && this.socket !== undefined) {
      if (this.transcript !== undefined) this.transcript('C', '<connection closed: no message came for the transaction written ahead>');
      this.teardown();
    }
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
  private beginStep(endPhase: number, now: number, isMessageStep = true): Promise<Reply> {
    this.driver = DRIVER_STEP;
    this.stepEndPhase = endPhase;
    this.rawVerb = undefined;
    this.fault = undefined;
    // A head the flow prepared and did not send belongs to no step
    this.hasPreparedHead = false;
    if (!this.isInTxn && endPhase !== QUIT && isMessageStep) this.beginTxn(now);
    return new Promise<Reply>(this.captureStep);
  }

  /** Fails the running step when there is no idle established connection. */
  private requireConnection(phase: number): boolean {
    if (this.socket !== undefined && this.isEstablished && this.awaiting === IDLE) return true;
    const lost = this.socket === undefined ? this.lostConnectionText : undefined;
    if (lost !== undefined) this.fail({ phase: PHASES[phase]!, error: 'PROTOCOL', text: lost }, true);
    else this.fail({ phase: PHASES[phase]!, error: 'CLOSED', text: 'not connected: call connect() first' }, true);
    return false;
  }

  /**
   * The server answered the message while some of it is still queued on our side (a broken
   * server accepting unread data, issue 19). After a complete write the queue is empty: Node
   * counts a write out of writableLength when the kernel took its last byte.
   */
  private isMessageUnwritten(): boolean {
    return this.unwrittenBytes() > this.messageTrailerBytes;
  }

  private unwrittenBytes(): number {
    const tls = this.tlsSocket;
    const queued = tls !== undefined ? unsentTlsBytes(tls, this.socket) : this.socket?.writableLength ?? 0;
    // A slow body's bytes not yet written are unwritten too
    return this.slowData === undefined ? queued : queued + this.slowData.length - this.slowOffset;
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
    this.isFaultDone = false;
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
    this.lostConnectionText = undefined;
    this.isEstablished = false;
    this.chunkCount = 0;
    this.commandChunk = -1;
    this.awaiting = CONNECT;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[CONNECT]!;
    watchDeadline(this.deadline);
    const local = this.localPool === undefined ? undefined : this.localPool.next();
    this.localAddress = local;
    try {
      if (local !== undefined) {
        if (this.recorder.sourceAddress !== undefined) this.recorder.sourceAddress(local);
        // The name is looked up in the source address's family only
        if (this.isHostIp) socket.connect({ port: this.port, host: this.host, localAddress: local });
        else socket.connect({ port: this.port, host: this.host, localAddress: local, family: isIP(local), lookup: cachedLookup });
      } else if (this.isHostIp) socket.connect(this.port, this.host);
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
    if (this.transcript !== undefined) this.transcript('open', this.localAddress === undefined ? `${this.host}:${this.port}` : `${this.host}:${this.port} from ${this.localAddress}`);
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
   * command but EHLO, whose capabilities are parsed. Failures and step replies always come whole.
   */
  private wantsCodeOnly(code: number): boolean {
    const phase = this.awaiting;
    // A transcript shows every reply's text
    if (this.transcript !== undefined) return false;
    return (this.driver === DRIVER_FLOW || this.driver === DRIVER_AHEAD) && phase !== IDLE && phase !== CONNECT && phase !== EHLO && isExpectedCode(phase, code);
  }

  /** A reply: `reply` is undefined only for what wantsCodeOnly() accepted. */
  private handleReply(code: number, reply: Reply | undefined): void {
    if (this.transcript !== undefined && reply !== undefined) this.traceReply(reply);
    const phase = this.awaiting;
    if (phase === IDLE || phase === CONNECT) {
      // Unsolicited (e.g. 421 on an idle connection): the connection's state is unknown now
      this.teardown();
      this.lostConnectionText = describeOutOfTurn(code, reply);
      return;
    }
    if (this.commandChunk === this.chunkCount) {
      // Same chunk as the reply that let us write the command: the server answered before it
      this.fail({ phase: PHASES[phase]!, error: 'PROTOCOL', text: `unexpected reply before the command was sent: ${code}` }, false);
      return;
    }
    if (this.drainFailure !== undefined) {
      this.drainReply(phase, code);
      return;
    }
    if (this.rawVerb !== undefined) {
      this.settleRawCommand(reply!);
      return;
    }
    if (phase === AUTH && code === CODE_AUTH_CONTINUE) {
      this.continueAuth(reply!);
      return;
    }
    if (phase === MESSAGE && this.isLmtpDataSent && this.isLastChunkReply() && !this.takeLmtpReply(code, reply)) return;
    if (!isExpectedCode(phase, code)) {
      if (phase === MESSAGE && this.isAheadWritten && code !== CODE_SERVICE_UNAVAILABLE) this.refuseMessageBeforeAhead(reply!);
      else this.failReply(phase, reply!);
      return;
    }
    if (phase === MESSAGE && this.isMessageUnwritten()) {
      this.fail({ phase: 'message', error: 'PROTOCOL', text: describeEarlyAcceptance(code, this.unwrittenBytes()) }, false);
      return;
    }
    const now = performance.now();
    if (phase === RCPT) this.rcptAccepted++;
    if (phase === TLS) {
      // RFC 3207 §4: 220 to STARTTLS; the handshake is still part of the tls phase
      this.beginTls(now);
      return;
    }
    if (this.groupNext < this.groupLength) {
      this.advanceGroup(phase, now);
      return;
    }
    if (phase === MESSAGE && this.bdatNextChunk < this.bdatChunkTotal) {
      // RFC 3030 §2: without PIPELINING the next chunk waits for this one's 250; the phase keeps its start
      this.deadline.deadlineMs = now + this.timeoutMsByPhase[MESSAGE]!;
      this.commandChunk = this.chunkCount;
      this.writeBdatChunks(0);
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
        // Only the parsed, bounded capabilities outlive the reply (issue 19)
        this.capabilityMap = parseCapabilitiesOnce(reply!.lines);
        this.offered = offeredOf(this.capabilityMap);
        // RFC 2920 §3: pipelining only with a server that offers it
        this.isPipelined = this.offered.pipelining && this.smtp.pipelining !== 'off';
        // RFC 3030 §2: BDAT only with a server that offers CHUNKING; else DATA, as an MTA falls back
        this.isChunked = this.offered.chunking && this.smtp.chunking === true;
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
        // A transaction written ahead waits for its message (adoptAhead)
        if (this.driver === DRIVER_AHEAD) {
          this.isAheadReady = true;
          this.aheadReadyMs = now;
          return;
        }
        // 354: the message follows in both drivers (the data() step ends at the message's 250)
        this.writeMessage(now);
        return;
      case MESSAGE:
        this.acceptMessage(now);
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
        if (this.fault !== undefined && this.fault.kind === 'idle-after-mail') this.idleAfterMail(now);
        else this.writeFirstRcpt(now);
        return;
      case RCPT:
        if (this.isChunked && this.fault === undefined) this.writeBdat(now, 0);
        else this.writeCommand(DATA, DATA_LINE, now);
        return;
      case MESSAGE:
        if (this.fault !== undefined && this.fault.kind === 'drop-after-accept') {
          // The 250 is in: the connection goes without QUIT (RFC 5321 §4.1.1.10 asks for one)
          this.markFaultDone();
          this.teardown();
          this.finishFlow();
          return;
        }
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

  // ---- LMTP (RFC 2033) ----

  /** The message's last byte is written: with LMTP, one reply is now due per accepted recipient (RFC 2033 §4.2). */
  private expectLmtpReplies(): void {
    if (!this.isLmtp) return;
    // Counted at the first reply: a pipelined BDAT goes out before the RCPTs are answered
    this.isLmtpDataSent = true;
    this.lmtpRepliesDue = 0;
    this.lmtpRecipientIndex = 0;
    this.lmtpRefused = 0;
    this.lmtpFirstRefusal = undefined;
  }

  /** Whether a message reply now answers the message's end (end-of-data, BDAT LAST), not an earlier BDAT chunk. */
  private isLastChunkReply(): boolean {
    if (this.bdatNextChunk < this.bdatChunkTotal) return false;
    return this.groupNext >= this.groupLength || this.groupPhases[this.groupNext] !== MESSAGE;
  }

  /** Whether the pending group still expects replies to the message (BDAT chunks). */
  private hasMessageRepliesDue(): boolean {
    for (let i = this.groupNext; i < this.groupLength; i++) if (this.groupPhases[i] === MESSAGE) return true;
    return false;
  }

  /**
   * One recipient's reply after the data (RFC 2033 §4.2: in the order of the accepted RCPTs), each
   * reported to the recorder. True when it was the last one due and every recipient accepted the
   * message: the usual path then accepts it. With any refusal, the last reply fails the message at
   * 'message' (the other recipients did get it) and the connection is kept unless a reply was 421.
   */
  private takeLmtpReply(code: number, reply: Reply | undefined): boolean {
    const index = this.lmtpRecipientIndex++;
    // At least one: a server that took the data for no recipient still answers it once
    if (index === 0) this.lmtpRepliesDue = this.rcptAccepted > 0 ? this.rcptAccepted : 1;
    const total = index + this.lmtpRepliesDue;
    const isLast = --this.lmtpRepliesDue === 0;
    if (isLast) this.isLmtpDataSent = false;
    if (index === 0 && this.isMessageUnwritten()) {
      this.isLmtpDataSent = false;
      this.fail({ phase: 'message', error: 'PROTOCOL', text: describeEarlyAcceptance(code, this.unwrittenBytes()) }, false);
      return false;
    }
    if (isExpectedCode(MESSAGE, code)) {
      if (this.recorder.lmtpRecipient !== undefined) this.recorder.lmtpRecipient(undefined);
    } else {
      const address = this.rcptTo.length === total ? this.rcptTo[index] : undefined;
      const refusal: Failure = {
        phase: 'message',
        code,
        enhanced: reply!.enhanced,
        text: `recipient ${index + 1} of ${total}${address === undefined ? '' : ` <${address}>`}: ${reply!.lines.join(' ')}`,
      };
      this.lmtpRefused++;
      // The first refusal names the failure, unless a later one is 421 (the server is closing)
      if (this.lmtpFirstRefusal === undefined || code === CODE_SERVICE_UNAVAILABLE) this.lmtpFirstRefusal = refusal;
      if (this.recorder.lmtpRecipient !== undefined) this.recorder.lmtpRecipient(refusal);
    }
    if (!isLast) {
      this.deadline.deadlineMs = performance.now() + this.timeoutMsByPhase[MESSAGE]!;
      return false;
    }
    if (this.lmtpRefused === 0) return true;
    const first = this.lmtpFirstRefusal!;
    const failure: Failure = {
      phase: 'message',
      code: first.code,
      enhanced: first.enhanced,
      text: `LMTP: ${this.lmtpRefused} of ${total} recipients refused the message after the data (the others accepted it); first: ${first.text}`,
    };
    // RFC 5321 §3.8: 421 means the server is closing the channel
    this.fail(failure, first.code !== CODE_SERVICE_UNAVAILABLE);
    return false;
  }

  /**
   * The X-Runner-Trace sequence of this transaction's message: taken once, when its content is
   * fixed (before MAIL when the flow declares SIZE=, else when the data is written), so the number
   * in the header is the one accepted() and failed() report.
   */
  private takeTrace(): number {
    if (this.traceSequence === 0) this.traceSequence = nextTraceSequence();
    return this.traceSequence;
  }

  /** The head the flow prepared, as text, once (the paths that take the message as text); undefined: none. */
  private takePreparedHead(): string | undefined {
    if (!this.hasPreparedHead) return undefined;
    this.hasPreparedHead = false;
    return this.headWriter.text();
  }

  /** A generated message's body: the next draw of the size distribution's bucket (shared, built once per bucket), when there is one. */
  private drawBody(): void {
    const bodies = this.bucketBodies;
    if (bodies === undefined) return;
    const next = this.nextBody;
    if (next !== undefined) {
      // Drawn early for a transaction written ahead: the draw of this message
      this.nextBody = undefined;
      this.body = next;
      return;
    }
    this.body = bodies[drawBucket(this.smtp.messageSizes!)]!;
  }

  /** The 250 to end-of-data: the message counts as accepted. */
  private acceptMessage(now: number): void {
    this.isInTxn = false;
    this.isAccepted = true;
    this.recorder.accepted(elapsedUs(this.txnStartMs, now), this.messageBytes, this.traceSequence, this.sentBodyBytes);
    // The transaction is over (RFC 5321 §4.1.1.4): the next MAIL needs no RSET unless asked for
    if (this.smtp.rsetBetweenMessages === false) this.needsRset = false;
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
    this.rawVerb = undefined;
    this.deadline.deadlineMs = 0;
    if (this.isInTxn) {
      if (this.groupNext === this.aheadFirstGroupNext && failure.code === undefined && isConnectionLoss(failure.error)) {
        // The server ended the connection right after answering the message before, before any
        // reply to the transaction written ahead: a connection lost as an idle one is, so its
        // message starts over on a new connection, as it would have without being written ahead
        // (still in its transaction: what happens to it there is counted)
        this.aheadFirstGroupNext = -1;
        this.teardown();
        if (this.driver === DRIVER_FLOW) this.advanceFlow(now);
        return;
      }
      this.recordTxnFailure(failure, now);
    } else if (this.isAccepted) {
      this.recorder.afterAcceptError(failure);
    }
    // Half a slow body is on the wire: the connection cannot carry another command
    if (this.slowData !== undefined) keepConnection = false;
    // LMTP answers BDAT LAST once per accepted recipient (RFC 2033 §4.2), not once per chunk: a group
    // whose message replies are still due cannot be counted out after a refused RCPT, so it is dropped
    if (keepConnection && this.isLmtp && this.hasMessageRepliesDue()) keepConnection = false;
    if (!keepConnection) this.teardown();
    else if (this.groupNext < this.groupLength) {
      // RFC 2920 §3.1: the rest of the group's replies are still read (drainReply)
      this.drainFailure = failure;
      this.awaitNextOfDrainedGroup(now);
      return;
    }
    this.endFailure(failure, now);
  }

  /**
   * The transaction failed: counted once. With DRIVER_AHEAD it is held for its message
   * (adoptAhead reports it, never if none comes); after a client fault nothing is counted (the
   * server's answer to it is what the fault asked for).
   */
  private recordTxnFailure(failure: Failure, now: number): void {
    this.isInTxn = false;
    if (this.driver === DRIVER_AHEAD) {
      this.aheadFailure = failure;
      this.aheadFailureUs = elapsedUs(this.txnStartMs, now);
    } else if (!this.isFaultDone) {
      if (this.driver === DRIVER_FLOW) this.flowResult = failure;
      this.recorder.failed(failure, elapsedUs(this.txnStartMs, now), this.traceSequence);
    }
  }

  /** After a failure: a flow that reached messagesPerConnection on a kept connection says QUIT; else whoever waits learns of it. */
  private endFailure(failure: Failure, now: number): void {
    if (this.driver === DRIVER_FLOW && this.socket !== undefined && this.messagesOnConnection >= this.smtp.messagesPerConnection) {
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
    this.rawVerb = undefined;
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
    this.capabilityMap = NO_CAPABILITIES;
    this.offered = NO_EXTENSIONS;
    this.isPipelined = false;
    this.isChunked = false;
    this.groupNext = 0;
    this.groupLength = 0;
    this.drainFailure = undefined;
    this.isAheadWritten = false;
    this.isAheadReady = false;
    this.aheadFirstGroupNext = -1;
    this.bdatChunkTotal = 0;
    this.bdatNextChunk = 0;
    this.isLmtpDataSent = false;
    if (this.faultTimer !== undefined) {
      clearTimeout(this.faultTimer);
      this.faultTimer = undefined;
    }
    this.slowData = undefined;
    const tls = this.tlsSocket;
    if (tls !== undefined) {
      this.tlsSocket = undefined;
      this.isSecure = false;
      tls.destroy();
    }
    socket.destroy();
  }

  // ---- client-side faults (client-faults.ts) ----

  /** The current message's fault is being done: counted once, and from now on nothing fails the message. */
  private markFaultDone(): void {
    if (this.isFaultDone) return;
    this.isFaultDone = true;
    if (this.recorder.clientFault !== undefined) this.recorder.clientFault(this.fault!.kind);
  }

  /** rset-storm: one more RSET before MAIL (each awaited; its reply timed under rset). */
  private writeStormRset(now: number): void {
    this.markFaultDone();
    this.rsetStormLeft--;
    this.writeCommand(RSET, RSET_LINE, now);
  }

  /**
   * idle-after-mail: after MAIL's 250, nothing for idleMs, then RCPT. The RCPT reply is awaited
   * meanwhile without a deadline, so a server that gives up on the client (421, or closing) ends
   * the message the usual way, counted under the fault.
   */
  private idleAfterMail(now: number): void {
    this.markFaultDone();
    this.awaiting = RCPT;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = 0;
    this.commandChunk = -1;
    this.faultTimer = setTimeout(SmtpSession.onIdleDone, this.fault!.idleMs ?? CLIENT_FAULT_DEFAULTS.idleMs, this);
  }

  private static onIdleDone(session: SmtpSession): void {
    session.faultTimer = undefined;
    if (session.socket !== undefined && session.awaiting === RCPT) session.writeFirstRcpt(performance.now());
  }

  /**
   * After 354. abort-data: `afterBytes` of the message (never its end-of-data), then the connection
   * is dropped; the message is neither accepted nor failed. slow-body: the message at
   * `bytesPerSecond`; the message phase is timed from its last byte.
   */
  private writeFaultyMessage(fault: ClientFault, now: number): void {
    const data = this.messageData();
    this.expectLmtpReplies();
    this.markFaultDone();
    const socket = (this.tlsSocket ?? this.socket)!;
    if (fault.kind === 'abort-data') {
      const bytes = Math.min(fault.afterBytes ?? CLIENT_FAULT_DEFAULTS.afterBytes, data.length - END_OF_DATA.length);
      if (this.transcript !== undefined) this.transcript('C', `<${bytes.toLocaleString('en-US')} bytes of message data, then the connection dropped (client fault abort-data)>`);
      socket.write(data.subarray(0, bytes));
      this.isInTxn = false;
      this.teardown();
      this.finishFlow();
      return;
    }
    const plan = slowBodyPlan(fault.bytesPerSecond ?? CLIENT_FAULT_DEFAULTS.bytesPerSecond);
    if (this.transcript !== undefined) this.transcript('C', `<${this.messageBytes.toLocaleString('en-US')} bytes of message data, ${plan.chunkBytes} every ${plan.tickMs} ms (client fault slow-body)>`);
    this.awaiting = MESSAGE;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = 0;
    this.commandChunk = this.chunkCount;
    this.slowData = data;
    this.slowOffset = 0;
    this.slowChunkBytes = plan.chunkBytes;
    this.slowTickMs = plan.tickMs;
    this.writeSlowChunk(now);
  }

  /** slow-body: the next chunk; after the last, the server's reply is awaited under the message timeout. */
  private writeSlowChunk(now: number): void {
    const data = this.slowData!;
    const end = Math.min(data.length, this.slowOffset + this.slowChunkBytes);
    (this.tlsSocket ?? this.socket)!.write(data.subarray(this.slowOffset, end));
    this.slowOffset = end;
    if (end < data.length) {
      this.faultTimer = setTimeout(SmtpSession.onSlowTick, this.slowTickMs, this);
      return;
    }
    this.slowData = undefined;
    this.phaseStartMs = now;
    this.deadline.deadlineMs = now + this.timeoutMsByPhase[MESSAGE]!;
    this.commandChunk = this.chunkCount;
  }

  private static onSlowTick(session: SmtpSession): void {
    session.faultTimer = undefined;
    if (session.socket !== undefined && session.slowData !== undefined) session.writeSlowChunk(performance.now());
  }

  /** The whole message data (trace header, head, body, end-of-data) as one new Buffer; sets messageBytes. */
  private messageData(): Buffer {
    this.wireToText();
    const userData = this.userData;
    if (userData !== undefined) {
      const data = Buffer.from(traceHeaderLine(this.runId, this.takeTrace()) + userData);
      this.messageBytes = data.length - END_OF_DATA.length;
      return data;
    }
    const head = this.takePreparedHead() ?? buildHead({ from: this.messageFrom, to: this.rcptTo, sequence: this.sequence, runId: this.runId, traceSequence: this.takeTrace() });
    const data = Buffer.concat([Buffer.from(head), this.body]);
    this.messageBytes = data.length - END_OF_DATA.length;
    return data;
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
      this.tlsSocket = startTlsHandshake(socket, this.host, this.smtp, this.tlsListener, this.smtp.tlsResumption === true ? this.tlsSession : undefined);
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
    // A resumed handshake (no certificate exchange) is timed apart; its count is the resumptions
    this.recorder.phase(this.tlsSocket!.isSessionReused() ? TLS_RESUMED : TLS, elapsedUs(this.phaseStartMs, now));
    if (this.smtp.tls === 'implicit') {
      this.awaiting = GREETING;
      this.phaseStartMs = now;
      this.deadline.deadlineMs = now + this.timeoutMsByPhase[GREETING]!;
      this.commandChunk = -1;
      return;
    }
    // RFC 3207 §4.2: forget what the server said before TLS; EHLO again
    this.isEhloDone = false;
    this.capabilityMap = NO_CAPABILITIES;
    this.offered = NO_EXTENSIONS;
    this.isPipelined = false;
    this.isChunked = false;
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

  private traceMessage(isQuitPipelined: boolean): void {
    this.transcript!('C', `<${this.messageBytes.toLocaleString('en-US')} bytes of message data>`);
    if (isQuitPipelined) this.traceCommand(QUIT_LINE);
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

/** RCPT TO line for one recipient with its DSN parameters, or an empty Buffer when the address has a line break (refused at send). */
function rcptLineFor(address: string, dsn: DsnSettings | undefined): Buffer {
  return hasLineBreak(address) ? Buffer.alloc(0) : Buffer.from(`RCPT TO:<${address}>${dsnRcptParameters(dsn, address)}\r\n`);
}

/** Verbs of raw commands whose reply is timed under a phase (RFC 5321 §4.1.1; HELO is EHLO's older form). */
const RAW_VERB_PHASES: Readonly<Record<string, number>> = {
  EHLO: EHLO,
  HELO: EHLO,
  LHLO: EHLO,
  AUTH: AUTH,
  MAIL: MAIL,
  RCPT: RCPT,
  RSET: RSET,
  QUIT: QUIT,
};

function rejectBusy(phase: Failure['phase']): Promise<Reply> {
  return Promise.reject(new SmtpStepError(busyFailure(phase)));
}

function busyFailure(phase: Failure['phase']): Failure {
  return { phase, error: 'BUSY', text: 'another operation is still running on this session' };
}
