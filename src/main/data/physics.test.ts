import { describe, expect, it } from 'vitest';
import { runPython } from '../util/python';
import type { NdArray } from './ndarray';
import { fft2, fft2PerLine, fft2Transposed } from '../numeric/fft';
import { exitWaveEnergy, forwardIntensity, intensityScaleFor } from './physics';

/** `forward_intensity` of the project's numpy reference simulation (reference/simulate.py), verbatim. */
const NUMPY_FORWARD_INTENSITY = `
def forward_intensity(Y, probe):
    N = probe.shape[-1]
    far = np.fft.fftshift(np.fft.fft2(Y * probe, axes=(-2, -1)), axes=(-2, -1)) / N
    return far.real ** 2 + far.imag ** 2
`;

/** Deterministic pseudo-random complex values, identical on the numpy side (same formula). */
function complexStack(shape: number[], phase: number): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    data[2 * i] = Math.sin(0.7 * i + phase) + 0.3 * Math.cos(0.13 * i * i);
    data[2 * i + 1] = Math.cos(1.3 * i - phase) * 0.5;
  }
  return { dtype: 'complex128', shape, data };
}

describe('reference physics', () => {
  it('matches forward_intensity of the numpy reference simulate.py (N = 64, 16 and non-power-of-two 12)', () => {
    for (const n of [64, 16, 12]) {
      const Y = complexStack([3, n, n], 0.2);
      const P = complexStack([n, n], 1.1);
      const ours = forwardIntensity(Y, P).data as Float64Array;
      const out = runPython(
        ['numpy'],
        `import sys, json, numpy as np
${NUMPY_FORWARD_INTENSITY}
n = int(sys.argv[1])
def stack(shape, phase):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (np.sin(0.7 * i + phase) + 0.3 * np.cos(0.13 * i * i) + 1j * np.cos(1.3 * i - phase) * 0.5).reshape(shape)
I = forward_intensity(stack((3, n, n), 0.2), stack((n, n), 1.1))
print(json.dumps(I.ravel().tolist()))`,
        [String(n)],
      );
      const theirs = JSON.parse(out) as number[];
      expect(theirs).toHaveLength(ours.length);
      let maxErr = 0;
      let maxVal = 0;
      for (let i = 0; i < ours.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(ours[i] - theirs[i]));
        maxVal = Math.max(maxVal, Math.abs(theirs[i]));
      }
      expect(maxErr / maxVal).toBeLessThan(1e-12);
    }
  });

  it('conserves energy (Parseval): Σ A² = Σ |Y·P|² for every pattern', () => {
    const n = 64;
    const Y = complexStack([4, n, n], 0.9);
    const P = complexStack([n, n], -0.4);
    const I = forwardIntensity(Y, P).data as Float64Array;
    for (let j = 0; j < 4; j++) {
      let total = 0;
      for (let i = 0; i < n * n; i++) total += I[j * n * n + i];
      const energy = exitWaveEnergy(Y.data as Float64Array, j * 2 * n * n, P.data as Float64Array);
      expect(Math.abs(total - energy) / energy).toBeLessThan(1e-12);
    }
  });

  it('puts the zero frequency at (N/2, N/2): a flat exit wave diffracts into one pixel', () => {
    const n = 16;
    const Y: NdArray = { dtype: 'complex128', shape: [1, n, n], data: new Float64Array(2 * n * n).fill(0) };
    const P: NdArray = { dtype: 'complex128', shape: [n, n], data: new Float64Array(2 * n * n) };
    for (let i = 0; i < n * n; i++) {
      (Y.data as Float64Array)[2 * i] = 1;
      (P.data as Float64Array)[2 * i] = 2;
    }
    const I = forwardIntensity(Y, P).data as Float64Array;
    // F[0] = Σψ = 2·n², so A² = (2n²)² / n² = 4n² at the shifted centre, 0 elsewhere
    expect(I[(n / 2) * n + n / 2]).toBeCloseTo(4 * n * n, 9);
    expect(I.reduce((a, b) => a + b, 0)).toBeCloseTo(4 * n * n, 9);
  });

  it('transforms whole rows at a time bit-identically to the per-line DFT (every stage count, square or not)', () => {
    for (const [h, w] of [
      [64, 64],
      [32, 16],
      [8, 64],
      [4, 4],
      [2, 2],
      [16, 2],
      [1, 8],
      [128, 32],
      [12, 8],
    ]) {
      const a = complexStack([h, w], 0.4).data as Float64Array;
      const re = Float64Array.from({ length: h * w }, (_, i) => a[2 * i]);
      const im = Float64Array.from({ length: h * w }, (_, i) => a[2 * i + 1]);
      const re2 = Float64Array.from(re);
      const im2 = Float64Array.from(im);
      fft2(re, im, h, w);
      fft2PerLine(re2, im2, h, w);
      expect(re, `${h} × ${w} real`).toEqual(re2);
      expect(im, `${h} × ${w} imaginary`).toEqual(im2);
    }
  });

  it('fft2Transposed gives fft2ᵀ to float rounding, and applied to a transposed far field returns to the image layout', () => {
    for (const n of [64, 32, 8, 2]) {
      const a = complexStack([n, n], 1.1).data as Float64Array;
      const re = Float64Array.from({ length: n * n }, (_, i) => a[2 * i]);
      const im = Float64Array.from({ length: n * n }, (_, i) => a[2 * i + 1]);
      const re2 = Float64Array.from(re);
      const im2 = Float64Array.from(im);
      fft2(re, im, n, n);
      fft2Transposed(re2, im2, n);
      let worst = 0;
      let peak = 0;
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) {
          const i = y * n + x;
          const t = x * n + y;
          worst = Math.max(worst, Math.abs(re[i] - re2[t]), Math.abs(im[i] - im2[t]));
          peak = Math.max(peak, Math.abs(re[i]), Math.abs(im[i]));
        }
      expect(worst / peak, `n = ${n}`).toBeLessThan(1e-13);
      // forward then inverse (conj(F(conj(·)))/n²), both transposed, is the identity
      for (let i = 0; i < n * n; i++) im2[i] = -im2[i];
      fft2Transposed(re2, im2, n);
      for (let i = 0; i < n * n; i++) {
        expect(re2[i] / (n * n)).toBeCloseTo(a[2 * i], 12);
        expect(-im2[i] / (n * n)).toBeCloseTo(a[2 * i + 1], 12);
      }
    }
    expect(() => fft2Transposed(new Float64Array(144), new Float64Array(144), 12)).toThrow(/power-of-two/);
  });

  it('scales the exit wave so that the expected counts average the dose', () => {
    expect(intensityScaleFor(1e4, 100)).toBeCloseTo(10, 12);
    expect(() => intensityScaleFor(1e4, 0)).toThrow(/no energy/);
  });
});
