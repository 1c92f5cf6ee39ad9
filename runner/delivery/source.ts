/**
 * What a delivery source is (a sink's long poll, a polled mailbox) and what it feeds: the
 * tracker's `arrive(trace, epoch ms)` and, when the source knows of refusals, `refuse(trace, epoch ms)`.
 */

/** Where a source puts what it learns: one call per arrival. */
export interface ArrivalSink {
  /** `trace`: the X-Runner-Trace value (null when the message had none); `arrivedAtEpochMs`: when it arrived. */
  arrive(trace: string | null | undefined, arrivedAtEpochMs: number): void;
  /**
   * The upstream refused the message with this trace (a sink's `refusals`): it will not arrive,
   * so it counts lost now rather than at its timeout. Sources that cannot know (a mailbox) never call it.
   */
  refuse?(trace: string | null | undefined, refusedAtEpochMs: number): void;
}

/** A source of arrivals, started before the load and stopped after the wait. */
export interface DeliverySource {
  /** For messages: 'sink http://…', 'imap user@host/INBOX'. */
  readonly description: string;
  /** Fails with the reason when the source cannot be reached (before any load). */
  check(): Promise<void>;
  start(): void;
  /** Stops, after reading everything the source has now. */
  stop(): Promise<void>;
}
