import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, RunnerError, ScriptError } from '../../runner/errors.ts';
import { loadScenarioFile } from '../../runner/scenario/load.ts';

const DATA = fileURLToPath(new URL('./data/', import.meta.url));
const data = (name: string) => join(DATA, name);

/** Loads and expects a ScriptError; returns it. */
async function loadError(path: string): Promise<RunnerError> {
  try {
    await loadScenarioFile(path);
  } catch (error) {
    assert.instance(error, RunnerError);
    return error as RunnerError;
  }
  throw new assert.Assertion({ message: `expected ${path} to fail loading`, operator: 'throws', expects: 'an error', actual: 'loaded' });
}

const Code = suite('load: TypeScript scenario files');

Code('bundles local .ts and JSON imports and resolves the runner import', async () => {
  const { options, file } = await loadScenarioFile(data('with-imports.ts'));
  assert.is(file, data('with-imports.ts'));
  assert.is(options.description, 'from settings.json');
  assert.equal(options.smtp?.to, ['rcpt1@example.com', 'rcpt2@example.com']);
  assert.equal(options.scenarios['main'], { executor: 'shared-iterations', vus: 3, iterations: 30 });
  assert.type(options.iteration, 'function');
});

Code("the 'runner' import is the running process's API (custom metrics share its registry)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-load-test-'));
  try {
    const file = join(dir, 'api.ts');
    writeFileSync(
      file,
      `import { defineScenario, Trend } from 'runner';\n` +
        `export default defineScenario({ scenarios: { a: { executor: 'shared-iterations' } }, description: String(Trend === (globalThis as any)[Symbol.for('runner.api')].Trend) });\n`,
    );
    const { options } = await loadScenarioFile(file);
    assert.is(options.description, 'true');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Code('each load evaluates the file afresh', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-load-test-'));
  try {
    const file = join(dir, 'changing.ts');
    for (const vus of [1, 2]) {
      writeFileSync(file, `export default { scenarios: { a: { executor: 'shared-iterations', vus: ${vus} } } };\n`);
      const { options } = await loadScenarioFile(file);
      assert.is((options.scenarios['a'] as { vus: number }).vus, vus);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Code('import.meta points at the scenario file, not the temp bundle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-load-test-'));
  try {
    writeFileSync(join(dir, 'recipients.txt'), 'a@example.com');
    writeFileSync(
      join(dir, 'reads-data.ts'),
      `import { readFileSync } from 'node:fs';\n` +
        `const to = readFileSync(new URL('./recipients.txt', import.meta.url), 'utf8');\n` +
        `export default { description: import.meta.dirname, smtp: { to }, scenarios: { a: { executor: 'shared-iterations' } } };\n`,
    );
    const { options } = await loadScenarioFile(join(dir, 'reads-data.ts'));
    assert.is(options.smtp?.to, 'a@example.com');
    assert.is(options.description, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Code('a bundled CommonJS module can require Node built-ins', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-load-test-'));
  try {
    writeFileSync(join(dir, 'helper.cjs'), `const path = require('node:path');\nmodule.exports = { name: path.basename('/a/b.txt') };\n`);
    writeFileSync(join(dir, 'uses-cjs.ts'), `import helper from './helper.cjs';\nexport default { description: helper.name, scenarios: {} };\n`);
    const { options } = await loadScenarioFile(join(dir, 'uses-cjs.ts'));
    assert.is(options.description, 'b.txt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Code('a syntax error is reported as file:line:col with the line and a caret', async () => {
  const error = await loadError(data('syntax-error.ts'));
  assert.instance(error, ScriptError);
  assert.is(error.exitCode, ExitCode.scriptError);
  const lines = error.message.split('\n');
  assert.match(lines[0]!, /syntax-error\.ts:5:43: Expected "\}" but found "vus"$/);
  assert.is(lines[1], "  5 |     main: { executor: 'shared-iterations' vus: 2 },");
  // The caret sits under column 43 of the source line.
  assert.is(lines[2]!.indexOf('^') - lines[2]!.indexOf('|') - 2, 42);
  assert.is(lines[1]!.slice(lines[2]!.indexOf('^'), lines[2]!.indexOf('^') + 3), 'vus');
});

Code('a module that throws at import is reported at its source line', async () => {
  const error = await loadError(data('throws.ts'));
  assert.instance(error, ScriptError);
  assert.match(error.message, /throws\.ts:5:9: Error: RATE env var is not a number/);
  assert.match(error.message, /5 \|   throw new Error/);
});

const exportCases: Array<{ name: string; file: string; message: RegExp }> = [
  { name: 'no default export (k6 habit: export const options)', file: 'no-default.ts', message: /has no default export \(it exports 'options'/ },
  { name: 'a default export that is not options', file: 'not-options.ts', message: /must be the scenario's options, an object with scenarios \(got a number\)/ },
];
for (const { name, file, message } of exportCases) {
  Code(name, async () => {
    const error = await loadError(data(file));
    assert.instance(error, ScriptError);
    assert.match(error.message, message);
    assert.is(error.hint, 'export default defineScenario({ scenarios: {...} })');
  });
}

const Data = suite('load: YAML and JSON scenario files');

Data('YAML and JSON give the same options', async () => {
  const yaml = await loadScenarioFile(data('minimal.yaml'));
  const json = await loadScenarioFile(data('minimal.json'));
  assert.equal(yaml.options, { scenarios: { main: { executor: 'constant-vus', vus: 2, duration: '30s' } } });
  assert.equal(json.options, yaml.options);
});

Data('a YAML syntax error is reported as file:line:col with the line', async () => {
  const error = await loadError(data('bad-syntax.yaml'));
  assert.instance(error, ScriptError);
  assert.match(error.message, /bad-syntax\.yaml:4:\d+: /);
  assert.match(error.message, /\n  4 \|    vus: 2\n/);
});

Data('a file that is not a mapping', async () => {
  const error = await loadError(data('accounts.json'));
  assert.match(error.message, /must hold the scenario's options as a mapping \(got a list\)/);
});

const Missing = suite('load: missing files');

Missing('a missing file names the path and lists the shipped scenarios', async () => {
  const error = await loadError('scenarios/no-such-scenario.ts');
  assert.is(error.code, 'E_NO_SCENARIO_FILE');
  assert.is(error.exitCode, ExitCode.invalidOptions);
  assert.match(error.message, /scenario file not found: scenarios\/no-such-scenario\.ts/);
  assert.match(error.hint ?? '', /scenarios\/baseline\.ts/);
});

Missing('a directory is not a scenario file', async () => {
  const error = await loadError(data('helpers'));
  assert.is(error.code, 'E_NO_SCENARIO_FILE');
  assert.match(error.message, /is not a file/);
});

Missing('an unsupported extension says which are supported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-load-test-'));
  try {
    const file = join(dir, 'scenario.txt');
    writeFileSync(file, 'scenarios: {}\n');
    const error = await loadError(file);
    assert.is(error.code, 'E_SCENARIO_TYPE');
    assert.match(error.hint ?? '', /\.ts .*\.yaml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Code.run();
Data.run();
Missing.run();
