/**
 * Data for scenario code: CSV (RFC 4180) and JSON read once, frozen and shared; pick() helpers;
 * malformed rows named by file and line. Tables of cases.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../helpers.ts';
import { DataFileError, open, openCsv, openJson, parseCsv, pick, setDataBaseDir } from '../../runner/script/data.ts';
import * as api from '../../runner/index.ts';
import { createSeededRandom } from '../../runner/random.ts';

const csv = suite('data: CSV with a header row into objects');

const PARSED: Array<[string, string, Array<Record<string, string>>]> = [
  ['plain, LF', 'email,name\na@x.test,A\nb@x.test,B\n', [{ email: 'a@x.test', name: 'A' }, { email: 'b@x.test', name: 'B' }]],
  ['CRLF, no final line break', 'email,name\r\na@x.test,A\r\nb@x.test,B', [{ email: 'a@x.test', name: 'A' }, { email: 'b@x.test', name: 'B' }]],
  ['quoted comma', 'email,name\na@x.test,"Doe, Jane"\n', [{ email: 'a@x.test', name: 'Doe, Jane' }]],
  ['doubled quote', 'email,name\na@x.test,"say ""hi"""\n', [{ email: 'a@x.test', name: 'say "hi"' }]],
  ['line break inside quotes', 'email,note\na@x.test,"two\nlines"\n', [{ email: 'a@x.test', note: 'two\nlines' }]],
  ['empty fields and empty lines', 'a,b,c\n\n1,,3\n\n,,\n', [{ a: '1', b: '', c: '3' }, { a: '', b: '', c: '' }]],
  ['a quoted empty field is a row', 'a\n""\n', [{ a: '' }]],
  ['byte order mark, header trimmed', '\ufeffemail , name\na@x.test,A\n', [{ email: 'a@x.test', name: 'A' }]],
  ['header only', 'email,name\n', []],
];
for (const [name, text, expected] of PARSED) {
  csv(name, () => assert.equal(parseCsv(text, 'senders.csv'), expected));
}

const MALFORMED: Array<[string, string, string]> = [
  ['too few fields', 'email,name\na@x.test,A\nb@x.test\n', 'senders.csv:3: 1 field, the header has 2 (email,name)'],
  ['too many fields', 'email,name\na@x.test,Doe, Jane\n', 'senders.csv:2: 3 fields, the header has 2 (email,name)'],
  ['line counted past a quoted line break', 'a,b\n"x\ny",1\n2\n', 'senders.csv:4: 1 field, the header has 2 (a,b)'],
  ['unclosed quote', 'a,b\n1,"open\n2,3\n', 'senders.csv:2: a quoted field is never closed'],
  ['stray quote', 'a,b\n1,x"y\n', 'senders.csv:2: a quote inside an unquoted field; quote the whole field and double the quote: "say ""hi"""'],
  ['text after a closing quote', 'a,b\n1,"x"y\n', 'senders.csv:2: text after a closing quote; write a quote inside a quoted field as ""'],
  ['empty file', '', 'senders.csv: is empty: the first line must name the fields (e.g. email,name)'],
  ['duplicate header', 'a,a\n1,2\n', "senders.csv:1: the header row names 'a' twice"],
];
for (const [name, text, message] of MALFORMED) {
  csv(`malformed: ${name}`, () => {
    try {
      parseCsv(text, 'senders.csv');
      assert.unreachable('should throw');
    } catch (error) {
      assert.instance(error, DataFileError);
      assert.is((error as Error).message, message);
    }
  });
}

const files = suite('data: files read once, shared read-only, relative to the scenario folder');

files('openCsv, openJson and open: the same frozen object each time; relative to the base folder; exported from runner', () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'senders.csv'), 'email,name\na@x.test,A\n');
    writeFileSync(join(temp.dir, 'data.json'), '{"recipients":["r@x.test"]}');
    setDataBaseDir(temp.dir);
    const rows = openCsv('./senders.csv');
    assert.equal(rows, [{ email: 'a@x.test', name: 'A' }]);
    assert.is(openCsv(join(temp.dir, 'senders.csv')), rows, 'read once: the same array');
    assert.ok(Object.isFrozen(rows) && Object.isFrozen(rows[0]));
    assert.throws(() => ((rows[0] as Record<string, string>)['email'] = 'other'));
    const json = openJson<{ recipients: string[] }>('data.json');
    assert.equal(json.recipients, ['r@x.test']);
    assert.ok(Object.isFrozen(json.recipients));
    assert.is(open('data.json'), '{"recipients":["r@x.test"]}');
    assert.is(api.openCsv, openCsv);
    assert.is(api.pick, pick);
  } finally {
    setDataBaseDir(undefined);
    temp.remove();
  }
});

files('errors name the file (and line): missing file, malformed row, bad JSON', () => {
  const temp = createTempDir();
  try {
    writeFileSync(join(temp.dir, 'bad.csv'), 'email,name\na@x.test,A\nb@x.test\n');
    writeFileSync(join(temp.dir, 'bad.json'), '{\n  "a": 1,\n}');
    setDataBaseDir(temp.dir);
    assert.throws(() => openCsv('bad.csv'), (error: Error) => error.message === 'bad.csv:3: 1 field, the header has 2 (email,name)');
    assert.throws(() => openCsv('missing.csv'), (error: DataFileError) => error.message === 'missing.csv: cannot be read (ENOENT)' && error.hint!.includes(temp.dir));
    assert.throws(() => openJson('bad.json'), (error: Error) => /^bad\.json(:\d+)?: not valid JSON/.test(error.message));
  } finally {
    setDataBaseDir(undefined);
    temp.remove();
  }
});

const picks = suite('data: pick sequential, random, unique');

const ROWS = ['a', 'b', 'c'];
const PICKS: Array<[string, () => string, string[]]> = [
  ['sequential goes round', pick(ROWS, 'sequential'), ['a', 'b', 'c', 'a', 'b']],
  ['default is sequential', pick(ROWS), ['a', 'b', 'c', 'a']],
  ['unique: each once', pick(ROWS, 'unique'), ['a', 'b', 'c']],
];
for (const [name, next, expected] of PICKS) picks(name, () => assert.equal(expected.map(() => next()), expected));

picks('unique: a clear error once every row was used', () => {
  const next = pick(ROWS, 'unique');
  next(); next(); next();
  assert.throws(() => next(), (error: DataFileError) => error.message === "pick(..., 'unique'): all 3 rows were used" && error.hint!.includes('sequential'));
});

picks('random: seeded, every row drawn about equally often', () => {
  const next = pick(ROWS, 'random', createSeededRandom(1));
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 3000; i++) counts[next()]!++;
  // 3000 draws of p = 1/3: sd ≈ 25.8; 4 sd
  for (const row of ROWS) assert.ok(Math.abs(counts[row]! - 1000) < 104, JSON.stringify(counts));
});

picks('no rows, unknown mode: clear errors', () => {
  assert.throws(() => pick([], 'random'), /no rows to pick from/);
  assert.throws(() => pick(ROWS, 'shuffle' as 'random'), /unknown mode 'shuffle'/);
  // openJson() of an object, a string, null: not rows (they gave undefined or single characters)
  for (const notRows of [{ a: 1 }, 'abc', null]) assert.throws(() => pick(notRows as unknown as string[]), /pick\(\): give an array of rows/, JSON.stringify(notRows));
});

csv.run();
files.run();
picks.run();
