/**
 * The typed channel between a training worker and its host. Both directions are zod
 * schemas and every message is parsed on arrival: a worker is another process, and a
 * malformed message must fail loudly rather than be half-understood.
 */
import { z } from 'zod';
import { ResolvedJobConfig } from '../../shared/config';
import { TrainEvent } from '../../shared/events';
import { JobFiles } from '../../shared/study';

/** What the worker needs of a TrainingJob (the study engine's type, as plain data). */
export const JobWire = JobFiles;
export type JobWire = z.infer<typeof JobWire>;

/** Trainer settings outside the original's TrainingConfig/ModelConfig (bench, tests). */
export const TrainerExtras = z
  .object({
    /** 'random-knn' = the study's grouping; 'nearest' = the reference's point + 3 nearest. */
    grouping_rule: z.enum(['random-knn', 'nearest']).optional(),
    /** 'original' = probeGuess / (probe_scale · mean|M·probeGuess|); 'absolute' = probeGuess / s (reference). */
    probe_gauge: z.enum(['original', 'absolute']).optional(),
    /** Intra-op threads; default 2 (deterministic runs pin it). */
    threads: z.number().int().positive().optional(),
    /** Stop after this many steps in all (tests, quality comparison). */
    max_steps: z.number().int().positive().optional(),
    /** Emit a step event every k steps (default every step). */
    step_event_every: z.number().int().positive().optional(),
  })
  .strict();
export type TrainerExtras = z.infer<typeof TrainerExtras>;

export const StartMessage = z.object({
  type: z.literal('start'),
  config: ResolvedJobConfig,
  job: JobWire,
  logPath: z.string(),
  resume: z.boolean(),
  extras: TrainerExtras.default({}),
  /** The host's pid: the worker stops (with a checkpoint) when that process is gone. */
  parent_pid: z.number().int().positive().optional(),
  /** Names this attempt's folder `runs/<attempt_id>/` (the study run's id). */
  attempt_id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/)
    .optional(),
});
export type StartMessage = z.infer<typeof StartMessage>;

export const ToWorker = z.discriminatedUnion('type', [
  StartMessage,
  z.object({ type: z.literal('cancel') }),
  /** The host needs the worker no more: exit now, or after the job under way. */
  z.object({ type: z.literal('exit') }),
]);
export type ToWorker = z.infer<typeof ToWorker>;

export const RunnerResultWire = z
  .object({
    status: z.enum(['done', 'failed', 'cancelled', 'diverged']),
    final_loss: z.number().nullable(),
    epochs_completed: z.number().int().nonnegative(),
    checkpoint_path: z.string().nullable(),
    model_path: z.string().nullable().optional(),
    model_sha256: z.string().optional(),
    model_bytes: z.number().int().nonnegative().optional(),
    error: z.string().optional(),
  })
  .passthrough();
export type RunnerResultWire = z.infer<typeof RunnerResultWire>;

export const FromWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('event'), event: TrainEvent }),
  z.object({ type: z.literal('result'), result: RunnerResultWire }),
]);
export type FromWorker = z.infer<typeof FromWorker>;
