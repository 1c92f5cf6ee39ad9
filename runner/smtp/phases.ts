/**
 * The phases of an SMTP transaction, in protocol order. Each is timed separately (integer
 * microseconds) and each is where a failure is attributed.
 *
 * - connect: TCP connect (SYN → established)
 * - tls: TLS handshake (smtp.tls): with 'implicit', established → handshake done, before the
 *   greeting; with 'starttls', STARTTLS → 220 → handshake done, after the first EHLO (the
 *   EHLO sent again on the secure channel, RFC 3207 §4.2, is timed as a second ehlo). Listed
 *   after connect, as k6 lists tls_handshaking after connecting.
 * - tls_resumed: the same, for a handshake that resumed an earlier TLS session (smtp.tlsResumption):
 *   timed apart, as it skips the certificate exchange; its count is the number of resumed handshakes.
 * - greeting: established → 220 greeting (RFC 5321 §4.3.1)
 * - ehlo: EHLO → final 250 line
 * - auth: AUTH → 235 (RFC 4954)
 * - mail: MAIL FROM → 250
 * - rcpt: all RCPT TO → their 250s (one timing for all recipients of the message)
 * - data: DATA → 354
 * - message: message bytes + end-of-data "." → 250 (the server's real work: relay upstream)
 * - rset: RSET → 250, between messages on a reused connection
 * - quit: QUIT → 221 (or the close)
 */
export const PHASES = ['connect', 'tls', 'tls_resumed', 'greeting', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'message', 'rset', 'quit'] as const;

export type Phase = (typeof PHASES)[number];

/** Index of each phase in PHASES, for preallocated per-phase arrays on the hot path. */
export const PHASE_INDEX: Readonly<Record<Phase, number>> = Object.fromEntries(
  PHASES.map((phase, index) => [phase, index]),
) as Record<Phase, number>;

/** Number of phases: the length of every per-phase timing array. */
export const PHASE_COUNT = PHASES.length;

/** Checks whether a string names a phase. */
export function isPhase(name: string): name is Phase {
  return (PHASES as readonly string[]).includes(name);
}
