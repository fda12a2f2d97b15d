/**
 * Stitching predicted patches into the full object as the original did
 * (tf_helper.reassemble_position): keep the central M × M pixels of each patch (M = 20 at
 * N = 64, the study's `--stitch-crop-size`), translate it to its position with bilinear
 * interpolation, sum, and divide by the same shift-and-sum of ones (+1e-9).
 * We place patches on the ground-truth object's own pixel grid (not a canvas centred on the
 * mean position), so the result and the ground truth share coordinates without guessing.
 * Convention (shared with the simulator): patch pixel (i, j) of an N × N patch at scan
 * position (x, y) sits at object pixel (y − N/2 + i, x − N/2 + j).
 */
import { type ComplexImage, complexImage, type RealImage, realImage } from './image';

export const DEFAULT_STITCH_CROP = 20;

/**
 * The study's M = 20 at N = 64, kept in proportion for other patch sizes (10 at N = 32), so
 * small test models stitch the same fraction of each patch.
 */
export function defaultStitchCrop(n: number): number {
  return Math.max(2, Math.round((DEFAULT_STITCH_CROP * n) / 64));
}
/** The original's denominator guard: uncovered pixels come out as exactly 0. */
const COUNT_EPS = 1e-9;

export interface PatchStack {
  /** Number of patches. */
  count: number;
  /** Patch side N (square patches). */
  size: number;
  /** Interleaved (re, im) pairs, count × N × N, as complex64 NPZ data. */
  data: ArrayLike<number>;
}

export interface StitchInput {
  patches: PatchStack;
  /** Scan (or group-centre) positions in object pixels, one per patch. */
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  objectHeight: number;
  objectWidth: number;
  crop?: number;
}

export interface Stitched {
  object: ComplexImage;
  /** Sum of translated ones masks: > 0 where some patch contributed. */
  weight: RealImage;
  crop: number;
}

export function stitchPatches(input: StitchInput): Stitched {
  const { patches, xs, ys, objectHeight: H, objectWidth: W } = input;
  const n = patches.size;
  const m = input.crop ?? DEFAULT_STITCH_CROP;
  if (xs.length !== patches.count || ys.length !== patches.count) {
    throw new Error(`stitch: ${patches.count} patches but ${xs.length} x and ${ys.length} y positions`);
  }
  if (m > n || m < 1) throw new Error(`stitch: crop ${m} must be within 1…${n}`);
  if (patches.data.length !== patches.count * n * n * 2) throw new Error('stitch: patch data length mismatch');
  const accRe = new Float64Array(H * W);
  const accIm = new Float64Array(H * W);
  const weight = realImage(H, W);
  const a0 = Math.floor(n / 2) - Math.floor(m / 2);
  for (let p = 0; p < patches.count; p++) {
    // object coordinate of the crop's first pixel, split into integer and fractional parts
    const oy = ys[p] - n / 2 + a0;
    const ox = xs[p] - n / 2 + a0;
    const iy = Math.floor(oy);
    const ix = Math.floor(ox);
    const ty = oy - iy;
    const tx = ox - ix;
    const taps: Array<[number, number, number]> = [
      [0, 0, (1 - ty) * (1 - tx)],
      [0, 1, (1 - ty) * tx],
      [1, 0, ty * (1 - tx)],
      [1, 1, ty * tx],
    ];
    const base = p * n * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const k = 2 * (base + (a0 + i) * n + (a0 + j));
        const vr = patches.data[k];
        const vi = patches.data[k + 1];
        for (const [dy, dx, w] of taps) {
          if (w === 0) continue;
          const Y = iy + i + dy;
          const X = ix + j + dx;
          if (Y < 0 || Y >= H || X < 0 || X >= W) continue;
          const t = Y * W + X;
          accRe[t] += w * vr;
          accIm[t] += w * vi;
          weight.data[t] += w;
        }
      }
    }
  }
  const object = complexImage(H, W);
  for (let t = 0; t < H * W; t++) {
    object.re[t] = accRe[t] / (weight.data[t] + COUNT_EPS);
    object.im[t] = accIm[t] / (weight.data[t] + COUNT_EPS);
  }
  return { object, weight, crop: m };
}
