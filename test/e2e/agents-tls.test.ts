/**
 * TLS between `runner run --agents` and `runner agent`, end to end on 127.0.0.1, with a throwaway CA
 * made at test time (test/tls-ca.ts): an agent with --tls-cert/--tls-key and a coordinator with
 * --agent-tls-ca of that CA run, and the merged counts equal the fake proxy's; a coordinator with
 * another CA is refused at once, naming the certificate; a plain-TCP coordinator to a TLS agent,
 * and a TLS coordinator to a plain agent, end with an error that says which side speaks TLS,
 * within a bound (no hang). The agents are real processes of the built CLI (`node build.mjs`).
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode, RunnerError } from '../../runner/errors.ts';
import type { RunCommandOptions } from '../../runner/run.ts';
import type { ScenarioFileOptions } from '../../runner/scenario/types.ts';
import type { ResultsFile } from '../../runner/results/types.ts';
import { runCli, startCli, type CliProcess } from '../cli-process.ts';
import { makeTestCa, type TestCa } from '../tls-ca.ts';
import { IS_CI, missingProgram, missingUnderCi } from '../tools.ts';

const TOKEN = 'a-shared-secret-of-enough-length';
const TO = { to: ['load@example.com'] };
const SMALL: ScenarioFileOptions = { scenarios: { main: { executor: 'shared-iterations', vus: 2, iterations: 10 } } };
/** A refused or failed connection must end the run well before the agents' 10 s hello timeout. */
const PROMPT_MS = 8_000;

interface Agent {
  cli: CliProcess;
  port: number;
}

/** Starts `runner agent --listen 127.0.0.1:0` (with `extra` flags); resolves once it listens. */
function startAgent(tokenFile: string, extra: string[]): Promise<Agent> {
  return new Promise((resolve, reject) => {
    let isListening = false;
    const cli = startCli(['agent', '--listen', '127.0.0.1:0', '--token-file', tokenFile, ...extra], {
      limitMs: 60_000,
      onStderr: (text) => {
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
        if (match && !isListening) {
          isListening = true;
          resolve({ cli, port: Number(match[1]) });
        }
      },
    });
    void cli.done.then((ran) => {
      if (!isListening) reject(new Error(`runner agent exited (${ran.code}) before listening: ${ran.stderr}`));
    });
  });
}

interface Setup {
  ca: TestCa;
  otherCa: TestCa;
  dir: string;
  tokenFile: string;
}

/** Two CAs (the agent's and an unrelated one) and a token file, for `body`; every file removed afterwards. */
async function withCas(body: (setup: Setup) => Promise<void>): Promise<void> {
  const temp = createTempDir();
  const ca = makeTestCa('runner agents CA');
  const otherCa = makeTestCa('another CA');
  const tokenFile = join(temp.dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  try {
    await body({ ca, otherCa, dir: temp.dir, tokenFile });
  } finally {
    ca.remove();
    otherCa.remove();
    temp.remove();
  }
}

/** Runs `body` with one agent started with `extra`, stopped afterwards (by its pid). */
async function withAgent(tokenFile: string, extra: string[], body: (agent: Agent) => Promise<void>): Promise<void> {
  const agent = await startAgent(tokenFile, extra);
  try {
    await body(agent);
  } finally {
    agent.cli.child.kill('SIGTERM');
    await agent.cli.done;
  }
}

/** Stops the agent (by its pid) and returns what it wrote on stderr. */
async function agentStderr(agent: Agent): Promise<string> {
  agent.cli.child.kill('SIGTERM');
  return (await agent.cli.done).stderr;
}

function agentsOption(port: number, tlsCa: string | undefined): RunCommandOptions['agents'] {
  return { addresses: [{ host: '127.0.0.1', port }], connection: { token: TOKEN, tlsCa, connectTimeoutMs: 5_000 }, onLoss: 'continue' };
}

/** Runs in-process and expects a RunnerError; returns it with how long the run took. */
async function expectRefused(proxy: Parameters<typeof runAgainst>[0], agents: RunCommandOptions['agents']): Promise<{ error: RunnerError; elapsedMs: number }> {
  const startMs = performance.now();
  try {
    await runAgainst(proxy, { scenario: SMALL, agents, overrides: TO, check: false });
  } catch (error) {
    assert.instance(error, RunnerError, String((error as Error)?.stack));
    return { error: error as RunnerError, elapsedMs: performance.now() - startMs };
  }
  throw new assert.Assertion({ message: 'the run should have been refused', generated: false, operator: 'throws' } as never);
}

const missing = missingProgram('openssl', 'openssl');
const tls = suite('--agents over TLS (--tls-cert/--tls-key, --agent-tls-ca)');

if (missing && !IS_CI) {
  tls(`skipped: ${missing}`, () => undefined);
} else {
  if (missing) tls('openssl is needed', () => assert.unreachable(missingUnderCi(missing)));

  tls('the CA that signed the agent\'s certificate: the run succeeds, the merged counts are the proxy\'s (the CLI, --agent-tls-ca)', async () => {
    await withCas(async ({ ca, dir, tokenFile }) => {
      await withFakeProxy({}, async (proxy) => {
        await withAgent(tokenFile, ['--tls-cert', ca.certFile, '--tls-key', ca.keyFile], async (agent) => {
          const resultsFile = join(dir, 'results.json');
          const ran = await runCli([
            'run', '--agents', `127.0.0.1:${agent.port}`, '--token-file', tokenFile, '--agent-tls-ca', ca.caFile,
            '--host', '127.0.0.1', '--port', String(proxy.port), '--admin-url', `http://127.0.0.1:${proxy.adminPort}`,
            '--to', 'load@example.com', '--vus', '3', '--num-emails', '45', '--no-check', '--out', resultsFile,
          ], { cwd: dir, limitMs: 60_000 });
          assert.is(ran.code, ExitCode.ok, ran.stdout + ran.stderr);
          const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as ResultsFile;
          assert.is(results.results.total_requests, 45);
          assert.is(results.results.successful, proxy.stats.messagesAccepted);
          assert.is(proxy.stats.messagesAccepted, 45);
          assert.is(results.results.connections, proxy.stats.connections);
          const agentSaid = await agentStderr(agent);
          assert.match(agentSaid, '(TLS)');
          assert.match(agentSaid, 'accepted');
        });
      });
    });
  });

  tls('another CA: refused at once, the error names the certificate and --agent-tls-ca; no message sent', async () => {
    await withCas(async ({ ca, otherCa, tokenFile }) => {
      await withFakeProxy({}, async (proxy) => {
        await withAgent(tokenFile, ['--tls-cert', ca.certFile, '--tls-key', ca.keyFile], async (agent) => {
          const { error, elapsedMs } = await expectRefused(proxy, agentsOption(agent.port, readFileSync(otherCa.caFile, 'utf8')));
          assert.match(error.message, `agent 1 (agent 127.0.0.1:${agent.port})`);
          assert.match(error.message, /certificate/);
          assert.match(error.message, /not verified/);
          assert.match(error.hint ?? '', /--agent-tls-ca/);
          assert.ok(elapsedMs < PROMPT_MS, `${elapsedMs} ms`);
          assert.is(proxy.stats.messagesAccepted, 0);
        });
      });
    });
  });

  tls('no CA (plain TCP) to a TLS agent: an error that says the agent speaks TLS, within a bound; no message sent', async () => {
    await withCas(async ({ ca, tokenFile }) => {
      await withFakeProxy({}, async (proxy) => {
        await withAgent(tokenFile, ['--tls-cert', ca.certFile, '--tls-key', ca.keyFile], async (agent) => {
          const { error, elapsedMs } = await expectRefused(proxy, agentsOption(agent.port, undefined));
          assert.match(error.message, `agent 1 (agent 127.0.0.1:${agent.port})`);
          assert.match(error.message, /TLS/);
          assert.match(error.hint ?? '', /--agent-tls-ca/);
          assert.ok(elapsedMs < PROMPT_MS, `${elapsedMs} ms`);
          assert.is(proxy.stats.messagesAccepted, 0);
          assert.match(await agentStderr(agent), 'no TLS handshake');
        });
      });
    });
  });

  tls('a CA (TLS) to a plain-TCP agent: an error that says the agent does not speak TLS, within a bound; no message sent', async () => {
    await withCas(async ({ ca, tokenFile }) => {
      await withFakeProxy({}, async (proxy) => {
        await withAgent(tokenFile, [], async (agent) => {
          const { error, elapsedMs } = await expectRefused(proxy, agentsOption(agent.port, readFileSync(ca.caFile, 'utf8')));
          assert.match(error.message, `agent 1 (agent 127.0.0.1:${agent.port})`);
          assert.match(error.message, /TLS/);
          assert.match(error.hint ?? '', /--tls-cert/);
          assert.ok(elapsedMs < PROMPT_MS, `${elapsedMs} ms`);
          assert.is(proxy.stats.messagesAccepted, 0);
          assert.match(await agentStderr(agent), 'it started TLS');
        });
      });
    });
  });
}

tls.run();
