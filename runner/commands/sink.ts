/** `runner sink`: a fake upstream mail provider (Gmail/Outlook stand-in) with delivery ground truth. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { collect, integer, port, positiveNumber } from './flags.ts';
import type { SinkFlags } from '../../fixtures/sink-command.ts';

/** Adds `sink` to the program. */
export function registerSinkCommand(program: Command): void {
  program
    .command('sink')
    .description('run a fake upstream mail provider (Gmail/Outlook stand-in) a proxy relays to, with its OAuth2 token endpoint and the ground truth of what arrived (GET /__deliveries), until interrupted')
    .option('--host <host>', 'listen address of every listener', '127.0.0.1')
    .option('--port <port>', 'SMTP port (0: any free port)', port, 2587)
    .addOption(new Option('--tls <mode>', 'starttls (Gmail\'s 587: AUTH only after STARTTLS), implicit (465 style) or none').choices(['starttls', 'implicit', 'none']).default('starttls'))
    .option('--cert <file>', 'TLS certificate (PEM); without --cert/--key a self-signed one for localhost/127.0.0.1 is made and its CA file printed')
    .option('--key <file>', 'TLS private key (PEM), with --cert')
    .option('--admin-port <port>', 'admin HTTP port: GET /health, /__stats, /__deliveries?after=&wait_ms= (0: any free port)', port, 9190)
    .option('--token-port <port>', 'run the fake OAuth2 token endpoint (HTTPS) on this port (0: any free port); default: none', port)
    .option('--accounts <file>', 'accounts.json in the proxy\'s format: only these may log in, refresh tokens checked (default: any user)')
    .option('--accept-any-token', 'XOAUTH2: accept any bearer token, not only the token endpoint\'s')
    .option('--delay <phase=spec>', 'server-side delay before replying: phase=ms | phase=uniform:MIN-MAX | phase=lognormal:MEDIAN,SIGMA; repeatable', collect)
    .option('--failure <phase=spec>', 'inject failures: phase=CODE[-ENHANCED]:PROBABILITY (e.g. message=454:0.1, auth=454-4.7.0:0.05, mail=421:0.01) | phase=disconnect|reset|silence:PROBABILITY (message=disconnect: a drop after DATA); repeatable', collect)
    .option('--delivered-failure <spec>', 'deliver the message, then answer with a failure anyway: message=CODE:PROBABILITY | message=disconnect:PROBABILITY (makes duplicates/unexpected arrivals upstream of a retrying client); repeatable', collect)
    .option('--duplicate <probability>', 'record a delivered message twice with this probability (0..1)', probability('--duplicate'))
    .option('--rate-limit <n>', 'messages per account per rolling minute; past it 421 4.7.28', integer(1, '--rate-limit'))
    .option('--daily-quota <n>', 'messages per account since start; past it 550 5.4.5', integer(1, '--daily-quota'))
    .option('--max-connections <n>', 'concurrent connections; past it 421 4.7.0 at the greeting', integer(1, '--max-connections'))
    .option('--max-size <bytes>', 'largest message (SIZE); larger ones get 552 5.3.4 (default: Gmail\'s 35882577)', integer(1, '--max-size'))
    .option('--token-delay <spec>', 'token endpoint latency: ms | uniform:MIN-MAX | lognormal:MEDIAN,SIGMA')
    .option('--token-failure <kind:probability>', 'token endpoint failures: invalid_grant|429|5xx|timeout:PROBABILITY; repeatable', collect)
    .option('--token-lifetime <seconds>', 'expires_in of issued tokens', positiveNumber('--token-lifetime'), 3599)
    .option('--seed <n>', 'seed for delays and failures', integer(0, '--seed'))
    .option('--json', 'print one JSON line {smtpPort, adminPort, tokenPort, tokenUrl, caFile} when ready (for scripts)')
    .action(async (flags: SinkFlags) => {
      // smtp-server loads only for this command
      const { runSinkCommand } = await import('../../fixtures/sink-command.ts');
      await runSinkCommand(flags);
    });
}

function probability(what: string) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !(number >= 0 && number <= 1)) throw new InvalidArgumentError(`${what} must be a probability 0..1, got '${value}'`);
    return number;
  };
}
