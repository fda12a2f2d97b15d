/**
 * Training events: what a training worker streams live and appends to `events.jsonl`
 * (one JSON object per line, each with `type` and ISO `time`). Curves, ETA and resume are
 * rebuilt from this file after a restart, so it is the contract between the trainer, the
 * service and the UI.
 */
import { z } from 'zod';

const base = { time: z.string() };

export const StepEvent = z.object({
  type: z.literal('step'),
  ...base,
  step: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  loss: z.number(),
  samples_per_s: z.number().nonnegative(),
  lr: z.number().optional(),
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
});

export const TrainEvent = z.discriminatedUnion('type', [StepEvent, EpochEvent, StatusEvent, ProgressEvent, LogEvent]);
export type TrainEvent = z.infer<typeof TrainEvent>;
export type StepEvent = z.infer<typeof StepEvent>;
export type EpochEvent = z.infer<typeof EpochEvent>;
export type StatusEvent = z.infer<typeof StatusEvent>;
export type ProgressEvent = z.infer<typeof ProgressEvent>;
export type LogEvent = z.infer<typeof LogEvent>;
