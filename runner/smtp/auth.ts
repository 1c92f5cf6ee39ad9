/**
 * SASL mechanisms for SMTP AUTH (RFC 4954): the lines a client sends, built once per sender
 * (the session caches them), and the answers to the server's 334 challenges.
 *
 * - PLAIN (RFC 4616): `AUTH PLAIN base64("\0" user "\0" password)`, the initial response saves a round trip.
 * - LOGIN (draft-murchison-sasl-login): `AUTH LOGIN` → 334 `Username:` → base64(user) → 334
 *   `Password:` → base64(password) → 235.
 * - XOAUTH2 (Google/Microsoft): `AUTH XOAUTH2 base64("user=" user "\x01auth=Bearer " token "\x01\x01")`;
 *   a refused token gets 334 with a base64 JSON error, which the client answers with an empty
 *   line, and then the 535 (so the failure is the 535, with the JSON's status in its text).
 */
import type { AuthMechanism } from './settings.ts';

/** An AUTH mechanism runner speaks (not 'none'). */
export type SaslMechanism = Exclude<AuthMechanism, 'none'>;

/** The first AUTH line, with CRLF; `secret` is the password (PLAIN, LOGIN) or the bearer token (XOAUTH2). */
export function authInitialLine(mechanism: SaslMechanism, user: string, secret: string): string {
  switch (mechanism) {
    case 'plain':
      // RFC 4616: message = [authzid] NUL authcid NUL passwd; empty authzid
      return `AUTH PLAIN ${base64(`\0${user}\0${secret}`)}\r\n`;
    case 'login':
      return 'AUTH LOGIN\r\n';
    case 'xoauth2':
      return `AUTH XOAUTH2 ${xoauth2Payload(user, secret)}\r\n`;
  }
}

/** base64 of the XOAUTH2 initial client response (without the AUTH command). */
export function xoauth2Payload(user: string, token: string): string {
  return base64(`user=${user}\x01auth=Bearer ${token}\x01\x01`);
}

/**
 * The answer to the `challengeIndex`-th 334 (0-based) of this mechanism, with CRLF, or
 * undefined when the mechanism expects no such challenge (the exchange fails at the 334).
 */
export function authContinuationLine(mechanism: SaslMechanism, challengeIndex: number, user: string, secret: string): string | undefined {
  switch (mechanism) {
    case 'login':
      if (challengeIndex === 0) return `${base64(user)}\r\n`;
      if (challengeIndex === 1) return `${base64(secret)}\r\n`;
      return undefined;
    case 'xoauth2':
      // The 334 carries the error as base64 JSON; an empty response asks for the final 535
      return challengeIndex === 0 ? '\r\n' : undefined;
    case 'plain':
      // The initial response was sent: a 334 for PLAIN is a server that ignored it
      return undefined;
  }
}

/**
 * The text of an XOAUTH2 error challenge (base64 JSON such as `{"status":"401","schemes":"bearer"}`),
 * decoded for a failure text, or undefined when it is not one.
 */
export function describeXoauth2Challenge(challenge: string): string | undefined {
  try {
    const decoded = Buffer.from(challenge.trim(), 'base64').toString('utf8');
    const json = JSON.parse(decoded) as Record<string, unknown>;
    if (json === null || typeof json !== 'object') return undefined;
    return `XOAUTH2 token refused: ${JSON.stringify(json)}`;
  } catch {
    return undefined;
  }
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
