/**
 * `runner run --agents` with `runner agent`s on 127.0.0.1: the coordinator ships the scenario (a
 * local import and an accounts file inside), the agents' merged figures equal what the fake
 * proxy received, setup()'s data (a Date too) reaches every agent; a wrong token is refused with
 * a clear error; a killed agent is reported by name and the rest finish. The agents are real
 * processes of the built CLI (bin/runner.js: run `node build.mjs`).
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { createTempDir, runAgainst, startRawServer, withFakeProxy } from '../helpers.ts';
import { LineSplitter } from '../../runner/agents/wire.ts';
import { ExitCode, RunnerError } from '../../runner/errors.ts';
import type { RunCommandOptions } from '../../runner/run.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import { runCli, startCli, ROOT, type CliProcess } from '../cli-process.ts';

const TO = { to: ['load@example.com'] };
const DATA = fileURLToPath(new URL('./data/', import.meta.url));
const TOKEN = 'a-shared-secret-of-enough-length';

interface Agent {
  cli: CliProcess;
  address: string;
}

/** Starts `runner agent --listen 127.0.0.1:0` with a token file; resolves with its address once it listens. */
function startAgent(tokenFile: string, extra: string[] = []): Promise<Agent> {
  return new Promise((resolve, reject) => {
    let isListening = false;
    const cli = startCli(['agent', '--listen', '127.0.0.1:0', '--token-file', tokenFile, ...extra], {
      limitMs: 60_000,
      onStderr: (text) => {
        const match = /listening on (127\.0\.0\.1:\d+)/.exec(text);
        if (match && !isListening) {
          isListening = true;
          resolve({ cli, address: match[1]! });
        }
      },
    });
    void cli.done.then((ran) => {
      if (!isListening) reject(new Error(`runner agent exited (${ran.code}) before listening: ${ran.stderr}`));
    });
  });
}

/** Runs `body` with `count` agents, then stops them (by their pids). */
async function withAgents<T>(count: number, body: (agents: Agent[], tokenFile: string) => Promise<T>): Promise<T> {
  const temp = createTempDir();
  const tokenFile = join(temp.dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const agents: Agent[] = [];
  try {
    for (let i = 0; i < count; i++) agents.push(await startAgent(tokenFile));
    return await body(agents, tokenFile);
  } finally {
    for (const agent of agents) agent.cli.child.kill('SIGTERM');
    await Promise.all(agents.map((agent) => agent.cli.done));
    temp.remove();
  }
}

function agentsOption(agents: Agent[], token = TOKEN, onLoss: 'continue' | 'stop' = 'continue'): RunCommandOptions['agents'] {
  return {
    addresses: agents.map((agent) => ({ host: '127.0.0.1', port: Number(agent.address.split(':')[1]) })),
    connection: { token, connectTimeoutMs: 5_000 },
    onLoss,
  };
}

const merged = suite('--agents: merged figures are the ground truth');

merged('2 agents, a scenario with a local import and an accounts file: 60 messages, as the proxy counted, per sender too', async () => {
  const temp = createTempDir();
  try {
    copyFileSync(join(ROOT, 'fixtures/accounts.json'), join(temp.dir, 'accounts.json'));
    writeFileSync(join(temp.dir, 'size.ts'), 'export const ITERATIONS = 60;\n');
    writeFileSync(join(temp.dir, 'scenario.ts'), [
      "import { defineScenario } from 'runner';",
      "import { ITERATIONS } from './size.ts';",
      "export default defineScenario({ accounts: { file: './accounts.json' }, scenarios: { main: { executor: 'shared-iterations', vus: 4, iterations: ITERATIONS } } });",
    ].join('\n'));
    await withFakeProxy({}, async (proxy) => {
      await withAgents(2, async (agents) => {
        const outcome = await runAgainst(proxy, { scenarioFile: join(temp.dir, 'scenario.ts'), agents: agentsOption(agents), overrides: TO, check: false });
        assert.is(outcome.exitCode, ExitCode.ok, outcome.output);
        const { results } = outcome.summary;
        assert.is(results.total_requests, 60);
        assert.is(results.successful, proxy.stats.messagesAccepted);
        assert.is(results.connections, proxy.stats.connections);
        assert.is(outcome.summary.histograms.txn_duration.count, 60);
        // Every sender of the shipped accounts file was used, as one process would have.
        const senders = Object.values(proxy.stats.perAccount).filter((account) => account.messagesAccepted > 0);
        assert.ok(senders.length > 1, JSON.stringify(proxy.stats.perAccount));
        assert.equal(outcome.summary.config['agents'], agents.map((agent) => agent.address));
      });
    });
  } finally {
    temp.remove();
  }
});

merged('setup() runs once in the coordinator and its data (a Date too) reaches every agent; teardown() once', async () => {
  await withFakeProxy({}, async (proxy) => {
    await withAgents(2, async (agents) => {
      const temp = createTempDir();
      const previous = process.env['SETUP_LOG'];
      process.env['SETUP_LOG'] = join(temp.dir, 'setup.log');
      try {
        const outcome = await runAgainst(proxy, { scenarioFile: join(DATA, 'workers-setup.ts'), agents: agentsOption(agents), overrides: TO, check: false });
        assert.is(outcome.exitCode, ExitCode.ok, outcome.output);
        assert.is(readFileSync(join(temp.dir, 'setup.log'), 'utf8'), 'setup\nteardown abc\n');
        assert.equal(outcome.summary.custom_metrics['seen_setup_data']!.tag_sets?.map((set) => set.tags), [{ is_date: 'true', token: 'abc' }]);
        assert.is(outcome.summary.custom_metrics['seen_setup_data']!.count, 6);
      } finally {
        if (previous === undefined) delete process.env['SETUP_LOG'];
        else process.env['SETUP_LOG'] = previous;
        temp.remove();
      }
    });
  });
});

merged('a threshold crossed only in the sum fails the run', async () => {
  await withFakeProxy({}, async (proxy) => {
    await withAgents(2, async (agents) => {
      const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'per-vu-iterations', vus: 2, iterations: 30 } }, thresholds: { smtp_txns: ['count<40'] } };
      const outcome = await runAgainst(proxy, { scenario, agents: agentsOption(agents), overrides: TO });
      assert.is(outcome.summary.results.total_requests, 60);
      assert.is(proxy.stats.messagesAccepted, 60);
      assert.is(outcome.summary.thresholds[0]!.ok, false);
      assert.is(outcome.exitCode, ExitCode.thresholdsFailed);
    });
  });
});

const refused = suite('--agents: refused and lost agents');

refused('a wrong token is refused with a clear error, and no message is sent', async () => {
  await withFakeProxy({}, async (proxy) => {
    await withAgents(1, async (agents) => {
      const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'shared-iterations', vus: 1, iterations: 5 } } };
      try {
        await runAgainst(proxy, { scenario, agents: agentsOption(agents, 'not-the-token-at-all'), overrides: TO, check: false });
        assert.unreachable('the run should have been refused');
      } catch (error) {
        assert.instance(error, RunnerError);
        assert.match((error as Error).message, `agent 1 (agent ${agents[0]!.address}) refused the coordinator: wrong token`);
        assert.match((error as RunnerError).hint ?? '', /--token-file/);
      }
      assert.is(proxy.stats.messagesAccepted, 0);
    });
  });
});

/**
 * A relay on 127.0.0.1 between the coordinator and one agent that reads the agent's lines as they
 * pass: how many per-second reports (ticks) went through, and the messages accepted in the last
 * one, the figure the coordinator holds for that agent when it is lost.
 */
async function startTap(agentPort: number): Promise<{ port: number; ticks(): number; lastAccepted(): number; close(): Promise<void> }> {
  let ticks = 0;
  let lastAccepted = 0;
  const splitter = new LineSplitter();
  const server = await startRawServer((coordinator) => {
    const agent = connect({ host: '127.0.0.1', port: agentPort });
    agent.on('error', () => undefined);
    coordinator.pipe(agent);
    agent.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        const message = JSON.parse(line) as { type: string; snapshot?: { progress: Array<{ accepted: number }> } };
        if (message.type !== 'tick' && message.type !== 'done') continue;
        ticks++;
        lastAccepted = message.snapshot!.progress.reduce((sum, scenario) => sum + scenario.accepted, 0);
      }
      coordinator.write(chunk);
    });
    // The agent gone: what it sent reaches the coordinator, then the connection closes as the agent's did
    agent.on('close', () => coordinator.end());
    coordinator.on('close', () => agent.destroy());
  });
  return { port: server.port, ticks: () => ticks, lastAccepted: () => lastAccepted, close: server.close };
}

/** Kills `agent` (SIGKILL, by its pid) once its first reports have passed the tap; resolves with when (performance.now()). */
function killAfterReports(agent: Agent, tap: { ticks(): number }, reports: number): { killedAtMs(): number | undefined; cancel(): void } {
  let killedAtMs: number | undefined;
  const timer = setInterval(() => {
    if (killedAtMs === undefined && tap.ticks() >= reports) {
      killedAtMs = performance.now();
      agent.cli.child.kill('SIGKILL');
    }
  }, 50);
  return { killedAtMs: () => killedAtMs, cancel: () => clearInterval(timer) };
}

refused('a killed agent is reported by name, its figures until its last report are kept and named in the results, and the other finishes', async () => {
  await withFakeProxy({ delays: { message: 10 } }, async (proxy) => {
    await withAgents(2, async (agents) => {
      const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'constant-vus', vus: 2, duration: '4s' } } };
      const tap = await startTap(Number(agents[0]!.address.split(':')[1]));
      // After its first report has passed (logical: the tap saw it), kill the first agent.
      const killer = killAfterReports(agents[0]!, tap, 1);
      try {
        const dialled = [{ cli: agents[0]!.cli, address: `127.0.0.1:${tap.port}` }, agents[1]!];
        const outcome = await runAgainst(proxy, { scenario, agents: agentsOption(dialled), overrides: TO, check: false });
        assert.ok(killer.killedAtMs() !== undefined, 'an agent was killed');
        assert.is(outcome.exitCode, ExitCode.generatorLost, outcome.output);
        assert.match(outcome.output, new RegExp(`agent 1 \\(segment 0:1/2, agent 127\\.0\\.0\\.1:${tap.port}\\) connection lost`));
        assert.match(outcome.output, 'FAILED: 1 agent lost during the run');
        const lost = outcome.summary.config['lost_agents'] as string[];
        assert.is(lost.length, 1);
        // The results file marks it with what it measured until its last report: exactly that report's count
        assert.ok(tap.lastAccepted() > 0);
        assert.match(lost[0]!, `what it measured until its last report is kept: ${tap.lastAccepted()} messages accepted, 0 failed`);
        assert.match(outcome.summary.abort_reason ?? '', /agent 1/);
        assert.ok(outcome.summary.results.successful > tap.lastAccepted());
        assert.ok(outcome.summary.results.successful <= proxy.stats.messagesAccepted);
        // The other ran to the end of the 4 s.
        assert.ok(outcome.summary.results.total_time_seconds >= 3.9, `${outcome.summary.results.total_time_seconds}`);
      } finally {
        killer.cancel();
        await tap.close();
      }
    });
  });
});

refused('--on-agent-loss stop: a killed agent stops the whole run within a bound, reported by name, every figure until then kept', async () => {
  await withFakeProxy({ delays: { message: 10 } }, async (proxy) => {
    await withAgents(2, async (agents) => {
      // 30 s planned: a run that went on would be seen; gracefulStop bounds the survivor's stop.
      const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'constant-vus', vus: 2, duration: '30s', gracefulStop: '2s' } } };
      const tap = await startTap(Number(agents[1]!.address.split(':')[1]));
      // After its first report has passed (logical: the tap saw it), kill the second agent.
      const killer = killAfterReports(agents[1]!, tap, 1);
      try {
        const dialled = [agents[0]!, { cli: agents[1]!.cli, address: `127.0.0.1:${tap.port}` }];
        const outcome = await runAgainst(proxy, { scenario, agents: agentsOption(dialled, TOKEN, 'stop'), overrides: TO, check: false });
        const killedAtMs = killer.killedAtMs();
        assert.ok(killedAtMs !== undefined, 'an agent was killed');
        const stoppedAfterMs = performance.now() - killedAtMs;
        // The survivor stops as at Ctrl+C: its running messages get gracefulStop (2 s), then its last report
        assert.ok(stoppedAfterMs < 10_000, `the run went on ${Math.round(stoppedAfterMs)} ms after the loss`);
        assert.ok(outcome.summary.results.total_time_seconds < 20, `${outcome.summary.results.total_time_seconds}`);
        assert.match(outcome.output, new RegExp(`agent 2 \\(segment 1/2:1, agent 127\\.0\\.0\\.1:${tap.port}\\) connection lost`));
        assert.match(outcome.summary.abort_reason ?? '', 'agent 2 was lost (--on-agent-loss stop)');
        const lost = outcome.summary.config['lost_agents'] as string[];
        assert.is(lost.length, 1);
        assert.ok(tap.lastAccepted() > 0);
        assert.match(lost[0]!, `kept: ${tap.lastAccepted()} messages accepted, 0 failed`);
        assert.is(outcome.exitCode, ExitCode.generatorLost, outcome.output);
        assert.match(outcome.output, 'FAILED: 1 agent lost during the run (what each measured until its last report is kept); the run stopped there (--on-agent-loss stop)');
        // The survivor's last report arrived: only what the killed agent did after its last report is missing
        assert.ok(outcome.summary.results.successful > tap.lastAccepted());
        assert.ok(outcome.summary.results.successful <= proxy.stats.messagesAccepted);
      } finally {
        killer.cancel();
        await tap.close();
      }
    });
  });
});

refused('Ctrl+C on a busy agent stops its segment gracefully: its last report arrives, it is not lost, the counts equal the proxy\'s', async () => {
  await withFakeProxy({ delays: { message: 10 } }, async (proxy) => {
    await withAgents(1, async (agents) => {
      const scenario: ScenarioFileOptions = { scenarios: { main: { executor: 'constant-vus', vus: 2, duration: '20s', gracefulStop: '5s' } } };
      let isInterrupted = false;
      // Past the first reports (logical: the proxy has counted messages), Ctrl+C the agent.
      const interrupter = setInterval(() => {
        if (!isInterrupted && proxy.stats.messagesAccepted > 20) {
          isInterrupted = true;
          agents[0]!.cli.child.kill('SIGINT');
        }
      }, 200);
      try {
        const outcome = await runAgainst(proxy, { scenario, agents: agentsOption(agents), overrides: TO, check: false });
        assert.ok(isInterrupted, 'the agent was interrupted');
        assert.not.match(outcome.output, 'connection lost');
        assert.is((outcome.summary.config['lost_agents'] as string[] | undefined)?.length ?? 0, 0, outcome.output);
        assert.is(outcome.summary.results.successful, proxy.stats.messagesAccepted);
        // The run did not go to its planned end: it says so (interrupted, exit 105), naming the agent.
        assert.is(outcome.exitCode, ExitCode.interrupted, outcome.output);
        assert.match(outcome.summary.abort_reason ?? '', /agent 1 .*was interrupted/);
        assert.ok(outcome.summary.results.total_time_seconds < 15, `${outcome.summary.results.total_time_seconds}`);
        const ran = await agents[0]!.cli.done;
        assert.match(ran.stderr, 'stopping');
      } finally {
        clearInterval(interrupter);
      }
    });
  });
});

refused('runner agent with --tls-cert/--tls-key that are not PEM: a usage error naming them, no stack (it was exit 1, "a bug in runner")', async () => {
  const temp = createTempDir();
  try {
    const garbage = join(temp.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a PEM file\n');
    const tokenFile = join(temp.dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const ran = await runCli(['agent', '--listen', '127.0.0.1:0', '--token-file', tokenFile, '--tls-cert', garbage, '--tls-key', garbage], { limitMs: 20_000 });
    assert.is(ran.code, ExitCode.usage, ran.stderr);
    assert.match(ran.stderr, `error: --tls-cert ${garbage} / --tls-key ${garbage}: not a usable PEM certificate and key`);
    assert.not.match(ran.stderr, 'bug in runner');
  } finally {
    temp.remove();
  }
});

merged.run();
refused.run();
