/**
 * `slurm submit`: the selected jobs that are not up to date become one Slurm job array.
 * The script is written to `<artifact_root>/slurm/<run_id>.sbatch` and submitted; the run
 * (in `runs[]`) and each job (queued, with its array task) record the Slurm job id, so
 * `slurm status`, `slurm cancel` and the workbench can follow them.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { StudyError } from '../../shared/errors';
import {
  MANIFEST_SCHEMA_VERSION,
  type ManifestJob,
  type RunRecord,
  SKIP_SUMMARY_FILE,
  type TrainingManifest,
} from '../../shared/manifest';
import { defaultStudyDesign, type JobFilters, type StudyDesign, type TrainingKnobs } from '../../shared/study';
import { writeFileAtomicSync } from '../data/atomic';
import { packageRoot } from '../paths';
import type { StudyRoots, TrainingJob } from '../study/jobs';
import { mergeJobs, readManifestFile, updateManifest } from '../study/manifest-store';
import { jobOwnerAlive } from '../study/recover';
import { manifestJob, newRunId } from '../study/study-run';
import { freshnessOf, type StaleSelection, selectStaleJobs } from '../study/up-to-date';
import { type RunCommand, runCommand, sbatch } from './commands';
import { buildSlurmScript, type SlurmResources } from './script';

export interface SubmitRequest {
  roots: StudyRoots;
  design: StudyDesign;
  studyFile?: string;
  /** Selected jobs, data checked; jobs with `skipReason` are left out of the array. */
  jobs: TrainingJob[];
  filters: JobFilters;
  knobs: TrainingKnobs;
  resources: SlurmResources;
  force?: boolean;
  deep?: boolean;
  dryRun?: boolean;
  workdir?: string;
}

export interface SubmitOutcome {
  runId: string;
  script: string;
  scriptPath: string;
  /** Jobs in the array, in task order. */
  jobIds: string[];
  upToDate: string[];
  skipped: TrainingJob[];
  selection: StaleSelection;
  /** Null for a dry run or when nothing needed to run. */
  slurmJobId: string | null;
}

export function slurmDir(artifactRoot: string): string {
  return join(resolve(artifactRoot), 'slurm');
}

function queuedEntry(
  job: TrainingJob,
  before: ManifestJob | undefined,
  runId: string,
  knobs: TrainingKnobs,
  slurm: ManifestJob['slurm'],
  now: string,
): ManifestJob {
  const base: ManifestJob =
    before ?? manifestJob(job, { status: 'queued', dry_run: false, run_id: runId, knobs, config: null });
  return {
    ...base,
    status: 'queued',
    dry_run: false,
    run_id: runId,
    knobs,
    updated_at: now,
    progress: null,
    worker: null,
    slurm,
  };
}

/** A job another process (or an earlier submit) is training or holding in a queue is not submitted again. */
function refuseLiveJobs(artifactRoot: string, jobs: TrainingJob[]): void {
  const manifest = readManifestFile(artifactRoot).manifest;
  if (!manifest) return;
  const ids = new Set(jobs.map((j) => j.id));
  for (const j of manifest.jobs) {
    if (!ids.has(j.id) || (j.status !== 'running' && j.status !== 'queued')) continue;
    if (!jobOwnerAlive(manifest, j)) continue;
    throw new StudyError('LOCKED', `job ${j.id} is already ${j.status} in run ${j.run_id}`, {
      key: j.id,
      found: j.slurm
        ? `Slurm job ${j.slurm.job_id}_${j.slurm.array_task_id}`
        : `pid ${j.worker?.pid} on ${j.worker?.hostname}`,
      hint: j.slurm ? 'ptycho-study slurm cancel, or wait for it' : 'cancel it first, or wait for it to finish',
    });
  }
}

export async function submitToSlurm(req: SubmitRequest, run: RunCommand = runCommand): Promise<SubmitOutcome> {
  const roots = {
    phaseCRoot: resolve(req.roots.phaseCRoot),
    phaseDRoot: resolve(req.roots.phaseDRoot),
    artifactRoot: resolve(req.roots.artifactRoot),
  };
  const runId = newRunId();
  refuseLiveJobs(roots.artifactRoot, req.jobs);
  const skipped = req.jobs.filter((j) => j.skipReason);
  const selection = selectStaleJobs(
    req.jobs.filter((j) => !j.skipReason),
    { roots, design: req.design, knobs: req.knobs, force: req.force, deep: req.deep },
  );
  const jobIds = selection.jobs.map((j) => j.id);
  const outputDir = slurmDir(roots.artifactRoot);
  const scriptPath = join(outputDir, `${runId}.sbatch`);
  // The tasks must train the same design: one given as a file is passed on; any other that is
  // not the default is written beside the script.
  const customDesign = !req.studyFile && JSON.stringify(req.design) !== JSON.stringify(defaultStudyDesign());
  const studyFile = req.studyFile
    ? resolve(req.studyFile)
    : customDesign
      ? join(outputDir, `${runId}.study.json`)
      : undefined;
  const script =
    jobIds.length === 0
      ? ''
      : buildSlurmScript({
          runId,
          jobIds,
          workdir: resolve(req.workdir ?? process.cwd()),
          outputDir,
          cli: [process.execPath, join(packageRoot(), 'bin', 'ptycho-study.mjs')],
          roots,
          studyFile,
          knobs: req.knobs,
          force: req.force,
          resources: req.resources,
        });
  const outcome: SubmitOutcome = {
    runId,
    script,
    scriptPath,
    jobIds,
    upToDate: selection.upToDate.map((j) => j.id),
    skipped,
    selection,
    slurmJobId: null,
  };
  if (req.dryRun || jobIds.length === 0) return outcome;

  mkdirSync(outputDir, { recursive: true });
  if (customDesign && studyFile) writeFileAtomicSync(studyFile, `${JSON.stringify(req.design, null, 2)}\n`);
  writeFileAtomicSync(scriptPath, script);
  const slurmJobId = sbatch(scriptPath, run);
  outcome.slurmJobId = slurmJobId;
  const now = new Date().toISOString();
  await updateManifest(roots.artifactRoot, (current: TrainingManifest | null) => {
    const previous = new Map((current?.jobs ?? []).map((j) => [j.id, j]));
    const queued = selection.jobs.map((job, i) =>
      queuedEntry(
        job,
        previous.get(job.id),
        runId,
        req.knobs,
        {
          job_id: slurmJobId,
          array_task_id: i,
          state: 'PENDING',
          reason: null,
          node: null,
          submitted_at: now,
        },
        now,
      ),
    );
    const record: RunRecord = {
      run_id: runId,
      started_at: now,
      finished_at: null,
      source: 'cli',
      pid: process.pid,
      hostname: hostname(),
      filters: req.filters,
      dry_run: false,
      knobs: req.knobs,
      job_ids: jobIds,
      status: 'running',
      exit_code: null,
      slurm: { job_id: slurmJobId, script: scriptPath },
    };
    return {
      ...current,
      schema_version: MANIFEST_SCHEMA_VERSION,
      timestamp: now,
      phase_c_root: roots.phaseCRoot,
      phase_d_root: roots.phaseDRoot,
      artifact_root: roots.artifactRoot,
      filters: req.filters,
      dry_run: false,
      knobs: req.knobs,
      design: { name: req.design.name, neighbor_count: req.design.neighbor_count, doses: req.design.doses },
      skipped_views: current?.skipped_views ?? [],
      skipped_count: current?.skipped_count ?? 0,
      skip_summary_path: SKIP_SUMMARY_FILE,
      jobs: mergeJobs(current?.jobs ?? [], queued),
      runs: [...(current?.runs ?? []), record],
    };
  });
  return outcome;
}

export { freshnessOf };
