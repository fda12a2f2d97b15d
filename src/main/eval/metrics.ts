/**
 * Image-quality metrics with the definitions the study's comparison used:
 * MAE and MSE; PSNR with the target's data range as the peak (scikit-image's definition —
 * the original passed radians and 0–1 amplitudes to cv2.PSNR with a fixed peak of 255,
 * which we do not copy); SSIM exactly as skimage.metrics.structural_similarity with its
 * defaults (7×7 uniform window, K1 0.01, K2 0.03, sample covariance, mean over the map
 * without its 3-px border); MS-SSIM as ptycho/evaluation.py's simplified 5-level product.
 */
import { gaussianFilter, uniformFilter } from './filters';
import { decimate2, minMax, type RealImage, realImage } from './image';

function sameShape(a: RealImage, b: RealImage, what: string): void {
  if (a.height !== b.height || a.width !== b.width) {
    throw new Error(`${what}: shape ${a.height}×${a.width} vs ${b.height}×${b.width}`);
  }
}

export function mae(target: RealImage, pred: RealImage): number {
  sameShape(target, pred, 'mae');
  let s = 0;
  for (let i = 0; i < target.data.length; i++) s += Math.abs(target.data[i] - pred.data[i]);
  return s / target.data.length;
}

export function mse(target: RealImage, pred: RealImage): number {
  sameShape(target, pred, 'mse');
  let s = 0;
  for (let i = 0; i < target.data.length; i++) {
    const d = target.data[i] - pred.data[i];
    s += d * d;
  }
  return s / target.data.length;
}

/** The target's max − min: the peak PSNR and SSIM use, as scikit-image with data_range given. */
export function dataRange(img: RealImage): number {
  const [lo, hi] = minMax(img.data);
  return hi - lo;
}

/** skimage.metrics.peak_signal_noise_ratio(target, pred, data_range). Infinite for identical images. */
export function psnr(target: RealImage, pred: RealImage, range = dataRange(target)): number {
  return 10 * Math.log10((range * range) / mse(target, pred));
}

export const SSIM_WINDOW = 7;

export interface SsimResult {
  /** Mean of the map without its (win−1)/2 border, skimage's returned value. */
  mssim: number;
  /** The full SSIM map (border values use scipy's reflect extension, as skimage's `full=True`). */
  map: RealImage;
}

export function ssimFull(a: RealImage, b: RealImage, range: number, win = SSIM_WINDOW): SsimResult {
  sameShape(a, b, 'ssim');
  if (Math.min(a.height, a.width) < win) {
    throw new Error(`ssim: image ${a.height}×${a.width} smaller than the ${win}×${win} window`);
  }
  const n = a.data.length;
  const sq = (f: (i: number) => number) => {
    const out = realImage(a.height, a.width);
    for (let i = 0; i < n; i++) out.data[i] = f(i);
    return uniformFilter(out, win);
  };
  const ux = uniformFilter(a, win).data;
  const uy = uniformFilter(b, win).data;
  const uxx = sq((i) => a.data[i] * a.data[i]).data;
  const uyy = sq((i) => b.data[i] * b.data[i]).data;
  const uxy = sq((i) => a.data[i] * b.data[i]).data;
  const np = win * win;
  const covNorm = np / (np - 1);
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  const map = realImage(a.height, a.width);
  for (let i = 0; i < n; i++) {
    const vx = covNorm * (uxx[i] - ux[i] * ux[i]);
    const vy = covNorm * (uyy[i] - uy[i] * uy[i]);
    const vxy = covNorm * (uxy[i] - ux[i] * uy[i]);
    const num = (2 * ux[i] * uy[i] + c1) * (2 * vxy + c2);
    const den = (ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2);
    map.data[i] = num / den;
  }
  const pad = (win - 1) / 2;
  let s = 0;
  for (let y = pad; y < a.height - pad; y++) for (let x = pad; x < a.width - pad; x++) s += map.data[y * a.width + x];
  return { mssim: s / ((a.height - 2 * pad) * (a.width - 2 * pad)), map };
}

export function ssim(a: RealImage, b: RealImage, range: number): number {
  return ssimFull(a, b, range).mssim;
}

/** The standard MS-SSIM level weights (Wang et al. 2003), as the original used them. */
export const MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] as const;

/**
 * ptycho/evaluation.py `ms_ssim`: optional Gaussian smoothing (σ), one data range from the
 * (smoothed) full-size images, then Π SSIM_l^w_l over up to 5 levels of `[::2, ::2]`
 * decimation, stopping early once a side drops below 7 px. A negative SSIM is clamped to
 * 1e-4 and a NaN gives 0, as there. This is not Wang's contrast/structure MS-SSIM.
 */
export function msSsim(a: RealImage, b: RealImage, options: { sigma?: number; levels?: number } = {}): number {
  sameShape(a, b, 'ms_ssim');
  const sigma = options.sigma ?? 0;
  let x = sigma > 0 ? gaussianFilter(a, sigma) : a;
  let y = sigma > 0 ? gaussianFilter(b, sigma) : b;
  const levels = Math.min(options.levels ?? 5, MS_SSIM_WEIGHTS.length);
  const range = Math.max(dataRange(x), dataRange(y));
  let value = 1;
  for (let level = 0; level < levels; level++) {
    let s = ssim(x, y, range);
    if (Number.isNaN(s)) return 0;
    if (s < 0) s = 1e-4;
    value *= s ** MS_SSIM_WEIGHTS[level];
    if (level < levels - 1) {
      x = decimate2(x);
      y = decimate2(y);
      if (Math.min(x.height, x.width) < SSIM_WINDOW) break;
    }
  }
  return Number.isNaN(value) ? 0 : value;
}
