// test-tier: real-time
/**
 * buildMessage() on the wire (issue 16): a templated message with a 100 KiB attachment sent by a
 * run, counted by the fake proxy (exact count, every message at least the attachment's encoded
 * size), and captured by smtp-server and parsed back with mailparser: the attachment's bytes, a
 * fresh Message-ID per message, X-Runner-Trace kept above it, the data fields filled.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { createTempDir, createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { ROOT, runCli } from '../cli-process.ts';
import { runCommand } from '../../runner/run.ts';
import { ExitCode } from '../../runner/errors.ts';
import { buildMessage } from '../../runner/smtp/builder.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';

const ATTACHMENT_BYTES = 100 * 1024;
/** Base64 of the attachment in 76-character lines with CRLF: a lower bound of every message's size. */
const ENCODED_ATTACHMENT_BYTES = Math.ceil(ATTACHMENT_BYTES / 3) * 4 + Math.ceil((Math.ceil(ATTACHMENT_BYTES / 3) * 4) / 76) * 2;

const PEOPLE = [{ name: 'Ana' }, { name: 'Bjørn' }, { name: 'Chen' }];

function scenario(messages: number, extraSmtp: Record<string, unknown> = {}): ScenarioFileOptions {
  const template = buildMessage({
    subject: 'Invoice for {{name}} #{{seq}}',
    text: 'Hello {{name}}, VU {{vu}} iteration {{iteration}}.',
    html: '<p>Hello <b>{{name}}</b></p>',
    headers: { 'X-Campaign': 'q4' },
    attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', size: ATTACHMENT_BYTES }],
  });
  return {
    scenarios: { builder: { executor: 'shared-iterations', vus: 2, iterations: messages } },
    smtp: { messagesPerConnection: 3, ...extraSmtp },
    iteration: async (ctx) => {
      await ctx.smtp.send({ message: template, vars: PEOPLE[ctx.scenario.iterationInTest % PEOPLE.length] });
    },
  } as ScenarioFileOptions;
}

const wire = suite('message builder on the wire');

wire('12 templated messages with a 100 KiB attachment: the proxy accepted 12, each at least the encoded attachment', async () => {
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { scenario: scenario(12), check: false });
    assert.is(exitCode, ExitCode.ok, output);
    assert.is(proxy.stats.messagesAccepted, 12);
    assert.is(summary.results.successful, 12);
    for (const [size, count] of Object.entries(proxy.stats.acceptedBySize)) assert.ok(Number(size) > ENCODED_ATTACHMENT_BYTES, `${count} message(s) of ${size} bytes`);
  });
});

/** smtp-server on 127.0.0.1 keeping every message as received (no AUTH). */
async function startCapture(): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
  const received: Buffer[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push(Buffer.concat(chunks));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

wire('captured by smtp-server and parsed back: attachment bytes, fresh Message-IDs, trace header, data fields', async () => {
  const capture = await startCapture();
  const received = capture.received;
  try {
    const port = capture.port;
    const stdout = createTextSink();
    const outcome = await runCommand({ out: false, progressIntervalMs: 60_000, check: false, scenario: scenario(6, { auth: 'none' }), overrides: { host: '127.0.0.1', port }, stdout, stderr: stdout });
    assert.is(outcome.exitCode, ExitCode.ok, stdout.text());
    assert.is(received.length, 6);
    const expected = (await simpleParser(buildMessage({ text: '', attachments: [{ filename: 'a', size: ATTACHMENT_BYTES }] }).render({ from: 'a@b', to: ['c@d'], vu: 1, iteration: 0, seq: 1 }))).attachments[0]!.content;
    const messageIds = new Set<string>();
    const traces = new Set<string>();
    for (const raw of received) {
      assert.match(raw.toString('latin1'), /^X-Runner-Trace: [^\r\n]+\r\nFrom: /);
      const mail = await simpleParser(raw);
      messageIds.add(mail.messageId!);
      traces.add(String(mail.headers.get('x-runner-trace')));
      assert.match(mail.subject!, /^Invoice for (Ana|Bjørn|Chen) #\d+$/);
      assert.match(mail.text!, /^Hello (Ana|Bjørn|Chen), VU [12] iteration \d\./);
      assert.is(mail.headers.get('x-campaign'), 'q4');
      assert.is(mail.attachments.length, 1);
      assert.is(mail.attachments[0]!.filename, 'invoice.pdf');
      assert.ok(mail.attachments[0]!.content.equals(expected), 'attachment bytes');
    }
    assert.is(messageIds.size, 6, 'a Message-ID per message');
    assert.is(traces.size, 6, 'a trace per message');
  } finally {
    await capture.close();
  }
});

wire('flag-only run: --header, --body-file, --attach on every message of the default flow', async () => {
  const capture = await startCapture();
  const dir = mkdtempSync(join(tmpdir(), 'runner-flags-'));
  try {
    const bodyFile = join(dir, 'body.txt');
    writeFileSync(bodyFile, 'Message {{seq}} from VU {{vu}}\n.a line with a leading dot\n');
    const attachment = Buffer.from(Array.from({ length: 7777 }, (_, i) => (i * 13 + 5) & 0xff));
    writeFileSync(join(dir, 'data.csv'), attachment);
    const stdout = createTextSink();
    const outcome = await runCommand({
      out: false, progressIntervalMs: 60_000, check: false,
      scenario: { scenarios: { flags: { executor: 'shared-iterations', vus: 1, iterations: 4 } }, smtp: { auth: 'none' } } as ScenarioFileOptions,
      overrides: { host: '127.0.0.1', port: capture.port, headers: ['X-Campaign: q4', 'X-Seq: {{seq}}'], bodyFile, attach: [join(dir, 'data.csv')] },
      stdout, stderr: stdout,
    });
    assert.is(outcome.exitCode, ExitCode.ok, stdout.text());
    assert.is(capture.received.length, 4);
    for (const raw of capture.received) {
      const mail = await simpleParser(raw);
      assert.is(mail.headers.get('x-campaign'), 'q4');
      assert.match(mail.subject!, /^runner load test #\d+$/);
      assert.is(mail.headers.get('x-seq'), mail.subject!.slice('runner load test #'.length));
      assert.match(mail.text!, /^Message \d+ from VU 1\n\.a line with a leading dot/);
      assert.ok(mail.headers.get('x-runner-trace') !== undefined);
      assert.is(mail.attachments.length, 1);
      assert.is(mail.attachments[0]!.filename, 'data.csv');
      assert.is(mail.attachments[0]!.contentType, 'text/csv');
      assert.ok(mail.attachments[0]!.content.equals(attachment));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await capture.close();
  }
});

wire('README "A morning peak, in full": the CSV, the scenario and the command run as pasted', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### A morning peak, in full'));
  const block = (lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section)![1]!;
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'senders.csv'), block('csv'));
    writeFileSync(join(temp.dir, 'morning-peak.ts'), block('ts'));
    const words = block('bash').trim().split(/\s+/);
    assert.equal(words.slice(0, 2), ['npx', 'runner']);
    const ran = await runCli([...words.slice(2), '--no-out'], { cwd: temp.dir, limitMs: 90_000 });
    assert.is(ran.code, 0, ran.stdout + ran.stderr);
    const received = Number(/Fake proxy received: (\d+) messages/.exec(ran.stdout)![1]);
    assert.ok(received > 100, ran.stdout);
    assert.match(ran.stdout, /Deferred attempts: \d+ \(451/);
    for (const account of ['test@example.com', 'sales@company.com', 'support@company.com']) assert.match(ran.stdout, account);
    assert.match(ran.stdout, /2 of 2 thresholds met/);
  } finally {
    temp.remove();
  }
});

wire.run();
