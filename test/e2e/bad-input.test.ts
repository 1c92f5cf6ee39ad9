/**
 * Every way a user can get `runner` wrong, through the real CLI: one `error:` line, a `hint:`
 * saying what to do instead, the documented exit code, never a stack trace, and no load sent.
 *
 * Decided here: `--from` replaces the scenario's accounts file (options.ts), so a `--from` that
 * is not in that file is not an error in itself; the preflight asks the proxy, which is the one
 * that knows its accounts, and a sender it does not have stops the run before any load (110).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';
import { runCli, type Ran } from '../cli-process.ts';

const temp = createTempDir();
const TMP = temp.dir;
const files: Record<string, string> = {
  'no-default.ts': 'export const options = { scenarios: { main: { executor: "shared-iterations" } } };\n',
  'function.ts': 'export default function () {}\n',
  'other-object.ts': 'export default { target: { host: "127.0.0.1" } };\n',
  'broken.json': '{ "scenarios": \n',
  'accounts-not-json.json': 'sales@company.com, support@company.com\n',
  'accounts-shape.json': '{ "email": "sales@company.com" }\n',
  'accounts-unknown.json': '[{ "email": "nobody@nowhere.test" }]\n',
  'accounts-no-email.json': '[{ "email": "sales@company.com" }, { "provider": "gmail" }]\n',
  'threshold-metric.yaml': 'scenarios:\n  main: { executor: shared-iterations }\nthresholds:\n  smtp_mesage_duration: ["p(95)<500"]\n',
  'threshold-syntax.yaml': 'scenarios:\n  main: { executor: shared-iterations }\nthresholds:\n  smtp_message_duration: ["p95 < 500"]\n',
  'a-file': 'not a folder\n',
};
for (const name of ['accounts-not-json', 'accounts-shape', 'accounts-missing', 'accounts-no-email', 'accounts-unknown']) {
  files[`${name}.yaml`] = `accounts: { file: ${name}.json }\nscenarios:\n  main: { executor: shared-iterations, iterations: 5 }\n`;
}
for (const [name, text] of Object.entries(files)) writeFileSync(join(TMP, name), text);
mkdirSync(join(TMP, 'a-folder'));
const at = (name: string) => join(TMP, name);

interface Case {
  /** What the user got wrong. */
  name: string;
  args: string[];
  exit: number;
  /** What the error line (or the lines under it) must say. */
  stderr: RegExp;
}

/** Without --no-check a run that passed the input checks would try port 1 and exit 110, so 2/104/107/111 prove the input was refused first. */
const NOWHERE = ['--port', '1', '--no-out'];

const CASES: Case[] = [
  // Wrong command-line usage: 2
  { name: 'an unknown flag', args: ['run', '--bogus'], exit: ExitCode.usage, stderr: /unknown option '--bogus'/ },
  { name: 'a misspelt flag: the close one is suggested', args: ['run', '--concurent', '5'], exit: ExitCode.usage, stderr: /Did you mean --concurrent\?/ },
  { name: 'an unknown command', args: ['sned'], exit: ExitCode.usage, stderr: /unknown command 'sned'/ },
  { name: 'a negative count', args: ['run', '--concurrent', '-3'], exit: ExitCode.usage, stderr: /--concurrent must be ≥ 1, got -3/ },
  { name: 'a count that is not a number', args: ['run', '--num-emails', 'lots'], exit: ExitCode.usage, stderr: /--num-emails must be a whole number, got 'lots'/ },
  { name: 'a fractional count', args: ['run', '--num-emails', '1.5'], exit: ExitCode.usage, stderr: /whole number, got '1\.5'/ },
  { name: 'a flag without its value', args: ['run', '--num-emails'], exit: ExitCode.usage, stderr: /'--num-emails <n>' argument missing/ },
  { name: 'a zero rate', args: ['run', '--rate', '0'], exit: ExitCode.usage, stderr: /--rate must be a number > 0, got '0'/ },
  { name: 'a warm-up that is neither a duration nor a count', args: ['run', '--warmup', 'banana', ...NOWHERE], exit: ExitCode.usage, stderr: /--warmup .*must be a duration such as '30s' or a whole number of messages >= 0 \(got "banana"\)/ },
  { name: 'a negative warm-up', args: ['run', '--warmup', '-5', ...NOWHERE], exit: ExitCode.usage, stderr: /--warmup .*must be a duration such as '30s' or a whole number of messages >= 0 \(got "-5"\)/ },
  { name: 'a negative size', args: ['run', '--message-size', '-5'], exit: ExitCode.usage, stderr: /--message-size must be ≥ 0, got -5/ },
  { name: 'a port above 65535', args: ['run', '--port', '70000'], exit: ExitCode.usage, stderr: /port number 1-65535, got '70000'/ },
  { name: 'port 0 to connect to', args: ['run', '--port', '0'], exit: ExitCode.usage, stderr: /port number 1-65535, got '0'/ },
  { name: 'a negative port', args: ['run', '--port', '-1'], exit: ExitCode.usage, stderr: /port number 1-65535, got '-1'/ },
  { name: 'a port that is a name', args: ['check', '--port', 'smtp'], exit: ExitCode.usage, stderr: /port number 1-65535, got 'smtp'/ },
  { name: 'a listen port out of range', args: ['fixture', '--port', '65536'], exit: ExitCode.usage, stderr: /port number 0-65535 \(0: any free port\), got '65536'/ },
  { name: 'a duration without a unit that parses', args: ['run', '--duration', '10 minutes'], exit: ExitCode.usage, stderr: /'10 minutes' is not a duration/ },
  { name: '--env without =', args: ['run', '--env', 'FOO', ...NOWHERE], exit: ExitCode.usage, stderr: /--env 'FOO' is not KEY=VALUE/ },
  { name: '--tag without a key', args: ['run', '--tag', '=x', ...NOWHERE], exit: ExitCode.usage, stderr: /--tag '=x' is not KEY=VALUE/ },
  { name: 'an unknown output kind', args: ['run', '--out', 'xml=r.xml', '--port', '1'], exit: ExitCode.usage, stderr: /unknown output kind 'xml'/ },
  { name: 'an output kind without its file', args: ['run', '--out', 'ndjson=', '--port', '1'], exit: ExitCode.usage, stderr: /--out ndjson=: no target after '='/ },
  { name: 'a results file with --no-out', args: ['run', '--out', 'r.json', '--no-out', '--port', '1'], exit: ExitCode.usage, stderr: /--out r\.json and --no-out contradict each other/ },
  { name: '--metrics-host without --metrics-port', args: ['run', '--metrics-host', '0.0.0.0', ...NOWHERE], exit: ExitCode.usage, stderr: /--metrics-host needs --metrics-port/ },
  { name: '--dashboard on every interface without --dashboard-allow-remote', args: ['run', '--dashboard', '0.0.0.0:5665', ...NOWHERE], exit: ExitCode.usage, stderr: /error: --dashboard 0\.0\.0\.0:5665 is reachable from other machines.*\nhint: listen on 127\.0\.0\.1 \(the default\), or add --dashboard-allow-remote to mean it/ },
  { name: '--metrics-host on every interface without --metrics-allow-remote', args: ['run', '--metrics-port', '9464', '--metrics-host', '0.0.0.0', ...NOWHERE], exit: ExitCode.usage, stderr: /error: --metrics-host 0\.0\.0\.0 is reachable from other machines.*\nhint: listen on 127\.0\.0\.1 \(the default\), or add --metrics-allow-remote to mean it/ },
  { name: '--dashboard with a port beyond 65535', args: ['run', '--dashboard', '99999', ...NOWHERE], exit: ExitCode.usage, stderr: /--dashboard '99999' is not \[HOST:\]PORT: ports go from 0 to 65535/ },
  { name: '--dashboard and --metrics-port on one port', args: ['run', '--dashboard', '19464', '--metrics-port', '19464', ...NOWHERE], exit: ExitCode.usage, stderr: /error: --dashboard and --metrics-port both ask for port 19464\nhint: give each its own port, e\.g\. --metrics-port 19465/ },
  { name: '--out prometheus=PORT and --dashboard on one port', args: ['run', '--out', 'prometheus=19466', '--dashboard', '19466', '--port', '1'], exit: ExitCode.usage, stderr: /error: --dashboard and --out prometheus=19466 both ask for port 19466\nhint: give each its own port, e\.g\. --out prometheus=19467/ },
  { name: 'two scenario files', args: ['run', 'a.ts', 'b.ts'], exit: ExitCode.usage, stderr: /too many arguments for 'run'/ },

  // Invalid options: 104
  { name: 'a scenario file that does not exist: the shipped ones listed', args: ['run', 'scenarios/nope.ts'], exit: ExitCode.invalidOptions, stderr: /scenario file not found: .*nope\.ts\nhint: .*scenarios\/baseline\.ts/ },
  { name: 'a folder as the scenario file', args: ['run', at('a-folder')], exit: ExitCode.invalidOptions, stderr: /a-folder is not a file/ },
  { name: 'a scenario file of an unknown type', args: ['run', 'README.md'], exit: ExitCode.invalidOptions, stderr: /unsupported file type '\.md'/ },
  { name: 'a YAML typo: the right name suggested', args: ['run', 'test/scenario/data/typo.yaml'], exit: ExitCode.invalidOptions, stderr: /target\.hots: unknown option: did you mean 'host'\?/ },
  { name: 'a threshold on a misspelt metric', args: ['run', at('threshold-metric.yaml')], exit: ExitCode.invalidOptions, stderr: /unknown metric smtp_mesage_duration \(did you mean smtp_message_duration\?\)/ },
  { name: 'a threshold that does not parse', args: ['run', at('threshold-syntax.yaml')], exit: ExitCode.invalidOptions, stderr: /'p95 < 500' is not a threshold/ },
  { name: 'an accounts file that is not JSON', args: ['run', at('accounts-not-json.yaml')], exit: ExitCode.invalidOptions, stderr: /accounts-not-json\.json(:\d+:\d+)?: not valid JSON/ },
  { name: 'an accounts file of the wrong shape', args: ['run', at('accounts-shape.yaml')], exit: ExitCode.invalidOptions, stderr: /expected an array of accounts/ },
  { name: 'an accounts file that does not exist', args: ['run', at('accounts-missing.yaml')], exit: ExitCode.invalidOptions, stderr: /cannot read accounts file .*accounts-missing\.json: no such file/ },
  { name: 'an account without an email', args: ['run', at('accounts-no-email.yaml')], exit: ExitCode.invalidOptions, stderr: /account \[1\] has no "email"/ },
  { name: '--from that is not an address', args: ['run', '--from', 'sales', ...NOWHERE], exit: ExitCode.invalidOptions, stderr: /--from: 'sales' is not an email address/ },
  { name: '--to that is not an address', args: ['run', '--to', 'someone at example.com', ...NOWHERE], exit: ExitCode.invalidOptions, stderr: /--to: 'someone at example\.com' is not an email address/ },
  { name: 'a host with a space', args: ['run', '--host', 'smtp example.com', '--no-out'], exit: ExitCode.invalidOptions, stderr: /--host: 'smtp example\.com' is not a host name or IP/ },
  { name: 'a zero timeout', args: ['run', '--timeout', '0s', ...NOWHERE], exit: ExitCode.invalidOptions, stderr: /--timeout: must be > 0/ },
  { name: '--rate for a run without constant-arrival-rate: the hint is the flags\' help, not the schema', args: ['run', 'scenarios/baseline.ts', '--rate', '5', ...NOWHERE], exit: ExitCode.invalidOptions, stderr: /--rate: applies to constant-arrival-rate scenarios[^\n]*\nhint: [^\n]*--help(?![^\n]*schema)/ },
  { name: '--scenario naming none of the file', args: ['run', 'scenarios/baseline.ts', '--scenario', 'nope', ...NOWHERE], exit: ExitCode.invalidOptions, stderr: /no scenario named 'nope'/ },
  { name: '--watch-pid of no process', args: ['run', '--with-fixture', '--watch-pid', '999999999', '--no-out'], exit: ExitCode.invalidOptions, stderr: /--watch-pid 999999999: no such process/ },
  { name: 'a bad --fixture-delay: the fixture\'s own error, named as typed', args: ['run', '--with-fixture', '--fixture-delay', 'message', '--no-out'], exit: ExitCode.invalidOptions, stderr: /--with-fixture: .*--fixture-delay message: expected <phase>=<spec>/ },
  { name: 'compare: a results file that does not exist', args: ['compare', at('nope.json'), at('nope2.json')], exit: ExitCode.invalidOptions, stderr: /cannot read .*nope\.json: no such file/ },
  { name: 'report: a results file that is not JSON', args: ['report', at('accounts-not-json.json')], exit: ExitCode.invalidOptions, stderr: /is not JSON/ },
  // Devices have no size to check first: read with a bound (before: 17 s and 1.1 GB on /dev/urandom)
  { name: 'report: an endless device as the results file', args: ['report', '/dev/urandom'], exit: ExitCode.invalidOptions, stderr: /\/dev\/urandom is larger than 64 MiB/ },
  { name: 'compare: /dev/zero as results files', args: ['compare', '/dev/zero', '/dev/zero'], exit: ExitCode.invalidOptions, stderr: /\/dev\/zero is larger than 64 MiB/ },
  { name: 'merge: /dev/zero as a results file', args: ['merge', '-o', at('merged.json'), '/dev/zero', '/dev/zero'], exit: ExitCode.invalidOptions, stderr: /\/dev\/zero is larger than 64 MiB/ },
  { name: 'report-html: /dev/zero as the results file', args: ['report-html', '/dev/zero', '-o', at('r.html')], exit: ExitCode.invalidOptions, stderr: /\/dev\/zero is larger than 64 MiB/ },

  // The scenario script: 107
  { name: 'a .ts file without a default export', args: ['run', at('no-default.ts')], exit: ExitCode.scriptError, stderr: /has no default export[^\n]*\nhint: export default defineScenario/ },
  { name: 'a default export that is a function', args: ['run', at('function.ts')], exit: ExitCode.scriptError, stderr: /must be the scenario's options.*\(got a function\)/ },
  { name: 'a default export that is something else', args: ['run', at('other-object.ts')], exit: ExitCode.scriptError, stderr: /\(got an object without scenarios\)/ },
  { name: 'a YAML syntax error: file:line:col and the line', args: ['run', 'test/scenario/data/bad-syntax.yaml'], exit: ExitCode.scriptError, stderr: /bad-syntax\.yaml:4:1: .*\n +4 \| +vus: 2\n.*\^/ },
  { name: 'a JSON syntax error: file:line:col and a JSON hint', args: ['run', at('broken.json')], exit: ExitCode.scriptError, stderr: /broken\.json:1:\d+: [^]*hint: fix the JSON syntax/ },

  // The target: 110
  { name: 'a host that does not resolve', args: ['run', '--host', 'no-such-host.invalid', '--no-out'], exit: ExitCode.targetUnreachable, stderr: /Host no-such-host\.invalid does not resolve/ },
  { name: '--from not in the accounts file, nor in the proxy: stopped by the preflight', args: ['run', 'test/scenario/data/with-accounts.yaml', '--scenario', 'other', '--from', 'nobody@nowhere.test', '--with-fixture', '--no-out'], exit: ExitCode.targetUnreachable, stderr: /535 at AUTH for nobody@nowhere\.test: the account is not configured/ },
  { name: 'an accounts file with an account the proxy does not have', args: ['run', at('accounts-unknown.yaml'), '--with-fixture', '--no-out'], exit: ExitCode.targetUnreachable, stderr: /535 at AUTH for nobody@nowhere\.test/ },

  // Outputs: 111, before the preflight (which would fail on port 1 with 110)
  { name: '--out into a missing folder', args: ['run', '--out', at('missing/r.json'), '--port', '1'], exit: ExitCode.outputError, stderr: /folder .*missing does not exist\nhint: create it first/ },
  { name: '--out under a file', args: ['run', '--out', at('a-file/r.json'), '--port', '1'], exit: ExitCode.outputError, stderr: /a-file is not a folder/ },
  { name: '--out where files cannot be created (/proc; chmod does not stop root)', args: ['run', '--out', '/proc/r.json', '--port', '1'], exit: ExitCode.outputError, stderr: /cannot create files in \/proc/ },
  { name: '--out naming a folder', args: ['run', '--out', at('a-folder'), '--port', '1'], exit: ExitCode.outputError, stderr: /a-folder is a folder/ },
];

/** Runs every case up front, `parallel` at a time (each is a node process), so the suite takes seconds. */
function runAll(cases: Case[], parallel: number): Map<Case, Promise<Ran>> {
  let active = 0;
  const waiting: Array<() => void> = [];
  const inTurn = async (args: string[]): Promise<Ran> => {
    if (active >= parallel) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await runCli(args, { limitMs: 30_000 });
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
  return new Map(cases.map((c) => [c, inTurn(c.args)]));
}

const results = runAll(CASES, 4);
const table = suite('bad input: one error line, a hint, the documented exit code');

for (const c of CASES) {
  table(`${c.name} → ${c.exit}`, async () => {
    const ran = await results.get(c)!;
    const shown = `runner ${c.args.join(' ')}\n→ exit ${ran.code}\n${ran.stderr}`;
    assert.is(ran.code, c.exit, shown);
    assert.match(ran.stderr, c.stderr, shown);
    assert.is(ran.stderr.match(/^error: /gm)?.length ?? 0, 1, `one error line: ${shown}`);
    assert.match(ran.stderr, /^hint: \S/m, `a hint: ${shown}`);
    assert.not.match(ran.stderr, /^\s+at .*[(:]\d+/m, `a stack trace: ${shown}`);
    assert.not.match(ran.stdout, /LOAD TEST RESULTS/, `a run happened: ${shown}`);
  });
}

table.run();

const together = suite('bad input: flags that look contradictory but are not');

together('--no-out before or after --out ndjson=FILE: the timeline is written, no results file, no crash', async () => {
  for (const [i, order] of [['--no-out', '--out'], ['--out', '--no-out']].entries()) {
    const timeline = at(`timeline-${i}.ndjson`);
    const flags = order.flatMap((flag) => (flag === '--out' ? ['--out', `ndjson=${timeline}`] : ['--no-out']));
    const ran = await runCli(['run', '--with-fixture', '--num-emails', '3', '--quiet', ...flags], { cwd: TMP });
    assert.is(ran.code, ExitCode.ok, `${flags.join(' ')}: ${ran.stderr}`);
    assert.ok(readFileSync(timeline, 'utf8').endsWith('\n'));
    assert.equal(readdirSync(TMP).filter((name) => name.startsWith('load_test_results_')), []);
  }
});

together.after(() => temp.remove());
together.run();
