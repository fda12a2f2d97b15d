/**
 * Files of Phase G (reconstruct and compare): each job's `eval.json`, the artifact root's
 * `comparison.json` / `comparison.csv`, and the report folder. Keys are snake_case like the
 * manifest. A metric that has no finite value (PSNR of identical images) is null.
 */
import { z } from 'zod';
import { ClassicalRow } from './classical';
import { Gridsize, ViewName } from './study';

export const EVAL_SCHEMA_VERSION = 1;
export const EVAL_FILE = 'eval.json';
export const RECON_FILE = 'recon.npz';
export const MODEL_FILE = 'model.onnx';
export const COMPARISON_JSON = 'comparison.json';
export const COMPARISON_CSV = 'comparison.csv';
export const REPORT_DIR = 'report';
export const REPORT_HTML = 'report.html';

export const FrcCrossing = z.object({
  threshold: z.number(),
  /** Interpolated ring of the first crossing; null when the curve stays above it up to Nyquist. */
  ring: z.number().nullable(),
  /** ring / (n/2); 1 when it never crosses. */
  fraction_of_nyquist: z.number(),
  /** Period of the finest resolved spatial frequency in pixels (n / ring); 2 when it never crosses. */
  period_px: z.number(),
  /** The curve stays above the threshold up to Nyquist: period_px = 2 is then an upper bound. */
  reaches_nyquist: z.boolean(),
});
export type FrcCrossing = z.infer<typeof FrcCrossing>;

export const ChannelMetrics = z.object({
  mae: z.number(),
  mse: z.number(),
  psnr: z.number().nullable(),
  /** Null when too few 7×7 windows lie wholly inside the scored pixels (SSIM: none; MS-SSIM: none at some level). */
  ssim: z.number().nullable(),
  ms_ssim: z.number().nullable(),
  /** Null when coverage is partial and no covered square is large enough for rings to mean anything. */
  frc: z
    .object({
      /** Side of the square the curve was computed on. */
      size: z.number().int(),
      /** Per ring from zero frequency to Nyquist. */
      curve: z.array(z.number().nullable()),
      crossings: z.array(FrcCrossing),
    })
    .nullable(),
});
export type ChannelMetrics = z.infer<typeof ChannelMetrics>;

export const Alignment = z.object({
  scan_box: z.object({ row0: z.number(), row1: z.number(), col0: z.number(), col1: z.number() }),
  registration_shift: z.object({ dy: z.number(), dx: z.number() }).nullable(),
  /** The total shift (coarse + sub-pixel) reached the cap on some axis: the alignment is suspect. */
  registration_at_cap: z.boolean().optional(),
  max_registration_shift_px: z.number().optional(),
  registration_border_px: z.number(),
  trim_px: z.number(),
  global_phase_offset_rad: z.number(),
  phase_align: z.enum(['plane', 'mean']),
  phase_plane_pred: z.object({ a: z.number(), b: z.number(), c: z.number() }),
  phase_plane_target: z.object({ a: z.number(), b: z.number(), c: z.number() }),
  amplitude_scale: z.number().nullable(),
  shape: z.tuple([z.number().int(), z.number().int()]),
  coverage: z.number(),
});
export type Alignment = z.infer<typeof Alignment>;

/** Skill per metric: (baseline − model) / (baseline − perfect); 0 = a constant image, 1 = perfect. */
export const ChannelSkill = z.object({
  mae: z.number().nullable(),
  mse: z.number().nullable(),
  ssim: z.number().nullable(),
  ms_ssim: z.number().nullable(),
  frc50_period_px: z.number().nullable(),
});
export type ChannelSkill = z.infer<typeof ChannelSkill>;

export const EvalFile = z.object({
  schema_version: z.literal(EVAL_SCHEMA_VERSION),
  job_id: z.string(),
  dose: z.number(),
  view: ViewName,
  gridsize: Gridsize,
  evaluated_at: z.string(),
  artifact_dir: z.string(),
  model_path: z.string().nullable(),
  recon_path: z.string(),
  test_data_path: z.string(),
  /** Scan positions of the test split and patches stitched into the reconstruction. */
  n_positions: z.number().int(),
  n_patches: z.number().int(),
  object_shape: z.tuple([z.number().int(), z.number().int()]),
  alignment: Alignment,
  metrics: z.object({ amplitude: ChannelMetrics, phase: ChannelMetrics }),
  /**
   * The same pipeline run on a constant image (baseline: what learning nothing scores) and on
   * the ground truth (perfect; `ground_truth_perfect` says it was).
   */
  reference: z
    .object({
      baseline: z.object({ amplitude: ChannelMetrics, phase: ChannelMetrics }),
      ground_truth: z.object({ amplitude: ChannelMetrics, phase: ChannelMetrics }),
      ground_truth_perfect: z.boolean(),
    })
    .optional(),
  skill: z.object({ amplitude: ChannelSkill, phase: ChannelSkill }).optional(),
  /** MAE skill ≤ 0.05 on a channel: no better than a constant image. */
  not_converged: z.boolean().optional(),
  not_converged_reason: z.string().nullable().optional(),
  /** What exactly was computed (definitions and parameters), for the reader of the file. */
  parameters: z.record(z.string(), z.unknown()),
  inference: z
    .object({
      seconds: z.number().nonnegative(),
      reused_recon: z.boolean(),
      detail: z.string().optional(),
    })
    .nullable(),
});
export type EvalFile = z.infer<typeof EvalFile>;

/** Why a job of the design has no score. */
export const EvalState = z.enum([
  'evaluated',
  /** in the design but never run under this artifact root */
  'not_run',
  /** run but not finished successfully (failed, cancelled, planned by a dry run, …) */
  'not_trained',
  /** trained, but no exported model.onnx to reconstruct with */
  'no_model',
  /** evaluation was attempted and failed, or has not been run yet */
  'eval_failed',
  /** eval.json predates the current model.onnx (the job was retrained): evaluate again */
  'stale',
]);
export type EvalState = z.infer<typeof EvalState>;

/** One row of comparison.json / comparison.csv: a job of the design, scored or not. */
export const ComparisonRow = z.object({
  job_id: z.string(),
  dose: z.number(),
  view: ViewName,
  gridsize: Gridsize,
  state: EvalState,
  /** For every state but `evaluated`: what is missing, in words. */
  reason: z.string().nullable(),
  job_status: z.string().nullable(),
  final_loss: z.number().nullable(),
  eval_path: z.string().nullable(),
  amp_mae: z.number().nullable(),
  amp_mse: z.number().nullable(),
  amp_psnr: z.number().nullable(),
  amp_ssim: z.number().nullable(),
  amp_ms_ssim: z.number().nullable(),
  amp_frc50_period_px: z.number().nullable(),
  amp_frc17_period_px: z.number().nullable(),
  phase_mae: z.number().nullable(),
  phase_mse: z.number().nullable(),
  phase_psnr: z.number().nullable(),
  phase_ssim: z.number().nullable(),
  phase_ms_ssim: z.number().nullable(),
  phase_frc50_period_px: z.number().nullable(),
  phase_frc17_period_px: z.number().nullable(),
  coverage: z.number().nullable(),
  registration_dy: z.number().nullable(),
  registration_dx: z.number().nullable(),
  global_phase_offset_rad: z.number().nullable(),
  amplitude_scale: z.number().nullable(),
  /** Skill columns: (baseline − model) / (baseline − perfect), 0 = a constant image, 1 = perfect. */
  amp_mae_skill: z.number().nullable().default(null),
  amp_mse_skill: z.number().nullable().default(null),
  amp_ssim_skill: z.number().nullable().default(null),
  amp_ms_ssim_skill: z.number().nullable().default(null),
  amp_frc50_skill: z.number().nullable().default(null),
  phase_mae_skill: z.number().nullable().default(null),
  phase_mse_skill: z.number().nullable().default(null),
  phase_ssim_skill: z.number().nullable().default(null),
  phase_ms_ssim_skill: z.number().nullable().default(null),
  phase_frc50_skill: z.number().nullable().default(null),
  /** The constant-guess baseline's raw scores, so plots can draw it beside the model's. */
  amp_mae_baseline: z.number().nullable().default(null),
  amp_ssim_baseline: z.number().nullable().default(null),
  phase_mae_baseline: z.number().nullable().default(null),
  phase_ssim_baseline: z.number().nullable().default(null),
  not_converged: z.boolean().nullable().default(null),
  registration_at_cap: z.boolean().nullable().default(null),
  /** Seeds averaged into this row (1 for a single run); `*_sd` columns are their spread. */
  seeds: z.array(z.number()).default([]),
  phase_mae_skill_sd: z.number().nullable().default(null),
  amp_mae_skill_sd: z.number().nullable().default(null),
});
export type ComparisonRow = z.infer<typeof ComparisonRow>;

/**
 * The metrics shown per (dose, view), skill first (raw SSIM alone is not a result here: a flat
 * phase scores 0.72–0.76). `range` fixes the colour / axis range: 'unit' = 0–1 (skill,
 * SSIM), 'to-baseline' = 0 to the larger of the values and the constant guess's score
 * (`baseline`), 'auto' = the values' own span (said so wherever it is drawn).
 */
export const COMPARISON_METRICS = [
  { key: 'phase_mae_skill', label: 'phase skill (MAE)', better: 'higher', range: 'unit' },
  { key: 'amp_mae_skill', label: 'amplitude skill (MAE)', better: 'higher', range: 'unit' },
  { key: 'phase_ssim_skill', label: 'phase skill (SSIM)', better: 'higher', range: 'unit' },
  { key: 'amp_ssim_skill', label: 'amplitude skill (SSIM)', better: 'higher', range: 'unit' },
  { key: 'phase_ms_ssim', label: 'phase MS-SSIM', better: 'higher', range: 'unit' },
  { key: 'phase_ssim', label: 'phase SSIM', better: 'higher', range: 'unit', baseline: 'phase_ssim_baseline' },
  { key: 'phase_mae', label: 'phase MAE (rad)', better: 'lower', range: 'to-baseline', baseline: 'phase_mae_baseline' },
  { key: 'phase_psnr', label: 'phase PSNR (dB)', better: 'higher', range: 'auto' },
  { key: 'phase_frc50_period_px', label: 'phase FRC 0.5 period (px)', better: 'lower', range: 'auto' },
  { key: 'amp_ms_ssim', label: 'amplitude MS-SSIM', better: 'higher', range: 'unit' },
  { key: 'amp_ssim', label: 'amplitude SSIM', better: 'higher', range: 'unit', baseline: 'amp_ssim_baseline' },
  { key: 'amp_mae', label: 'amplitude MAE', better: 'lower', range: 'to-baseline', baseline: 'amp_mae_baseline' },
  { key: 'amp_psnr', label: 'amplitude PSNR (dB)', better: 'higher', range: 'auto' },
  { key: 'amp_frc50_period_px', label: 'amplitude FRC 0.5 period (px)', better: 'lower', range: 'auto' },
] as const;
export type ComparisonMetricKey = (typeof COMPARISON_METRICS)[number]['key'];
export type ComparisonMetric = (typeof COMPARISON_METRICS)[number];

/** The colour / axis range of a metric over some rows: fixed, or including the constant guess's score. */
export function metricRange(
  m: ComparisonMetric,
  rows: readonly ComparisonRow[],
): { lo: number; hi: number; fixed: boolean } | null {
  const vals = rows.map((r) => r[m.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (m.range === 'unit') return { lo: Math.min(0, ...vals), hi: Math.max(1, ...vals), fixed: true };
  if (m.range === 'to-baseline' && 'baseline' in m) {
    const base = rows.map((r) => r[m.baseline]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (!vals.length && !base.length) return null;
    return { lo: 0, hi: Math.max(...vals, ...base), fixed: true };
  }
  return null;
}

export const ComparisonFile = z.object({
  schema_version: z.literal(EVAL_SCHEMA_VERSION),
  generated_at: z.string(),
  artifact_root: z.string(),
  doses: z.array(z.number()),
  views: z.array(ViewName),
  rows: z.array(ComparisonRow),
  /** Jobs without a score, with the reason (the same rows, for a quick look). */
  missing: z.array(z.object({ job_id: z.string(), state: EvalState, reason: z.string() })),
  /** The classical arm's row per (dose, view) (classical.json), when it has been run. */
  classical: z.array(ClassicalRow).optional(),
});
export type ComparisonFile = z.infer<typeof ComparisonFile>;
