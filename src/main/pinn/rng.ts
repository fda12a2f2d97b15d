/**
 * Seeded random numbers for everything the trainer draws (grouping, validation split,
 * batch order). xoshiro128** with a splitmix32 seeding: small, fast, and its whole state is
 * four 32-bit words, so a checkpoint can store it and a resumed run draws exactly what an
 * uninterrupted run would have drawn.
 */

export type RngState = [number, number, number, number];

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

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Seed from an integer; `stream` separates independent uses of one user seed. */
export function seedState(seed: number, stream = 0): RngState {
  const sm = splitmix32((seed >>> 0) ^ Math.imul(stream + 1, 0x632be5ab));
  const st: RngState = [sm(), sm(), sm(), sm()];
  if (st.every((w) => w === 0)) st[0] = 1;
  return st;
}

export function createRng(seedOrState: number | RngState, stream = 0): Rng {
  const s = typeof seedOrState === 'number' ? seedState(seedOrState, stream) : ([...seedOrState] as RngState);
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  };
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
