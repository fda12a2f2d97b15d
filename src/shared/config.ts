/**
 * TrainingConfig and ModelConfig with the original's dataclass field names, and the
 * legacy-key bridge. In the original, `update_legacy_dict(params.cfg, config)` mutated a
 * global dictionary and its ordering caused the study's worst bugs (CONFIG-001); here the
 * bridge is a pure function returning a new dictionary, and every job records the config
 * it actually used.
 */
import { z } from 'zod';
import { Accelerator, DEFAULT_BATCH_SIZE, DEFAULT_MAX_EPOCHS, Logger } from './knobs';

export const ModelConfig = z
  .object({
    N: z.number().int().positive().default(64),
    gridsize: z.number().int().min(1).default(1),
    n_filters_scale: z.number().int().positive().default(2),
    model_type: z.enum(['pinn', 'supervised']).default('pinn'),
    amp_activation: z.enum(['sigmoid', 'swish', 'softplus', 'relu']).default('sigmoid'),
    object_big: z.boolean().default(true),
    probe_big: z.boolean().default(true),
    probe_mask: z.boolean().default(false),
    pad_object: z.boolean().default(true),
    probe_scale: z.number().positive().default(4),
    gaussian_smoothing_sigma: z.number().nonnegative().default(0),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfig>;

export const TrainingConfig = z
  .object({
    train_data_file: z.string().min(1),
    test_data_file: z.string().min(1).nullable().default(null),
    output_dir: z.string().min(1),
    batch_size: z.number().int().positive().default(DEFAULT_BATCH_SIZE),
    nepochs: z.number().int().positive().default(DEFAULT_MAX_EPOCHS),
    /** Photons per exposure; a study job sets it to its dose. */
    nphotons: z.number().positive().default(1e9),
    /** Groups per epoch; null = one group per scan point. `n_images` is the original's deprecated alias. */
    n_groups: z.number().int().positive().nullable().default(null),
    n_subsample: z.number().int().positive().nullable().default(null),
    subsample_seed: z.number().int().nonnegative().nullable().default(null),
    /** K; the original's dataclass default was 4 while the study meant 7 — a job always sets it. */
    neighbor_count: z.number().int().positive().default(7),
    grouping_seed: z.number().int().nonnegative().default(123),
    nll_weight: z.number().nonnegative().default(1),
    mae_weight: z.number().nonnegative().default(0),
    realspace_weight: z.number().nonnegative().default(0),
    positions_provided: z.boolean().default(true),
    probe_trainable: z.boolean().default(false),
    intensity_scale_trainable: z.boolean().default(true),
    learning_rate: z.number().positive().default(1e-3),
    validation_split: z.number().min(0).lt(1).default(0.05),
    plateau_factor: z.number().gt(0).lt(1).default(0.5),
    plateau_patience: z.number().int().nonnegative().default(2),
    plateau_min_lr: z.number().nonnegative().default(1e-4),
    early_stopping_patience: z.number().int().nonnegative().default(3),
    early_stopping_monitor: z.enum(['val_loss', 'loss']).default('val_loss'),
    /** Weights, batch order and validation split. */
    seed: z.number().int().nonnegative().default(42),
    accelerator: Accelerator.default('auto'),
    /** Bit-for-bit repeatable CPU runs (also pins the thread count). */
    deterministic: z.boolean().default(false),
    /** Data-loading threads; 0 loads on the training thread. */
    num_workers: z.number().int().nonnegative().default(0),
    /** An extra logger beside events.jsonl and train.log, which are always written. */
    logger: Logger.default('none'),
    /** Turns off per-epoch checkpoints; the final checkpoint and the model are still written. */
    disable_checkpointing: z.boolean().default(false),
  })
  .strict();
export type TrainingConfig = z.infer<typeof TrainingConfig>;

/** A legacy `params.cfg`-style dictionary: flat, string keys, no null values. */
export const LegacyDict = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
export type LegacyDict = z.infer<typeof LegacyDict>;

/** What a runner receives and what the manifest records for each job. */
export const ResolvedJobConfig = z.object({
  training: TrainingConfig,
  model: ModelConfig,
  legacy: LegacyDict,
});
export type ResolvedJobConfig = z.infer<typeof ResolvedJobConfig>;

/** The nine renames `update_legacy_dict` applies; every other field keeps its name. */
export const LEGACY_KEY_RENAMES: Readonly<Record<string, string>> = Object.freeze({
  object_big: 'object.big',
  probe_big: 'probe.big',
  probe_mask: 'probe.mask',
  probe_trainable: 'probe.trainable',
  intensity_scale_trainable: 'intensity_scale.trainable',
  positions_provided: 'positions.provided',
  output_dir: 'output_prefix',
  train_data_file: 'train_data_file_path',
  test_data_file: 'test_data_file_path',
});

/**
 * The legacy bridge: flattens the model fields into the top level, renames the nine keys
 * and copies every value that is not null/undefined onto a copy of `base` — so, as in the
 * original, a missing value never overwrites an existing entry. Inputs are not modified.
 */
export function toLegacyDict(
  training: TrainingConfig,
  model: ModelConfig,
  base: Readonly<Record<string, unknown>> = {},
): LegacyDict {
  const out: LegacyDict = {};
  for (const [k, v] of Object.entries(base)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  // Model fields first, then training fields, as the original flattens `config.model` into the config.
  for (const source of [model, training] as Record<string, unknown>[]) {
    for (const [field, value] of Object.entries(source)) {
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
      out[LEGACY_KEY_RENAMES[field] ?? field] = value;
    }
  }
  return out;
}
