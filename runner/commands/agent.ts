/** `runner agent`: a load machine of a run over many machines (agents/agent.ts); `runner run --agents` coordinates it. */
import { readFileSync } from 'node:fs';
import type { Command, OptionValues } from 'commander';
import { startAgent } from '../agents/agent.ts';
import { readTokenFile } from '../agents/wire.ts';
import { UsageError } from '../errors.ts';
import { listenAddress } from './flags.ts';

interface AgentFlags {
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

/** Adds `agent` to the program. */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run load for a coordinator on another machine (runner run --agents): wait for it, run the segment it assigns, stream the figures back')
    .requiredOption('--listen <host:port>', 'where to wait for the coordinator, e.g. 0.0.0.0:6565', listenAddress)
    .requiredOption('--token-file <file>', 'file holding the shared secret (first line); the coordinator must give the same one, or it is refused')
    .option('--tls-cert <file>', 'PEM certificate: accept the coordinator over TLS (it verifies it with --agent-tls-ca); needs --tls-key')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--once', 'leave after one coordinator\'s run (a Kubernetes Job\'s pod); exit status 0')
    .action(async (flags: OptionValues) => {
      const own = flags as AgentFlags;
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
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await agent.done;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
}
