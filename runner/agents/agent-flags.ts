/** `runner run --agents` with its companion flags, checked together and read into the run's options. */
import { readFileSync } from 'node:fs';
import type { AgentAddress, AgentConnection } from './remote.ts';
import { readTokenFile } from './wire.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import { UsageError } from '../errors.ts';
import { hasPemCertificate } from '../util/pem.ts';

/** The flags of `runner run` that concern agents. */
export interface AgentRunFlags {
  agents?: AgentAddress[];
  tokenFile?: string;
  agentTlsCa?: string;
  onAgentLoss: 'continue' | 'stop';
  agentConnectTimeout: string;
}

/** --agents with its companions, checked together: --token-file is required, the others need --agents. */
/** The run's agents, read from the flags: where, how to connect, what to do when one drops out. */
export interface AgentsOption {
  addresses: AgentAddress[];
  connection: AgentConnection;
  onLoss: 'continue' | 'stop';
}

export function agentsOf(own: AgentRunFlags): AgentsOption | undefined {
  if (own.agents === undefined) {
    const stray = [own.tokenFile !== undefined && '--token-file', own.agentTlsCa !== undefined && '--agent-tls-ca'].filter(Boolean);
    if (stray.length > 0) throw new UsageError(`${stray.join(' and ')} only apply with --agents`, 'add --agents host:port,... or leave them out');
    return undefined;
  }
  if (own.tokenFile === undefined) throw new UsageError('--agents needs --token-file (the same file the agents were started with)', 'runner run scenario.ts --agents host1:6565,host2:6565 --token-file token');
  let tlsCa: string | undefined;
  if (own.agentTlsCa !== undefined) {
    try {
      tlsCa = readFileSync(own.agentTlsCa, 'utf8');
    } catch (error) {
      throw new UsageError(`--agent-tls-ca ${own.agentTlsCa}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'give the PEM file of the CA that signed the agents\' certificates');
    }
    if (!hasPemCertificate(tlsCa)) throw new UsageError(`--agent-tls-ca ${own.agentTlsCa}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, 'give the PEM file of the CA that signed the agents\' certificates');
  }
  return {
    addresses: own.agents,
    connection: { token: readTokenFile(own.tokenFile), tlsCa, connectTimeoutMs: parseDurationMs(own.agentConnectTimeout) },
    onLoss: own.onAgentLoss,
  };
}
