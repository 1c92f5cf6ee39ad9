/**
 * The SMTP service extensions a server offers, read from its EHLO keywords (RFC 5321 §4.1.1.1:
 * one keyword and its parameters per line after the first). One reading serves the session
 * (which extensions to use on a connection) and `runner check` (which ones to report).
 */

/** What an EHLO reply offers, as a session and the check read it. */
export interface OfferedExtensions {
  /** RFC 2920: commands may be sent in groups. */
  pipelining: boolean;
  /** RFC 3030: BDAT may replace DATA. */
  chunking: boolean;
  /** RFC 1870: SIZE is offered. */
  size: boolean;
  /** RFC 1870 §4: the fixed maximum message size in bytes; 0 when none is announced (no parameter or 0). */
  sizeLimitBytes: number;
  /** RFC 6152: BODY=8BITMIME may be declared. */
  eightBitMime: boolean;
  /** RFC 6531: internationalized addresses may be declared with SMTPUTF8. */
  smtpUtf8: boolean;
  /** RFC 3207. */
  startTls: boolean;
  /** RFC 4954 §3: the AUTH mechanisms offered, upper case, in the server's order. */
  authMechanisms: string[];
  /** RFC 2034: replies carry enhanced status codes. */
  enhancedStatusCodes: boolean;
  /** RFC 3461: delivery status notification parameters. */
  dsn: boolean;
}

/** Nothing offered (no EHLO yet, or HELO only). */
export const NO_EXTENSIONS: OfferedExtensions = Object.freeze({
  pipelining: false,
  chunking: false,
  size: false,
  sizeLimitBytes: 0,
  eightBitMime: false,
  smtpUtf8: false,
  startTls: false,
  authMechanisms: [],
  enhancedStatusCodes: false,
  dsn: false,
}) as OfferedExtensions;

/** The extensions named by EHLO keywords (upper case) → their parameters. */
export function readExtensions(capabilities: ReadonlyMap<string, string>): OfferedExtensions {
  const sizeParameter = capabilities.get('SIZE');
  const sizeLimit = sizeParameter === undefined ? 0 : Number(sizeParameter.trim());
  const auth = capabilities.get('AUTH');
  return {
    pipelining: capabilities.has('PIPELINING'),
    chunking: capabilities.has('CHUNKING'),
    size: sizeParameter !== undefined,
    // RFC 1870 §4: no parameter or 0 means no fixed limit; anything unparsable is treated alike
    sizeLimitBytes: Number.isSafeInteger(sizeLimit) && sizeLimit > 0 ? sizeLimit : 0,
    eightBitMime: capabilities.has('8BITMIME'),
    smtpUtf8: capabilities.has('SMTPUTF8'),
    startTls: capabilities.has('STARTTLS'),
    authMechanisms: auth === undefined ? [] : auth.split(/\s+/).filter((name) => name !== '').map((name) => name.toUpperCase()),
    enhancedStatusCodes: capabilities.has('ENHANCEDSTATUSCODES'),
    dsn: capabilities.has('DSN'),
  };
}
