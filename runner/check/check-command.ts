/** `runner check`: its options → runCheck → one line per step, then each problem with its fix (or --json). */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { runCheck, type CheckReport } from './check.ts';
import { normalizeAdminUrl, type CheckStep, type ProbeSecurity } from './steps.ts';
import { formatCheckFooter, formatCheckHeader, formatCheckJson, formatStepLine, titleWidth } from './report.ts';
import { DEFAULTS } from '../scenario/defaults.ts';
import { parseDurationMs } from '../scenario/duration.ts';
import { isEmailAddress } from '../scenario/accounts.ts';
import type { AuthMechanism, TlsMode } from '../scenario/types.ts';
import { shouldColor } from '../util/color.ts';
import { addSecret, redactSecrets } from '../redact.ts';
import { escapeControl } from '../util/escape.ts';
import { InvalidOptionsError } from '../errors.ts';
import { AUTH_MECHANISMS, SMTP_PROTOCOLS, type SmtpProtocol, type TlsVersion } from '../smtp/settings.ts';
import { TLS_MODES } from '../smtp/tls.ts';
import { findNonLocalAddresses, parseLocalIps } from '../smtp/local-addresses.ts';
import { resolveDelivery } from '../delivery/options.ts';

/** Timeout of each check step unless --timeout says otherwise. */
export const DEFAULT_CHECK_TIMEOUT = '10s';

/** What `runner check` takes. */
export interface CheckCommandOptions {
  host?: string;
  port?: number;
  from?: string;
  adminUrl?: string;
  /** Per-step timeout as written, e.g. '5s'. @default DEFAULT_CHECK_TIMEOUT */
  timeout?: string;
  /** The AUTH mechanism (--auth), false or 'none' for --no-auth; true is the default. @default DEFAULTS.auth */
  auth?: AuthMechanism | boolean;
  /** AUTH PLAIN/LOGIN password. @default DEFAULTS.password */
  password?: string;
  /** Bearer token for --auth xoauth2 (required with it, as for `runner run`). */
  token?: string;
  /** @default DEFAULTS.tls */
  tls?: TlsMode;
  /** Source addresses as --local-ips takes them; the check connects from the first. */
  localIps?: string;
  /** 'lmtp': LHLO instead of EHLO (RFC 2033). @default DEFAULTS.protocol */
  protocol?: SmtpProtocol;
  /** PEM file of CA certificates to trust, relative to the working directory. */
  tlsCa?: string;
  /** Name the certificate must carry, sent as SNI. @default the host */
  tlsServername?: string;
  /** PEM files of a client certificate and its key (mutual TLS). */
  tlsCert?: string;
  tlsKey?: string;
  tlsMinVersion?: TlsVersion;
  tlsMaxVersion?: TlsVersion;
  tlsCiphers?: string;
  /** Accept any server certificate. @default false */
  insecureSkipTlsVerify?: boolean;
  /** Check /health and /admin/accounts. @default true */
  admin?: boolean;
  /** Print one JSON object instead of lines. */
  json?: boolean;
  /** `--delivery sink=URL`: also check the runner sink a run would read deliveries from. */
  delivery?: string;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/** Runs the check, printing each step as it finishes (or JSON at the end); returns the exit code. Throws InvalidOptionsError for bad flags. */
export async function runCheckCommand(command: CheckCommandOptions): Promise<number> {
  const stdout = command.stdout ?? process.stdout;
  const auth: AuthMechanism = command.auth === false ? 'none' : command.auth === true || command.auth === undefined ? DEFAULTS.auth : command.auth;
  const tls = command.tls ?? DEFAULTS.tls;
  const problems: string[] = [];
  // commander checks both for the CLI; a programmatic caller gets the same message
  if (!AUTH_MECHANISMS.includes(auth)) problems.push(`--auth: must be one of ${AUTH_MECHANISMS.join(', ')}, got '${auth}'`);
  if (!TLS_MODES.includes(tls)) problems.push(`--tls: must be one of ${TLS_MODES.join(', ')}, got '${tls}'`);
  const protocol = command.protocol ?? DEFAULTS.protocol;
  if (!SMTP_PROTOCOLS.includes(protocol)) problems.push(`--protocol: must be one of ${SMTP_PROTOCOLS.join(', ')}, got '${protocol}'`);
  const localAddresses = command.localIps === undefined ? undefined : await checkLocalIps(command.localIps, problems);
  const security: ProbeSecurity = {
    auth,
    token: command.token ?? DEFAULTS.token,
    tls,
    isTlsVerified: !(command.insecureSkipTlsVerify ?? DEFAULTS.insecureSkipTlsVerify),
    tlsServername: command.tlsServername,
    tlsCa: command.tlsCa === undefined ? undefined : await readTlsCa(command.tlsCa, problems, '--tls-ca'),
    tlsCert: command.tlsCert === undefined ? undefined : await readTlsCa(command.tlsCert, problems, '--tls-cert'),
    tlsKey: command.tlsKey === undefined ? undefined : await readTlsCa(command.tlsKey, problems, '--tls-key'),
    tlsMinVersion: command.tlsMinVersion,
    tlsMaxVersion: command.tlsMaxVersion,
    tlsCiphers: command.tlsCiphers,
    protocol,
  };
  if ((command.tlsCert === undefined) !== (command.tlsKey === undefined)) problems.push('--tls-cert and --tls-key: mutual TLS needs both the client certificate and its key');
  const options = {
    host: command.host ?? DEFAULTS.host,
    port: command.port ?? DEFAULTS.port,
    from: command.from ?? DEFAULTS.from,
    adminUrl: normalizeAdminUrl(command.adminUrl ?? DEFAULTS.adminUrl),
    isAuth: auth !== 'none',
    password: command.password,
    security,
    isAdminChecked: command.admin ?? true,
    timeoutMs: parseDurationMs(command.timeout ?? DEFAULT_CHECK_TIMEOUT),
    localAddresses,
    deliverySink: undefined as string | undefined,
  };
  if (command.delivery !== undefined) {
    // The same validation as `runner run --delivery` (a sink's admin URL); a mailbox is a scenario's to give
    const delivery = resolveDelivery(undefined, { delivery: command.delivery }, problems);
    if (delivery?.source.kind === 'sink') options.deliverySink = delivery.source.url;
  }
  if (options.port === 0) problems.push('--port: 0 is not a port to connect to; the proxy listens on 2525 in the guide');
  if (!isEmailAddress(options.from)) problems.push(`--from: '${options.from}' is not an email address`);
  if (!/^https?:\/\/[^\s/]+/.test(options.adminUrl)) problems.push(`--admin-url: '${options.adminUrl}' is not an http:// URL, e.g. ${DEFAULTS.adminUrl}`);
  if (!(options.timeoutMs > 0)) problems.push('--timeout: must be more than 0, e.g. 5s');
  // As `runner run` says it (scenario/options.ts): XOAUTH2 without a token cannot authenticate
  if (auth === 'xoauth2' && security.token === '') problems.push('--token: --auth xoauth2 needs a bearer token: pass --token (e.g. --token "$TOKEN")');
  if (problems.length > 0) throw new InvalidOptionsError(problems);
  if (command.password !== undefined && command.password !== DEFAULTS.password) addSecret(command.password);
  addSecret(security.token ?? '');

  let report: CheckReport;
  if (command.json) {
    report = hideSecretsInReport(await runCheck(options));
    stdout.write(formatCheckJson(report) + '\n');
  } else {
    const color = shouldColor(stdout, command.env ?? process.env);
    const mechanism = auth === 'none' ? undefined : auth;
    const width = titleWidth(options.from, { mechanism, tls });
    stdout.write(formatCheckHeader({ ...options, mechanism, tls, isTlsVerified: security.isTlsVerified }) + '\n');
    report = hideSecretsInReport(await runCheck(options, (step) => stdout.write(formatStepLine(hideSecretsInStep(step), { color, titleWidth: width }) + '\n')));
    stdout.write(formatCheckFooter(report, { color }) + '\n');
  }
  return report.exitCode;
}

/** --local-ips expanded, each address on this machine; the first is the check's source address. Undefined with a problem. */
async function checkLocalIps(spec: string, problems: string[]): Promise<string[] | undefined> {
  const { addresses, problems: listProblems } = parseLocalIps(spec);
  if (listProblems.length > 0) {
    problems.push(...listProblems.map((problem) => `--local-ips: ${problem}`));
    return undefined;
  }
  const missing = await findNonLocalAddresses(addresses.slice(0, 1));
  if (missing.length > 0) {
    problems.push(`--local-ips: not an address of this machine: ${missing.join(', ')}; add it to an interface first (Linux: sudo ip addr add ADDRESS/32 dev lo)`);
    return undefined;
  }
  return addresses.slice(0, 1);
}

/** The PEM text of --tls-ca, --tls-cert or --tls-key (`flag`; relative to the working directory, as for `runner run`), or undefined with a problem. */
async function readTlsCa(file: string, problems: string[], flag: string): Promise<string | undefined> {
  const path = resolvePath(file);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    problems.push(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
}

/**
 * `text` without the registered --password/--token (and their base64 forms; redact.ts
 * redactSecrets) and with control characters escaped (issue 19): a server may echo what it was
 * sent, or answer with terminal sequences. Not redact(): its AUTH-command rule is for our commands.
 */
function hideSecrets(text: string): string {
  return escapeControl(redactSecrets(text), true);
}

function hideSecretsInStep(step: CheckStep): CheckStep {
  return { ...step, detail: hideSecrets(step.detail) };
}

/** The report with every step detail and problem text free of secrets. */
function hideSecretsInReport(report: CheckReport): CheckReport {
  const hide = <T extends { message: string; hint: string }>(problem: T): T => ({ ...problem, message: hideSecrets(problem.message), hint: hideSecrets(problem.hint) });
  return { ...report, steps: report.steps.map(hideSecretsInStep), problems: report.problems.map(hide), warnings: report.warnings.map(hide) };
}
