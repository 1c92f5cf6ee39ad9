/**
 * `runner run`: load → validate → plan → preflight → execute → judge thresholds → outputs →
 * exit code. Each step lives in its own module; this file only puts them in order and makes
 * sure an interrupted run still reports what it measured.
 */
import { resolve as resolvePath } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compileRunThresholds, loadScenarioInput, mergeOverrides } from './prepare.ts';
import { resolveOptions, type CliOverrides } from './scenario/options.ts';
import type { ScenarioFileOptions, TlsMode } from './scenario/types.ts';
import { TLS_MODES } from './smtp/tls.ts';
import type { ResolvedOptions } from './scenario/resolved.ts';
import { DEFAULTS } from './scenario/defaults.ts';
import { executorOf } from './executors/index.ts';
import { evaluateThresholds, findAbortingFailures, formatThresholdActual, type ThresholdDefinition } from './thresholds/index.ts';
import { clearCustomMetrics } from './metrics/custom.ts';
import type { MetricsRegistry } from './metrics/registry.ts';
import { Engine, type TestResult } from './engine/engine.ts';
import type { EngineListener } from './engine/events.ts';
import { SessionTranscripts } from './engine/transcript.ts';
import { runPreflight } from './preflight.ts';
import { ProcessWatcher } from './watch/watcher.ts';
import { analyseTrends, trendMetricValues, type RunTrends } from './analysis/run-trends.ts';
import { buildSummary, runAggregates } from './outputs/summary.ts';
import { summarise } from './results/summarise.ts';
import type { Summary, ThresholdOutcome } from './results/types.ts';
import { ConsoleProgress, formatHeader, formatSummary } from './outputs/console.ts';
import { describeNoIterationCompleted, formatVerdict, hasNoIterationCompleted } from './outputs/verdict.ts';
import { shouldColor } from './util/color.ts';
import { clipText } from './util/format.ts';
import { checkOutputPaths, closeOutputs, createCiOutputs, createOutputs, finishOutputs, finishOutputsNow, formatOutputFailure, type CiOutputFlags, type OutputFailure } from './outputs/index.ts';
import { runHandleSummary } from './outputs/summary-json.ts';
import type { OutputContext, RunOutput } from './outputs/output.ts';
import { ExitCode, RunnerError, ScriptTimeoutError, UsageError, type ExitCodeName } from './errors.ts';
import { confirmRealRecipients, type RecipientSafety } from './safety.ts';
import { installEarlyExit, installInterruptHandlers, installLingerStop } from './interrupt.ts';
import { nextSnapshotDelayMs, startStallWatchdog } from './engine/stall-watchdog.ts';
import { DeliveryTracking, type DeliveryOutcome } from './delivery/tracking.ts';
import { DeliverySourceError } from './errors.ts';
import { describeDeliverySource } from './delivery/options.ts';
import { formatDeliveryWait } from './outputs/console.ts';
import { WorkerPool, checkWorkerSplit } from './workers/pool.ts';
import { escapeControl } from './util/escape.ts';
import { loadBuiltin } from './util/builtin.ts';
import { checkApiExposure, parseApiAddress } from './api/address.ts';
import { checkDistinctPorts, LOOPBACK_HOST } from './listen-address.ts';
import { startApiServer, type ApiServer } from './api/server.ts';
import { addSecret } from './redact.ts';
import { connectAgent, type AgentAddress, type AgentConnection } from './agents/remote.ts';
import { buildShipment } from './agents/ship.ts';
import { agentsOf, type AgentRunFlags, type AgentsOption } from './agents/agent-flags.ts';

/** Everything `runner run` takes besides the scenario's own options. */
export interface RunCommandOptions extends CiOutputFlags {
  /** Scenario file (.ts/.js/.yaml/.yml/.json); without one the guide's flags describe the run. */
  scenarioFile?: string;
  /** Scenario options given as data (e.g. each step of `runner sweep`), used when there is no scenario file. */
  scenario?: ScenarioFileOptions;
  overrides: CliOverrides;
  /** Guide flags for a flags-only run. */
  numEmails?: number;
  concurrent?: number;
  /** Reproduce the old tool's batches of `concurrent` (barrier between batches). */
  batches?: boolean;
  /**
   * `--out` values: a results file path, or KIND=TARGET for other outputs (outputs/index.ts).
   * Without a results file among them, load_test_results_<unix>.json; false → no outputs.
   */
  out?: string[] | false;
  /** `--no-out` with `--out KIND=TARGET` values: write those, but no results file. */
  noResultsFile?: boolean;
  /** Print only the summary. */
  quiet?: boolean;
  /** `--debug[=N]`: protocol transcript of the first N SMTP sessions on stderr (secrets redacted). */
  debugSessions?: number;
  /** Seconds between progress lines when not on a terminal. */
  progressIntervalMs?: number;
  /**
   * With `handleSignals`: how long the event loop may be blocked (scenario code that never
   * yields) before the watchdog writes partial results and kills the run (engine/stall-watchdog.ts). 0: off. @default 30000
   */
  stallLimitMs?: number;
  /** Run the preflight (connect, greeting, EHLO, AUTH per sender: preflight.ts) before the load. @default true */
  check?: boolean;
  /**
   * Process to sample (CPU, RSS) during the run; undefined → the process listening on the
   * target port when the target is on this machine; false → none.
   */
  watchPid?: number | false;
  /** Start the built-in fake proxy in a child process and aim at it. */
  withFixture?: boolean;
  /** Extra flags for that fake proxy, e.g. ['--delay', 'message=50']. */
  fixtureArgs?: string[];
  /**
   * Start `runner sink` (a fake upstream provider) in a child process and track delivery through
   * its admin port; with withFixture the fake proxy relays to it (--relay-to).
   */
  withSink?: boolean;
  /** Extra flags for that sink, e.g. ['--failure', 'message=454:0.1']. */
  sinkArgs?: string[];
  /**
   * Ask before mailing real people (safety.ts): the CLI passes it; without it (in-process
   * callers, tests) no acknowledgement is asked. `--with-fixture` never asks.
   */
  safety?: Pick<RecipientSafety, 'isAllowed' | 'ask' | 'planOf'>;
  /**
   * `--workers N`: run the load in N worker processes (workers/pool.ts), each one execution
   * segment of the plan; undefined: in this process, as always.
   */
  workers?: number;
  /**
   * `--api HOST:PORT`: serve the REST API (api/server.ts: status, metrics, pause/resume, VUs of
   * externally-controlled scenarios) while the run goes; off when undefined.
   */
  api?: string;
  /** `--api-token` (or RUNNER_API_TOKEN): every API request must send it as a bearer token. */
  apiToken?: string;
  /** `--api-allow-remote`: let --api bind to an address other machines reach (a token is then required). */
  apiAllowRemote?: boolean;
  /** Told where the API listens once it does (tests and embedders that asked for port 0). */
  onApiListening?: (address: { host: string; port: number }) => void;
  /**
   * `--agents host:port,…`: run the load on `runner agent`s on other machines (agents/), one
   * execution segment each, in the order given; this process coordinates (setup, thresholds,
   * outputs), as with --workers.
   */
  agents?: AgentsOption;
  /** The CLI's --agents flags as given: checked and read into `agents` first (agents/agent-flags.ts). */
  agentFlags?: AgentRunFlags;
  /** Install SIGINT/SIGTERM handlers (the CLI does; tests calling in-process do not). */
  handleSignals?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What a finished `runner run` produced. */
export interface RunOutcome {
  exitCode: number;
  summary: Summary;
  /** The results JSON file, when one was written. */
  resultsFile: string | undefined;
  options: ResolvedOptions;
}

/** Runs a load test end to end and returns its exit code and summary. Throws RunnerError for bad input. */
export async function runCommand(command: RunCommandOptions): Promise<RunOutcome> {
  if (command.agentFlags) command = { ...command, agents: agentsOf(command.agentFlags) };
  const stdout = command.stdout ?? process.stdout;
  const stderr = command.stderr ?? process.stderr;
  const env = command.env ?? process.env;
  const cwd = command.cwd ?? process.cwd();

  // The API's address and exposure are checked before anything starts
  const apiAddress = command.api === undefined ? undefined : parseApiAddress(command.api);
  const apiToken = command.apiToken ?? env['RUNNER_API_TOKEN'];
  if (apiAddress) checkApiExposure(apiAddress, command.apiAllowRemote === true, apiToken);
  checkDistinctPorts([
    apiAddress && { flag: '--api', ...apiAddress },
    command.dashboard && { flag: '--dashboard', host: command.dashboard.host ?? LOOPBACK_HOST, port: command.dashboard.port },
    command.metrics && { flag: '--metrics-port', host: command.metrics.host ?? LOOPBACK_HOST, port: command.metrics.port },
    ...(command.out || []).flatMap((spec) => {
      const port = /^prometheus=(\d+)$/.exec(spec)?.[1];
      return port === undefined ? [] : [{ flag: `--out prometheus=${port}`, host: LOOPBACK_HOST, port: Number(port) }];
    }),
  ]);
  if (apiToken) addSecret(apiToken);
  // A custom metric's warnings (a tag-set overflow) go to this run's stderr.
  clearCustomMetrics((message) => stderr.write(`warning: ${escapeControl(message, true)}\n`));
  const loaded = command.scenarioFile ? await loadScenarioInput(resolvePath(cwd, command.scenarioFile)) : undefined;
  const fileOptions = loaded?.fileOptions ?? command.scenario ?? flagsScenario(command);
  for (const note of loaded?.notes ?? []) stderr.write(`warning: ${escapeControl(note, true)}\n`);
  // An archive's recorded flags, then the command's own on top
  const overrides: CliOverrides = mergeOverrides(loaded?.recordedOverrides ?? {}, command.overrides);
  if (loaded) {
    // The guide's flags still work with a scenario file: they override its size.
    if (command.numEmails !== undefined) overrides.iterations ??= command.numEmails;
    if (command.concurrent !== undefined) overrides.vus ??= command.concurrent;
  }

  // Until the load starts, a signal just stops (and ends the child servers): interrupt.ts.
  let removeEarlyExit = command.handleSignals ? installEarlyExit(stderr) : () => {};
  // The sink first: the fake proxy is told to relay to it
  const sink = command.withSink
    ? await startChildProcess(SINK_PROCESS, ['--tls', 'none', ...(command.sinkArgs ?? [])], stderr).catch(async (error: unknown) => {
        // Before the try below: an archive's extracted files go here
        await loaded?.cleanup();
        throw error;
      })
    : undefined;
  let fixture: ChildServer | undefined;
  let outputs: RunOutput[] = [];
  let isReported = false;
  let removeSignals = () => {};
  let tracking: DeliveryTracking | undefined;
  let api: ApiServer | undefined;
  try {
    if (command.withFixture) {
      const relay = sink ? ['--relay-to', `127.0.0.1:${sink.port}`, '--relay-tls', 'none'] : [];
      fixture = await startChildProcess(FIXTURE_PROCESS, withFixtureTls([...(command.fixtureArgs ?? []), ...relay], fileOptions, overrides.tls, overrides.scenario), stderr);
    }
    if (sink) {
      overrides.delivery = `sink=http://127.0.0.1:${sink.adminPort}`;
      if (!fixture) stderr.write(`runner sink: SMTP on 127.0.0.1:${sink.port} (point the proxy's upstream at it), admin http://127.0.0.1:${sink.adminPort}\n`);
    }
    if (fixture) {
      overrides.host = '127.0.0.1';
      overrides.port = fixture.port;
      overrides.adminUrl = `http://127.0.0.1:${fixture.adminPort}`;
      // A TLS fixture's self-signed certificate is trusted as its CA (verification stays on)
      if (fixture.caFile !== undefined && overrides.tlsCa === undefined) overrides.tlsCa = fixture.caFile;
    }
    const options = await resolveOptions(fileOptions, overrides, {
      file: loaded?.file,
      baseDir: loaded?.baseDir ?? cwd,
      env,
    });
    if (command.workers !== undefined && command.agents !== undefined) throw new UsageError('--workers and --agents cannot be combined', 'run the agents with as many processes as they need: one agent per machine core, or leave --agents out');
    if (command.workers !== undefined || command.agents !== undefined) {
      const flag = command.workers !== undefined ? '--workers' : '--agents';
      // Each worker or agent loads the scenario itself; the API steers one engine
      if (loaded?.archive !== undefined) throw new UsageError(`${flag} cannot run an archive (.tar) yet`, `run the archive without ${flag}, or run its scenario file with ${flag}`);
      if (command.api !== undefined) throw new UsageError(`${flag} cannot be combined with --api (the API steers one engine)`, `leave ${flag} or --api out`);
    }
    if (command.workers !== undefined) checkWorkersOptions(command, options, command.workers, '--workers');
    if (command.agents !== undefined) checkWorkersOptions(command, options, command.agents.addresses.length, '--agents');
    const shipment = command.agents ? await buildShipment(loaded?.file, options, loaded ? loaded.baseDir : cwd) : undefined;
    const thresholds = compileRunThresholds(options);

    outputs = [...createOutputs(command.out, cwd, Date.now(), { hasResultsFile: !command.noResultsFile }), ...createCiOutputs(command, cwd)];
    // Before any is opened (a stream truncates its file): no output over another, or over an input.
    checkOutputPaths(outputs, runInputs(options));
    const outputContext: OutputContext = { options, cwd, stdout, stderr };
    for (const output of outputs) await output.prepare?.(outputContext);
    const resultsFile = outputs.find((output) => output.isResultsFile)?.path;

    // The fast part of `runner check` (connect, greeting, EHLO, AUTH per sender) before any load
    if (command.check !== false) await runPreflight(options);
    // After the preflight (it sends no mail), before the first message
    if (command.safety) await confirmRealRecipients(options, { ...command.safety, isFixture: fixture !== undefined, stderr });

    const quiet = command.quiet ?? false;
    const progress = new ConsoleProgress(stdout as never, { intervalMs: command.progressIntervalMs });
    const listeners: EngineListener[] = quiet ? [] : [progress];
    const firstTarget = options.scenarios[0]!.target;
    const watcher = command.watchPid === false ? undefined : ProcessWatcher.create(command.watchPid, firstTarget.host, firstTarget.port);
    if (watcher && !watcher.isAlive()) {
      throw new RunnerError(`--watch-pid ${watcher.pid}: no such process`, { code: 'E_WATCH_PID', exit: 'invalidOptions', hint: 'find the proxy\'s pid with pgrep -f xoauth2 (or leave --watch-pid out: a local target\'s listener is found by itself)' });
    }
    if (watcher) listeners.push(watcher);
    for (const output of outputs) if (output.listener) listeners.push(output.listener);
    if (!quiet) stdout.write(formatHeader(options) + '\n');
    const transcripts = command.debugSessions ? new SessionTranscripts(command.debugSessions, (line) => stderr.write(line)) : undefined;
    const job = { scenarioFile: loaded?.file, scenario: loaded ? undefined : fileOptions, overrides, cwd, env: { ...env } };
    const agents = command.agents;
    const engine = agents !== undefined
      ? new WorkerPool(options, listeners, abortCheckFor(thresholds), {
        count: agents.addresses.length,
        job,
        stderr,
        noun: 'agent',
        onLoss: agents.onLoss,
        link: (index, agentJob, handlers) => connectAgent(agents.addresses[index - 1]!, agentJob, shipment!, agents.connection, handlers),
      })
      : command.workers === undefined
        ? new Engine(options, listeners, abortCheckFor(thresholds), transcripts)
        : new WorkerPool(options, listeners, abortCheckFor(thresholds), { count: command.workers, job, stderr });
    if (apiAddress) {
      api = await startApiServer(engine as Engine, apiAddress, apiToken, (message) => stderr.write(`runner: ${message}\n`));
      const shown = api.host.includes(':') ? `[${api.host}]` : api.host;
      stderr.write(`REST API: http://${shown}:${api.port}/v1/status (runner pause|resume|scale --api ${shown}:${api.port})\n`);
      command.onApiListening?.({ host: api.host, port: api.port });
    }
    if (options.delivery) {
      tracking = new DeliveryTracking(options.delivery, { registry: engine.registry, warn: (message) => stderr.write(`warning: delivery: ${escapeControl(message, true)}\n`) });
      try {
        await tracking.start();
      } catch (error) {
        throw new DeliverySourceError(
          `delivery: ${tracking.source.description} cannot be reached: ${(error as Error).message}`,
          options.delivery.source.kind === 'sink' ? 'start it (runner sink --admin-port P) and give its admin URL (runner sink prints it; not the proxy\'s), or use --with-sink; runner check --delivery sink=URL tells whether it answers' : 'check delivery.imap (host, port, tls, credentials)',
        );
      }
    }

    const config = describeConfig(options, command);
    // The live dashboard builds the summary so far (as a second Ctrl+C would write it) when it sends an update.
    const summaryNow = () => {
      const elapsedMs = performance.now() - engine.registry.startMs;
      return buildSummary({ ...snapshotResult(engine), stopReason: undefined }, options, { thresholds: judge(thresholds, engine.registry, elapsedMs), config, delivery: tracking?.partial() });
    };
    for (const output of outputs) output.watch?.(summaryNow);
    let partialWritten = false;
    let finalSummary: Summary | undefined;
    const writePartialNow = () => {
      // Second signal: leave at once, but never without valid output files.
      if (partialWritten) return;
      partialWritten = true;
      // Messages in flight are cut off and counted as interrupted, not left out of every count.
      if (!finalSummary) engine.interruptAll();
      fixture?.killNow();
      sink?.killNow();
      const elapsedMs = performance.now() - engine.registry.startMs;
      const partial = finalSummary ?? buildSummary(snapshotResult(engine), options, { thresholds: judge(thresholds, engine.registry, elapsedMs), config, abortReason: 'interrupted twice', delivery: tracking?.partial() });
      // One output that cannot be written must not cost the others theirs.
      for (const failure of finishOutputsNow(outputs, partial)) stderr.write(formatOutputFailure(failure));
    };
    let isEngineDone = false;
    removeEarlyExit();
    removeEarlyExit = () => {};
    if (command.handleSignals) {
      // Kept until every output is written: a signal while they are written must not lose them.
      removeSignals = installInterruptHandlers({
        onFirst(signal) {
          // The live view is erased first, or the next redraw would count this line as its own
          if (!quiet) progress.noteStopping();
          if (tracking?.isWaitingNow) {
            stderr.write(`\n${signal}: stopping the wait for deliveries: the ${tracking.tracker.awaited} still awaited are reported as pending, not lost; press Ctrl+C again to quit at once\n`);
            tracking.stopWait();
          } else if (isEngineDone) stderr.write(`\n${signal}: writing the outputs; press Ctrl+C again to quit at once\n`);
          else {
            stderr.write(`\n${signal}: stopping — waiting for running messages (gracefulStop); press Ctrl+C again to quit at once\n`);
            engine.stop('interrupt');
          }
        },
        onSecond(signal) {
          writePartialNow();
          stderr.write(`${signal} again: partial results written; exiting\n`);
        },
      });
    }
    const stallLimitMs = command.stallLimitMs ?? 30_000;
    // Only scenario code can block the event loop for good, and a flags-only run has none (no
    // file, no scenario given as data): it runs without the watchdog, whose worker thread costs
    // ~17 ms of CPU to start, measured on a one-message run.
    const hasScenarioCode = loaded !== undefined || command.scenario !== undefined;
    const watchdog = command.handleSignals && stallLimitMs > 0 && hasScenarioCode
      ? startStallWatchdog({ stallLimitMs, childPids: [fixture?.pid, sink?.pid].filter((pid): pid is number => pid !== undefined) })
      : undefined;
    let snapshotTimer: NodeJS.Timeout | undefined;
    if (watchdog) {
      // What the watchdog writes if scenario code blocks the event loop: the outputs that can be
      // written from another thread (results, JUnit, summary files) and the console summary, as of now.
      const snapshotOutputs = outputs.filter((output) => output.textNow !== undefined && output.path !== undefined);
      const takeSnapshot = () => {
        const elapsedMs = performance.now() - engine.registry.startMs;
        const reason = `event loop blocked for ${stallLimitMs / 1000} s (scenario code that never yields): figures as of ${Math.round(elapsedMs / 1000)} s into the run`;
        const partial = buildSummary(snapshotResult(engine), options, { thresholds: judge(thresholds, engine.registry, elapsedMs), config, abortReason: reason });
        watchdog.snapshot({
          files: snapshotOutputs.map((output) => ({ path: output.path!, text: output.textNow!(partial) })),
          stdout: `\n${formatSummary(partial, { color: shouldColor(stdout, env), resultsFile, files: snapshotOutputs })}\n`,
        });
      };
      // Each second while that is cheap, up to every 10 s (or twice per stall limit): nextSnapshotDelayMs
      const scheduleSnapshot = () => {
        const startedMs = performance.now();
        takeSnapshot();
        snapshotTimer = setTimeout(scheduleSnapshot, nextSnapshotDelayMs(performance.now() - startedMs, stallLimitMs));
        snapshotTimer.unref();
      };
      scheduleSnapshot();
    }
    let result: TestResult;
    try {
      result = await engine.run();
    } catch (error) {
      if (!(error instanceof ScriptTimeoutError) || error.exitCode !== ExitCode.setupTimeout) throw error;
      // setup() hung: no load was sent, but every output still says so (aborted, zero load, why);
      // the error line and exit 100 follow from the error, as before.
      isEngineDone = true;
      progress.clear();
      const aborted = engine.setupTimedOut();
      const summary = buildSummary(aborted, options, { thresholds: judge(thresholds, engine.registry, 0), config, abortReason: error.message });
      finalSummary = summary;
      const failures = await finishOutputs(outputs, summary, { ...outputContext, result: aborted });
      for (const failure of failures) stderr.write(formatOutputFailure(failure));
      const failed = new Set(failures.map((failure) => failure.output));
      const written = outputs.filter((output) => !failed.has(output));
      stdout.write(formatSummary(summary, { color: shouldColor(stdout, env), resultsFile: written.find((output) => output.isResultsFile)?.path, files: written }) + '\n');
      if (failures.length > 0) stderr.write(outputFailuresLine(failures.length, outputs.length));
      isReported = true;
      throw error;
    } finally {
      clearTimeout(snapshotTimer);
      await watchdog?.stop();
    }
    isEngineDone = true;
    progress.clear();
    // The timeline of the load alone feeds the trend analysis (the wait adds idle windows)
    const loadTimeline = result.registry.timeline.slice();
    let delivery: DeliveryOutcome | undefined;
    if (tracking) {
      // Deliveries still on their way: wait for them (an interrupted load does not wait)
      const isTerminal = (stdout as { isTTY?: boolean }).isTTY === true;
      let lastPrintMs = -Infinity;
      const onProgress = quiet ? undefined : (awaited: number, leftMs: number) => {
        const now = performance.now();
        if (!isTerminal && now - lastPrintMs < (command.progressIntervalMs ?? 5000)) return;
        lastPrintMs = now;
        stdout.write(isTerminal ? `\r\x1b[K${formatDeliveryWait(awaited, leftMs)}` : `${formatDeliveryWait(awaited, leftMs)}\n`);
      };
      const ticker = setInterval(() => result.registry.tick(), 1000);
      try {
        await tracking.wait(onProgress, result.stopReason === 'interrupt');
      } finally {
        clearInterval(ticker);
      }
      if (isTerminal && !quiet) stdout.write('\r\x1b[K');
      delivery = await tracking.finish();
      result.registry.tick(performance.now(), true);
    }
    isEngineDone = true;

    const watch = watcher?.report() ?? null;
    const trends = analyseTrends(loadTimeline, watch, result.registry.warmupEndedAt, options.scenarios.map((s) => s.executor));
    const outcomes = judge(thresholds, result.registry, result.durationMs, trends);
    // A worker that died is named in the results file too: its figures stop at its last report.
    const lostWorkers = 'lostWorkers' in result ? (result.lostWorkers as string[]) : [];
    if (lostWorkers.length > 0) config[command.agents ? 'lost_agents' : 'lost_workers'] = lostWorkers;
    if (command.agents) config['agents'] = command.agents.addresses.map((address) => `${address.host}:${address.port}`);
    const abortReason = [engine.abortMessage, ...lostWorkers].filter((reason) => reason !== undefined).join('; ') || undefined;
    const aggregates = runAggregates(result, options, { thresholds: outcomes, config, abortReason, trends, watch, delivery });
    const summary = summarise(aggregates);
    finalSummary = summary;
    // The report draws the run's own histograms: no encoding and decoding them again.
    const distributions = { txn: aggregates.total.txn, responseTime: aggregates.responseTime };
    // Every output is attempted whatever became of the others; each failure is named (path, reason).
    const failures = await finishOutputs(outputs, summary, { ...outputContext, result, distributions });
    for (const failure of failures) stderr.write(formatOutputFailure(failure));
    const failed = new Set(failures.map((failure) => failure.output));
    const written = outputs.filter((output) => !failed.has(output));
    const writtenResultsFile = written.find((output) => output.isResultsFile)?.path;
    const textSummary = (o: { color?: boolean } = {}) => formatSummary(summary, { color: o.color ?? shouldColor(stdout, env), resultsFile: writtenResultsFile, files: written });
    // handleSummary replaces the console summary (k6); it runs after the files above are written.
    const custom = options.handleSummary ? await runHandleSummary(options.handleSummary, summary, { textSummary, resultsFile }, { stdout, stderr, cwd }, options.teardownTimeoutMs) : undefined;
    const isDefaultPrinted = !custom || custom.printDefault;
    if (isDefaultPrinted) stdout.write(textSummary() + '\n');
    if (fixture) {
      const received = await fixture.acceptedMessages();
      stdout.write(received === undefined ? 'Fake proxy received: unknown (its admin API did not answer)\n' : `Fake proxy received: ${received} messages\n`);
    }

    if (failures.length > 0) {
      stderr.write(outputFailuresLine(failures.length, outputs.length));
    }
    if (result.teardownTimedOut) stderr.write(`error: ${result.teardownTimedOut}\n`);
    const isNoIterationCompleted = hasNoIterationCompleted(summary);
    // A worker lost mid-run marks the run (103) unless it stopped for a reason of its own (a
    // stop because of the loss, --on-agent-loss stop, is the loss's)
    const isStoppedForLoss = 'isStoppedForLoss' in result && result.isStoppedForLoss === true;
    const isWorkerLost = lostWorkers.length > 0 && (result.stopReason === undefined || isStoppedForLoss);
    const exitCode = isWorkerLost ? ExitCode.generatorLost : exitCodeOf(result, outcomes, failures, custom?.error, delivery?.wait === 'interrupted', isNoIterationCompleted);
    // Why a failed run failed, for the verdict line (thresholds describe themselves)
    let failureReason: string | undefined;
    if (isWorkerLost) failureReason = `${lostWorkers.length} ${command.agents ? 'agent' : 'worker'}${lostWorkers.length === 1 ? '' : 's'} lost during the run (what each measured until its last report is kept)${isStoppedForLoss ? '; the run stopped there (--on-agent-loss stop)' : ''}`;
    else if (exitCode === ExitCode.teardownTimeout) failureReason = clipText(result.teardownTimedOut ?? 'teardown() did not settle', 160);
    else if (exitCode === ExitCode.outputError && failures.length > 0) failureReason = `${failures.length} of ${outputs.length} outputs could not be written`;
    else if (exitCode === ExitCode.scriptError && isNoIterationCompleted) failureReason = describeNoIterationCompleted(summary);
    else if (custom?.error && exitCode === custom.error.exitCode) failureReason = clipText(custom.error.message.split('\n')[0]!, 160);
    // The verdict is the last line, where a person (or the tail of a CI log) looks first.
    if (isDefaultPrinted) stdout.write(formatVerdict(summary, exitCode, { color: shouldColor(stdout, env), reason: failureReason }) + '\n');
    isReported = true;
    return { exitCode, summary, resultsFile: writtenResultsFile, options };
  } finally {
    removeEarlyExit();
    removeSignals();
    await api?.close();
    await loaded?.cleanup();
    // A run that failed before its wait still stops its source (and its long poll)
    if (tracking) await tracking.finish().catch(() => undefined);
    await fixture?.stop();
    await sink?.stop();
    // The metrics endpoint waits here (after the summary) for a scrape of the final values, the
    // dashboard serves them to its pages; a signal then ends that wait (the run's exit code stays).
    const lingerStop = new AbortController();
    const removeLingerStop = command.handleSignals && isReported
      ? installLingerStop((cause) => {
          if (!lingerStop.signal.aborted) stderr.write(`\n${cause}: no longer serving the final figures\n`);
          lingerStop.abort();
        })
      : () => {};
    try {
      await closeOutputs(outputs, { linger: isReported, signal: lingerStop.signal });
    } finally {
      removeLingerStop();
    }
  }
}

/**
 * The run's exit code (the order is errors.ts's): 105 interrupted, 108 aborted, 101 teardown
 * timed out, 111 an output failed, 107 no iteration completed, 99 a threshold failed, 107 (or
 * 111) handleSummary failed.
 */
export function exitCodeOf(result: Pick<TestResult, 'stopReason' | 'teardownTimedOut'>, outcomes: readonly ThresholdOutcome[], failures: readonly OutputFailure[], handleSummaryError?: RunnerError, isDeliveryWaitInterrupted = false, isNoIterationCompleted = false): number {
  if (result.stopReason === 'interrupt' || isDeliveryWaitInterrupted) return ExitCode.interrupted;
  if (result.stopReason === 'threshold') return ExitCode.abortedByThreshold;
  if (result.teardownTimedOut !== undefined) return ExitCode.teardownTimeout;
  if (failures.length > 0) return ExitCode.outputError;
  // Every iteration threw: the scenario is broken, whatever the thresholds (with no samples) say.
  if (isNoIterationCompleted) return ExitCode.scriptError;
  if (outcomes.some((o) => !o.ok)) return ExitCode.thresholdsFailed;
  // A broken handleSummary fails an otherwise good run (107, or 111 for a file), never hides another failure.
  return handleSummaryError?.exitCode ?? ExitCode.ok;
}

/** What `--workers` cannot combine with, said before anything starts; and every segment must be able to run. */
function checkWorkersOptions(command: RunCommandOptions, options: ResolvedOptions, count: number, flag: '--workers' | '--agents'): void {
  const conflicts: Array<[boolean, string, string]> = [
    [options.delivery !== undefined, '--delivery / --with-sink', '--delivery / --with-sink (delivery tracking runs in one process)'],
    [command.overrides.executionSegment !== undefined, '--execution-segment', `--execution-segment (${flag} gives each ${flag === '--workers' ? 'worker' : 'agent'} its segment)`],
    [command.debugSessions !== undefined, '--debug', '--debug (the transcript of one process)'],
  ];
  const found = conflicts.filter(([isSet]) => isSet);
  if (found.length > 0) {
    throw new UsageError(`${flag} cannot be combined with ${found.map(([, , why]) => why).join(', ')}`, `leave ${flag} out, or leave ${found.map(([, name]) => name).join(' and ')} out`);
  }
  checkWorkerSplit(options, count, flag);
}

/** Files the run reads, which no output may overwrite: the scenario file, accounts files. */
function runInputs(options: ResolvedOptions): Array<{ path: string; what: string }> {
  const inputs: Array<{ path: string; what: string }> = [];
  if (options.file) inputs.push({ path: options.file, what: 'scenario file' });
  for (const scenario of options.scenarios) {
    const file = scenario.accounts.file;
    if (file !== undefined && !inputs.some((input) => input.path === file)) inputs.push({ path: file, what: 'accounts file' });
  }
  return inputs;
}

/** The scenario a flags-only run describes: the guide's `--num-emails N --concurrent C`. */
function flagsScenario(command: RunCommandOptions): ScenarioFileOptions {
  return {
    scenarios: {
      default: {
        executor: command.batches ? 'batches' : 'shared-iterations',
        vus: command.concurrent ?? DEFAULTS.concurrent,
        iterations: command.numEmails ?? DEFAULTS.numEmails,
        // The old tool ran until every email was sent, however long; keep that (a stop is Ctrl+C).
        maxDuration: '24h',
      },
    },
  };
}

/** The `config` block of the results file (the guide's num_emails/concurrent, and more). */
function describeConfig(options: ResolvedOptions, command: RunCommandOptions): Record<string, unknown> {
  const first = options.scenarios[0]!;
  const config: Record<string, unknown> = {};
  const guide = options.scenarios.length === 1 ? executorOf(first).guideCounts?.(first) : undefined;
  if (guide) {
    config['num_emails'] = guide.emails;
    config['concurrent'] = guide.concurrent;
  }
  Object.assign(config, {
    scenario_file: options.file ?? null,
    from: first.smtp.from,
    to: first.smtp.to,
    accounts: first.accounts.emails,
    message_size_bytes: first.smtp.messageSize,
    messages_per_connection: first.smtp.messagesPerConnection,
    auth: first.smtp.auth,
    batches: command.batches ?? false,
    scenarios: Object.fromEntries(options.scenarios.map((s) => [s.name, scenarioConfig(s)])),
  });
  if (options.delivery) config['delivery'] = describeDeliverySource(options.delivery);
  return config;
}

function scenarioConfig(s: ResolvedOptions['scenarios'][number]): Record<string, unknown> {
  const base = { executor: s.executor, start_time_ms: s.startTimeMs, graceful_stop_ms: s.gracefulStopMs, tags: s.tags };
  return { ...base, ...executorOf(s).describeConfig(s) };
}

/** Judges every threshold against the registry. */
function judge(defs: ThresholdDefinition[], registry: MetricsRegistry, elapsedMs: number, trends?: RunTrends): ThresholdOutcome[] {
  const isTime = new Map(defs.map((def) => [def.metric.key, def.isTime]));
  const lookup = (key: { metric: string; tags: Record<string, string> }) =>
    (trends && trendMetricValues(trends, key.metric)) || registry.values(key.metric, key.tags, elapsedMs);
  return evaluateThresholds(defs, lookup).map((r) => ({
    metric: r.metricKey,
    condition: r.source,
    ok: r.ok,
    actual: r.actual ?? null,
    abort_on_fail: r.abortOnFail,
    // A count of a time trend is a number of samples, not a duration
    is_time: (isTime.get(r.metricKey) ?? false) && r.aggregation !== 'count',
  }));
}

/** Checks abortOnFail thresholds on each tick, after their delayAbortEval. */
function abortCheckFor(defs: ThresholdDefinition[]) {
  if (!defs.some((def) => def.conditions.some((c) => c.abortOnFail))) return undefined;
  const isTime = new Map(defs.map((def) => [def.metric.key, def.isTime]));
  return (registry: MetricsRegistry, elapsedMs: number): string | undefined => {
    const failed = findAbortingFailures(defs, (key) => registry.values(key.metric, key.tags, elapsedMs), elapsedMs)[0];
    if (!failed) return undefined;
    const actual = failed.actual === undefined ? 'no samples' : formatThresholdActual(failed, isTime.get(failed.metricKey) ?? false);
    return `threshold ${failed.metricKey} ${failed.source} failed (actual ${actual}) with abortOnFail`;
  };
}

/** A TestResult for what has been measured so far (a second signal's partial results). */
function snapshotResult(engine: Pick<Engine, 'registry' | 'progress' | 'setupData'>): TestResult {
  return {
    registry: engine.registry,
    startedAt: new Date(Date.now() - (performance.now() - engine.registry.startMs)),
    durationMs: performance.now() - engine.registry.startMs,
    stopReason: 'interrupt',
    scenarios: engine.progress(),
    setupData: engine.setupData,
  };
}

/**
 * The fixture's --tls: as asked (--tls), else the TLS mode the scenario file's smtp options use,
 * so a STARTTLS or implicit-TLS scenario runs against a fixture that speaks it. One fixture
 * serves one mode: scenarios that want different ones need --tls (or a fixture each).
 */
export function withFixtureTls(args: string[], file: ScenarioFileOptions | undefined, cliTls: TlsMode | undefined, only?: readonly string[]): string[] {
  if (args.includes('--tls')) return args;
  if (cliTls !== undefined) return cliTls === 'none' ? args : [...args, '--tls', cliTls];
  const modes = new Set<TlsMode>();
  for (const [name, scenario] of Object.entries(file?.scenarios ?? {})) {
    if (only !== undefined && only.length > 0 && !only.includes(name)) continue;
    const mode = scenario.smtp?.tls ?? file?.smtp?.tls ?? 'none';
    // A misspelt mode is the option validation's to report (with a "did you mean"), not ours
    if ((TLS_MODES as readonly string[]).includes(mode)) modes.add(mode);
  }
  if (modes.size === 0 && file?.smtp?.tls !== undefined && (TLS_MODES as readonly string[]).includes(file.smtp.tls)) modes.add(file.smtp.tls);
  if (modes.size > 1) {
    throw new UsageError(
      `--with-fixture: the scenarios use different TLS modes (${[...modes].join(', ')}) and the fixture serves one`,
      'choose one with --tls, or run the scenarios one at a time (--scenario NAME)',
    );
  }
  const [mode] = modes;
  return mode === undefined || mode === 'none' ? args : [...args, '--tls', mode];
}

/** A helper server runner starts in its own process (the fake proxy, the sink) so it does not share our event loop. */
interface ChildServer {
  /** Its process id (the stall watchdog ends it). */
  pid: number;
  port: number;
  adminPort: number;
  /** With `--tls`: its self-signed certificate's PEM file. */
  caFile?: string;
  /** Messages it accepted, from its admin API; undefined when that does not answer. */
  acceptedMessages(): Promise<number | undefined>;
  stop(): Promise<void>;
  /** Signals it to stop without waiting (we are about to exit). */
  killNow(): void;
}

/** How to start one kind of helper server and read its ports from its first line of output. */
interface ChildServerKind {
  /** Its name in messages. */
  name: string;
  /** The flag that starts it, in our messages ('--with-fixture'). */
  flag: string;
  /** The runner command and its fixed flags (free ports). */
  args: string[];
  /** Its flags as the user wrote them (ours carry a prefix): `--delay` → `--fixture-delay`. */
  asTyped(text: string): string;
  /** The ports from its ready line, or undefined when the line is not it. */
  parseReady(line: string): { port: number; adminPort: number; caFile?: string } | undefined;
}

const FIXTURE_PROCESS: ChildServerKind = {
  name: 'the built-in fake proxy',
  flag: '--with-fixture',
  args: ['fixture', '--port', '0', '--admin-port', '0', '--json'],
  asTyped: (text) => text.replace(/--(delay|failure)\b/g, '--fixture-$1'),
  parseReady(line) {
    try {
      return JSON.parse(line) as { port: number; adminPort: number; caFile?: string };
    } catch {
      return undefined;
    }
  },
};

const SINK_PROCESS: ChildServerKind = {
  name: 'the built-in sink',
  flag: '--with-sink',
  args: ['sink', '--port', '0', '--admin-port', '0', '--json'],
  asTyped: (text) => text.replace(/--(port|failure)\b/g, '--sink-$1'),
  // `runner sink --json` prints one line once it listens: {"smtpPort":…,"adminPort":…,…}
  parseReady(line) {
    try {
      const ready = JSON.parse(line) as { smtpPort?: unknown; adminPort?: unknown };
      return typeof ready.smtpPort === 'number' && typeof ready.adminPort === 'number' ? { port: ready.smtpPort, adminPort: ready.adminPort } : undefined;
    } catch {
      return undefined;
    }
  },
};

async function startChildProcess(kind: ChildServerKind, extraArgs: string[], stderr: NodeJS.WritableStream): Promise<ChildServer> {
  const cli = fileURLToPath(new URL('../bin/runner.js', import.meta.url));
  // A later --port (the user's --sink-port) wins over the free port asked first
  const child: ChildProcess = loadBuiltin('node:child_process').spawn(process.execPath, [cli, ...kind.args, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl+C on a terminal signals the whole foreground group, and the
    // fixture must keep serving while the run stops gracefully; we stop it ourselves after.
    detached: true,
  });
  // A hang-up (terminal closed) no longer reaches it either. When runner's own handlers take it
  // (interrupt.ts: a graceful stop, the outputs written, the child stopped after), nothing to do;
  // otherwise (an in-process caller) pass it on, then go as SIGHUP would.
  const onHangup = () => {
    if (process.listenerCount('SIGHUP') > 0) return;
    child.kill('SIGTERM');
    process.exit(129);
  };
  process.once('SIGHUP', onHangup);
  child.once('exit', () => process.off('SIGHUP', onHangup));
  // Whatever way we leave (a second Ctrl+C calls process.exit), the fixture we started goes too.
  const killChild = () => child.kill('SIGTERM');
  process.once('exit', killChild);
  child.once('exit', () => process.off('exit', killChild));
  // Until it is ready its stderr is kept: a bad --fixture-* flag becomes our one error line.
  let earlyStderr: string | undefined = '';
  child.stderr!.on('data', (chunk) => {
    if (earlyStderr === undefined) stderr.write(chunk);
    else earlyStderr += chunk;
  });
  const ready = await new Promise<{ port: number; adminPort: number; caFile?: string }>((resolve, reject) => {
    const lines = loadBuiltin('node:readline').createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new RunnerError(`${kind.name} did not start within 10 s`, { code: 'E_FIXTURE', exit: 'failure' }));
    }, 10_000);
    // The first line that says where it listens (a sink may print where its CA file is first)
    let said = '';
    const onLine = (line: string) => {
      const parsed = kind.parseReady(line);
      if (parsed === undefined) {
        said += (said ? ' / ' : '') + line;
        return;
      }
      clearTimeout(timer);
      lines.off('line', onLine);
      // Later lines are the child's to say: passed on
      lines.on('line', (later) => stderr.write(`${escapeControl(later)}\n`));
      resolve(parsed);
    };
    lines.on('line', onLine);
    // 'close', not 'exit': by then its stderr has been read to the end.
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(childStartError(kind, code, earlyStderr ?? '', said));
    });
  });
  if (earlyStderr) stderr.write(earlyStderr);
  earlyStderr = undefined;
  return {
    ...ready,
    pid: child.pid!,
    async acceptedMessages() {
      try {
        const response = await fetch(`http://127.0.0.1:${ready.adminPort}/__stats`);
        const stats = (await response.json()) as { messagesAccepted: number };
        return stats.messagesAccepted;
      } catch {
        return undefined;
      }
    },
    killNow() {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Why a helper server exited before it was ready, in its own words (its `error:`/`hint:` lines) and with its exit code. */
function childStartError(kind: ChildServerKind, code: number | null, childStderr: string, childStdout = ''): RunnerError {
  // Its flags are ours with a prefix: name them as the user wrote them.
  const asTyped = (text: string | undefined) => (text === undefined ? undefined : kind.asTyped(text));
  const message = asTyped(/^error: (.*)$/m.exec(childStderr)?.[1]);
  const hint = asTyped(/^hint: (.*)$/m.exec(childStderr)?.[1]);
  const exit = (Object.keys(ExitCode) as ExitCodeName[]).find((name) => name !== 'ok' && ExitCode[name] === code) ?? 'failure';
  if (message) return new RunnerError(`${kind.flag}: ${message}`, { code: 'E_FIXTURE', exit, hint });
  const output = [childStderr.trim(), childStdout.trim()].filter(Boolean).join(' / ');
  const said = output ? `: ${output}` : '';
  return new RunnerError(`${kind.name} exited (code ${code}) before it was ready${said}`, { code: 'E_FIXTURE', exit });
}

/** The line after the failed outputs' own errors: how many, and that the others were written when there are others. */
function outputFailuresLine(failed: number, total: number): string {
  return `error: ${failed} of ${total} outputs could not be written (listed above)${failed < total ? '; the others were' : ''}\n`;
}
