/**
 * Safety: the XOAUTH2 proxy relays to real Gmail/Outlook, so a careless run mails real people.
 *
 * Decision (documented in the README): the guide's defaults are kept (`--to
 * recipient@outlook.com`), but a run that would send more than REAL_MAIL_FREE_MESSAGES
 * messages to any recipient outside the reserved test domains (RFC 2606, RFC 6761:
 * example.com/.net/.org and their subdomains, *.example, *.test, *.invalid, *.localhost)
 * needs an acknowledgement, given after the preflight (which sends no mail) and before the
 * load:
 *
 * - against the built-in fixture (`--with-fixture`) or with `--allow-real-recipients`: none;
 * - on a terminal: a loud warning and a question (only "yes" goes on);
 * - without a terminal (CI): refused with exit 2 and the two ways out (reserved recipients,
 *   or the flag).
 *
 * Every command that sends mail asks: `run`, and `sweep` once for all its steps (`check` sends
 * none: MAIL FROM, then RSET). Only the CLI asks; runCommand() called in-process (tests,
 * programs) asks nothing unless its caller passes `safety`. Custom iterations may choose other
 * recipients in code: the check counts `smtp.to`, the only recipients runner knows before the run.
 */
import { isatty } from 'node:tty';
import { importModule } from './dynamic-import.ts';
import { plannedIterations } from './executors/index.ts';
import { RunnerError } from './errors.ts';
import type { ResolvedOptions, ResolvedScenario } from './scenario/resolved.ts';

/** Messages a run may send to real recipients without an acknowledgement. */
export const REAL_MAIL_FREE_MESSAGES = 10;

/** The flag that acknowledges sending to real recipients. */
export const ALLOW_REAL_RECIPIENTS_FLAG = '--allow-real-recipients';

/** Second-level names reserved by RFC 2606 §3 (with all their subdomains). */
const RESERVED_DOMAINS = ['example.com', 'example.net', 'example.org'];

/** Top-level names reserved by RFC 2606 §2 and RFC 6761 §6 (never delegated). */
const RESERVED_TLDS = ['example', 'test', 'invalid', 'localhost'];

/** Whether mail to `address` can never reach a real mailbox: its domain is reserved for tests (RFC 2606, RFC 6761). */
export function isReservedRecipient(address: string): boolean {
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1).toLowerCase().replace(/\.$/, '');
  if (domain === '') return false;
  if (RESERVED_DOMAINS.some((reserved) => domain === reserved || domain.endsWith('.' + reserved))) return true;
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  return RESERVED_TLDS.includes(tld);
}

/** Most messages a scenario can send, or Infinity for duration-based executors (unbounded until it runs). */
export function plannedMessages(scenario: ResolvedScenario): number {
  return plannedIterations(scenario) ?? Infinity;
}

/** What a run would send to real recipients. */
export interface RealMailPlan {
  /** Messages to scenarios with at least one real recipient (Infinity: duration-based). */
  messages: number;
  /** The real recipients, each once. */
  recipients: string[];
}

/** The run's messages to recipients outside the reserved domains. Pure. */
export function planRealMail(options: ResolvedOptions): RealMailPlan {
  let messages = 0;
  const recipients = new Set<string>();
  for (const scenario of options.scenarios) {
    const real = scenario.smtp.to.filter((address) => !isReservedRecipient(address));
    if (real.length === 0) continue;
    messages += plannedMessages(scenario);
    for (const address of real) recipients.add(address);
  }
  return { messages, recipients: [...recipients] };
}

/** How the CLI acknowledges real mail. */
export interface RecipientSafety {
  /** `--allow-real-recipients` was given. */
  isAllowed: boolean;
  /** The target is the built-in fixture (`--with-fixture`): nothing leaves the machine. */
  isFixture: boolean;
  /** Asks the person at the terminal; resolves with their answer. Undefined: no terminal (CI). */
  ask: ((question: string) => Promise<string>) | undefined;
  /** Where the warning goes. */
  stderr: NodeJS.WritableStream;
  /**
   * The whole job's plan when this run is one part of it: `runner sweep` asks once, in its first
   * step, for every step's messages. @default planRealMail (this run alone)
   */
  planOf?: (options: ResolvedOptions) => RealMailPlan;
}

/** Thrown when a run would mail real people and nobody acknowledged it. */
export class RealRecipientsError extends RunnerError {
  override name = 'RealRecipientsError';
  constructor(message: string) {
    super(message, {
      code: 'E_REAL_RECIPIENTS',
      exit: 'usage',
      hint: `send to a reserved test domain instead (--to someone@example.com; RFC 2606: example.com, *.test, *.invalid), use --with-fixture, or acknowledge with ${ALLOW_REAL_RECIPIENTS_FLAG}`,
    });
  }
}

/** Describes the plan for the warning: '100 messages to recipient@outlook.com'. */
export function describeRealMail(plan: RealMailPlan): string {
  const count = plan.messages === Infinity ? 'messages for the whole run (duration-based)' : `${plan.messages} messages`;
  const shown = plan.recipients.slice(0, 3).join(', ') + (plan.recipients.length > 3 ? `, … (${plan.recipients.length} in all)` : '');
  return `${count} to real recipients: ${shown}`;
}

/**
 * Lets the run go on, asks, or throws RealRecipientsError (see the module doc for when).
 * Resolves once the run may send.
 */
export async function confirmRealRecipients(options: ResolvedOptions, safety: RecipientSafety): Promise<void> {
  if (safety.isAllowed || safety.isFixture) return;
  const plan = (safety.planOf ?? planRealMail)(options);
  if (plan.messages <= REAL_MAIL_FREE_MESSAGES) return;
  const what = describeRealMail(plan);
  if (safety.ask === undefined) {
    throw new RealRecipientsError(`refusing to send ${what}: through the proxy they reach real mailboxes`);
  }
  safety.stderr.write(
    `\n!!! WARNING: this run sends ${what}.\n` +
      `!!! Through the XOAUTH2 proxy they are relayed to Gmail/Outlook and reach real mailboxes.\n`,
  );
  const answer = await safety.ask(`Type "yes" to send them (anything else stops): `);
  if (answer.trim().toLowerCase() !== 'yes') throw new RealRecipientsError(`stopped before sending ${what}`);
}

/** Asks on the terminal (stdin and stderr both TTYs), or undefined when there is none (CI). */
export function terminalQuestion(): ((question: string) => Promise<string>) | undefined {
  // isatty, not process.stdin.isTTY: that getter sets up the stdin stream, which most runs never read.
  if (!isatty(0) || !isatty(2)) return undefined;
  return async (question) => {
    const { createInterface } = await importModule<typeof import('node:readline/promises')>('node:readline/promises');
    const lines = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await lines.question(question);
    } finally {
      lines.close();
    }
  };
}
