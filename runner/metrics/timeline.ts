/**
 * The run's timeline: one point per closed window (a second, until a long run folds them; see
 * bounded-series.ts) with its counts, its smtp_txn_duration percentiles and the window's HDR
 * histogram (`txnHistogram`), so that points can be merged exactly: when a long run halves its
 * resolution, and when `runner merge` adds windows of several generators.
 */
import { TrendSink, type EncodedTrend } from './trend.ts';
import { BoundedSeries } from './bounded-series.ts';

/**
 * Most timeline points kept in memory and in the results file: 2 hours at one point per second.
 * A point costs ~1.2 KB of heap and ~1.3 KB of results file at 1000 msgs/s (its histogram is
 * ~0.95 KB of base64), ~2.7 KB at 10 000 msgs/s, so the timeline stays under ~9–20 MB however
 * long the run; longer runs halve the resolution each time the cap is reached (2 s windows up to
 * 4 h, 4 s up to 8 h, … 16 s for a 24 h soak).
 */
export const DEFAULT_TIMELINE_MAX_POINTS = 7200;

/** One window of the run: a second, or 2^k seconds once a long run was compacted (see windowMs). */
export interface TimelinePoint {
  /** Seconds since the test started, at the end of this window. */
  t: number;
  /** Length of the window in ms (1000, or 2000, 4000… after compaction; shorter for the last). */
  windowMs: number;
  started: number;
  accepted: number;
  failed: number;
  dropped: number;
  /** Accepted messages per second in this window. */
  msgsPerSecond: number;
  /**
   * Bytes of the messages accepted in this window (head and body, as sent after DATA), and per
   * second. Absent in results files written before windows carried them.
   */
  messageBytes?: number;
  bytesPerSecond?: number;
  /**
   * Arrivals planned in this window by arrival-rate executors (started, queued or dropped: the
   * load asked for, counted at the planned instant); 0 for closed models. Absent in older files.
   */
  planned?: number;
  /** Percentiles of smtp_txn_duration in this window, ms (null when nothing completed). */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Active VUs at the end of the window (a merged window keeps its later part's). */
  vus: number;
  /**
   * The longest queue of arrivals waiting for a free VU during the window (arrival-rate
   * executors; 0 when none waited); a merged window keeps the higher. Absent in results files
   * written before windows carried it.
   */
  queued?: number;
  /**
   * The window's smtp_txn_duration histogram (µs, HDR, encoded as the summary's histograms), so
   * windows merge exactly; null when nothing completed. Absent in results files written before
   * windows carried it (their windows merge with null percentiles where they overlap).
   */
  txnHistogram?: EncodedTrend | null;
  /**
   * With delivery tracking (runner/delivery/): accepted messages that arrived upstream in this
   * window, and the backlog at its end: accepted so far minus arrived so far (the relaying
   * proxy's own queue, plus what was lost). Absent without tracking and in older files.
   */
  delivered?: number;
  backlog?: number;
  /**
   * How much of the window the run was paused (`PATCH /v1/status {paused: true}`, runner pause),
   * ms: the timeline's mark of a pause. Absent when it was not paused in this window.
   */
  pausedMs?: number;
  /**
   * Arrival rates set while the run went (runner scale --rate, PATCH /v1/status {rate}) in this
   * window, in order: the timeline's mark of a rate change. Absent when none was.
   */
  rateChanges?: RateChange[];
}

/** One change of a scenario's arrival rate while the run went. */
export interface RateChange {
  /** Seconds since the test started, when the rate changed (ms precision). */
  t: number;
  scenario: string;
  /** The rate from then on, iterations per second. */
  ratePerSecond: number;
}

/** The three timeline percentiles of a window's trend, ms (null when it is empty). */
export function windowPercentiles(txn: TrendSink): Pick<TimelinePoint, 'p50Ms' | 'p95Ms' | 'p99Ms'> {
  if (txn.count === 0) return { p50Ms: null, p95Ms: null, p99Ms: null };
  return { p50Ms: txn.percentile(50) / 1000, p95Ms: txn.percentile(95) / 1000, p99Ms: txn.percentile(99) / 1000 };
}

/**
 * One window made of two adjacent ones (`earlier` ends where `later` starts): counts add, the
 * window spans from the start of `earlier` to the end of `later`, VUs are `later`'s (the count at
 * the end of the window, as for any point), the queue is the longer of the two (a peak), and the
 * percentiles come from `txn`, the histogram of both (exact). Without `txn`, the histograms are
 * decoded and added; when either window lacks its histogram (an old results file) the
 * percentiles are null unless only one completed messages.
 */
export function mergeAdjacentWindows(earlier: TimelinePoint, later: TimelinePoint, txn?: TrendSink): TimelinePoint {
  // From the start of `earlier` to the end of `later`: rounding errors do not pile up over merges.
  const windowMs = Math.round((later.t - earlier.t) * 1000 + earlier.windowMs);
  const accepted = earlier.accepted + later.accepted;
  const point: TimelinePoint = {
    t: later.t,
    windowMs,
    started: earlier.started + later.started,
    accepted,
    failed: earlier.failed + later.failed,
    dropped: earlier.dropped + later.dropped,
    msgsPerSecond: windowMs > 0 ? (accepted * 1000) / windowMs : 0,
    p50Ms: null,
    p95Ms: null,
    p99Ms: null,
    vus: later.vus,
  };
  if (earlier.queued !== undefined || later.queued !== undefined) point.queued = Math.max(earlier.queued ?? 0, later.queued ?? 0);
  if (earlier.planned !== undefined && later.planned !== undefined) point.planned = earlier.planned + later.planned;
  if (earlier.messageBytes !== undefined && later.messageBytes !== undefined) {
    point.messageBytes = earlier.messageBytes + later.messageBytes;
    point.bytesPerSecond = windowMs > 0 ? (point.messageBytes * 1000) / windowMs : 0;
  }
  if (earlier.delivered !== undefined || later.delivered !== undefined) point.delivered = (earlier.delivered ?? 0) + (later.delivered ?? 0);
  if (later.backlog !== undefined) point.backlog = later.backlog;
  if (earlier.pausedMs !== undefined || later.pausedMs !== undefined) point.pausedMs = (earlier.pausedMs ?? 0) + (later.pausedMs ?? 0);
  if (earlier.rateChanges !== undefined || later.rateChanges !== undefined) point.rateChanges = [...(earlier.rateChanges ?? []), ...(later.rateChanges ?? [])];
  if (txn) return Object.assign(point, windowPercentiles(txn), { txnHistogram: txn.count ? txn.encode() : null });
  const parts = [earlier, later];
  if (parts.every((p) => p.txnHistogram !== undefined)) {
    const completed = parts.filter((p) => p.txnHistogram);
    // One side completed nothing: the other's figures are the merged window's, no decoding needed.
    if (completed.length < 2) return Object.assign(point, pickPercentiles(completed[0]), { txnHistogram: completed[0]?.txnHistogram ?? null });
    const merged = TrendSink.decode(completed[0]!.txnHistogram!);
    merged.add(TrendSink.decode(completed[1]!.txnHistogram!));
    return Object.assign(point, windowPercentiles(merged), { txnHistogram: merged.encode() });
  }
  const withPercentiles = parts.filter((p) => p.p50Ms !== null);
  return withPercentiles.length === 1 ? Object.assign(point, pickPercentiles(withPercentiles[0])) : point;
}

function pickPercentiles(point: TimelinePoint | undefined): Pick<TimelinePoint, 'p50Ms' | 'p95Ms' | 'p99Ms'> {
  return { p50Ms: point?.p50Ms ?? null, p95Ms: point?.p95Ms ?? null, p99Ms: point?.p99Ms ?? null };
}

/** Options of a Timeline. */
export interface TimelineOptions {
  /** Most points kept (≥ 2). @default DEFAULT_TIMELINE_MAX_POINTS */
  maxPoints?: number;
  /**
   * Pairs of points merged per closed window while compacting: ~1 ms each (two histogram decodes,
   * one encode), so a tick costs ~2.5 ms more for the 30 min a compaction of 7200 points takes. @default 2
   */
  pairsPerAdd?: number;
}

/**
 * The timeline of a run in bounded memory: every closed window is added whole; the stored points
 * are those windows until `maxPoints`, then windows folded two, four, … at a time (exactly: the
 * histograms are merged, not the percentiles).
 */
export class Timeline {
  private readonly series: BoundedSeries<TimelinePoint>;
  /** Histogram of the last point while it folds several windows (kept live: no decoding per window). */
  private readonly lastTxn = new TrendSink();
  private readonly foldIntoLast = (last: TimelinePoint, next: TimelinePoint) => mergeAdjacentWindows(last, next, this.lastTxn);

  constructor(options: TimelineOptions = {}) {
    this.series = new BoundedSeries<TimelinePoint>({
      maxItems: options.maxPoints ?? DEFAULT_TIMELINE_MAX_POINTS,
      merge: (earlier, later) => mergeAdjacentWindows(earlier, later),
      pairsPerAdd: options.pairsPerAdd ?? 2,
    });
  }

  /** The points, oldest first (the array itself: it changes as windows are added). */
  get points(): TimelinePoint[] {
    return this.series.items;
  }

  /** Closed windows (seconds) each new point holds: 1 until the first compaction, then 2, 4, … */
  get windowsPerPoint(): number {
    return this.series.windowsPerItem;
  }

  /** Adds a closed window; `txn` is its smtp_txn_duration trend (read now, not kept). */
  add(window: TimelinePoint, txn: TrendSink): void {
    if (this.series.isLastFilling) {
      this.lastTxn.add(txn);
      this.series.add(window, this.foldIntoLast);
      return;
    }
    this.series.add(window);
    // The window starts a point that later windows fold into: keep its histogram live.
    if (this.series.isLastFilling) {
      this.lastTxn.reset();
      this.lastTxn.add(txn);
    }
  }
}
