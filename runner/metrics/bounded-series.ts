/**
 * A time series in bounded memory however long the run: items (one per closed window, in time
 * order) are kept at full resolution up to `maxItems`; when one more would not fit, adjacent pairs
 * are merged into items twice as long, and from then on every stored item folds twice as many
 * closed windows. The series thus always spans the whole run with between maxItems/2 and maxItems
 * items of equal length (the last one may still be filling, and an odd one out may be left at the
 * old length), so a 24 h soak costs what a 2 h run costs.
 *
 * Merging is spread over the following adds (`pairsPerAdd` pairs each), because merging an item
 * can be costly (the timeline decodes two HDR histograms and encodes one: ~1 ms a pair, ~4 s for
 * all 7200 points at once, a stall no load test should take). Each add merges at least one pair
 * while old items remain and adds at most one item, so the count never exceeds `maxItems`.
 */

/** How adjacent items become one. */
export type MergeItems<T> = (earlier: T, later: T) => T;

/** Options of a bounded series. */
export interface BoundedSeriesOptions<T> {
  /** Most items kept (at least 2). */
  maxItems: number;
  /** Merges two adjacent items (and a closed window into the last item while it fills). */
  merge: MergeItems<T>;
  /** Pairs merged per add while compacting. @default 4 */
  pairsPerAdd?: number;
}

/** An append-only series of windows whose item count never exceeds `maxItems`. */
export class BoundedSeries<T> {
  /** The stored items, oldest first; never longer than maxItems. */
  readonly items: T[] = [];
  readonly maxItems: number;
  private readonly merge: MergeItems<T>;
  private readonly pairsPerAdd: number;
  /** Closed windows each new item holds once full (1, 2, 4, …). */
  private windowsPerItemValue = 1;
  /** Closed windows in the last item while it is still filling; 0 when the next add starts a new item. */
  private lastFill = 0;
  /** Next pair to merge while compacting (index of its first item); -1 when not compacting. */
  private compactAt = -1;
  /** End (exclusive) of the items still at the old length while compacting. */
  private compactEnd = 0;

  constructor(options: BoundedSeriesOptions<T>) {
    if (!Number.isInteger(options.maxItems) || options.maxItems < 2) throw new RangeError(`maxItems must be an integer ≥ 2, not ${options.maxItems}`);
    this.maxItems = options.maxItems;
    this.merge = options.merge;
    this.pairsPerAdd = Math.max(1, options.pairsPerAdd ?? 4);
  }

  /** Closed windows each new item holds once full: 1 until the first compaction, then 2, 4, … */
  get windowsPerItem(): number {
    return this.windowsPerItemValue;
  }

  /** Whether the next add folds into the last item instead of starting a new one. */
  get isLastFilling(): boolean {
    return this.lastFill > 0;
  }

  /**
   * Adds one closed window. While the last item is filling, the window is folded into it with
   * `fold` (default: the series' merge), e.g. a fold that reuses a running histogram.
   */
  add(window: T, fold: MergeItems<T> = this.merge): void {
    if (this.lastFill > 0) {
      this.items[this.items.length - 1] = fold(this.items[this.items.length - 1]!, window);
      this.lastFill = this.lastFill + 1 === this.windowsPerItemValue ? 0 : this.lastFill + 1;
      this.compactStep();
      return;
    }
    if (this.compactAt < 0 && this.items.length >= this.maxItems) {
      // Full: every stored item will be merged with its neighbour; new items hold twice as many windows.
      this.windowsPerItemValue *= 2;
      this.compactAt = 0;
      this.compactEnd = this.items.length;
    }
    this.compactStep();
    this.items.push(window);
    this.lastFill = this.windowsPerItemValue > 1 ? 1 : 0;
  }

  /** Merges up to pairsPerAdd pairs of old-length items (none when not compacting). */
  private compactStep(): void {
    if (this.compactAt < 0) return;
    for (let merged = 0; merged < this.pairsPerAdd && this.compactEnd - this.compactAt >= 2; merged++) {
      const at = this.compactAt;
      this.items.splice(at, 2, this.merge(this.items[at]!, this.items[at + 1]!));
      this.compactAt++;
      this.compactEnd--;
    }
    // Done when fewer than two old items remain (an odd one stays at the old length).
    if (this.compactEnd - this.compactAt < 2) this.compactAt = -1;
  }
}
