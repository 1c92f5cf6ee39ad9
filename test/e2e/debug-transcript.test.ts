/**
 * `runner run --debug N`: the protocol transcript of the first N sessions on stderr, one line
 * per command and reply line, message data elided, and no secret (nor its base64 forms, nor an
 * AUTH payload) anywhere in the output, for each AUTH mechanism.
 */
import { leakForms } from '../leak-forms.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { clearSecrets } from '../../runner/redact.ts';

const PASSWORD = 'Pw-Heron-4417-Secret';
const TOKEN = 'ya29.Tok-Ibis-9023-Secret';
const USER = 'test@example.com';

const Transcript = suite('debug transcript');

const cases = [
  { auth: 'plain', authLines: ['C: AUTH PLAIN ****', 'S: 235 '] },
  { auth: 'login', authLines: ['C: AUTH LOGIN', 'S: 334 ', 'C: ****', 'S: 334 ', 'C: ****', 'S: 235 '] },
  { auth: 'xoauth2', authLines: ['C: AUTH XOAUTH2 ****', 'S: 235 '] },
] as const;

for (const { auth, authLines } of cases) {
  Transcript(`--debug 2 with AUTH ${auth}: two sessions, every step, no secret`, async () => {
    try {
      await withFakeProxy({ xoauth2Token: TOKEN }, async (proxy) => {
        const outcome = await runAgainst(proxy, {
          numEmails: 4,
          concurrent: 1,
          check: false,
          debugSessions: 2,
          overrides: { auth, password: PASSWORD, token: TOKEN, from: USER, messageSize: 1234 },
        });
        assert.is(outcome.exitCode, 0, outcome.output);
        assert.is(proxy.stats.messagesAccepted, 4);
        const lines = outcome.output.split('\n').filter((line) => line.startsWith('[vu '));
        // Exactly two connections shown, numbered per VU
        assert.equal(lines.filter((line) => line.includes(' connected to 127.0.0.1:')).map((line) => line.slice(0, line.indexOf(']') + 1)), ['[vu 1 #1]', '[vu 1 #2]']);
        assert.ok(lines.every((line) => line.startsWith('[vu 1 #1] ') || line.startsWith('[vu 1 #2] ')), lines.join('\n'));
        const first = lines.filter((line) => line.startsWith('[vu 1 #1] ')).map((line) => line.slice('[vu 1 #1] '.length));
        const expected = [
          'S: 220 ',
          'C: EHLO ',
          'S: 250-',
          ...authLines,
          `C: MAIL FROM:<${USER}>`,
          'S: 250 ',
          'C: RCPT TO:<',
          'S: 250 ',
          'C: DATA',
          'S: 354 ',
          'C: <',
          'S: 250 ',
          'C: QUIT',
          'S: 221 ',
        ];
        // Commands and replies in order (the EHLO reply has several lines)
        let at = 1;
        for (const start of expected) {
          while (at < first.length && !first[at]!.startsWith(start)) at++;
          assert.ok(at < first.length, `no line starting with ${JSON.stringify(start)} in order:\n${first.join('\n')}`);
          at++;
        }
        assert.ok(first.some((line) => /^C: <[\d,]+ bytes of message data>$/.test(line)), first.join('\n'));
        for (const form of leakForms(USER, PASSWORD, TOKEN)) assert.not.ok(outcome.output.includes(form), `output contains ${JSON.stringify(form)}`);
      });
    } finally {
      clearSecrets();
    }
  });
}

Transcript('without --debug: no transcript', async () => {
  try {
    await withFakeProxy({}, async (proxy) => {
      const outcome = await runAgainst(proxy, { numEmails: 2, concurrent: 1, check: false });
      assert.is(outcome.exitCode, 0, outcome.output);
      assert.not.ok(outcome.output.includes('[vu '), outcome.output);
    });
  } finally {
    clearSecrets();
  }
});


Transcript.run();
