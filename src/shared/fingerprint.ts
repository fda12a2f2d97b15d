/**
 * A job's fingerprint: what decides whether its trained artifacts are still current — the
 * resolved config, the content of its input files, the trainer's code version and the
 * provider asked for. Stored in the manifest entry (`fingerprint`) when the job is trained;
 * `train` compares it with today's to skip jobs that are up to date and to say why others run.
 */
import { z } from 'zod';

export const FINGERPRINT_VERSION = 1;

export const InputFingerprint = z.object({
  /** Where it sits under its data root, e.g. `dose_1000/patched_train.npz` (what a reason names). */
  label: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative(),
  mtime_ms: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type InputFingerprint = z.infer<typeof InputFingerprint>;

export const JobFingerprint = z.object({
  version: z.literal(FINGERPRINT_VERSION),
  /** The resolved config with what cannot change the result left out (paths, loggers, threads for data). */
  config: z.record(z.string(), z.unknown()),
  inputs: z.array(InputFingerprint),
  code: z.object({ package_version: z.string(), graph_sha256: z.string() }),
  /** The execution provider asked for (`auto`, `cpu`, `webgpu`, `cuda`). */
  provider: z.string(),
  computed_at: z.string(),
});
export type JobFingerprint = z.infer<typeof JobFingerprint>;

/** Whether a job would train, and why: the per-job line of a dry run and the workbench plan. */
export const JobFreshness = z.object({
  jobId: z.string(),
  upToDate: z.boolean(),
  /** Empty when up to date; otherwise specific, e.g. `config changed: nepochs 50 → 60`. */
  reasons: z.array(z.string()),
  /** What the run will cost, e.g. `976 groups (927 train / 49 validation), batch 16: 58 steps/epoch × 12 epochs = 696 steps ≈ 12 min at 1.03 s/step (…)`. */
  estimate: z.string().optional(),
  /** The same as numbers (a job that would train and whose training file could be read). */
  plan: z
    .object({
      /** Groups formed from the training file (after `n_groups`), and the training / validation split of them. */
      groups: z.number().int().nonnegative(),
      trainGroups: z.number().int().nonnegative(),
      validationGroups: z.number().int().nonnegative(),
      batchSize: z.number().int().positive(),
      stepsPerEpoch: z.number().int().nonnegative(),
      epochs: z.number().int().nonnegative(),
      totalSteps: z.number().int().nonnegative(),
      secondsPerStep: z.number().nonnegative(),
      /** Where the step rate came from, in words (earlier jobs here, or the bench). */
      rateSource: z.string(),
      /** totalSteps × secondsPerStep (early stopping can end a job sooner). */
      seconds: z.number().nonnegative(),
    })
    .optional(),
});
export type JobFreshness = z.infer<typeof JobFreshness>;

/** "up to date" or "will run: <reasons>". */
export function describeFreshness(f: Pick<JobFreshness, 'upToDate' | 'reasons' | 'estimate'>): string {
  return f.upToDate ? 'up to date' : `will run: ${f.reasons.join('; ')}${f.estimate ? ` — ${f.estimate}` : ''}`;
}

/** Slurm's record of a job: which array job and task train it. */
export const SlurmJobRef = z.object({
  job_id: z.string(),
  array_task_id: z.number().int().nonnegative().nullable(),
  /** The latest state Slurm reported (PENDING, RUNNING, COMPLETED, TIMEOUT, …). */
  state: z.string().nullable().optional(),
  reason: z.string().nullable().optional(),
  node: z.string().nullable().optional(),
  submitted_at: z.string().optional(),
});
export type SlurmJobRef = z.infer<typeof SlurmJobRef>;
