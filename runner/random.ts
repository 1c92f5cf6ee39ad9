/**
 * Seeded randomness shared by the fake proxy (delays, failure draws) and the statistics
 * (bootstrap resampling): the same seed gives the same sequence, so tests and reports repeat.
 */

/** A source of uniform floats in [0, 1). */
export type RandomSource = () => number;

/**
 * A seeded PRNG returning floats in [0, 1): mulberry32 (a public-domain 32-bit generator), small and
 * fast with a full 2^32 period, plenty for delays and failure draws. The same seed gives the same sequence.
 */
export function createSeededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A fresh random 32-bit seed, for when the caller did not choose one. */
export function createRandomSeed(): number {
  return Math.floor(Math.random() * 4_294_967_296) >>> 0;
}
