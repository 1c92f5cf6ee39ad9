/**
 * Hostile servers (issue 19): a server's bytes reach no terminal raw, its EHLO reply is not kept
 * whole, a reply out of turn or an acceptance before the message was written is named for what
 * it is, and capability names are not mistaken for AUTH payloads.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { createTempDir, createTextSink, startRawServer } from '../helpers.ts';
import { runCommand } from '../../runner/run.ts';
import { runCheckCommand } from '../../runner/check/check-command.ts';
import { runCompareCommand } from '../../runner/analysis/compare-command.ts';
import { runMergeCommand } from '../../runner/analysis/merge-command.ts';
import { runReportCommand } from '../../runner/analysis/report-command.ts';
import { hasControl } from '../../runner/util/escape.ts';
import { clearSecrets } from '../../runner/redact.ts';
import { Socket as NetSocket } from 'node:net';
import { SmtpSession, type SessionRecorder } from '../../runner/smtp/session.ts';
import { PHASES, type Phase } from '../../runner/smtp/phases.ts';
import type { ResolvedSmtp } from '../../runner/scenario/resolved.ts';
import { MAX_CAPABILITIES, MAX_KEYWORD_CHARS, MAX_PARAMETERS_CHARS } from '../../runner/smtp/capabilities.ts';

/** Terminal sequences a hostile server sends: retitle (OSC), clear screen, home, a C1 CSI (UTF-8 C2 9B), ESC inside a broken UTF-8 sequence, BEL, a lone CR. */
const HOSTILE = Buffer.concat([
  Buffer.from('\u001b]0;pwned\u0007 \u001b[2J\u001b[H ALL GOOD '),
  Buffer.from([0xc2, 0x9b]),
  Buffer.from('31m '),
  Buffer.from([0xe2, 0x1b]),
  Buffer.from('[0m \rover'),
]);

type Answer = (line: string, socket: Socket) => void;

/** A line server: greets, then answers each command line with `answer` (QUIT gets 221 and a close). */
function startLineServer(greeting: Buffer | string, answer: Answer) {
  return startRawServer((socket) => {
    socket.write(greeting);
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let lf: number;
      while ((lf = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, lf).replace(/\r$/, '');
        pending = pending.slice(lf + 1);
        if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
        else answer(line, socket);
      }
    });
  });
}

/** Greets and EHLOs with hostile text, accepts AUTH and MAIL, refuses RCPT with hostile text. */
function startHostileServer() {
  return startLineServer(Buffer.concat([Buffer.from('220 '), HOSTILE, Buffer.from('\r\n')]), (line, socket) => {
    if (/^EHLO/i.test(line)) socket.write(Buffer.concat([Buffer.from('250-hostile.test '), HOSTILE, Buffer.from('\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 1000\r\n')]));
    else if (/^AUTH/i.test(line)) socket.write('235 ok\r\n');
    else if (/^(MAIL|RSET)/i.test(line)) socket.write('250 ok\r\n');
    else if (/^RCPT/i.test(line)) socket.write(Buffer.concat([Buffer.from('550 5.7.1 '), HOSTILE, Buffer.from('\r\n')]));
    else socket.write('500 what\r\n');
  });
}

function assertNoControl(where: string, text: string): void {
  assert.not.ok(hasControl(text, true), `${where} has a raw control character: ${JSON.stringify(text)}`);
}

const Terminal = suite('a server cannot drive the terminal: control characters are escaped in everything printed');

Terminal('run: console summary, --debug transcript, results file; then compare, merge and report of files carrying them', async () => {
  const server = await startHostileServer();
  const temp = createTempDir();
  try {
    const stdout = createTextSink();
    const stderr = createTextSink();
    const results = join(temp.dir, 'results.json');
    const outcome = await runCommand({
      scenario: { scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 2 } } },
      overrides: { host: '127.0.0.1', port: server.port, to: ['rcpt@example.com'] },
      check: false,
      watchPid: false,
      debugSessions: 1,
      out: [results],
      progressIntervalMs: 60_000,
      stdout,
      stderr,
    });
    // The server's own counts: both messages refused at RCPT
    assert.is(outcome.summary.results.failed, 2);
    assert.is(outcome.summary.results.successful, 0);
    const output = stdout.text() + stderr.text();
    assert.match(output, /ALL GOOD/); // the text is shown…
    assert.match(output, /\\x1b\]0;pwned\\x07/); // …with its controls visible
    assert.match(output, /\\x9b31m/);
    assert.match(output, /\\r/);
    assertNoControl('run output', output);
    const file = readFileSync(results, 'utf8');
    assertNoControl('results file', file);

    // Results files read back may carry controls (written by another tool, or by hand)
    const json = JSON.parse(file) as { target: string; results: { errors: Array<{ text: string }> } };
    json.target = `evil\u001b[2J\u001b]0;title\u0007:25`;
    for (const error of json.results.errors) error.text = `\u001b[2J${error.text}\u009b`;
    const hostile = join(temp.dir, 'hostile.json');
    writeFileSync(hostile, JSON.stringify(json));
    const compareOut = createTextSink();
    await runCompareCommand({ before: results, after: hostile, stdout: compareOut, env: {} });
    assert.match(compareOut.text(), /evil\\x1b\[2J/);
    assertNoControl('compare', compareOut.text());
    const reportOut = createTextSink();
    await runReportCommand({ files: [results, hostile], stdout: reportOut, env: {} } as Parameters<typeof runReportCommand>[0]);
    assertNoControl('report', reportOut.text());
    const mergeOut = createTextSink();
    const mergeErr = createTextSink();
    await runMergeCommand({ files: [results, hostile], out: join(temp.dir, 'merged.json'), stdout: mergeOut, stderr: mergeErr });
    assert.match(mergeErr.text(), /evil\\x1b\[2J/);
    assertNoControl('merge', mergeOut.text() + mergeErr.text());
    assertNoControl('merged file', readFileSync(join(temp.dir, 'merged.json'), 'utf8'));
  } finally {
    temp.remove();
    await server.close();
  }
});

Terminal('runner check: greeting and EHLO lines shown escaped', async () => {
  const server = await startHostileServer();
  try {
    const stdout = createTextSink();
    await runCheckCommand({ host: '127.0.0.1', port: server.port, admin: false, stdout, env: {} });
    const text = stdout.text();
    assert.match(text, /ALL GOOD/);
    assertNoControl('check', text);
    const json = createTextSink();
    await runCheckCommand({ host: '127.0.0.1', port: server.port, admin: false, json: true, stdout: json, env: {} });
    assertNoControl('check --json', json.text());
  } finally {
    clearSecrets();
    await server.close();
  }
});

const Capabilities = suite('--debug: EHLO capability names are not AUTH payloads');

Capabilities('250-AUTH PLAIN LOGIN is shown as is; the AUTH command is still hidden', async () => {
  const server = await startLineServer('220 ready\r\n', (line, socket) => {
    if (/^EHLO/i.test(line)) socket.write('250-caps.test\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 AUTH=PLAIN LOGIN\r\n');
    else if (/^AUTH/i.test(line)) socket.write('235 ok\r\n');
    else if (/^(MAIL|RCPT|RSET)/i.test(line)) socket.write('250 ok\r\n');
    else if (/^DATA/i.test(line)) socket.write('354 go\r\n');
    else if (line === '.') socket.write('250 queued\r\n');
  });
  try {
    const stdout = createTextSink();
    const stderr = createTextSink();
    const outcome = await runCommand({
      scenario: { smtp: { password: 'Pw-Capability-Secret' }, scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 1 } } },
      overrides: { host: '127.0.0.1', port: server.port, to: ['rcpt@example.com'] },
      check: false,
      watchPid: false,
      debugSessions: 1,
      out: false,
      progressIntervalMs: 60_000,
      stdout,
      stderr,
    });
    assert.is(outcome.summary.results.successful, 1);
    const text = stderr.text();
    assert.match(text, /S: 250-AUTH PLAIN LOGIN CRAM-MD5\n/);
    assert.match(text, /S: 250 AUTH=PLAIN LOGIN\n/);
    assert.match(text, /C: AUTH PLAIN \*\*\*\*\n/);
  } finally {
    clearSecrets();
    await server.close();
  }
});

const OutOfTurn = suite('a reply out of turn is named for what it is');

OutOfTurn('preflight: a second reply right after the greeting', async () => {
  const server = await startLineServer('220 ready\r\n250 nobody asked\r\n', (line, socket) => {
    if (/^EHLO/i.test(line)) socket.write('250-x\r\n250 AUTH PLAIN\r\n');
    else socket.write('250 ok\r\n');
  });
  try {
    const stdout = createTextSink();
    const stderr = createTextSink();
    const { RunnerError } = await import('../../runner/errors.ts');
    let message = '';
    try {
      await runCommand({
        scenario: { scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 1 } } },
        overrides: { host: '127.0.0.1', port: server.port, to: ['rcpt@example.com'] },
        watchPid: false,
        out: false,
        progressIntervalMs: 60_000,
        stdout,
        stderr,
      });
    } catch (error) {
      assert.ok(error instanceof RunnerError, String(error));
      message = `${(error as InstanceType<typeof RunnerError>).message} ${(error as InstanceType<typeof RunnerError>).hint ?? ''}`;
    }
    message += stdout.text() + stderr.text();
    assert.not.match(message, /call connect\(\) first/);
    assert.match(message, /out of turn/);
    assert.match(message, /250 nobody asked/);
  } finally {
    await server.close();
  }
});

const EarlyAccept = suite('a 250 before the message was written is a protocol error, not an accepted message');

EarlyAccept('354 then 250 at once, the server reading nothing of the data', async () => {
  let early250 = 0;
  const server = await startLineServer('220 ready\r\n', (line, socket) => {
    if (/^EHLO/i.test(line)) socket.write('250 early.test\r\n');
    else if (/^(MAIL|RCPT|RSET)/i.test(line)) socket.write('250 ok\r\n');
    else if (/^DATA/i.test(line)) {
      // Broken: accepts before reading a byte of the message, then stops reading
      early250++;
      socket.write('354 go\r\n');
      setTimeout(() => socket.write('250 accepted unread\r\n'), 20);
      socket.pause();
    }
  });
  try {
    const stdout = createTextSink();
    const stderr = createTextSink();
    const outcome = await runCommand({
      scenario: { smtp: { auth: 'none', messageSize: 16 * 1024 * 1024, timeouts: { quit: '1s' } }, scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 1 } } },
      overrides: { host: '127.0.0.1', port: server.port, to: ['rcpt@example.com'] },
      check: false,
      watchPid: false,
      out: false,
      progressIntervalMs: 60_000,
      stdout,
      stderr,
    });
    assert.is(early250, 1);
    assert.is(outcome.summary.results.successful, 0, stdout.text());
    assert.is(outcome.summary.results.failed, 1);
    const error = outcome.summary.results.errors[0]!;
    assert.is(error.phase, 'message');
    assert.is(error.error, 'PROTOCOL');
    assert.match(error.text, /before the message was written/);
  } finally {
    await server.close();
  }
});

const Memory = suite('a hostile EHLO reply is not kept: memory per connection stays bounded');

/**
 * Characters of the strings a session keeps, found by walking what it references (its fields,
 * their arrays, maps and objects), sockets and Buffers aside (their size does not depend on
 * what the server says). A structural count, not the process's RSS.
 */
function retainedChars(root: object): number {
  const seen = new Set<unknown>();
  let chars = 0;
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      chars += value.length;
      return;
    }
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (value instanceof NetSocket || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return;
    if (value instanceof Map) {
      for (const [key, inner] of value) {
        visit(key);
        visit(inner);
      }
      return;
    }
    if (value instanceof Set || Array.isArray(value)) {
      for (const inner of value) visit(inner);
      return;
    }
    for (const key of Object.getOwnPropertyNames(value)) visit((value as Record<string, unknown>)[key]);
  };
  visit(root);
  return chars;
}

const SILENT_RECORDER: SessionRecorder = {
  connectionOpened() {},
  phase() {},
  accepted() {},
  failed() {},
  afterAcceptError() {},
  connectionClosed() {},
};

function smtpOf(): ResolvedSmtp {
  return {
    from: 'test@example.com',
    to: ['rcpt@example.com'],
    auth: 'none',
    password: 'placeholder',
    ehloName: 'runner.test',
    messageSize: 1024,
    messagesPerConnection: 1,
    timeoutsMs: Object.fromEntries(PHASES.map((phase) => [phase, 5000])) as Record<Phase, number>,
  };
}

Memory('999 EHLO lines of 4 KiB: the session keeps the first capabilities, capped, not the reply', async () => {
  const LINES = 999;
  const LINE_CHARS = 4000;
  const ehlo = [`250-hostile.test ${'g'.repeat(LINE_CHARS)}`];
  for (let i = 1; i < LINES - 1; i++) ehlo.push(`250-X-KEY${i}${'k'.repeat(100)} ${'p'.repeat(LINE_CHARS - 120)}`);
  ehlo.push('250 SIZE 1000');
  const replyChars = ehlo.join('').length;
  const server = await startLineServer('220 ready\r\n', (line, socket) => {
    if (/^EHLO/i.test(line)) socket.write(ehlo.join('\r\n') + '\r\n');
    else socket.write('250 ok\r\n');
  });
  const session = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtpOf(), SILENT_RECORDER);
  try {
    const before = retainedChars(session);
    await session.connect();
    const reply = await session.ehlo();
    assert.is(reply.lines.length, LINES); // the step still gets the whole reply…
    const kept = retainedChars(session) - before; // …the session keeps this much of it
    const bound = MAX_CAPABILITIES * (MAX_KEYWORD_CHARS + MAX_PARAMETERS_CHARS);
    assert.ok(kept <= bound, `kept ${kept} characters of a ${replyChars}-character reply (bound ${bound})`);
    assert.ok(bound < 16 * 1024, `bound ${bound}`);
    assert.is(session.capabilities.size, MAX_CAPABILITIES);
    assert.ok(session.capabilities.has(`X-KEY1${'K'.repeat(100)}`.slice(0, MAX_KEYWORD_CHARS)));
    for (const [keyword, parameters] of session.capabilities) {
      assert.ok(keyword.length <= MAX_KEYWORD_CHARS && parameters.length <= MAX_PARAMETERS_CHARS, keyword);
    }
  } finally {
    session.close();
    await server.close();
  }
});

Terminal.run();
Memory.run();
Capabilities.run();
OutOfTurn.run();
EarlyAccept.run();
