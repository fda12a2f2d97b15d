/**
 * The reference forward physics of the study, in float64. Everything else that models the
 * far field (the trainer's ONNX graph included) is tested against these functions.
 *
 * Conventions (identical to PtychoPINN's `diffsim.illuminate_and_diffract` / `pad_and_diffract`
 * and to `forward_intensity` in the numpy reference simulate.py):
 *   - arrays are (row = y, column = x), C order; complex values interleaved (re, im);
 *   - exit wave            ψ = Y ⊙ P               (object patch times probe; no mask here —
 *                                                   a masked probe is masked in P itself);
 *   - far field            F = fft2(ψ)              (unnormalised forward DFT, numpy's default
 *                                                   norm="backward": F[k] = Σ ψ[n] e^{-2πi k·n/N});
 *   - amplitude            A = |fftshift(F)| / N    (fftshift moves the zero frequency from
 *                                                   index 0 to index N/2 on each axis,
 *                                                   numpy.fft.fftshift);
 *   - expected intensity   A² = |fftshift(F)|² / N², so Σ A² = Σ |ψ|² (Parseval);
 *   - intensity scale      s = sqrt(dose / mean_j Σ|ψ_j|²), the mean taken over all scan
 *                          positions of the simulation (the original's `scale_nphotons`), so
 *                          the expected counts λ = (s·A)² average `dose` photons per pattern;
 *   - counts               c ~ Poisson(λ);
 *   - stored diffraction   d = sqrt(c) / s           (float32 amplitude, DATA-001), so counts
 *                          are recovered as c = (s·d)² with s recorded as `intensity_scale`.
 */
import { StudyError } from '../../shared/errors';
import type { NdArray } from './ndarray';

interface FftPlan {
  n: number;
  cos: Float64Array;
  sin: Float64Array;
  rev: Uint32Array | null; // bit reversal for power-of-two n, null → direct DFT
}

const plans = new Map<number, FftPlan>(); // immutable tables, memoised per size

function plan(n: number): FftPlan {
  let p = plans.get(n);
  if (p) return p;
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = -Math.sin((2 * Math.PI * k) / n); // forward transform: e^{-2πik/n}
  }
  let rev: Uint32Array | null = null;
  if ((n & (n - 1)) === 0) {
    const bits = Math.log2(n);
    rev = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      rev[i] = r;
    }
  }
  p = { n, cos, sin, rev };
  plans.set(n, p);
  return p;
}

/** In-place forward DFT of n values at re/im[off + k·stride], using scratch arrays of length n. */
function fft1d(
  re: Float64Array,
  im: Float64Array,
  off: number,
  stride: number,
  p: FftPlan,
  sr: Float64Array,
  si: Float64Array,
): void {
  const n = p.n;
  if (!p.rev) {
    for (let k = 0; k < n; k++) {
      let ar = 0;
      let ai = 0;
      for (let j = 0; j < n; j++) {
        const t = (k * j) % n;
        const xr = re[off + j * stride];
        const xi = im[off + j * stride];
        ar += xr * p.cos[t] - xi * p.sin[t];
        ai += xr * p.sin[t] + xi * p.cos[t];
      }
      sr[k] = ar;
      si[k] = ai;
    }
  } else if (n === 1) {
    sr[0] = re[off];
    si[0] = im[off];
  } else {
    // bit-reversed load fused with the first stage (twiddle 1); later stages walk each
    // twiddle once over all its butterflies. Same operations in the same order per value
    // as the textbook loop, so results are bit-identical, about twice as fast.
    const rev = p.rev;
    for (let i = 0; i < n; i += 2) {
      const a = off + rev[i] * stride;
      const b = off + rev[i + 1] * stride;
      const ar = re[a];
      const ai = im[a];
      const br = re[b];
      const bi = im[b];
      sr[i] = ar + br;
      si[i] = ai + bi;
      sr[i + 1] = ar - br;
      si[i + 1] = ai - bi;
    }
    for (let size = 4; size <= n; size <<= 1) {
      const half = size >> 1;
      const step = n / size;
      for (let j = 0; j < half; j++) {
        const wr = p.cos[j * step];
        const wi = p.sin[j * step];
        for (let a = j; a < n; a += size) {
          const b = a + half;
          const tr = sr[b] * wr - si[b] * wi;
          const ti = sr[b] * wi + si[b] * wr;
          sr[b] = sr[a] - tr;
          si[b] = si[a] - ti;
          sr[a] += tr;
          si[a] += ti;
        }
      }
    }
  }
  for (let k = 0; k < n; k++) {
    re[off + k * stride] = sr[k];
    im[off + k * stride] = si[k];
  }
}

/**
 * In-place radix-2 DFT along the first axis of an h × w image (every column at once): rows
 * are permuted bit-reversed, then each butterfly combines two whole rows, so the innermost
 * loop walks contiguous memory and each twiddle is read once per row pair. Per value it does
 * the same operations in the same order as `fft1d`, so the results are bit-identical.
 */
function fftColumns(re: Float64Array, im: Float64Array, h: number, w: number, p: FftPlan): void {
  const rev = p.rev as Uint32Array;
  for (let i = 0; i < h; i++) {
    const j = rev[i];
    if (j <= i) continue;
    const a = i * w;
    const b = j * w;
    for (let x = 0; x < w; x++) {
      const tr = re[a + x];
      re[a + x] = re[b + x];
      re[b + x] = tr;
      const ti = im[a + x];
      im[a + x] = im[b + x];
      im[b + x] = ti;
    }
  }
  let size = 2;
  if (h >= 4) {
    // stages 2 (twiddle 1) and 4 fused: one pass over each group of four rows
    const w1r = p.cos[h / 4];
    const w1i = p.sin[h / 4];
    for (let r = 0; r < h; r += 4) {
      const a = r * w;
      const b = a + w;
      const c = b + w;
      const d = c + w;
      for (let x = 0; x < w; x++) {
        const ar = re[a + x];
        const ai = im[a + x];
        const br = re[b + x];
        const bi = im[b + x];
        const cr = re[c + x];
        const ci = im[c + x];
        const dr = re[d + x];
        const di = im[d + x];
        const s0r = ar + br;
        const s0i = ai + bi;
        const s1r = ar - br;
        const s1i = ai - bi;
        const s2r = cr + dr;
        const s2i = ci + di;
        const s3r = cr - dr;
        const s3i = ci - di;
        // stage 4: (0, 2) with twiddle 1, (1, 3) with twiddle h/4
        const tr = s2r * p.cos[0] - s2i * p.sin[0];
        const ti = s2r * p.sin[0] + s2i * p.cos[0];
        re[c + x] = s0r - tr;
        im[c + x] = s0i - ti;
        re[a + x] = s0r + tr;
        im[a + x] = s0i + ti;
        const ur = s3r * w1r - s3i * w1i;
        const ui = s3r * w1i + s3i * w1r;
        re[d + x] = s1r - ur;
        im[d + x] = s1i - ui;
        re[b + x] = s1r + ur;
        im[b + x] = s1i + ui;
      }
    }
    size = 8;
  } else {
    for (let r = 0; r < h; r += 2) {
      const a = r * w;
      const b = a + w;
      for (let x = 0; x < w; x++) {
        const ar = re[a + x];
        const ai = im[a + x];
        const br = re[b + x];
        const bi = im[b + x];
        re[a + x] = ar + br;
        im[a + x] = ai + bi;
        re[b + x] = ar - br;
        im[b + x] = ai - bi;
      }
    }
    size = 4;
  }
  // stages `size` and `2·size` fused: each group of four rows is read and written once
  for (; 2 * size <= h; size <<= 2) {
    const half = size >> 1;
    const step1 = h / size;
    const step2 = step1 >> 1;
    for (let j = 0; j < half; j++) {
      const w1r = p.cos[j * step1];
      const w1i = p.sin[j * step1];
      const w2r = p.cos[j * step2];
      const w2i = p.sin[j * step2];
      const w3r = p.cos[(j + half) * step2];
      const w3i = p.sin[(j + half) * step2];
      for (let r = j; r < h; r += 2 * size) {
        const a = r * w;
        const b = a + half * w;
        const c = a + size * w;
        const d = c + half * w;
        for (let x = 0; x < w; x++) {
          // stage size: (a, b) and (c, d) with twiddle j·step1
          let sr = re[b + x];
          let si = im[b + x];
          let tr = sr * w1r - si * w1i;
          let ti = sr * w1i + si * w1r;
          const ar = re[a + x];
          const ai = im[a + x];
          const s0r = ar + tr;
          const s0i = ai + ti;
          const s1r = ar - tr;
          const s1i = ai - ti;
          sr = re[d + x];
          si = im[d + x];
          tr = sr * w1r - si * w1i;
          ti = sr * w1i + si * w1r;
          const cr = re[c + x];
          const ci = im[c + x];
          const s2r = cr + tr;
          const s2i = ci + ti;
          const s3r = cr - tr;
          const s3i = ci - ti;
          // stage 2·size: (a, c) with twiddle j·step2, (b, d) with (j + half)·step2
          tr = s2r * w2r - s2i * w2i;
          ti = s2r * w2i + s2i * w2r;
          re[c + x] = s0r - tr;
          im[c + x] = s0i - ti;
          re[a + x] = s0r + tr;
          im[a + x] = s0i + ti;
          tr = s3r * w3r - s3i * w3i;
          ti = s3r * w3i + s3i * w3r;
          re[d + x] = s1r - tr;
          im[d + x] = s1i - ti;
          re[b + x] = s1r + tr;
          im[b + x] = s1i + ti;
        }
      }
    }
  }
  // a last single stage when the number of stages left is odd
  if (size <= h) {
    const half = size >> 1;
    const step = h / size;
    for (let j = 0; j < half; j++) {
      const wr = p.cos[j * step];
      const wi = p.sin[j * step];
      for (let r = j; r < h; r += size) {
        const a = r * w;
        const b = a + half * w;
        for (let x = 0; x < w; x++) {
          const sr = re[b + x];
          const si = im[b + x];
          const tr = sr * wr - si * wi;
          const ti = sr * wi + si * wr;
          re[b + x] = re[a + x] - tr;
          im[b + x] = im[a + x] - ti;
          re[a + x] += tr;
          im[a + x] += ti;
        }
      }
    }
  }
}

/** dst (w × h) = transpose of src (h × w). */
function transpose(src: Float64Array, dst: Float64Array, h: number, w: number): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) dst[x * h + y] = src[row + x];
  }
}

const transposeScratch = new Map<number, { re: Float64Array; im: Float64Array }>(); // reused per h·w

/**
 * In-place unnormalised 2-D forward DFT of an h × w complex image (split re/im planes): rows,
 * then columns. Power-of-two sizes transform whole rows at a time (`fftColumns`, the rows via
 * a transpose), bit-identical to the per-line loop; other sizes use the per-line DFT.
 */
export function fft2(re: Float64Array, im: Float64Array, h: number, w: number): void {
  const pw = plan(w);
  const ph = plan(h);
  if (pw.rev && ph.rev && h > 1 && w > 1) {
    let t = transposeScratch.get(h * w);
    if (!t) {
      t = { re: new Float64Array(h * w), im: new Float64Array(h * w) };
      transposeScratch.set(h * w, t);
    }
    transpose(re, t.re, h, w);
    transpose(im, t.im, h, w);
    fftColumns(t.re, t.im, w, h, pw);
    transpose(t.re, re, w, h);
    transpose(t.im, im, w, h);
    fftColumns(re, im, h, w, ph);
    return;
  }
  const sr = new Float64Array(Math.max(h, w));
  const si = new Float64Array(Math.max(h, w));
  for (let y = 0; y < h; y++) fft1d(re, im, y * w, 1, pw, sr, si);
  for (let x = 0; x < w; x++) fft1d(re, im, x, w, ph, sr, si);
}

/**
 * The transposed 2-D DFT of a square n × n image, in place: on return the planes hold
 * fft2(x)ᵀ (columns, one in-place transpose, columns again: half the transposes of `fft2`).
 * As fft2(yᵀ)ᵀ = fft2(y), applying it to a transposed image gives the untransposed transform,
 * so an iteration that goes to the far field and back needs no other transpose. Equal to
 * `fft2` then a transpose up to float rounding (columns are transformed first). n must be a
 * power of two.
 */
export function fft2Transposed(re: Float64Array, im: Float64Array, n: number): void {
  const p = plan(n);
  if (!p.rev)
    throw new StudyError('BAD_INPUT', `fft2Transposed needs a power-of-two size`, { found: n, expected: '2^k' });
  if (n === 1) return;
  fftColumns(re, im, n, n, p);
  for (let y = 1; y < n; y++)
    for (let x = 0; x < y; x++) {
      const a = y * n + x;
      const b = x * n + y;
      const tr = re[a];
      re[a] = re[b];
      re[b] = tr;
      const ti = im[a];
      im[a] = im[b];
      im[b] = ti;
    }
  fftColumns(re, im, n, n, p);
}

/** The per-line 2-D DFT (every size); kept to check `fft2`'s whole-row path against. */
export function fft2PerLine(re: Float64Array, im: Float64Array, h: number, w: number): void {
  const pw = plan(w);
  const ph = plan(h);
  const sr = new Float64Array(Math.max(h, w));
  const si = new Float64Array(Math.max(h, w));
  for (let y = 0; y < h; y++) fft1d(re, im, y * w, 1, pw, sr, si);
  for (let x = 0; x < w; x++) fft1d(re, im, x, w, ph, sr, si);
}

/** Reusable buffers for one N × N pattern. */
export interface PhysicsScratch {
  n: number;
  re: Float64Array;
  im: Float64Array;
}

export function physicsScratch(n: number): PhysicsScratch {
  return { n, re: new Float64Array(n * n), im: new Float64Array(n * n) };
}

/**
 * Expected intensity A² = |fftshift(fft2(Y ⊙ P))|² / N² of one N × N patch, written into
 * `out` (length N²). `patch` and `probe` are interleaved complex (re, im), C order, read from
 * `patchOffset` (in values) so a row of a (M, N, N) stack can be used without a copy.
 * Returns Σ|ψ|² (= Σ A², Parseval).
 */
export function expectedIntensity(
  patch: Float32Array | Float64Array,
  patchOffset: number,
  probe: Float32Array | Float64Array,
  out: Float64Array,
  scratch: PhysicsScratch,
): number {
  const n = scratch.n;
  const nn = n * n;
  const { re, im } = scratch;
  let energy = 0;
  for (let i = 0; i < nn; i++) {
    const yr = patch[patchOffset + 2 * i];
    const yi = patch[patchOffset + 2 * i + 1];
    const pr = probe[2 * i];
    const pi = probe[2 * i + 1];
    const r = yr * pr - yi * pi;
    const m = yr * pi + yi * pr;
    re[i] = r;
    im[i] = m;
    energy += r * r + m * m;
  }
  fft2(re, im, n, n);
  const h = n >> 1; // numpy fftshift: index k moves to (k + floor(n/2)) mod n
  const inv = 1 / nn;
  for (let y = 0; y < n; y++) {
    const ys = ((y + h) % n) * n;
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      out[ys + ((x + h) % n)] = (re[i] * re[i] + im[i] * im[i]) * inv;
    }
  }
  return energy;
}

/** Σ|Y ⊙ P|² of one patch (the photon budget before scaling, by Parseval equal to Σ A²). */
export function exitWaveEnergy(
  patch: Float32Array | Float64Array,
  patchOffset: number,
  probe: Float32Array | Float64Array,
): number {
  let e = 0;
  for (let i = 0; i < probe.length; i += 2) {
    const yr = patch[patchOffset + i];
    const yi = patch[patchOffset + i + 1];
    const pr = probe[i];
    const pi = probe[i + 1];
    const r = yr * pr - yi * pi;
    const m = yr * pi + yi * pr;
    e += r * r + m * m;
  }
  return e;
}

/** s = sqrt(dose / mean Σ|ψ|²): the amplitude factor that makes the expected counts average `dose`. */
export function intensityScaleFor(dose: number, meanExitWaveEnergy: number): number {
  if (!(meanExitWaveEnergy > 0))
    throw new StudyError('BAD_INPUT', 'the illuminated object carries no energy (probe or object is zero)', {
      found: meanExitWaveEnergy,
    });
  return Math.sqrt(dose / meanExitWaveEnergy);
}

function complexData(a: NdArray, name: string): Float32Array | Float64Array {
  if (a.dtype !== 'complex64' && a.dtype !== 'complex128')
    throw new StudyError('BAD_INPUT', `${name} must be complex, got ${a.dtype}`);
  return a.data as Float32Array | Float64Array;
}

/** A² for a stack Y (M, N, N) under probe P (N, N): float64 (M, N, N). */
export function forwardIntensity(Y: NdArray, probe: NdArray): NdArray {
  const n = probe.shape[0];
  if (probe.shape.length !== 2 || probe.shape[1] !== n || Y.shape.length !== 3 || Y.shape[1] !== n || Y.shape[2] !== n)
    throw new StudyError('BAD_INPUT', `forwardIntensity needs Y (M, N, N) and probe (N, N)`, {
      found: { Y: Y.shape, probe: probe.shape },
    });
  const y = complexData(Y, 'Y');
  const p = complexData(probe, 'probe');
  const m = Y.shape[0];
  const out = new Float64Array(m * n * n);
  const scratch = physicsScratch(n);
  const one = new Float64Array(n * n);
  for (let j = 0; j < m; j++) {
    expectedIntensity(y, j * 2 * n * n, p, one, scratch);
    out.set(one, j * n * n);
  }
  return { dtype: 'float64', shape: [m, n, n], data: out };
}

/** Amplitude A = sqrt(A²) of a stack, float64 (M, N, N). */
export function forwardAmplitude(Y: NdArray, probe: NdArray): NdArray {
  const I = forwardIntensity(Y, probe);
  const d = I.data as Float64Array;
  for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(d[i]);
  return I;
}
