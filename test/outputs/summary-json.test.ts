/**
 * Custom summaries: `--summary-json FILE` (the results file without timeline and histograms)
 * and a scenario's `handleSummary` with k6's semantics — it replaces the console summary, its
 * keys are 'stdout', 'stderr' or file paths, and when it breaks the error is shown, the default
 * summary printed, the results file kept and the run exits 107.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { compactSummary } from '../../runner/outputs/summary-json.ts';
import { runCommand, type RunCommandOptions } from '../../runner/run.ts';
import { ExitCode } from '../../runner/errors.ts';
import type { FakeProxy } from '../../fixtures/fake-proxy.ts';
import { createTempDir, createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';

const Ajv = AjvModule.default ?? AjvModule;

/** The results schema with timeline and histograms optional: what a summary file must satisfy. */
function compileSummarySchema() {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/results.schema.json', import.meta.url), 'utf8'));
  schema.required = (schema.required as string[]).filter((key) => key !== 'timeline' && key !== 'histograms');
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

const file = suite('summary-json: the file');

file('--summary-json writes the summary without timeline and histograms; it validates against the results schema', async () => {
  const temp = createTempDir();
  try {
    const path = join(temp.dir, 'summary.json');
    await withFakeProxy({}, async (proxy) => {
      const { summary, exitCode } = await runAgainst(proxy, { numEmails: 40, concurrent: 4, summaryJson: path });
      assert.is(exitCode, ExitCode.ok);
      const written = JSON.parse(readFileSync(path, 'utf8'));
      assert.not.ok('timeline' in written);
      assert.not.ok('histograms' in written);
      assert.equal(written, JSON.parse(JSON.stringify(compactSummary(summary))));
      assert.is(written.results.successful, proxy.stats.messagesAccepted);
      const validate = compileSummarySchema();
      assert.ok(validate(written), JSON.stringify(validate.errors));
    });
  } finally {
    temp.remove();
  }
});

file('--summary-json is written with --no-out too (it is not the results file)', async () => {
  const temp = createTempDir();
  try {
    const path = join(temp.dir, 'summary.json');
    await withFakeProxy({}, async (proxy) => {
      await runAgainst(proxy, { numEmails: 5, concurrent: 1, out: false, summaryJson: path });
      assert.ok(existsSync(path));
    });
  } finally {
    temp.remove();
  }
});

file.run();

// ---------------------------------------------------------------------------------------------

/** A TypeScript scenario of 6 messages with `code` appended (handleSummary variants). */
function scenarioSource(code: string, options = ''): string {
  return `import { defineScenario } from 'runner';
export default defineScenario({
  ${options}
  scenarios: { quick: { executor: 'shared-iterations', vus: 2, iterations: 6 } },
  ${code}
});
`;
}

/** Runs `source` as a scenario file in `dir` against `proxy`, stdout and stderr kept apart. */
async function runScenario(proxy: FakeProxy, dir: string, source: string, extra: Partial<RunCommandOptions> = {}) {
  const scenarioFile = join(dir, 'scenario.ts');
  writeFileSync(scenarioFile, source);
  const stdout = createTextSink();
  const stderr = createTextSink();
  const outcome = await runCommand({
    scenarioFile,
    out: [join(dir, 'results.json')],
    progressIntervalMs: 60_000,
    quiet: true,
    cwd: dir,
    ...extra,
    overrides: { host: '127.0.0.1', port: proxy.port, adminUrl: `http://127.0.0.1:${proxy.adminPort}`, ...extra.overrides },
    stdout,
    stderr,
  });
  return { ...outcome, stdout: stdout.text(), stderr: stderr.text() };
}

const handle = suite('summary-json: handleSummary (k6 semantics)');

interface HandleCase {
  name: string;
  code: string;
  options?: string;
  before?: (dir: string) => void;
  exitCode: number;
  /** Whether the default LOAD TEST RESULTS block is printed. */
  printsDefault: boolean;
  stdout?: RegExp;
  stderr?: RegExp;
  /** Files (relative to the run's folder) and what they must hold. */
  files?: Array<[string, RegExp]>;
}

const handleCases: HandleCase[] = [
  {
    name: "'stdout' and a file path: the console shows only what it returned",
    code: `handleSummary: (summary) => ({ stdout: 'accepted=' + summary.results.successful + '\\n', 'out/summary.txt': 'p95=' + summary.results.latency.p95_seconds }),`,
    before: (dir) => mkdirSync(join(dir, 'out')),
    exitCode: ExitCode.ok,
    printsDefault: false,
    stdout: /^accepted=6\n$/,
    files: [['out/summary.txt', /^p95=0\.\d+$/]],
  },
  {
    name: 'the named export of a k6 script works too, and helpers.textSummary() gives the default text',
    code: '',
    options: '',
    exitCode: ExitCode.ok,
    printsDefault: true,
    stdout: /LOAD TEST RESULTS[\s\S]*custom tail\n$/,
    files: [['bytes.bin', /^\u0001\u0002$/]],
  },
  {
    name: "'stderr' and {}: nothing on stdout",
    code: `handleSummary: () => ({ stderr: 'to stderr\\n' }),`,
    exitCode: ExitCode.ok,
    printsDefault: false,
    stdout: /^$/,
    stderr: /to stderr/,
  },
  {
    name: 'it throws: the error with its location, the default summary, exit 107',
    code: `handleSummary: () => { throw new Error('boom'); },`,
    exitCode: ExitCode.scriptError,
    printsDefault: true,
    stderr: /error: handleSummary\(\) threw: Error: boom \(at .*scenario\.ts:\d+:\d+\)[\s\S]*hint: fix handleSummary/,
  },
  {
    name: 'it returns an object value: reported, nothing written, default summary, exit 107',
    code: `handleSummary: (summary) => ({ 'x.json': summary, stdout: 'never' }),`,
    exitCode: ExitCode.scriptError,
    printsDefault: true,
    stderr: /handleSummary\(\) returned object for 'x\.json': values must be strings \(JSON\.stringify objects\)/,
  },
  {
    name: 'it returns nothing: reported as a mistake, not a silent empty summary',
    code: `handleSummary: () => undefined as never,`,
    exitCode: ExitCode.scriptError,
    printsDefault: true,
    stderr: /handleSummary\(\) returned undefined: it must return an object/,
  },
  {
    name: 'an async handleSummary whose file cannot be written: the other keys still land, exit 111',
    code: `handleSummary: async () => ({ 'missing/x.txt': 'x', 'ok.txt': 'fine', stdout: 'custom\\n' }),`,
    exitCode: ExitCode.outputError,
    printsDefault: false,
    stdout: /^custom\n$/,
    stderr: /error: cannot write .*missing\/x\.txt/,
    files: [['ok.txt', /^fine$/]],
  },
  {
    name: 'thresholds failed and handleSummary threw: exit 99 is kept',
    code: `handleSummary: () => { throw new Error('boom'); },`,
    options: `thresholds: { smtp_txns: ['count>1000'] },`,
    exitCode: ExitCode.thresholdsFailed,
    printsDefault: true,
    stderr: /handleSummary\(\) threw/,
  },
];

for (const row of handleCases) {
  handle(row.name, async () => {
    const temp = createTempDir();
    try {
      row.before?.(temp.dir);
      const source = row.code === ''
        // k6 style: a named export next to the default one.
        ? `${scenarioSource('')}\nexport function handleSummary(summary: any, helpers: any) {\n  return { stdout: helpers.textSummary({ color: false }) + '\\ncustom tail\\n', 'bytes.bin': new Uint8Array([1, 2]) };\n}\n`
        : scenarioSource(row.code, row.options);
      await withFakeProxy({}, async (proxy) => {
        const { exitCode, stdout, stderr, summary } = await runScenario(proxy, temp.dir, source);
        assert.is(exitCode, row.exitCode, stderr);
        assert.is(/LOAD TEST RESULTS/.test(stdout), row.printsDefault, `default summary printed? stdout:\n${stdout}`);
        if (row.stdout) assert.match(stdout, row.stdout);
        if (row.stderr) assert.match(stderr, row.stderr);
        for (const [name, content] of row.files ?? []) assert.match(readFileSync(join(temp.dir, name), 'latin1'), content);
        // The results file is written before handleSummary runs, whatever it does.
        const results = JSON.parse(readFileSync(join(temp.dir, 'results.json'), 'utf8'));
        assert.is(results.results.successful, summary.results.successful);
        assert.is(proxy.stats.messagesAccepted, 6);
      });
    } finally {
      temp.remove();
    }
  });
}

handle.run();
