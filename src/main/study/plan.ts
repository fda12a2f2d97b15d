/**
 * The one front door for choosing jobs: enumerate the design's matrix, apply the filters
 * (counting after each, as the original printed), then the job ids, then check the data
 * under one missing-data policy. The CLI's `train` and `slurm submit`, the HTTP API and IPC
 * all plan through here (via StudyService), so a selection means the same everywhere.
 */
import { StudyError } from '../../shared/errors';
import { type JobFilters, NO_FILTERS, type StudyDesign } from '../../shared/study';
import {
  checkTrainingJobs,
  type FilterStep,
  filterJobs,
  type MissingDataPolicy,
  planTrainingJobs,
  type StudyRoots,
  type TrainingJob,
} from './jobs';

export interface StudyPlanRequest {
  roots: StudyRoots;
  design: StudyDesign;
  filters?: JobFilters;
  /** Only these job ids (after the filters); absent = every job the filters keep. */
  jobIds?: readonly string[];
  /** What an id that is not in the design does: refuse the request, or simply match nothing. */
  unknownJobIds?: 'refuse' | 'ignore';
  missingData: MissingDataPolicy;
  /** Told the matrix and the counts before the data is checked (the CLI prints them as it goes). */
  onPlanned?(plan: Omit<StudyPlan, 'jobs'>): void;
}

/** One filtering step and what remained after it; `job` is the job-id step. */
export type PlanStep = FilterStep | { filter: 'job'; value: string; remaining: number };

export interface StudyPlan {
  /** The whole matrix of the design, in study order. */
  all: TrainingJob[];
  /** After the filters and the ids, before the data check. */
  selected: TrainingJob[];
  steps: PlanStep[];
  /** The selection with its data checked: a job whose data is missing carries `skipReason`. */
  jobs: TrainingJob[];
}

export function planStudyJobs(request: StudyPlanRequest): StudyPlan {
  const all = planTrainingJobs(request.roots, request.design);
  const filtered = filterJobs(all, request.filters ?? NO_FILTERS);
  const steps: PlanStep[] = [...filtered.steps];
  let selected = filtered.jobs;
  if (request.jobIds) {
    const unknown = request.jobIds.filter((id) => !all.some((j) => j.id === id));
    if (unknown.length && (request.unknownJobIds ?? 'refuse') === 'refuse') {
      throw new StudyError('BAD_INPUT', `unknown job id(s): ${unknown.join(', ')}`, {
        key: 'jobIds',
        found: unknown,
        expected: all.map((j) => j.id),
      });
    }
    const wanted = new Set(request.jobIds);
    selected = selected.filter((j) => wanted.has(j.id));
    steps.push({ filter: 'job', value: request.jobIds.join(','), remaining: selected.length });
  }
  request.onPlanned?.({ all, selected, steps });
  return { all, selected, steps, jobs: checkTrainingJobs(selected, { missingData: request.missingData }) };
}
