/**
 * Reading a JSON file a person gave us, with the reason in words when it fails, so each caller
 * can throw its own typed error with its own hint.
 */
import { readFile } from 'node:fs/promises';

/** A JSON file read and parsed, or why not: it could not be read, or it is not JSON. */
export type JsonFileResult =
  | { ok: true; data: unknown; text: string }
  | { ok: false; stage: 'read'; reason: string; error: unknown }
  /** `location` is ':line:col' when the engine says where (else ''); `reason` is one line. */
  | { ok: false; stage: 'parse'; reason: string; location: string; error: unknown };

/** Why a file could not be read, in words: 'no such file', 'it is a folder', or the system's message. */
export function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
}

/** Reads and parses `path` (UTF-8); never throws. */
export async function readJsonFile(path: string): Promise<JsonFileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, stage: 'read', reason: describeReadError(error), error };
  }
  try {
    return { ok: true, data: JSON.parse(text), text };
  } catch (error) {
    const message = (error as Error).message;
    // V8 quotes the start of the text in its message, newlines included: keep the reason one line.
    return { ok: false, stage: 'parse', reason: message.replace(/\r?\n/g, '\\n'), location: jsonErrorLocation(text, message), error };
  }
}

/** `:line:col` of a JSON.parse error message about `text`, from the position V8 reports ('' when it gives none). */
export function jsonErrorLocation(text: string, message: string): string {
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return `:${lineColumn[1]}:${lineColumn[2]}`;
  const position = /position (\d+)/.exec(message);
  if (!position) return '';
  const offset = Number(position[1]);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `:${line}:${offset - lineStart + 1}`;
}
