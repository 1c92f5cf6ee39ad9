/**
 * How a check reads: one line per step as it finishes (✓ ok, ⚠ warning, ✗ failed, – skipped,
 * with its time), then each problem with its fix; or one JSON object for scripts.
 */
import type { CheckReport } from './check.ts';
import type { CheckStep, CheckStatus, StepNaming } from './steps.ts';
import type { SaslMechanism } from '../smtp/auth.ts';
import type { TlsMode } from '../scenario/types.ts';
import { stepTitle } from './steps.ts';
import { paint, type Style } from '../util/color.ts';

/** Options of the text output. */
export interface CheckFormatOptions {
  /** ANSI colors (a terminal without NO_COLOR). @default false */
  color?: boolean;
  /** Width of the step titles column, characters (titleWidth() of the sender). */
  titleWidth?: number;
}

const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '⚠', fail: '✗', skip: '–' };
/** The colour of each status. */
const COLOR: Record<CheckStatus, Style> = { ok: 'green', warn: 'yellow', fail: 'red', skip: 'dim' };

/** The title column's width for a check as `from` (the AUTH title names it and its mechanism). */
export function titleWidth(from: string, naming?: StepNaming): number {
  return Math.max(stepTitle('mail', from).length, stepTitle('auth', from, naming).length, stepTitle('tls', from, naming).length);
}

/** A step time for people: '0.42 ms', '12.3 ms', '1.25 s'. */
export function formatStepMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** What the header says about a check. */
export interface CheckHeaderTarget {
  host: string;
  port: number;
  from: string;
  adminUrl: string;
  isAuth?: boolean;
  isAdminChecked?: boolean;
  /** @default 'plain' */
  mechanism?: SaslMechanism;
  /** @default 'none' */
  tls?: TlsMode;
  /** @default true */
  isTlsVerified?: boolean;
}

/** The first line: what is checked, e.g. 'Checking 127.0.0.1:2525 over STARTTLS as a@b.c with AUTH LOGIN, admin API …'. */
export function formatCheckHeader(target: CheckHeaderTarget): string {
  const tls = target.tls ?? 'none';
  const over = tls === 'none' ? '' : `${tls === 'starttls' ? ' over STARTTLS' : ' over implicit TLS'}${target.isTlsVerified === false ? ' (certificate not verified)' : ''}`;
  const mechanism = target.mechanism ?? 'plain';
  const as = target.isAuth === false ? ' without AUTH' : ` as ${target.from}${mechanism === 'plain' ? '' : ` with AUTH ${mechanism.toUpperCase()}`}`;
  const admin = target.isAdminChecked === false ? '' : `, admin API ${target.adminUrl}`;
  return `Checking ${target.host}:${target.port}${over}${as}${admin}`;
}

/** One step: `  ✓ TCP connect            0.31 ms  127.0.0.1:2525`. */
export function formatStepLine(step: CheckStep, options: CheckFormatOptions = {}): string {
  const mark = paint(COLOR[step.status], MARK[step.status], options.color);
  const title = step.title.padEnd(options.titleWidth ?? 0);
  const time = (step.durationMs === undefined ? '' : formatStepMs(step.durationMs)).padStart(9);
  const detail = step.status === 'skip' ? paint(COLOR.skip, step.detail, options.color) : step.detail;
  return `  ${mark} ${title}  ${time}  ${detail}`.trimEnd();
}

/** After the steps: the verdict, then each problem and warning with its fix. */
export function formatCheckFooter(report: CheckReport, options: CheckFormatOptions = {}): string {
  const lines: string[] = [''];
  const { problems, warnings } = report;
  if (problems.length === 0) {
    const skipped = report.steps.filter((step) => step.status === 'skip').length;
    const warned = report.steps.filter((step) => step.status === 'warn').length;
    const withWarning = warned === 0 ? '' : `, ${warned} with a warning`;
    const skippedNote = skipped === 0 ? '' : ` (${skipped} skipped)`;
    lines.push(paint(COLOR.ok, `All ${report.steps.length - skipped} checks passed${withWarning}${skippedNote}.`, options.color));
  } else {
    lines.push(paint(COLOR.fail, `${problems.length} problem${problems.length === 1 ? '' : 's'}:`, options.color));
  }
  for (const problem of problems) {
    lines.push(`  ${paint(COLOR.fail, MARK.fail, options.color)} ${problem.message}`, `    fix: ${problem.hint}`);
  }
  for (const warning of warnings) {
    lines.push(`  ${paint(COLOR.warn, MARK.warn, options.color)} ${warning.message}`, `    hint: ${warning.hint}`);
  }
  return lines.join('\n');
}

/** The whole text report (header, steps, footer), for when steps were not printed as they came. */
export function formatCheckText(report: CheckReport, options: CheckFormatOptions = {}): string {
  const width = options.titleWidth ?? titleWidth(report.from, { mechanism: report.mechanism, tls: report.tls });
  return [formatCheckHeader(report), ...report.steps.map((step) => formatStepLine(step, { ...options, titleWidth: width })), formatCheckFooter(report, options)].join('\n');
}

/** The report as JSON for scripts (snake_case, like the results file). */
export function formatCheckJson(report: CheckReport): string {
  return JSON.stringify(
    {
      ok: report.problems.length === 0,
      exit_code: report.exitCode,
      target: { host: report.host, port: report.port, admin_url: report.adminUrl },
      from: report.from,
      auth: report.isAuth ? report.mechanism : 'none',
      tls: report.tls,
      tls_verified: report.tls === 'none' ? null : report.isTlsVerified,
      steps: report.steps.map((step) => ({
        id: step.id,
        title: step.title,
        status: step.status,
        duration_ms: step.durationMs === undefined ? null : Math.round(step.durationMs * 1000) / 1000,
        detail: step.detail,
      })),
      // What EHLO offered, null when it was not answered
      extensions:
        report.extensions === undefined
          ? null
          : {
              pipelining: report.extensions.pipelining,
              chunking: report.extensions.chunking,
              size: report.extensions.size,
              size_limit_bytes: report.extensions.sizeLimitBytes,
              '8bitmime': report.extensions.eightBitMime,
              smtputf8: report.extensions.smtpUtf8,
              starttls: report.extensions.startTls,
              auth_mechanisms: report.extensions.authMechanisms,
              enhanced_status_codes: report.extensions.enhancedStatusCodes,
              dsn: report.extensions.dsn,
            },
      problems: report.problems,
      warnings: report.warnings,
    },
    null,
    2,
  );
}
