/**
 * Seeded initialisers. The generator is ../numeric/rng.ts's `weightInitRng` (mulberry32
 * seeded through splitmix32), so the same seed gives the same weights on every machine and
 * Node version.
 */
import type { Rng } from '../numeric/rng';
import type { Shape } from './graph';
import { numel } from './graph';

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
  return uniformArray(numel(shape), -limit, limit, rng);
}

/**
 * n draws of U(lo, hi) in order, as float32. A plain loop: `Float32Array.from` with a
 * callback took ≈ 100 ms for PtychoPINN's 2.3 M weights, paid by every graph a job builds.
 */
function uniformArray(n: number, lo: number, hi: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
  return out;
}

/** He (Kaiming) uniform for ReLU stacks: U(±√(6/fanIn)). */
export function heUniform(shape: Shape, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / fans(shape).fanIn);
  return uniformArray(numel(shape), -limit, limit, rng);
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
