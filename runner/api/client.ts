/**
 * `runner pause`, `runner resume`, `runner scale --vus N --rate R` (and `runner status`): calls the REST
 * API of a run started with `--api`, prints the run's status after the change, and says clearly
 * when no run listens there or the API refused the change.
 */
import { RunnerError, UsageError } from '../errors.ts';
import { formatDurationMs } from '../scenario/duration.ts';
import { DEFAULT_API_ADDRESS, parseApiAddress } from './address.ts';

/** What the control commands take. */
export interface ControlCommandOptions {
  action: 'status' | 'pause' | 'resume' | 'scale';
  /** `scale --vus N`. */
  vus?: number;
  /** `scale --rate R`, iterations per second. */
  ratePerSecond?: number;
  /** `--api HOST:PORT` of the run. @default '127.0.0.1:6565' */
  api?: string;
  /** `--api-token` (or RUNNER_API_TOKEN). */
  apiToken?: string;
  json?: boolean;
  stdout?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/** Calls the API and prints the status; returns the status body. Throws RunnerError when the call fails. */
export async function controlCommand(command: ControlCommandOptions): Promise<Record<string, unknown>> {
  const stdout = command.stdout ?? process.stdout;
  if (command.action === 'scale' && command.vus === undefined && command.ratePerSecond === undefined) {
    throw new UsageError('runner scale needs --vus N or --rate R (or both)', 'e.g. runner scale --vus 20, or runner scale --rate 200/m');
  }
  const apiText = command.api ?? DEFAULT_API_ADDRESS;
  const address = parseApiAddress(apiText);
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${host}:${address.port}/v1/status`;
  const token = command.apiToken ?? (command.env ?? process.env)['RUNNER_API_TOKEN'];
  const change = command.action === 'pause' ? { paused: true } : command.action === 'resume' ? { paused: false } : command.action === 'scale' ? { vus: command.vus, rate: command.ratePerSecond } : undefined;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let response: Response;
  try {
    response = await fetch(url, change === undefined ? { headers } : { method: 'PATCH', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(change) });
  } catch (error) {
    const code = ((error as { cause?: { code?: string } }).cause?.code) ?? (error as Error).message;
    throw new RunnerError(`no run answers at ${apiText} (${code})`, {
      code: 'E_API_UNREACHABLE',
      exit: 'targetUnreachable',
      hint: `start the run with --api ${apiText} (the API is off by default), or give its address with --api`,
    });
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const reason = typeof body['error'] === 'string' ? body['error'] : `HTTP ${response.status}`;
    throw new RunnerError(`the run at ${apiText} refused: ${reason}`, {
      code: 'E_API_REFUSED',
      exit: 'usage',
      hint: response.status === 401 ? 'give the run\'s token with --api-token (or RUNNER_API_TOKEN)' : undefined,
    });
  }
  stdout.write(command.json ? `${JSON.stringify(body, null, 2)}\n` : `${formatStatus(body)}\n`);
  return body;
}

/** One line for people: phase, paused or not, VUs, elapsed and paused time; the rate of each steerable scenario. */
export function formatStatus(body: Record<string, unknown>): string {
  const state = body['stopping'] ? 'stopping' : body['paused'] ? 'paused' : String(body['phase']);
  const elapsed = formatDurationMs(Number(body['elapsed_ms'] ?? 0));
  const paused = Number(body['paused_ms'] ?? 0) > 0 ? `, paused ${formatDurationMs(Number(body['paused_ms']))} in all` : '';
  const scenarios = Array.isArray(body['scenarios']) ? (body['scenarios'] as Array<Record<string, unknown>>) : [];
  const rates = scenarios.filter((s) => typeof s['rate_per_second'] === 'number').map((s) => `; ${String(s['name'])} at ${Math.round(Number(s['rate_per_second']) * 1000) / 1000}/s`);
  return `run ${state}: ${body['vus']} VUs active (${body['vus_max']} allocated), ${elapsed} elapsed${paused}${rates.join('')}`;
}
