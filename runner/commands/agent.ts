/** `runner agent`: a load machine of a run over many machines (agents/agent.ts); `runner run --agents` coordinates it. */
import type { Command, OptionValues } from 'commander';
import { runAgentCommand, type AgentFlags } from '../agents/agent-command.ts';
import { listenAddress } from './flags.ts';

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
      await runAgentCommand(flags as AgentFlags);
    });
}
