/**
 * Phase G over an artifact root: every job of the design (the manifest's doses × the three
 * views) is either evaluated or listed with what is missing — never run, not trained, no
 * exported model, or an evaluation error — so a partly trained study still gives a
 * comparison of what exists. Results go to each job's folder, comparison.{json,csv} and a
 * short `evaluation` summary in the job's manifest result.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StudyError } from '../../shared/errors';
import { type ComparisonFile, type ComparisonRow, EvalFile } from '../../shared/evaluation';
import type { ManifestJob, TrainingManifest } from '../../shared/manifest';
import { jobMatrix, matrixColumns, type ViewName } from '../../shared/study';
import { removeStaleTempFiles } from '../data/atomic';
import { readManifestFile, recordJobEvaluations } from '../study/manifest-store';
import { type AlignmentOptions, DEFAULT_ALIGNMENT } from './align';
import { buildComparison, evaluatedRow, missingRow, type RowJob, writeComparison } from './comparison';
import { type EvalTarget, evaluateJob, evalPathOf, modelPathOf, type Reconstructor, reconPathOf } from './job-eval';
import { formatNumber } from './render/format';
import { scoringParameters } from './score';
import { type InferenceOptions, modelReconstructor } from './inference';

export interface StudyJobRef {
  row: RowJob;
  /** The manifest entry, when the job was ever run under this root. */
  entry: ManifestJob | null;
  /** Why the entry's paths may not be followed (browser mode: they lead outside the workspace); null when they may. */
  outside: string | null;
}

/**
 * Throws when a path the manifest names may not be read or written (in browser mode: it
 * leads outside the workspace, also through a symbolic link). The manifest is a file on
 * disk anyone could have edited, so its paths are checked like user input.
 */
export type PathCheck = (path: string) => void;

/** The first of the entry's paths that the check refuses, as a sentence; null when all pass. */
export function refusedPath(entry: ManifestJob, check: PathCheck | undefined): string | null {
  if (!check) return null;
  const dir = { artifactDir: entry.artifact_dir };
  const paths = [entry.artifact_dir, modelPathOf(dir), reconPathOf(dir), evalPathOf(dir), entry.test_data_path];
  for (const p of [...paths, entry.events_path, entry.log_path]) {
    try {
      check(p);
    } catch (e) {
      return `refused: the manifest points this job at ${p}, ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return null;
}

export interface StudyEvalOptions {
  artifactRoot: string;
  /** 'model': each job's own model.onnx (the product); a function: injected inference (tests). */
  reconstructor: Reconstructor | null | 'model';
  /** Provider and threads for 'model' inference. */
  inference?: Omit<InferenceOptions, 'configOf'>;
  /** Evaluate only these job ids (the others keep whatever eval.json they have). */
  jobIds?: string[];
  /** Re-run inference even when recon.npz matches the model. */
  force?: boolean;
  /** Paths from the manifest are followed only when this accepts them (browser-mode confinement). */
  confine?: PathCheck;
  alignment?: Partial<AlignmentOptions>;
  onProgress?: (message: string) => void;
  now?: () => Date;
}

export interface StudyEvalResult {
  comparison: ComparisonFile;
  files: { json: string; csv: string };
  evaluated: string[];
  /** Jobs whose eval.json was already up to date and was kept (see `force`). */
  upToDate: string[];
  missing: ComparisonFile['missing'];
}

export function requireManifest(artifactRoot: string): TrainingManifest {
  const { manifest, path } = readManifestFile(artifactRoot);
  if (!manifest) {
    throw new StudyError('NOT_FOUND', `no training manifest in ${resolve(artifactRoot)}`, {
      file: path,
      hint: 'train (or dry-run) the study into this artifact root first: ptycho-study train --artifact-root …',
    });
  }
  return manifest;
}

/** The design's jobs in study order (dose, then baseline, dense, sparse), joined with the manifest. */
export function studyJobs(manifest: TrainingManifest, confine?: PathCheck): StudyJobRef[] {
  const byId = new Map(manifest.jobs.map((j) => [j.id, j]));
  const doses = [...new Set([...manifest.design.doses, ...manifest.jobs.map((j) => j.dose)])].sort((a, b) => a - b);
  return jobMatrix(doses).map((cell) => {
    const entry = byId.get(cell.id) ?? null;
    const finalLoss = entry?.result?.final_loss ?? null;
    return {
      row: { ...cell, jobStatus: entry?.status ?? null, finalLoss },
      entry,
      outside: entry ? refusedPath(entry, confine) : null,
    };
  });
}

function targetOf(entry: ManifestJob): EvalTarget {
  return {
    id: entry.id,
    dose: entry.dose,
    view: entry.view,
    gridsize: entry.gridsize,
    artifactDir: entry.artifact_dir,
    testDataPath: entry.test_data_path,
  };
}

/** Why a job cannot be scored yet; null when it can. */
export function missingReason(
  ref: StudyJobRef,
): { state: Exclude<ComparisonRow['state'], 'evaluated'>; reason: string } | null {
  const e = ref.entry;
  if (!e) return { state: 'not_run', reason: 'never run under this artifact root' };
  if (ref.outside) return { state: 'eval_failed', reason: ref.outside };
  if (e.status !== 'done') {
    const detail = e.skip_reason ?? e.result?.error ?? (e.dry_run ? 'dry run only' : null);
    return { state: 'not_trained', reason: `status ${e.status}${detail ? `: ${detail}` : ''}` };
  }
  if (!existsSync(modelPathOf(targetOf(e)))) {
    return { state: 'no_model', reason: `trained, but ${modelPathOf(targetOf(e))} does not exist` };
  }
  return null;
}

/** eval.json of a job if present and valid. */
export function readEvalFile(path: string): EvalFile | null {
  if (!existsSync(path)) return null;
  try {
    return EvalFile.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return null;
  }
}

/** A trained job's row from its eval.json as it is on disk (not evaluated, stale or scored). */
function existingRow(row: RowJob, target: EvalTarget): ComparisonRow {
  const path = evalPathOf(target);
  const e = readEvalFile(path);
  if (!e) return missingRow(row, 'eval_failed', NOT_EVALUATED);
  if (statSync(modelPathOf(target)).mtimeMs > statSync(path).mtimeMs) {
    return missingRow(row, 'stale', 'model.onnx is newer than eval.json (retrained): run evaluate again');
  }
  // The scores are of the test data as it was: a test file changed since is a stale score too.
  if (existsSync(target.testDataPath) && statSync(target.testDataPath).mtimeMs > statSync(path).mtimeMs) {
    return missingRow(
      row,
      'stale',
      `test data changed since evaluation (${target.testDataPath} is newer than eval.json): run evaluate again`,
    );
  }
  return evaluatedRow(row, e, path);
}

export const NOT_EVALUATED = 'not evaluated yet (run evaluate)';

/** The comparison from whatever eval.json files exist, evaluating nothing. */
export function collectComparison(
  artifactRoot: string,
  manifest: TrainingManifest,
  now: Date,
  confine?: PathCheck,
): ComparisonFile {
  const refs = studyJobs(manifest, confine);
  const rows = refs.map((ref) => {
    const why = missingReason(ref);
    if (why) return missingRow(ref.row, why.state, why.reason);
    return existingRow(ref.row, targetOf(ref.entry as ManifestJob));
  });
  return buildComparison(resolve(artifactRoot), doseList(refs), viewList(), rows, now);
}

const doseList = (refs: StudyJobRef[]) => [...new Set(refs.map((r) => r.row.dose))];
const viewList = (): ViewName[] => matrixColumns().map((c) => c.view);

export async function evaluateStudy(opts: StudyEvalOptions): Promise<StudyEvalResult> {
  const root = resolve(opts.artifactRoot);
  const now = opts.now ?? (() => new Date());
  const manifest = requireManifest(root);
  removeStaleTempFiles(root); // comparison.* of an evaluation that was killed
  const refs = studyJobs(manifest, opts.confine);
  const wanted = opts.jobIds ? new Set(opts.jobIds) : null;
  if (wanted) {
    const unknown = [...wanted].filter((id) => !refs.some((r) => r.row.id === id));
    if (unknown.length) {
      throw new StudyError('NO_MATCH', `unknown job id ${unknown.join(', ')}`, {
        key: 'job',
        found: unknown,
        expected: refs.map((r) => r.row.id),
      });
    }
  }
  const reconstructor =
    opts.reconstructor === 'model'
      ? modelReconstructor({
          ...opts.inference,
          configOf: (id) => manifest.jobs.find((j) => j.id === id)?.config ?? null,
        })
      : opts.reconstructor;
  const rows: ComparisonRow[] = [];
  const evaluated: string[] = [];
  const upToDate: string[] = [];
  const summaries = new Map<string, Record<string, unknown>>();
  for (const ref of refs) {
    const why = missingReason(ref);
    if (why) {
      rows.push(missingRow(ref.row, why.state, why.reason));
      continue;
    }
    const target = targetOf(ref.entry as ManifestJob);
    if (wanted && !wanted.has(ref.row.id)) {
      rows.push(existingRow(ref.row, target));
      continue;
    }
    const fresh = opts.force ? null : upToDateEval(target, opts.alignment);
    if (fresh) {
      rows.push(evaluatedRow(ref.row, fresh, evalPathOf(target)));
      upToDate.push(ref.row.id);
      opts.onProgress?.(`${ref.row.id}: up to date (eval.json is newer than model.onnx and the test data)`);
      continue;
    }
    opts.onProgress?.(`evaluating ${ref.row.id}: ${evalNeededReason(target, opts.alignment)}`);
    try {
      const r = await evaluateJob(target, {
        reconstructor,
        reuseRecon: !opts.force,
        alignment: opts.alignment,
        now,
      });
      rows.push(evaluatedRow(ref.row, r.eval, evalPathOf(target)));
      evaluated.push(ref.row.id);
      summaries.set(ref.row.id, {
        eval_path: evalPathOf(target),
        recon_path: r.eval.recon_path,
        evaluated_at: r.eval.evaluated_at,
        amp_ssim: r.eval.metrics.amplitude.ssim,
        phase_ssim: r.eval.metrics.phase.ssim,
        phase_ms_ssim: r.eval.metrics.phase.ms_ssim,
        phase_mae: r.eval.metrics.phase.mae,
      });
      opts.onProgress?.(
        `${ref.row.id}: phase SSIM ${formatNumber(r.eval.metrics.phase.ssim, 4)}, phase MAE ${formatNumber(r.eval.metrics.phase.mae, 4)} rad, amplitude SSIM ${formatNumber(r.eval.metrics.amplitude.ssim, 4)}`,
      );
    } catch (e) {
      const message = e instanceof StudyError ? e.toLine() : e instanceof Error ? e.message : String(e);
      rows.push(missingRow(ref.row, 'eval_failed', message));
      opts.onProgress?.(`${ref.row.id}: evaluation failed: ${message}`);
    }
  }
  const comparison = buildComparison(root, doseList(refs), viewList(), rows, now());
  const files = await writeComparison(root, comparison);
  await recordJobEvaluations(root, summaries);
  return { comparison, files, evaluated, upToDate, missing: comparison.missing };
}

/**
 * A job's scores are up to date when its eval.json was written by this scoring (current
 * schema, with the constant-guess and ground-truth references) after both its model and its
 * test data last changed, and the reconstruction it scored is still there.
 */
export function upToDateEval(target: EvalTarget, alignment?: Partial<AlignmentOptions>): EvalFile | null {
  return evalNeededReason(target, alignment) === null ? readEvalFile(evalPathOf(target)) : null;
}

/** Why a job must be (re)scored, or null when its eval.json is up to date. */
export function evalNeededReason(target: EvalTarget, alignment?: Partial<AlignmentOptions>): string | null {
  const path = evalPathOf(target);
  if (!existsSync(path)) return 'never evaluated';
  const e = readEvalFile(path);
  if (!e) return 'eval.json is unreadable or from an older version of the scoring';
  if (!e.skill || !e.reference) return 'eval.json has no constant-guess skill (older scoring)';
  if (!existsSync(reconPathOf(target))) return 'recon.npz is missing';
  // Scored with other alignment settings? (The stitch crop defaults from the test data's N,
  // which a change of the test data below catches.)
  const recordedCrop = Number(e.parameters.stitch_crop_px);
  const wanted = scoringParameters({ ...DEFAULT_ALIGNMENT, stitchCrop: recordedCrop, ...alignment });
  if (JSON.stringify(JSON.parse(JSON.stringify(wanted))) !== JSON.stringify(e.parameters))
    return 'the scoring settings changed';
  const evalTime = statSync(path).mtimeMs;
  const modelPath = modelPathOf(target);
  if (existsSync(modelPath) && statSync(modelPath).mtimeMs > evalTime) return 'model.onnx changed (retrained)';
  if (existsSync(target.testDataPath) && statSync(target.testDataPath).mtimeMs > evalTime)
    return `test data changed: ${target.testDataPath}`;
  return null;
}
