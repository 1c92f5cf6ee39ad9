/**
 * buildMessage(): the MIME it writes, parsed back with mailparser (a parser runner does not
 * share code with), by table: parts, attachment bytes, headers, templates, encoded-words.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { encodeMessageData } from '../../runner/smtp/message.ts';
import { base64Lines, buildMessage, encodeHeaderValue, MessageBuildError, type MessageSpec, type RenderFields } from '../../runner/smtp/builder.ts';

const FIELDS: RenderFields = { from: 'sender@example.com', to: ['a@example.net', 'b@example.net'], vu: 3, iteration: 7, seq: 42, runId: 'run1' };

const Parts = suite('buildMessage: parts parsed back with mailparser');

interface PartCase {
  name: string;
  spec: MessageSpec;
  text?: string;
  html?: string;
  contentType: RegExp;
  attachments: Array<{ filename: string; contentType: string; size: number }>;
}

const partCases: PartCase[] = [
  { name: 'text only', spec: { subject: 's', text: 'hello' }, text: 'hello', contentType: /^text\/plain/, attachments: [] },
  { name: 'html only', spec: { subject: 's', html: '<p>hi</p>' }, html: '<p>hi</p>', contentType: /^text\/html/, attachments: [] },
  { name: 'text + html: multipart/alternative', spec: { subject: 's', text: 'plain', html: '<b>rich</b>' }, text: 'plain', html: '<b>rich</b>', contentType: /^multipart\/alternative/, attachments: [] },
  {
    name: 'text + html + two generated attachments: multipart/mixed',
    spec: { subject: 's', text: 'plain', html: '<b>rich</b>', attachments: [{ filename: 'report.pdf', contentType: 'application/pdf', size: '100k' }, { filename: 'tiny.bin', size: 1 }] },
    text: 'plain', html: '<b>rich</b>', contentType: /^multipart\/mixed/,
    attachments: [{ filename: 'report.pdf', contentType: 'application/pdf', size: 102400 }, { filename: 'tiny.bin', contentType: 'application/octet-stream', size: 1 }],
  },
  { name: 'an empty attachment', spec: { text: 'x', attachments: [{ filename: 'empty.txt', contentType: 'text/plain', size: 0 }] }, text: 'x', contentType: /^multipart\/mixed/, attachments: [{ filename: 'empty.txt', contentType: 'text/plain', size: 0 }] },
  { name: 'non-ASCII text goes base64 UTF-8', spec: { text: 'Grüße, 東京' }, text: 'Grüße, 東京', contentType: /^text\/plain/, attachments: [] },
  { name: 'a line over 998 characters goes base64', spec: { text: 'x'.repeat(2000) }, text: 'x'.repeat(2000), contentType: /^text\/plain/, attachments: [] },
];

for (const c of partCases) {
  Parts(c.name, async () => {
    const raw = buildMessage(c.spec).render(FIELDS);
    assert.not.ok(/[^\r]\n/.test(raw), 'CRLF line endings only');
    for (const line of raw.split('\r\n')) assert.ok(line.length <= 998, `line of ${line.length}`);
    const mail = await simpleParser(raw);
    assert.match(String((mail.headers.get('content-type') as { value: string }).value), c.contentType);
    if (c.text !== undefined) assert.is(mail.text?.replace(/\n$/, ''), c.text);
    if (c.html !== undefined) assert.is(String(mail.html).replace(/\n$/, ''), c.html);
    assert.is(mail.attachments.length, c.attachments.length);
    c.attachments.forEach((expected, index) => {
      const got = mail.attachments[index]!;
      assert.is(got.filename, expected.filename);
      assert.is(got.contentType, expected.contentType);
      assert.is(got.content.length, expected.size);
    });
  });
}

Parts('generated attachment bytes are the same in every message and base64 lines are 76 characters', async () => {
  const template = buildMessage({ text: 't', attachments: [{ filename: 'a.bin', size: 5000 }] });
  const first = await simpleParser(template.render(FIELDS));
  const second = await simpleParser(template.render({ ...FIELDS, seq: 43 }));
  assert.ok(first.attachments[0]!.content.equals(second.attachments[0]!.content));
  const lines = base64Lines(Buffer.alloc(5000, 7)).split('\r\n').slice(0, -1);
  assert.ok(lines.slice(0, -1).every((line) => line.length === 76));
  assert.ok(lines.at(-1)!.length <= 76);
});

Parts('a file attachment keeps its bytes, name and a type from its extension', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-builder-'));
  try {
    const bytes = Buffer.from(Array.from({ length: 3001 }, (_, i) => (i * 31) & 0xff));
    writeFileSync(join(dir, 'invoice.pdf'), bytes);
    const mail = await simpleParser(buildMessage({ text: 'see attached', attachments: [{ path: join(dir, 'invoice.pdf') }, { path: join(dir, 'invoice.pdf'), filename: 'Rechnung März.pdf' }] }).render(FIELDS));
    assert.is(mail.attachments[0]!.filename, 'invoice.pdf');
    assert.is(mail.attachments[0]!.contentType, 'application/pdf');
    assert.ok(mail.attachments[0]!.content.equals(bytes));
    assert.is(mail.attachments[1]!.filename, 'Rechnung März.pdf', 'RFC 2231 filename*');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const Headers = suite('buildMessage: headers and templates');

Headers('Message-ID and Date are generated per message, From/To default to the envelope, extra headers kept', async () => {
  const template = buildMessage({ subject: 'q4 #{{seq}}', text: 'x', headers: { 'X-Campaign': 'q4', 'X-Vu': 'vu {{vu}} it {{iteration}}' } });
  const one = await simpleParser(template.render(FIELDS));
  const two = await simpleParser(template.render({ ...FIELDS, seq: 43 }));
  assert.ok(one.messageId !== undefined && one.messageId !== two.messageId);
  assert.match(one.messageId!, /^<run1\.42\..+@runner\.localhost>$/);
  assert.ok(one.date instanceof Date && Math.abs(one.date.getTime() - Date.now()) < 5 * 60_000);
  assert.is(one.subject, 'q4 #42');
  assert.is(two.subject, 'q4 #43');
  assert.is(one.from?.text, 'sender@example.com');
  assert.is((one.to as { text: string }).text, 'a@example.net, b@example.net');
  assert.is(one.headers.get('x-campaign'), 'q4');
  assert.is(one.headers.get('x-vu'), 'vu 3 it 7');
});

Headers('data fields fill {{name}}; an unknown name stays as written', async () => {
  const template = buildMessage({ from: '{{name}} <{{email}}>', subject: 'Hello {{name}}', text: 'Dear {{name}}, order {{order}} {{missing}}' });
  const mail = await simpleParser(template.render({ ...FIELDS, vars: { name: 'Zoë Müller', email: 'zoe@example.org', order: 1234 } }));
  assert.is(mail.subject, 'Hello Zoë Müller');
  assert.match(mail.from!.text, /Zoë Müller/);
  assert.is(mail.text?.trim(), 'Dear Zoë Müller, order 1234 {{missing}}');
});

const encodedCases: Array<{ name: string; value: string }> = [
  { name: 'ASCII stays as is', value: 'Quarterly report' },
  { name: 'Latin-1 letters', value: 'Grüße aus Köln' },
  { name: 'a long CJK subject over several encoded-words', value: '東京の四半期報告書'.repeat(8) },
  { name: 'emoji (4-byte UTF-8) never cut inside', value: '🚀'.repeat(30) },
];
for (const c of encodedCases) {
  Headers(`RFC 2047 subject: ${c.name}`, async () => {
    const encoded = encodeHeaderValue(c.value);
    for (const line of encoded.split('\r\n')) assert.ok(line.length <= 76, line);
    for (const word of encoded.match(/=\?[^?]+\?B\?[^?]*\?=/g) ?? []) assert.ok(word.length <= 75, word);
    const mail = await simpleParser(buildMessage({ subject: c.value, text: 'x' }).render(FIELDS));
    assert.is(mail.subject, c.value);
  });
}

Headers('boundaries are unique per message, even for a fixed body', () => {
  const template = buildMessage({ text: 'a', html: '<i>a</i>', attachments: [{ filename: 'x.bin', size: 10 }] });
  const boundaries = (raw: string) => [...raw.matchAll(/boundary="([^"]+)"/g)].map((m) => m[1]);
  const one = boundaries(template.render(FIELDS));
  const two = boundaries(template.render(FIELDS));
  assert.is(one.length, 2);
  assert.ok(one.every((b) => !two.includes(b)), `${one} vs ${two}`);
});

const wireCases: Array<{ name: string; spec: MessageSpec; hasDotLines: boolean }> = [
  { name: 'no dot lines', spec: { text: 'a\nb', attachments: [{ filename: 'x.bin', size: 3000 }] }, hasDotLines: false },
  { name: 'a fixed text with dot lines', spec: { text: '.\n..x\nend', html: '<p>\n.</p>' }, hasDotLines: true },
  { name: 'a dot line from a variable', spec: { text: 'a\n{{name}}' }, hasDotLines: true },
];
for (const c of wireCases) {
  Headers(`renderData() is render() dot-stuffed with end-of-data: ${c.name}`, () => {
    const template = buildMessage(c.spec);
    const fields = { ...FIELDS, vars: { name: '.dot' } };
    const data = template.renderData(fields);
    assert.is(template.hasDotLines, c.hasDotLines);
    // Same Message-ID token and boundaries are per render: compare with those masked
    const mask = (text: string) => text.replace(/<run1\.42\.[^@]+@/g, '<ID@').replace(/=_(mixed|alt)_[0-9a-z.]+/g, '=_$1_B');
    assert.is(mask(data), mask(encodeMessageData(template.render(fields))));
    const wire = template.renderWire(fields);
    const joined = Buffer.concat(wire.chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
    assert.is(wire.bytes, joined.length);
    assert.is(wire.isEightBit, false);
    assert.is(mask(joined.toString()), mask(data));
    assert.is(template.hasDotLines, c.hasDotLines);
  });
}

const invalidCases: Array<{ name: string; spec: MessageSpec; says: RegExp }> = [
  { name: 'Message-ID is runner\'s', spec: { headers: { 'Message-ID': '<x@y>' } }, says: /Message-ID is written by runner/ },
  { name: 'a header name with a space', spec: { headers: { 'X Bad': 'v' } }, says: /not a header field name/ },
  { name: 'an unreadable file', spec: { attachments: [{ path: '/nonexistent/file.pdf' }] }, says: /attachments\[0\]\.path: cannot read/ },
  { name: 'a size that is no size', spec: { attachments: [{ filename: 'a', size: 'lots' }] }, says: /attachments\[0\]\.size/ },
  { name: 'Subject as a header', spec: { headers: { Subject: 'x' } }, says: /give subject as the subject field/ },
];
for (const c of invalidCases) {
  Headers(`refused: ${c.name}`, () => {
    assert.throws(() => buildMessage(c.spec), (error: unknown) => error instanceof MessageBuildError && c.says.test(error.message));
  });
}

const injectionCases: Array<{ name: string; spec: MessageSpec; vars?: Record<string, string> }> = [
  { name: 'CRLF in a header value', spec: { text: 'x', headers: { 'X-Campaign': 'a\r\nBcc: evil@example.net' } } },
  { name: 'a bare CR in a header value', spec: { text: 'x', headers: { 'X-Campaign': 'a\rBcc: evil@example.net' } } },
  { name: 'a bare CR from a variable in the subject', spec: { subject: 'Hi {{name}}', text: 'x' }, vars: { name: 'N\rBcc: evil@example.net' } },
  { name: 'CRLF in an attachment filename', spec: { text: 'x', attachments: [{ filename: 'a"\r\nBcc: evil@example.net', size: 3 }] } },
];
for (const c of injectionCases) {
  Headers(`no header injection: ${c.name}`, async () => {
    const raw = buildMessage(c.spec).render({ ...FIELDS, vars: c.vars });
    // CR and LF only as CRLF (RFC 5322 §2.2), and no line starts a Bcc header
    assert.not.match(raw, /\r(?!\n)|(?<!\r)\n/);
    assert.not.match(raw, /^Bcc:/im);
    const mail = await simpleParser(raw);
    assert.is(mail.headers.get('bcc'), undefined);
  });
}

Headers('an attachment contentType with a line break (or not a media type) is refused, naming it', () => {
  for (const contentType of ['text/plain\r\nBcc: evil@example.net', 'pdf']) {
    assert.throws(() => buildMessage({ text: 'x', attachments: [{ filename: 'a.txt', contentType, size: 3 }] }), (error: Error) => error instanceof MessageBuildError && /attachments\[0\]\.contentType/.test(error.message));
  }
  buildMessage({ text: 'x', attachments: [{ filename: 'a.txt', contentType: 'text/plain; charset=utf-8', size: 3 }] });
});

Headers('a generated attachment above 64 MiB is refused before any byte is built', () => {
  assert.throws(() => buildMessage({ text: 'x', attachments: [{ filename: 'a.bin', size: '5000m' }] }), (error: Error) => error instanceof MessageBuildError && /attachments\[0\]\.size: .*64 MiB/.test(error.message));
});

Parts.run();
Headers.run();
