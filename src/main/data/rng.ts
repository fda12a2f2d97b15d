/**
 * Seeded random numbers for simulation: xoshiro128** streams (seeded through splitmix32),
 * uniform doubles with 53 random bits, normals (polar method) and Poisson counts (inversion
 * below λ = 10, Hörmann's PTRS transformed rejection above, as numpy does). Pure integer
 * and IEEE arithmetic, so a seed gives the same numbers on every machine.
 */

import { splitmix32, xoshiroNext, xoshiroSeed } from '../util/xoshiro';

export interface Rng {
  /** uniform in [0, 1) with 53 random bits */
  random(): number;
  /** uniform integer in [lo, hi] */
  integer(lo: number, hi: number): number;
  normal(): number;
  poisson(lambda: number): number;
}

/** Mixes a seed and a purpose label (e.g. 'noise/dose_1000') into one 32-bit stream seed. */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h, 0x01000193) >>> 0;
  h ^= Math.floor(seed / 2 ** 32) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return splitmix32(h)();
}

export function createRng(seed: number, label = ''): Rng {
  const sm = splitmix32(deriveSeed(seed, label));
  const st = xoshiroSeed(sm);
  const next32 = (): number => xoshiroNext(st);
  const random = (): number => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
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
    random,
    integer: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)),
    normal,
    poisson: (lambda) => poisson(random, lambda),
  };
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
