/**
 * Data for scenario code (issue 16), as k6's `open()` and `SharedArray`: a file is read once,
 * when the scenario file is loaded, and its rows are shared read-only (frozen) by every VU.
 *
 *   import { openCsv, openJson, pick } from 'runner';
 *   const senders = openCsv('./senders.csv');           // [{ email: 'a@x', name: 'A' }, ...]
 *   const nextSender = pick(senders, 'unique');          // each row once, then a clear error
 *
 * Relative paths are resolved against the scenario file's folder (as k6's open() does), else the
 * working folder. CSV follows RFC 4180: a header row names the fields, fields may be quoted
 * ("a, b", "say ""hi""", line breaks inside quotes), CRLF or LF line endings; every value is a
 * string. A malformed row (an unclosed quote, a stray quote, a wrong number of fields) throws a
 * DataFileError naming the file and the line.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunnerError } from '../errors.ts';
import type { RandomSource } from '../random.ts';

/** A data file could not be read or parsed; the message names the file (and line). */
export class DataFileError extends RunnerError {
  override name = 'DataFileError';
  constructor(message: string, hint?: string) {
    super(message, { code: 'E_DATA', exit: 'scriptError', hint });
  }
}

/** A CSV row: the header's field names to the row's values. */
export type CsvRow = Readonly<Record<string, string>>;

/** The folder relative data paths start from: the scenario file's (set by the loader), else undefined (the working folder). */
let baseDir: string | undefined;

/** Where relative data paths start from while a scenario file is loaded (scenario/load.ts). */
export function setDataBaseDir(dir: string | undefined): void {
  baseDir = dir;
}

/** Files read so far, by absolute path and kind: read once however many times a file is opened. */
const cache = new Map<string, unknown>();

function absolutePath(file: string | URL): string {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  return isAbsolute(path) ? path : resolvePath(baseDir ?? process.cwd(), path);
}

function readText(path: string, shown: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataFileError(`${shown}: cannot be read (${code ?? (error as Error).message})`, code === 'ENOENT' ? `relative paths start from the scenario file's folder: ${baseDir ?? process.cwd()}` : undefined);
  }
}

/** The file's text, read once (k6's open()). */
export function open(file: string | URL): string {
  const path = absolutePath(file);
  const key = 'text:' + path;
  if (!cache.has(key)) cache.set(key, readText(path, String(file)));
  return cache.get(key) as string;
}

/** A CSV file's rows as frozen objects keyed by its header row, read once and shared. */
export function openCsv(file: string | URL): readonly CsvRow[] {
  const path = absolutePath(file);
  const key = 'csv:' + path;
  if (!cache.has(key)) cache.set(key, deepFreeze(parseCsv(readText(path, String(file)), String(file))));
  return cache.get(key) as readonly CsvRow[];
}

/** A JSON file's value, deeply frozen, read once and shared. */
export function openJson<T = unknown>(file: string | URL): T {
  const path = absolutePath(file);
  const key = 'json:' + path;
  if (!cache.has(key)) {
    const text = readText(path, String(file));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message;
      const position = /position (\d+)/.exec(message);
      const line = position ? text.slice(0, Number(position[1])).split('\n').length : undefined;
      throw new DataFileError(`${String(file)}${line !== undefined ? `:${line}` : ''}: not valid JSON (${message})`);
    }
    cache.set(key, deepFreeze(value));
  }
  return cache.get(key) as T;
}

/**
 * RFC 4180 CSV with a header row into objects; `shown` names the file in errors. Empty lines are
 * skipped; a trailing line break is optional.
 */
export function parseCsv(text: string, shown = 'CSV'): CsvRow[] {
  const records = splitRecords(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, shown);
  if (records.length === 0) throw new DataFileError(`${shown}: is empty: the first line must name the fields (e.g. email,name)`);
  const header = records[0]!;
  const names = header.fields.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') throw new DataFileError(`${shown}:${header.line}: the header row has an empty field name`);
    if (seen.has(name)) throw new DataFileError(`${shown}:${header.line}: the header row names '${name}' twice`);
    seen.add(name);
  }
  const rows: CsvRow[] = [];
  for (let index = 1; index < records.length; index++) {
    const { fields, line } = records[index]!;
    if (fields.length !== names.length) {
      throw new DataFileError(`${shown}:${line}: ${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${names.length} (${names.join(',')})`, 'quote a value that holds a comma: "Doe, Jane"');
    }
    const row: Record<string, string> = {};
    names.forEach((name, i) => (row[name] = fields[i]!));
    rows.push(row);
  }
  return rows;
}

/** Records of a CSV text: their fields and the line each starts on (1-based); empty lines left out. */
function splitRecords(text: string, shown: string): Array<{ fields: string[]; line: number }> {
  const records: Array<{ fields: string[]; line: number }> = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let isQuoted = false;
  let wasQuoted = false;
  let quoteLine = 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !wasQuoted)) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (isQuoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          isQuoted = false;
          const next = text[i + 1];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
            throw new DataFileError(`${shown}:${line}: text after a closing quote; write a quote inside a quoted field as ""`);
          }
        }
      } else {
        if (char === '\n') line++;
        field += char;
      }
      continue;
    }
    if (char === ',') {
      fields.push(field);
      field = '';
      wasQuoted = false;
    } else if (char === '\r' || char === '\n') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else if (char === '"') {
      if (field !== '') throw new DataFileError(`${shown}:${line}: a quote inside an unquoted field; quote the whole field and double the quote: "say ""hi"""`);
      isQuoted = true;
      wasQuoted = true;
      quoteLine = line;
    } else {
      field += char;
    }
  }
  if (isQuoted) throw new DataFileError(`${shown}:${quoteLine}: a quoted field is never closed`);
  if (field !== '' || fields.length > 0 || wasQuoted) endRecord();
  return records;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as object)) deepFreeze(inner);
  }
  return value;
}

/** How pick() goes through the rows: in order (wrapping), at random, or each row once. */
export type PickMode = 'sequential' | 'random' | 'unique';

/**
 * A function returning the next row: `sequential` in order and round again, `random` a uniform
 * draw each time, `unique` each row once in order, then a DataFileError saying all were used
 * (size the run's iterations to the rows, or use `sequential`). One picker is shared by every VU
 * when made at the top of the scenario file. `random` takes a RandomSource (e.g. seeded), else Math.random.
 */
export function pick<Row>(rows: readonly Row[], mode: PickMode = 'sequential', random: RandomSource = Math.random): () => Row {
  // A JSON object or a string would give undefined rows (or characters) without a word
  if (!Array.isArray(rows)) throw new DataFileError(`pick(): give an array of rows (openCsv(), or openJson() of a JSON array); got ${rows === null ? 'null' : typeof rows}`);
  if (rows.length === 0) throw new DataFileError('pick(): there are no rows to pick from');
  let next = 0;
  switch (mode) {
    case 'sequential':
      return () => {
        const row = rows[next]!;
        next = next + 1 === rows.length ? 0 : next + 1;
        return row;
      };
    case 'random':
      return () => rows[Math.floor(random() * rows.length)]!;
    case 'unique':
      return () => {
        if (next === rows.length) throw new DataFileError(`pick(..., 'unique'): all ${rows.length} rows were used`, "give as many rows as messages, or pick 'sequential' to go round again");
        return rows[next++]!;
      };
    default:
      throw new DataFileError(`pick(): unknown mode '${String(mode)}': use 'sequential', 'random' or 'unique'`);
  }
}
