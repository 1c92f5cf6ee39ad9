/** The leaf layer (runner/util/): formatting, tables, colour, "did you mean", JSON files. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paint } from '../../runner/util/color.ts';
import { formatBytes, formatMs, formatNumber, formatTimestamp, round } from '../../runner/util/format.ts';
import { editDistance, suggestName } from '../../runner/util/suggest.ts';
import { formatTable } from '../../runner/util/table.ts';
import { readJsonFile } from '../../runner/util/json-file.ts';
import { escapeControl, escapeControlDeep, hasControl } from '../../runner/util/escape.ts';
import { parseRateIntervalMs, parseRatePerSecond } from '../../runner/util/rate.ts';

const format = suite('util/format');

const bytes: Array<[number, string]> = [[0, '0 bytes'], [1023, '1023 bytes'], [1024, '1 KiB'], [1536, '1.5 KiB'], [52_428_800, '50 MiB'], [1.5 * 1024 ** 3, '1.5 GiB']];
for (const [value, text] of bytes) format(`formatBytes(${value})`, () => assert.is(formatBytes(value), text));

format('round, formatNumber', () => {
  assert.is(round(1.23456, 3), 1.235);
  assert.is(formatNumber(12), '12');
  assert.is(formatNumber(0.25), '0.25');
});

const milliseconds: Array<[number | null, string]> = [[null, '-'], [0.04, '0 ms'], [12, '12 ms'], [12.34, '12.3 ms'], [99.96, '100 ms'], [123.6, '124 ms']];
for (const [value, text] of milliseconds) format(`formatMs(${value})`, () => assert.is(formatMs(value), text));
format('formatMs without the unit, for a column whose header names it', () => assert.is(formatMs(12.34, { isUnitShown: false }), '12.3'));

format('formatTimestamp: to the second, UTC named only when asked and the timestamp says Z', () => {
  assert.is(formatTimestamp('2025-01-31T14:05:09.123Z'), '2025-01-31 14:05:09');
  assert.is(formatTimestamp('2025-01-31T14:05:09.123Z', { isUtcShown: true }), '2025-01-31 14:05:09 UTC');
  assert.is(formatTimestamp('2025-11-24T10:30:00', { isUtcShown: true }), '2025-11-24 10:30:00');
  assert.is(formatTimestamp('yesterday'), 'yesterday');
  assert.is(formatTimestamp(''), '');
});

format.run();

const text = suite('util/table and util/color');

text('formatTable: padded columns, right-aligned numbers, no trailing spaces, optional indent', () => {
  const table = formatTable([['name', 'count', 'text'], ['a', '1', 'x'], ['longer', '100', '']], ['left', 'right', 'left'], false, '  ');
  assert.is(table, '  name    count  text\n  a           1  x\n  longer    100');
});

text('paint: styled only when enabled; the table pads before styling', () => {
  assert.is(paint('green', 'ok', false), 'ok');
  assert.match(paint('green', 'ok', true), '\u001b[32mok');
  assert.match(formatTable([[{ text: 'a', color: 'red' }, 'b'], ['ccc', 'd']], ['left', 'left'], true), '\u001b[31ma  \u001b[39m  b');
});

text.run();

const suggest = suite('util/suggest');

const distances: Array<[string, string, number]> = [['rate', 'rate', 0], ['rat', 'rate', 1], ['duratoin', 'duration', 1], ['HOST', 'host', 0], ['abc', '', 3]];
for (const [a, b, distance] of distances) suggest(`editDistance('${a}', '${b}')`, () => assert.is(editDistance(a, b), distance));

suggest('suggestName: the closest within the allowed edits, else nothing', () => {
  assert.is(suggestName('iteratons', ['vus', 'iterations', 'duration']), 'iterations');
  assert.is(suggestName('zzz', ['vus', 'rate']), undefined);
  assert.is(suggestName('smtp_mesage_duration', ['smtp_message_duration'], 1), 'smtp_message_duration');
  assert.is(suggestName('smtp_nope', ['smtp_txns'], 2), undefined);
});

suggest.run();

const json = suite('util/json-file');

json('readJsonFile: the data, or why not (missing, a folder, not JSON with line:col)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-json-'));
  try {
    writeFileSync(join(dir, 'good.json'), '{"a": 1}');
    writeFileSync(join(dir, 'bad.json'), '{\n  "a": 1,\n  oops\n}');
    assert.equal(await readJsonFile(join(dir, 'good.json')), { ok: true, data: { a: 1 }, text: '{"a": 1}' });
    const missing = await readJsonFile(join(dir, 'none.json'));
    assert.ok(!missing.ok && missing.stage === 'read' && missing.reason === 'no such file');
    const folder = await readJsonFile(dir);
    assert.ok(!folder.ok && folder.stage === 'read' && folder.reason === 'it is a folder');
    const bad = await readJsonFile(join(dir, 'bad.json'));
    assert.ok(!bad.ok && bad.stage === 'parse' && bad.location.startsWith(':3:'), JSON.stringify(bad));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

json.run();

const escape = suite('util/escape: control characters shown, never obeyed (issue 19)');

const ESCAPES: Array<[string, string, string]> = [
  ['plain text is the same string', 'Hello, wörld — ✓', 'Hello, wörld — ✓'],
  ['OSC retitle and BEL', '\u001b]0;pwned\u0007', '\\x1b]0;pwned\\x07'],
  ['clear screen, home', '\u001b[2J\u001b[H', '\\x1b[2J\\x1b[H'],
  ['C1 CSI (from UTF-8 C2 9B)', Buffer.from([0xc2, 0x9b, 0x33, 0x31, 0x6d]).toString('utf8'), '\\x9b31m'],
  ['ESC inside a broken UTF-8 sequence', Buffer.from([0xe2, 0x1b, 0x5b, 0x30, 0x6d]).toString('utf8'), '\ufffd\\x1b[0m'],
  ['CR, LF, TAB, NUL, DEL', 'a\rb\nc\td\u0000e\u007f', 'a\\rb\\nc\\td\\x00e\\x7f'],
  ['bidi override and isolate', 'abc\u202edef\u2066', 'abc\\u202edef\\u2066'],
];
for (const [name, input, shown] of ESCAPES) escape(name, () => assert.is(escapeControl(input), shown));

escape('keepLineBreaks keeps LF only; hasControl; escapeControlDeep copies only what changes', () => {
  assert.is(escapeControl('one\r\ntwo\n\u001b[2J', true), 'one\\r\ntwo\n\\x1b[2J');
  assert.ok(hasControl('x\u009by'));
  assert.not.ok(hasControl('line\n', true));
  const clean = { a: ['x', 1, null], b: { c: 'y' } };
  assert.is(escapeControlDeep(clean), clean);
  assert.equal(escapeControlDeep({ a: ['\u001b[2J', 1], 'k\u0007': { c: 'ok' } }), { a: ['\\x1b[2J', 1], 'k\\x07': { c: 'ok' } });
});

escape.run();

const rates = suite('util/rate: a count per span');

rates('a span of 0 (1/0s, 5/0m) is no rate: refused, never an unlimited one', () => {
  for (const rate of ['1/0s', '5/0m', '100/0h', '1/00ms']) {
    assert.throws(() => parseRateIntervalMs(rate), /is not a rate/, rate);
    assert.throws(() => parseRatePerSecond(rate), /is not a rate/, rate);
  }
  assert.is(parseRateIntervalMs('5/2s'), 400);
  assert.is(parseRateIntervalMs('1/s'), 1000);
});

rates.run();
