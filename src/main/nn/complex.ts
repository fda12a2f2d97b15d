/**
 * Complex tensors as (re, im) pairs of real tensors, and the 2-D DFT as matrix products
 * with precomputed cos/sin matrices (at N = 64 a DFT by MatMul is cheap next to the
 * network, and it is differentiable through the MatMul VJP). fftshift can be folded into
 * the DFT matrices (a row permutation), so it costs nothing.
 */
import type { Tensor } from './graph';
import { add, cos, mul, neg, sin, sqrt, sub } from './ops-basic';
import { matmul } from './ops-nn';
import { concat, slice } from './ops-shape';

export interface Complex {
  re: Tensor;
  im: Tensor;
}

export function complex(re: Tensor, im: Tensor): Complex {
  return { re, im };
}

export function cadd(a: Complex, b: Complex): Complex {
  return { re: add(a.re, b.re), im: add(a.im, b.im) };
}

export function csub(a: Complex, b: Complex): Complex {
  return { re: sub(a.re, b.re), im: sub(a.im, b.im) };
}

/** (a.re + i a.im)(b.re + i b.im), with broadcasting. */
export function cmul(a: Complex, b: Complex): Complex {
  return { re: sub(mul(a.re, b.re), mul(a.im, b.im)), im: add(mul(a.re, b.im), mul(a.im, b.re)) };
}
export const complexMul = cmul;

/** Multiply by a real tensor (e.g. a mask or an amplitude). */
export function cscale(a: Complex, r: Tensor | number): Complex {
  return { re: mul(a.re, r), im: mul(a.im, r) };
}

export function conj(a: Complex): Complex {
  return { re: a.re, im: neg(a.im) };
}

/** |a|². */
export function cabs2(a: Complex): Tensor {
  return add(mul(a.re, a.re), mul(a.im, a.im));
}

/** |a| = √(|a|² + eps); eps > 0 keeps the gradient finite where a = 0. */
export function cabs(a: Complex, eps = 0): Tensor {
  const s = cabs2(a);
  return sqrt(eps ? add(s, eps) : s);
}

/** amp·e^{i·phase}. */
export function polar(amp: Tensor, phase: Tensor): Complex {
  return { re: mul(amp, cos(phase)), im: mul(amp, sin(phase)) };
}

export interface DftOptions {
  /** Inverse transform (e^{+i…}, divided by N per axis as numpy's ifft). */
  inverse?: boolean;
  /** Apply fftshift to the result (forward) — folded into the matrix rows. */
  shift?: boolean;
  /** Apply ifftshift to the input first (inverse of a shifted spectrum) — folded into the columns. */
  unshiftInput?: boolean;
}

/** The N×N DFT matrix F (Y = F·x for a column x) as float arrays, row-major. */
export function dftMatrix(n: number, options: DftOptions = {}): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  const sign = options.inverse ? 1 : -1;
  const scale = options.inverse ? 1 / n : 1;
  const half = Math.floor(n / 2);
  for (let r = 0; r < n; r++) {
    // fftshift: output row r holds frequency (r − ⌊n/2⌋) mod n.
    const k = options.shift ? (r - half + n) % n : r;
    for (let c = 0; c < n; c++) {
      // ifftshift of the input: x' [j] = x[(j + ⌊n/2⌋) mod n], so column c weighs sample j = (c − ⌊n/2⌋) mod n.
      const j = options.unshiftInput ? (c - half + n) % n : c;
      const ang = (sign * 2 * Math.PI * ((k * j) % n)) / n;
      re[r * n + c] = Math.cos(ang) * scale;
      im[r * n + c] = Math.sin(ang) * scale;
    }
  }
  return { re, im };
}

/**
 * 2-D DFT over the last two axes of x ([…, H, W], H = W = n): Y = F·X·Fᵀ, four real
 * matrix products per side. Matches numpy.fft.fft2 (and fftshift/ifft2 per options).
 */
export function dft2(x: Complex, options: DftOptions = {}): Complex {
  const n = x.re.shape[x.re.shape.length - 1];
  if (x.re.shape[x.re.shape.length - 2] !== n) throw new Error(`dft2: needs square images, got [${x.re.shape}]`);
  const g = x.re.graph;
  const F = dftMatrix(n, options);
  const Fr = g.constant(F.re, [n, n]);
  const Fi = g.constant(F.im, [n, n]);
  const FrT = g.constant(transposed(F.re, n), [n, n]);
  const FiT = g.constant(transposed(F.im, n), [n, n]);
  // Left: A = F·X
  const a: Complex = {
    re: sub(matmul(Fr, x.re), matmul(Fi, x.im)),
    im: add(matmul(Fr, x.im), matmul(Fi, x.re)),
  };
  // Right: Y = A·Fᵀ
  return {
    re: sub(matmul(a.re, FrT), matmul(a.im, FiT)),
    im: add(matmul(a.re, FiT), matmul(a.im, FrT)),
  };
}

function transposed(m: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) t[c * n + r] = m[r * n + c];
  return t;
}

/** numpy.fft.fftshift over the last two axes, by Slice + Concat (for when it is not folded). */
export function fftshift2(x: Tensor): Tensor {
  const r = x.shape.length;
  let y = x;
  for (const axis of [r - 2, r - 1]) {
    const n = x.shape[axis];
    const h = n - Math.floor(n / 2);
    y = concat([slice(y, [h], [n], [axis]), slice(y, [0], [h], [axis])], axis);
  }
  return y;
}
