/**
 * compare, report and merge as a person runs them: real results files from runs against fake
 * proxies with a 120 ms and a 5 ms delay, the built CLI in its own process (`node build.mjs` first),
 * its output and its exit codes. The gap is wide next to what a busy machine adds to the fast
 * run's latencies (stalls of tens of ms), so the significance verdicts are about the delays.
 */
import { runCli as runCliProcess, type Ran } from '../cli-process.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../runner/errors.ts';
import { validateSummary } from '../../runner/results/read.ts';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';



/** Runs the built CLI without colour; killed after 30 s. */
function runCli(args: string[]): Promise<Ran> {
  return runCliProcess(args, { limitMs: 30_000 });
}

const temp = createTempDir();
const slow = join(temp.dir, 'slow-120ms.json');
const fast = join(temp.dir, 'fast-5ms.json');

const cli = suite('analysis commands: compare, report, merge through the CLI');

cli.before(async () => {
  // 8 VUs at 120 ms: the same 3 s and throughput as 4 at 60 ms, twice the gap in latency
  await withFakeProxy({ delays: { message: 120 } }, (proxy) => runAgainst(proxy, { numEmails: 200, concurrent: 8, out: [slow] }));
  await withFakeProxy({ delays: { message: 5 } }, (proxy) => runAgainst(proxy, { numEmails: 200, concurrent: 4, out: [fast] }));
});

cli.after(() => temp.remove());

cli('compare 120 ms → 5 ms: latency improved and significant; --fail-on-regression passes (exit 0)', async () => {
  const { code, stdout, stderr } = await runCli(['compare', slow, fast, '--fail-on-regression', '10%']);
  assert.is(code, ExitCode.ok, stderr);
  assert.match(stdout, /^Before: .*slow-120ms\.json \(/);
  // The ratio is the machine's (≥ 10× when the fast run is not slowed): any number of digits
  assert.match(stdout, /\n\d+\.\d\d× throughput, p95 −\d+%/);
  assert.match(stdout, /\nlatency p95 +\d+\.\d\dms +\d+\.\d\dms +−\d+\.\d\dms \(−\d\d%\) +(<0\.001|0\.0[0-4]\d) +improved\n/);
  assert.match(stdout, /\nmessage p50 .* +<0\.001 +improved\n/);
  assert.match(stdout, 'no regression beyond 10%');
  assert.not.match(stdout, '\u001b[');
});

cli('compare 5 ms → 120 ms with --fail-on-regression 10%: exit 99 and the regression named', async () => {
  const { code, stdout } = await runCli(['compare', fast, slow, '--fail-on-regression', '10%']);
  assert.is(code, ExitCode.thresholdsFailed);
  assert.match(stdout, /\nlatency p95 .* regressed\n/);
  assert.match(stdout, /regression: latency p95 \+\d+% \(significant; limit \+10%\)/);
  const json = await runCli(['compare', fast, slow, '--fail-on-regression', '10', '--json']);
  assert.is(json.code, ExitCode.thresholdsFailed);
  const result = JSON.parse(json.stdout);
  assert.is(result.regression.failed, true);
  assert.is(result.regression.maxFraction, 0.1);
  assert.ok(result.rows.find((r: { key: string }) => r.key === 'latency.p95').significant);
});

cli('compare a run with itself: no significant change anywhere', async () => {
  const { code, stdout } = await runCli(['compare', slow, slow, '--fail-on-regression', '1%']);
  assert.is(code, ExitCode.ok);
  assert.not.match(stdout, /improved|regressed/);
  assert.match(stdout, /\nlatency p95 .* no significant change\n/);
});

cli('bad input: one error line with a hint and exit 104; bad flags: exit 2', async () => {
  const broken = join(temp.dir, 'broken.json');
  writeFileSync(broken, '{"results": [');
  const bad = await runCli(['compare', broken, slow]);
  assert.is(bad.code, ExitCode.invalidOptions);
  assert.match(bad.stderr, /^error: .*broken\.json is not JSON/);
  assert.match(bad.stderr, /\nhint: /);
  assert.not.match(bad.stderr, /\n\s+at /);
  const missing = await runCli(['compare', join(temp.dir, 'nope.json'), slow]);
  assert.is(missing.code, ExitCode.invalidOptions);
  assert.match(missing.stderr, 'no such file');
  for (const args of [['compare', slow], ['compare', slow, fast, '--fail-on-regression', 'lots'], ['merge', slow, fast]]) {
    const { code, stderr } = await runCli(args);
    assert.is(code, ExitCode.usage, `${args.join(' ')}: ${stderr}`);
  }
});

cli('report over both runs, and merge them into one schema-valid file', async () => {
  const report = await runCli(['report', slow, fast]);
  assert.is(report.code, ExitCode.ok, report.stderr);
  assert.match(report.stdout, /^Runs: 2\n/);
  assert.match(report.stdout, /\nmean +200 +100\.0%/);
  assert.match(report.stdout, /\nCV +/);
  const total = join(temp.dir, 'total.json');
  const merge = await runCli(['merge', slow, fast, '-o', total]);
  assert.is(merge.code, ExitCode.ok, merge.stderr);
  assert.match(merge.stdout, 'Merged 2 results files');
  // The runs were one after the other, not side by side: said, not refused.
  assert.match(merge.stderr, /(^|\n)warning: .*fast-5ms\.json started after the earlier runs had ended/);
  const merged = JSON.parse(readFileSync(total, 'utf8'));
  assert.equal(validateSummary(merged), []);
  assert.is(merged.results.total_requests, 400);
});

cli('--help lists the analysis commands', async () => {
  const { code, stdout } = await runCli(['--help']);
  assert.is(code, 0);
  for (const command of ['compare [options] <before> <after>', 'report [options] <files...>', 'merge [options] <files...>']) assert.match(stdout, command);
  const help = await runCli(['compare', '--help']);
  assert.match(help.stdout, '--fail-on-regression <percent>');
  assert.match(help.stdout, /99 +a threshold failed \(run\), or a regression beyond --fail-on-regression \(compare\)/);
});

cli.run();
