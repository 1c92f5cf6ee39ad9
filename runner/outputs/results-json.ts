/**
 * The results file: the summary as JSON (load_test_results_<unix>.json by default, like the
 * old tool), written atomically, checked for writability before the run.
 */
import { assertWritable } from './atomic-write.ts';
import { resultsText, writeResultsFile, writeResultsFileNow } from '../results/write.ts';
import type { RunOutput } from './output.ts';

/** Creates the results-file output for an absolute `path`. */
export function createResultsJsonOutput(path: string): RunOutput {
  return {
    description: 'results file',
    path,
    isResultsFile: true,
    prepare: () => assertWritable(path, 'results file'),
    finish: (summary) => writeResultsFile(path, summary),
    finishNow: (summary) => writeResultsFileNow(path, summary),
    textNow: resultsText,
  };
}
