/**
 * `--client-fault <kind>:<probability>[:<parameter>]` (repeatable): client-side faults drawn per
 * message of a flag-only run (smtp/client-faults.ts says what each kind does).
 */
import { parseDurationMs } from './duration.ts';
import { CLIENT_FAULT_KINDS, MAX_RSET_STORM, type ClientFault, type ClientFaultChance, type ClientFaultKind } from '../smtp/client-faults.ts';

const PARAMETER_OF: Readonly<Record<ClientFaultKind, string>> = {
  'abort-data': 'bytes written before dropping, default 512',
  'slow-body': 'bytes per second, default 1024',
  'idle-after-mail': 'a duration, default 5s',
  'drop-after-accept': 'none',
  'rset-storm': 'RSETs before MAIL, default 10',
};

/** What to write instead, with every kind's parameter. */
const FLAG_HINT = `write --client-fault <kind>:<probability>[:<parameter>], e.g. abort-data:0.05 or slow-body:0.01:200; kinds and their parameter: ${CLIENT_FAULT_KINDS.map((kind) => `${kind} (${PARAMETER_OF[kind]})`).join(', ')}`;

/** Parses one `--client-fault` value; problems pushed (with the fix) and undefined when it is not valid. */
export function parseClientFaultFlag(text: string, problems: string[]): ClientFaultChance | undefined {
  const [kindText, probabilityText, parameter, ...rest] = text.trim().split(':');
  const kind = kindText as ClientFaultKind;
  if (!CLIENT_FAULT_KINDS.includes(kind) || probabilityText === undefined || rest.length > 0) {
    problems.push(`--client-fault '${text}': ${FLAG_HINT}`);
    return undefined;
  }
  const probability = Number(probabilityText);
  if (probabilityText === '' || !Number.isFinite(probability) || probability < 0 || probability > 1) {
    problems.push(`--client-fault '${text}': the probability must be a number from 0 to 1 (a share of messages, e.g. 0.05)`);
    return undefined;
  }
  const fault: ClientFault = { kind };
  if (parameter !== undefined) {
    const problem = setParameter(fault, parameter);
    if (problem !== undefined) {
      problems.push(`--client-fault '${text}': ${problem}`);
      return undefined;
    }
  }
  return { fault, probability };
}

function setParameter(fault: ClientFault, parameter: string): string | undefined {
  const count = Number(parameter);
  switch (fault.kind) {
    case 'abort-data':
      if (!Number.isInteger(count) || count < 0) return 'abort-data takes the bytes to write before dropping, an integer ≥ 0';
      fault.afterBytes = count;
      return undefined;
    case 'slow-body':
      if (!Number.isInteger(count) || count < 1) return 'slow-body takes a rate in bytes per second, an integer ≥ 1';
      fault.bytesPerSecond = count;
      return undefined;
    case 'rset-storm':
      if (!Number.isInteger(count) || count < 1 || count > MAX_RSET_STORM) return `rset-storm takes a count of RSETs, 1..${MAX_RSET_STORM}`;
      fault.count = count;
      return undefined;
    case 'idle-after-mail':
      try {
        fault.idleMs = parseDurationMs(parameter);
        return undefined;
      } catch {
        return 'idle-after-mail takes a duration, e.g. 30s or 500ms';
      }
    case 'drop-after-accept':
      return 'drop-after-accept takes no parameter';
  }
}
