/**
 * The `runner` command as a person runs it: a real process, its output and its exit code.
 */
import { runCli as runCliProcess, type Ran } from '../cli-process.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, withFakeProxy } from '../helpers.ts';
import { ExitCode } from '../../runner/errors.ts';



/** Runs the CLI; `onStdout` may act on the output as it arrives (e.g. send a signal). Killed after `limitMs`. */
function runCli(args: string[], options: { cwd?: string; limitMs?: number; onStdout?: (text: string, pid: number) => void } = {}): Promise<Ran> {
  const { onStdout } = options;
  return runCliProcess(args, { cwd: options.cwd, limitMs: options.limitMs, onStdout: onStdout && ((text, child) => onStdout(text, child.pid!)) });
}

const cli = suite('cli');

cli('--help lists the commands and the exit codes', async () => {
  const { code, stdout } = await runCli(['--help']);
  assert.is(code, 0);
  assert.match(stdout, 'run [options] [scenario]');
  assert.match(stdout, 'fixture [options]');
  assert.match(stdout, /99 +a threshold failed/);
  const run = await runCli(['run', '--help']);
  for (const flag of ['--num-emails', '--concurrent', '--host', '--port', '--from', '--to', '--out', '--timeout', '--messages-per-connection', '--no-auth', '--batches', '--scale']) {
    assert.match(run.stdout, flag);
  }
});

cli('bad flags: one clear line and exit 2, no stack trace', async () => {
  for (const args of [['run', '--concurrent', 'abc'], ['run', '--port', '70000'], ['run', '--bogus'], ['run', '--num-emails', '-5']]) {
    const { code, stderr } = await runCli(args);
    assert.is(code, ExitCode.usage, `${args.join(' ')} → ${code}: ${stderr}`);
    assert.match(stderr, /error: /);
    assert.not.match(stderr, /\n\s+at /);
  }
});

cli('a scenario file with a syntax error: file:line:col, the line, exit 107', async () => {
  const { code, stderr } = await runCli(['run', 'test/scenario/data/syntax-error.ts', '--no-check']);
  assert.is(code, ExitCode.scriptError);
  assert.match(stderr, /syntax-error\.ts:\d+:\d+: /);
  assert.match(stderr, /\^/);
});

cli('a scenario file that does not exist: exit 104 and the shipped ones listed', async () => {
  const { code, stderr } = await runCli(['run', 'scenarios/nope.ts']);
  assert.is(code, ExitCode.invalidOptions);
  assert.match(stderr, 'nope.ts');
  assert.match(stderr, 'baseline.ts');
});

cli('connection refused: the guide\'s message, a hint, exit 110', async () => {
  const { code, stderr } = await runCli(['run', '--port', '1', '--no-out']);
  assert.is(code, ExitCode.targetUnreachable);
  assert.match(stderr, 'error: Connection refused to 127.0.0.1:1 — is the proxy running?');
  assert.match(stderr, /hint: .*\/health/);
});

cli('run --with-fixture: the fake proxy in its own process; results file written; fixture count printed', async () => {
  const temp = createTempDir();
  try {
    const { code, stdout } = await runCli(['run', '--with-fixture', '--num-emails', '40', '--concurrent', '4'], { cwd: temp.dir });
    assert.is(code, 0);
    assert.match(stdout, 'SMTP Load Test Starting');
    assert.match(stdout, 'Successful: 40');
    assert.match(stdout, 'Fake proxy received: 40 messages');
    // The verdict is the last line, after the results file and the fixture's count
    assert.is(stdout.trimEnd().split('\n').at(-1), '✓ PASSED: no thresholds set (40 of 40 messages accepted) — exit 0');
    const saved = /Results saved to: (.*load_test_results_\d+\.json)/.exec(stdout);
    assert.ok(saved, 'no results line');
    assert.ok(existsSync(saved![1]!));
    const results = JSON.parse(readFileSync(saved![1]!, 'utf8'));
    assert.is(results.results.successful, 40);
  } finally {
    temp.remove();
  }
});

cli('a crossed threshold: the last line says FAILED, which threshold, by how much, why, and the exit code', async () => {
  const temp = createTempDir();
  try {
    const scenario = join(temp.dir, 'gate.yaml');
    writeFileSync(scenario, 'thresholds:\n  smtp_txn_failed: ["rate<0.01"]\n  smtp_txn_duration: ["p(95)<10s"]\nscenarios:\n  gate: { executor: shared-iterations, vus: 2, iterations: 20 }\n');
    const { code, stdout } = await runCli(['run', scenario, '--with-fixture', '--fixture-failure', 'message=451:1', '--no-out'], { cwd: temp.dir });
    assert.is(code, ExitCode.thresholdsFailed);
    assert.is(stdout.trimEnd().split('\n').at(-1), '✗ FAILED: 1 of 2 thresholds crossed — smtp_txn_failed rate 100% > 1% (20 × 451 4.3.0 at message) — exit 99');
    assert.match(stdout, '✗ smtp_txn_failed  rate<0.01  actual 100%');
  } finally {
    temp.remove();
  }
});

cli('--messages-per-connection 4: RSET between messages by default, none with --no-rset (same messages, same connections)', async () => {
  const temp = createTempDir();
  try {
    const phasesOf = async (extra: string[]) => {
      const out = join(temp.dir, `${extra.length}.json`);
      const { code } = await runCli(['run', '--with-fixture', '--num-emails', '12', '--concurrent', '1', '--messages-per-connection', '4', '--out', out, ...extra], { cwd: temp.dir });
      assert.is(code, 0);
      const results = JSON.parse(readFileSync(out, 'utf8'));
      assert.is(results.results.successful, 12);
      return results.results.phases as Record<string, { count: number }>;
    };
    const withRset = await phasesOf([]);
    // 3 connections of 4 messages: 3 RSETs each
    assert.is(withRset['connect']!.count, 3);
    assert.is(withRset['rset']!.count, 9);
    const withoutRset = await phasesOf(['--no-rset']);
    assert.is(withoutRset['connect']!.count, 3);
    assert.is(withoutRset['rset'], undefined);
    assert.is(withoutRset['mail']!.count, 12);
  } finally {
    temp.remove();
  }
});

cli('SIGINT mid-run: stops, reports what it measured, results marked interrupted, exit 105', async () => {
  const temp = createTempDir();
  try {
    await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
      const out = join(temp.dir, 'partial.json');
      let signalled = false;
      const ran = await runCli(
        ['run', '--port', String(proxy.port), '--to', 'load@example.com', '--num-emails', '100000', '--concurrent', '5', '--out', out, '--progress-interval', '0.5'],
        {
          onStdout: (text, pid) => {
            // Interrupt once progress shows messages flowing.
            if (!signalled && /Success: [1-9]/.test(text)) {
              signalled = true;
              process.kill(pid, 'SIGINT');
            }
          },
        },
      );
      assert.ok(signalled, 'never saw progress');
      assert.is(ran.code, ExitCode.interrupted, ran.stderr);
      assert.match(ran.stdout, 'LOAD TEST RESULTS');
      assert.match(ran.stdout, 'Run interrupted');
      const results = JSON.parse(readFileSync(out, 'utf8'));
      assert.is(results.status, 'interrupted');
      assert.ok(results.results.successful > 0);
      assert.ok(results.results.successful < 100000);
      assert.is(results.results.successful, proxy.stats.messagesAccepted);
    });
  } finally {
    temp.remove();
  }
});

cli.run();
