/**
 * The backlog of an arrival-rate executor: arrivals that found every VU busy (and maxVUs
 * reached), waiting for the next free VU. Only their planned start instants are kept, in
 * arrival order, in a ring buffer of doubles: no object per arrival, and push/shift are O(1).
 * The buffer grows by doubling and never shrinks, so its size is the run's peak backlog
 * (8 bytes per queued arrival, at most twice that allocated); the executor bounds the backlog
 * by dropping arrivals that waited maxQueueWait (see ramping-arrival-rate.ts).
 */

/** Initial capacity (a power of two, so positions wrap with a mask). */
const INITIAL_CAPACITY = 16;

/** A FIFO of planned start instants (ms since the scenario started), oldest first. */
export class ArrivalQueue {
  private buffer = new Float64Array(INITIAL_CAPACITY);
  /** Index of the oldest entry. */
  private head = 0;
  /** Entries queued now. */
  length = 0;

  /** Queues an arrival planned at `plannedMs` (instants are pushed in increasing order). */
  push(plannedMs: number): void {
    if (this.length === this.buffer.length) this.grow();
    this.buffer[(this.head + this.length) & (this.buffer.length - 1)] = plannedMs;
    this.length++;
  }

  /** The oldest planned instant (ms); NaN when the queue is empty. */
  peek(): number {
    return this.length === 0 ? NaN : this.buffer[this.head]!;
  }

  /** Removes and returns the oldest planned instant (ms); NaN when the queue is empty. */
  shift(): number {
    if (this.length === 0) return NaN;
    const plannedMs = this.buffer[this.head]!;
    this.head = (this.head + 1) & (this.buffer.length - 1);
    this.length--;
    return plannedMs;
  }

  /** Empties the queue; returns how many arrivals it held. */
  clear(): number {
    const count = this.length;
    this.head = 0;
    this.length = 0;
    return count;
  }

  /** Entries the buffer can hold before it grows again (for tests of the memory bound). */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Doubles the buffer, unwrapping the entries to start at 0. */
  private grow(): void {
    const old = this.buffer;
    const next = new Float64Array(old.length * 2);
    const firstPart = old.subarray(this.head);
    next.set(firstPart, 0);
    next.set(old.subarray(0, this.head), firstPart.length);
    this.buffer = next;
    this.head = 0;
  }
}
