/**
 * The classical arm over a whole study: every selected (dose, view) reconstructed in turn,
 * and a summary beside the PtychoPINN comparison — `classical.json` and `classical.csv` in
 * the artifact root, one row per (dose, view) with the same score columns and the time taken.
 * A job whose test file is missing is listed with the reason; a failing job does not stop the
 * others.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EvalFile } from '../../shared/evaluation';
import { ClassicalFile, ClassicalRow } from '../../shared/classical';
import { defaultStudyDesign, type StudyDesign, ViewName } from '../../shared/study';
import { writeFileAtomic, writeJsonAtomic } from '../data/atomic';
import type { StudyRoots } from '../study/jobs';
import { type ClassicalFilters, type ClassicalJob, planClassicalJobs, runClassicalJob } from './job';
import type { PieIteration, PieOptions } from './pie';

export const CLASSICAL_JSON = 'classical.json';
export const CLASSICAL_CSV = 'classical.csv';

export { ClassicalFile, ClassicalRow } from '../../shared/classical';

export interface ClassicalStudyOptions {
  roots: StudyRoots;
  design?: StudyDesign;
  filters?: ClassicalFilters;
  pie: PieOptions;
  onJobStart?: (job: ClassicalJob, index: number, total: number) => void;
  onIteration?: (job: ClassicalJob, it: PieIteration) => void;
  onJobEnd?: (row: ClassicalRow) => void;
  shouldStop?: () => boolean;
  /** Continue each job from its recon.npz (a cancelled or shorter run with the same settings). */
  resume?: boolean;
}

const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function scoredRow(job: ClassicalJob, o: PieOptions, e: EvalFile, extra: Partial<ClassicalRow>): ClassicalRow {
  return {
    ...emptyRow(job, o, 'done', null),
    ...extra,
    n_positions: e.n_positions,
    eval_path: join(job.artifactDir, 'eval.json'),
    recon_path: e.recon_path,
    amp_ssim: num(e.metrics.amplitude.ssim),
    amp_mae: num(e.metrics.amplitude.mae),
    phase_ssim: num(e.metrics.phase.ssim),
    phase_mae: num(e.metrics.phase.mae),
    phase_ms_ssim: num(e.metrics.phase.ms_ssim),
    amp_mae_skill: num(e.skill?.amplitude.mae),
    phase_mae_skill: num(e.skill?.phase.mae),
    amp_ssim_skill: num(e.skill?.amplitude.ssim),
    phase_ssim_skill: num(e.skill?.phase.ssim),
  };
}

function emptyRow(job: ClassicalJob, o: PieOptions, state: ClassicalRow['state'], reason: string | null): ClassicalRow {
  return {
    job_id: job.id,
    dose: job.dose,
    view: job.view,
    state,
    reason,
    algorithm: o.algorithm,
    iterations: null,
    seconds: null,
    iterations_per_s: null,
    final_error: null,
    n_positions: null,
    eval_path: null,
    recon_path: null,
    amp_ssim: null,
    amp_mae: null,
    phase_ssim: null,
    phase_mae: null,
    phase_ms_ssim: null,
    amp_mae_skill: null,
    phase_mae_skill: null,
    amp_ssim_skill: null,
    phase_ssim_skill: null,
  };
}

export function classicalCsv(rows: readonly ClassicalRow[]): string {
  const keys = Object.keys(ClassicalRow.shape) as (keyof ClassicalRow)[];
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return `${keys.join(',')}\n${rows.map((r) => keys.map((k) => cell(r[k])).join(',')).join('\n')}\n`;
}

/** Runs the selected classical jobs and writes classical.{json,csv}; returns the file written. */
export async function reconstructStudy(opts: ClassicalStudyOptions): Promise<ClassicalFile> {
  const jobs = planClassicalJobs(opts.roots, opts.design ?? defaultStudyDesign(), opts.filters);
  const o = opts.pie;
  const rows: ClassicalRow[] = [];
  for (const [i, job] of jobs.entries()) {
    let row: ClassicalRow;
    if (opts.shouldStop?.()) row = emptyRow(job, o, 'cancelled', 'cancelled before it started');
    else if (!existsSync(job.testDataPath))
      row = emptyRow(job, o, 'missing', `test data not found: ${job.testDataPath}`);
    else {
      opts.onJobStart?.(job, i, jobs.length);
      try {
        const r = await runClassicalJob(job, o, {
          resume: opts.resume,
          shouldStop: opts.shouldStop,
          onIteration: (it) => opts.onIteration?.(job, it),
        });
        row = scoredRow(job, o, r.eval, {
          state: r.result.cancelled ? 'cancelled' : 'done',
          reason: r.result.cancelled ? `cancelled after ${r.result.iterations} iterations` : null,
          iterations: r.result.iterations,
          seconds: r.result.seconds,
          iterations_per_s: r.iterationsPerSecond,
          final_error: r.result.errors.at(-1) ?? null,
        });
      } catch (e) {
        row = emptyRow(job, o, 'failed', (e as Error).message);
      }
    }
    rows.push(row);
    // written after every job, so a listing read when its end is announced has its scores
    // (and a run killed later keeps the finished rows)
    if (row.state !== 'missing') await writeClassicalFile(opts, rows);
    opts.onJobEnd?.(row);
  }
  return writeClassicalFile(opts, rows);
}

async function writeClassicalFile(opts: ClassicalStudyOptions, rows: ClassicalRow[]): Promise<ClassicalFile> {
  const o = opts.pie;
  const file: ClassicalFile = {
    created_at: new Date().toISOString(),
    artifact_root: resolve(opts.roots.artifactRoot),
    parameters: {
      algorithm: o.algorithm,
      iterations: o.iterations,
      probe_update: o.probeUpdate,
      probe_update_start: o.probeUpdateStart,
      alpha: o.alpha,
      beta: o.beta,
      seed: o.seed,
      engine: 'plain float64 typed arrays on the CPU (numeric/fft.ts FFT)',
      ...(o.algorithm === 'lsqml' ? { delta: o.delta, tv: o.tv, tv_epsilon: o.tvEpsilon } : {}),
    },
    rows: mergeRows(opts.roots.artifactRoot, rows),
  };
  mkdirSync(file.artifact_root, { recursive: true });
  await writeJsonAtomic(join(file.artifact_root, CLASSICAL_JSON), file);
  await writeFileAtomic(join(file.artifact_root, CLASSICAL_CSV), classicalCsv(file.rows));
  return file;
}

/** Keeps rows of earlier runs for (dose, view)s this run did not select, so a filtered run erases nothing. */
function mergeRows(artifactRoot: string, rows: ClassicalRow[]): ClassicalRow[] {
  const earlier = readClassicalFileSync(artifactRoot)?.rows ?? [];
  const ids = new Set(rows.map((r) => r.job_id));
  return [...earlier.filter((r) => !ids.has(r.job_id)), ...rows].sort(
    (a, b) => a.dose - b.dose || ViewName.options.indexOf(a.view) - ViewName.options.indexOf(b.view),
  );
}

/** The artifact root's classical.json, or null when there is none or it cannot be read. */
export function readClassicalFileSync(artifactRoot: string): ClassicalFile | null {
  const path = join(resolve(artifactRoot), CLASSICAL_JSON);
  if (!existsSync(path)) return null;
  try {
    const r = ClassicalFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
