/**
 * Inference of a trained job on its test split through the exported model.onnx and the
 * model.json card beside it (src/main/pinn/export.ts): normalise the test diffraction as
 * the original's normalize_data does (X = d·√((N/2)² / mean Σ d²) over the grouped
 * patterns), group the scan points as in training (gridsize 2: K nearest, seeded), run the
 * graph in batches of its fixed size and return the outputs for stitching — the trimmed
 * object per sample, placed at its scan position (gs1) or at the group's centre (gs2, whose
 * output is the group's reassembled canvas), as the original placed them.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ResolvedJobConfig } from '../../shared/config';
import { StudyError } from '../../shared/errors';
import { readFileNamed } from '../data/read-file';
import type { StudyFile } from '../data/study-file';
import { createSession, resolveProvider } from '../nn/session';
import { MODEL_CARD_FILE, type ModelCard, ModelCard as ModelCardSchema } from '../pinn/export';
import { groupScanPoints } from '../pinn/grouping';
import type { Reconstruction, Reconstructor } from './job-eval';

export interface InferenceOptions {
  accelerator?: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  /** intraOpNumThreads on the CPU (default 2). */
  threads?: number;
  /** The job's resolved config (grouping K and seed); the design's defaults when absent. */
  configOf?: (jobId: string) => ResolvedJobConfig | null;
  onNotice?: (message: string) => void;
}

export function readModelCard(modelPath: string): ModelCard {
  const path = join(dirname(modelPath), MODEL_CARD_FILE);
  if (!existsSync(path)) {
    throw new StudyError('NOT_FOUND', `the model has no ${MODEL_CARD_FILE} card saying how to feed it`, {
      file: path,
    });
  }
  const r = ModelCardSchema.safeParse(JSON.parse(readFileNamed(path, 'utf8')));
  if (!r.success) {
    throw new StudyError('DATA_CONTRACT', `model card does not match its schema: ${r.error.issues[0]?.message}`, {
      file: path,
      key: r.error.issues[0]?.path.join('.'),
    });
  }
  return r.data;
}

/** Run `model.onnx` over every group of `testData`; outputs as patches + placements. */
export async function reconstructWithModel(
  modelPath: string,
  testData: StudyFile,
  config: ResolvedJobConfig | null,
  options: InferenceOptions = {},
): Promise<Reconstruction> {
  const card = readModelCard(modelPath);
  const { N, C, batch: B, gridsize } = card;
  if (testData.N !== N) {
    throw new StudyError('DATA_CONTRACT', `test patterns are ${testData.N} px but the model takes ${N} px`, {
      file: testData.path,
      key: 'diffraction',
      found: testData.N,
      expected: N,
    });
  }
  const groups = groupScanPoints(testData.xcoords, testData.ycoords, {
    gridsize,
    neighborCount: config?.training.neighbor_count ?? 7,
    seed: config?.training.grouping_seed ?? 123,
  });
  const nn = N * N;
  const d = testData.diffraction.data as Float32Array;
  let sum = 0;
  for (const p of groups.indices) for (let i = p * nn; i < (p + 1) * nn; i++) sum += d[i] * d[i];
  const meanEnergy = sum / groups.indices.length;
  if (!(meanEnergy > 0)) {
    throw new StudyError('DATA_CONTRACT', 'the test diffraction patterns are all zero', {
      file: testData.path,
      key: 'diffraction',
    });
  }
  const norm = Math.sqrt(((N / 2) * (N / 2)) / meanEnergy);

  const provider = await resolveProvider({ accelerator: options.accelerator ?? 'cpu', onNotice: options.onNotice });
  const session = await createSession(readFileNamed(modelPath), {
    provider: provider.provider,
    threads: options.threads ?? 2,
  });
  const G = groups.count;
  const out = new Float32Array(G * nn * 2);
  const xs = new Float64Array(G);
  const ys = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    for (let c = 0; c < C; c++) {
      const p = groups.indices[g * C + c];
      xs[g] += testData.xcoords[p] / C;
      ys[g] += testData.ycoords[p] / C;
    }
  }
  try {
    const diffraction = new Float32Array(B * C * nn);
    const offsets = new Float32Array(B * C * 2);
    for (let g0 = 0; g0 < G; g0 += B) {
      const n = Math.min(B, G - g0);
      for (let b = 0; b < B; b++) {
        // a short last batch repeats its first group; those outputs are dropped
        const g = g0 + (b < n ? b : 0);
        for (let c = 0; c < C; c++) {
          const p = groups.indices[g * C + c];
          const dst = (b * C + c) * nn;
          for (let i = 0; i < nn; i++) diffraction[dst + i] = d[p * nn + i] * norm;
          offsets[(b * C + c) * 2] = groups.offsets[(g * C + c) * 2];
          offsets[(b * C + c) * 2 + 1] = groups.offsets[(g * C + c) * 2 + 1];
        }
      }
      const feeds: Record<string, ort.Tensor> = { diffraction: new ort.Tensor('float32', diffraction, [B, C, N, N]) };
      if (C > 1) feeds.offsets = new ort.Tensor('float32', offsets, [B, C, 2]);
      const r = await session.run(feeds);
      const amp = r.amplitude.data as Float32Array;
      const ph = r.phase.data as Float32Array;
      for (let b = 0; b < n; b++) {
        const base = (g0 + b) * nn;
        for (let i = 0; i < nn; i++) {
          out[2 * (base + i)] = amp[b * nn + i] * Math.cos(ph[b * nn + i]);
          out[2 * (base + i) + 1] = amp[b * nn + i] * Math.sin(ph[b * nn + i]);
        }
      }
    }
  } finally {
    await session.release();
  }
  return {
    patches: { count: G, size: N, data: out },
    xs,
    ys,
    detail: `${provider.provider} (${provider.detail}); ${G} ${C > 1 ? 'groups of 4' : 'patterns'}`,
  };
}

/** The Reconstructor evaluation uses by default: the job's own model.onnx. */
export function modelReconstructor(options: InferenceOptions = {}): Reconstructor {
  return ({ modelPath, testData, job }) =>
    reconstructWithModel(modelPath, testData, options.configOf?.(job.id) ?? null, options);
}
