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
import { knobConfigFields } from '../../shared/knobs';
import type { StudyDesign, TrainingKnobs } from '../../shared/study';
import type { TrainingJob } from './jobs';

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
      ...knobConfigFields(knobs),
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
