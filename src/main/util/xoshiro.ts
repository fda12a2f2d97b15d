/**
 * The integer core shared by the simulation's and the trainer's seeded generators:
 * splitmix32 (seeding) and one xoshiro128** step. Pure 32-bit integer arithmetic, so a seed
 * gives the same stream on every machine.
 */

export type XoshiroState = [number, number, number, number];

/** A splitmix32 stream from a 32-bit seed. */
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
