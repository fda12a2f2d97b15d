/**
 * The PtychoPINN forward physics on the graph builder, per sample (never a batch-merged
 * canvas): reassembly of a group's C object patches on an M × M canvas with overlap
 * normalisation, re-extraction at each offset, illumination by the probe, far-field
 * intensity, and the Poisson negative log-likelihood. Complex values are (re, im) pairs.
 *
 * Translations are the bilinear matrices of translate.ts built inside the graph from the
 * offsets input: S(t)[i, j] = max(0, 1 − |j − i + t|) is exactly row i of the CPU matrix
 * ((1 − f) at j = i + k, f at j = i + k + 1, k + f = −t; nothing outside the image), so
 * model.onnx takes plain offsets and needs no helper code. They depend only on inputs, so
 * autodiff leaves them alone; the object's gradient is the transposed product.
 */
import type { Graph, Tensor } from '../nn/graph';
import { abs, add, div, exp, log, mul, reduceMean, reduceSum, relu, sqrt, sub } from '../nn/ops-basic';
import { matmul } from '../nn/ops-nn';
import { reshape, slice, transpose } from '../nn/ops-shape';
import { NORM_EPS } from './translate';

export const LOG_EPS = 1e-12;

export interface Complex {
  re: Tensor;
  im: Tensor;
}

const swap = (t: Tensor) => transpose(t, [0, 1, 3, 2]);

/** Central N/2 square of ones, as a flat N × N array. */
export function centerMask(N: number): Float32Array {
  const m = new Float32Array(N * N);
  for (let r = N / 4; r < N - N / 4; r++) for (let c = N / 4; c < N - N / 4; c++) m[r * N + c] = 1;
  return m;
}

/** Probe support r < N/4 measured from the centre (index − N/2 + 0.5). */
export function probeDisc(N: number): Float32Array {
  const m = new Float32Array(N * N);
  for (let r = 0; r < N; r++)
    for (let c = 0; c < N; c++) {
      const y = r - N / 2 + 0.5;
      const x = c - N / 2 + 0.5;
      if (Math.sqrt(x * x + y * y) < N / 4) m[r * N + c] = 1;
    }
  return m;
}

/** Bilinear weights max(0, 1 − |D + t|) for a constant index grid D and per-patch shifts t (B, C, 1, 1). */
function interp(g: Graph, D: Float32Array, rows: number, cols: number, t: Tensor): Tensor {
  return relu(sub(1, abs(add(g.constant(D, [rows, cols]), t))));
}

export interface Reassembly {
  /** Re-extracted patches (B, C, N, N): what the probe illuminates. */
  patches: Complex;
  /** The group's canvas trimmed to the central N × N (B, 1, N, N): the inference output. */
  trimmed: Complex;
}

/**
 * Reassembly + extraction. `offsets` (B, C, 2) as (dx, dy); null for gridsize 1, where both
 * steps reduce to multiplying by 1/(mask + 0.001) (padding and cropping are identities).
 */
export function reassemble(obj: Complex, offsets: Tensor | null, M: number): Reassembly {
  const g = obj.re.graph;
  const [B, C, N] = obj.re.shape;
  const mask = centerMask(N);
  if (offsets === null || C === 1) {
    if (C !== 1) throw new Error('reassemble: offsets are required for gridsize > 1');
    const k = g.constant(
      mask.map((m) => 1 / (m + NORM_EPS)),
      [1, 1, N, N],
    );
    const p = { re: mul(obj.re, k), im: mul(obj.im, k) };
    return { patches: p, trimmed: p };
  }
  const p = (M - N) / 2;
  const dx = reshape(slice(offsets, [0], [1], [2]), [B, C, 1, 1]);
  const dy = reshape(slice(offsets, [1], [2], [2]), [B, C, 1, 1]);
  // Placement (M × N): canvas row i takes patch row j (padded row j + p) moved by +t.
  const place = new Float32Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) place[i * N + j] = j + p - i;
  // Extraction (N × M): patch row i reads canvas row j after moving the canvas by −t.
  const take = new Float32Array(N * M);
  for (let i = 0; i < N; i++) for (let j = 0; j < M; j++) take[i * M + j] = j - i - p;
  const ly = interp(g, place, M, N, dy);
  const lxT = swap(interp(g, place, M, N, dx));
  const ey = interp(g, take, N, M, mul(dy, -1));
  const exT = swap(interp(g, take, N, M, mul(dx, -1)));
  // Overlap count of the central mask: (Ly·m)(Lx·m)ᵀ per patch (the mask is an outer product).
  const mcol = new Float32Array(N);
  for (let j = N / 4; j < N - N / 4; j++) mcol[j] = 1;
  const mc = g.constant(mcol, [N, 1]);
  const ry = matmul(ly, mc);
  const rx = matmul(interp(g, place, M, N, dx), mc);
  const count = reduceSum(matmul(ry, swap(rx)), [1], true);
  const invNorm = div(1, add(count, NORM_EPS));
  const canvas = (o: Tensor) => mul(reduceSum(matmul(matmul(ly, o), lxT), [1], true), invNorm);
  const extract = (cv: Tensor) => matmul(matmul(ey, cv), exT);
  const cre = canvas(obj.re);
  const cim = canvas(obj.im);
  const trim = (cv: Tensor) => slice(cv, [p, p], [p + N, p + N], [2, 3]);
  return {
    patches: { re: extract(cre), im: extract(cim) },
    trimmed: { re: trim(cre), im: trim(cim) },
  };
}

/** fftshift(DFT)/√N as (re, im) N × N matrices: |A ψ Aᵀ|² = |fftshift(fft2(ψ))|² / N². */
export function shiftedDftMatrix(N: number): { re: Float32Array; im: Float32Array } {
  const re = new Float32Array(N * N);
  const im = new Float32Array(N * N);
  const s = 1 / Math.sqrt(N);
  for (let k = 0; k < N; k++) {
    const kk = (k + N / 2) % N;
    for (let n = 0; n < N; n++) {
      const a = (-2 * Math.PI * ((kk * n) % N)) / N;
      re[k * N + n] = Math.cos(a) * s;
      im[k * N + n] = Math.sin(a) * s;
    }
  }
  return { re, im };
}

/**
 * Predicted counts Î = exp(2·logScale) · |fftshift(fft2(patch · P))|² / N², (B, C, N, N).
 * `probe` is (N, N) constants (already masked when probe.mask is on).
 */
export function diffract(patch: Complex, probe: Complex, logScale: Tensor): Tensor {
  const g = patch.re.graph;
  const N = patch.re.shape[2];
  const psiRe = sub(mul(patch.re, probe.re), mul(patch.im, probe.im));
  const psiIm = add(mul(patch.re, probe.im), mul(patch.im, probe.re));
  const dft = shiftedDftMatrix(N);
  const ar = g.constant(dft.re, [N, N]);
  const ai = g.constant(dft.im, [N, N]);
  const arT = g.constant(transposeSquare(dft.re, N), [N, N]);
  const aiT = g.constant(transposeSquare(dft.im, N), [N, N]);
  const gr = sub(matmul(ar, psiRe), matmul(ai, psiIm));
  const gi = add(matmul(ar, psiIm), matmul(ai, psiRe));
  const hr = sub(matmul(gr, arT), matmul(gi, aiT));
  const hi = add(matmul(gr, aiT), matmul(gi, arT));
  const inten = add(mul(hr, hr), mul(hi, hi));
  return mul(inten, exp(mul(logScale, 2)));
}

function transposeSquare(a: Float32Array, N: number): Float32Array {
  const t = new Float32Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) t[j * N + i] = a[i * N + j];
  return t;
}

/**
 * Poisson NLL without log(I!): mean over C·N·N of Î − I·log(Î + 1e-12) per sample, then
 * Σ_b w_b · that (w_b = 1/B for a full batch; 0 for padding rows of a last partial batch).
 */
export function poissonNll(iHat: Tensor, target: Tensor, weights: Tensor): Tensor {
  const per = sub(iHat, mul(target, log(add(iHat, LOG_EPS))));
  const perSample = reduceMean(per, [1, 2, 3]);
  return reduceSum(mul(perSample, weights));
}

/** Amplitude and phase of a complex tensor (inference outputs; no gradient needed). */
export function amplitudePhase(z: Complex): { amplitude: Tensor; phase: Tensor } {
  const g = z.re.graph;
  const amplitude = sqrt(add(mul(z.re, z.re), mul(z.im, z.im)));
  // atan2(im, re) from ONNX primitives: atan(im/re), +π where re < 0 (sign of im), 0 at the origin.
  const one = (op: string, ins: Tensor[], dtype = z.re.dtype) => g.op(op, ins, [{ dtype, shape: z.re.shape }])[0];
  const zero = g.scalar(0, z.re.dtype);
  const reZero = one('Equal', [z.re, zero], 'bool');
  const safeRe = one('Where', [reZero, g.scalar(1, z.re.dtype), z.re]);
  const base = one('Atan', [one('Div', [z.im, safeRe])]);
  const imNeg = one('Less', [z.im, zero], 'bool');
  const piSigned = one('Where', [imNeg, g.scalar(-Math.PI, z.re.dtype), g.scalar(Math.PI, z.re.dtype)]);
  const reNeg = one('Less', [z.re, zero], 'bool');
  const quad = one('Where', [reNeg, one('Add', [base, piSigned]), base]);
  const halfPi = one('Where', [imNeg, g.scalar(-Math.PI / 2, z.re.dtype), g.scalar(Math.PI / 2, z.re.dtype)]);
  const imZero = one('Equal', [z.im, zero], 'bool');
  const axis = one('Where', [imZero, zero, halfPi]);
  const phase = one('Where', [reZero, axis, quad]);
  return { amplitude, phase };
}
