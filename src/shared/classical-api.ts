/**
 * The classical arm's part of the WorkbenchApi: start a classical reconstruction of the
 * selected (dose, view)s, cancel it, and read its state — the summary, every job's data-fit
 * error per iteration (the live curve) and what is running. Spread into api.ts.
 */
import { z } from 'zod';
import { ClassicalAlgorithm, ClassicalFile } from './classical';
import { ViewName } from './study';

/** The range of `iterations` (the Classical row's field says it). */
export const CLASSICAL_ITERATIONS = { min: 1, max: 10_000 } as const;

const Roots = {
  phaseCRoot: z.string().min(1).optional(),
  phaseDRoot: z.string().min(1).optional(),
  artifactRoot: z.string().min(1).optional(),
};

export const ReconstructClassicalInput = z
  .object({
    ...Roots,
    /** Only this dose / view (null or absent = all of the design). */
    dose: z.number().positive().nullable().optional(),
    view: ViewName.nullable().optional(),
    algorithm: ClassicalAlgorithm.optional(),
    iterations: z.number().int().min(CLASSICAL_ITERATIONS.min).max(CLASSICAL_ITERATIONS.max).optional(),
    probeUpdate: z.boolean().optional(),
    /** LSQML only: the total-variation prior's MAP weight (`reconstruct --tv`; 5e-5 recommended; 0 = none). */
    tv: z.number().finite().nonnegative().optional(),
    /**
     * Continue each job from its recon.npz (a cancelled or interrupted run, or more iterations).
     * Settings left out are taken from what the recon.npz was made with.
     */
    resume: z.boolean().optional(),
  })
  .strict();
export type ReconstructClassicalInput = z.infer<typeof ReconstructClassicalInput>;

export const ReconstructClassicalOutput = z.object({
  runId: z.string(),
  artifactRoot: z.string(),
  jobIds: z.array(z.string()),
});

/** One run, or every run of one artifact root, or (neither given) every classical run. */
export const CancelClassicalInput = z
  .object({ runId: z.string().optional(), artifactRoot: z.string().min(1).optional() })
  .strict();
export const CancelClassicalOutput = z.object({ cancelled: z.boolean() });

/** `interrupted`: its events say it started, but the process reconstructing it is gone (resume continues it). */
export const ClassicalState = z.enum(['queued', 'running', 'done', 'cancelled', 'failed', 'missing', 'interrupted']);
export type ClassicalState = z.infer<typeof ClassicalState>;

export const ClassicalJobView = z.object({
  jobId: z.string(),
  dose: z.number(),
  view: ViewName,
  state: ClassicalState.nullable(),
  /** Data-fit error per iteration (the live curve), from the job's events.jsonl. */
  errors: z.array(z.number()),
  /** The iterations its latest run was asked for (what a resume continues to), when known. */
  target: z.number().int().nullable(),
  /** It stopped short (cancelled or interrupted) and can be resumed. */
  resumable: z.boolean(),
});

export const GetClassicalInput = z.object({ artifactRoot: z.string().min(1).optional() }).strict();
export const GetClassicalOutput = z.object({
  artifactRoot: z.string(),
  file: ClassicalFile.nullable(),
  jobs: z.array(ClassicalJobView),
  running: z.object({ runId: z.string(), jobId: z.string().nullable() }).nullable(),
});
export type GetClassicalOutput = z.infer<typeof GetClassicalOutput>;

export const classicalApiMethods = {
  reconstructClassical: { input: ReconstructClassicalInput, output: ReconstructClassicalOutput },
  cancelClassical: { input: CancelClassicalInput, output: CancelClassicalOutput },
  getClassical: { input: GetClassicalInput, output: GetClassicalOutput },
} as const;

/** One iteration or state change of a running classical job. */
export const ClassicalProgressEvent = z.object({
  runId: z.string(),
  artifactRoot: z.string(),
  jobId: z.string(),
  dose: z.number(),
  view: ViewName,
  state: ClassicalState,
  iteration: z.number().int().nonnegative(),
  iterations: z.number().int().nonnegative(),
  error: z.number().nullable(),
  message: z.string().nullable(),
});
export type ClassicalProgressEvent = z.infer<typeof ClassicalProgressEvent>;

export const classicalApiEvents = { classicalProgress: ClassicalProgressEvent } as const;
