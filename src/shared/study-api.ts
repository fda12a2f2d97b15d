/**
 * The study part of the WorkbenchApi: list the job matrix for a set of roots (with each
 * job's data status and latest manifest state), run / dry-run / cancel a selection, and
 * read what is on disk (manifest, skip summary, a job's events and log). Spread into
 * `apiMethods` / `apiEvents` in api.ts.
 */
import { z } from 'zod';
import { TrainEvent } from './events';
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
export const PlanJobsOutput = z.object({ jobs: z.array(JobFreshness) });
export type PlanJobsOutput = z.infer<typeof PlanJobsOutput>;

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
    types: z.array(z.enum(['step', 'epoch', 'status', 'progress', 'log'])).optional(),
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

export const studyApiMethods = {
  getStudyRoots: { input: z.object({}).strict(), output: StudyRootsInfo },
  listJobs: { input: StudyRootsInput, output: ListJobsOutput },
  runJobs: { input: RunJobsInput, output: RunJobsOutput },
  planJobs: { input: PlanJobsInput, output: PlanJobsOutput },
  cancelJobs: { input: CancelJobsInput, output: CancelJobsOutput },
  readManifest: { input: ReadManifestInput, output: ReadManifestOutput },
  readJobEvents: { input: ReadJobEventsInput, output: ReadJobEventsOutput },
  readJobLog: { input: ReadJobLogInput, output: ReadJobLogOutput },
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
