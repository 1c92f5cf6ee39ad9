/** `runner merge FILES… -o OUT` (commands/merge.ts declares its flags): read, merge, write, one line. */
import { ExitCode } from '../errors.ts';
import { formatLatency } from '../util/format.ts';
import { assertWritable, writeJsonAtomic } from '../outputs/atomic-write.ts';
import { readResultsFiles } from '../results/read.ts';
import { mergeResults } from './merge.ts';

/** What `runner merge` takes. */
export interface MergeCommandOptions {
  files: string[];
  /** The merged results file, written atomically. */
  out: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Merges the files, writes the result, prints one line (and warnings); returns the exit code. */
export async function runMergeCommand(command: MergeCommandOptions): Promise<number> {
  const stdout = command.stdout ?? process.stdout;
  const stderr = command.stderr ?? process.stderr;
  await assertWritable(command.out, 'merged results file');
  const { summary, warnings } = mergeResults(await readResultsFiles(command.files));
  await writeJsonAtomic(command.out, summary);
  for (const warning of warnings) stderr.write(`warning: ${warning}\n`);
  const r = summary.results;
  stdout.write(
    `Merged ${command.files.length} results files into ${command.out}: ${r.total_requests} requests, ` +
      `${(r.success_rate * 100).toFixed(1)}% successful, ${r.throughput_rps.toFixed(1)} req/s over ${r.total_time_seconds.toFixed(1)} s, ` +
      `p50 ${formatLatency(r.latency.p50_seconds)}, p95 ${formatLatency(r.latency.p95_seconds)}, p99 ${formatLatency(r.latency.p99_seconds)}\n`,
  );
  return ExitCode.ok;
}
