/**
 * Arrivals from a real mailbox: every `pollIntervalMs` the mailbox is searched for this run's
 * messages (IMAP SEARCH HEADER X-Runner-Trace "<run id>.", RFC 3501 §6.4.4: a substring match),
 * and each new one's trace header and INTERNALDATE (when the server stored it) are fetched.
 * Logs in with LOGIN, or AUTHENTICATE XOAUTH2 with an access token (Gmail, Outlook), through
 * imapflow (loaded on first use). INTERNALDATE has whole seconds: a mailbox's lags are within a second, a sink's exact.
 */
import type { ImapFlow } from 'imapflow';
import { importModule } from '../dynamic-import.ts';
import type { ArrivalSink, DeliverySource } from './source.ts';
import type { ResolvedDeliverySource } from './options.ts';
import { TRACE_HEADER } from '../smtp/message.ts';

type ImapSource = Extract<ResolvedDeliverySource, { kind: 'imap' }>;

/** Polls a mailbox for the run's messages into `arrivals`. */
export class ImapPoller implements DeliverySource {
  readonly description: string;
  private readonly options: ImapSource;
  private readonly runId: string;
  private readonly arrivals: ArrivalSink;
  private readonly onError: (message: string) => void;
  private client: ImapFlow | undefined;
  /** UIDs already read (each message is reported once). */
  private readonly seen = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private isRunning = false;
  private lastError: string | undefined;

  constructor(options: ImapSource, runId: string, arrivals: ArrivalSink, onError: (message: string) => void) {
    this.options = options;
    this.runId = runId;
    this.arrivals = arrivals;
    this.onError = onError;
    this.description = `imap ${options.user}@${options.host}:${options.port}/${options.mailbox}`;
  }

  /** Connects, logs in and opens the mailbox (a failure says why). */
  async check(): Promise<void> {
    const o = this.options;
    // Loaded only when a mailbox is asked for: no start-up cost for every other run
    const { ImapFlow: Client } = await importModule<typeof import('imapflow')>('imapflow');
    const client = new Client({
      host: o.host,
      port: o.port,
      secure: o.tls,
      auth: o.accessToken !== undefined ? { user: o.user, accessToken: o.accessToken } : { user: o.user, pass: o.password! },
      tls: { rejectUnauthorized: o.isTlsVerified },
      logger: false,
    });
    // An error event after connect (a dropped connection) must not take the process down
    client.on('error', (error: Error) => this.report(error));
    try {
      await client.connect();
      await client.mailboxOpen(o.mailbox);
    } catch (error) {
      client.close();
      throw new Error(describeImapError(error));
    }
    this.client = client;
  }

  start(): void {
    this.isRunning = true;
    this.schedule();
  }

  /** Stops polling, after one last search (what arrived by now is counted). */
  async stop(): Promise<void> {
    this.isRunning = false;
    clearTimeout(this.timer);
    await this.polling;
    if (this.client) {
      await this.poll();
      await this.client.logout().catch(() => undefined);
      this.client = undefined;
    }
  }

  private schedule(): void {
    if (!this.isRunning) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule();
      });
    }, this.options.pollIntervalMs);
  }

  /** One search and fetch of the new messages; failures are reported, never thrown. */
  private async poll(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      // A fresh view of the mailbox (new messages since the last poll)
      await client.noop();
      const uids = (await client.search({ header: { [TRACE_HEADER]: `${this.runId}.` } }, { uid: true })) || [];
      const fresh = uids.filter((uid) => !this.seen.has(uid));
      if (fresh.length === 0) return;
      for await (const message of client.fetch(fresh, { uid: true, internalDate: true, headers: [TRACE_HEADER] }, { uid: true })) {
        this.seen.add(message.uid);
        const trace = traceOf(message.headers);
        const date = message.internalDate;
        const arrivedAtMs = date instanceof Date ? date.getTime() : date ? Date.parse(date) : Date.now();
        this.arrivals.arrive(trace, arrivedAtMs);
      }
      if (this.options.deleteFound) await client.messageDelete(fresh, { uid: true });
      this.lastError = undefined;
    } catch (error) {
      this.report(error as Error);
    }
  }

  private report(error: Error): void {
    const message = `${this.description}: ${describeImapError(error)}`;
    if (message !== this.lastError) this.onError(message);
    this.lastError = message;
  }
}

/** The X-Runner-Trace value in fetched header lines (unfolded, RFC 5322 §2.2.3). */
export function traceOf(headers: Buffer | undefined): string | null {
  if (!headers) return null;
  const text = headers.toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  const match = new RegExp(`^${TRACE_HEADER}:[ \\t]*(.*)$`, 'im').exec(text);
  return match ? match[1]!.trim() : null;
}

/** An imapflow error with the server's own words (its responseText) when it has them. */
function describeImapError(error: unknown): string {
  const e = error as Error & { responseText?: string; authenticationFailed?: boolean; code?: string };
  const said = e.responseText ? `: ${e.responseText}` : e.code ? ` (${e.code})` : '';
  return `${e.authenticationFailed ? 'login refused' : e.message}${said}`;
}
