/**
 * How much memory a training step at a given batch size needs, from the model's own graph:
 * the graph is built symbolically at batch 1 and 2 (shapes only, no session), every op's
 * output is counted, and the difference is the per-sample share. Activations are kept for
 * the backward pass and their gradients are as large, hence the factor 2. This is checked
 * before the real graph is built, so `--batch-size 1e9` is a one-line error instead of an
 * out-of-memory abort of the worker.
 */
import { checkMemory } from '../data/memory';
import { numel } from '../nn/graph';
import { buildPinnGraph, type ProbeArrays } from './model';
import { modelSpec } from './pinn-trainer';
import type { PinnSettings } from './settings';

/** Counts by model spec: the doses of a study share one, and a count needs a whole graph. */
const counted = new Map<string, number>();

function activationElements(s: PinnSettings, probe: ProbeArrays, intensityScale: number, batch: number): number {
  const spec = modelSpec(s, batch);
  const key = JSON.stringify(spec);
  const known = counted.get(key);
  if (known !== undefined) return known;
  const { graph } = buildPinnGraph(spec, probe, intensityScale, true);
  let n = 0;
  for (const node of graph.nodes) for (const t of node.outputs) n += numel(t.shape);
  if (counted.size >= 16) counted.clear();
  counted.set(key, n);
  return n;
}

export function trainingStepBytes(
  s: PinnSettings,
  probe: ProbeArrays,
  intensityScale: number,
  batch = s.batchSize,
): { bytes: number; perSample: number } {
  const one = activationElements(s, probe, intensityScale, 1);
  const perSample = activationElements(s, probe, intensityScale, 2) - one;
  const bytesPerElement = 4; // float32
  return {
    bytes: 2 * bytesPerElement * (one - perSample + batch * perSample),
    perSample: 2 * bytesPerElement * perSample,
  };
}

/** Throws TOO_LARGE when a training step at `s.batchSize` cannot fit the available memory. */
export function checkTrainingMemory(s: PinnSettings, probe: ProbeArrays, intensityScale: number, nTrain: number): void {
  const { bytes, perSample } = trainingStepBytes(s, probe, intensityScale);
  checkMemory(`a training step at --batch-size ${s.batchSize} (N = ${s.N}, gridsize ${s.gridsize})`, bytes, {
    key: 'batch_size',
    largestArrayElements: s.batchSize * s.gridsize ** 2 * s.N * s.N * 2,
    hint: `each group in a batch needs about ${(perSample / 2 ** 20).toFixed(1)} MiB; the training set has ${nTrain} groups, and a batch larger than that only adds padding`,
  });
}
