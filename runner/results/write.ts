/**
 * Writing the results file: its exact text, atomically (temp file + rename), or synchronously
 * on a second Ctrl+C. Every writer of a results file (run, merge) goes through here.
 */
import { writeFileAtomic, writeFileAtomicSync } from '../outputs/atomic-write.ts';
import type { Summary } from './types.ts';

/** The results file's text: indented JSON, one trailing newline. */
export function resultsText(summary: Summary): string {
  return JSON.stringify(summary, null, 2) + '\n';
}

/** Writes a results file atomically (a reader never sees half a file). */
export async function writeResultsFile(path: string, summary: Summary): Promise<void> {
  await writeFileAtomic(path, resultsText(summary));
}

/** Writes a results file synchronously (the process is about to exit), still by rename. */
export function writeResultsFileNow(path: string, summary: Summary): void {
  writeFileAtomicSync(path, resultsText(summary));
}
