/**
 * Settings + prepared data → a ready Trainer on the PtychoPINN train-step graph, shared by
 * the training job, the bench and the quality comparison so they all run the same model.
 */
import { StudyError } from '../../shared/errors';
import { adam } from '../nn/optim';
import { buildTrainStep } from '../nn/train-step';
import { Trainer } from '../nn/trainer';
import { type BatchArrays, gatherBatch, type TrainingData } from './dataset';
import {
  buildPinnGraph,
  convParameterCount,
  expectedParameterCount,
  INPUT_DIFFRACTION,
  INPUT_OFFSETS,
  INPUT_WEIGHTS,
  type PinnGraph,
  type PinnModelSpec,
} from './model';
import type { PinnSettings } from './settings';

export function modelSpec(s: PinnSettings, batch: number): PinnModelSpec {
  return {
    N: s.N,
    gridsize: s.gridsize,
    nFiltersScale: s.nFiltersScale,
    ampActivation: s.ampActivation,
    probeBig: s.probeBig,
    probeMask: s.probeMask,
    intensityScaleTrainable: s.intensityScaleTrainable,
    seed: s.seed,
    batch,
  };
}

export interface PinnTrainer {
  trainer: Trainer;
  graph: PinnGraph;
  spec: PinnModelSpec;
  parameterCount: number;
  /** Graph feeds for a gathered batch. */
  feeds(b: BatchArrays): Record<string, Float32Array>;
  /** Gather groups `ids` (≤ batch) into a padded batch. */
  batch(ids: ArrayLike<number>): BatchArrays;
}

export async function createPinnTrainer(
  s: PinnSettings,
  data: TrainingData,
  onNotice?: (message: string) => void,
): Promise<PinnTrainer> {
  const spec = modelSpec(s, s.batchSize);
  const graph = buildPinnGraph(spec, data.probe, data.intensityScale, true);
  const parameterCount = convParameterCount(graph);
  const expected = expectedParameterCount(spec);
  if (parameterCount !== expected) {
    throw new StudyError('INTERNAL', `model has ${parameterCount} parameters, expected ${expected}`);
  }
  const model = buildTrainStep({ loss: graph.loss!, optimizer: adam({ epsilon: 1e-7 }) });
  const trainer = await Trainer.create(model, {
    accelerator: s.accelerator,
    threads: s.threads,
    deterministic: s.deterministic,
    onNotice,
  });
  return {
    trainer,
    graph,
    spec,
    parameterCount,
    feeds: (b) => ({
      [INPUT_DIFFRACTION]: b.diffraction,
      [INPUT_WEIGHTS]: b.weights,
      ...(data.C > 1 ? { [INPUT_OFFSETS]: b.offsets } : {}),
    }),
    batch: (ids) => gatherBatch(data, ids, s.batchSize),
  };
}
