/**
 * Flag parsers shared by the commands: each throws commander's InvalidArgumentError with a
 * message that says what was expected, so a typo costs one line, not a stack trace.
 */
import { parseAgentAddress, type AgentAddress } from '../agents/remote.ts';
import { InvalidArgumentError } from 'commander';
import { availableParallelism } from 'node:os';
import { parseDurationMs } from '../scenario/duration.ts';
import { RunnerError } from '../errors.ts';
import { AUTH_MECHANISMS } from '../smtp/settings.ts';
import { TLS_MODES } from '../smtp/tls.ts';
import { exceedsLimit, type LimitName } from '../scenario/limits.ts';
import { parseRatePerSecond } from '../util/rate.ts';
import { checkWarmup } from '../scenario/check-limits.ts';

/** Parser for a whole number ≥ `min` and within `limit` (limits.ts) when given; `what` names the flag in the message. */
export function integer(min: number, what: string, limit?: LimitName) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) throw new InvalidArgumentError(`${what} must be a whole number, got '${value}'`);
    if (number < min) throw new InvalidArgumentError(`${what} must be ≥ ${min}, got ${number}`);
    const problem = limit === undefined ? undefined : exceedsLimit(limit, number);
    if (problem) throw new InvalidArgumentError(`${what} ${problem}`);
    return number;
  };
}

/** Parser for a number > 0. */
export function positiveNumber(what: string) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0) throw new InvalidArgumentError(`${what} must be a number > 0, got '${value}'`);
    return number;
  };
}

/** Parser for a rate (`runner scale --rate`): iterations per second, or as written ('200/m', '5/s'); kept as per second, within the scenario files' limit. */
export function ratePerSecond(value: string): number {
  let perSecond: number;
  try {
    perSecond = parseRatePerSecond(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  const problem = exceedsLimit('ratePerSecond', perSecond);
  if (problem) throw new InvalidArgumentError(`--rate ${problem}`);
  return perSecond;
}

/** Parser for a port to listen on, 0-65535 (0: any free port). */
export function port(value: string): number {
  return portInRange(value, 0);
}

/** Parser for a port to connect to, 1-65535. */
export function targetPort(value: string): number {
  return portInRange(value, 1);
}

function portInRange(value: string, min: 0 | 1): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < min || Number(value) > 65535) {
    throw new InvalidArgumentError(`expected a port number ${min}-65535${min === 0 ? ' (0: any free port)' : ''}, got '${value}'`);
  }
  return Number(value);
}

/** Parser that checks a duration ('30s', '5m', within the duration limit) and keeps it as written. */
export function duration(value: string): string {
  let ms: number;
  try {
    ms = parseDurationMs(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  const problem = exceedsLimit('durationMs', ms, `'${value}'`);
  if (problem) throw new InvalidArgumentError(`the duration ${problem}`);
  return value;
}

/** Parser for `--warmup`: a duration ('30s') or a whole number of messages ≥ 0, kept as written. */
export function warmup(value: string): string {
  const problem = checkWarmup(value, '--warmup');
  if (problem) throw new InvalidArgumentError(problem.replace(/^--warmup: /, ''));
  return value;
}

/** Accumulates a repeatable flag into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Turns repeated KEY=VALUE flags into an object; a pair without = is a usage error. */
export function keyValues(pairs: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new RunnerError(`${flag} '${pair}' is not KEY=VALUE`, { code: 'E_USAGE', exit: 'usage', hint: `write ${flag} NAME=value` });
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}

/** What --auth and --tls take (defined with the SMTP code). */
export { AUTH_MECHANISMS, TLS_MODES };

/** Parser for one of `choices`; `flag` names the flag in the message, which lists the choices. */
export function choice<T extends string>(choices: readonly T[], flag: string) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`${flag} must be one of ${choices.join(', ')}, got '${value}'`);
    return value as T;
  };
}

/** Parser for a comma-separated list of loads: whole numbers ≥ 1 (VUs) or numbers > 0 (rates). */
export function loadList(flag: string, isWhole: boolean) {
  return (value: string): number[] => {
    const parts = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
    if (parts.length === 0) throw new InvalidArgumentError(`${flag} needs values, e.g. ${isWhole ? '5,10,25,50,100' : '600,1200,2400'}`);
    return parts.map((part) => (isWhole ? integer(1, flag)(part) : positiveNumber(flag)(part)));
  };
}

/** Parser for a significance level (--alpha): a number strictly between 0 and 1. */
export function probability(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number > 0 && number < 1)) throw new InvalidArgumentError(`--alpha must be between 0 and 1 (e.g. 0.01), got '${value}'`);
  return number;
}

/** Parser for a percentage: '10%' or '10' → 0.1 (a fraction > 0). */
export function percent(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  const number = match ? Number(match[1]) : NaN;
  if (!match || !(number > 0)) throw new InvalidArgumentError(`expected a percentage > 0 such as 10%, got '${value}'`);
  return number / 100;
}

/** Parser for `--debug [sessions]`: a count ≥ 1; anything else was probably the scenario file taken as the count. */
export function debugSessions(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new InvalidArgumentError(`--debug takes a number of sessions, got '${value}' (write --debug=N, or put --debug after the scenario file)`);
  }
  return Number(value);
}

/** The most worker processes `--workers` starts (each is a whole Node process). */
export const MAX_WORKERS = 256;

/** Parser for `--workers N|auto`: a whole number 1..MAX_WORKERS, or `auto` (one per core: os.availableParallelism()). */
export function workerCount(value: string): number {
  if (value.trim() === 'auto') return availableParallelism();
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1 || Number(value) > MAX_WORKERS) {
    throw new InvalidArgumentError(`--workers must be a whole number 1-${MAX_WORKERS} or 'auto' (one per core), got '${value}'`);
  }
  return Number(value);
}

/** Parser for --agents: a comma-separated list of host:port, at least one, none twice. */
export function agentList(value: string): AgentAddress[] {
  const parts = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new InvalidArgumentError(`--agents needs at least one host:port, e.g. --agents 10.0.0.5:6565,10.0.0.6:6565`);
  const addresses: AgentAddress[] = [];
  for (const part of parts) {
    const address = parseAgentAddress(part);
    if (!address) throw new InvalidArgumentError(`--agents: '${part}' is not host:port (a port 1-65535; IPv6 in brackets: [::1]:6565)`);
    if (addresses.some((other) => other.host === address.host && other.port === address.port)) throw new InvalidArgumentError(`--agents: ${part} is given twice; each agent runs one segment`);
    addresses.push(address);
  }
  return addresses;
}

/** Parser for `runner agent --listen`: host:port (port 0: any free one). */
export function listenAddress(value: string): AgentAddress {
  const address = parseAgentAddress(value) ?? (/^\s*(?:\[[^\]]+\]|[^:\s]+):0\s*$/.test(value) ? { host: value.trim().replace(/:0$/, '').replace(/^\[|\]$/g, ''), port: 0 } : undefined);
  if (!address) throw new InvalidArgumentError(`--listen must be HOST:PORT, e.g. 0.0.0.0:6565, got '${value}'`);
  return address;
}
