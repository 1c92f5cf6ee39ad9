/**
 * The texts of failures only a broken or hostile server causes (issue 19), kept apart from the
 * session's state machine: each says what the server did and what it means for the figures.
 */
import type { Reply } from './api.ts';

/** Most characters of a server's reply quoted in these texts. */
const QUOTED_CHARS = 120;

function quoteReply(code: number, reply: Reply | undefined): string {
  const text = reply === undefined ? '' : reply.lines.join(' ');
  const enhanced = reply?.enhanced === undefined ? '' : `${reply.enhanced} `;
  const whole = `${code} ${enhanced}${text}`.trimEnd();
  return whole.length > QUOTED_CHARS ? `${whole.slice(0, QUOTED_CHARS)}…` : whole;
}

/**
 * A reply that arrived while no command was waiting for one (RFC 5321 §4.1.1: a server speaks
 * only to answer a command, apart from the greeting): the session dropped the connection, and
 * the step that finds it gone says why.
 */
export function describeOutOfTurn(code: number, reply: Reply | undefined): string {
  return `the server spoke out of turn: it sent "${quoteReply(code, reply)}" when no command was waiting for a reply, so the connection was closed (a server must answer each command once, RFC 5321 §4.1.1)`;
}

/**
 * RFC 5321 §4.1.1.4: the reply to DATA's end-of-data comes after the server has received the
 * whole message. A success while `unwrittenBytes` of it were still queued on our side means the
 * server accepted data it never read: not counted as an accepted message.
 */
export function describeEarlyAcceptance(code: number, unwrittenBytes: number): string {
  return `the server answered ${code} before the message was written (${unwrittenBytes.toLocaleString('en-US')} bytes of it still unsent): a reply to end-of-data must follow the whole message (RFC 5321 §4.1.1.4), so it is not counted as accepted`;
}
