/**
 * The one FFT module: discrete Fourier transforms of any length in float64, with numpy's
 * conventions (forward unscaled, e^{-2πi k·n/N}; inverse scaled by 1/n; frequency order
 * 0, 1, …, −1).
 *   - power-of-two lengths: radix-2 (a bit-reversed load fused with the first stage, then one
 *     pass per twiddle); the 2-D forward transform does whole rows at a time (`fftColumns`);
 *   - other lengths: Bluestein's chirp-z, a convolution of power-of-two length.
 * The loop order of the radix-2 stages is the simulation's since its first release: per
 * value the same operations in the same order, so simulated data stay bit-identical
 * (test/seeded-streams.test.ts). The inverse is the forward transform of the conjugate,
 * conjugated and scaled, which is the same arithmetic as a transform with conjugated
 * twiddles.
 */
import { StudyError } from '../../shared/errors';

/** A complex image as split float64 planes, row-major (eval/image.ts's ComplexImage). */
export interface ComplexPlanes {
  readonly height: number;
  readonly width: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

/** An in-place 1-D transform of length n (re, im of length n). */
export type Fft1d = (re: Float64Array, im: Float64Array, inverse: boolean) => void;

interface FftPlan {
  n: number;
  cos: Float64Array;
  sin: Float64Array;
  rev: Uint32Array | null; // bit reversal for power-of-two n, null → Bluestein
}

const plans = new Map<number, FftPlan>(); // immutable tables, memoised per size

const isPowerOfTwo = (n: number): boolean => n >= 1 && (n & (n - 1)) === 0;

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

/** In-place forward radix-2 DFT of n = 2^k values at re/im[off + k·stride], using scratch arrays of length n. */
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
  if (n === 1) {
    sr[0] = re[off];
    si[0] = im[off];
  } else {
    // bit-reversed load fused with the first stage (twiddle 1); later stages walk each
    // twiddle once over all its butterflies. Same operations in the same order per value
    // as the textbook loop, so results are bit-identical, about twice as fast.
    const rev = p.rev as Uint32Array;
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
 * a transpose), bit-identical to the per-line loop; other sizes go line by line (Bluestein).
 */
export function fft2(re: Float64Array, im: Float64Array, h: number, w: number): void {
  if (isPowerOfTwo(w) && isPowerOfTwo(h) && h > 1 && w > 1) {
    const pw = plan(w);
    const ph = plan(h);
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
  perLine(re, im, h, w, false);
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
  perLine(re, im, h, w, false);
}

/** Rows, then columns, each line through `makeFft` (any size; the inverse scales each line by 1/n). */
function perLine(re: Float64Array, im: Float64Array, h: number, w: number, inverse: boolean): void {
  const lr = new Float64Array(Math.max(h, w));
  const li = new Float64Array(Math.max(h, w));
  const rowFft = makeFft(w);
  for (let y = 0; y < h; y++) rowFft(re.subarray(y * w, (y + 1) * w), im.subarray(y * w, (y + 1) * w), inverse);
  const colFft = makeFft(h);
  const cr = lr.subarray(0, h);
  const ci = li.subarray(0, h);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      cr[y] = re[y * w + x];
      ci[y] = im[y * w + x];
    }
    colFft(cr, ci, inverse);
    for (let y = 0; y < h; y++) {
      re[y * w + x] = cr[y];
      im[y * w + x] = ci[y];
    }
  }
}

/**
 * 2-D transform of a complex image into a new one (forward, or inverse scaled by 1/(h·w)),
 * line by line as numpy does it.
 */
export function fft2Image<T extends ComplexPlanes>(img: T, inverse = false): ComplexPlanes {
  const out: ComplexPlanes = {
    height: img.height,
    width: img.width,
    re: Float64Array.from(img.re),
    im: Float64Array.from(img.im),
  };
  perLine(out.re, out.im, img.height, img.width, inverse);
  return out;
}

/** An in-place transform of length n: radix-2 for powers of two, Bluestein otherwise. */
export function makeFft(n: number): Fft1d {
  if (n < 1 || !Number.isInteger(n)) throw new Error(`FFT length must be a positive integer, got ${n}`);
  if (n === 1) return () => {};
  return (n & (n - 1)) === 0 ? radix2(n) : bluestein(n);
}

/** Radix-2 of n = 2^k values; the inverse is conj(fft(conj(x))) / n. */
function radix2(n: number): Fft1d {
  const p = plan(n);
  const sr = new Float64Array(n);
  const si = new Float64Array(n);
  return (re, im, inverse) => {
    if (inverse) for (let i = 0; i < n; i++) im[i] = -im[i];
    fft1d(re, im, 0, 1, p, sr, si);
    if (inverse) {
      for (let i = 0; i < n; i++) {
        re[i] /= n;
        im[i] = -im[i] / n;
      }
    }
  };
}

/** Bluestein's chirp-z: a length-n DFT as a convolution of power-of-two length. */
function bluestein(n: number): Fft1d {
  let m = 1;
  while (m < 2 * n - 1) m *= 2;
  const inner = radix2(m);
  // chirp w_k = exp(−iπk²/n); k² is reduced mod 2n so the angle stays accurate
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const a = (Math.PI * ((k * k) % (2 * n))) / n;
    wr[k] = Math.cos(a);
    wi[k] = -Math.sin(a);
  }
  const br = new Float64Array(m);
  const bi = new Float64Array(m);
  for (let k = 0; k < n; k++) {
    br[k] = wr[k];
    bi[k] = -wi[k];
    if (k > 0) {
      br[m - k] = wr[k];
      bi[m - k] = -wi[k];
    }
  }
  inner(br, bi, false);
  const ar = new Float64Array(m);
  const ai = new Float64Array(m);
  return (re, im, inverse) => {
    ar.fill(0);
    ai.fill(0);
    // inverse via conjugation: ifft(x) = conj(fft(conj(x))) / n
    const s = inverse ? -1 : 1;
    for (let k = 0; k < n; k++) {
      const xr = re[k];
      const xi = s * im[k];
      ar[k] = xr * wr[k] - xi * wi[k];
      ai[k] = xr * wi[k] + xi * wr[k];
    }
    inner(ar, ai, false);
    for (let k = 0; k < m; k++) {
      const tr = ar[k] * br[k] - ai[k] * bi[k];
      ai[k] = ar[k] * bi[k] + ai[k] * br[k];
      ar[k] = tr;
    }
    inner(ar, ai, true);
    for (let k = 0; k < n; k++) {
      const yr = ar[k] * wr[k] - ai[k] * wi[k];
      const yi = ar[k] * wi[k] + ai[k] * wr[k];
      re[k] = inverse ? yr / n : yr;
      im[k] = inverse ? -yi / n : yi;
    }
  };
}

/** numpy.fft.fftfreq(n, d). */
export function fftfreq(n: number, d = 1): Float64Array {
  const out = new Float64Array(n);
  const half = Math.floor((n - 1) / 2) + 1;
  for (let i = 0; i < n; i++) out[i] = (i < half ? i : i - n) / (d * n);
  return out;
}
