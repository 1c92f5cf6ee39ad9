/**
 * TLS for the SMTP session: STARTTLS (RFC 3207) and implicit TLS (RFC 8314, port 465 style).
 * The session opens TCP itself (so `connect` is timed alone) and hands the established socket
 * here; the handshake is the `tls` phase. Certificates are verified unless the scenario says
 * insecureSkipTlsVerify.
 *
 * One TLSSocket per connection, with per-connection listener closures: a handshake costs far
 * more than they do, and plain-text sessions never come here.
 */
import { createRequire } from 'node:module';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { isIP, type Socket } from 'node:net';
import type { Failure } from './api.ts';
import type { ResolvedSmtp, TlsMode } from './settings.ts';

// node:tls loads on the first handshake: plain-text runs skip its ~4 ms of start-up.
const require = createRequire(import.meta.url);

/** Every TLS mode (--tls, smtp.tls, the fixture's --tls). */
export const TLS_MODES: readonly TlsMode[] = ['none', 'starttls', 'implicit'];

/** What the session hears from the TLS socket. */
export interface TlsListener {
  /** The handshake finished and the certificate was accepted. */
  onSecure(socket: TLSSocket): void;
  /** A TLS session the server issued (a ticket), to resume on the next connection. */
  onSession?(socket: TLSSocket, session: Buffer): void;
  /** Decrypted bytes from the server. */
  onData(socket: TLSSocket, chunk: Buffer): void;
  /** The server ended the TLS stream. */
  onEnd(socket: TLSSocket): void;
  /** A socket or TLS error (a refused certificate during the handshake). */
  onError(socket: TLSSocket, error: NodeJS.ErrnoException): void;
}

/** The parts of Node's stream state unsentTlsBytes reads (internals; absent fields fall back to writableLength). */
interface WritableInternals {
  _writableState?: { writing?: boolean; writelen?: number; length?: number };
}

/**
 * Bytes written to `tls` that may not have reached the kernel yet: those still queued in front of
 * the TLS layer, plus the encrypted bytes libuv still holds for `raw`, its TCP socket. Not
 * `tls.writableLength`: TLSWrap encrypts a write and hands it to TCP at once, but may call the
 * write back only on a later turn of the event loop, and until then writableLength still counts
 * it, so a server's prompt reply to it looked early (issue 19's check failed delivered messages
 * over STARTTLS, about one in a thousand with the next transaction written ahead).
 */
export function unsentTlsBytes(tls: { writableLength: number }, raw: object | undefined): number {
  const state = (tls as WritableInternals)._writableState;
  const queueSize = (raw as { _handle?: { writeQueueSize?: unknown } | null } | undefined)?._handle?.writeQueueSize;
  if (state === undefined || typeof state.length !== 'number' || typeof queueSize !== 'number') return tls.writableLength;
  const inLayer = state.writing === true && typeof state.writelen === 'number' ? state.writelen : 0;
  return state.length - inLayer + queueSize;
}

/** Node's client TLS options for a target: SNI/name, verification, extra CA. */
export function tlsOptionsFor(host: string, smtp: ResolvedSmtp): ConnectionOptions {
  const servername = smtp.tlsServername ?? host;
  return {
    // With `socket`, Node connects nowhere: `host` is only the name (or IP) the certificate
    // must match (checkServerIdentity); RFC 6066 §3: SNI carries a host name, never an IP
    host: servername,
    servername: isIP(servername) === 0 ? servername : undefined,
    rejectUnauthorized: smtp.isTlsVerified !== false,
    ...(smtp.tlsCa === undefined ? {} : { ca: smtp.tlsCa }),
    // Mutual TLS: the client's certificate and key
    ...(smtp.tlsCert === undefined ? {} : { cert: smtp.tlsCert }),
    ...(smtp.tlsKey === undefined ? {} : { key: smtp.tlsKey }),
    ...(smtp.tlsMinVersion === undefined ? {} : { minVersion: smtp.tlsMinVersion }),
    ...(smtp.tlsMaxVersion === undefined ? {} : { maxVersion: smtp.tlsMaxVersion }),
    ...(smtp.tlsCiphers === undefined ? {} : { ciphers: smtp.tlsCiphers }),
  };
}

/**
 * Starts the client handshake on an established TCP socket; events go to `listener`. The
 * returned socket is the one to write to from now on; `socket` must not be written to or
 * reused afterwards.
 */
export function startTlsHandshake(socket: Socket, host: string, smtp: ResolvedSmtp, listener: TlsListener, session?: Buffer): TLSSocket {
  const { connect } = require('node:tls') as typeof import('node:tls');
  const tls = connect({ ...tlsOptionsFor(host, smtp), socket, ...(session === undefined ? {} : { session }) });
  if (smtp.tlsResumption === true && listener.onSession !== undefined) tls.on('session', (ticket: Buffer) => listener.onSession!(tls, ticket));
  tls.setNoDelay?.(true);
  tls.once('secureConnect', () => listener.onSecure(tls));
  tls.on('data', (chunk: Buffer) => listener.onData(tls, chunk));
  tls.on('end', () => listener.onEnd(tls));
  tls.on('error', (error: NodeJS.ErrnoException) => listener.onError(tls, error));
  return tls;
}

/** What to do about a certificate Node refused. */
export const TLS_VERIFY_HINT =
  'trust the server\'s CA with --tls-ca FILE (smtp.tlsCa), check the name with --tls-servername (smtp.tlsServername), or, for a test server only, --insecure-skip-tls-verify';

/** TLS error codes that mean "the certificate was not accepted" (Node's X509 verify codes and the name check). */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Whether a TLS error code means the server's certificate was refused. */
export function isCertificateError(code: string): boolean {
  return CERTIFICATE_ERRORS.has(code);
}

/** Whether an error is a TLS alert from the server (OpenSSL's ERR_SSL_…ALERT… codes). */
export function isTlsAlert(error: NodeJS.ErrnoException): boolean {
  return error.code !== undefined && error.code.startsWith('ERR_SSL_') && error.code.includes('ALERT');
}

/** Alerts by which a server says it wants a (different) client certificate (RFC 8446 §6.2). */
const CLIENT_CERTIFICATE_ALERTS = ['CERTIFICATE_REQUIRED', 'BAD_CERTIFICATE', 'UNKNOWN_CA', 'CERTIFICATE_UNKNOWN', 'HANDSHAKE_FAILURE'];

/** A handshake error as a failure at phase `tls`: its code, and the remedy for a refused certificate. */
export function tlsFailure(error: NodeJS.ErrnoException): Failure {
  const code = error.code ?? 'TLS';
  const text = isCertificateError(code)
    ? `server certificate not accepted (${code}): ${error.message}; ${TLS_VERIFY_HINT}`
    : isTlsAlert(error) && CLIENT_CERTIFICATE_ALERTS.some((name) => code.includes(name))
      ? `TLS refused by the server (${code}): ${error.message}; if it asks for a client certificate (mutual TLS), give one it trusts with --tls-cert FILE --tls-key FILE (smtp.tlsCert, smtp.tlsKey); check --tls-min-version/--tls-max-version/--tls-ciphers against what it accepts`
      : `TLS handshake failed: ${error.message}`;
  return { phase: 'tls', error: code, text };
}

/** The failure when smtp.tls is 'starttls' and the EHLO reply does not offer it. */
export function startTlsNotOfferedFailure(): Failure {
  return {
    phase: 'tls',
    error: 'STARTTLS_NOT_OFFERED',
    text: 'the server does not offer STARTTLS in its EHLO reply: use tls: \'implicit\' (--tls implicit) for a port-465-style server, or tls: \'none\'',
  };
}
