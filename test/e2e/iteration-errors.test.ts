/**
 * A scenario whose iteration() throws: the errors are counted (`iteration_errors`), grouped by
 * message and by the line of the scenario file that threw (through its source map), shown
 * without a stack through runner's own code (dist/cli.cjs), and a run in which no iteration
 * completed fails with exit 107 instead of passing with `Total requests: 0`.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../helpers.ts';
import { runCli } from '../cli-process.ts';
import { ExitCode } from '../../runner/errors.ts';

/** A scenario (TypeScript, so the source map matters) whose iteration throws on line 9, after `sendsFirst` messages. */
function throwingScenario(options: { sendsEvery?: number } = {}): string {
  return [
    `import { defineScenario } from 'runner';`,
    `type Ctx = { iteration: number; smtp: { send(): Promise<unknown> } };`,
    `export default defineScenario({`,
    `  thresholds: { smtp_txn_duration: ['p(95)<10s'] },`,
    `  scenarios: { broken: { executor: 'shared-iterations', vus: 2, iterations: 12 } },`,
    `  async iteration(ctx: Ctx) {`,
    options.sendsEvery ? `    if (ctx.iteration % ${options.sendsEvery} === 0) return void (await ctx.smtp.send());` : `    // sends nothing`,
    `    const settings: { retries?: { max: number } } = {};`,
    `    if (settings.retries!.max > 0) await ctx.smtp.send();`,
    `  },`,
    `});`,
    '',
  ].join('\n');
}

const errors = suite('iteration errors');

errors('every iteration throws: exit 107, iteration_errors counted and grouped at the scenario\'s own line, no runner stack frames', async () => {
  const temp = createTempDir();
  try {
    const file = join(temp.dir, 'broken.ts');
    writeFileSync(file, throwingScenario());
    const out = join(temp.dir, 'results.json');
    const ran = await runCli(['run', 'broken.ts', '--with-fixture', '--out', out], { cwd: temp.dir });
    const all = ran.stdout + ran.stderr;
    assert.is(ran.code, ExitCode.scriptError, all);
    // The first one is said where it happened, with the line
    assert.match(ran.stdout, /warning: scenario broken: iteration threw TypeError: Cannot read properties of undefined \(reading 'max'\) at broken\.ts:9:\d+/);
    assert.match(ran.stdout, '  9 |     if (settings.retries!.max > 0) await ctx.smtp.send();');
    // No stack through runner's code, built or from source
    assert.not.match(all, /dist[\\/]cli\.cjs/);
    assert.not.match(all, /\n\s+at /);
    const results = JSON.parse(readFileSync(out, 'utf8')).results;
    assert.is(results.iterations, 12);
    assert.is(results.script_errors, 12);
    assert.equal(results.iteration_errors, [{ message: "TypeError: Cannot read properties of undefined (reading 'max')", location: results.iteration_errors[0].location, count: 12 }]);
    assert.match(results.iteration_errors[0].location, /^broken\.ts:9:\d+$/);
    assert.match(ran.stdout, /Iteration errors: 12 iterations threw/);
    assert.match(ran.stdout, /^ +12  broken\.ts:9:\d+ +TypeError: Cannot read properties of undefined \(reading 'max'\)$/m);
    assert.match(ran.stdout.trimEnd().split('\n').at(-1)!, /^✗ FAILED: no iteration completed: all 12 threw — 12 × TypeError: .* \(broken\.ts:9:\d+\) — exit 107$/);
  } finally {
    temp.remove();
  }
});

errors('some iterations complete: the errors are counted and a threshold can gate on them; the run is not failed for them alone', async () => {
  const temp = createTempDir();
  try {
    const file = join(temp.dir, 'flaky.ts');
    // Iterations 0, 3, 6, … of each VU send a message; the others throw
    writeFileSync(file, throwingScenario({ sendsEvery: 3 }).replace(`smtp_txn_duration: ['p(95)<10s']`, `iteration_errors: ['count<1']`));
    const out = join(temp.dir, 'results.json');
    const ran = await runCli(['run', 'flaky.ts', '--with-fixture', '--out', out], { cwd: temp.dir });
    const results = JSON.parse(readFileSync(out, 'utf8')).results;
    assert.ok(results.successful > 0 && results.script_errors > 0, JSON.stringify(results));
    assert.is(results.successful + results.script_errors, 12);
    assert.is(ran.code, ExitCode.thresholdsFailed, ran.stdout + ran.stderr);
    assert.match(ran.stdout, new RegExp(`✗ iteration_errors  count<1  actual ${results.script_errors}`));
    assert.match(ran.stdout, new RegExp(`Fake proxy received: ${results.successful} messages`));
  } finally {
    temp.remove();
  }
});

errors.run();
