/**
 * A job's full config: design defaults, then the study file's overrides, then the
 * invocation's knobs, then what the job itself fixes (data files, output dir, gridsize,
 * dose as nphotons, K). The result is validated, so an override with a wrong type or an
 * unknown field is an error naming it rather than a silently ignored value.
 */
import { type ModelConfig, type ResolvedJobConfig, toLegacyDict, TrainingConfig } from '../../shared/config';
import { ModelConfig as ModelConfigSchema } from '../../shared/config';
import type { z } from 'zod';
import { StudyError } from '../../shared/errors';
import type { StudyDesign, TrainingKnobs } from '../../shared/study';
import type { TrainingJob } from './jobs';

function knobFields(knobs: TrainingKnobs): Partial<TrainingConfig> {
  const out: Partial<TrainingConfig> = {};
  if (knobs.max_epochs !== undefined) out.nepochs = knobs.max_epochs;
  if (knobs.n_groups !== undefined) out.n_groups = knobs.n_groups;
  if (knobs.batch_size !== undefined) out.batch_size = knobs.batch_size;
  if (knobs.learning_rate !== undefined) out.learning_rate = knobs.learning_rate;
  if (knobs.accelerator !== undefined) out.accelerator = knobs.accelerator;
  if (knobs.deterministic !== undefined) out.deterministic = knobs.deterministic;
  if (knobs.num_workers !== undefined) out.num_workers = knobs.num_workers;
  if (knobs.logger !== undefined) out.logger = knobs.logger;
  if (knobs.disable_checkpointing !== undefined) out.disable_checkpointing = knobs.disable_checkpointing;
  if (knobs.seed !== undefined) out.seed = knobs.seed;
  return out;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string, jobId: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = issue.path.map(String).join('.');
  throw new StudyError('BAD_INPUT', `invalid ${what} for job ${jobId}: ${key || '(root)'}: ${issue.message}`, {
    key,
    found: key ? (value as Record<string, unknown>)[key] : value,
  });
}

export function resolveJobConfig(job: TrainingJob, design: StudyDesign, knobs: TrainingKnobs = {}): ResolvedJobConfig {
  const model: ModelConfig = parseOrThrow(
    ModelConfigSchema,
    { N: design.patch_size, ...design.model_overrides, gridsize: job.gridsize },
    'model config',
    job.id,
  );
  const training: TrainingConfig = parseOrThrow(
    TrainingConfig,
    {
      seed: design.seeds.training,
      grouping_seed: design.seeds.grouping,
      subsample_seed: design.seeds.subsampling,
      ...design.training_overrides,
      ...knobFields(knobs),
      train_data_file: job.trainDataPath,
      test_data_file: job.testDataPath,
      output_dir: job.artifactDir,
      nphotons: job.dose,
      neighbor_count: design.neighbor_count,
    },
    'training config',
    job.id,
  );
  return { training, model, legacy: toLegacyDict(training, model) };
}
