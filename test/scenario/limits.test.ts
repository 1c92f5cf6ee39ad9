/**
 * The bounded-input policy (runner/scenario/limits.ts): every size, count and duration a user
 * gives has a limit and a clear error, whether it comes from a scenario file, a flag or their
 * combination (--scale), and the README's "Limits" table says the same. Issue 19 items 7, 11, 19.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync, truncateSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { ExitCode, InvalidOptionsError, RunnerError } from '../../runner/errors.ts';
import { resolveOptions, type CliOverrides } from '../../runner/scenario/options.ts';
import { loadScenarioFile } from '../../runner/scenario/load.ts';
import { LIMITS, formatLimit, exceedsLimit } from '../../runner/scenario/limits.ts';
import { checkWarmup } from '../../runner/scenario/check-limits.ts';
import { duration, integer, warmup } from '../../runner/commands/flags.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';

const context = { baseDir: process.cwd(), env: {} };

/** The InvalidOptionsError problems of resolving `file` with `cli` (fails when it resolves). */
async function problemsOf(file: ScenarioFileOptions | undefined, cli: CliOverrides = {}): Promise<string[]> {
  try {
    await resolveOptions(file, cli, context);
  } catch (error) {
    assert.instance(error, InvalidOptionsError, String(error));
    assert.is((error as InvalidOptionsError).exitCode, ExitCode.invalidOptions);
    return (error as InvalidOptionsError).problems;
  }
  assert.unreachable('resolved without a problem');
  return [];
}

const oneScenario = (scenario: Record<string, unknown>, top: Record<string, unknown> = {}) =>
  ({ ...top, scenarios: { main: scenario } }) as unknown as ScenarioFileOptions;

const bounded = suite('limits: every size, count and duration from a scenario file is bounded, with the option named');

const fileCases: Array<[string, ScenarioFileOptions, RegExp]> = [
  ['vus: 1e9 (issue 19: grew to 3 GB in 25 s)', oneScenario({ executor: 'constant-vus', vus: 1e9, duration: '1s' }), /^scenarios\.main\.vus: must be at most 50,000 VUs \(got 1000000000\)/],
  ['maxVUs of an arrival-rate scenario', oneScenario({ executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 1, maxVUs: 60_000 }), /^scenarios\.main\.maxVUs: must be at most 50,000 VUs/],
  ['a ramping-vus stage target', oneScenario({ executor: 'ramping-vus', stages: [{ duration: '1s', target: 70_000 }] }), /^scenarios\.main\.stages\[0\]\.target: must be at most 50,000 VUs/],
  ['smtp.messageSize 99999999999 (issue 19: past 2 GB)', oneScenario({ executor: 'shared-iterations' }, { smtp: { messageSize: 99_999_999_999 } }), /^scenarios\.main\.smtp\.messageSize: must be at most 64 MiB/],
  ['per-vu-iterations: vus × iterations counts', oneScenario({ executor: 'per-vu-iterations', vus: 1000, iterations: 1e13 }), /^scenarios\.main\.iterations: must be at most 1,000,000,000,000,000 iterations/],
  ['a duration past a week (timers fire at once past 24.8 days)', oneScenario({ executor: 'constant-vus', vus: 1, duration: '1000h' }), /^scenarios\.main\.duration: must be at most 7 days/],
  ['gracefulStop past a week', oneScenario({ executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '200h' }), /^scenarios\.main\.gracefulStop: must be at most 7 days/],
  ['an arrival rate per second', oneScenario({ executor: 'constant-arrival-rate', rate: 5000, timeUnit: '1ms', duration: '1s', preAllocatedVUs: 1 }), /^scenarios\.main\.rate per second: must be at most 1,000,000 iterations\/s \(got 5000000\)/],
  ['a per-phase timeout', oneScenario({ executor: 'shared-iterations' }, { smtp: { timeouts: { data: '999h' } } }), /^scenarios\.main\.smtp\.timeouts\.data: must be at most 7 days/],
  ['a warm-up past a week', oneScenario({ executor: 'shared-iterations' }, { warmup: '200h' }), /^warmup: must be at most 7 days/],
];
for (const [name, file, expected] of fileCases) {
  bounded(name, async () => {
    const problems = await problemsOf(file);
    assert.ok(problems.some((p) => expected.test(p)), `expected ${expected} in:\n${problems.join('\n')}`);
  });
}

bounded('values at the limits resolve', async () => {
  await resolveOptions(oneScenario({ executor: 'constant-vus', vus: LIMITS.vus.max, duration: '168h' }, { smtp: { messageSize: LIMITS.messageSizeBytes.max } }), {}, context);
});

bounded('--scale past the duration limit is reported on the option it made too long', async () => {
  const problems = await problemsOf(oneScenario({ executor: 'constant-vus', vus: 1, duration: '1h' }), { scale: 1000 });
  assert.match(problems.join('\n'), /^scenarios\.main\.duration: must be at most 7 days \(got 3600000000\)/m);
});

bounded.run();

const flags = suite('limits: flags are bounded where they are parsed (usage error, exit 2) and where they are applied');

flags('--concurrent 1e9, --vus, --message-size 600000000 (issue 19: exit 1 "a bug in runner"), --duration 1000h: usage errors naming the flag and the limit', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => integer(1, '--concurrent', 'vus')('1000000000'), /^--concurrent must be at most 50,000 VUs \(got 1000000000\)/],
    [() => integer(0, '--message-size', 'messageSizeBytes')('600000000'), /^--message-size must be at most 64 MiB \(67,108,864 bytes\) \(got 600000000\)/],
    [() => integer(0, '--message-size', 'messageSizeBytes')('99999999999'), /^--message-size must be at most 64 MiB/],
    [() => duration('1000h'), /^the duration must be at most 7 days \(got '1000h'\)/],
    [() => warmup('-3'), /^must be a duration such as '30s' or a whole number of messages >= 0 \(got "-3"\)/],
    [() => warmup('200h'), /must be at most 7 days/],
  ];
  for (const [parse, expected] of cases) {
    assert.throws(parse, (error: unknown) => error instanceof InvalidArgumentError && expected.test((error as Error).message));
  }
  assert.is(integer(1, '--concurrent', 'vus')('50000'), 50_000);
  assert.is(warmup('30s'), '30s');
  assert.is(warmup('100'), '100');
});

flags('in-process callers (sweep steps, tests) get the same limits by flag name', async () => {
  const problems = await problemsOf(undefined, { vus: 1e9, messageSize: 600_000_000, warmup: '-3', duration: '1000h', timeoutMs: 1e12 });
  const text = problems.join('\n');
  assert.match(text, /^--vus: must be at most 50,000 VUs/m);
  assert.match(text, /^--message-size: must be at most 64 MiB/m);
  assert.match(text, /^--warmup: must be a duration such as '30s' or a whole number of messages >= 0 \(got "-3"\)/m);
  assert.match(text, /^--duration: must be at most 7 days/m);
  assert.match(text, /^--timeout: must be at most 7 days/m);
});

flags('checkWarmup: durations, counts, and what is neither', () => {
  const table: Array<[unknown, boolean]> = [[undefined, true], ['30s', true], [100, true], ['100', true], [0, true], [-3, false], ['-3', false], ['3x', false], [1.5, false], [{}, false]];
  for (const [value, isOk] of table) assert.is(checkWarmup(value, 'warmup') === undefined, isOk, JSON.stringify(value));
});

flags.run();

const files = suite('limits: the scenario file itself (size, YAML aliases)');

files('a scenario file over 4 MiB is refused before it is read (issue 19: 50 MB took 1.8 GB and a minute)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-limits-'));
  try {
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, 'scenarios: {}\n');
    // A sparse file: its size is what is checked, so nothing is written or read.
    truncateSync(file, LIMITS.scenarioFileBytes.max + 1);
    try {
      await loadScenarioFile(file);
      assert.unreachable('loaded');
    } catch (error) {
      assert.instance(error, RunnerError);
      assert.is((error as RunnerError).code, 'E_SCENARIO_TOO_LARGE');
      assert.is((error as RunnerError).exitCode, ExitCode.invalidOptions);
      assert.match((error as Error).message, /is 4,194,305 bytes: at most 4 MiB/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

files('a YAML alias bomb ("billion laughs") is a script error, not "a bug in runner"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-limits-'));
  try {
    const file = join(dir, 'bomb.yaml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    writeFileSync(file, levels.join('\n') + '\nscenarios: *h\n');
    try {
      await loadScenarioFile(file);
      assert.unreachable('loaded');
    } catch (error) {
      assert.instance(error, RunnerError);
      assert.is((error as RunnerError).exitCode, ExitCode.scriptError);
      assert.match((error as Error).message, /too many alias expansions/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

files.run();

const documented = suite('limits: the README table lists every limit with its value');

documented('each LIMITS row appears in the README "Limits" table with its formatted value', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = /^## Limits\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  assert.ok(section, 'README has a "## Limits" section');
  for (const name of Object.keys(LIMITS) as Array<keyof typeof LIMITS>) {
    assert.ok(section!.includes(`| ${formatLimit(name)} |`), `README Limits table lacks ${name}: | ${formatLimit(name)} |`);
  }
  assert.is(exceedsLimit('vus', Number.NaN) !== undefined, true, 'NaN is over every limit');
});

documented.run();
