// test-tier: real-time
/**
 * Every `runner` command line of the README's ```bash and ```sh blocks, run as pasted against the
 * fake proxy, each with its documented exit code (0: the README documents no other for them).
 *
 * What changes from the pasted line, and only that:
 * - the target: `--host`/`--port` become the address of a fake proxy (`runner fixture`) started by
 *   this test; a `run`/`sweep` with no target gets `--with-fixture` (the built-in fake proxy);
 * - the size, where the example as written lasts minutes: `CAPS` below appends `--scale`, a small
 *   `--num-emails` or a short `--duration`, each with its reason, so each example ends within a few seconds;
 * - the REST API's address (6565, k6's) becomes a free port, so parallel tests do not collide.
 * An example that cannot run here is in `NOT_RUNNABLE` with the reason. A new README example that is
 * in neither list fails this test, as does an entry that no longer matches a README line.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createTempDir } from '../helpers.ts';
import { ROOT, runCli, startCli, startFixtureProcess, type FixtureProcess } from '../cli-process.ts';

/** Every command line of the README's shell blocks: continuations joined, comments dropped. */
export function readmeCommandLines(readme: string): string[] {
  const lines: string[] = [];
  for (const block of readme.matchAll(/^```(?:bash|sh)\n([\s\S]*?)^```/gm)) {
    const joined = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.replace(/(^|\s+)#.*$/, '').trim();
      if (/^(npx runner|runner|node bin\/runner\.js)(\s|$)/.test(line)) lines.push(line.replace(/\s+/g, ' '));
    }
  }
  return lines;
}

/** Examples that cannot run on 127.0.0.1 within seconds, and why. */
const NOT_RUNNABLE: Record<string, string> = {
  'npx runner fixture --port 2525 --admin-port 9090 --accounts fixtures/accounts.json --delay message=lognormal:20,0.5 --failure message=451:0.01':
    'a server that runs until stopped (the fake proxy itself: test/e2e/fixture-*.test.ts start it)',
  'npx runner sink --port 2587 --admin-port 9190 --token-port 8443 --accounts fixtures/accounts.json --failure message=454:0.1 --seed 1':
    'a server that runs until stopped (the sink: its own tests start it)',
  'npx runner fixture --port 2525 --admin-port 9090 --relay-to 127.0.0.1:2587 --relay-tls starttls --relay-ca /tmp/runner-tls-XXXX/cert.pem --relay-token-url https://127.0.0.1:8443/token':
    'a server that runs until stopped, relaying to a sink started before it (XXXX: a path the sink prints)',
  'runner agent --listen 0.0.0.0:6565 --token-file token': 'a server that runs until stopped, on another machine (the agents tests start it on 127.0.0.1)',
  'runner run scenario.ts --agents 10.0.0.5:6565,10.0.0.6:6565 --token-file token': 'needs agents on other machines (10.0.0.5, 10.0.0.6) and a scenario.ts of your own',
  'npx runner run morning-peak.ts --with-fixture --fixture-failure message=451:0.05':
    'run as pasted by test/e2e/message-builder.test.ts ("A morning peak, in full"), which first writes the README\'s senders.csv and morning-peak.ts beside it',
};

/** Extra flags that keep an example to seconds, and why each is needed. */
const CAPS: Record<string, { args: string[]; why: string }> = {
  'npx runner run --num-emails 1000 --concurrent 50 --from sales@company.com --to load@example.com': { args: ['--num-emails', '100'], why: '1000 messages: ~10 s on a loaded machine' },
  'npx runner run --num-emails 1000 --concurrent 50 --host 192.168.1.100 --port 2525 --to load@example.com': { args: ['--num-emails', '100'], why: '1000 messages: ~10 s on a loaded machine' },
  'npx runner run scenarios/peak-load.ts': { args: ['--scale', '0.01'], why: 'a 5-minute scenario: 3 s' },
  'npx runner run scenarios/soak.ts --scale 0.01': { args: ['--scale', '0.001'], why: 'the 36 s smoke run becomes 3.6 s (the later --scale wins)' },
  'npx runner run scenarios/production.ts --duration 2m --host proxy.internal --to load@example.com': { args: ['--duration', '2s'], why: '2 minutes: 2 s (the later --duration wins; --scale leaves a --duration given on the command line as it is)' },
  'runner run run.tar': { args: ['--duration', '1s'], why: 'the archived 10 minutes: 1 s (flags given here go on top of the recorded ones)' },
  'runner run scenarios/soak.ts --api 127.0.0.1:6565': { args: ['--scale', '0.002'], why: 'a 1-hour soak: 7.2 s, long enough for status, pause, resume and scale to reach it' },
  'npx runner sweep --concurrent 5,10,25,50,100 --num-emails 500 --to load@example.com': { args: ['--num-emails', '50'], why: '5 steps of 500 messages: ~25 s' },
};

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The README's `// my-ramp.ts` scenario, as the archive example expects it at scenarios/my-ramp.ts. */
function writeMyRamp(readme: string, dir: string): void {
  const source = /```ts\n(\/\/ my-ramp\.ts\n[\s\S]*?)```/.exec(readme)![1]!;
  writeFileSync(join(dir, 'scenarios/my-ramp.ts'), source);
  copyFileSync(join(ROOT, 'fixtures/accounts.json'), join(dir, 'scenarios/accounts.json'));
}

/** The arguments of an example (after `npx runner`), its target and API address substituted, its cap appended. */
function argumentsOf(line: string, fixture: FixtureProcess, apiPort: number): string[] {
  const words = line.split(' ');
  const args = words.slice(words[0] === 'npx' || words[0] === 'node' ? 2 : 1);
  let hasTarget = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--host') {
      args[i + 1] = '127.0.0.1';
      hasTarget = true;
    }
    if (args[i] === '--port') args.splice(i, 2), i--;
    if (args[i] === '--api' && args[i + 1]?.startsWith('127.0.0.1:')) args[i + 1] = `127.0.0.1:${apiPort}`;
  }
  if (hasTarget) args.push('--port', String(fixture.port));
  else if (args[0] === 'run' && args[1] === 'run.tar') args.push('--host', '127.0.0.1', '--port', String(fixture.port));
  else if (args[0] === 'run' || args[0] === 'sweep') args.push('--with-fixture');
  if (['status', 'pause', 'resume', 'scale'].includes(args[0]!)) args.push('--api', `127.0.0.1:${apiPort}`);
  return [...args, ...(CAPS[line]?.args ?? [])];
}

/** Examples whose README comment documents an exit code other than 0 (the comment is checked to say so). */
const DOCUMENTED_EXIT: Record<string, number> = {
  'runner scale --vus 80': 2, // soak.ts runs constant-vus: no externally-controlled scenario to rescale
  'runner scale --rate 200/m': 2, // nor a constant-arrival-rate scenario whose rate could change
};

/** The exit code the README documents for an example. */
function documentedExit(readme: string, line: string): number {
  const code = DOCUMENTED_EXIT[line];
  if (code === undefined) return 0;
  assert.ok(readme.includes(`${line}`) && new RegExp(`${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+#.*exit ${code}`).test(readme), `the README does not say: ${line} exits ${code}`);
  return code;
}

const API_CONTROLS = ['runner status', 'runner pause', 'runner resume', 'runner scale --vus 80', 'runner scale --rate 200/m'];

const examples = suite('README: every shell example');

examples('each is run or listed as not runnable, and no list entry is stale', () => {
  const lines = readmeCommandLines(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.ok(lines.length >= 20, `${lines.length} examples found`);
  for (const line of lines) assert.ok(!(line in NOT_RUNNABLE) || !(line in CAPS), line);
  for (const listed of [...Object.keys(NOT_RUNNABLE), ...Object.keys(CAPS), ...Object.keys(DOCUMENTED_EXIT)]) assert.ok(lines.includes(listed), `not in the README any more: ${listed}`);
});

examples('each runnable example exits with its documented code against the fake proxy', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readmeCommandLines(readme).filter((line) => !(line in NOT_RUNNABLE));
  const temp = createTempDir();
  const fixture = await startFixtureProcess();
  const apiPort = await freePort();
  try {
    // The README's paths are the repository's: scenarios/ (plus my-ramp.ts) and fixtures/ beside a scratch directory.
    mkdirSync(join(temp.dir, 'scenarios'));
    for (const name of readdirSync(join(ROOT, 'scenarios'))) symlinkSync(join(ROOT, 'scenarios', name), join(temp.dir, 'scenarios', name));
    symlinkSync(join(ROOT, 'fixtures'), join(temp.dir, 'fixtures'));
    writeMyRamp(readme, temp.dir);
    let resultsFile: string | undefined;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (API_CONTROLS.includes(line)) continue; // run while the --api run below runs
      if (/ (compare|merge|report) /.test(line)) {
        // Results files of one earlier example stand in for the before/after, generators and results/ of the README.
        assert.ok(resultsFile, `no results file before: ${line}`);
        for (const name of ['before.json', 'after.json', 'gen1.json', 'gen2.json']) copyFileSync(resultsFile, join(temp.dir, name));
        mkdirSync(join(temp.dir, 'results'), { recursive: true });
        copyFileSync(resultsFile, join(temp.dir, 'results/a.json'));
        copyFileSync(resultsFile, join(temp.dir, 'results/b.json'));
      }
      const args = argumentsOf(line, fixture, apiPort);
      let ran;
      if (args.includes('--api')) {
        const run = startCli(args, { cwd: temp.dir });
        const controls = lines.filter((control) => API_CONTROLS.includes(control));
        assert.equal(controls, API_CONTROLS, 'the API examples follow the --api run');
        await waitForApi(apiPort);
        for (const control of controls) {
          const controlled = await runCli(argumentsOf(control, fixture, apiPort), { cwd: temp.dir });
          assert.is(controlled.code, documentedExit(readme, control), `${control}\n${controlled.stdout}${controlled.stderr}`);
        }
        ran = await run.done;
      } else {
        ran = await runCli(args, { cwd: temp.dir });
      }
      assert.is(ran.code, documentedExit(readme, line), `${line}\n(as run: runner ${args.join(' ')})\n${ran.stdout}${ran.stderr}`);
      const saved = /Results saved to: (\S+)/.exec(ran.stdout);
      if (saved && !resultsFile) resultsFile = saved[1]!;
    }
  } finally {
    await fixture.close();
    temp.remove();
  }
});

/** Waits until a run's REST API answers (a logical wait: it is up once the run has started). */
async function waitForApi(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await fetch(`http://127.0.0.1:${port}/v1/status`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`the run's API did not answer on 127.0.0.1:${port}`);
}

examples.run();
