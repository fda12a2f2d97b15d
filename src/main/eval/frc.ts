/**
 * Fourier ring correlation as the original computed it (ptycho/FRC/fourier_ring_corr.py,
 * `FSC(..., real=True)` on the central square): rings of integer radius
 * round(√(fy² + fx²)) around the zero frequency, and per ring
 * FRC = Re Σ F1·F2* / √(Σ|F1|² · Σ|F2|²).
 * Where the original took "first ring below 0.5" as an integer, we report the interpolated
 * first crossing of 0.5 and of 1/7, and skip the zero-frequency ring, which is noise for
 * the mean-free (plane-removed) phase.
 */
import { fft2Image } from '../numeric/fft';
import { realToComplex } from './image';
import { centerSquare, type RealImage } from './image';

export const FRC_THRESHOLDS = [0.5, 1 / 7] as const;

export interface FrcCrossing {
  threshold: number;
  /** Interpolated ring index of the first crossing; null when the curve stays above it up to Nyquist. */
  ring: number | null;
  /** The same as a fraction of the Nyquist frequency (ring / (n/2)); 1 when it never crosses. */
  fractionOfNyquist: number;
  /** Period of the finest resolved spatial frequency in pixels (n / ring); 2 (Nyquist) when it never crosses. */
  periodPx: number;
  /** True when the curve stays above the threshold up to Nyquist: the period is then a bound (≤ 2 px). */
  reachesNyquist: boolean;
}

export interface FrcResult {
  /** Side of the central square the curve was computed on. */
  size: number;
  /** FRC per ring 0 … ⌊n/2⌋ (zero frequency to Nyquist). */
  curve: number[];
  crossings: FrcCrossing[];
}

/** Rings 0 … max radius (corners included), as the original's `spinavej`. */
export function frcCurveAllRings(a: RealImage, b: RealImage): number[] {
  if (a.height !== b.height || a.width !== b.width) throw new Error('frc: images differ in shape');
  const sa = centerSquare(a);
  const sb = centerSquare(b);
  const n = sa.height;
  const fa = fft2Image(realToComplex(sa));
  const fb = fft2Image(realToComplex(sb));
  const signed = (k: number) => (k < n - Math.floor(n / 2) ? k : k - n);
  const maxRing = Math.round(Math.hypot(Math.floor(n / 2), Math.floor(n / 2)));
  const c = new Float64Array(maxRing + 1);
  const c1 = new Float64Array(maxRing + 1);
  const c2 = new Float64Array(maxRing + 1);
  for (let y = 0; y < n; y++) {
    const fy = signed(y);
    for (let x = 0; x < n; x++) {
      const ring = Math.round(Math.hypot(fy, signed(x)));
      const i = y * n + x;
      const ar = fa.re[i];
      const ai = fa.im[i];
      const br = fb.re[i];
      const bi = fb.im[i];
      c[ring] += ar * br + ai * bi;
      c1[ring] += ar * ar + ai * ai;
      c2[ring] += br * br + bi * bi;
    }
  }
  return Array.from(c, (v, k) => v / Math.sqrt(Math.abs(c1[k] * c2[k])));
}

/** The largest square of valid pixels (1 = valid), as its top-left corner and side. */
export function largestValidSquare(h: number, w: number, valid: Uint8Array): { y0: number; x0: number; size: number } {
  const side = new Int32Array(h * w);
  let best = { y0: 0, x0: 0, size: 0 };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!valid[i]) continue;
      side[i] = y === 0 || x === 0 ? 1 : 1 + Math.min(side[i - w], side[i - 1], side[i - w - 1]);
      if (side[i] > best.size) best = { y0: y - side[i] + 1, x0: x - side[i] + 1, size: side[i] };
    }
  }
  return best;
}

export function frc(a: RealImage, b: RealImage, thresholds: readonly number[] = FRC_THRESHOLDS): FrcResult {
  const all = frcCurveAllRings(a, b);
  const n = Math.min(a.height, a.width);
  const nyquist = Math.floor(n / 2);
  const curve = all.slice(0, nyquist + 1);
  return { size: n, curve, crossings: thresholds.map((t) => crossing(curve, t, n)) };
}

function crossing(curve: number[], threshold: number, n: number): FrcCrossing {
  let ring: number | null = null;
  if (curve.length > 1 && !(curve[1] >= threshold)) ring = 1;
  else {
    for (let k = 2; k < curve.length; k++) {
      if (curve[k] < threshold) {
        const hi = curve[k - 1];
        ring = k - 1 + (hi - threshold) / (hi - curve[k]);
        break;
      }
    }
  }
  return {
    threshold,
    ring,
    fractionOfNyquist: ring === null ? 1 : ring / (n / 2),
    periodPx: ring === null ? 2 : n / ring,
    reachesNyquist: ring === null,
  };
}
