/**
 * The output pipeline (outputs/index.ts) and the exit code table (run.ts exitCodeOf): every
 * output attempted whatever the others do, each failure named with its path; outputs that would
 * overwrite each other or an input refused. And script-deadline.ts: scenario code's promises get
 * a deadline. Issue 19 items 2, 3, 17, 18.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutputPaths, finishOutputs, formatOutputFailure } from '../../runner/outputs/index.ts';
import type { RunOutput } from '../../runner/outputs/output.ts';
import { ExitCode, OutputError, UsageError } from '../../runner/errors.ts';
import { exitCodeOf } from '../../runner/run.ts';
import { settleWithin } from '../../runner/engine/script-deadline.ts';
import { createTempDir } from '../helpers.ts';

const pipeline = suite('outputs: every output is attempted, each failure reported');

pipeline('a failing output does not stop the ones after it; failures come back in order with their reasons', async () => {
  const finished: string[] = [];
  const output = (name: string, error?: Error): RunOutput => ({
    description: name,
    path: `/out/${name}`,
    async finish() {
      if (error) throw error;
      finished.push(name);
    },
  });
  const outputs = [output('results file', new OutputError('cannot write /out/results file: ENOSPC: no space left on device', 'free disk space')), output('JUnit file'), output('NDJSON timeline', new Error('EPIPE')), output('HTML report')];
  const failures = await finishOutputs(outputs, {} as never, {} as never);
  assert.equal(finished, ['JUnit file', 'HTML report']);
  assert.equal(failures.map((f) => f.output.description), ['results file', 'NDJSON timeline']);
  assert.is(formatOutputFailure(failures[0]!), 'error: results file: cannot write /out/results file: ENOSPC: no space left on device\nhint: free disk space\n');
  assert.is(formatOutputFailure(failures[1]!), 'error: NDJSON timeline /out/NDJSON timeline: EPIPE\n');
});

pipeline('exit codes: 105, 108, 101, 111, 99, then handleSummary\'s, in that order', () => {
  const failure = [{ output: { description: 'x' }, error: new Error('x') }];
  const failedThreshold = [{ ok: false }] as never[];
  const table: Array<[Parameters<typeof exitCodeOf>, number]> = [
    [[{ stopReason: 'interrupt' }, failedThreshold, failure], ExitCode.interrupted],
    [[{ stopReason: 'threshold' }, failedThreshold, failure], ExitCode.abortedByThreshold],
    [[{ stopReason: undefined, teardownTimedOut: 'hung' }, failedThreshold, failure], ExitCode.teardownTimeout],
    [[{ stopReason: undefined }, failedThreshold, failure], ExitCode.outputError],
    [[{ stopReason: undefined }, failedThreshold, []], ExitCode.thresholdsFailed],
    [[{ stopReason: undefined }, [], [], new UsageError('x')], ExitCode.usage],
    [[{ stopReason: undefined }, [], []], ExitCode.ok],
  ];
  for (const [args, expected] of table) assert.is(exitCodeOf(...args), expected, JSON.stringify(args[0]));
});

pipeline('two outputs on one path, or an output on an input, are refused; devices may take several', () => {
  const temp = createTempDir();
  try {
    const scenario = join(temp.dir, 'scenario.yaml');
    writeFileSync(scenario, 'scenarios: {}\n');
    const at = (description: string, path: string): RunOutput => ({ description, path });
    assert.throws(() => checkOutputPaths([at('results file', scenario)], [{ path: scenario, what: 'scenario file' }]), (e: unknown) => e instanceof UsageError && /is the scenario file/.test((e as Error).message));
    assert.throws(() => checkOutputPaths([at('JUnit file', join(temp.dir, 'a')), at('HTML report', join(temp.dir, '.', 'a'))], []), /JUnit file and HTML report are both/);
    checkOutputPaths([at('JUnit file', '/dev/null'), at('HTML report', '/dev/null'), at('metrics endpoint', undefined as never)], [{ path: scenario, what: 'scenario file' }]);
  } finally {
    temp.remove();
  }
});

pipeline.run();

const deadline = suite('script-deadline: scenario code\'s promises get a deadline');

deadline('a value, a throw, and a promise that never settles', async () => {
  assert.equal(await settleWithin(() => 7, 1000), { isTimedOut: false, value: 7 });
  assert.equal(await settleWithin(async () => 'ok', 1000), { isTimedOut: false, value: 'ok' });
  try {
    await settleWithin(() => Promise.reject(new Error('boom')), 1000);
    assert.unreachable();
  } catch (error) {
    assert.is((error as Error).message, 'boom');
  }
  // Never settles: the (tiny) deadline decides, whatever the machine's speed.
  assert.equal(await settleWithin(() => new Promise(() => {}), 1), { isTimedOut: true });
});

deadline.run();
