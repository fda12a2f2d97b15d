/**
 * The study comparison table: one row per job of the design (dose × view), scored or with
 * the reason it is not, written as comparison.json and comparison.csv in the artifact root.
 */
import {
  COMPARISON_CSV,
  COMPARISON_JSON,
  type ComparisonFile,
  type ComparisonRow,
  EVAL_SCHEMA_VERSION,
  type EvalFile,
  type EvalState,
} from '../../shared/evaluation';
import type { Gridsize, ViewName } from '../../shared/study';
import { readClassicalFileSync } from '../classical/study';
import { writeFileAtomic, writeJsonAtomic } from '../data/atomic';
import { join } from 'node:path';

export interface RowJob {
  id: string;
  dose: number;
  view: ViewName;
  gridsize: Gridsize;
  jobStatus: string | null;
  finalLoss: number | null;
}

const period = (e: EvalFile, ch: 'amplitude' | 'phase', threshold: number) =>
  e.metrics[ch].frc?.crossings.find((c) => Math.abs(c.threshold - threshold) < 1e-9)?.period_px ?? null;

export function evaluatedRow(job: RowJob, e: EvalFile, evalPath: string): ComparisonRow {
  const a = e.metrics.amplitude;
  const p = e.metrics.phase;
  return {
    job_id: job.id,
    dose: job.dose,
    view: job.view,
    gridsize: job.gridsize,
    state: 'evaluated',
    reason: null,
    job_status: job.jobStatus,
    final_loss: job.finalLoss,
    eval_path: evalPath,
    amp_mae: a.mae,
    amp_mse: a.mse,
    amp_psnr: a.psnr,
    amp_ssim: a.ssim,
    amp_ms_ssim: a.ms_ssim,
    amp_frc50_period_px: period(e, 'amplitude', 0.5),
    amp_frc17_period_px: period(e, 'amplitude', 1 / 7),
    phase_mae: p.mae,
    phase_mse: p.mse,
    phase_psnr: p.psnr,
    phase_ssim: p.ssim,
    phase_ms_ssim: p.ms_ssim,
    phase_frc50_period_px: period(e, 'phase', 0.5),
    phase_frc17_period_px: period(e, 'phase', 1 / 7),
    coverage: e.alignment.coverage,
    registration_dy: e.alignment.registration_shift?.dy ?? null,
    registration_dx: e.alignment.registration_shift?.dx ?? null,
    global_phase_offset_rad: e.alignment.global_phase_offset_rad,
    amplitude_scale: e.alignment.amplitude_scale,
    amp_mae_skill: e.skill?.amplitude.mae ?? null,
    amp_mse_skill: e.skill?.amplitude.mse ?? null,
    amp_ssim_skill: e.skill?.amplitude.ssim ?? null,
    amp_ms_ssim_skill: e.skill?.amplitude.ms_ssim ?? null,
    amp_frc50_skill: e.skill?.amplitude.frc50_period_px ?? null,
    phase_mae_skill: e.skill?.phase.mae ?? null,
    phase_mse_skill: e.skill?.phase.mse ?? null,
    phase_ssim_skill: e.skill?.phase.ssim ?? null,
    phase_ms_ssim_skill: e.skill?.phase.ms_ssim ?? null,
    phase_frc50_skill: e.skill?.phase.frc50_period_px ?? null,
    amp_mae_baseline: e.reference?.baseline.amplitude.mae ?? null,
    amp_ssim_baseline: e.reference?.baseline.amplitude.ssim ?? null,
    phase_mae_baseline: e.reference?.baseline.phase.mae ?? null,
    phase_ssim_baseline: e.reference?.baseline.phase.ssim ?? null,
    not_converged: e.not_converged ?? null,
    registration_at_cap: e.alignment.registration_at_cap ?? null,
    seeds: [],
    phase_mae_skill_sd: null,
    amp_mae_skill_sd: null,
  };
}

const NO_SKILL = {
  amp_mae_skill: null,
  amp_mse_skill: null,
  amp_ssim_skill: null,
  amp_ms_ssim_skill: null,
  amp_frc50_skill: null,
  phase_mae_skill: null,
  phase_mse_skill: null,
  phase_ssim_skill: null,
  phase_ms_ssim_skill: null,
  phase_frc50_skill: null,
  amp_mae_baseline: null,
  amp_ssim_baseline: null,
  phase_mae_baseline: null,
  phase_ssim_baseline: null,
  not_converged: null,
  registration_at_cap: null,
  seeds: [],
  phase_mae_skill_sd: null,
  amp_mae_skill_sd: null,
} as const;

export function missingRow(job: RowJob, state: Exclude<EvalState, 'evaluated'>, reason: string): ComparisonRow {
  return {
    job_id: job.id,
    dose: job.dose,
    view: job.view,
    gridsize: job.gridsize,
    state,
    reason,
    job_status: job.jobStatus,
    final_loss: job.finalLoss,
    eval_path: null,
    amp_mae: null,
    amp_mse: null,
    amp_psnr: null,
    amp_ssim: null,
    amp_ms_ssim: null,
    amp_frc50_period_px: null,
    amp_frc17_period_px: null,
    phase_mae: null,
    phase_mse: null,
    phase_psnr: null,
    phase_ssim: null,
    phase_ms_ssim: null,
    phase_frc50_period_px: null,
    phase_frc17_period_px: null,
    coverage: null,
    registration_dy: null,
    registration_dx: null,
    global_phase_offset_rad: null,
    amplitude_scale: null,
    ...NO_SKILL,
    seeds: [],
  };
}

export function buildComparison(
  artifactRoot: string,
  doses: number[],
  views: ViewName[],
  rows: ComparisonRow[],
  now: Date,
): ComparisonFile {
  const classical = readClassicalFileSync(artifactRoot)?.rows;
  return {
    schema_version: EVAL_SCHEMA_VERSION,
    generated_at: now.toISOString(),
    artifact_root: artifactRoot,
    doses,
    views,
    rows,
    missing: rows
      .filter((r) => r.state !== 'evaluated')
      .map((r) => ({ job_id: r.job_id, state: r.state, reason: r.reason ?? r.state })),
    ...(classical ? { classical } : {}),
  };
}

/** A scored job's raw scores and alignment, in the order the CSV writes them. */
export const SCORE_COLUMNS = [
  'amp_mae',
  'amp_mse',
  'amp_psnr',
  'amp_ssim',
  'amp_ms_ssim',
  'amp_frc50_period_px',
  'amp_frc17_period_px',
  'phase_mae',
  'phase_mse',
  'phase_psnr',
  'phase_ssim',
  'phase_ms_ssim',
  'phase_frc50_period_px',
  'phase_frc17_period_px',
  'coverage',
  'registration_dy',
  'registration_dx',
  'global_phase_offset_rad',
  'amplitude_scale',
] as const satisfies readonly (keyof ComparisonRow)[];

const CSV_COLUMNS: (keyof ComparisonRow)[] = [
  'job_id',
  'dose',
  'view',
  'gridsize',
  'state',
  'reason',
  'job_status',
  'final_loss',
  ...SCORE_COLUMNS,
  'amp_mae_skill',
  'amp_mse_skill',
  'amp_ssim_skill',
  'amp_ms_ssim_skill',
  'amp_frc50_skill',
  'phase_mae_skill',
  'phase_mse_skill',
  'phase_ssim_skill',
  'phase_ms_ssim_skill',
  'phase_frc50_skill',
  'amp_mae_baseline',
  'amp_ssim_baseline',
  'phase_mae_baseline',
  'phase_ssim_baseline',
  'not_converged',
  'registration_at_cap',
  'seeds',
  'amp_mae_skill_sd',
  'phase_mae_skill_sd',
  'eval_path',
];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(' ');
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** RFC 4180 CSV, one header line, one row per job; empty cells where there is no value. */
export function comparisonCsv(c: ComparisonFile): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of c.rows) lines.push(CSV_COLUMNS.map((k) => csvCell(r[k])).join(','));
  return `${lines.join('\n')}\n`;
}

export async function writeComparison(artifactRoot: string, c: ComparisonFile): Promise<{ json: string; csv: string }> {
  const json = join(artifactRoot, COMPARISON_JSON);
  const csv = join(artifactRoot, COMPARISON_CSV);
  await writeJsonAtomic(json, c);
  await writeFileAtomic(csv, comparisonCsv(c));
  return { json, csv };
}
