/**
 * Alignment of a stitched reconstruction to the ground truth before scoring, in the order
 * of the study's comparison (scripts/compare_models.py + ptycho/evaluation.py):
 *   1. crop both to the scan bounding box (positions ± M/2, M = stitch crop);
 *   2. register sub-pixel shifts on magnitudes (upsample 50; windowed plain
 *      cross-correlation, see registration.ts for why), Fourier-shift the reconstruction
 *      and crop a 2-px border;
 *   3. trim 2 px per side (`eval_reconstruction`'s trim);
 *   4. remove one global phase offset angle(Σ pred·conj(gt)) from the complex
 *      reconstruction (ours: the original only fitted planes to wrapped phases, which a
 *      global offset near ±π defeats);
 *   5. fit and remove a phase plane a·x + b·y + c from each phase image;
 *   6. scale the predicted amplitude by mean(target) / mean(pred).
 * Every step's parameters and fitted values are returned so eval.json can say what was done.
 */
import {
  amplitude,
  type ComplexImage,
  cropComplex,
  cropReal,
  mean,
  phase,
  type RealImage,
  realImage,
  trimComplex,
  trimReal,
} from './image';
import { fourierShift, hannWindowed, phaseCrossCorrelation, type Shift } from './registration';
import { DEFAULT_STITCH_CROP } from './stitch';

export interface AlignmentOptions {
  /** Stitch crop M; the scan box extends M/2 beyond the outermost positions. */
  stitchCrop: number;
  /** Sub-pixel registration on (true, the study's default) or off. */
  register: boolean;
  upsampleFactor: number;
  /**
   * 'windowed-xcorr' (ours, default): plain cross-correlation of mean-free Hann-windowed
   * magnitudes. 'phase': skimage's default, as the original — unreliable on box crops.
   */
  registrationMethod: 'windowed-xcorr' | 'phase';
  /**
   * Largest shift registration may apply, per axis. Patches are placed at known scan
   * positions, so a real misregistration is a pixel or two; a farther correlation peak of a
   * poor reconstruction is spurious and would be rewarded by "aligning" to it.
   */
  maxShiftPx: number;
  /** Border cropped after the Fourier shift. */
  registrationBorderPx: number;
  /** Further trim per side before scoring. */
  trimPx: number;
  /** 'plane' (the study's default) or 'mean' subtraction. */
  phaseAlign: 'plane' | 'mean';
}

export const DEFAULT_ALIGNMENT: AlignmentOptions = {
  stitchCrop: DEFAULT_STITCH_CROP,
  register: true,
  upsampleFactor: 50,
  registrationMethod: 'windowed-xcorr',
  maxShiftPx: 2,
  registrationBorderPx: 2,
  trimPx: 2,
  phaseAlign: 'plane',
};

export interface ScanBox {
  row0: number;
  row1: number;
  col0: number;
  col1: number;
}

export interface Plane {
  /** Coefficients of a·x + b·y + c (x = column, y = row, in pixels of the scored image). */
  a: number;
  b: number;
  c: number;
}

export interface AlignmentRecord {
  scanBox: ScanBox;
  /** Shift applied to the reconstruction (pixels, +y down, +x right); null when registration is off. */
  registrationShift: Shift | null;
  /**
   * The shift reached the cap (within one upsampled step) on some axis: the correlation
   * peak may lie beyond it, so the alignment of this reconstruction is not trustworthy.
   */
  registrationAtCap: boolean;
  maxShiftPx: number;
  registrationBorderPx: number;
  trimPx: number;
  /** Global phase removed from the reconstruction, radians. */
  globalPhaseOffsetRad: number;
  phaseAlign: 'plane' | 'mean';
  phasePlanePred: Plane;
  phasePlaneTarget: Plane;
  /** mean(target amplitude) / mean(predicted amplitude), applied to the prediction. */
  amplitudeScale: number;
  /** Shape of the scored images [height, width]. */
  shape: [number, number];
  /** Fraction of scored pixels that some patch covered (stitch weight > 0). */
  coverage: number;
}

export interface AlignedPair {
  amplitudeTarget: RealImage;
  amplitudePred: RealImage;
  phaseTarget: RealImage;
  phasePred: RealImage;
  /** The aligned complex images (after registration, trim and global phase), for pictures. */
  pred: ComplexImage;
  target: ComplexImage;
  /** 1 where no patch covered the scored pixel (stitch weight 0), for pictures. */
  uncovered: Uint8Array;
  /** Pixels that are scored (1) when coverage is partial; null when every pixel is covered. */
  valid: Uint8Array | null;
  record: AlignmentRecord;
}

/** The original's align_for_evaluation box: [int(min) − M/2, int(max) + M/2), clipped to the image. */
export function scanBox(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  height: number,
  width: number,
  stitchCrop: number,
): ScanBox {
  if (xs.length === 0) throw new Error('scan box: no positions');
  const r = Math.floor(stitchCrop / 2);
  let minX = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) {
    minX = Math.min(minX, xs[i]);
    maxX = Math.max(maxX, xs[i]);
    minY = Math.min(minY, ys[i]);
    maxY = Math.max(maxY, ys[i]);
  }
  return {
    row0: Math.max(0, Math.trunc(minY) - r),
    row1: Math.min(height, Math.trunc(maxY) + r),
    col0: Math.max(0, Math.trunc(minX) - r),
    col1: Math.min(width, Math.trunc(maxX) + r),
  };
}

/** Least-squares plane a·x + b·y + c over all pixels, or over the `valid` ones. */
export function fitPlane(img: RealImage, valid?: Uint8Array): Plane {
  if (valid) return fitPlaneMasked(img, valid);
  const { height: h, width: w } = img;
  // Centred coordinates make the normal equations diagonal.
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  let sxx = 0;
  let syy = 0;
  let sxz = 0;
  let syz = 0;
  let sz = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const z = img.data[y * w + x];
      const dx = x - cx;
      const dy = y - cy;
      sxx += dx * dx;
      syy += dy * dy;
      sxz += dx * z;
      syz += dy * z;
      sz += z;
    }
  }
  const a = sxx > 0 ? sxz / sxx : 0;
  const b = syy > 0 ? syz / syy : 0;
  return { a, b, c: sz / (h * w) - a * cx - b * cy };
}

function fitPlaneMasked(img: RealImage, valid: Uint8Array): Plane {
  // normal equations of [x y 1]·[a b c]ᵀ = z over the valid pixels, solved by Cramer's rule
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  let sz = 0;
  let sxz = 0;
  let syz = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = y * img.width + x;
      if (!valid[i]) continue;
      const z = img.data[i];
      n++;
      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
      sz += z;
      sxz += x * z;
      syz += y * z;
    }
  }
  const det3 = (m: number[]) =>
    m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  const A = [sxx, sxy, sx, sxy, syy, sy, sx, sy, n];
  const D = det3(A);
  if (n === 0) return { a: 0, b: 0, c: 0 };
  if (Math.abs(D) < 1e-9 * Math.max(1, sxx * syy * n)) return { a: 0, b: 0, c: sz / n };
  return {
    a: det3([sxz, sxy, sx, syz, syy, sy, sz, sy, n]) / D,
    b: det3([sxx, sxz, sx, sxy, syz, sy, sx, sz, n]) / D,
    c: det3([sxx, sxy, sxz, sxy, syy, syz, sx, sy, sz]) / D,
  };
}

export function removePlane(img: RealImage, p: Plane): RealImage {
  const out = realImage(img.height, img.width);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++)
      out.data[y * img.width + x] = img.data[y * img.width + x] - (p.a * x + p.b * y + p.c);
  }
  return out;
}

/** angle(Σ pred · conj(target)) over the pixels where `use` holds. */
export function globalPhaseOffset(pred: ComplexImage, target: ComplexImage, use?: (i: number) => boolean): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < pred.re.length; i++) {
    if (use && !use(i)) continue;
    re += pred.re[i] * target.re[i] + pred.im[i] * target.im[i];
    im += pred.im[i] * target.re[i] - pred.re[i] * target.im[i];
  }
  return Math.atan2(im, re);
}

function maskedMean(a: Float64Array, valid: Uint8Array | null): number {
  if (!valid) return mean(a);
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!valid[i]) continue;
    s += a[i];
    n++;
  }
  return s / n;
}

function rotate(img: ComplexImage, angle: number): ComplexImage {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const out = {
    height: img.height,
    width: img.width,
    re: new Float64Array(img.re.length),
    im: new Float64Array(img.re.length),
  };
  for (let i = 0; i < img.re.length; i++) {
    out.re[i] = img.re[i] * c - img.im[i] * s;
    out.im[i] = img.re[i] * s + img.im[i] * c;
  }
  return out;
}

export interface AlignInput {
  /** Stitched reconstruction on the object grid. */
  recon: ComplexImage;
  /** Stitch weights on the same grid (coverage). */
  weight: RealImage;
  groundTruth: ComplexImage;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
}

export function alignForEvaluation(input: AlignInput, options: Partial<AlignmentOptions> = {}): AlignedPair {
  const o = { ...DEFAULT_ALIGNMENT, ...options };
  const { recon, groundTruth: gt } = input;
  if (recon.height !== gt.height || recon.width !== gt.width) {
    throw new Error(`alignment: reconstruction ${recon.height}×${recon.width} vs object ${gt.height}×${gt.width}`);
  }
  const box = scanBox(input.xs, input.ys, gt.height, gt.width, o.stitchCrop);
  const bh = box.row1 - box.row0;
  const bw = box.col1 - box.col0;
  const margin = (o.register ? o.registrationBorderPx : 0) + o.trimPx;
  if (bh - 2 * margin < 8 || bw - 2 * margin < 8) {
    throw new Error(
      `alignment: the scan box ${bh}×${bw} px is too small to score after trimming ${margin} px per side`,
    );
  }
  let pred = cropComplex(recon, box.row0, box.col0, bh, bw);
  let target = cropComplex(gt, box.row0, box.col0, bh, bw);
  let weight = cropReal(input.weight, box.row0, box.col0, bh, bw);
  let shift: Shift | null = null;
  if (o.register) {
    let full = true;
    for (let i = 0; i < weight.data.length && full; i++) full = weight.data[i] > 0;
    const regValid = full ? undefined : Uint8Array.from(weight.data, (v) => (v > 0 ? 1 : 0));
    shift =
      o.registrationMethod === 'phase'
        ? phaseCrossCorrelation(amplitude(target), amplitude(pred), o.upsampleFactor, 'phase', o.maxShiftPx)
        : phaseCrossCorrelation(
            hannWindowed(amplitude(target), regValid),
            hannWindowed(amplitude(pred), regValid),
            o.upsampleFactor,
            null,
            o.maxShiftPx,
          );
    pred = trimComplex(fourierShift(pred, shift), o.registrationBorderPx);
    target = trimComplex(target, o.registrationBorderPx);
    weight = trimReal(weight, o.registrationBorderPx);
  }
  pred = trimComplex(pred, o.trimPx);
  target = trimComplex(target, o.trimPx);
  weight = trimReal(weight, o.trimPx);
  const uncovered = new Uint8Array(weight.data.length);
  for (let i = 0; i < weight.data.length; i++) uncovered[i] = weight.data[i] > 0 ? 0 : 1;
  const nCovered = uncovered.length - uncovered.reduce((s, v) => s + v, 0);
  if (nCovered === 0) throw new Error('alignment: no scored pixel is covered by a patch');
  // Fits and scores use covered pixels only; with full coverage this is the original exactly.
  const valid = nCovered < uncovered.length ? Uint8Array.from(uncovered, (u) => 1 - u) : null;
  const offset = globalPhaseOffset(pred, target, (i) => weight.data[i] > 0);
  pred = rotate(pred, -offset);

  const phiPredRaw = phase(pred);
  const phiTargetRaw = phase(target);
  let planePred: Plane;
  let planeTarget: Plane;
  if (o.phaseAlign === 'plane') {
    planePred = fitPlane(phiPredRaw, valid ?? undefined);
    planeTarget = fitPlane(phiTargetRaw, valid ?? undefined);
  } else {
    planePred = { a: 0, b: 0, c: maskedMean(phiPredRaw.data, valid) };
    planeTarget = { a: 0, b: 0, c: maskedMean(phiTargetRaw.data, valid) };
  }
  const ampTarget = amplitude(target);
  const ampPredRaw = amplitude(pred);
  const scale = maskedMean(ampTarget.data, valid) / maskedMean(ampPredRaw.data, valid);
  const ampPred = realImage(ampPredRaw.height, ampPredRaw.width);
  for (let i = 0; i < ampPred.data.length; i++) ampPred.data[i] = ampPredRaw.data[i] * scale;
  return {
    amplitudeTarget: ampTarget,
    amplitudePred: ampPred,
    phaseTarget: removePlane(phiTargetRaw, planeTarget),
    phasePred: removePlane(phiPredRaw, planePred),
    pred,
    target,
    uncovered,
    valid,
    record: {
      scanBox: box,
      registrationShift: shift,
      registrationAtCap:
        shift !== null &&
        Number.isFinite(o.maxShiftPx) &&
        Math.max(Math.abs(shift.dy), Math.abs(shift.dx)) >= o.maxShiftPx - 1 / Math.max(1, o.upsampleFactor) - 1e-9,
      maxShiftPx: o.maxShiftPx,
      registrationBorderPx: o.register ? o.registrationBorderPx : 0,
      trimPx: o.trimPx,
      globalPhaseOffsetRad: offset,
      phaseAlign: o.phaseAlign,
      phasePlanePred: planePred,
      phasePlaneTarget: planeTarget,
      amplitudeScale: scale,
      shape: [ampTarget.height, ampTarget.width],
      coverage: nCovered / weight.data.length,
    },
  };
}
