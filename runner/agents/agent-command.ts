/** `runner agent`: its flags checked and read, the agent started, served until it is done or signalled. */
import { readFileSync } from 'node:fs';
import { startAgent } from './agent.ts';
import { readTokenFile } from './wire.ts';
import { UsageError } from '../errors.ts';

/** What `runner agent` takes (commands/agent.ts declares the flags). */
export interface AgentFlags {
  listen: { host: string; port: number };
  tokenFile: string;
  tlsCert?: string;
  tlsKey?: string;
  once?: boolean;
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'give a PEM file');
  }
}

/** Runs an agent until its coordinator is done (--once) or SIGINT/SIGTERM. */
export async function runAgentCommand(own: AgentFlags): Promise<void> {
  if ((own.tlsCert === undefined) !== (own.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together', 'give both (the agent\'s certificate and its key), or neither for plain TCP');
  const agent = await startAgent({
    host: own.listen.host,
    port: own.listen.port,
    token: readTokenFile(own.tokenFile),
    tlsCert: own.tlsCert === undefined ? undefined : readPem(own.tlsCert, '--tls-cert'),
    tlsKey: own.tlsKey === undefined ? undefined : readPem(own.tlsKey, '--tls-key'),
    isOnce: own.once === true,
    stderr: process.stderr,
  });
  const stop = (): void => agent.close();
  // on, not once: a second Ctrl+C on a busy agent cuts its running messages off
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await agent.done;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
}
