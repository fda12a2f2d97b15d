/**
 * The one seeded-generator module. Pure 32-bit integer and IEEE arithmetic, so a seed gives
 * the same numbers on every machine and Node version.
 *
 * One `Rng` interface, two word sources, three ways to seed them. The streams are fixed by
 * the seeds studies have recorded (same seed → same data and weights; see
 * test/seeded-streams.test.ts), so each seeding stays exactly what it was:
 *   - `simulationRng(seed, label)`: xoshiro128** seeded through splitmix32 from the seed mixed
 *     with a purpose label ('object', 'noise/dose_1000', …). Simulation and classical PIE.
 *   - `trainerRng(seedOrState, stream)`: xoshiro128** from the seed mixed with a stream number;
 *     resumable from `state()` (four words a checkpoint stores), so a resumed run draws what an
 *     uninterrupted one would have. Grouping, validation split, batch order.
 *   - `weightInitRng(seed)`: mulberry32 seeded through one splitmix32 step. Weight
 *     initialisation (and the nn tests' inputs); `plainMulberry32Rng(seed)` skips the
 *     splitmix step (the evaluation tests' fixed images).
 * Every draw below is defined once over the source's 32-bit words.
 */

export type XoshiroState = [number, number, number, number];
export type RngState = XoshiroState;

export interface Rng {
  /** Uniform 32-bit unsigned integer (one word). */
  nextU32(): number;
  /** Uniform in [0, 1) with 32 bits of resolution (one word). */
  next(): number;
  /** Uniform in [0, 1) with 53 random bits (two words). */
  random(): number;
  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number;
  /** Uniform integer in [lo, hi] (from `random`). */
  integer(lo: number, hi: number): number;
  /** Uniform in [lo, hi) (from `next`). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (polar method on `random`; the second value of each pair is kept). */
  normal(): number;
  /** Poisson count (inversion below λ = 10, Hörmann's PTRS above, as numpy does). */
  poisson(lambda: number): number;
}

/** A generator whose whole state can be saved and restored (checkpoints). */
export interface ResumableRng extends Rng {
  /** Copy of the current state. */
  state(): RngState;
}

// ---------------------------------------------------------------------------------------
// word sources

/** A splitmix32 stream from a 32-bit seed (seeding only). */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Four words from a splitmix32 stream; never the all-zero state xoshiro cannot leave. */
export function xoshiroSeed(sm: () => number): XoshiroState {
  const st: XoshiroState = [sm(), sm(), sm(), sm()];
  if (st.every((w) => w === 0)) st[0] = 1;
  return st;
}

/** Advance `s` in place by one xoshiro128** step and return the next uniform 32-bit word. */
export function xoshiroNext(s: XoshiroState): number {
  const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] = (s[2] ^ s[0]) >>> 0;
  s[3] = (s[3] ^ s[1]) >>> 0;
  s[1] = (s[1] ^ s[2]) >>> 0;
  s[0] = (s[0] ^ s[3]) >>> 0;
  s[2] = (s[2] ^ t) >>> 0;
  s[3] = rotl(s[3], 11);
  return result;
}

/** A mulberry32 word source starting from state `a`. */
function mulberry32(a: number): () => number {
  let s = a | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

// ---------------------------------------------------------------------------------------
// the draws, once, over any word source

function rngFrom(nextU32: () => number): Rng {
  const next = (): number => nextU32() / 4294967296;
  const random = (): number => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 9007199254740992;
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    for (;;) {
      const u = 2 * random() - 1;
      const v = 2 * random() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        spare = v * f;
        return u * f;
      }
    }
  };
  return {
    nextU32,
    next,
    random,
    int(n: number): number {
      if (!(n >= 1 && n <= 4294967296)) throw new RangeError(`rng.int: n=${n} out of range`);
      const limit = 4294967296 - (4294967296 % n);
      for (;;) {
        const v = nextU32();
        if (v < limit) return v % n;
      }
    },
    integer: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)),
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal,
    poisson: (lambda) => poisson(random, lambda),
  };
}

// ---------------------------------------------------------------------------------------
// the three seedings

/** Mixes a seed and a purpose label (e.g. 'noise/dose_1000') into one 32-bit stream seed. */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h, 0x01000193) >>> 0;
  h ^= Math.floor(seed / 2 ** 32) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return splitmix32(h)();
}

/** The simulation's generator: one independent stream per (seed, purpose label). */
export function simulationRng(seed: number, label = ''): Rng {
  const st = xoshiroSeed(splitmix32(deriveSeed(seed, label)));
  return rngFrom(() => xoshiroNext(st));
}

/** The trainer's seed state; `stream` separates independent uses of one user seed. */
export function seedState(seed: number, stream = 0): RngState {
  return xoshiroSeed(splitmix32((seed >>> 0) ^ Math.imul(stream + 1, 0x632be5ab)));
}

/** The trainer's generator, from a seed and stream or from a saved state. */
export function trainerRng(seedOrState: number | RngState, stream = 0): ResumableRng {
  const s = typeof seedOrState === 'number' ? seedState(seedOrState, stream) : ([...seedOrState] as RngState);
  return { ...rngFrom(() => xoshiroNext(s)), state: () => [...s] as RngState };
}

/** The weight initialisers' generator. */
export function weightInitRng(seed: number): Rng {
  return rngFrom(mulberry32(splitmix32(seed >>> 0)()));
}

/** mulberry32 started from `seed` itself (no splitmix step): the fixed images of the evaluation tests. */
export function plainMulberry32Rng(seed: number): Rng {
  return rngFrom(mulberry32(seed));
}

// ---------------------------------------------------------------------------------------
// sampling helpers

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

const LOGGAM_COEF = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4,
  -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059,
];

/** log Γ(x) for x ≥ 1 (Stirling series after shifting x above 7). */
export function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0;
  let x0 = x;
  let n = 0;
  if (x <= 7) {
    n = Math.floor(7 - x);
    x0 = x + n;
  }
  const x2 = 1 / (x0 * x0);
  let gl0 = LOGGAM_COEF[9];
  for (let k = 8; k >= 0; k--) gl0 = gl0 * x2 + LOGGAM_COEF[k];
  let gl = gl0 / x0 + 0.5 * Math.log(2 * Math.PI) + (x0 - 0.5) * Math.log(x0) - x0;
  if (x <= 7)
    for (let k = 1; k <= n; k++) {
      gl -= Math.log(x0 - 1);
      x0 -= 1;
    }
  return gl;
}

export function poisson(random: () => number, lambda: number): number {
  if (!(lambda > 0)) return 0;
  if (lambda < 10) {
    // inversion by sequential search
    const enlam = Math.exp(-lambda);
    let k = 0;
    let prod = 1;
    for (;;) {
      prod *= random();
      if (prod > enlam) k++;
      else return k;
    }
  }
  // PTRS (Hörmann 1993)
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = random() - 0.5;
    const V = random();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logGamma(k + 1))
      return k;
  }
}
