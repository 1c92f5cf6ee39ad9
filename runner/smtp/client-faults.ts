/**
 * Client-side faults: a client that breaks the protocol on purpose, as real clients do (issue 15).
 * A fault rides on one message of the default flow (`ctx.smtp.send({ fault })`, or drawn per
 * message with `--client-fault kind:probability`); it is counted under `client_faults` by kind,
 * never as a failure. What the server does about it (a timeout, a 421) ends that message without
 * counting it failed either: that is the answer the fault asks for. A message the server still
 * accepts (slow-body, idle-after-mail, rset-storm, drop-after-accept) counts as accepted too.
 *
 * A message carrying a fault is sent one command at a time with DATA (no pipelining, no BDAT), so
 * the fault lands exactly where it says.
 */
/**
 * - 'abort-data': after 354, write `afterBytes` of the message, then drop the connection (no end-of-data).
 * - 'slow-body': write the message at `bytesPerSecond`; the message phase is timed from its last byte.
 * - 'idle-after-mail': after MAIL's 250, wait `idleMs` before RCPT.
 * - 'drop-after-accept': after the 250 to end-of-data, drop the connection without QUIT.
 * - 'rset-storm': `count` RSETs, each awaited, before MAIL.
 */
export type ClientFaultKind = 'abort-data' | 'slow-body' | 'idle-after-mail' | 'drop-after-accept' | 'rset-storm';

/** Every kind, in the order results and the console list them. */
export const CLIENT_FAULT_KINDS: readonly ClientFaultKind[] = ['abort-data', 'slow-body', 'idle-after-mail', 'drop-after-accept', 'rset-storm'];

/** One fault on one message; the fields not of its kind are ignored. */
export interface ClientFault {
  kind: ClientFaultKind;
  /** abort-data: bytes of the message written before the connection is dropped (at most the whole message without its end). @default 512 */
  afterBytes?: number;
  /** slow-body: the rate the message is written at, bytes per second. @default 1024 */
  bytesPerSecond?: number;
  /** idle-after-mail: how long to wait after MAIL's 250 before RCPT, milliseconds. @default 5000 */
  idleMs?: number;
  /** rset-storm: how many RSETs before MAIL. @default 10 */
  count?: number;
}

/** The counter faults are counted in (tagged with `kind`); results and the console list it as `client_faults`. */
export const CLIENT_FAULTS_METRIC = 'client_faults';

/** The defaults of each kind's parameter. */
export const CLIENT_FAULT_DEFAULTS = { afterBytes: 512, bytesPerSecond: 1024, idleMs: 5000, count: 10 } as const;

/** Largest rset-storm count (bounded input). */
export const MAX_RSET_STORM = 10_000;

/** A fault drawn per message of a flag-only run: `--client-fault abort-data:0.05`. */
export interface ClientFaultChance {
  fault: ClientFault;
  /** Probability per message, 0..1. */
  probability: number;
}

/** Checks the chances of a run together: their probabilities may add up to 1 at most. */
export function checkClientFaultChances(chances: readonly ClientFaultChance[], problems: string[]): void {
  const sum = chances.reduce((total, chance) => total + chance.probability, 0);
  if (sum > 1 + 1e-9) problems.push(`--client-fault: the probabilities add up to ${sum}, more than 1: each message carries one fault at most; lower them`);
}

/** A fault given in scenario code (send({ fault })): a description of what is wrong, or undefined. */
export function describeInvalidFault(fault: unknown): string | undefined {
  if (fault === null || typeof fault !== 'object') return `fault must be an object such as { kind: 'abort-data', afterBytes: 512 }`;
  const { kind, afterBytes, bytesPerSecond, idleMs, count } = fault as Record<string, unknown>;
  if (!CLIENT_FAULT_KINDS.includes(kind as ClientFaultKind)) return `fault.kind ${JSON.stringify(kind)} is not one of ${CLIENT_FAULT_KINDS.join(', ')}`;
  if (afterBytes !== undefined && !(Number.isInteger(afterBytes) && (afterBytes as number) >= 0)) return 'fault.afterBytes must be an integer ≥ 0';
  if (bytesPerSecond !== undefined && !(Number.isInteger(bytesPerSecond) && (bytesPerSecond as number) >= 1)) return 'fault.bytesPerSecond must be an integer ≥ 1';
  if (idleMs !== undefined && !(typeof idleMs === 'number' && Number.isFinite(idleMs) && idleMs >= 0)) return 'fault.idleMs must be a number of milliseconds ≥ 0';
  if (count !== undefined && !(Number.isInteger(count) && (count as number) >= 1 && (count as number) <= MAX_RSET_STORM)) return `fault.count must be an integer 1..${MAX_RSET_STORM}`;
  return undefined;
}

/** The fault for one message: `random` in [0, 1) against the chances' cumulative probabilities; undefined: none. */
export function pickClientFault(chances: readonly ClientFaultChance[], random: number): ClientFault | undefined {
  let at = 0;
  for (const chance of chances) {
    at += chance.probability;
    if (random < at) return chance.fault;
  }
  return undefined;
}

/**
 * How a slow body is written: `chunkBytes` every `tickMs`, so that the rate is `bytesPerSecond`
 * (ticks of 100 ms at least: a timer per byte would measure the timer, not the server).
 */
export function slowBodyPlan(bytesPerSecond: number): { chunkBytes: number; tickMs: number } {
  const tickMs = Math.max(100, Math.ceil(1000 / bytesPerSecond));
  return { chunkBytes: Math.max(1, Math.round((bytesPerSecond * tickMs) / 1000)), tickMs };
}
