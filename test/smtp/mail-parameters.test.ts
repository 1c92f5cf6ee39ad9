import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_EXTENSIONS, readExtensions, type OfferedExtensions } from '../../runner/smtp/extensions.ts';
import { dsnMailParameters, dsnRcptParameters, encodeXtext, hasDsnParameters, hasNonAsciiAddress, isAscii, mailParameters, type MailDeclaration } from '../../runner/smtp/mail-parameters.ts';

const Extensions = suite('extensions: what an EHLO offers');

const keywords = (entries: Array<[string, string]>) => new Map(entries);

Extensions('each extension, SIZE with its limit, AUTH mechanisms upper case', () => {
  const offered = readExtensions(keywords([
    ['PIPELINING', ''], ['CHUNKING', ''], ['SIZE', '52428800'], ['8BITMIME', ''], ['SMTPUTF8', ''],
    ['STARTTLS', ''], ['AUTH', 'plain LOGIN  xoauth2'], ['ENHANCEDSTATUSCODES', ''], ['DSN', ''],
  ]));
  assert.equal(offered, {
    pipelining: true, chunking: true, size: true, sizeLimitBytes: 52428800, eightBitMime: true, smtpUtf8: true,
    startTls: true, authMechanisms: ['PLAIN', 'LOGIN', 'XOAUTH2'], enhancedStatusCodes: true, dsn: true,
  });
});

const SIZE_CASES: Array<[string | undefined, boolean, number]> = [
  [undefined, false, 0],
  ['', true, 0],
  ['0', true, 0],
  ['1000', true, 1000],
  ['lots', true, 0],
];
for (const [parameter, size, limit] of SIZE_CASES) {
  Extensions(`SIZE ${JSON.stringify(parameter)}: offered ${size}, limit ${limit} (RFC 1870 §4: none or 0 is no limit)`, () => {
    const offered = readExtensions(keywords(parameter === undefined ? [] : [['SIZE', parameter]]));
    assert.equal([offered.size, offered.sizeLimitBytes], [size, limit]);
  });
}

Extensions('nothing offered reads as NO_EXTENSIONS', () => {
  assert.equal(readExtensions(new Map()), { ...NO_EXTENSIONS });
});

const Parameters = suite('mail parameters: RFC 1870, RFC 6152, RFC 6531');

const ALL: OfferedExtensions = { ...NO_EXTENSIONS, size: true, eightBitMime: true, smtpUtf8: true };
const PLAIN: MailDeclaration = { messageBytes: 1200, isEightBit: false, hasUtf8Address: false };

const CASES: Array<[string, OfferedExtensions, MailDeclaration, string]> = [
  ['nothing offered: no parameters', NO_EXTENSIONS, { messageBytes: 1200, isEightBit: true, hasUtf8Address: false }, ''],
  ['SIZE offered: the size', ALL, PLAIN, ' SIZE=1200'],
  ['size unknown (a mail() step): no SIZE', ALL, { ...PLAIN, messageBytes: -1 }, ''],
  ['an 8-bit body: BODY=8BITMIME', ALL, { ...PLAIN, isEightBit: true }, ' SIZE=1200 BODY=8BITMIME'],
  ['an 8-bit body, 8BITMIME not offered: nothing declared', { ...ALL, eightBitMime: false }, { ...PLAIN, isEightBit: true }, ' SIZE=1200'],
  ['an address not ASCII: BODY=8BITMIME and SMTPUTF8', ALL, { ...PLAIN, hasUtf8Address: true }, ' SIZE=1200 BODY=8BITMIME SMTPUTF8'],
];
for (const [name, offered, declaration, expected] of CASES) {
  Parameters(name, () => assert.is(mailParameters(offered, declaration), expected));
}

Parameters('ASCII or not', () => {
  assert.equal([isAscii('a@example.com'), isAscii('jörg@exämple.test'), isAscii('')], [true, false, true]);
  assert.equal([hasNonAsciiAddress(['a@b.test', 'zoë@b.test']), hasNonAsciiAddress(['a@b.test'])], [true, false]);
});

Parameters('DSN (RFC 3461): RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT, only what is asked', () => {
  const dsn = { notify: ['FAILURE', 'DELAY'] as Array<'FAILURE' | 'DELAY'>, ret: 'HDRS' as const, envid: true, orcpt: true };
  assert.is(dsnMailParameters(dsn, 'run1.7'), ' RET=HDRS ENVID=run1.7');
  assert.is(dsnRcptParameters(dsn, 'a+b=c@example.com'), ' NOTIFY=FAILURE,DELAY ORCPT=rfc822;a+2Bb+3Dc@example.com');
  assert.is(dsnMailParameters({ ret: 'FULL' }, 'x'), ' RET=FULL');
  assert.is(dsnRcptParameters({ ret: 'FULL' }, 'a@b'), '');
  assert.is(dsnMailParameters(undefined, 'x') + dsnRcptParameters(undefined, 'a@b'), '');
  assert.equal([hasDsnParameters(undefined), hasDsnParameters({}), hasDsnParameters({ notify: ['NEVER'] })], [false, false, true]);
});

Parameters('xtext (RFC 3461 §4): "+", "=", space, controls and non-ASCII as +HH', () => {
  assert.is(encodeXtext('a b+c=d\u0001é'), 'a+20b+2Bc+3Dd+01+C3+A9');
});

Extensions.run();
Parameters.run();
