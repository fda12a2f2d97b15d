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
import { fft2 } from '../numeric/fft';
import type { NdArray } from './ndarray';

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
