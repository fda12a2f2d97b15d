/**
 * What ePIE / rPIE (`pie.ts`) and LSQML (`lsqml.ts`) iterate on, and the step both take per
 * position between the two transforms: the measured moduli replace the far field's.
 */

/** The scan, the measured moduli and the object and probe being refined (split planes). */
export interface ScanState {
  N: number;
  /** Object width (row stride of the object planes). */
  W: number;
  /** Top-left object pixel of each position's patch. */
  rows: Int32Array;
  cols: Int32Array;
  /** (M, N, N) measured moduli, transposed FFT layout (as `fft2Transposed` leaves the far field). */
  mod: Float64Array;
  oRe: Float64Array;
  oIm: Float64Array;
  pRe: Float64Array;
  pIm: Float64Array;
}

/**
 * Replaces the far field's modulus by the measured one (`mod[offset …]`), in place, and
 * conjugates it, so that the next forward transform acts as the inverse (conj(F(conj(·))) / N²;
 * the caller conjugates back and divides by N²). Returns Σ(|Ψ| − M)² measured before.
 */
export function applyModuli(fRe: Float64Array, fIm: Float64Array, mod: Float64Array, offset: number): number {
  let err = 0;
  for (let i = 0; i < fRe.length; i++) {
    const a = Math.sqrt(fRe[i] * fRe[i] + fIm[i] * fIm[i]); // Math.hypot is several times slower here
    const m = mod[offset + i];
    err += (a - m) * (a - m);
    if (a > 0) {
      const f = m / a;
      fRe[i] *= f;
      fIm[i] = -fIm[i] * f;
    } else {
      fRe[i] = m;
      fIm[i] = 0;
    }
  }
  return err;
}
