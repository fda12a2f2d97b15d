/**
 * Evaluating one trained job: reconstruct its test split through its exported model
 * (or reuse a `recon.npz` made from that same model), stitch, align to the ground-truth
 * object, score, and write `recon.npz` and `eval.json` into the job's artifact folder.
 * Inference is injected (`Reconstructor`), so this module never depends on how the model
 * is run and tests can use ground-truth patches.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StudyError } from '../../shared/errors';
import {
  EVAL_FILE,
  EVAL_SCHEMA_VERSION,
  type EvalFile,
  MODEL_FILE,
  RECON_FILE,
  type ChannelMetrics as ChannelMetricsFile,
} from '../../shared/evaluation';
import type { Gridsize, ViewName } from '../../shared/study';
import { writeJsonAtomic } from '../data/atomic';
import { loadStudyFile, type StudyFile } from '../data/study-file';
import { type AlignedPair, type AlignmentOptions, DEFAULT_ALIGNMENT } from './align';
import { type ComplexImage, complexFromInterleaved } from './image';
import { PLACEMENT_CONVENTION, type ReconFile, readReconFile, writeReconFile } from './recon-file';
import { type ChannelMetrics, type Scores, scoreReconstruction, scoringParameters } from './score';
import { convergence, isPerfect, referenceScores, type Skill, skillScores } from './skill';
import { defaultStitchCrop, type PatchStack, stitchPatches } from './stitch';

/** One job as evaluation needs it (a subset of the manifest entry). */
export interface EvalTarget {
  id: string;
  dose: number;
  view: ViewName;
  gridsize: Gridsize;
  artifactDir: string;
  testDataPath: string;
}

/** Predicted object patches of a test split and where each one belongs on the object. */
export interface Reconstruction {
  patches: PatchStack;
  /** Placement positions in object pixels (scan positions for gs1, group centres or members for gs2). */
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  /** e.g. the execution provider used. */
  detail?: string;
}

export type Reconstructor = (input: {
  modelPath: string;
  testData: StudyFile;
  job: EvalTarget;
}) => Promise<Reconstruction>;

export interface EvaluateJobOptions {
  /** Runs the model; null = inference unavailable (only an existing recon.npz can be scored). */
  reconstructor: Reconstructor | null;
  /** Reuse recon.npz when it was made from the current model.onnx (default true). */
  reuseRecon?: boolean;
  alignment?: Partial<AlignmentOptions>;
  now?: () => Date;
}

export interface JobEvaluation {
  eval: EvalFile;
  aligned: AlignedPair;
  recon: ReconFile;
}

export function modelPathOf(job: Pick<EvalTarget, 'artifactDir'>): string {
  return join(job.artifactDir, MODEL_FILE);
}
export function reconPathOf(job: Pick<EvalTarget, 'artifactDir'>): string {
  return join(job.artifactDir, RECON_FILE);
}
export function evalPathOf(job: Pick<EvalTarget, 'artifactDir'>): string {
  return join(job.artifactDir, EVAL_FILE);
}

function mtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

export function objectOf(file: StudyFile): ComplexImage {
  const [h, w] = file.objectGuess.shape;
  return complexFromInterleaved(h, w, file.objectGuess.data as Float32Array);
}

async function obtainReconstruction(
  job: EvalTarget,
  testData: StudyFile,
  opts: EvaluateJobOptions,
  stitchCrop: number,
): Promise<{ recon: ReconFile; seconds: number; reused: boolean; detail?: string }> {
  const modelPath = modelPathOf(job);
  const reconPath = reconPathOf(job);
  const modelMtime = mtimeMs(modelPath);
  if ((opts.reuseRecon ?? true) && existsSync(reconPath)) {
    const existing = await readReconFile(reconPath);
    const sameModel = existing.meta.model_mtime_ms === modelMtime;
    // A recon made before the test data last changed is of other data.
    const testDataOlder = (mtimeMs(job.testDataPath) ?? 0) <= (mtimeMs(reconPath) ?? 0);
    if (sameModel && testDataOlder && existing.meta.stitch_crop_px === stitchCrop)
      return { recon: existing, seconds: 0, reused: true };
  }
  if (modelMtime === null) {
    throw new StudyError('NOT_FOUND', `job ${job.id} has no exported model to reconstruct with`, {
      file: modelPath,
      hint: 'train the job (or re-export its model) first',
    });
  }
  if (!opts.reconstructor) {
    throw new StudyError('RUNNER_MISSING', `no inference is available to reconstruct job ${job.id}`, {
      file: modelPath,
    });
  }
  const t0 = performance.now();
  const r = await opts.reconstructor({ modelPath, testData, job });
  const [h, w] = testData.objectGuess.shape;
  const stitched = stitchPatches({
    patches: r.patches,
    xs: r.xs,
    ys: r.ys,
    objectHeight: h,
    objectWidth: w,
    crop: stitchCrop,
  });
  const recon: ReconFile = {
    recon: stitched.object,
    weight: stitched.weight,
    xs: Float64Array.from(r.xs),
    ys: Float64Array.from(r.ys),
    meta: {
      job_id: job.id,
      stitch_crop_px: stitchCrop,
      n_patches: r.patches.count,
      created_at: (opts.now ?? (() => new Date()))().toISOString(),
      model_path: modelPath,
      model_mtime_ms: modelMtime,
      convention: PLACEMENT_CONVENTION,
    },
  };
  await writeReconFile(reconPath, recon);
  return { recon, seconds: (performance.now() - t0) / 1000, reused: false, detail: r.detail };
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

function channelToFile(m: ChannelMetrics): ChannelMetricsFile {
  return {
    mae: m.mae,
    mse: m.mse,
    psnr: finiteOrNull(m.psnr),
    ssim: finiteOrNull(m.ssim),
    ms_ssim: finiteOrNull(m.ms_ssim),
    frc: m.frc && {
      size: m.frc.size,
      curve: m.frc.curve.map(finiteOrNull),
      crossings: m.frc.crossings.map((c) => ({
        threshold: c.threshold,
        ring: c.ring,
        fraction_of_nyquist: c.fractionOfNyquist,
        period_px: c.periodPx,
        reaches_nyquist: c.reachesNyquist,
      })),
    },
  };
}

export function scoresToFile(s: Scores): EvalFile['metrics'] {
  return { amplitude: channelToFile(s.amplitude), phase: channelToFile(s.phase) };
}

const skillToFile = (k: Skill): NonNullable<EvalFile['skill']> => ({
  amplitude: { ...k.amplitude },
  phase: { ...k.phase },
});

/** The alignment applied, as eval.json records it. */
export function alignmentToFile(r: AlignedPair['record']): EvalFile['alignment'] {
  return {
    scan_box: r.scanBox,
    registration_shift: r.registrationShift,
    registration_at_cap: r.registrationAtCap,
    max_registration_shift_px: r.maxShiftPx,
    registration_border_px: r.registrationBorderPx,
    trim_px: r.trimPx,
    global_phase_offset_rad: r.globalPhaseOffsetRad,
    phase_align: r.phaseAlign,
    phase_plane_pred: r.phasePlanePred,
    phase_plane_target: r.phasePlaneTarget,
    amplitude_scale: finiteOrNull(r.amplitudeScale),
    shape: r.shape,
    coverage: r.coverage,
  };
}

/** Reconstruct (or reuse), align, score and write recon.npz + eval.json for one job. */
export async function evaluateJob(job: EvalTarget, opts: EvaluateJobOptions): Promise<JobEvaluation> {
  const testData = await loadStudyFile(job.testDataPath);
  const alignment = {
    ...DEFAULT_ALIGNMENT,
    stitchCrop: defaultStitchCrop(testData.N),
    ...opts.alignment,
  };
  const got = await obtainReconstruction(job, testData, opts, alignment.stitchCrop);
  const gt = objectOf(testData);
  if (got.recon.recon.height !== gt.height || got.recon.recon.width !== gt.width) {
    throw new StudyError('DATA_CONTRACT', `reconstruction and ground-truth object differ in shape`, {
      file: reconPathOf(job),
      found: [got.recon.recon.height, got.recon.recon.width],
      expected: [gt.height, gt.width],
    });
  }
  const input = {
    recon: got.recon.recon,
    weight: got.recon.weight,
    groundTruth: gt,
    xs: got.recon.xs,
    ys: got.recon.ys,
  };
  const { aligned, scores } = scoreReconstruction(input, alignment);
  const refs = referenceScores(input, alignment);
  const skill = skillScores(scores, refs);
  const conv = convergence(skill);
  const r = aligned.record;
  const evalFile: EvalFile = {
    schema_version: EVAL_SCHEMA_VERSION,
    job_id: job.id,
    dose: job.dose,
    view: job.view,
    gridsize: job.gridsize,
    evaluated_at: (opts.now ?? (() => new Date()))().toISOString(),
    artifact_dir: job.artifactDir,
    model_path: existsSync(modelPathOf(job)) ? modelPathOf(job) : null,
    recon_path: reconPathOf(job),
    test_data_path: job.testDataPath,
    n_positions: testData.M,
    n_patches: got.recon.meta.n_patches,
    object_shape: [gt.height, gt.width],
    alignment: alignmentToFile(r),
    metrics: scoresToFile(scores),
    reference: {
      baseline: scoresToFile(refs.baseline),
      ground_truth: scoresToFile(refs.groundTruth),
      ground_truth_perfect: isPerfect(refs.groundTruth),
    },
    skill: skillToFile(skill),
    not_converged: conv.notConverged,
    not_converged_reason: conv.reason,
    parameters: scoringParameters(alignment),
    inference: { seconds: got.seconds, reused_recon: got.reused, ...(got.detail ? { detail: got.detail } : {}) },
  };
  await writeJsonAtomic(evalPathOf(job), evalFile);
  return { eval: evalFile, aligned, recon: got.recon };
}
