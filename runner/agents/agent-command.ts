/** `runner agent`: its flags checked and read, the agent started, served until it is done or signalled. */
import { readFileSync } from 'node:fs';
import { startAgent } from './agent.ts';
import { readTokenFile } from './wire.ts';
import { UsageError } from '../errors.ts';
import { loadBuiltin } from '../util/builtin.ts';

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

/** --tls-cert and --tls-key read and tried together: a file that is not PEM, or a key of another certificate, is a usage mistake, not a crash at listen. */
function readKeyPair(certPath: string, keyPath: string): { tlsCert: string; tlsKey: string } {
  const tlsCert = readPem(certPath, '--tls-cert');
  const tlsKey = readPem(keyPath, '--tls-key');
  try {
    loadBuiltin('node:tls').createSecureContext({ cert: tlsCert, key: tlsKey });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--tls-cert ${certPath} / --tls-key ${keyPath}: not a usable PEM certificate and key (${code})`, 'give the agent\'s certificate and its own private key in PEM');
  }
  return { tlsCert, tlsKey };
}

/** Runs an agent until its coordinator is done (--once) or SIGINT/SIGTERM. */
export async function runAgentCommand(own: AgentFlags): Promise<void> {
  if ((own.tlsCert === undefined) !== (own.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together', 'give both (the agent\'s certificate and its key), or neither for plain TCP');
  const agent = await startAgent({
    host: own.listen.host,
    port: own.listen.port,
    token: readTokenFile(own.tokenFile),
    ...(own.tlsCert === undefined || own.tlsKey === undefined ? {} : readKeyPair(own.tlsCert, own.tlsKey)),
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
