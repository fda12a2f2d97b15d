/**
 * Seeded random numbers for everything the trainer draws (grouping, validation split,
 * batch order). xoshiro128** with a splitmix32 seeding: small, fast, and its whole state is
 * four 32-bit words, so a checkpoint can store it and a resumed run draws exactly what an
 * uninterrupted run would have drawn.
 */

import { splitmix32, type XoshiroState, xoshiroNext, xoshiroSeed } from '../util/xoshiro';

export type RngState = XoshiroState;

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number;
  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number;
  /** Copy of the current state (for checkpoints). */
  state(): RngState;
}

/** Seed from an integer; `stream` separates independent uses of one user seed. */
export function seedState(seed: number, stream = 0): RngState {
  return xoshiroSeed(splitmix32((seed >>> 0) ^ Math.imul(stream + 1, 0x632be5ab)));
}

export function createRng(seedOrState: number | RngState, stream = 0): Rng {
  const s = typeof seedOrState === 'number' ? seedState(seedOrState, stream) : ([...seedOrState] as RngState);
  const nextU32 = (): number => xoshiroNext(s);
  return {
    nextU32,
    next: () => nextU32() / 4294967296,
    int(n: number): number {
      if (!(n >= 1 && n <= 4294967296)) throw new RangeError(`rng.int: n=${n} out of range`);
      const limit = 4294967296 - (4294967296 % n);
      for (;;) {
        const v = nextU32();
        if (v < limit) return v % n;
      }
    },
    state: () => [...s] as RngState,
  };
}

/** Fisher–Yates permutation of 0..n-1. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** k distinct values drawn uniformly from `pool`, in draw order (partial Fisher–Yates). */
export function sampleWithoutReplacement(rng: Rng, pool: ArrayLike<number>, k: number): number[] {
  const a = Array.from(pool);
  if (k > a.length) throw new RangeError(`cannot draw ${k} of ${a.length} without replacement`);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(a.length - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, k);
}
