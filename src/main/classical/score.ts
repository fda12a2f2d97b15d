/**
 * Scoring a classical reconstruction through exactly the pipeline PtychoPINN's jobs go through
 * (eval/align + eval/score + the constant-guess baseline and skill), so the two arms' numbers
 * are comparable cell by cell. The object grid is the ground truth's, so no stitching is needed;
 * pixels the probe barely reached carry weight 0 (uncovered), as a stitch leaves them.
 */
import { type EvalFile, EVAL_SCHEMA_VERSION } from '../../shared/evaluation';
import type { Gridsize, ViewName } from '../../shared/study';
import { type AlignmentOptions, DEFAULT_ALIGNMENT } from '../eval/align';
import type { ComplexImage, RealImage } from '../eval/image';
import { alignmentToFile, scoresToFile } from '../eval/job-eval';
import { scoreReconstruction, scoringParameters } from '../eval/score';
import { convergence, isPerfect, referenceScores, skillScores } from '../eval/skill';
import { defaultStitchCrop } from '../eval/stitch';

/** A pixel counts as reconstructed where some exposure gave it ≥ this fraction of the probe's peak intensity. */
export const COVERAGE_FRACTION = 0.1;

export function coverageWeight(
  illumination: Float64Array,
  probePeakIntensity: number,
  height: number,
  width: number,
): RealImage {
  const cut = COVERAGE_FRACTION * probePeakIntensity;
  const data = Float64Array.from(illumination, (v) => (v >= cut ? v : 0));
  return { height, width, data };
}

export interface ClassicalScoreInput {
  jobId: string;
  dose: number;
  view: ViewName;
  gridsize: Gridsize;
  artifactDir: string;
  reconPath: string;
  testDataPath: string;
  N: number;
  nPositions: number;
  recon: ComplexImage;
  weight: RealImage;
  groundTruth: ComplexImage;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  seconds: number;
  detail: string;
  alignment?: Partial<AlignmentOptions>;
  now?: Date;
}

/** Aligns, scores and assembles an eval.json for one classical reconstruction. */
export function scoreClassical(s: ClassicalScoreInput): EvalFile {
  const alignment: AlignmentOptions = { ...DEFAULT_ALIGNMENT, stitchCrop: defaultStitchCrop(s.N), ...s.alignment };
  const input = { recon: s.recon, weight: s.weight, groundTruth: s.groundTruth, xs: s.xs, ys: s.ys };
  const { aligned, scores } = scoreReconstruction(input, alignment);
  const refs = referenceScores(input, alignment);
  const skill = skillScores(scores, refs);
  const conv = convergence(skill);
  const r = aligned.record;
  return {
    schema_version: EVAL_SCHEMA_VERSION,
    job_id: s.jobId,
    dose: s.dose,
    view: s.view,
    gridsize: s.gridsize,
    evaluated_at: (s.now ?? new Date()).toISOString(),
    artifact_dir: s.artifactDir,
    model_path: null,
    recon_path: s.reconPath,
    test_data_path: s.testDataPath,
    n_positions: s.nPositions,
    n_patches: s.nPositions,
    object_shape: [s.groundTruth.height, s.groundTruth.width],
    alignment: alignmentToFile(r),
    metrics: scoresToFile(scores),
    reference: {
      baseline: scoresToFile(refs.baseline),
      ground_truth: scoresToFile(refs.groundTruth),
      ground_truth_perfect: isPerfect(refs.groundTruth),
    },
    skill: { amplitude: { ...skill.amplitude }, phase: { ...skill.phase } },
    not_converged: conv.notConverged,
    not_converged_reason: conv.reason,
    parameters: {
      ...scoringParameters(alignment),
      coverage: `pixels whose summed illumination reached ${COVERAGE_FRACTION} of the probe's peak intensity`,
    },
    inference: { seconds: s.seconds, reused_recon: false, detail: s.detail },
  };
}
