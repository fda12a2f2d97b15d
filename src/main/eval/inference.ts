/**
 * Evaluation's reconstructor: a trained job's model.onnx over its test split through the one
 * runner in ../pinn/inference.ts, grouped as the job was trained (its config's K and seed),
 * the outputs returned as complex patches for stitching — the trimmed object per sample,
 * placed at its scan position (gs1) or at the group's centre (gs2, whose output is the
 * group's reassembled canvas), as the original placed them.
 */
import type { ResolvedJobConfig } from '../../shared/config';
import type { StudyFile } from '../data/study-file';
import { resolveProvider } from '../nn/session';
import { fillGroup, groupForModel, readModelCard, runModel } from '../pinn/inference';
import type { Reconstruction, Reconstructor } from './job-eval';
import type { Accelerator } from '../../shared/knobs';

export interface InferenceOptions {
  accelerator?: Accelerator;
  /** intraOpNumThreads on the CPU (default 2). */
  threads?: number;
  /** The job's resolved config (grouping K and seed); the design's defaults when absent. */
  configOf?: (jobId: string) => ResolvedJobConfig | null;
  onNotice?: (message: string) => void;
}

/** Run `model.onnx` over every group of `testData`; outputs as complex patches + placements. */
export async function reconstructWithModel(
  modelPath: string,
  testData: StudyFile,
  config: ResolvedJobConfig | null,
  options: InferenceOptions = {},
): Promise<Reconstruction> {
  const card = readModelCard(modelPath);
  const { N, C } = card;
  const grouped = groupForModel(card, testData, {
    neighborCount: config?.training.neighbor_count ?? 7,
    seed: config?.training.grouping_seed ?? 123,
  });
  const provider = await resolveProvider({ accelerator: options.accelerator ?? 'cpu', onNotice: options.onNotice });
  const G = grouped.groups.count;
  const nn = N * N;
  const out = new Float32Array(G * nn * 2);
  await runModel(
    modelPath,
    card,
    G,
    (g, x, offsets) => fillGroup(card, testData, grouped, g, x, offsets),
    (g, r) => {
      const base = g * nn;
      for (let i = 0; i < nn; i++) {
        out[2 * (base + i)] = r.amplitude[i] * Math.cos(r.phase[i]);
        out[2 * (base + i) + 1] = r.amplitude[i] * Math.sin(r.phase[i]);
      }
    },
    { provider: provider.provider, threads: options.threads ?? 2 },
  );
  return {
    patches: { count: G, size: N, data: out },
    xs: grouped.xcoords,
    ys: grouped.ycoords,
    detail: `${provider.provider} (${provider.detail}); ${G} ${C > 1 ? 'groups of 4' : 'patterns'}`,
  };
}

/** The Reconstructor evaluation uses by default: the job's own model.onnx. */
export function modelReconstructor(options: InferenceOptions = {}): Reconstructor {
  return ({ modelPath, testData, job }) =>
    reconstructWithModel(modelPath, testData, options.configOf?.(job.id) ?? null, options);
}
