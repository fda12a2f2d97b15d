/**
 * Image-quality metrics with the definitions the study's comparison used:
 * MAE and MSE; PSNR with the target's data range as the peak (scikit-image's definition —
 * the original passed radians and 0–1 amplitudes to cv2.PSNR with a fixed peak of 255,
 * which we do not copy); SSIM exactly as skimage.metrics.structural_similarity with its
 * defaults (7×7 uniform window, K1 0.01, K2 0.03, sample covariance, mean over the map
 * without its 3-px border); MS-SSIM as ptycho/evaluation.py's simplified 5-level product.
 *
 * Every metric takes an optional `valid` mask (1 = scored pixel). A stitched reconstruction
 * of a sparse scan has holes no patch covered; scoring those zeros would measure the scan
 * pattern, not the reconstruction. Masked SSIM averages the map over pixels whose whole
 * 7×7 window is valid. With every pixel valid each metric is exactly the reference's.
 */
import { gaussianFilter, uniformFilter } from './filters';
import { decimate2, minMax, type RealImage, realImage } from './image';

function sameShape(a: RealImage, b: RealImage, what: string): void {
  if (a.height !== b.height || a.width !== b.width) {
    throw new Error(`${what}: shape ${a.height}×${a.width} vs ${b.height}×${b.width}`);
  }
}

export type Mask = Uint8Array;

function count(n: number, valid?: Mask): number {
  if (!valid) return n;
  let c = 0;
  for (let i = 0; i < n; i++) c += valid[i] ? 1 : 0;
  return c;
}

export function mae(target: RealImage, pred: RealImage, valid?: Mask): number {
  sameShape(target, pred, 'mae');
  let s = 0;
  for (let i = 0; i < target.data.length; i++) if (!valid || valid[i]) s += Math.abs(target.data[i] - pred.data[i]);
  return s / count(target.data.length, valid);
}

export function mse(target: RealImage, pred: RealImage, valid?: Mask): number {
  sameShape(target, pred, 'mse');
  let s = 0;
  for (let i = 0; i < target.data.length; i++) {
    if (valid && !valid[i]) continue;
    const d = target.data[i] - pred.data[i];
    s += d * d;
  }
  return s / count(target.data.length, valid);
}

/** The target's max − min (over valid pixels): the peak PSNR and SSIM use, as scikit-image with data_range given. */
export function dataRange(img: RealImage, valid?: Mask): number {
  if (!valid) {
    const [lo, hi] = minMax(img.data);
    return hi - lo;
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < img.data.length; i++) {
    if (!valid[i]) continue;
    lo = Math.min(lo, img.data[i]);
    hi = Math.max(hi, img.data[i]);
  }
  return hi - lo;
}

/** skimage.metrics.peak_signal_noise_ratio(target, pred, data_range). Infinite for identical images. */
export function psnr(target: RealImage, pred: RealImage, range = dataRange(target), valid?: Mask): number {
  return 10 * Math.log10((range * range) / mse(target, pred, valid));
}

/**
 * Pixels whose (2r+1)² window lies inside the image and inside `valid` (all pixels when
 * `valid` is absent, minus the r-px border): where a windowed statistic is trustworthy.
 */
export function erodeValid(h: number, w: number, r: number, valid?: Mask): Mask {
  const out = new Uint8Array(h * w);
  // row-wise then column-wise run test on the valid mask
  const rowOk = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = r; x < w - r; x++) {
      let ok = 1;
      if (valid) for (let k = -r; k <= r && ok; k++) ok = valid[y * w + x + k];
      rowOk[y * w + x] = ok ? 1 : 0;
    }
  }
  for (let y = r; y < h - r; y++) {
    for (let x = r; x < w - r; x++) {
      let ok = 1;
      for (let k = -r; k <= r && ok; k++) ok = rowOk[(y + k) * w + x];
      out[y * w + x] = ok ? 1 : 0;
    }
  }
  return out;
}

export const SSIM_WINDOW = 7;

export interface SsimResult {
  /** Mean of the map without its (win−1)/2 border, skimage's returned value. */
  mssim: number;
  /** The full SSIM map (border values use scipy's reflect extension, as skimage's `full=True`). */
  map: RealImage;
}

export function ssimFull(a: RealImage, b: RealImage, range: number, win = SSIM_WINDOW, valid?: Mask): SsimResult {
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
  const use = erodeValid(a.height, a.width, (win - 1) / 2, valid);
  let s = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!use[i]) continue;
    s += map.data[i];
    k++;
  }
  return { mssim: k ? s / k : Number.NaN, map };
}

export function ssim(a: RealImage, b: RealImage, range: number, valid?: Mask): number {
  return ssimFull(a, b, range, SSIM_WINDOW, valid).mssim;
}

/** The standard MS-SSIM level weights (Wang et al. 2003), as the original used them. */
export const MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] as const;

/**
 * ptycho/evaluation.py `ms_ssim`: optional Gaussian smoothing (σ), one data range from the
 * (smoothed) full-size images, then Π SSIM_l^w_l over up to 5 levels of `[::2, ::2]`
 * decimation, stopping early once a side drops below 7 px. A negative SSIM is clamped to
 * 1e-4 and a NaN gives 0, as there. This is not Wang's contrast/structure MS-SSIM. With a
 * mask, the product stops at the first level where no 7×7 window is wholly scored and the
 * weights of the levels used are renormalised (NaN when even the first level has none).
 */
export function msSsim(
  a: RealImage,
  b: RealImage,
  options: { sigma?: number; levels?: number; valid?: Mask } = {},
): number {
  sameShape(a, b, 'ms_ssim');
  const sigma = options.sigma ?? 0;
  let x = sigma > 0 ? gaussianFilter(a, sigma) : a;
  let y = sigma > 0 ? gaussianFilter(b, sigma) : b;
  // smoothing mixes in the unscored pixels within its radius: shrink the mask by as much
  let valid = options.valid;
  if (valid && sigma > 0) valid = shrinkMask(a.height, a.width, Math.floor(4 * sigma + 0.5), valid);
  const levels = Math.min(options.levels ?? 5, MS_SSIM_WEIGHTS.length);
  const range = Math.max(dataRange(x, valid), dataRange(y, valid));
  let value = 1;
  let used = 0;
  let maskStopped = false;
  for (let level = 0; level < levels; level++) {
    if (valid && !erodeValid(x.height, x.width, (SSIM_WINDOW - 1) / 2, valid).includes(1)) {
      maskStopped = true;
      break;
    }
    let s = ssim(x, y, range, valid);
    if (Number.isNaN(s)) return 0;
    if (s < 0) s = 1e-4;
    value *= s ** MS_SSIM_WEIGHTS[level];
    used += MS_SSIM_WEIGHTS[level];
    if (level < levels - 1) {
      const h = x.height;
      const w = x.width;
      x = decimate2(x);
      y = decimate2(y);
      if (valid) {
        const dm = decimate2({ height: h, width: w, data: Float64Array.from(valid) });
        valid = Uint8Array.from(dm.data, (v) => (v ? 1 : 0));
      }
      if (Math.min(x.height, x.width) < SSIM_WINDOW) break;
    }
  }
  if (used === 0) return Number.NaN;
  // Holes end the product at the first level without a wholly scored window; its unused
  // weights would inflate the product toward 1, so with a mask the levels used are
  // renormalised (a weighted geometric mean of their SSIMs). Unmasked: the original exactly.
  if (maskStopped) value **= 1 / used;
  return Number.isNaN(value) ? 0 : value;
}

/** Unset every mask pixel within r of an unset one (pixels outside the image count as set). */
function shrinkMask(h: number, w: number, r: number, valid: Mask): Mask {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let ok = 1;
      for (let dy = -r; dy <= r && ok; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -r; dx <= r && ok; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < w) ok = valid[yy * w + xx];
        }
      }
      out[y * w + x] = ok ? 1 : 0;
    }
  }
  return out;
}
