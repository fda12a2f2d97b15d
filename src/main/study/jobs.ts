/**
 * The Phase E job matrix: one TrainingJob per (dose, view) of the design, with the paths
 * the data phases really write and the artifact folder the job trains into. Planning never
 * touches the disk; checking data is a separate, explicit step so filters apply first
 * (the original demanded every dose's files even when one dose was asked for).
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StudyError } from '../../shared/errors';
import type { SkippedView } from '../../shared/manifest';
import {
  defaultStudyDesign,
  doseFolder,
  type JobFiles,
  type JobFilters,
  jobMatrix,
  matrixColumns,
  NO_FILTERS,
  type StudyDesign,
  VIEW_SOURCE,
  type ViewName,
} from '../../shared/study';

/** The one job record: its identity and files (JobFiles, what crosses a boundary) plus its data check. */
export interface TrainingJob extends JobFiles {
  /** Set when the job's data is absent and it was allowed to be: the job is recorded as skipped. */
  skipReason: string | null;
  missingFiles: string[];
}

export interface StudyRoots {
  phaseCRoot: string;
  phaseDRoot: string;
  artifactRoot: string;
}

export const TRAIN_LOG = 'train.log';
export const EVENTS_FILE = 'events.jsonl';

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Phase D's nested layout, with the later overlap CLI's `train.npz`/`test.npz` names accepted too. */
function phaseDPaths(phaseDRoot: string, dose: number, view: ViewName): [string, string] {
  const dir = join(phaseDRoot, doseFolder(dose), view);
  const named: [string, string] = [join(dir, `${view}_train.npz`), join(dir, `${view}_test.npz`)];
  const plain: [string, string] = [join(dir, 'train.npz'), join(dir, 'test.npz')];
  if (!isFile(named[0]) && !isFile(named[1]) && isFile(plain[0]) && isFile(plain[1])) return plain;
  return named;
}

/** All jobs of the design in study order (per dose: baseline, dense, sparse). No disk checks. */
export function planTrainingJobs(roots: StudyRoots, design: StudyDesign = defaultStudyDesign()): TrainingJob[] {
  const phaseC = resolve(roots.phaseCRoot);
  const phaseD = resolve(roots.phaseDRoot);
  const artifacts = resolve(roots.artifactRoot);
  return jobMatrix(design.doses, matrixColumns(design.views)).map((cell) => {
    const { dose, view, gridsize } = cell;
    const [trainDataPath, testDataPath] =
      VIEW_SOURCE[view] === 'phase_c'
        ? [join(phaseC, doseFolder(dose), 'patched_train.npz'), join(phaseC, doseFolder(dose), 'patched_test.npz')]
        : phaseDPaths(phaseD, dose, view);
    const artifactDir = join(artifacts, doseFolder(dose), view, `gs${gridsize}`);
    return {
      ...cell,
      trainDataPath,
      testDataPath,
      artifactDir,
      logPath: join(artifactDir, TRAIN_LOG),
      eventsPath: join(artifactDir, EVENTS_FILE),
      skipReason: null,
      missingFiles: [],
    };
  });
}

export function missingDataFiles(job: TrainingJob): string[] {
  return [job.trainDataPath, job.testDataPath].filter((p) => !isFile(p));
}

/**
 * The one missing-data rule. Data is checked after the selection, never before (so one dose
 * can train without the others' files). A job whose data is missing is:
 * - `refuse`: an error naming the first missing file (the CLI's default);
 * - `skip-phase-d`: recorded as skipped when it is a dense/sparse view, an error for a
 *   baseline (the CLI's `--allow-missing-phase-d`, the original's escape hatch);
 * - `skip`: recorded as skipped with its missing files, whatever its view (an explicit pick in
 *   the workbench, where each skip is shown beside the job).
 */
export type MissingDataPolicy = 'refuse' | 'skip-phase-d' | 'skip';

export interface CheckOptions {
  missingData?: MissingDataPolicy;
}

function mayBeMissing(job: TrainingJob, policy: MissingDataPolicy): boolean {
  return policy === 'skip' || (policy === 'skip-phase-d' && job.view !== 'baseline');
}

/**
 * Existence checks (contents are the trainer's business). Refused: the first missing file
 * is an error naming it. Allowed: the job comes back with `skipReason` and `missingFiles`.
 */
export function checkTrainingJobs(jobs: TrainingJob[], options: CheckOptions = {}): TrainingJob[] {
  const policy = options.missingData ?? 'refuse';
  return jobs.map((job) => {
    const missing = missingDataFiles(job);
    if (missing.length === 0) return job;
    if (!mayBeMissing(job, policy)) {
      const which = missing[0] === job.trainDataPath ? 'Training' : 'Test';
      throw new StudyError('NOT_FOUND', `${which} dataset not found: ${missing[0]}`, {
        file: missing[0],
        key: job.id,
        hint:
          job.view === 'baseline'
            ? 'generate Phase C data first (ptycho-study simulate)'
            : 'derive the Phase D views first (ptycho-study overlap), or pass --allow-missing-phase-d to skip them',
      });
    }
    const phase = job.view === 'baseline' ? 'Phase C' : 'Phase D';
    return {
      ...job,
      skipReason: `${phase} data for ${job.view} at dose ${Math.trunc(job.dose)} is missing: ${missing.join(', ')}`,
      missingFiles: missing,
    };
  });
}

/** `build_training_jobs` of the original: plan the matrix, then check every job's data. */
export function buildTrainingJobs(
  phaseCRoot: string,
  phaseDRoot: string,
  artifactRoot: string,
  design: StudyDesign = defaultStudyDesign(),
  options: CheckOptions = {},
): TrainingJob[] {
  return checkTrainingJobs(planTrainingJobs({ phaseCRoot, phaseDRoot, artifactRoot }, design), options);
}

export interface FilterStep {
  filter: keyof JobFilters;
  value: number | string;
  remaining: number;
}

/** Apply the CLI filters in the seed's order (dose, view, gridsize), counting after each. */
export function filterJobs(
  jobs: TrainingJob[],
  filters: JobFilters = NO_FILTERS,
): { jobs: TrainingJob[]; steps: FilterStep[] } {
  let selected = jobs;
  const steps: FilterStep[] = [];
  if (filters.dose !== null) {
    const dose = filters.dose;
    selected = selected.filter((j) => j.dose === dose);
    steps.push({ filter: 'dose', value: dose, remaining: selected.length });
  }
  if (filters.view !== null) {
    const view = filters.view;
    selected = selected.filter((j) => j.view === view);
    steps.push({ filter: 'view', value: view, remaining: selected.length });
  }
  if (filters.gridsize !== null) {
    const g = filters.gridsize;
    selected = selected.filter((j) => j.gridsize === g);
    steps.push({ filter: 'gridsize', value: g, remaining: selected.length });
  }
  return { jobs: selected, steps };
}

export function skippedViews(jobs: TrainingJob[]): SkippedView[] {
  return jobs
    .filter((j) => j.skipReason !== null)
    .map((j) => ({ dose: j.dose, view: j.view, reason: j.skipReason ?? '', missing_files: j.missingFiles }));
}
