/**
 * Tiny study fixtures for the trainer's tests and the bench: a simulated Phase C dose at a
 * small N, and resolved job configs with small knobs. Not used by the product.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelConfig, type ResolvedJobConfig, TrainingConfig, toLegacyDict } from '../../shared/config';
import { simulatePhaseC } from '../data/simulate';
import type { JobWire } from './messages';

export interface TinyStudy {
  root: string;
  train: string;
  test: string;
  dose: number;
}

export async function simulateTinyStudy(
  opts: { N?: number; nPositions?: number; dose?: number; seed?: number } = {},
): Promise<TinyStudy> {
  const root = mkdtempSync(join(tmpdir(), 'pinn-study-'));
  const N = opts.N ?? 32;
  const dose = opts.dose ?? 1e4;
  await simulatePhaseC(join(root, 'phase_c'), {
    N,
    objectSize: N * 4,
    nPositions: opts.nPositions ?? 48,
    doses: [dose],
    seed: opts.seed ?? 7,
    probeDiameterPx: 0.6 * N,
  });
  const dir = join(root, 'phase_c', `dose_${Math.trunc(dose)}`);
  return { root, train: join(dir, 'patched_train.npz'), test: join(dir, 'patched_test.npz'), dose };
}

export function tinyConfig(
  study: TinyStudy,
  artifactDir: string,
  training: Partial<TrainingConfig> = {},
  model: Partial<ModelConfig> = {},
): ResolvedJobConfig {
  const t = TrainingConfig.parse({
    train_data_file: study.train,
    test_data_file: study.test,
    output_dir: artifactDir,
    nphotons: study.dose,
    batch_size: 4,
    nepochs: 2,
    deterministic: true,
    accelerator: 'cpu',
    ...training,
  });
  const m = ModelConfig.parse({ N: 32, n_filters_scale: 1, ...model });
  return { training: t, model: m, legacy: toLegacyDict(t, m) };
}

export function tinyJob(study: TinyStudy, artifactDir: string, gridsize: 1 | 2 = 1): JobWire {
  return {
    id: `dose_${Math.trunc(study.dose)}-${gridsize === 1 ? 'baseline' : 'dense'}-gs${gridsize}`,
    dose: study.dose,
    view: gridsize === 1 ? 'baseline' : 'dense',
    gridsize,
    trainDataPath: study.train,
    testDataPath: study.test,
    artifactDir,
    logPath: join(artifactDir, 'train.log'),
    eventsPath: join(artifactDir, 'events.jsonl'),
  };
}
