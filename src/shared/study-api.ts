/**
 * The study part of the WorkbenchApi: list the job matrix for a set of roots (with each
 * job's data status and latest manifest state), run / dry-run / cancel a selection, and
 * read what is on disk (manifest, skip summary, a job's events and log). Spread into
 * `apiMethods` / `apiEvents` in api.ts.
 */
import { z } from 'zod';
import { TRAIN_EVENT_TYPES, TrainEvent } from './events';
import { JobStop } from './job-stop';
import { JobFreshness } from './fingerprint';
import { JobProgress, JobStatus, ManifestJob, RunStatus, SkipSummary, TrainingManifest } from './manifest';
import { JobFiles, JobId, TrainingKnobsInput } from './study';

/** Roots as the user typed them; absent = the workspace defaults. Browser mode confines them to the workspace. */
export const StudyRootsInput = z
  .object({
    phaseCRoot: z.string().min(1).optional(),
    phaseDRoot: z.string().min(1).optional(),
    artifactRoot: z.string().min(1).optional(),
  })
  .strict();
export type StudyRootsInput = z.infer<typeof StudyRootsInput>;

export const ResolvedStudyRoots = z.object({
  phaseCRoot: z.string(),
  phaseDRoot: z.string(),
  artifactRoot: z.string(),
});
export type ResolvedStudyRoots = z.infer<typeof ResolvedStudyRoots>;

export const StudyRootsInfo = ResolvedStudyRoots.extend({
  workspace: z.string().nullable(),
  /** True in browser mode: every root must lie inside the workspace. */
  confined: z.boolean(),
});
export type StudyRootsInfo = z.infer<typeof StudyRootsInfo>;

export const JobListing = JobFiles.extend({
  data: z.object({ status: z.enum(['ready', 'missing']), missingFiles: z.array(z.string()) }),
  /** The job's latest entry in the manifest of this artifact root; null if never run there. */
  state: ManifestJob.nullable(),
  /** Queued or running in a live run of this service. */
  active: z.boolean(),
  /** Whether a run would train it and why ("up to date", "will run: config changed: …"); null when its data is missing. */
  freshness: JobFreshness.nullable().optional(),
  /** Why and where it stopped (cancelled / failed / diverged / interrupted); null otherwise. */
  stop: JobStop.nullable().optional(),
  /** It stopped and its checkpoint is on disk: `resumeJobs` continues it. */
  resumable: z.boolean().optional(),
});
export type JobListing = z.infer<typeof JobListing>;

export const ListJobsOutput = z.object({
  roots: ResolvedStudyRoots,
  doses: z.array(z.number()),
  jobs: z.array(JobListing),
  manifestPath: z.string(),
  hasManifest: z.boolean(),
  /** Why the manifest could not be read (the jobs are still listed, without state). */
  manifestError: z.string().nullable(),
});
export type ListJobsOutput = z.infer<typeof ListJobsOutput>;

/** The `slurm submit` options a run handed to Slurm takes (see `ptycho-study slurm submit --help`). */
export const SlurmSubmitOptions = z
  .object({
    partition: z.string().min(1).optional(),
    time: z.string().min(1).optional(),
    gres: z.string().min(1).optional(),
    cpusPerTask: z.number().int().positive().optional(),
    mem: z.string().min(1).optional(),
    maxParallel: z.number().int().positive().optional(),
    account: z.string().min(1).optional(),
    extra: z
      .array(
        z
          .string()
          .min(1)
          .regex(/^[^\r\n]*$/, 'one line'),
      )
      .optional(),
  })
  .strict();
export type SlurmSubmitOptions = z.infer<typeof SlurmSubmitOptions>;

export const RunJobsInput = z
  .object({
    roots: StudyRootsInput.default({}),
    jobIds: z.array(JobId).min(1),
    dryRun: z.boolean().default(false),
    knobs: TrainingKnobsInput.default({}),
    /** Train the selected jobs even when they are up to date. */
    force: z.boolean().default(false),
    /** `local`: this machine's queue; `slurm`: one Slurm job array (`slurm submit`). */
    runOn: z.enum(['local', 'slurm']).default('local'),
    slurm: SlurmSubmitOptions.default({}),
  })
  .strict();

export const RunJobsOutput = z.object({
  runId: z.string(),
  artifactRoot: z.string(),
  manifestPath: z.string(),
  jobIds: z.array(z.string()),
  dryRun: z.boolean(),
  /** Selected jobs left out because they are up to date. */
  upToDate: z.array(z.string()).optional(),
  /** The Slurm array job, for a run handed to Slurm. */
  slurmJobId: z.string().nullable().optional(),
});
export type RunJobsOutput = z.infer<typeof RunJobsOutput>;

/** The workbench plan: for each selected job, whether a run with these knobs would train it and why. */
export const PlanJobsInput = z
  .object({
    roots: StudyRootsInput.default({}),
    jobIds: z.array(JobId).min(1),
    knobs: TrainingKnobsInput.default({}),
    force: z.boolean().default(false),
  })
  .strict();
export const PlanJobsOutput = z.object({
  jobs: z.array(JobFreshness),
  /** Sum over the jobs that would train (each one's `plan`); absent when nothing could be estimated. */
  total: z
    .object({
      jobs: z.number().int().nonnegative(),
      totalSteps: z.number().int().nonnegative(),
      seconds: z.number().nonnegative(),
    })
    .optional(),
});
export type PlanJobsOutput = z.infer<typeof PlanJobsOutput>;

/**
 * Continue stopped jobs (cancelled, interrupted, failed, diverged) from their checkpoints,
 * the same path as `train --resume`: the curve continues (the new attempt's steps follow
 * the checkpoint's) and the knobs the job was trained with are reused. Jobs that cannot be
 * resumed (no checkpoint on disk, not stopped, running) are listed in `notResumed` with the
 * reason; the others start as one run.
 */
export const ResumeJobsInput = z
  .object({
    roots: StudyRootsInput.default({}),
    jobIds: z.array(JobId).min(1),
  })
  .strict();
export const ResumeJobsOutput = RunJobsOutput.extend({
  /** One run per set of knobs the jobs were trained with (`runId` is the first); empty when none resumed. */
  runIds: z.array(z.string()),
  notResumed: z.array(z.object({ jobId: z.string(), reason: z.string() })),
});
export type ResumeJobsOutput = z.infer<typeof ResumeJobsOutput>;

export const CancelJobsInput = z.union([
  z.object({ jobIds: z.array(JobId).min(1) }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);
export const CancelJobsOutput = z.object({ cancelled: z.array(z.string()) });

export const ReadManifestInput = z.object({ artifactRoot: z.string().min(1).optional() }).strict();
export const ReadManifestOutput = z.object({
  path: z.string(),
  manifest: TrainingManifest.nullable(),
  raw: z.string().nullable(),
  skipSummary: SkipSummary.nullable(),
  skipSummaryRaw: z.string().nullable(),
});
export type ReadManifestOutput = z.infer<typeof ReadManifestOutput>;

export const ReadJobEventsInput = z
  .object({
    artifactRoot: z.string().min(1).optional(),
    jobId: JobId,
    /** Read from this byte offset (a previous answer's `nextByte`) to fetch only what was appended. */
    fromByte: z.number().int().nonnegative().default(0),
    /** Only these event types (e.g. ['epoch'] for a long run's coarse curve). */
    types: z.array(z.enum(TRAIN_EVENT_TYPES)).optional(),
    /** Read one attempt's own events (an `attemptId` from `listJobAttempts`) instead of the job's current curve. */
    attemptId: z.string().min(1).optional(),
  })
  .strict();
export const ReadJobEventsOutput = z.object({
  path: z.string(),
  events: z.array(TrainEvent),
  /** Lines that were not valid events (e.g. a line garbled by a crash). */
  skippedLines: z.number().int().nonnegative(),
  /** Offset just after the last complete line read; pass it as `fromByte` next time. */
  nextByte: z.number().int().nonnegative(),
});
export type ReadJobEventsOutput = z.infer<typeof ReadJobEventsOutput>;

export const ReadJobLogInput = z
  .object({
    artifactRoot: z.string().min(1).optional(),
    jobId: JobId,
    tailBytes: z
      .number()
      .int()
      .positive()
      .max(4 << 20)
      .default(64 << 10),
  })
  .strict();
export const ReadJobLogOutput = z.object({
  path: z.string(),
  text: z.string(),
  size: z.number().int().nonnegative(),
  truncated: z.boolean(),
  exists: z.boolean(),
});
export type ReadJobLogOutput = z.infer<typeof ReadJobLogOutput>;

/**
 * Every run of a job is an attempt with its own curve in `runs/<attemptId>/events.jsonl`
 * under the job's folder. Artifact roots written before attempts were kept list what they
 * have: the previous runs' events (`events.history.jsonl`) as one attempt with id `history`,
 * and the events of the current `events.jsonl` that no attempt folder holds as `current`
 * (all of it for an old job; its earlier part once an old job was resumed).
 */
export const JobAttempt = z.object({
  attemptId: z.string(),
  /** The study run that started it, when known (the manifest's `runs[].run_id`). */
  runId: z.string().nullable(),
  startedAt: z.string().nullable(),
  /** Time of its last event. */
  endedAt: z.string().nullable(),
  /** Its last status event (`done`, `cancelled`, `failed`, …); `running` while the job trains it; null when unknown. */
  status: z.string().nullable(),
  /** It continued a checkpoint (resume). */
  resumed: z.boolean(),
  /** Steps at its start (the checkpoint's step for a resume, 0 for a fresh run) and at its last event. */
  firstStep: z.number().int().nonnegative().nullable(),
  lastStep: z.number().int().nonnegative().nullable(),
  /** Epochs completed at its last epoch event. */
  epochsCompleted: z.number().int().nonnegative().nullable(),
  /** The attempt's curve is the job's current one (`events.jsonl`). */
  current: z.boolean(),
  path: z.string(),
});
export type JobAttempt = z.infer<typeof JobAttempt>;

export const ListJobAttemptsInput = z.object({ artifactRoot: z.string().min(1).optional(), jobId: JobId }).strict();
/** Oldest first. */
export const ListJobAttemptsOutput = z.object({ attempts: z.array(JobAttempt) });
export type ListJobAttemptsOutput = z.infer<typeof ListJobAttemptsOutput>;

/** A preview written after an epoch (see the `preview` training event). */
export const JobPreview = z.object({
  /** 0-based, as in epoch events. */
  epoch: z.number().int().nonnegative(),
  step: z.number().int().nonnegative().nullable(),
  /** Relative to the job's artifact folder, e.g. `previews/epoch_3.png`. */
  file: z.string(),
  bytes: z.number().int().nonnegative(),
  time: z.string().nullable(),
});
export type JobPreview = z.infer<typeof JobPreview>;

export const ListJobPreviewsInput = z.object({ artifactRoot: z.string().min(1).optional(), jobId: JobId }).strict();
export const ListJobPreviewsOutput = z.object({
  /** Oldest epoch first; a resumed job's previews continue its epochs. */
  previews: z.array(JobPreview),
  /** The group every preview shows (its index among the job's groups); null before the first preview. */
  group: z.number().int().nonnegative().nullable(),
  /** What the image shows, left to right (e.g. ['amplitude', 'phase', 'true amplitude', 'true phase']). */
  panels: z.array(z.string()),
});
export type ListJobPreviewsOutput = z.infer<typeof ListJobPreviewsOutput>;

export const ReadJobPreviewInput = z
  .object({
    artifactRoot: z.string().min(1).optional(),
    jobId: JobId,
    /** 0-based epoch; absent = the latest preview. */
    epoch: z.number().int().nonnegative().optional(),
  })
  .strict();
export const ReadJobPreviewOutput = JobPreview.extend({
  mime: z.literal('image/png'),
  /** The PNG, base64-encoded (a few KB): `data:image/png;base64,${base64}` is a ready `src`. */
  base64: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type ReadJobPreviewOutput = z.infer<typeof ReadJobPreviewOutput>;

export const studyApiMethods = {
  getStudyRoots: { input: z.object({}).strict(), output: StudyRootsInfo },
  listJobs: { input: StudyRootsInput, output: ListJobsOutput },
  runJobs: { input: RunJobsInput, output: RunJobsOutput },
  planJobs: { input: PlanJobsInput, output: PlanJobsOutput },
  cancelJobs: { input: CancelJobsInput, output: CancelJobsOutput },
  readManifest: { input: ReadManifestInput, output: ReadManifestOutput },
  readJobEvents: { input: ReadJobEventsInput, output: ReadJobEventsOutput },
  readJobLog: { input: ReadJobLogInput, output: ReadJobLogOutput },
  resumeJobs: { input: ResumeJobsInput, output: ResumeJobsOutput },
  listJobAttempts: { input: ListJobAttemptsInput, output: ListJobAttemptsOutput },
  listJobPreviews: { input: ListJobPreviewsInput, output: ListJobPreviewsOutput },
  readJobPreview: { input: ReadJobPreviewInput, output: ReadJobPreviewOutput },
} as const;

export const JobStateEvent = z.object({
  artifactRoot: z.string(),
  runId: z.string(),
  jobId: z.string(),
  status: JobStatus,
  progress: JobProgress.nullable(),
  finalLoss: z.number().nullable(),
  error: z.string().nullable(),
  errorCode: z.string().nullable(),
  skipReason: z.string().nullable(),
  /** 1-based position in its run's queue, and the queue length. */
  index: z.number().int().positive(),
  total: z.number().int().positive(),
  /** Why and where it stopped, for cancelled / failed / diverged / interrupted; null otherwise. */
  stop: JobStop.nullable().optional(),
  /** It stopped with a checkpoint on disk (`resumeJobs` can continue it). */
  resumable: z.boolean().optional(),
  /**
   * `run`: a run of this service; `manifest`: read from the artifact root's manifest after
   * another process (a CLI run, another window) changed it — the service watches the
   * manifest of every artifact root `listJobs` opened. `entry` is then the job's manifest entry.
   */
  source: z.enum(['run', 'manifest']).optional(),
  entry: ManifestJob.optional(),
});
export type JobStateEvent = z.infer<typeof JobStateEvent>;

/** Training events of one job, batched (at most ~20 batches a second per job); nothing is dropped. */
export const TrainEventBatch = z.object({
  artifactRoot: z.string(),
  runId: z.string(),
  jobId: z.string(),
  events: z.array(TrainEvent),
});
export type TrainEventBatch = z.infer<typeof TrainEventBatch>;

export const RunStateEvent = z.object({
  artifactRoot: z.string(),
  runId: z.string(),
  status: RunStatus,
  exitCode: z.number().int().nullable(),
  jobIds: z.array(z.string()),
  dryRun: z.boolean(),
  /** Each job's own outcome: cancelling one job of four leaves the other three as they ended. */
  outcomes: z.array(z.object({ jobId: z.string(), status: JobStatus })).default([]),
});
export type RunStateEvent = z.infer<typeof RunStateEvent>;

export const studyApiEvents = {
  jobState: JobStateEvent,
  trainEvent: TrainEventBatch,
  runState: RunStateEvent,
} as const;
