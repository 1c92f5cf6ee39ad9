/**
 * The flags several commands share, as groups (the idea of tsx's src/cli.ts: flags as objects,
 * spread where they apply, typed when read). A group declares its flags on a command (`add`) and
 * turns what commander parsed into a typed object (`read`) that the command spreads into the
 * options of the one function it calls. `run`, `sweep` and `check` take the same group for the
 * same flags, so names, parsers, defaults and help cannot drift apart.
 *
 * | group                 | run | sweep | check |
 * | --------------------- | --- | ----- | ----- |
 * | TARGET_FLAGS          |  ✓  |   ✓   |   ✓   |
 * | AUTH_FLAGS            |  ✓  |   ✓   |   ✓   |
 * | TLS_FLAGS             |  ✓  |   ✓   |   ✓   |
 * | RECIPIENT_FLAGS       |  ✓  |   ✓   |       |  (check sends no mail: MAIL FROM, then RSET)
 * | MESSAGE_FLAGS         |  ✓  |   ✓   |       |
 * | PREFLIGHT_WATCH_FLAGS |  ✓  |   ✓   |       |
 * | FIXTURE_FLAGS         |  ✓  |   ✓   |       |
 * | OUTPUT_FLAGS          |  ✓  |       |       |  (sweep's --out is its own sweep file)
 * | DELIVERY_FLAGS        |  ✓  |       |       |
 * | LOAD_FLAGS            |  ✓  |       |       |  (and inspect, archive: they plan the same run)
 * | API_FLAGS             |  ✓  |       |       |  (and pause, resume, scale, status: the client side)
 */
import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { Command, OptionValues } from 'commander';
import { DEFAULTS } from '../scenario/defaults.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import type { CliOverrides } from '../scenario/options.ts';
import type { AuthMechanism, SmtpProtocol, TlsMode } from '../scenario/types.ts';
import { SMTP_PROTOCOLS, TLS_VERSIONS, type TlsVersion } from '../smtp/settings.ts';
import { REAL_MAIL_FREE_MESSAGES, ALLOW_REAL_RECIPIENTS_FLAG, terminalQuestion, type RecipientSafety } from '../safety.ts';
import { DEFAULT_API_ADDRESS } from '../api/address.ts';
import { unbracketHost } from '../listen-address.ts';
import { DASHBOARD_EXPOSURE, DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_LINGER_MS, type DashboardOptions } from '../outputs/dashboard.ts';
import { DEFAULT_METRICS_HOST, DEFAULT_METRICS_LINGER_MS, METRICS_EXPOSURE, type MetricsEndpointOptions } from '../outputs/prometheus.ts';
import { checkExposure, parseListenAddress } from '../listen-address.ts';
import { UsageError } from '../errors.ts';
import { InvalidArgumentError } from 'commander';
import { messageSizeProblem } from '../scenario/validate.ts';
import type { MessageSizeSpec } from '../smtp/size-distribution.ts';
import { AUTH_MECHANISMS, choice, collect, duration, integer, keyValues, port, positiveNumber, targetPort, TLS_MODES, warmup } from './flags.ts';

/**
 * The headings `--help` lists flags under (commander's optionsGroup), as k6 groups its flags.
 * Each group below puts its flags under its heading; a command puts its own flags under one of
 * these (or its own) and ends with `endHelpGroups`. Headings appear in the order their first
 * flag was added.
 */
export const HELP_GROUPS = {
  target: 'Target (where the proxy is, or the built-in fake one):',
  load: 'Load (how much, how long):',
  smtp: 'SMTP (recipients, messages, sessions):',
  tlsAuth: 'TLS and AUTH:',
  outputs: 'Outputs (console, files, endpoints, the server process):',
  safety: 'Safety (preflight, real recipients):',
} as const;

/** Puts the flags added after it (commander's -h, --help) under 'Options:' again. */
export function endHelpGroups(command: Command): Command {
  return command.optionsGroup('Options:');
}

/** Flags some commands share: `add` declares them on a command, `read` types what commander parsed. */
export interface FlagGroup<T> {
  add(command: Command): Command;
  /** `flags`: `command.opts()` (the second-to-last argument of an action). */
  read(flags: OptionValues): T;
}

/** --host, --port, --admin-url, --local-ips, --protocol: where the proxy is, where from and how to speak to it. */
export const TARGET_FLAGS: FlagGroup<Pick<CliOverrides, 'host' | 'port' | 'adminUrl' | 'localIps' | 'protocol'>> = {
  add: (command) =>
    command
      .optionsGroup(HELP_GROUPS.target)
      .option('--host <host>', `SMTP host (default: ${DEFAULTS.host})`)
      .option('--port <port>', `SMTP port (default: ${DEFAULTS.port})`, targetPort)
      .option('--admin-url <url>', `the proxy's admin API, for hints (runner check reads its /health and /admin/accounts) (default: ${DEFAULTS.adminUrl})`)
      .option('--local-ips <list>', 'source addresses, round robin per connection, in k6\'s syntax: addresses, ranges and CIDR blocks, e.g. 127.0.0.2-127.0.0.9,::1 (each must be on this machine; results per address in source_ips)')
      .option('--protocol <protocol>', `${SMTP_PROTOCOLS.join(' or ')}: lmtp speaks LMTP (RFC 2033): LHLO, one reply per recipient after the data (default: ${DEFAULTS.protocol})`, choice(SMTP_PROTOCOLS, '--protocol')),
  read(flags) {
    const parsed = flags as { host?: string; port?: number; adminUrl?: string; localIps?: string; protocol?: SmtpProtocol };
    // --host '[::1]' (as in a URL) is the address, for every command that takes the target flags
    return { host: parsed.host === undefined ? undefined : unbracketHost(parsed.host), port: parsed.port, adminUrl: parsed.adminUrl, localIps: parsed.localIps, protocol: parsed.protocol };
  },
};

/**
 * --from, --auth, --no-auth, --password, --token. With both --auth and --no-auth defined
 * commander leaves `auth` undefined unless given; false means --no-auth, read as 'none'.
 */
export const AUTH_FLAGS: FlagGroup<Pick<CliOverrides, 'from' | 'auth' | 'password' | 'token'>> = {
  add: (command) =>
    command
      .optionsGroup(HELP_GROUPS.tlsAuth)
      .option('--from <email>', `sender and AUTH user; must be an account the proxy knows (default: ${DEFAULTS.from})`)
      .option('--auth <mechanism>', `AUTH mechanism: ${AUTH_MECHANISMS.join(', ')} (default: ${DEFAULTS.auth})`, choice(AUTH_MECHANISMS, '--auth'))
      .option('--no-auth', 'skip AUTH (plain SMTP servers such as smtp-sink); same as --auth none')
      .option('--password <password>', 'AUTH PLAIN/LOGIN password (the XOAUTH2 proxy ignores it); redacted in every output')
      .option('--token <token>', 'bearer token for --auth xoauth2, e.g. --token "$TOKEN"; redacted in every output'),
  read(flags) {
    const parsed = flags as { from?: string; auth?: AuthMechanism | false; password?: string; token?: string };
    return { from: parsed.from, auth: parsed.auth === false ? 'none' : parsed.auth, password: parsed.password, token: parsed.token };
  },
};

/** --tls, --tls-ca, --tls-servername, --insecure-skip-tls-verify, --tls-cert/--tls-key, --tls-min/max-version, --tls-ciphers, --tls-resumption. */
export const TLS_FLAGS: FlagGroup<Pick<CliOverrides, 'tls' | 'tlsCa' | 'tlsServername' | 'insecureSkipTlsVerify' | 'tlsCert' | 'tlsKey' | 'tlsMinVersion' | 'tlsMaxVersion' | 'tlsCiphers' | 'tlsResumption'>> = {
  add: (command) =>
    command
      .optionsGroup(HELP_GROUPS.tlsAuth)
      .option('--tls <mode>', `TLS: ${TLS_MODES.join(', ')} (starttls: RFC 3207 after EHLO; implicit: port 465 style) (default: ${DEFAULTS.tls})`, choice(TLS_MODES, '--tls'))
      .option('--tls-ca <file>', 'PEM file of CA certificates to trust (a self-signed server)')
      .option('--tls-servername <name>', 'name the server certificate must carry, sent as SNI (default: --host)')
      .option('--insecure-skip-tls-verify', 'accept any server certificate (test servers only)')
      .option('--tls-cert <file>', 'PEM file of a client certificate for mutual TLS (RFC 8446 §4.4.2); needs --tls-key')
      .option('--tls-key <file>', 'PEM file of the client certificate\'s private key; needs --tls-cert')
      .option('--tls-min-version <version>', `oldest TLS version to offer: ${TLS_VERSIONS.join(', ')} (default: Node's, TLSv1.2)`, choice(TLS_VERSIONS, '--tls-min-version'))
      .option('--tls-max-version <version>', `newest TLS version to offer: ${TLS_VERSIONS.join(', ')} (default: Node's, TLSv1.3)`, choice(TLS_VERSIONS, '--tls-max-version'))
      .option('--tls-ciphers <list>', 'OpenSSL cipher list, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256 (default: Node\'s)')
      .option('--tls-resumption', 'resume TLS sessions across each VU\'s connections (RFC 5077 tickets, RFC 8446 §2.2); resumed handshakes are timed apart as tls_resumed'),
  read(flags) {
    const parsed = flags as { tls?: TlsMode; tlsCa?: string; tlsServername?: string; insecureSkipTlsVerify?: boolean; tlsCert?: string; tlsKey?: string; tlsMinVersion?: TlsVersion; tlsMaxVersion?: TlsVersion; tlsCiphers?: string; tlsResumption?: boolean };
    // Relative to where the command runs, not to a scenario file
    const absolute = (file: string | undefined) => (file === undefined ? undefined : resolvePath(file));
    return {
      tls: parsed.tls,
      tlsCa: absolute(parsed.tlsCa),
      tlsServername: parsed.tlsServername,
      insecureSkipTlsVerify: parsed.insecureSkipTlsVerify,
      tlsCert: absolute(parsed.tlsCert),
      tlsKey: absolute(parsed.tlsKey),
      tlsMinVersion: parsed.tlsMinVersion,
      tlsMaxVersion: parsed.tlsMaxVersion,
      tlsCiphers: parsed.tlsCiphers,
      tlsResumption: parsed.tlsResumption === true ? true : undefined,
    };
  },
};

/** What RECIPIENT_FLAGS reads: the recipients, and how to acknowledge real ones (safety.ts). */
export interface RecipientFlags {
  to?: string[];
  safety: Pick<RecipientSafety, 'isAllowed' | 'ask'>;
}

/** --to, --allow-real-recipients: every command that sends mail takes both, and so asks before mailing real people. */
export const RECIPIENT_FLAGS: FlagGroup<RecipientFlags> = {
  add: (command) =>
    command
      .optionsGroup(HELP_GROUPS.smtp)
      .option('--to <email>', `recipient; repeat for several (default: ${DEFAULTS.to})`, collect)
      .optionsGroup(HELP_GROUPS.safety)
      .option(ALLOW_REAL_RECIPIENTS_FLAG, `acknowledge sending more than ${REAL_MAIL_FREE_MESSAGES} messages to recipients outside reserved test domains (example.com, *.test, *.invalid): real mailboxes through the proxy`),
  read(flags) {
    const parsed = flags as { to?: string[]; allowRealRecipients?: boolean };
    return { to: parsed.to, safety: { isAllowed: parsed.allowRealRecipients === true, ask: terminalQuestion() } };
  },
};

/** --message-size, --messages-per-connection, --no-rset, --no-pipelining, --no-pipeline-ahead, --chunking, --timeout, --think-time, --retry, --tag: what each message and session looks like. */
export const MESSAGE_FLAGS: FlagGroup<Pick<CliOverrides, 'messageSize' | 'messagesPerConnection' | 'rsetBetweenMessages' | 'pipelining' | 'chunking' | 'chunkSizeBytes' | 'timeoutMs' | 'thinkTime' | 'retry' | 'clientFaults' | 'tags' | 'headers' | 'bodyFile' | 'attach'>> = {
  add: (command) =>
    command
      .optionsGroup(HELP_GROUPS.smtp)
      .option('--message-size <size>', `body size: bytes (4096), with a k/m suffix (20k), or a uniform range each message draws from (1k-100k); a file's smtp.messageSize also takes lognormal and weighted sizes (default: ${DEFAULTS.messageSize})`, messageSizeFlag)
      .option('--messages-per-connection <n>', `messages per connection, RSET between (default: ${DEFAULTS.messagesPerConnection})`, integer(1, '--messages-per-connection', 'iterations'))
      .option('--no-rset', 'on a reused connection, send RSET only after a failed message, not between accepted ones (as smtp-source and MTAs do)')
      .option('--no-pipelining', 'send one command at a time even when the server offers PIPELINING (RFC 2920); by default MAIL, RCPT and DATA go in one write')
      .option('--no-pipeline-ahead', "pipeline within each transaction only: on a reused connection the next message's MAIL waits for the previous message's reply (by default it goes with that message's data)")
      .option('--chunking', 'send messages with BDAT (RFC 3030) when the server offers CHUNKING (default: DATA)')
      .option('--chunk-size <bytes>', `largest BDAT chunk with --chunking; 0: the whole message in one (default: ${DEFAULTS.chunkSize})`, integer(0, '--chunk-size'))
      .option('--timeout <duration>', `reply timeout per phase, e.g. 10s (default: ${DEFAULTS.timeout})`, duration)
      .option('--think-time <duration>', 'pause after each message, inside the iteration (counts in iteration_duration, in no SMTP latency): 1s, or a uniform range 200ms..2s (no pause by default; a file with iteration(ctx) calls sleep() instead)')
      .option('--retry <codes[:attempts]>', 'retry deferred messages like an MTA: replies that defer (451,421 or 4xx) and attempts in all, e.g. 451,421:5; backoff 1s doubling to 5m, jittered; counted in smtp_deferrals, not failed, until the attempts run out (default: every reply is final)')
      .option('--header <"Name: value">', "a header on every message, e.g. --header 'X-Campaign: q4'; repeatable ({{vu}}, {{iteration}}, {{seq}} are filled per message; Message-ID, Date and X-Runner-Trace stay runner's)", collect)
      .option('--body-file <file>', 'the text body of every message, read once ({{vu}}, {{iteration}}, {{seq}} filled per message; default: the generated body of --message-size)')
      .option('--attach <file>', 'attach a file to every message (read and base64-encoded once; MIME multipart/mixed); repeatable', collect)
      .option('--client-fault <kind:probability[:parameter]>', 'a client-side fault on that share of messages, counted under client_faults, never as a failure; repeatable. Kinds: abort-data[:bytes] (drop the connection mid-DATA, default 512), slow-body[:bytes/s] (default 1024), idle-after-mail[:duration] (default 5s), drop-after-accept (no QUIT), rset-storm[:count] (RSETs before MAIL, default 10); e.g. abort-data:0.05', collect)
      .option('--tag <key=value>', 'tag every sample; repeatable', collect),
  read(flags) {
    const parsed = flags as { messageSize?: MessageSizeSpec; messagesPerConnection?: number; rset?: boolean; pipelining?: boolean; pipelineAhead?: boolean; chunking?: boolean; chunkSize?: number; timeout?: string; thinkTime?: string; retry?: string; clientFault?: string[]; tag?: string[]; header?: string[]; bodyFile?: string; attach?: string[] };
    return {
      messageSize: parsed.messageSize,
      messagesPerConnection: parsed.messagesPerConnection,
      // commander sets rset to true unless --no-rset: only the flag overrides the scenario
      rsetBetweenMessages: parsed.rset === false ? false : undefined,
      pipelining: parsed.pipelining === false ? 'off' : parsed.pipelineAhead === false ? 'transaction' : undefined,
      chunking: parsed.chunking === true ? true : undefined,
      chunkSizeBytes: parsed.chunkSize,
      timeoutMs: parsed.timeout === undefined ? undefined : parseDurationMs(parsed.timeout),
      thinkTime: parsed.thinkTime,
      retry: parsed.retry,
      clientFaults: parsed.clientFault,
      tags: keyValues(parsed.tag, '--tag'),
      headers: parsed.header,
      bodyFile: parsed.bodyFile === undefined ? undefined : resolvePath(parsed.bodyFile),
      attach: parsed.attach?.map((path) => resolvePath(path)),
    };
  },
};

/**
 * --vus, --iterations, --duration, --rate, --warmup, --summary-trend-stats, --scale, --scenario,
 * --env: the size and selection of a run, which `run` executes and `inspect`/`archive` plan and record.
 */
export const LOAD_FLAGS: FlagGroup<Pick<CliOverrides, 'vus' | 'iterations' | 'duration' | 'rate' | 'scale' | 'warmup' | 'summaryTrendStats' | 'env' | 'scenario'>> = {
  add: (command) =>
    command
      .optionsGroup(HELP_GROUPS.load)
      .option('--vus <n>', 'override VUs of every scenario', integer(1, '--vus', 'vus'))
      .option('--iterations <n>', 'override iterations of iteration-based scenarios', integer(1, '--iterations', 'iterations'))
      .option('--duration <duration>', 'override duration (stages are rescaled to it), e.g. 30s', duration)
      .option('--rate <n>', 'override the rate of constant-arrival-rate scenarios (per timeUnit)', positiveNumber('--rate'))
      .option('--warmup <duration|messages>', 'leave the start out of the summary and thresholds: a duration (30s) or a number of messages', warmup)
      .option('--summary-trend-stats <list>', "trend figures the console summary, --summary-json and --junit list, e.g. 'avg,min,med,p(90),p(99.9),max,count' (default: the fixed Latency and Phases blocks only)")
      .option('--scale <factor>', 'multiply every duration and iteration count, e.g. 0.01 for a quick smoke run', positiveNumber('--scale'))
      .option('--scenario <name>', 'run only this named scenario; repeat for several', collect)
      .option('--env <KEY=VALUE>', 'environment for scenario code (ctx.env); repeatable', collect),
  read(flags) {
    const parsed = flags as { vus?: number; iterations?: number; duration?: string; rate?: number; warmup?: string; summaryTrendStats?: string; scale?: number; scenario?: string[]; env?: string[] };
    return {
      vus: parsed.vus,
      iterations: parsed.iterations,
      duration: parsed.duration,
      rate: parsed.rate,
      scale: parsed.scale,
      warmup: parsed.warmup,
      summaryTrendStats: parsed.summaryTrendStats,
      env: keyValues(parsed.env, '--env'),
      scenario: parsed.scenario,
    };
  },
};

/** --no-check, --watch-pid, --no-watch: the preflight before the load and the sampling of the server process during it. */
export const PREFLIGHT_WATCH_FLAGS: FlagGroup<{ check?: boolean; watchPid?: number | false }> = {
  add: (command) =>
    command
      .optionsGroup(HELP_GROUPS.safety)
      .option('--no-check', 'skip the preflight (connect, greeting, EHLO and AUTH with each sender) before any load (sweep: before its first step)')
      .optionsGroup(HELP_GROUPS.outputs)
      .option('--watch-pid <pid>', 'sample this process\'s CPU and memory during the load (default: the local process listening on the target port)', integer(1, '--watch-pid'))
      .option('--no-watch', 'do not sample the server process'),
  read(flags) {
    const parsed = flags as { check?: boolean; watch?: boolean; watchPid?: number };
    return { check: parsed.check, watchPid: parsed.watch === false ? false : parsed.watchPid };
  },
};

/** --with-fixture, --fixture-delay, --fixture-failure: the built-in fake proxy as the target. */
export const FIXTURE_FLAGS: FlagGroup<{ withFixture?: boolean; fixtureArgs: string[] }> = {
  add: (command) =>
    command
      .optionsGroup(HELP_GROUPS.target)
      .option('--with-fixture', 'start the built-in fake proxy in its own process and run against it (sweep: one per step)')
      .option('--fixture-delay <phase=spec>', 'with --with-fixture: a server delay, e.g. message=50 (see runner fixture --help)', collect)
      .option('--fixture-failure <phase=spec>', 'with --with-fixture: injected failures, e.g. message=451:0.1', collect),
  read(flags) {
    const parsed = flags as { withFixture?: boolean; fixtureDelay?: string[]; fixtureFailure?: string[] };
    // The fixture's --tls comes from --tls or the scenario (run.ts withFixtureTls)
    const fixtureArgs = [...(parsed.fixtureDelay ?? []).flatMap((d) => ['--delay', d]), ...(parsed.fixtureFailure ?? []).flatMap((f) => ['--failure', f])];
    return { withFixture: parsed.withFixture, fixtureArgs };
  },
};

/** What DELIVERY_FLAGS reads. */
export interface DeliveryFlags {
  /** --delivery sink=URL */
  delivery?: string;
  /** --delivery-timeout */
  deliveryTimeout?: string;
  /** --with-sink: start `runner sink` in a child process and track delivery through it. */
  withSink?: boolean;
  /** Extra flags for that sink (--sink-port, --sink-failure). */
  sinkArgs: string[];
}

/**
 * --delivery, --delivery-timeout, --with-sink, --sink-port, --sink-failure: delivery truth
 * (runner/delivery/): which accepted messages reached the upstream provider.
 */
export const DELIVERY_FLAGS: FlagGroup<DeliveryFlags> = {
  add: (command) =>
    command
      .option('--delivery <source>', 'track which accepted messages arrive upstream: sink=http://HOST:ADMIN_PORT (a runner sink\'s admin URL); adds smtp_delivered, smtp_lost, smtp_duplicated, smtp_delivery_lag, smtp_e2e_duration')
      .option('--delivery-timeout <duration>', 'how long after its 250 a message may take to arrive before it counts as lost (default: 60s)')
      .option('--with-sink', 'start runner sink (a fake upstream provider) in its own process and track delivery through it; with --with-fixture the fake proxy relays to it')
      .option('--sink-port <port>', 'with --with-sink: the sink\'s SMTP port (default: a free one), for pointing a real proxy at it', port)
      .option('--sink-failure <phase=spec>', 'with --with-sink: failures the sink injects, e.g. message=454:0.1 (see runner sink --help)', collect),
  read(flags) {
    const parsed = flags as { delivery?: string; deliveryTimeout?: string; withSink?: boolean; sinkPort?: number; sinkFailure?: string[] };
    const sinkArgs = [...(parsed.sinkPort !== undefined ? ['--port', String(parsed.sinkPort)] : []), ...(parsed.sinkFailure ?? []).flatMap((f) => ['--failure', f])];
    if (!parsed.withSink && sinkArgs.length > 0) throw new UsageError('--sink-port and --sink-failure need --with-sink', 'add --with-sink, or point --delivery sink=URL at a sink you started');
    if (parsed.withSink && parsed.delivery !== undefined) throw new UsageError('--with-sink and --delivery both name the delivery source', 'give one: --with-sink starts a sink, --delivery sink=URL uses a running one');
    return { delivery: parsed.delivery, deliveryTimeout: parsed.deliveryTimeout, withSink: parsed.withSink, sinkArgs };
  },
};

/** What OUTPUT_FLAGS reads (run.ts RunCommandOptions's names). */
export interface OutputFlags {
  /** --out values; false: --no-out alone (no outputs). */
  out?: string[] | false;
  /** --no-out given: no results file, even with --out KIND=TARGET values. */
  noResultsFile: boolean;
  report?: string;
  junit?: string;
  summaryJson?: string;
  metrics?: MetricsEndpointOptions;
  /** --dashboard [HOST:]PORT (with --dashboard-linger): the live web dashboard. */
  dashboard?: DashboardOptions;
}

/**
 * --out, --no-out, --report, --junit, --summary-json, --metrics-port/-host/-linger: the files
 * and endpoints a run writes. --no-out and --out share commander's key `out`, which the later
 * flag overwrites: each is also recorded under its own key (outSpecs, isNoOutGiven) as it is met.
 */
export const OUTPUT_FLAGS: FlagGroup<OutputFlags> = {
  add: (command) =>
    command
      .on('option:out', (spec: string) => command.setOptionValue('outSpecs', [...((command.getOptionValue('outSpecs') as string[] | undefined) ?? []), spec]))
      .on('option:no-out', () => command.setOptionValue('isNoOutGiven', true))
      .optionsGroup(HELP_GROUPS.outputs)
      .option('--out <file|kind=target>', 'results file (default: load_test_results_<unix time>.json); KIND=TARGET for more outputs (html, ndjson, csv, junit, summary-json, prometheus=PORT, prometheus-rw=URL: Prometheus remote write); repeatable')
      .option('--no-out', 'write no results file (--out KIND=TARGET outputs are still written)')
      .option('--report <file>', 'also write the self-contained HTML report (charts, phases, errors, thresholds) to this file')
      .option('--junit <file>', 'write the thresholds as JUnit XML test cases (one per threshold, plus "run completed") for CI')
      .option('--summary-json <file>', 'write the end-of-test summary as JSON (the results file without timeline and histograms)')
      .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics during the run (e.g. 9464; 0: any free port)', port)
      .option('--metrics-host <host>', `address the metrics endpoint listens on (default: ${DEFAULT_METRICS_HOST}; another machine's scraper needs e.g. 0.0.0.0, every interface, with --metrics-allow-remote)`)
      .option('--metrics-allow-remote', 'let --metrics-host be an address other machines reach: whoever reaches it can read the run\'s metrics, its target and accounts included')
      .option('--metrics-linger <duration>', `if it was scraped during the run, keep serving after it until a scrape reads the final values, at most this long (default: ${DEFAULT_METRICS_LINGER_MS / 1000}s; 0 to stop at once)`, duration)
      .option('--dashboard <[host:]port>', `serve a live web dashboard (the HTML report's page, updating each second) at http://HOST:PORT/ during the run (host default: ${DEFAULT_DASHBOARD_HOST}; another machine needs --dashboard-allow-remote; e.g. 5665, k6's; 0: any free port)`)
      .option('--dashboard-allow-remote', 'let --dashboard listen on an address other machines reach: whoever reaches it can read the run\'s figures, its target and accounts included')
      .option('--dashboard-linger <duration>', `if a page watched the run, keep serving the final figures this long after it (default: ${DEFAULT_DASHBOARD_LINGER_MS / 1000}s; 0 to stop at once)`, duration),
  read(flags) {
    const parsed = flags as { outSpecs?: string[]; isNoOutGiven?: boolean; report?: string; junit?: string; summaryJson?: string; metricsPort?: number; metricsHost?: string; metricsLinger?: string; metricsAllowRemote?: boolean; dashboard?: string; dashboardLinger?: string; dashboardAllowRemote?: boolean };
    const noResultsFile = parsed.isNoOutGiven === true;
    return {
      out: parsed.outSpecs !== undefined ? parsed.outSpecs : noResultsFile ? false : undefined,
      noResultsFile,
      report: parsed.report,
      junit: parsed.junit,
      summaryJson: parsed.summaryJson,
      metrics: metricsEndpoint(parsed),
      dashboard: dashboardOptions(parsed),
    };
  },
};

/** `--dashboard [HOST:]PORT`, `--dashboard-linger`, `--dashboard-allow-remote` → the dashboard's options; the others alone are usage errors. */
function dashboardOptions(parsed: { dashboard?: string; dashboardLinger?: string; dashboardAllowRemote?: boolean }): DashboardOptions | undefined {
  if (parsed.dashboard === undefined) {
    const alone = parsed.dashboardLinger !== undefined ? '--dashboard-linger' : parsed.dashboardAllowRemote ? '--dashboard-allow-remote' : undefined;
    if (alone) throw new UsageError(`${alone} needs --dashboard`, 'add e.g. --dashboard 5665');
    return undefined;
  }
  const address = parseListenAddress(parsed.dashboard, '--dashboard', "127.0.0.1:5665 (k6's web dashboard's port)");
  const isRemoteAllowed = parsed.dashboardAllowRemote === true;
  checkExposure(address, isRemoteAllowed, DASHBOARD_EXPOSURE);
  return { ...address, ...(isRemoteAllowed ? { isRemoteAllowed } : {}), lingerMs: parsed.dashboardLinger === undefined ? undefined : parseDurationMs(parsed.dashboardLinger) };
}

/** `--metrics-port/-host/-linger/-allow-remote` → the endpoint's options; the others without the port are usage errors. */
function metricsEndpoint(parsed: { metricsPort?: number; metricsHost?: string; metricsLinger?: string; metricsAllowRemote?: boolean }): MetricsEndpointOptions | undefined {
  if (parsed.metricsPort === undefined) {
    const alone = parsed.metricsHost !== undefined ? '--metrics-host' : parsed.metricsLinger !== undefined ? '--metrics-linger' : parsed.metricsAllowRemote ? '--metrics-allow-remote' : undefined;
    if (alone) throw new UsageError(`${alone} needs --metrics-port`, 'add e.g. --metrics-port 9464');
    return undefined;
  }
  const isRemoteAllowed = parsed.metricsAllowRemote === true;
  // `[::1]` as --dashboard and --api write it is ::1
  const host = parsed.metricsHost?.trim().replace(/^\[(.*)\]$/, '$1');
  if (host !== undefined) {
    if (host === '') throw new UsageError('--metrics-host is empty', `give an address, e.g. --metrics-host ${DEFAULT_METRICS_HOST}`);
    if (host.includes(':') && isIP(host) !== 6) throw new UsageError(`--metrics-host '${parsed.metricsHost}' is not a host`, `the port goes in --metrics-port: e.g. --metrics-host ${DEFAULT_METRICS_HOST} --metrics-port ${parsed.metricsPort || 9464}`);
    checkExposure({ host, port: parsed.metricsPort }, isRemoteAllowed, METRICS_EXPOSURE);
  }
  return {
    port: parsed.metricsPort,
    host,
    ...(isRemoteAllowed ? { isRemoteAllowed } : {}),
    lingerMs: parsed.metricsLinger === undefined ? undefined : parseDurationMs(parsed.metricsLinger),
  };
}

/**
 * The groups that override a scenario's options, in the order --help lists them: what `run`
 * takes, and what `inspect` and `archive` take to plan or record the same run.
 */
export const SCENARIO_OVERRIDE_GROUPS: ReadonlyArray<FlagGroup<unknown>> = [TARGET_FLAGS, AUTH_FLAGS, RECIPIENT_FLAGS, TLS_FLAGS, MESSAGE_FLAGS, LOAD_FLAGS];

/** The overrides SCENARIO_OVERRIDE_GROUPS read (the recipients' safety is RECIPIENT_FLAGS's own). */
export function readScenarioOverrides(flags: OptionValues): CliOverrides {
  return {
    ...TARGET_FLAGS.read(flags),
    ...AUTH_FLAGS.read(flags),
    to: RECIPIENT_FLAGS.read(flags).to,
    ...TLS_FLAGS.read(flags),
    ...MESSAGE_FLAGS.read(flags),
    ...LOAD_FLAGS.read(flags),
  };
}

/** What API_FLAGS reads. */
export interface ApiFlags {
  api?: string;
  apiToken?: string;
}

/**
 * --api, --api-token: the run's REST API. `run` serves it (off unless --api is given); pause,
 * resume, scale and status call it (at --api, k6's default address unless given).
 */
export const API_FLAGS: FlagGroup<ApiFlags> = {
  add: (command) =>
    command
      .option('--api <host:port>', `the run's REST API: status, metrics, pause/resume, VUs and arrival rate (run: serve it there, off by default, loopback only unless --api-allow-remote; pause/resume/scale/status: call it there, default ${DEFAULT_API_ADDRESS}, k6's)`)
      .option('--api-token <token>', 'bearer token every API request must carry (default: $RUNNER_API_TOKEN); redacted in every output'),
  read(flags) {
    const parsed = flags as { api?: string; apiToken?: string };
    return { api: parsed.api, apiToken: parsed.apiToken };
  },
};

/** --message-size: a whole number of bytes stays a number; '20k' and '1k-100k' are checked and kept as written. */
function messageSizeFlag(value: string): MessageSizeSpec {
  // A negative number is a size below zero, not a spelling mistake: say so (as the byte flags do)
  if (/^\s*-\d+(\.\d+)?\s*$/.test(value)) throw new InvalidArgumentError(`--message-size must be ≥ 0, got ${value.trim()}`);
  const spec: MessageSizeSpec = /^\s*\d+\s*$/.test(value) ? Number(value) : value.trim();
  const problem = messageSizeProblem(spec);
  if (problem) throw new InvalidArgumentError(`--message-size: ${problem} (e.g. 4096, 20k or 1k-100k)`);
  return spec;
}
