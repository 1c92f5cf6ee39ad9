/**
 * delivery.imap against a real IMAP server: the test starts its own Dovecot on a free 127.0.0.1
 * port (a config in a temp folder, a Maildir, a passwd-file user), runs a load into a stub that
 * accepts every message and writes it into that Maildir's new/ (as a delivery agent does), and
 * checks runner finds exactly those by their X-Runner-Trace, deletes them when asked, and counts
 * the one it withheld as lost. Skipped with the reason when Dovecot is not installed (Debian
 * package dovecot-imapd; .ci/run installs it); under CI=true a missing Dovecot fails instead.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { IS_CI, missingProgram, missingUnderCi, findProgram } from '../tools.ts';
import { createTempDir, createTextSink } from '../helpers.ts';
import { runCommand } from '../../runner/run.ts';
import { traceOf } from '../../runner/delivery/imap.ts';

const DOVECOT = findProgram('/usr/sbin/dovecot') ?? findProgram('dovecot');
const missing = DOVECOT ? undefined : missingProgram('dovecot', 'dovecot-imapd');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A Dovecot serving `<dir>/Maildir` to user `load` (password `secret`) on 127.0.0.1:port, without TLS. */
async function startDovecot(dir: string): Promise<{ port: number; maildir: string; stop(): Promise<void> }> {
  const port = await freePort();
  const maildir = join(dir, 'Maildir');
  for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true });
  // Dovecot refuses mail access as root (UID 0): as root the mailbox belongs to nobody (65534)
  const isRoot = process.getuid!() === 0;
  const uid = isRoot ? 65534 : process.getuid!();
  const gid = isRoot ? 65534 : process.getgid!();
  if (isRoot) for (const path of [maildir, ...['new', 'cur', 'tmp'].map((sub) => join(maildir, sub))]) chownSync(path, uid, gid);
  writeFileSync(join(dir, 'passwd'), `load:{PLAIN}secret:${uid}:${gid}::${maildir}\n`, { mode: 0o644 });
  // Dovecot's auth process runs as its own user: it must be able to reach the passwd file
  chmodSync(dir, 0o755);
  const config = join(dir, 'dovecot.conf');
  writeFileSync(config, [
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `log_path = ${join(dir, 'dovecot.log')}`,
    'protocols = imap',
    'listen = 127.0.0.1',
    'ssl = no',
    'disable_plaintext_auth = no',
    'auth_mechanisms = plain login',
    `mail_location = maildir:${maildir}`,
    // Running as whoever runs the tests: root needs the system's dovecot users, others their own uid
    ...(isRoot ? [] : [`default_internal_user = ${process.env.USER ?? 'nobody'}`, `default_login_user = ${process.env.USER ?? 'nobody'}`]),
    `passdb {\n  driver = passwd-file\n  args = ${join(dir, 'passwd')}\n}`,
    `userdb {\n  driver = passwd-file\n  args = ${join(dir, 'passwd')}\n}`,
    `service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
    'service stats {\n  unix_listener stats-writer {\n    mode = 0666\n  }\n}',
    '',
  ].join('\n'));
  const child: ChildProcess = spawn(DOVECOT!, ['-F', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  // Ready when its port answers with the IMAP greeting
  const deadline = performance.now() + 15_000;
  for (;;) {
    const greeting = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk;
        socket.destroy();
        resolve(text);
      });
      socket.on('error', () => resolve(''));
    });
    if (greeting.startsWith('* OK')) break;
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      let log = '';
      try {
        log = readFileSync(join(dir, 'dovecot.log'), 'utf8');
      } catch {}
      throw new Error(`dovecot did not start: ${output}${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    maildir,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** An SMTP server that accepts every message and delivers it into `maildir`/new, but for every `withholdEvery`th. */
async function startMaildirDelivery(maildir: string, withholdEvery: number): Promise<{ port: number; written: number; withheld: number; close(): Promise<void> }> {
  const state = { written: 0, withheld: 0, received: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    hideSTARTTLS: true,
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        callback(null);
        if (++state.received % withholdEvery === 0) {
          state.withheld++;
          return;
        }
        // Maildir: written in tmp/, then renamed into new/ (here written straight, under a unique name)
        const name = `${Date.now()}.${process.pid}_${state.received}.runner-test`;
        writeFileSync(join(maildir, 'new', name), Buffer.concat(chunks));
        state.written++;
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    get written() {
      return state.written;
    },
    get withheld() {
      return state.withheld;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const imap = suite('delivery.imap: a real mailbox (Dovecot)');

imap('the trace header as fetched, folded or not', () => {
  assert.is(traceOf(Buffer.from('X-Runner-Trace: abc.12\r\n\r\n')), 'abc.12');
  assert.is(traceOf(Buffer.from('x-runner-trace:\r\n abc.13\r\n\r\n')), 'abc.13');
  assert.is(traceOf(undefined), null);
});

if (missing && !IS_CI) {
  process.stderr.write(`\nSKIPPED IMAP delivery test: ${missing}\n`);
  imap.skip(`finds the run's messages in a Dovecot mailbox (skipped: ${missing})`, () => {});
} else {
  imap('finds exactly the run\'s messages in the mailbox, deletes them (deleteFound), counts the withheld one lost', async () => {
    if (missing) assert.unreachable(missingUnderCi(missing));
    const temp = createTempDir();
    const dovecot = await startDovecot(temp.dir);
    const delivery = await startMaildirDelivery(dovecot.maildir, 8);
    try {
      // A message of another run in the mailbox: never counted
      writeFileSync(join(dovecot.maildir, 'new', 'other.1.runner-test'), 'X-Runner-Trace: someotherrun.1\r\nSubject: x\r\n\r\nhello\r\n');
      const stdout = createTextSink();
      const outcome = await runCommand({
        scenario: {
          target: { host: '127.0.0.1', port: delivery.port },
          smtp: { to: 'load@example.com', auth: 'none' },
          delivery: { imap: { host: '127.0.0.1', port: dovecot.port, tls: false, user: 'load', password: 'secret', deleteFound: true, pollInterval: '200ms' }, timeout: '4s' },
          scenarios: { default: { executor: 'shared-iterations', vus: 2, iterations: 16 } },
        },
        overrides: {},
        out: false,
        check: false,
        progressIntervalMs: 60_000,
        stdout,
        stderr: stdout,
      });
      const d = outcome.summary.delivery!;
      assert.is(delivery.withheld, 2);
      assert.is(delivery.written, 14);
      assert.equal([d.source, d.delivered, d.lost, d.duplicated, d.unexpected], ['imap', 14, 2, 0, 0], stdout.text());
      assert.is(d.unknown, 0);
      // deleteFound: only the other run's message is left (expunged messages leave the Maildir)
      const left = [...readdirSync(join(dovecot.maildir, 'new')), ...readdirSync(join(dovecot.maildir, 'cur'))];
      assert.is(left.length, 1, left.join(', '));
      assert.match(left[0]!, /^other\.1/);
    } finally {
      await delivery.close();
      await dovecot.stop();
      temp.remove();
    }
  });
}

imap.run();
