/**
 * Training events: what a training worker streams live and appends to `events.jsonl`
 * (one JSON object per line, each with `type` and ISO `time`). Curves, ETA and resume are
 * rebuilt from this file after a restart, so it is the contract between the trainer, the
 * service and the UI.
 */
import { z } from 'zod';

/**
 * On every event: `time` is the wall clock (ISO). `elapsed_s` is the seconds the job has
 * been working on its current curve, summed over its attempts (a resumed attempt continues
 * from the previous attempt's last figure; the pause between attempts does not count; a
 * fresh run starts again at 0), for a "relative time" x-axis that never runs backwards;
 * absent in files written before it existed. `attempt` names the attempt (run) that wrote the event:
 * `runs/<attempt>/events.jsonl` in the job's folder holds that attempt's events.
 */
const base = {
  time: z.string(),
  elapsed_s: z.number().nonnegative().optional(),
  attempt: z.string().optional(),
};

/**
 * Loss terms by name, in the loss's units. PtychoPINN's loss has one term today,
 * `poisson_nll` (so it equals `loss`); the record lets a model with more show each.
 */
export const LossTerms = z.record(z.string(), z.number());
export type LossTerms = z.infer<typeof LossTerms>;

export const StepEvent = z.object({
  type: z.literal('step'),
  ...base,
  step: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  loss: z.number(),
  /** Training throughput of this step (batch samples / step seconds). */
  samples_per_s: z.number().nonnegative(),
  /** Learning rate the step used (after warm-up). */
  lr: z.number().optional(),
  /** Global L2 norm of all parameter gradients of this step, before any clipping. */
  grad_norm: z.number().optional(),
  loss_terms: LossTerms.optional(),
});

export const EpochEvent = z.object({
  type: z.literal('epoch'),
  ...base,
  epoch: z.number().int().nonnegative(),
  step: z.number().int().nonnegative().optional(),
  train_loss: z.number(),
  val_loss: z.number().nullable(),
  lr: z.number(),
  eta_s: z.number().nonnegative().optional(),
  /** Training loss of predicting every pattern as the mean training pattern ("learned nothing"). */
  mean_pattern_nll: z.number().optional(),
  /** Training loss of the true object through the physics (the floor; null without a ground truth). */
  true_object_nll: z.number().nullable().optional(),
  val_mean_pattern_nll: z.number().optional(),
  val_true_object_nll: z.number().nullable().optional(),
  /** The epoch's mean of each loss term over its training samples, and over the validation groups. */
  loss_terms: LossTerms.optional(),
  val_loss_terms: LossTerms.nullable().optional(),
  /** Mean over the epoch's steps of the step gradient norm. */
  grad_norm: z.number().optional(),
  /** The epoch's training samples / its training seconds (validation not counted). */
  samples_per_s: z.number().nonnegative().optional(),
  /** Wall seconds the epoch took (training + validation). */
  duration_s: z.number().nonnegative().optional(),
});

export const TrainStatus = z.enum(['started', 'resumed', 'done', 'failed', 'cancelled', 'diverged']);

export const StatusEvent = z.object({
  type: z.literal('status'),
  ...base,
  status: TrainStatus,
  message: z.string().optional(),
  step: z.number().int().nonnegative().optional(),
  epoch: z.number().int().nonnegative().optional(),
  total_steps: z.number().int().nonnegative().optional(),
  total_epochs: z.number().int().nonnegative().optional(),
});

export const ProgressEvent = z.object({
  type: z.literal('progress'),
  ...base,
  step: z.number().int().nonnegative(),
  total_steps: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  total_epochs: z.number().int().nonnegative(),
  eta_s: z.number().nonnegative().nullable(),
});

export const LogEvent = z.object({
  type: z.literal('log'),
  ...base,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string(),
  /** The epoch being trained when it was logged (absent before training starts). */
  epoch: z.number().int().nonnegative().optional(),
  step: z.number().int().nonnegative().optional(),
});

/**
 * A reconstruction preview was written after an epoch: the network's object patch
 * (amplitude and phase) at the first scan point of one fixed group (a validation group, the
 * same every epoch), beside the true patch there when the data have one. `file` is relative to the job's artifact folder
 * (`previews/epoch_<epoch>.png`, `epoch` 0-based as in the epoch event); read it with the
 * `readJobPreview` API method.
 */
export const PreviewEvent = z.object({
  type: z.literal('preview'),
  ...base,
  epoch: z.number().int().nonnegative(),
  step: z.number().int().nonnegative(),
  file: z.string(),
  /** Index of the previewed group among the job's groups (a validation group when there are any). */
  group: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  bytes: z.number().int().positive(),
});

export const TrainEvent = z.discriminatedUnion('type', [
  StepEvent,
  EpochEvent,
  StatusEvent,
  ProgressEvent,
  LogEvent,
  PreviewEvent,
]);
/** Every event type, for filters. */
export const TRAIN_EVENT_TYPES = ['step', 'epoch', 'status', 'progress', 'log', 'preview'] as const;
export type TrainEventType = (typeof TRAIN_EVENT_TYPES)[number];
export type TrainEvent = z.infer<typeof TrainEvent>;
export type StepEvent = z.infer<typeof StepEvent>;
export type EpochEvent = z.infer<typeof EpochEvent>;
export type StatusEvent = z.infer<typeof StatusEvent>;
export type ProgressEvent = z.infer<typeof ProgressEvent>;
export type LogEvent = z.infer<typeof LogEvent>;
export type PreviewEvent = z.infer<typeof PreviewEvent>;
