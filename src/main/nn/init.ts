/**
 * Seeded initialisers. The PRNG is our own (mulberry32 seeded through splitmix32), so the
 * same seed gives the same weights on every machine and Node version.
 */
import type { Shape } from './graph';
import { numel } from './graph';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(lo: number, hi: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** An independent generator derived from this one (e.g. one per layer). */
  fork(): Rng;
}

function splitmix32(seed: number): number {
  let z = (seed + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export function createRng(seed: number): Rng {
  let a = splitmix32(seed >>> 0);
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    fork: () => createRng(Math.floor(next() * 4294967296)),
  };
  return rng;
}

/** Fan-in / fan-out of a kernel: OIHW conv kernels or [in, out] dense matrices (Keras' rule). */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 4) {
    const rf = shape[2] * shape[3];
    return { fanIn: shape[1] * rf, fanOut: shape[0] * rf };
  }
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  const n = numel(shape);
  return { fanIn: n, fanOut: n };
}

/** Glorot (Xavier) uniform, Keras' default kernel initialiser: U(±√(6/(fanIn+fanOut))). */
export function glorotUniform(shape: Shape, rng: Rng): Float32Array {
  const { fanIn, fanOut } = fans(shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: numel(shape) }, () => rng.uniform(-limit, limit));
}

/** He (Kaiming) uniform for ReLU stacks: U(±√(6/fanIn)). */
export function heUniform(shape: Shape, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / fans(shape).fanIn);
  return Float32Array.from({ length: numel(shape) }, () => rng.uniform(-limit, limit));
}

/** He (Kaiming) normal: N(0, 2/fanIn). */
export function heNormal(shape: Shape, rng: Rng): Float32Array {
  const std = Math.sqrt(2 / fans(shape).fanIn);
  return Float32Array.from({ length: numel(shape) }, () => rng.normal() * std);
}

export function zeros(shape: Shape): Float32Array {
  return new Float32Array(numel(shape));
}

export function filled(shape: Shape, value: number): Float32Array {
  return new Float32Array(numel(shape)).fill(value);
}
