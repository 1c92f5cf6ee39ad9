/**
 * The arrival-rate backlog's ring buffer: first in, first out across wrap-around and growth,
 * NaN when empty, and a capacity set by the peak backlog, not by how many passed through.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ArrivalQueue } from '../../runner/executors/arrival-queue.ts';

const fifo = suite('arrival queue: first in, first out');

fifo('interleaved pushes and shifts come out in order, across wrap-around and growth', () => {
  // [pushes, shifts] per round: the head wraps around the 16-slot start, then the buffer grows while wrapped.
  const rounds: Array<[pushes: number, shifts: number]> = [
    [10, 8],
    [12, 10],
    [30, 5],
    [100, 60],
    [3, 72],
  ];
  const queue = new ArrivalQueue();
  const expected: number[] = [];
  let nextMs = 0;
  for (const [pushes, shifts] of rounds) {
    for (let i = 0; i < pushes; i++) {
      queue.push(nextMs);
      expected.push(nextMs);
      nextMs += 2.5;
    }
    assert.is(queue.length, expected.length);
    assert.is(queue.peek(), expected[0]);
    for (let i = 0; i < shifts; i++) assert.is(queue.shift(), expected.shift(), `round [${pushes}, ${shifts}] shift ${i}`);
    assert.is(queue.length, expected.length);
  }
  assert.is(queue.length, 0);
});

fifo('empty: peek and shift are NaN; clear returns the count it removed and the queue is reusable', () => {
  const queue = new ArrivalQueue();
  assert.ok(Number.isNaN(queue.peek()));
  assert.ok(Number.isNaN(queue.shift()));
  for (let i = 0; i < 40; i++) queue.push(i);
  queue.shift();
  assert.is(queue.clear(), 39);
  assert.is(queue.length, 0);
  assert.ok(Number.isNaN(queue.shift()));
  queue.push(7);
  queue.push(8);
  assert.equal([queue.shift(), queue.shift()], [7, 8]);
});

const memory = suite('arrival queue: memory follows the peak backlog');

memory('a steady backlog of N (N + 1 at the peak: push, then shift) keeps the capacity at the next power of two, however many pass through', () => {
  const cases: Array<[backlog: number, capacity: number]> = [
    [1, 16],
    [15, 16],
    [16, 32],
    [1000, 1024],
  ];
  for (const [backlog, capacity] of cases) {
    const queue = new ArrivalQueue();
    let plannedMs = 0;
    for (let i = 0; i < backlog; i++) queue.push(plannedMs++);
    for (let i = 0; i < 100_000; i++) {
      queue.push(plannedMs++);
      queue.shift();
    }
    assert.is(queue.length, backlog);
    assert.is(queue.capacity, capacity, `backlog ${backlog}`);
    assert.is(queue.peek(), plannedMs - backlog, `backlog ${backlog}: oldest`);
  }
});

fifo.run();
memory.run();
