/**
 * `training_manifest.json`: one per artifact root, the record of every job ever run under
 * it (merged by job id) and of every invocation (`runs[]`). The writer, the reader and the
 * UI all validate against this schema. Keys are snake_case as in the original study; every
 * path is an absolute string.
 */
import { z } from 'zod';
import { LegacyDict, ModelConfig, TrainingConfig } from './config';
import { JobFingerprint, SlurmJobRef } from './fingerprint';
import { Gridsize, type JobFiles, JobFilters, TrainingKnobs, ViewName } from './study';

export const MANIFEST_SCHEMA_VERSION = 1;
export const MANIFEST_FILE = 'training_manifest.json';
export const SKIP_SUMMARY_FILE = 'skip_summary.json';

/** The one status list (decisions.md). `planned` is what a dry run leaves behind. */
export const JOB_STATUSES = [
  'planned',
  'queued',
  'running',
  'done',
  'failed',
  'cancelled',
  'skipped',
  'diverged',
  'interrupted',
] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;

/** Statuses after which a job no longer changes by itself. */
export const FINAL_STATUSES: readonly JobStatus[] = [
  'planned',
  'done',
  'failed',
  'cancelled',
  'skipped',
  'diverged',
  'interrupted',
];
export function isFinalStatus(s: JobStatus): boolean {
  return FINAL_STATUSES.includes(s);
}

/** A runner's answer plus what the engine adds (timing). Extra runner fields are kept. */
export const JobResult = z
  .object({
    status: JobStatus,
    final_loss: z.number().nullable(),
    epochs_completed: z.number().int().nonnegative(),
    checkpoint_path: z.string().nullable(),
    model_path: z.string().nullable().optional(),
    model_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    model_bytes: z.number().int().nonnegative().optional(),
    error: z.string().optional(),
    dry_run: z.boolean().optional(),
    started_at: z.string().optional(),
    finished_at: z.string().optional(),
    duration_s: z.number().nonnegative().optional(),
  })
  .loose();
export type JobResult = z.infer<typeof JobResult>;

/** A job record's files as the manifest spells them: the one camelCase → snake_case conversion. */
export function manifestJobFiles(job: JobFiles) {
  return {
    id: job.id,
    dose: job.dose,
    view: job.view,
    gridsize: job.gridsize,
    train_data_path: job.trainDataPath,
    test_data_path: job.testDataPath,
    artifact_dir: job.artifactDir,
    log_path: job.logPath,
    events_path: job.eventsPath,
  };
}

/** The dry-run summary of seed 001, kept as the `plan` of a job. */
export const DryRunSummary = z.object({
  dose: z.number(),
  view: ViewName,
  gridsize: Gridsize,
  train_data_path: z.string(),
  test_data_path: z.string(),
  log_path: z.string(),
  artifact_dir: z.string(),
  dry_run: z.literal(true),
});
export type DryRunSummary = z.infer<typeof DryRunSummary>;

export const JobProgress = z.object({
  step: z.number().int().nonnegative().nullable(),
  total_steps: z.number().int().nonnegative().nullable(),
  epoch: z.number().int().nonnegative().nullable(),
  total_epochs: z.number().int().nonnegative().nullable(),
  eta_s: z.number().nonnegative().nullable(),
  last_loss: z.number().nullable(),
});
export type JobProgress = z.infer<typeof JobProgress>;

/**
 * Who is running a job: `pid` is the process that runs the study (CLI, server, app) on
 * `hostname`, `trainer_pid` the training worker it started there. A `running` job whose
 * processes are both gone becomes `interrupted`; one whose trainer still lives is never
 * started a second time.
 */
export const JobWorker = z.object({
  pid: z.number().int(),
  hostname: z.string(),
  run_id: z.string(),
  trainer_pid: z.number().int().nullable().optional(),
});
export type JobWorker = z.infer<typeof JobWorker>;

/**
 * A job's config as recorded. Loose, so that a manifest written by another version (a field
 * added or dropped since) still opens; the runner always gets a freshly resolved config.
 */
export const RecordedJobConfig = z.object({
  training: TrainingConfig.loose(),
  model: ModelConfig.loose(),
  legacy: LegacyDict,
  /** The execution provider the job actually ran on (`auto` resolved, or its CPU fallback). */
  accelerator_used: z.string().optional(),
});
export type RecordedJobConfig = z.infer<typeof RecordedJobConfig>;

/** Unknown keys are kept (loose) so that fields other modules add (e.g. evaluation) survive every rewrite. */
export const ManifestJob = z.looseObject({
  id: z.string(),
  dose: z.number(),
  view: ViewName,
  gridsize: Gridsize,
  train_data_path: z.string(),
  test_data_path: z.string(),
  artifact_dir: z.string(),
  log_path: z.string(),
  events_path: z.string(),
  status: JobStatus,
  dry_run: z.boolean(),
  run_id: z.string(),
  updated_at: z.string(),
  skip_reason: z.string().nullable(),
  missing_files: z.array(z.string()),
  knobs: TrainingKnobs,
  /** The full config as used (TrainingConfig + ModelConfig + the legacy dictionary); null when never resolved. */
  config: RecordedJobConfig.nullable(),
  result: JobResult.nullable(),
  progress: JobProgress.nullable(),
  worker: JobWorker.nullable(),
  /** Set when a later dry run planned this job again; its real outcome above is kept. */
  last_dry_run: z.object({ run_id: z.string(), planned_at: z.string() }).optional(),
  /** What the job was trained from (config, input hashes, code version, provider): decides if it is up to date. */
  fingerprint: JobFingerprint.optional(),
  /** The Slurm array task that runs (or ran) it. */
  slurm: SlurmJobRef.optional(),
});
export type ManifestJob = z.infer<typeof ManifestJob>;

export const SkippedView = z.object({
  dose: z.number(),
  view: ViewName,
  reason: z.string(),
  missing_files: z.array(z.string()),
});
export type SkippedView = z.infer<typeof SkippedView>;

export const RunStatus = z.enum(['running', 'done', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunRecord = z.object({
  run_id: z.string(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  /** Which front end started it. */
  source: z.enum(['cli', 'http', 'electron']),
  pid: z.number().int(),
  hostname: z.string(),
  filters: JobFilters,
  dry_run: z.boolean(),
  knobs: TrainingKnobs,
  job_ids: z.array(z.string()),
  status: RunStatus,
  /** The CLI exit code it ended with (0 all good, 1 a job failed, 130 cancelled); null while running. */
  exit_code: z.number().int().nullable(),
  /** A run handed to Slurm (the array job and its batch script), or one array task's own run. */
  slurm: z
    .object({
      job_id: z.string(),
      script: z.string().optional(),
      array_task_id: z.number().int().nonnegative().nullable().optional(),
    })
    .optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

export const TrainingManifest = z.looseObject({
  schema_version: z.literal(MANIFEST_SCHEMA_VERSION),
  /** The seed's top-level fields describe the latest invocation. */
  timestamp: z.string(),
  phase_c_root: z.string(),
  phase_d_root: z.string(),
  artifact_root: z.string(),
  filters: JobFilters,
  dry_run: z.boolean(),
  knobs: TrainingKnobs,
  design: z.object({ name: z.string(), neighbor_count: z.number().int(), doses: z.array(z.number()) }),
  skipped_views: z.array(SkippedView),
  skipped_count: z.number().int().nonnegative(),
  skip_summary_path: z.literal(SKIP_SUMMARY_FILE),
  jobs: z.array(ManifestJob),
  runs: z.array(RunRecord),
});
export type TrainingManifest = z.infer<typeof TrainingManifest>;

export const SkipSummary = z.object({
  timestamp: z.string(),
  skipped_views: z.array(SkippedView),
  skipped_count: z.number().int().nonnegative(),
});
export type SkipSummary = z.infer<typeof SkipSummary>;

/** Put jobs back in the study's order (dose, then baseline/dense/sparse) after a merge. */
export function sortManifestJobs(jobs: ManifestJob[]): ManifestJob[] {
  const viewOrder: Record<string, number> = { baseline: 0, dense: 1, sparse: 2 };
  return [...jobs].sort((a, b) => a.dose - b.dose || viewOrder[a.view] - viewOrder[b.view] || a.gridsize - b.gridsize);
}
