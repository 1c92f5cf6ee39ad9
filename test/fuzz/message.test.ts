/**
 * Property tests of message transparency (RFC 5321 §4.5.2, issue 6 "Fuzzing"): whatever text a
 * scenario sends, its wire form after DATA ends the mail data exactly once, at its end, has only
 * CRLF line endings, and a receiving server that un-stuffs it gets the text back. Checked by an
 * independent receiver written from the RFC, not by inverting message.ts. Seeded: FUZZ_SEED=<n>.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { bodyWithEndOfData, buildHead, dotStuff, encodeMessageData, generatedBody, END_OF_DATA } from '../../runner/smtp/message.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 6_2024);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 400);

/** fc.assert with the suite's seed; a failure names the seed to replay it with. */
function check(property: fc.IProperty<any>, numRuns = RUNS): void {
  try {
    fc.assert(property, { seed: SEED, numRuns });
  } catch (error) {
    throw new Error(`property failed (replay with FUZZ_SEED=${SEED}):\n${(error as Error).message}`);
  }
}

/**
 * A receiving server (RFC 5321 §4.5.2): reads lines after DATA; a line of a single "." ends the
 * data; a line starting with "." loses that first ".". Returns the data (CRLF line endings) and
 * how many bytes it read up to and including the end-of-data line, or undefined if none came.
 */
function receive(wire: string): { data: string; consumed: number } | undefined {
  let data = '';
  let start = 0;
  for (;;) {
    const crlf = wire.indexOf('\r\n', start);
    if (crlf < 0) return undefined;
    const line = wire.slice(start, crlf);
    if (line === '.') return { data, consumed: crlf + 2 };
    data += (line.startsWith('.') ? line.slice(1) : line) + '\r\n';
    start = crlf + 2;
  }
}

/** Every CR is followed by LF and every LF preceded by CR. */
function hasOnlyCrlf(text: string): boolean {
  return !/\r(?!\n)|(?<!\r)\n/.test(text);
}

/** What the text should arrive as: line endings made CRLF, and a final CRLF when it has none. */
function expectedData(text: string): string {
  const normalized = text.replace(/\r\n|\r|\n/g, '\r\n');
  return normalized === '' || normalized.endsWith('\r\n') ? normalized : normalized + '\r\n';
}

/** Text rich in what matters here: dots, CR, LF, and non-ASCII. */
const messageText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', ' ', '.', '.', '\r', '\n', '\r\n', '\r\n.', '\r\n.\r\n', 'é', '\u2028'), maxLength: 120 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 120 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
);

const stuffing = suite('fuzz: dot-stuffing');

stuffing('encodeMessageData: the wire form ends the data exactly at its end, with CRLF only, and un-stuffs to the text', () => {
  check(
    fc.property(messageText, (text) => {
      const wire = encodeMessageData(text);
      assert.ok(wire.endsWith(END_OF_DATA), 'no end-of-data line');
      assert.ok(hasOnlyCrlf(wire), `a bare CR or LF on the wire: ${JSON.stringify(wire)}`);
      // The DATA command's CRLF precedes the wire: "\r\n.\r\n" must not occur before the end
      const afterData = '\r\n' + wire;
      assert.is(afterData.indexOf('\r\n.\r\n'), afterData.length - 5, `the data ends early: ${JSON.stringify(wire)}`);
      const received = receive(wire);
      assert.ok(received !== undefined);
      assert.is(received.consumed, wire.length, 'bytes after the end of data');
      assert.is(received.data, expectedData(text));
    }),
  );
});

stuffing('dotStuff: CRLF only, no line starts with a single dot, and un-stuffing gives the normalized text back', () => {
  check(
    fc.property(messageText, (text) => {
      const stuffed = dotStuff(text);
      assert.ok(hasOnlyCrlf(stuffed));
      const normalized = text.replace(/\r\n|\r|\n/g, '\r\n');
      const lines = stuffed.split('\r\n');
      for (const line of lines) if (line.startsWith('.')) assert.ok(line.startsWith('..'), `unstuffed line ${JSON.stringify(line)}`);
      assert.is(lines.map((line) => (line.startsWith('.') ? line.slice(1) : line)).join('\r\n'), normalized);
    }),
  );
});

stuffing.run();

const generated = suite('fuzz: generated messages');

generated('any body size: the body with its end-of-data line is read back as the body, of the size asked for', () => {
  check(
    fc.property(fc.integer({ min: 0, max: 20_000 }), (sizeBytes) => {
      const wire = bodyWithEndOfData(sizeBytes).toString('latin1');
      const body = generatedBody(sizeBytes).toString('latin1');
      const received = receive(wire);
      assert.ok(received !== undefined);
      assert.is(received.consumed, wire.length);
      assert.is(received.data, body);
      assert.ok(hasOnlyCrlf(body));
      // message.ts: exact for sizes ≥ 2; 1 gives a 2-byte body; 0 none
      assert.is(body.length, sizeBytes === 1 ? 2 : sizeBytes);
    }),
    200,
  );
});

generated('head + body with any sender, recipients and sequence: ends exactly at its end-of-data line', () => {
  const address = fc.tuple(fc.stringMatching(/^[a-z0-9.]{1,12}$/), fc.constantFrom('example.com', 'example.test', 'x.invalid')).map(([local, domain]) => `${local}@${domain}`);
  check(
    fc.property(address, fc.array(address, { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 0, max: 3000 }), (from, to, sequence, sizeBytes) => {
      const head = buildHead({ from, to, sequence, runId: 'fuzz' });
      const wire = head + bodyWithEndOfData(sizeBytes).toString('latin1');
      const received = receive(wire);
      assert.ok(received !== undefined);
      assert.is(received.consumed, wire.length);
      assert.is(received.data, head + generatedBody(sizeBytes).toString('latin1'));
    }),
    200,
  );
});

generated.run();
