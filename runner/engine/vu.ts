/**
 * A VU's state and the recorder its SMTP session reports into. The recorder points at the
 * series of the VU's current scenario and sender, so recording is a few field updates and
 * histogram inserts: no lookups, no allocations on the success path.
 */
import { performance } from 'node:perf_hooks';
import type { Vu } from '../executors/executor.ts';
import type { Failure } from '../smtp/api.ts';
import type { SessionRecorder } from '../smtp/session.ts';
import { SmtpSession } from '../smtp/session.ts';
import type { ResolvedScenario } from '../scenario/resolved.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import { countError, type Series } from '../metrics/series.ts';

/** Failure `error` value the session uses for a message cut off by a hard stop. */
export const INTERRUPTED = 'INTERRUPTED';

/** Records one VU's SMTP events into the series it currently points at. */
export class VuRecorder implements SessionRecorder {
  series: Series;
  /** performance.now() of the current iteration's intended start (response time base). */
  intendedStartMs = 0;
  private readonly registry: MetricsRegistry;

  constructor(registry: MetricsRegistry, series: Series) {
    this.registry = registry;
    this.series = series;
  }

  connectionOpened(): void {
    this.series.connections++;
  }

  phase(phaseIndex: number, durationUs: number): void {
    this.series.phases[phaseIndex]!.record(durationUs);
  }

  accepted(txnUs: number, messageBytes: number): void {
    const series = this.series;
    series.txns++;
    series.accepted++;
    series.messageBytes += messageBytes;
    series.txnDuration.record(txnUs);
    // Response time runs from the intended start: in an open model a late start is the
    // server's fault and must not vanish from the figures (coordinated omission).
    const responseUs = Math.round((performance.now() - this.intendedStartMs) * 1000);
    series.txnResponseTime.record(responseUs > txnUs ? responseUs : txnUs);
    this.registry.noteAccepted(txnUs, messageBytes);
  }

  failed(failure: Failure, _txnUs: number): void {
    const series = this.series;
    if (failure.error === INTERRUPTED) {
      series.interrupted++;
      return;
    }
    series.txns++;
    series.failed++;
    countError(series.errors, failure);
    this.registry.noteFailed();
  }

  afterAcceptError(failure: Failure): void {
    countError(this.series.afterAcceptErrors, failure);
  }

  connectionClosed(bytesSent: number, bytesReceived: number): void {
    this.series.bytesSent += bytesSent;
    this.series.bytesReceived += bytesReceived;
  }
}

/** A virtual user: its id, iteration count, SMTP session and recorder. */
export class VuState implements Vu {
  readonly id: number;
  iterations = 0;
  readonly recorder: VuRecorder;
  readonly session: SmtpSession;
  /** ctx.vuState: the scenario code's state for this VU, kept across its iterations. */
  readonly vuState: Record<string, unknown> = {};

  constructor(id: number, scenario: ResolvedScenario, registry: MetricsRegistry, series: Series) {
    this.id = id;
    this.recorder = new VuRecorder(registry, series);
    this.session = new SmtpSession(scenario.target, scenario.smtp, this.recorder);
  }
}
