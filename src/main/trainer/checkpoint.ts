/**
 * Training checkpoints: the engine's parameter + optimizer-state file (nn/checkpoint.ts,
 * written atomically) carrying the trainer's own state in its metadata — epoch, position in
 * the epoch, the RNG state that re-draws the epoch's batch order, learning-rate schedule,
 * early-stopping state and loss history — validated with zod on load, so a resumed run
 * decides exactly what an uninterrupted one would have.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { StudyError } from '../../shared/errors';
import type { StagedWrite } from '../data/atomic';
import { loadState, saveState, stageState, type TrainingState } from '../nn/checkpoint';

export const TrainerState = z.object({
  version: z.literal(1),
  /** Epochs fully completed. */
  epoch: z.number().int().nonnegative(),
  /** Steps taken in the current, incomplete epoch (0 at an epoch boundary). */
  step_in_epoch: z.number().int().nonnegative(),
  /** Steps taken in all. */
  step: z.number().int().nonnegative(),
  /** RNG state at the start of the current epoch: it re-draws that epoch's batch order. */
  epoch_rng: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  lr: z.number().positive(),
  plateau: z.object({ best: z.number().nullable(), wait: z.number().int() }),
  early_stop: z.object({ best: z.number().nullable(), wait: z.number().int() }),
  train_loss: z.array(z.number()),
  val_loss: z.array(z.number().nullable()),
  /** Σ loss·samples and samples of the current epoch so far. */
  partial_loss_sum: z.number(),
  partial_samples: z.number().int().nonnegative(),
  stopped_early: z.boolean(),
  /** Hash of what training depends on (model, data, grouping, seeds, batch), checked on resume. */
  fingerprint: z.string(),
});
export type TrainerState = z.infer<typeof TrainerState>;

export const CHECKPOINT_FILE = 'last.ckpt';

export function checkpointPath(artifactDir: string): string {
  return join(artifactDir, 'checkpoint', CHECKPOINT_FILE);
}

export async function writeCheckpoint(path: string, weights: TrainingState, state: TrainerState): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await saveState(path, { ...weights, meta: { trainer: state } });
}

/** writeCheckpoint in two halves: written when this returns, flushed and in place after `commit()`. */
export function stageCheckpoint(path: string, weights: TrainingState, state: TrainerState): StagedWrite {
  return stageState(path, { ...weights, meta: { trainer: state } });
}

export async function readCheckpoint(path: string): Promise<{ weights: TrainingState; state: TrainerState }> {
  const weights = await loadState(path);
  const parsed = TrainerState.safeParse(weights.meta?.trainer);
  if (!parsed.success) {
    throw new StudyError('BAD_INPUT', 'checkpoint lacks a valid trainer state', {
      file: path,
      found: parsed.error.issues[0]?.message,
    });
  }
  return { weights, state: parsed.data };
}
