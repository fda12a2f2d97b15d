/**
 * Separable smoothing filters with scipy.ndimage's boundary rule (mode 'reflect': the edge
 * sample is repeated, d c b a | a b c d), because scikit-image's SSIM (uniform_filter) and
 * the original MS-SSIM's σ = 1 smoothing (gaussian_filter) are defined through them.
 */
import { type RealImage, realImage } from './image';

/** Index into [0, n) under scipy's 'reflect' extension. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - 1 - k;
}

/** Correlate rows then columns with a symmetric odd-length kernel (centre at len/2). */
function separable(img: RealImage, kernel: Float64Array): RealImage {
  const { height: h, width: w } = img;
  const r = (kernel.length - 1) / 2;
  const tmp = realImage(h, w);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += kernel[k + r] * img.data[row + reflectIndex(x + k, w)];
      tmp.data[row + x] = s;
    }
  }
  const out = realImage(h, w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += kernel[k + r] * tmp.data[reflectIndex(y + k, h) * w + x];
      out.data[y * w + x] = s;
    }
  }
  return out;
}

/** scipy.ndimage.uniform_filter(img, size) for odd size. */
export function uniformFilter(img: RealImage, size: number): RealImage {
  if (size % 2 !== 1) throw new Error(`uniform filter size must be odd, got ${size}`);
  return separable(img, new Float64Array(size).fill(1 / size));
}

/** scipy.ndimage.gaussian_filter(img, sigma) with its default truncate = 4. */
export function gaussianFilter(img: RealImage, sigma: number, truncate = 4): RealImage {
  if (sigma <= 0) return realImage(img.height, img.width, img.data);
  const radius = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    k[i + radius] = Math.exp((-0.5 * i * i) / (sigma * sigma));
    sum += k[i + radius];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return separable(img, k);
}
