/**
 * `runner run --debug[=N]`: the protocol transcript of the first N SMTP connections (sessions)
 * of the load, one line per command and reply line, `[vu 1 #2] C: MAIL FROM:<…>`. Sessions
 * get the hook only while some of the N are left, so the rest of the run pays one undefined
 * check per command and reply. Every line goes through redact() and escapeControl() before it
 * is written (replies come escaped from the parser; commands may carry a scenario's data).
 */
import { redact } from '../redact.ts';
import { escapeControl } from '../util/escape.ts';
import type { SmtpSession } from '../smtp/session.ts';

/** Sessions shown by `--debug` without a count. */
export const DEFAULT_DEBUG_SESSIONS = 3;

/** Shares the budget of N transcribed connections among the VUs' sessions. */
export class SessionTranscripts {
  private sessionsLeft: number;
  private readonly writeLine: (line: string) => void;

  /** `sessionCount` connections are shown; `writeLine` gets each line with its newline (stderr). */
  constructor(sessionCount: number, writeLine: (line: string) => void) {
    this.sessionsLeft = sessionCount;
    this.writeLine = writeLine;
  }

  /** Hooks a new VU's session while connections are left to show; a later connection beyond N unhooks it. */
  attach(vuId: number, session: SmtpSession): void {
    if (this.sessionsLeft <= 0) return;
    let connection = 0;
    let prefix = '';
    session.transcript = (direction, text) => {
      if (direction === 'open') {
        if (this.sessionsLeft <= 0) {
          session.transcript = undefined;
          return;
        }
        this.sessionsLeft--;
        prefix = `[vu ${vuId} #${++connection}]`;
        this.writeLine(`${prefix} connected to ${escapeControl(text)}\n`);
        return;
      }
      this.writeLine(`${prefix} ${direction}: ${escapeControl(redact(text))}\n`);
    };
  }
}
