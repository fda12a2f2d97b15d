/**
 * Scoring an aligned reconstruction: the study's metric suite on amplitude and phase, with
 * the parameters the original used (ptycho/evaluation.py `eval_reconstruction`, study
 * design: MS-SSIM σ = 1 on amplitude only, FRC thresholds 0.5 and 1/7).
 * Amplitude SSIM uses the target's range; phase SSIM and MS-SSIM use (φ + π)/2π with
 * range 1, as the original; PSNR uses the target's range for both (ours, see metrics.ts).
 */
import { type AlignedPair, type AlignmentOptions, alignForEvaluation, type AlignInput } from './align';
import { FRC_THRESHOLDS, type FrcResult, frc, largestValidSquare } from './frc';
import { cropReal, mapReal, type RealImage } from './image';
import { dataRange, mae, msSsim, mse, psnr, ssim } from './metrics';

export const MS_SSIM_SIGMA_AMPLITUDE = 1.0;

export interface ChannelMetrics {
  mae: number;
  mse: number;
  psnr: number;
  ssim: number;
  ms_ssim: number;
  /** Null when coverage is partial and no covered square of at least FRC_MIN_SIDE px exists. */
  frc: FrcResult | null;
}

/** Smallest square FRC is computed on: below this the rings are too few to mean anything. */
export const FRC_MIN_SIDE = 16;

export interface Scores {
  amplitude: ChannelMetrics;
  phase: ChannelMetrics;
}

/** The parameters written beside every score, so a reader knows exactly what was computed. */
export function scoringParameters(align: AlignmentOptions) {
  return {
    stitch_crop_px: align.stitchCrop,
    registration: !align.register
      ? 'off'
      : align.registrationMethod === 'phase'
        ? 'skimage phase_cross_correlation on magnitudes (phase normalisation), Fourier shift'
        : 'upsampled cross-correlation of mean-free Hann-windowed magnitudes (no phase normalisation), Fourier shift',
    upsample_factor: align.upsampleFactor,
    max_registration_shift_px: align.maxShiftPx,
    max_registration_shift_applies_to: 'the total shift (coarse + sub-pixel), per axis; a shift at the cap is flagged',
    baseline: 'a constant image (1 + 0i) scored through the same crop, registration, trims and alignment',
    ground_truth_check: 'the ground-truth object scored through the same pipeline (must be perfect)',
    skill: '(baseline - model) / (baseline - perfect): 0 = no better than a constant, 1 = perfect',
    not_converged: 'MAE skill <= 0.05 on amplitude or phase',
    scored_pixels:
      'pixels of the trimmed scan box covered by a patch (all of them for a full scan); SSIM windows must lie inside them',
    registration_border_px: align.register ? align.registrationBorderPx : 0,
    trim_px: align.trimPx,
    phase_align: align.phaseAlign,
    global_phase_offset: 'angle(sum pred*conj(gt)) over covered pixels, removed before phase alignment',
    amplitude_scaling: 'pred * mean(target)/mean(pred)',
    psnr_peak: "target's data range (max - min), as scikit-image; not cv2's fixed 255",
    ssim: 'scikit-image structural_similarity defaults: 7x7 uniform window, K1 0.01, K2 0.03, sample covariance',
    ssim_phase_scaling: '(phase + pi) / (2 pi), data range 1',
    ms_ssim:
      'ptycho/evaluation.py ms_ssim: 5 levels, weights 0.0448 0.2856 0.3001 0.2363 0.1333, [::2, ::2] decimation',
    ms_ssim_sigma_amplitude: MS_SSIM_SIGMA_AMPLITUDE,
    ms_ssim_sigma_phase: 0,
    frc: 'Re-part ring correlation on the central square (partial coverage: the largest covered square), rings round(|k|); interpolated first crossing from ring 1',
    frc_thresholds: [...FRC_THRESHOLDS],
  };
}

export type ScoringParameters = ReturnType<typeof scoringParameters>;

const scaledPhase = (img: RealImage) => mapReal(img, (v) => (v + Math.PI) / (2 * Math.PI));

/** FRC on the full image, or on the largest covered square when coverage is partial. */
function frcOn(t: RealImage, p: RealImage, valid: Uint8Array | null): FrcResult | null {
  if (!valid) return frc(t, p);
  const sq = largestValidSquare(t.height, t.width, valid);
  if (sq.size < FRC_MIN_SIDE) return null;
  return frc(cropReal(t, sq.y0, sq.x0, sq.size, sq.size), cropReal(p, sq.y0, sq.x0, sq.size, sq.size));
}

export function scoreAligned(a: AlignedPair): Scores {
  const ampT = a.amplitudeTarget;
  const ampP = a.amplitudePred;
  const phT = a.phaseTarget;
  const phP = a.phasePred;
  const phTs = scaledPhase(phT);
  const phPs = scaledPhase(phP);
  const v = a.valid ?? undefined;
  return {
    amplitude: {
      mae: mae(ampT, ampP, v),
      mse: mse(ampT, ampP, v),
      psnr: psnr(ampT, ampP, dataRange(ampT, v), v),
      ssim: ssim(ampT, ampP, dataRange(ampT, v), v),
      ms_ssim: msSsim(ampT, ampP, { sigma: MS_SSIM_SIGMA_AMPLITUDE, valid: v }),
      frc: frcOn(ampT, ampP, a.valid),
    },
    phase: {
      mae: mae(phT, phP, v),
      mse: mse(phT, phP, v),
      psnr: psnr(phT, phP, dataRange(phT, v), v),
      ssim: ssim(phTs, phPs, 1, v),
      ms_ssim: msSsim(phTs, phPs, { valid: v }),
      frc: frcOn(phT, phP, a.valid),
    },
  };
}

export function scoreReconstruction(
  input: AlignInput,
  options: Partial<AlignmentOptions> = {},
): { aligned: AlignedPair; scores: Scores } {
  const aligned = alignForEvaluation(input, options);
  return { aligned, scores: scoreAligned(aligned) };
}
