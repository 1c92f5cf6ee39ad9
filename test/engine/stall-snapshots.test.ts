// test-tier: unit
/**
 * How often the stall watchdog gets a fresh snapshot (engine/stall-watchdog.ts,
 * nextSnapshotDelayMs): each second while building one is cheap, stretched to keep it at 2% of
 * the main thread, never longer than 10 s or half the stall limit.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nextSnapshotDelayMs, SNAPSHOT_MIN_MS, SNAPSHOT_MS } from '../../runner/engine/stall-watchdog.ts';

const test = suite('stall watchdog: snapshot schedule');

const CASES: Array<[costMs: number, stallLimitMs: number, delayMs: number, why: string]> = [
  [0.5, 30_000, SNAPSHOT_MIN_MS, 'a short run: once a second, so a stall in its first seconds keeps figures'],
  [20, 30_000, 1_000, 'at 20 ms, once a second is 2%'],
  [40, 30_000, 2_000, 'at 40 ms, every 2 s'],
  [150, 30_000, 7_500, 'at 150 ms, every 7.5 s'],
  [1_000, 30_000, SNAPSHOT_MS, 'an hour of timeline: every 10 s at most'],
  [0.5, 1_000, 500, 'half the stall limit when that is shorter than a second'],
  [1_000, 4_000, 2_000, 'half the stall limit caps the stretch'],
];

for (const [costMs, stallLimitMs, delayMs, why] of CASES) {
  test(`${costMs} ms per snapshot, stall limit ${stallLimitMs} ms → every ${delayMs} ms (${why})`, () => {
    assert.is(nextSnapshotDelayMs(costMs, stallLimitMs), delayMs);
  });
}

test.run();
