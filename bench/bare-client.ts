/**
 * A bare SMTP load loop on node:net: the floor for "what Node can do" on the benchmark's flow,
 * so the bench can tell runner's own overhead from Node's. It does only what the wire needs:
 * no metrics, no timeouts, no reply text, no error attribution. Not a tool: a reference.
 *
 * It uses the same Node-level economies as runner's session, so the comparison isolates
 * runner's own work: reads land in one shared buffer (`onread`, no 'data' events), reply codes
 * are read from bytes, a message is one corked writev of its head and a shared body, and a
 * closed socket is reconnected rather than replaced (constructing a net.Socket with options is
 * expensive on Node 20).
 *
 * Flow per session, like runner's default flow without AUTH: 220 → EHLO → MAIL → RCPT → DATA →
 * head + body + end-of-data → (reused: RSET → MAIL …, as runner does) → QUIT → close.
 * With --pipelining (RFC 2920, as runner does when the server offers it; the bench's smtp-sink
 * does): MAIL, RCPT and DATA in one write, their three replies read in order, then the message,
 * with QUIT in the same write when it is the connection's last. With --ahead too (as runner's
 * default on a reused connection, RFC 2920 §3.1): the next message's RSET (unless --no-rset),
 * MAIL, RCPT and DATA go in the message's write, so each message is one write and one read.
 *
 * Usage (the bench bundles it to plain JS first, so tsx's start-up is not measured):
 *   node bare-client.mjs --port P [--host 127.0.0.1] [--messages 20000] [--concurrency 50]
 *     [--messages-per-connection 1] [--size 1024] [--no-rset] [--pipelining [--ahead]]
 * Prints one JSON line: { messages, accepted, failed, wallMs }.
 */
import { Socket, type ConnectOpts, type SocketConstructorOpts } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    messages: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '50' },
    'messages-per-connection': { type: 'string', default: '1' },
    size: { type: 'string', default: '1024' },
    'no-rset': { type: 'boolean', default: false },
    pipelining: { type: 'boolean', default: false },
    ahead: { type: 'boolean', default: false },
  },
});

if (values.port === undefined) {
  process.stderr.write('bare-client: --port is required\n');
  process.exit(2);
}
const host = values.host;
const port = Number(values.port);
const totalMessages = Number(values.messages);
const concurrency = Math.min(Number(values.concurrency), totalMessages);
const messagesPerConnection = Number(values['messages-per-connection']);
const isRsetBetween = !values['no-rset'];
const isPipelined = values.pipelining;
const isAhead = isPipelined && values.ahead;

const EHLO = Buffer.from('EHLO bare.localhost\r\n');
const MAIL = Buffer.from('MAIL FROM:<test@example.com>\r\n');
const RCPT = Buffer.from('RCPT TO:<recipient@outlook.com>\r\n');
const DATA = Buffer.from('DATA\r\n');
const RSET = Buffer.from('RSET\r\n');
const QUIT = Buffer.from('QUIT\r\n');
/** The pipelined group: MAIL, RCPT and DATA in one write (RFC 2920 §3.1: DATA ends a group). */
const GROUP = Buffer.concat([MAIL, RCPT, DATA]);
/** The next message's group, written with a message (--ahead). */
const AHEAD_GROUP = isRsetBetween ? Buffer.concat([RSET, GROUP]) : GROUP;
const BODY = Buffer.from(makeBody(Number(values.size)) + '.\r\n', 'latin1');
const RUN_ID = Date.now().toString(36);
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

// Steps: the reply each one waits for.
const GREETING = 0;
const STEP_EHLO = 1;
const STEP_MAIL = 2;
const STEP_RCPT = 3;
const STEP_DATA = 4;
const STEP_MESSAGE = 5;
const STEP_RSET = 6;
const STEP_QUIT = 7;
const STEP_CLOSED = 8;
/** --ahead with RSET: the RSET reply of the group written with the message. */
const STEP_AHEAD_RSET = 9;

const LF = 10;
const HYPHEN = 45;
const DIGIT_0 = 48;

let started = 0;
let accepted = 0;
let failed = 0;
let sessionsLeft = concurrency;
/** Sessions that ended in an error before any message: past MAX_SESSION_ERRORS the run gives up. */
let sessionErrors = 0;
const MAX_SESSION_ERRORS = 100;
const startMs = performance.now();

/** Lines of 76 letters + CRLF, `sizeBytes` in all (approximately, for the last line). */
function makeBody(sizeBytes: number): string {
  const line = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN\r\n';
  let body = line.repeat(Math.floor(sizeBytes / line.length));
  const rest = sizeBytes - body.length;
  if (rest >= 2) body += line.slice(0, rest - 2) + '\r\n';
  return body;
}

/** A per-message head: the least a generator must vary (a unique Message-ID and a sequence). */
function head(sequence: number): string {
  return (
    'From: test@example.com\r\nTo: recipient@outlook.com\r\nSubject: bare load test #' + sequence +
    '\r\nDate: ' + new Date().toUTCString() + '\r\nMessage-ID: <' + RUN_ID + '.' + sequence +
    '@bare.localhost>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n'
  );
}

/** One concurrent client: a loop of connections, each sending until its share is done. */
class Session {
  private readonly socket: Socket;
  private step = STEP_CLOSED;
  private onConnection = 0;
  /** Pipelined: QUIT went with the message. */
  private isQuitSent = false;
  /** --ahead: the next message's group went with the message. */
  private isAheadSent = false;
  /** Bytes of a reply line split across reads: only its first 4 matter. */
  private partialLine: number[] = [];

  constructor() {
    const options: SocketConstructorOpts & Pick<ConnectOpts, 'onread'> = {
      onread: { buffer: READ_BUFFER, callback: (length) => this.onRead(length) },
    };
    this.socket = new Socket(options);
    this.socket.setNoDelay(true);
    this.socket.on('error', () => this.close(this.step !== STEP_QUIT));
    this.socket.on('end', () => this.close(this.step !== STEP_QUIT));
    // Reconnect the same socket once its handle is closed.
    this.socket.on('close', () => this.next());
  }

  next(): void {
    if (started >= totalMessages) {
      if (--sessionsLeft === 0) finish();
      return;
    }
    this.step = GREETING;
    this.onConnection = 0;
    this.partialLine.length = 0;
    this.socket.connect(port, host);
  }

  /** Ends this connection once ('close' then starts the next); `isError` counts what it cut off. */
  private close(isError: boolean): void {
    if (this.step === STEP_CLOSED) return;
    if (isError) {
      if (this.step >= STEP_MAIL && this.step <= STEP_MESSAGE) failed++;
      else if (this.onConnection === 0 && ++sessionErrors > MAX_SESSION_ERRORS) {
        process.stderr.write(`bare-client: more than ${MAX_SESSION_ERRORS} sessions failed before a message; giving up\n`);
        process.exit(1);
      }
    }
    this.step = STEP_CLOSED;
    this.socket.destroy();
  }

  private onRead(length: number): boolean {
    // A reply ends with a line whose 4th byte is not '-' ("250 ok"); continuation lines ("250-")
    // are skipped and a line split across reads is carried over.
    let lineStart = 0;
    for (let i = 0; i < length; i++) {
      if (READ_BUFFER[i] !== LF) continue;
      if (this.partialLine.length > 0) {
        for (let j = lineStart; j < i && this.partialLine.length < 4; j++) this.partialLine.push(READ_BUFFER[j]!);
        const line = this.partialLine;
        if (line.length < 4 || line[3] !== HYPHEN) this.onReply((line[0]! - DIGIT_0) * 100 + (line[1]! - DIGIT_0) * 10 + (line[2]! - DIGIT_0));
        line.length = 0;
      } else if (i - lineStart < 4 || READ_BUFFER[lineStart + 3] !== HYPHEN) {
        const b = READ_BUFFER;
        this.onReply((b[lineStart]! - DIGIT_0) * 100 + (b[lineStart + 1]! - DIGIT_0) * 10 + (b[lineStart + 2]! - DIGIT_0));
      }
      if (this.step === STEP_CLOSED) return true;
      lineStart = i + 1;
    }
    for (let j = lineStart; j < length && this.partialLine.length < 4; j++) this.partialLine.push(READ_BUFFER[j]!);
    return true;
  }

  private startMessage(): void {
    started++;
    this.onConnection++;
    this.step = STEP_MAIL;
    this.socket.write(isPipelined ? GROUP : MAIL);
  }

  private onReply(code: number): void {
    const isOk = code >= 200 && code < 400;
    if (!isOk && this.step !== STEP_QUIT) {
      this.close(true);
      return;
    }
    switch (this.step) {
      case GREETING:
        this.step = STEP_EHLO;
        this.socket.write(EHLO);
        return;
      case STEP_EHLO:
      case STEP_RSET:
        if (started >= totalMessages) {
          this.step = STEP_QUIT;
          this.socket.write(QUIT);
        } else this.startMessage();
        return;
      case STEP_AHEAD_RSET:
        this.step = STEP_MAIL;
        return;
      case STEP_MAIL:
        this.step = STEP_RCPT;
        if (!isPipelined) this.socket.write(RCPT);
        return;
      case STEP_RCPT:
        this.step = STEP_DATA;
        if (!isPipelined) this.socket.write(DATA);
        return;
      case STEP_DATA: {
        this.step = STEP_MESSAGE;
        const hasNext = this.onConnection < messagesPerConnection && started < totalMessages;
        this.isQuitSent = isPipelined && !hasNext;
        this.isAheadSent = isAhead && hasNext;
        this.socket.cork();
        this.socket.write(head(started));
        this.socket.write(BODY);
        if (this.isQuitSent) this.socket.write(QUIT);
        if (this.isAheadSent) {
          started++;
          this.onConnection++;
          this.socket.write(AHEAD_GROUP);
        }
        this.socket.uncork();
        return;
      }
      case STEP_MESSAGE:
        accepted++;
        if (this.isQuitSent) {
          this.step = STEP_QUIT;
          return;
        }
        if (this.isAheadSent) {
          this.step = isRsetBetween ? STEP_AHEAD_RSET : STEP_MAIL;
          return;
        }
        if (this.onConnection < messagesPerConnection && started < totalMessages) {
          if (isRsetBetween) {
            this.step = STEP_RSET;
            this.socket.write(RSET);
          } else this.startMessage();
        } else {
          this.step = STEP_QUIT;
          this.socket.write(QUIT);
        }
        return;
      case STEP_QUIT:
        this.close(false);
        return;
    }
  }
}

function finish(): void {
  const wallMs = performance.now() - startMs;
  process.stdout.write(JSON.stringify({ messages: totalMessages, accepted, failed, wallMs: Math.round(wallMs) }) + '\n');
}

for (let i = 0; i < concurrency; i++) new Session().next();
