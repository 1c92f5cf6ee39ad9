/**
 * The parameters a MAIL command declares (RFC 5321 §4.1.1.2 `Mail-parameters`), from what the
 * message is and what the connection's EHLO offered. Pure: the session caches the line it builds.
 */
import type { OfferedExtensions } from './extensions.ts';
import type { DsnSettings } from './settings.ts';

/** What the MAIL parameters are computed from. */
export interface MailDeclaration {
  /** The message's size in bytes as RFC 1870 §4 counts it, or -1 when not known yet (a ctx.smtp.mail() step). */
  messageBytes: number;
  /** The message has octets above 127 (RFC 6152 §2: an 8-bit body). */
  isEightBit: boolean;
  /** The sender or a recipient is not ASCII (RFC 6531 §3.3: internationalized addresses). */
  hasUtf8Address: boolean;
}

/** Failure.error when an address needs SMTPUTF8 and the server does not offer it. */
export const SMTPUTF8_NOT_OFFERED = 'SMTPUTF8_NOT_OFFERED';

/** Failure.text for SMTPUTF8_NOT_OFFERED: what was wrong and what to do. */
export const SMTPUTF8_NOT_OFFERED_TEXT =
  'an address is not ASCII, and the server does not offer SMTPUTF8 (RFC 6531): nothing was sent; use ASCII addresses or a server that offers SMTPUTF8';

/**
 * The text after `MAIL FROM:<address>` (each parameter with its leading space), '' when none.
 * The caller checks SMTPUTF8 first (an internationalized address without it is never sent).
 */
export function mailParameters(offered: OfferedExtensions, declaration: MailDeclaration): string {
  let parameters = '';
  // RFC 1870 §6: SIZE=<estimated bytes> when the server offers SIZE (RFC 1870 §4: an estimate)
  if (offered.size && declaration.messageBytes >= 0) parameters += ' SIZE=' + declaration.messageBytes;
  // RFC 6152 §3: an 8-bit body is declared BODY=8BITMIME, only to a server that offers 8BITMIME;
  // RFC 6531 §3.4: a message with internationalized addresses has UTF-8 headers, an 8-bit body too
  if (offered.eightBitMime && (declaration.isEightBit || declaration.hasUtf8Address)) parameters += ' BODY=8BITMIME';
  // RFC 6531 §3.4: SMTPUTF8 on MAIL when any address of the transaction is internationalized
  if (offered.smtpUtf8 && declaration.hasUtf8Address) parameters += ' SMTPUTF8';
  return parameters;
}

/** Whether a string is all ASCII (its UTF-8 length equals its length). */
export function isAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length;
}

/** Whether any of `addresses` is not ASCII. */
export function hasNonAsciiAddress(addresses: readonly string[]): boolean {
  for (const address of addresses) if (!isAscii(address)) return true;
  return false;
}

/** Failure.error when DSN parameters are asked for and the server does not offer DSN. */
export const DSN_NOT_OFFERED = 'DSN_NOT_OFFERED';

/** Failure.text for DSN_NOT_OFFERED. */
export const DSN_NOT_OFFERED_TEXT =
  'smtp.dsn asks for DSN parameters, and the server does not offer DSN (RFC 3461): nothing was sent; remove smtp.dsn or use a server that offers DSN';

/** MAIL's DSN parameters (RFC 3461 §4.3 RET=, §4.4 ENVID=), each with its leading space; '' when none. */
export function dsnMailParameters(dsn: DsnSettings | undefined, envid: string): string {
  if (dsn === undefined) return '';
  let parameters = '';
  if (dsn.ret !== undefined) parameters += ' RET=' + dsn.ret;
  if (dsn.envid === true) parameters += ' ENVID=' + encodeXtext(envid);
  return parameters;
}

/** RCPT's DSN parameters (RFC 3461 §4.1 NOTIFY=, §4.2 ORCPT=rfc822;…), each with its leading space; '' when none. */
export function dsnRcptParameters(dsn: DsnSettings | undefined, address: string): string {
  if (dsn === undefined) return '';
  let parameters = '';
  if (dsn.notify !== undefined && dsn.notify.length > 0) parameters += ' NOTIFY=' + dsn.notify.join(',');
  if (dsn.orcpt === true) parameters += ' ORCPT=rfc822;' + encodeXtext(address);
  return parameters;
}

/** Whether DSN parameters are asked for at all. */
export function hasDsnParameters(dsn: DsnSettings | undefined): boolean {
  return dsn !== undefined && (dsn.ret !== undefined || dsn.envid === true || dsn.orcpt === true || (dsn.notify?.length ?? 0) > 0);
}

/**
 * RFC 3461 §4 xtext: every octet outside "!" to "~", and "+" and "=", as "+" and two upper-case
 * hex digits (UTF-8 octets each encoded).
 */
export function encodeXtext(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    encoded += byte < 33 || byte > 126 || byte === 43 || byte === 61 ? '+' + byte.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(byte);
  }
  return encoded;
}
