/**
 * Secrets never leak: a run with a distinctive password and token, against a server that
 * quotes our AUTH command back in its refusal, and every output (results file, HTML report,
 * JUnit, summary JSON, NDJSON timeline, stdout, stderr) grepped for the secrets and their
 * base64 forms.
 */
import { leakForms } from '../leak-forms.ts';
import { runCli as runCliProcess, type Ran } from '../cli-process.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, createTextSink, runAgainst, startRawServer, withFakeProxy } from '../helpers.ts';
import { runCommand } from '../../runner/run.ts';

import { addSecret, clearSecrets, redact, redactAuthCommand, REDACTED } from '../../runner/redact.ts';
import { authInitialLine, xoauth2Payload } from '../../runner/smtp/auth.ts';


const PASSWORD = 'Pw-Zebra-7781-Secret';
const TOKEN = 'ya29.Tok-Quokka-5512-Secret';
const USER = 'test@example.com';


function assertNoLeak(where: string, text: string): void {
  for (const form of leakForms(USER, PASSWORD, TOKEN)) assert.not.ok(text.includes(form), `${where} contains ${JSON.stringify(form)}`);
}

/** A server that refuses AUTH quoting the command it got (as some do), so the secret reaches our error texts. */
async function startEchoingServer(): Promise<{ port: number; close(): Promise<void> }> {
  return startRawServer((socket) => {
    socket.write('220 echo.test ready\r\n');
    let pending = '';
    let loginStep = 0;
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let lf: number;
      while ((lf = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, lf).replace(/\r$/, '');
        pending = pending.slice(lf + 1);
        if (/^EHLO/i.test(line)) socket.write('250-echo.test\r\n250 AUTH PLAIN LOGIN XOAUTH2\r\n');
        else if (/^AUTH LOGIN$/i.test(line)) {
          loginStep = 1;
          socket.write('334 VXNlcm5hbWU6\r\n');
        } else if (loginStep === 1) {
          loginStep = 2;
          socket.write('334 UGFzc3dvcmQ6\r\n');
        }
        else if (/^AUTH/i.test(line)) socket.write(`535 5.7.8 refused: you sent "${line}" with password ${PASSWORD} and token ${TOKEN}\r\n`);
        else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
        else socket.write(`535 5.7.8 refused: you sent "${line}"\r\n`);
      }
    });
  });
}

function runCli(args: string[], cwd: string): Promise<Ran> {
  return runCliProcess(args, { cwd });
}

function readEveryFile(dir: string): Array<[string, string]> {
  return readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]);
}

// ---------------------------------------------------------------------------------------------

const Redact = suite('redact(): secrets and their base64 forms become ****');

Redact.after.each(() => clearSecrets());

const REDACT_CASES: Array<{ name: string; text: () => string; hidden: string[] }> = [
  { name: 'the password as is', text: () => `535 bad password ${PASSWORD}`, hidden: [PASSWORD] },
  { name: 'AUTH PLAIN payload (\\0user\\0password)', text: () => `you sent ${authInitialLine('plain', 'someone@x.test', PASSWORD).trim()}`, hidden: [authInitialLine('plain', 'someone@x.test', PASSWORD).trim().split(' ')[2]!] },
  { name: 'XOAUTH2 payload', text: () => `payload ${xoauth2Payload('a@b.test', TOKEN)}`, hidden: [xoauth2Payload('a@b.test', TOKEN)] },
  { name: 'LOGIN password line (base64 alone)', text: () => `334 then ${Buffer.from(PASSWORD).toString('base64')}`, hidden: [Buffer.from(PASSWORD).toString('base64').slice(0, 24)] },
];
for (const { name, text, hidden } of REDACT_CASES) {
  Redact(name, () => {
    addSecret(PASSWORD);
    addSecret(TOKEN);
    const redacted = redact(text());
    for (const form of hidden) assert.not.ok(redacted.includes(form), redacted);
    assert.ok(redacted.includes(REDACTED), redacted);
  });
}

Redact('AUTH commands lose their payload whatever the secret; prose is left alone', () => {
  assert.is(redactAuthCommand('C: AUTH PLAIN AHVAcHc='), `C: AUTH PLAIN ${REDACTED}`);
  assert.is(redactAuthCommand('AUTH XOAUTH2 dXNlcj1h'), `AUTH XOAUTH2 ${REDACTED}`);
  assert.is(redactAuthCommand('AUTH LOGIN'), 'AUTH LOGIN');
  assert.is(redactAuthCommand('535 authentication failed: auth mechanism not supported'), '535 authentication failed: auth mechanism not supported');
});

Redact('an empty value is no secret; a short one is hidden as a whole word, not inside longer words', () => {
  addSecret('');
  assert.is(redact('abc def'), 'abc def');
  addSecret('abc');
  assert.is(redact('abc def'), `${REDACTED} def`);
  assert.is(redact('password=abc; user abcdef, xabc'), `password=${REDACTED}; user abcdef, xabc`);
});

/** Payloads carrying the secret at each alignment, as a server might echo them (whole, or cut). */
function echoedPayloads(user: string, secret: string): string[] {
  const payloads: string[] = [];
  for (const filler of ['', 'x', 'xy']) {
    payloads.push(authInitialLine('plain', `${filler}${user}`, secret).trim().split(' ')[2]!);
    payloads.push(Buffer.from(`${filler.replace(/./g, " ")}${secret}`).toString("base64"));
    payloads.push(xoauth2Payload(`${filler}${user}`, secret));
  }
  return payloads;
}

for (const secret of ['abc', 'Pw-Zebra-7781-Secret']) {
  Redact(`base64 echoes of a ${secret.length}-character secret are hidden whole, at any alignment, even cut short`, () => {
    addSecret(secret);
    for (const payload of echoedPayloads(USER, secret)) {
      // Whole, without its padding, and cut by up to 3 characters at either end (a cut that
      // leaves fewer than 4 bytes of the secret leaves nothing redact() can recognise)
      const cuts = secret.length >= 8 ? [payload.slice(1), payload.slice(2, -2), payload.slice(3, -3)] : [];
      for (const echo of [payload, payload.replace(/=+$/, ''), ...cuts]) {
        const redacted = redact(`535 5.7.8 you sent "${echo}" here`);
        assert.is(redacted, `535 5.7.8 you sent "${REDACTED}" here`, `${echo} (${Buffer.from(echo, 'base64').toString('latin1')})`);
      }
    }
  });
}

/** How many of payload bytes [first, last) the base64 text from character `from` on holds whole. */
function bytesHeld(from: number, first: number, last: number): number {
  // Byte j is bits 8j…8j+7, from character floor(8j/6) on
  let held = 0;
  for (let j = first; j < last; j++) if (Math.floor((8 * j) / 6) >= from) held++;
  return held;
}

for (const secret of ['a', 'ab', 'abc', 'abcd', 'Pw-Zebra-7781-Secret', 'ya29.Tok-Quokka-5512-Secret']) {
  Redact(`an echoed payload cut at its start, however few bytes of a ${secret.length}-character secret's end survive, is hidden (but a lone unpadded last byte)`, () => {
    addSecret(secret);
    for (const filler of ['', 'x', 'xy']) {
      const user = `${filler}${USER}`;
      const forms = [
        { payload: Buffer.from(`\0${user}\0${secret}`), what: 'PLAIN' },
        { payload: Buffer.from(secret), what: 'LOGIN' },
        { payload: Buffer.from(`user=${user}\x01auth=Bearer ${secret}\x01\x01`), what: 'XOAUTH2' },
      ];
      for (const { payload, what } of forms) {
        const encoded = payload.toString('base64');
        const secretStart = payload.indexOf(Buffer.from(secret), payload.length - Buffer.byteLength(secret) - 2);
        for (let from = 1; from < encoded.replace(/=+$/, '').length - 1; from++) {
          if (bytesHeld(from, secretStart, secretStart + Buffer.byteLength(secret)) === 0) continue;
          const echo = encoded.slice(from);
          const redacted = redact(`535 5.7.8 you sent "${echo}" here`);
          // The one documented gap: two characters without padding decide one byte, and would
          // hide one 2-letter word in 256 if taken for the secret's last byte
          if (!echo.endsWith('=') && bytesHeld(from, 0, payload.length) < 2) {
            assert.is(echo.length, 2, echo);
            continue;
          }
          assert.is(redacted, `535 5.7.8 you sent "${REDACTED}" here`, `${what} from ${from}: ${echo}`);
        }
      }
    }
  });
}

Redact('the tail rule hides no ordinary text: words, EHLO keywords with =, SMTP replies', () => {
  for (const secret of ['a', 'ab', 'abc', 'e', 'd', 'abcd', 'Pw-Zebra-7781-Secret']) addSecret(secret);
  const texts = [
    '250-SIZE=35882577', '250 BODY=8BITMIME', 'MAIL FROM:<q@b.test> SIZE=1000 BODY=8BITMIME', '421 4.7.0 Try again later, closing connection.',
    '550 5.7.1 Message rejected as spam by Content Filtering.', '535 5.7.8 Username and Password not accepted. Learn more at https://support.example.com/mail/?p=BadCredentials',
    '452 4.2.2 The email account that you tried to reach is over quota', '250 2.0.0 OK  1700000000 f3-20020a170906e28300b00a1b2c3d4e5fsi1234567ejb.123 - gsmtp',
  ];
  for (const text of texts) assert.is(redact(text), text);
});

Redact('short secrets hide no word of the README (1-3 characters: only where a payload would put them)', () => {
  const words = [...new Set(readFileSync(new URL('../../README.md', import.meta.url), 'utf8').split(/[^A-Za-z0-9+/=]+/).filter((word) => word.length >= 2))];
  for (const secret of ['a', 'd', 'e', 'ab', 'x9', 'abc', 'k2Q']) {
    clearSecrets();
    addSecret(secret);
    const hidden = words.filter((word) => redact(`x ${word} y`) !== `x ${word} y`);
    assert.equal(hidden, [], `${JSON.stringify(secret)} hides ${hidden.length} of ${words.length} words`);
  }
});

Redact('EHLO capability lines are not AUTH payloads (RFC 4422 mechanism names stay)', () => {
  addSecret(PASSWORD);
  assert.is(redact('250-AUTH PLAIN LOGIN'), '250-AUTH PLAIN LOGIN');
  assert.is(redact('S: 250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2'), 'S: 250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2');
  assert.is(redact('AUTH LOGIN'), 'AUTH LOGIN');
  assert.is(redact(`C: ${authInitialLine('plain', USER, 'x').trim()}`), `C: AUTH PLAIN ${REDACTED}`);
});

Redact('ordinary text is left alone with secrets registered (no false hiding)', () => {
  addSecret(PASSWORD);
  addSecret(TOKEN);
  addSecret('abc');
  const text = '550 5.1.1 <user@example.com>: Recipient address rejected; see https://support.example.com/mail/answer/6596 (queue 4F2A1B3C)';
  assert.is(redact(text), text);
});

const Validation = suite('option errors never echo a secret option\'s value');

Validation.after.each(() => clearSecrets());

const SECRET_VALUE_CASES: Array<{ name: string; smtp: Record<string, unknown>; path: RegExp }> = [
  { name: 'smtp.password as a number', smtp: { password: 78123456 }, path: /smtp\.password/ },
  { name: 'smtp.token as a list', smtp: { token: ['ya29.Leaked-Token-Value'] }, path: /smtp\.token/ },
  { name: 'smtp.password as an object', smtp: { password: { value: 'Leaked-Password-Value' } }, path: /smtp\.password/ },
];
for (const { name, smtp, path } of SECRET_VALUE_CASES) {
  Validation(name, async () => {
    const { resolveOptions } = await import('../../runner/scenario/options.ts');
    let message = '';
    try {
      await resolveOptions({ smtp, scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 1 } } } as never, {}, { baseDir: process.cwd(), env: {} });
    } catch (error) {
      message = `${(error as Error).message} ${(error as { hint?: string }).hint ?? ''}`;
    }
    assert.match(message, path);
    assert.match(message, /secret/);
    for (const leaked of ['78123456', 'Leaked-Token-Value', 'Leaked-Password-Value']) assert.not.ok(message.includes(leaked), message);
  });
}

const Outputs = suite('no output shows a secret');

Outputs('in-process: refusals that quote AUTH, every output file', async () => {
  const server = await startEchoingServer();
  const temp = createTempDir();
  try {
    for (const auth of ['plain', 'login', 'xoauth2'] as const) {
      const stdout = createTextSink();
      const stderr = createTextSink();
      const outcome = await runCommand({
        scenario: { smtp: { auth, password: PASSWORD, token: TOKEN }, scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 4 } } },
        overrides: { host: '127.0.0.1', port: server.port, to: ['rcpt@example.com'] },
        check: false,
        watchPid: false,
        out: [join(temp.dir, `results-${auth}.json`), `ndjson=${join(temp.dir, `timeline-${auth}.ndjson`)}`],
        report: join(temp.dir, `report-${auth}.html`),
        junit: join(temp.dir, `junit-${auth}.xml`),
        summaryJson: join(temp.dir, `summary-${auth}.json`),
        progressIntervalMs: 60_000,
        stdout,
        stderr,
      });
      // Every message failed at auth with the quoting reply: the text was there to leak
      assert.is(outcome.summary.results.failed, 4, auth);
      assert.ok(outcome.summary.results.errors.some((e) => e.phase === 'auth' && e.text.includes(REDACTED)), JSON.stringify(outcome.summary.results.errors));
      assertNoLeak(`stdout (${auth})`, stdout.text());
      assertNoLeak(`stderr (${auth})`, stderr.text());
    }
    const files = readEveryFile(temp.dir);
    assert.ok(files.length >= 12, files.map(([name]) => name).join(', '));
    for (const [name, text] of files) assertNoLeak(name, text);
  } finally {
    clearSecrets();
    temp.remove();
    await server.close();
  }
});

Outputs('a 3-character password: no output shows it, nor any encoding of it (issue 19)', async () => {
  const SHORT = 'k9q';
  // Refuses AUTH quoting the password and the bare payload (no `AUTH PLAIN` before it to give it away)
  const server = await startRawServer((socket) => {
    socket.write('220 echo.test ready\r\n');
    socket.on('data', (chunk) => {
      for (const line of chunk.toString('latin1').split('\r\n').filter(Boolean)) {
        if (/^EHLO/i.test(line)) socket.write('250-echo.test\r\n250 AUTH PLAIN\r\n');
        else if (/^AUTH/i.test(line)) socket.write(`535 5.7.8 password ${SHORT} refused, payload ${line.split(' ')[2]} (${line.split(' ')[2]!.slice(1, -1)})\r\n`);
        else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  const temp = createTempDir();
  try {
    const stdout = createTextSink();
    const stderr = createTextSink();
    const outcome = await runCommand({
      scenario: { smtp: { auth: 'plain', password: SHORT }, scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 2 } } },
      overrides: { host: '127.0.0.1', port: server.port, to: ['rcpt@example.com'] },
      check: false,
      watchPid: false,
      debugSessions: 1,
      out: [join(temp.dir, 'results.json')],
      report: join(temp.dir, 'report.html'),
      progressIntervalMs: 60_000,
      stdout,
      stderr,
    });
    assert.is(outcome.summary.results.failed, 2);
    const payload = authInitialLine('plain', USER, SHORT).trim().split(' ')[2]!;
    const outputs: Array<[string, string]> = [['stdout', stdout.text()], ['stderr', stderr.text()], ...readEveryFile(temp.dir)];
    for (const [name, text] of outputs) {
      assert.not.match(text, /(?<![A-Za-z0-9])k9q(?![A-Za-z0-9])/, name);
      // Not the payload, nor any piece of it that still decodes to the password
      assert.not.ok(text.includes(payload.slice(4, -2)), `${name} holds the payload`);
    }
  } finally {
    clearSecrets();
    temp.remove();
    await server.close();
  }
});

Outputs('in-process against the fixture: XOAUTH2 with a token, nothing shows it', async () => {
  await withFakeProxy({}, async (proxy) => {
    const outcome = await runAgainst(proxy, {
      scenario: { smtp: { auth: 'xoauth2', token: TOKEN, password: PASSWORD }, scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 6 } } },
    });
    assert.is(outcome.summary.results.successful, 6);
    assert.ok(proxy.stats.authOk >= 6); // and the preflight's
    assertNoLeak('output', outcome.output);
    assertNoLeak('summary', JSON.stringify(outcome.summary));
  });
  clearSecrets();
});

Outputs('the CLI: --password/--token against a quoting server; stdout, stderr and files', async () => {
  const server = await startEchoingServer();
  const temp = createTempDir();
  try {
    // The preflight's AUTH is refused with the quote: the error line must not carry it
    const refused = await runCli(['run', '--port', String(server.port), '--password', PASSWORD, '--num-emails', '3', '--no-out', '--no-watch'], temp.dir);
    assert.is(refused.code, 110, refused.stderr);
    assertNoLeak('stderr (preflight)', refused.stderr);
    assertNoLeak('stdout (preflight)', refused.stdout);
    const ran = await runCli(
      ['run', '--port', String(server.port), '--auth', 'xoauth2', '--token', TOKEN, '--password', PASSWORD, '--num-emails', '3', '--no-check', '--no-watch',
        '--out', join(temp.dir, 'results.json'), '--report', join(temp.dir, 'report.html'), '--junit', join(temp.dir, 'junit.xml'), '--summary-json', join(temp.dir, 'summary.json')],
      temp.dir,
    );
    assert.is(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /\*\*\*\*/);
    assertNoLeak('stdout', ran.stdout);
    assertNoLeak('stderr', ran.stderr);
    for (const [name, text] of readEveryFile(temp.dir)) assertNoLeak(name, text);
  } finally {
    temp.remove();
    await server.close();
  }
});

Redact.run();
Validation.run();
Outputs.run();
