/**
 * The shared flag groups (runner/commands/flag-groups.ts): every command a group applies to has
 * each of its flags with the same help, so `run`, `sweep` and `check` cannot drift apart; and each
 * group's reader turns what commander parsed into the typed options the commands pass on.
 * In-process, no build needed.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Command } from 'commander';
import { resolve } from 'node:path';
import { buildProgram } from '../../runner/cli.ts';
import {
  AUTH_FLAGS,
  FIXTURE_FLAGS,
  LOAD_FLAGS,
  API_FLAGS,
  MESSAGE_FLAGS,
  OUTPUT_FLAGS,
  PREFLIGHT_WATCH_FLAGS,
  RECIPIENT_FLAGS,
  TARGET_FLAGS,
  TLS_FLAGS,
  type FlagGroup,
} from '../../runner/commands/flag-groups.ts';
import { UsageError } from '../../runner/errors.ts';

/** Each group and the commands it applies to (the table in flag-groups.ts). */
const MEMBERSHIP: Array<[name: string, group: FlagGroup<unknown>, commands: string[]]> = [
  ['TARGET_FLAGS', TARGET_FLAGS, ['run', 'sweep', 'check']],
  ['AUTH_FLAGS', AUTH_FLAGS, ['run', 'sweep', 'check']],
  ['TLS_FLAGS', TLS_FLAGS, ['run', 'sweep', 'check']],
  ['RECIPIENT_FLAGS', RECIPIENT_FLAGS, ['run', 'sweep']],
  ['MESSAGE_FLAGS', MESSAGE_FLAGS, ['run', 'sweep']],
  ['PREFLIGHT_WATCH_FLAGS', PREFLIGHT_WATCH_FLAGS, ['run', 'sweep']],
  ['FIXTURE_FLAGS', FIXTURE_FLAGS, ['run', 'sweep']],
  ['OUTPUT_FLAGS', OUTPUT_FLAGS, ['run']],
  ['LOAD_FLAGS', LOAD_FLAGS, ['run', 'inspect', 'archive']],
  ['API_FLAGS', API_FLAGS, ['run', 'status', 'pause', 'resume', 'scale']],
  ['TARGET_FLAGS (inspect, archive)', TARGET_FLAGS, ['inspect', 'archive']],
  ['MESSAGE_FLAGS (inspect, archive)', MESSAGE_FLAGS, ['inspect', 'archive']],
];

/** The flags a group declares, as `--flag` → help text. */
function flagsOf(group: FlagGroup<unknown>): Map<string, string> {
  const command = group.add(new Command('probe'));
  return new Map(command.options.map((option) => [option.long!, option.description]));
}

const membership = suite('flag groups: every command a group applies to takes all of its flags, with the same help');

const program = buildProgram();
const commandNamed = (name: string) => program.commands.find((command) => command.name() === name)!;

for (const [name, group, commands] of MEMBERSHIP) {
  membership(`${name}: ${commands.join(', ')}`, () => {
    for (const commandName of commands) {
      const options = new Map(commandNamed(commandName).options.map((option) => [option.long!, option.description]));
      for (const [flag, help] of flagsOf(group)) assert.is(options.get(flag), help, `runner ${commandName} ${flag}`);
    }
  });
}

membership('check sends no mail, so it takes no recipients (and asks nothing)', () => {
  const flags = commandNamed('check').options.map((option) => option.long);
  assert.not.ok(flags.includes('--to'));
  assert.not.ok(flags.includes('--allow-real-recipients'));
});

membership('sweep has every TLS and AUTH flag run has (the flags the issue found missing)', () => {
  const sweep = commandNamed('sweep').options.map((option) => option.long);
  for (const flag of ['--tls', '--tls-ca', '--tls-servername', '--insecure-skip-tls-verify', '--auth', '--no-auth', '--password', '--token', '--allow-real-recipients']) {
    assert.ok(sweep.includes(flag), flag);
  }
});

const readers = suite('flag groups: what each reader makes of the parsed flags');

/** Parses `args` with only `group`'s flags and returns its reader's result. */
function read<T>(group: FlagGroup<T>, args: string[]): T {
  const command = group.add(new Command('probe')).exitOverride();
  command.parse(args, { from: 'user' });
  return group.read(command.opts());
}

const READER_CASES: Array<[name: string, run: () => unknown, expected: unknown]> = [
  ['target: nothing given → nothing overridden', () => read(TARGET_FLAGS, []), { host: undefined, port: undefined, adminUrl: undefined, localIps: undefined, protocol: undefined }],
  ['target: --port is a number', () => read(TARGET_FLAGS, ['--host', 'mx.test', '--port', '587']).port, 587],
  ['target: --host [::1] (as in a URL) is the address, for run, sweep and check alike; a name stays as given', () => [read(TARGET_FLAGS, ['--host', '[::1]']).host, read(TARGET_FLAGS, ['--host', 'mx.test']).host], ['::1', 'mx.test']],
  ['target: --protocol lmtp (RFC 2033)', () => read(TARGET_FLAGS, ['--protocol', 'lmtp']).protocol, 'lmtp'],
  ['auth: --no-auth → auth none', () => read(AUTH_FLAGS, ['--no-auth']).auth, 'none'],
  ['auth: --auth xoauth2 --token T', () => read(AUTH_FLAGS, ['--auth', 'xoauth2', '--token', 'T']), { from: undefined, auth: 'xoauth2', password: undefined, token: 'T' }],
  ['tls: --tls-ca is resolved against the working directory', () => read(TLS_FLAGS, ['--tls', 'starttls', '--tls-ca', 'ca.pem']).tlsCa, resolve('ca.pem')],
  ['tls: --insecure-skip-tls-verify', () => read(TLS_FLAGS, ['--insecure-skip-tls-verify']).insecureSkipTlsVerify, true],
  ['recipients: --to repeated → a list; not acknowledged', () => { const r = read(RECIPIENT_FLAGS, ['--to', 'a@example.com', '--to', 'b@example.com']); return [r.to, r.safety.isAllowed]; }, [['a@example.com', 'b@example.com'], false]],
  ['recipients: --allow-real-recipients acknowledges', () => read(RECIPIENT_FLAGS, ['--allow-real-recipients']).safety.isAllowed, true],
  ['message: --no-rset → rsetBetweenMessages false, else untouched', () => [read(MESSAGE_FLAGS, ['--no-rset']).rsetBetweenMessages, read(MESSAGE_FLAGS, []).rsetBetweenMessages], [false, undefined]],
  ['message: --no-pipelining → pipelining off, else untouched', () => [read(MESSAGE_FLAGS, ['--no-pipelining']).pipelining, read(MESSAGE_FLAGS, []).pipelining], ['off', undefined]],
  ['message: --no-pipeline-ahead → pipelining transaction; with --no-pipelining, off', () => [read(MESSAGE_FLAGS, ['--no-pipeline-ahead']).pipelining, read(MESSAGE_FLAGS, ['--no-pipeline-ahead', '--no-pipelining']).pipelining], ['transaction', 'off']],
  ['message: --chunking --chunk-size 4096 → chunking on, 4096-byte chunks', () => [read(MESSAGE_FLAGS, ['--chunking', '--chunk-size', '4096']).chunking, read(MESSAGE_FLAGS, ['--chunking', '--chunk-size', '4096']).chunkSizeBytes, read(MESSAGE_FLAGS, []).chunking], [true, 4096, undefined]],
  ['message: --timeout in ms, --tag as an object', () => { const m = read(MESSAGE_FLAGS, ['--timeout', '5s', '--tag', 'env=ci']); return [m.timeoutMs, m.tags]; }, [5000, { env: 'ci' }]],
  ['preflight/watch: --no-check --no-watch', () => read(PREFLIGHT_WATCH_FLAGS, ['--no-check', '--no-watch']), { check: false, watchPid: false }],
  ['preflight/watch: --watch-pid 42', () => read(PREFLIGHT_WATCH_FLAGS, ['--watch-pid', '42']), { check: true, watchPid: 42 }],
  ['fixture: delays and failures become the fixture\'s flags', () => read(FIXTURE_FLAGS, ['--with-fixture', '--fixture-delay', 'message=5', '--fixture-failure', 'rcpt=451:0.1']), { withFixture: true, fixtureArgs: ['--delay', 'message=5', '--failure', 'rcpt=451:0.1'] }],
  ['outputs: nothing given → the default results file', () => { const o = read(OUTPUT_FLAGS, []); return [o.out, o.noResultsFile]; }, [undefined, false]],
  ['outputs: --no-out alone → no outputs', () => { const o = read(OUTPUT_FLAGS, ['--no-out']); return [o.out, o.noResultsFile]; }, [false, true]],
  ['outputs: --no-out with --out KIND=TARGET, either order → those outputs, no results file', () => [['--no-out', '--out', 'ndjson=a.ndjson'], ['--out', 'ndjson=a.ndjson', '--no-out']].map((args) => { const o = read(OUTPUT_FLAGS, args); return [o.out, o.noResultsFile]; }), [[['ndjson=a.ndjson'], true], [['ndjson=a.ndjson'], true]]],
  ['outputs: --out repeated → every value, in order', () => read(OUTPUT_FLAGS, ['--out', 'r.json', '--out', 'csv=s.csv']).out, ['r.json', 'csv=s.csv']],
  ['outputs: --metrics-port with --metrics-linger', () => read(OUTPUT_FLAGS, ['--metrics-port', '9464', '--metrics-linger', '2s']).metrics, { port: 9464, host: undefined, lingerMs: 2000 }],
];
for (const [name, run, expected] of READER_CASES) readers(name, () => assert.equal(run(), expected));

readers('outputs: --metrics-host without --metrics-port is a usage error', () => {
  assert.throws(() => read(OUTPUT_FLAGS, ['--metrics-host', '0.0.0.0']), (error: unknown) => error instanceof UsageError && /--metrics-host needs --metrics-port/.test((error as Error).message));
});

const EXPOSURE_CASES: Array<[string, string[], RegExp]> = [
  ['--dashboard 0.0.0.0:5665', ['--dashboard', '0.0.0.0:5665'], /--dashboard 0\.0\.0\.0:5665 is reachable from other machines/],
  ['--dashboard [::]:5665', ['--dashboard', '[::]:5665'], /--dashboard \[::\]:5665 is reachable from other machines/],
  ['--metrics-host 0.0.0.0', ['--metrics-port', '9464', '--metrics-host', '0.0.0.0'], /--metrics-host 0\.0\.0\.0 is reachable from other machines/],
  ['--metrics-host a hostname', ['--metrics-port', '9464', '--metrics-host', 'box.example'], /--metrics-host box\.example may be reachable from other machines \(a name other than localhost may resolve to any address\)/],
];
for (const [name, args, message] of EXPOSURE_CASES) {
  readers(`outputs: ${name} is refused without its --…-allow-remote, which the hint names`, () => {
    try {
      read(OUTPUT_FLAGS, args);
      assert.unreachable('accepted');
    } catch (error) {
      assert.instance(error, UsageError);
      assert.match((error as Error).message, message);
      assert.match((error as UsageError).hint ?? '', name.startsWith('--dashboard') ? /add --dashboard-allow-remote to mean it/ : /add --metrics-allow-remote to mean it/);
    }
  });
}
readers('outputs: allowed with --dashboard-allow-remote / --metrics-allow-remote, and loopback needs nothing', () => {
  assert.equal(read(OUTPUT_FLAGS, ['--dashboard', '0.0.0.0:5665', '--dashboard-allow-remote']).dashboard, { host: '0.0.0.0', port: 5665, isRemoteAllowed: true, lingerMs: undefined });
  assert.equal(read(OUTPUT_FLAGS, ['--metrics-port', '9464', '--metrics-host', '0.0.0.0', '--metrics-allow-remote']).metrics, { port: 9464, host: '0.0.0.0', isRemoteAllowed: true, lingerMs: undefined });
  assert.equal(read(OUTPUT_FLAGS, ['--dashboard', '5665']).dashboard, { host: '127.0.0.1', port: 5665, lingerMs: undefined });
  assert.equal(read(OUTPUT_FLAGS, ['--dashboard', 'localhost:0']).dashboard, { host: 'localhost', port: 0, lingerMs: undefined });
  assert.equal(read(OUTPUT_FLAGS, ['--metrics-port', '9464', '--metrics-host', '::1']).metrics, { port: 9464, host: '::1', lingerMs: undefined });
});
readers('outputs: an --…-allow-remote without its endpoint, and an empty --metrics-host, are usage errors', () => {
  assert.throws(() => read(OUTPUT_FLAGS, ['--dashboard-allow-remote']), /--dashboard-allow-remote needs --dashboard/);
  assert.throws(() => read(OUTPUT_FLAGS, ['--metrics-allow-remote']), /--metrics-allow-remote needs --metrics-port/);
  assert.throws(() => read(OUTPUT_FLAGS, ['--metrics-port', '9464', '--metrics-host', '']), /--metrics-host is empty/);
  assert.throws(() => read(OUTPUT_FLAGS, ['--metrics-port', '9464', '--metrics-host', '127.0.0.1:9464']), (error: unknown) => /--metrics-host '127\.0\.0\.1:9464' is not a host/.test((error as Error).message) && /the port goes in --metrics-port/.test((error as UsageError).hint ?? ''));
  assert.is(read(OUTPUT_FLAGS, ['--metrics-port', '9464', '--metrics-host', '[::1]']).metrics?.host, '::1');
});

membership.run();
readers.run();
