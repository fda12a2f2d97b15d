/**
 * From a job's resolved config (the original's TrainingConfig/ModelConfig field names) to
 * what the trainer runs. Fields the original has but this model does not implement are
 * refused with a stated error rather than silently ignored.
 */
import type { ResolvedJobConfig } from '../../shared/config';
import { StudyError } from '../../shared/errors';
import type { GroupingRule } from './grouping';
import type { AmpActivation } from './network';
import type { Accelerator } from '../../shared/knobs';

export type ProbeGauge = 'original' | 'absolute';

export interface PinnSettings {
  N: number;
  gridsize: number;
  nFiltersScale: number;
  ampActivation: AmpActivation;
  probeBig: boolean;
  probeMask: boolean;
  probeScale: number;
  intensityScaleTrainable: boolean;
  probeGauge: ProbeGauge;
  /** Configured photons per exposure (the 'original' gauge's s₀ = √nphotons/(N/2)). */
  nphotons: number;
  batchSize: number;
  epochs: number;
  maxSteps: number | null;
  nGroups: number | null;
  neighborCount: number;
  groupingRule: GroupingRule;
  groupingSeed: number;
  learningRate: number;
  validationSplit: number;
  plateau: { factor: number; patience: number; minLr: number };
  earlyStopping: { patience: number; monitor: 'val_loss' | 'loss' };
  seed: number;
  accelerator: Accelerator;
  deterministic: boolean;
  threads: number;
  logger: 'none' | 'jsonl' | 'csv';
  disableCheckpointing: boolean;
  stepEventEvery: number;
}

export interface SettingsExtras {
  grouping_rule?: GroupingRule;
  probe_gauge?: ProbeGauge;
  threads?: number;
  max_steps?: number;
  step_event_every?: number;
}

function unsupported(key: string, found: unknown, expected: unknown): StudyError {
  return new StudyError('BAD_INPUT', `${key}=${JSON.stringify(found)} is not supported by this PtychoPINN trainer`, {
    key,
    found,
    expected,
  });
}

export function resolveSettings(config: ResolvedJobConfig, extras: SettingsExtras = {}): PinnSettings {
  const m = config.model;
  const t = config.training;
  if (m.model_type !== 'pinn') throw unsupported('model_type', m.model_type, 'pinn');
  if (!m.object_big) throw unsupported('object_big', m.object_big, true);
  if (!m.pad_object) throw unsupported('pad_object', m.pad_object, true);
  if (m.gaussian_smoothing_sigma !== 0) throw unsupported('gaussian_smoothing_sigma', m.gaussian_smoothing_sigma, 0);
  if (t.mae_weight !== 0) throw unsupported('mae_weight', t.mae_weight, 0);
  if (t.realspace_weight !== 0) throw unsupported('realspace_weight', t.realspace_weight, 0);
  if (t.nll_weight !== 1) throw unsupported('nll_weight', t.nll_weight, 1);
  if (t.probe_trainable) throw unsupported('probe_trainable', t.probe_trainable, false);
  if (!(m.gridsize === 1 || m.gridsize === 2)) throw unsupported('gridsize', m.gridsize, [1, 2]);
  return {
    N: m.N,
    gridsize: m.gridsize,
    nFiltersScale: m.n_filters_scale,
    ampActivation: m.amp_activation,
    probeBig: m.probe_big,
    probeMask: m.probe_mask,
    probeScale: m.probe_scale,
    intensityScaleTrainable: t.intensity_scale_trainable,
    probeGauge: extras.probe_gauge ?? 'original',
    nphotons: t.nphotons,
    batchSize: t.batch_size,
    epochs: t.nepochs,
    maxSteps: extras.max_steps ?? null,
    nGroups: t.n_groups,
    neighborCount: t.neighbor_count,
    groupingRule: extras.grouping_rule ?? 'random-knn',
    groupingSeed: t.grouping_seed,
    learningRate: t.learning_rate,
    validationSplit: t.validation_split,
    plateau: { factor: t.plateau_factor, patience: t.plateau_patience, minLr: t.plateau_min_lr },
    earlyStopping: { patience: t.early_stopping_patience, monitor: t.early_stopping_monitor },
    seed: t.seed,
    accelerator: t.accelerator,
    deterministic: t.deterministic,
    threads: extras.threads ?? 2,
    logger: t.logger,
    disableCheckpointing: t.disable_checkpointing,
    stepEventEvery: extras.step_event_every ?? 1,
  };
}
