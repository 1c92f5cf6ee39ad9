/** `runner fixture`: its flags → runFixtureCommand (fixtures/fixture-command.ts), loaded only for this command. */
import { Option, type Command } from 'commander';
import { collect, integer, port, TLS_MODES } from './flags.ts';
import type { FixtureFlags } from '../../fixtures/fixture-command.ts';

/** Adds `fixture` to the program. */
export function registerFixtureCommand(program: Command): void {
  program
    .command('fixture')
    .description('run the built-in fake XOAUTH2 proxy (SMTP + admin HTTP) until interrupted')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'SMTP port (0: any free port)', port, 2525)
    .option('--admin-port <port>', 'admin HTTP port (0: any free port)', port, 9090)
    .option('--accounts <file>', 'accounts.json in the proxy\'s format (default: the built-in fixtures/accounts.json)')
    .option('--delay <phase=spec>', 'server-side delay before replying: phase=ms | phase=uniform:MIN-MAX | phase=lognormal:MEDIAN,SIGMA; repeatable', collect)
    .option('--failure <phase=spec>', 'inject failures: phase=CODE:PROBABILITY | phase=disconnect|reset|silence:PROBABILITY; repeatable', collect)
    .option('--first-auth-delay <ms>', 'one-off delay on each account\'s first AUTH (token refresh)', integer(0, '--first-auth-delay'))
    .addOption(new Option('--unknown-account-code <code>', 'reply code for an account not configured').choices(['535', '454']).default('535'))
    .option('--max-clients <n>', 'concurrent connections before 421', integer(1, '--max-clients'))
    .option('--max-in-flight-per-account <n>', 'messages in DATA at once per account before 451 4.4.5', integer(1, '--max-in-flight-per-account'))
    .option('--max-concurrent-messages <n>', 'messages worked on at once (end of data to reply); more wait in line', integer(1, '--max-concurrent-messages'))
    .option('--seed <n>', 'seed for delays and failures', integer(0, '--seed'))
    .option('--stall <atMs+durationMs>', 'hold every SMTP reply back from atMs after the start for durationMs, e.g. 3000+2000; repeatable', collect)
    .addOption(new Option('--tls <mode>', 'TLS with a self-signed certificate made at startup (openssl): starttls (offered after EHLO) or implicit (port 465 style); default none, STARTTLS hidden like the real proxy').choices([...TLS_MODES]).default('none'))
    .option('--relay-to <host:port>', 'relay every accepted message to this upstream (a provider, or runner sink) with the account\'s credentials, as the real proxy does')
    .addOption(new Option('--relay-tls <mode>', 'with --relay-to: TLS to the upstream').choices([...TLS_MODES]).default('starttls'))
    .option('--relay-ca <file>', 'with --relay-to: extra CA (PEM) to trust for the upstream and its token endpoint, e.g. the CA file runner sink prints')
    .addOption(new Option('--relay-mode <mode>', 'with --relay-to: after-250 (the real proxy: 250 first, relay in the background, refused messages dropped) or before-250 (answer only after the upstream; its refusal passed back)').choices(['after-250', 'before-250']).default('after-250'))
    .option('--relay-token-url <url>', 'with --relay-to: OAuth2 token URL for accounts without oauth_token_url (e.g. the sink\'s https://127.0.0.1:PORT/token); accounts with neither log in upstream with PLAIN')
    .option('--json', 'print one JSON line {port, adminPort} when ready (for scripts)')
    .action(async (flags: FixtureFlags) => {
      // smtp-server loads only for this command, not with every `runner run`.
      const { runFixtureCommand } = await import('../../fixtures/fixture-command.ts');
      await runFixtureCommand(flags);
    });
}
