/**
 * Each metric against its reference implementation on fixed images, to 1e-4:
 * scikit-image (SSIM, PSNR, MSE, phase_cross_correlation), scipy (gaussian_filter for the
 * original's MS-SSIM) and numpy (the original's FRC). The references run in one Python call;
 * the test fails when no python3 with numpy + scikit-image is installed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runPython } from '../util/python';
import { fft2Image } from '../numeric/fft';
import { gaussianFilter, uniformFilter } from './filters';
import { frc, frcCurveAllRings } from './frc';
import { type ComplexImage, complexImage, type RealImage, realImage } from './image';
import { dataRange, mae, msSsim, mse, psnr, ssim, ssimFull } from './metrics';
import { fourierShift, phaseCrossCorrelation } from './registration';

/** A smooth structured image plus noise: sums of a few sinusoids and a blob. */
function fixedImage(h: number, w: number, seed: number, noise: number): RealImage {
  const r = rng(seed);
  const img = realImage(h, w);
  const f1 = 0.05 + 0.1 * r();
  const f2 = 0.08 + 0.1 * r();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const blob = Math.exp(-((x - w / 2) ** 2 + (y - h / 3) ** 2) / (2 * 6 ** 2));
      img.data[y * w + x] =
        0.5 + 0.2 * Math.sin(2 * Math.PI * f1 * x) * Math.cos(2 * Math.PI * f2 * y) + 0.3 * blob + noise * (r() - 0.5);
    }
  }
  return img;
}

const A = fixedImage(37, 45, 1, 0.02);
const B = fixedImage(37, 45, 1, 0.0).data.map((v, i) => v * 0.9 + 0.05 * Math.sin(i * 0.37));
const Bimg = realImage(37, 45, B);
const PH_T = fixedImage(48, 41, 7, 0.1); // FRC on a non-square image (central 41 × 41)
const PH_P = realImage(
  48,
  41,
  PH_T.data.map((v, i) => v + 0.15 * Math.sin(i * 1.3)),
);
const SHIFT_REF = fixedImage(40, 36, 3, 0.05);

const PY = `
import json, sys
import numpy as np
from scipy.ndimage import gaussian_filter, uniform_filter
from skimage.metrics import structural_similarity, peak_signal_noise_ratio, mean_squared_error
from skimage.registration import phase_cross_correlation
d = json.load(sys.stdin)
arr = lambda k: np.array(d[k]['data'], dtype=np.float64).reshape(d[k]['h'], d[k]['w'])
A, B, T, P, R = arr('A'), arr('B'), arr('T'), arr('P'), arr('R')

def ms_ssim(img1, img2, levels=5, sigma=0.0):   # ptycho/evaluation.py, verbatim logic
    if sigma > 0:
        img1 = gaussian_filter(img1, sigma); img2 = gaussian_filter(img2, sigma)
    weights = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
    levels = min(levels, len(weights))
    data_range = max(img1.max() - img1.min(), img2.max() - img2.min())
    v = 1.0
    for level in range(levels):
        s = structural_similarity(img1, img2, data_range=data_range)
        if np.isnan(s): return 0.0
        if s < 0: s = 0.0001
        v *= s ** weights[level]
        if level < levels - 1:
            img1 = img1[::2, ::2]; img2 = img2[::2, ::2]
            if min(img1.shape) < 7 or min(img2.shape) < 7: break
    return v

def spinavej(x):                                  # ptycho/FRC/fourier_ring_corr.py
    nr, nc = x.shape
    r = np.arange(nr) - (np.floor(nr / 2) + 1) + 1
    c = np.arange(nc) - (np.floor(nc / 2) + 1) + 1
    R, C = np.meshgrid(r, c)
    index = np.round(np.sqrt(R ** 2 + C ** 2)) + 1
    out = np.zeros(int(index.max()), dtype=complex)
    for i in range(int(index.max())):
        sel = np.where(index == i + 1)
        out[i] = x[sel].sum() / len(sel[0])
    return out

def fsc(i1, i2):
    I1 = np.fft.fftshift(np.fft.fft2(i1)); I2 = np.fft.fftshift(np.fft.fft2(i2))
    C = spinavej(I1 * np.conj(I2)); C1 = spinavej(I1 * np.conj(I1)); C2 = spinavej(I2 * np.conj(I2))
    return C.real / np.sqrt(np.abs(C1 * C2))

n = min(T.shape); h0 = (T.shape[0] - n) // 2; w0 = (T.shape[1] - n) // 2
Ts, Ps = T[h0:h0 + n, w0:w0 + n], P[h0:h0 + n, w0:w0 + n]
rng_ = A.max() - A.min()
_, smap = structural_similarity(A, B, data_range=rng_, full=True)
def fshift(img, dy, dx):                          # ptycho/image/registration.py _fourier_shift
    ky = np.fft.fftfreq(img.shape[0]).reshape(-1, 1); kx = np.fft.fftfreq(img.shape[1]).reshape(1, -1)
    return np.fft.ifft2(np.fft.fft2(img) * np.exp(-2j * np.pi * (dy * ky + dx * kx)))
moved = fshift(R, 2.37, -1.61).real
shift, _, _ = phase_cross_correlation(R, moved, upsample_factor=50)
shift_none, _, _ = phase_cross_correlation(R, moved, upsample_factor=50, normalization=None)
F = np.fft.fft2(A)
print(json.dumps({
  'mse': float(mean_squared_error(A, B)),
  'psnr': float(peak_signal_noise_ratio(A, B, data_range=rng_)),
  'ssim': float(structural_similarity(A, B, data_range=rng_)),
  'ssim_map': smap.ravel().tolist(),
  'ms_ssim_amp': float(ms_ssim(A, B, sigma=1.0)),
  'ms_ssim_plain': float(ms_ssim(A, B)),
  'gauss': gaussian_filter(A, 1.0).ravel().tolist(),
  'uniform': uniform_filter(A, 7).ravel().tolist(),
  'fft_re': F.real.ravel().tolist(), 'fft_im': F.imag.ravel().tolist(),
  'frc': fsc(Ts, Ps).tolist(),
  'moved': moved.ravel().tolist(),
  'shift': [float(shift[0]), float(shift[1])],
  'shift_none': [float(shift_none[0]), float(shift_none[1])],
}))
`;
import { rng } from '../../../test/fixtures/eval.fixture';

interface Reference {
  mse: number;
  psnr: number;
  ssim: number;
  ssim_map: number[];
  ms_ssim_amp: number;
  ms_ssim_plain: number;
  gauss: number[];
  uniform: number[];
  fft_re: number[];
  fft_im: number[];
  frc: number[];
  moved: number[];
  shift: [number, number];
  shift_none: [number, number];
}

const wire = (img: RealImage) => ({ h: img.height, w: img.width, data: Array.from(img.data) });
let ref: Reference;

beforeAll(() => {
  const out = runPython(
    ['numpy', 'scipy', 'skimage'],
    PY,
    [],
    JSON.stringify({ A: wire(A), B: wire(Bimg), T: wire(PH_T), P: wire(PH_P), R: wire(SHIFT_REF) }),
  );
  ref = JSON.parse(out) as Reference;
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('metrics match their references on fixed images', () => {
  it('the 2-D FFT of a 37 × 45 image (Bluestein both ways) matches numpy', () => {
    const c = complexImage(A.height, A.width);
    c.re.set(A.data);
    const f = fft2Image(c);
    expect(maxAbsDiff(f.re, ref.fft_re)).toBeLessThan(1e-9);
    expect(maxAbsDiff(f.im, ref.fft_im)).toBeLessThan(1e-9);
    const back = fft2Image(f, true);
    expect(maxAbsDiff(back.re, A.data)).toBeLessThan(1e-12);
  });

  it('uniform and Gaussian filters match scipy.ndimage (reflect boundaries)', () => {
    expect(maxAbsDiff(uniformFilter(A, 7).data, ref.uniform)).toBeLessThan(1e-12);
    expect(maxAbsDiff(gaussianFilter(A, 1).data, ref.gauss)).toBeLessThan(1e-12);
  });

  it('MSE and PSNR (target range as peak) match scikit-image', () => {
    expect(Math.abs(mse(A, Bimg) - ref.mse)).toBeLessThan(1e-10);
    expect(Math.abs(psnr(A, Bimg, dataRange(A)) - ref.psnr)).toBeLessThan(1e-4);
    expect(mae(A, Bimg)).toBeGreaterThan(0);
  });

  it('SSIM and its full map match skimage.metrics.structural_similarity', () => {
    expect(Math.abs(ssim(A, Bimg, dataRange(A)) - ref.ssim)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ssimFull(A, Bimg, dataRange(A)).map.data, ref.ssim_map)).toBeLessThan(1e-4);
    expect(ref.ssim).toBeLessThan(0.99); // the pair is not trivially similar
  });

  it('masked SSIM is the mean of the reference map over windows inside the mask; a full mask changes nothing', () => {
    const valid = new Uint8Array(A.data.length).fill(1);
    expect(ssim(A, Bimg, dataRange(A), valid)).toBe(ssim(A, Bimg, dataRange(A)));
    expect(mae(A, Bimg, valid)).toBe(mae(A, Bimg));
    expect(msSsim(A, Bimg, { sigma: 1, valid })).toBe(msSsim(A, Bimg, { sigma: 1 }));
    // a hole: rows 10..19, cols 5..24
    const w = A.width;
    for (let y = 10; y < 20; y++) for (let x = 5; x < 25; x++) valid[y * w + x] = 0;
    let s = 0;
    let n = 0;
    let e = 0;
    let m = 0;
    for (let y = 3; y < A.height - 3; y++) {
      for (let x = 3; x < w - 3; x++) {
        let inside = true;
        for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) inside &&= valid[(y + dy) * w + x + dx] === 1;
        if (!inside) continue;
        s += ref.ssim_map[y * w + x];
        n++;
      }
    }
    for (let i = 0; i < A.data.length; i++) {
      if (!valid[i]) continue;
      e += Math.abs(A.data[i] - Bimg.data[i]);
      m++;
    }
    expect(Math.abs(ssim(A, Bimg, dataRange(A), valid) - s / n)).toBeLessThan(1e-4);
    expect(mae(A, Bimg, valid)).toBeCloseTo(e / m, 12);
  });

  it("MS-SSIM matches the original's definition (with and without σ = 1 smoothing)", () => {
    expect(Math.abs(msSsim(A, Bimg, { sigma: 1 }) - ref.ms_ssim_amp)).toBeLessThan(1e-4);
    expect(Math.abs(msSsim(A, Bimg) - ref.ms_ssim_plain)).toBeLessThan(1e-4);
    expect(Math.abs(ref.ms_ssim_amp - ref.ms_ssim_plain)).toBeGreaterThan(1e-3);
  });

  it("FRC matches the original's FSC (real part, central square) ring by ring", () => {
    const all = frcCurveAllRings(PH_T, PH_P);
    expect(all.length).toBe(ref.frc.length);
    expect(maxAbsDiff(all, ref.frc)).toBeLessThan(1e-4);
    const r = frc(PH_T, PH_P);
    expect(r.size).toBe(41);
    expect(r.curve.length).toBe(21);
    // the interpolated crossing lies between the rings that bracket the threshold in the reference
    for (const c of r.crossings) {
      if (c.ring === null) {
        expect(c).toMatchObject({ reachesNyquist: true, periodPx: 2, fractionOfNyquist: 1 });
        expect(Math.min(...ref.frc.slice(1, 21))).toBeGreaterThanOrEqual(c.threshold);
        continue;
      }
      const k = Math.ceil(c.ring);
      expect(ref.frc[k]).toBeLessThan(c.threshold);
      if (k > 1) expect(ref.frc[k - 1]).toBeGreaterThanOrEqual(c.threshold);
    }
  });

  it('identical images give SSIM = MS-SSIM = 1, infinite PSNR and FRC = 1', () => {
    expect(ssim(A, A, dataRange(A))).toBeCloseTo(1, 12);
    expect(msSsim(A, A, { sigma: 1 })).toBeCloseTo(1, 12);
    expect(psnr(A, A)).toBe(Number.POSITIVE_INFINITY);
    const f = frc(PH_T, PH_T);
    expect(Math.min(...f.curve.slice(1))).toBeCloseTo(1, 10);
    expect(f.crossings.every((c) => c.ring === null)).toBe(true);
  });
});

describe('registration matches scikit-image', () => {
  it('Fourier shift equals numpy, and phase_cross_correlation finds the same sub-pixel shift', () => {
    const c: ComplexImage = complexImage(SHIFT_REF.height, SHIFT_REF.width);
    c.re.set(SHIFT_REF.data);
    const moved = fourierShift(c, { dy: 2.37, dx: -1.61 });
    expect(maxAbsDiff(moved.re, ref.moved)).toBeLessThan(1e-10);
    const movedReal = realImage(moved.height, moved.width, moved.re);
    const s = phaseCrossCorrelation(SHIFT_REF, movedReal, 50);
    expect(Math.abs(s.dy - ref.shift[0])).toBeLessThan(1e-4);
    expect(Math.abs(s.dx - ref.shift[1])).toBeLessThan(1e-4);
    const plain = phaseCrossCorrelation(SHIFT_REF, movedReal, 50, null);
    expect(Math.abs(plain.dy - ref.shift_none[0])).toBeLessThan(1e-4);
    expect(Math.abs(plain.dx - ref.shift_none[1])).toBeLessThan(1e-4);
    // and that is (close to) the inverse of the applied shift
    expect(s.dy).toBeCloseTo(-2.37, 1);
    expect(s.dx).toBeCloseTo(1.61, 1);
  });
});
