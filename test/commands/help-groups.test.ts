/**
 * `--help` lists flags in groups, as k6 does: run's target, load, SMTP, TLS/AUTH, outputs and
 * safety flags each under their heading, every flag in one group, help itself last.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProgram } from '../../runner/cli.ts';
import { HELP_GROUPS } from '../../runner/commands/flag-groups.ts';

function helpOf(name: string): string {
  const command = buildProgram().commands.find((c) => c.name() === name)!;
  return command.helpInformation();
}

/** The flags listed under `heading` in a help text. */
function flagsUnder(help: string, heading: string): string[] {
  const start = help.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `no heading ${heading} in:\n${help}`);
  const section = help.slice(start + heading.length + 2).split('\n\n')[0]!;
  return [...section.matchAll(/^ {2}(-\w, --[-\w]+|-[-\w]+)/gm)].map((m) => m[1]!);
}

const groups = suite('--help groups');

groups('run: the six groups in order, each with its flags', () => {
  const help = helpOf('run');
  const order = [HELP_GROUPS.target, HELP_GROUPS.load, HELP_GROUPS.smtp, HELP_GROUPS.tlsAuth, HELP_GROUPS.outputs, HELP_GROUPS.safety, 'Options:'];
  const positions = order.map((heading) => help.indexOf(`\n${heading}\n`));
  assert.ok(positions.every((p, i) => p > 0 && (i === 0 || p > positions[i - 1]!)), `headings out of order: ${positions}`);
  assert.equal(flagsUnder(help, HELP_GROUPS.target), ['--host', '--port', '--admin-url', '--local-ips', '--protocol', '--with-fixture', '--fixture-delay', '--fixture-failure']);
  for (const flag of ['--num-emails', '--concurrent', '--vus', '--duration', '--rate', '--scale']) assert.ok(flagsUnder(help, HELP_GROUPS.load).includes(flag), flag);
  for (const flag of ['--to', '--message-size', '--messages-per-connection', '--timeout']) assert.ok(flagsUnder(help, HELP_GROUPS.smtp).includes(flag), flag);
  for (const flag of ['--from', '--auth', '--tls', '--tls-ca', '--insecure-skip-tls-verify']) assert.ok(flagsUnder(help, HELP_GROUPS.tlsAuth).includes(flag), flag);
  for (const flag of ['--out', '--report', '--junit', '--metrics-port', '--quiet', '--watch-pid']) assert.ok(flagsUnder(help, HELP_GROUPS.outputs).includes(flag), flag);
  assert.equal(flagsUnder(help, HELP_GROUPS.safety), ['--allow-real-recipients', '--no-check']);
  assert.equal(flagsUnder(help, 'Options:'), ['-h, --help']);
});

groups('sweep and check use the same headings for the same flags', () => {
  const sweep = helpOf('sweep');
  assert.ok(flagsUnder(sweep, HELP_GROUPS.tlsAuth).includes('--tls'));
  assert.ok(flagsUnder(sweep, 'Steps (the loads swept and the knee rule):').includes('--concurrent'));
  const check = helpOf('check');
  assert.ok(flagsUnder(check, HELP_GROUPS.target).includes('--port'));
  assert.ok(flagsUnder(check, 'Check:').includes('--no-admin'));
});

groups.run();
