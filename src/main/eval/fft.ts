/**
 * Discrete Fourier transforms of any length in float64 (radix-2, Bluestein otherwise),
 * with numpy's conventions: forward unscaled, inverse scaled by 1/n, frequency order
 * 0, 1, …, −1. Evaluation images are cropped to the scan box, so sizes are arbitrary.
 */
import { type ComplexImage, complexImage, type RealImage } from './image';

export type Fft1d = (re: Float64Array, im: Float64Array, inverse: boolean) => void;

/** An in-place transform of length n (re, im of length n). */
export function makeFft(n: number): Fft1d {
  if (n < 1 || !Number.isInteger(n)) throw new Error(`FFT length must be a positive integer, got ${n}`);
  if (n === 1) return () => {};
  return (n & (n - 1)) === 0 ? radix2(n) : bluestein(n);
}

function radix2(n: number): Fft1d {
  const levels = Math.log2(n);
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / n);
    sin[i] = Math.sin((2 * Math.PI * i) / n);
  }
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0, v = i; b < levels; b++, v >>= 1) r = (r << 1) | (v & 1);
    rev[i] = r;
  }
  return (re, im, inverse) => {
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      if (j > i) {
        let t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    const sign = inverse ? 1 : -1;
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const wr = cos[k * step];
          const wi = sign * sin[k * step];
          const a = start + k;
          const b = a + half;
          const tr = re[b] * wr - im[b] * wi;
          const ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
    if (inverse) {
      for (let i = 0; i < n; i++) {
        re[i] /= n;
        im[i] /= n;
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

/** 2-D transform of a complex image (returns a new image). */
export function fft2(img: ComplexImage, inverse = false): ComplexImage {
  const { height: h, width: w } = img;
  const out = complexImage(h, w);
  out.re.set(img.re);
  out.im.set(img.im);
  const rowFft = makeFft(w);
  for (let y = 0; y < h; y++) {
    rowFft(out.re.subarray(y * w, (y + 1) * w), out.im.subarray(y * w, (y + 1) * w), inverse);
  }
  const colFft = makeFft(h);
  const cr = new Float64Array(h);
  const ci = new Float64Array(h);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      cr[y] = out.re[y * w + x];
      ci[y] = out.im[y * w + x];
    }
    colFft(cr, ci, inverse);
    for (let y = 0; y < h; y++) {
      out.re[y * w + x] = cr[y];
      out.im[y * w + x] = ci[y];
    }
  }
  return out;
}

export function realToComplex(img: RealImage): ComplexImage {
  const c = complexImage(img.height, img.width);
  c.re.set(img.data);
  return c;
}

/** numpy.fft.fftfreq(n, d). */
export function fftfreq(n: number, d = 1): Float64Array {
  const out = new Float64Array(n);
  const half = Math.floor((n - 1) / 2) + 1;
  for (let i = 0; i < n; i++) out[i] = (i < half ? i : i - n) / (d * n);
  return out;
}

/** numpy.fft.fftshift for a 2-D complex image. */
export function fftshift2(img: ComplexImage): ComplexImage {
  const { height: h, width: w } = img;
  const out = complexImage(h, w);
  const sy = Math.floor(h / 2);
  const sx = Math.floor(w / 2);
  for (let y = 0; y < h; y++) {
    const ty = (y + sy) % h;
    for (let x = 0; x < w; x++) {
      const t = ty * w + ((x + sx) % w);
      out.re[t] = img.re[y * w + x];
      out.im[t] = img.im[y * w + x];
    }
  }
  return out;
}
