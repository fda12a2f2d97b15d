/**
 * Inference with a trained model.onnx (and its model.json card): what the evaluation runs.
 * `reconstructPatches` takes grouped diffraction amplitudes as stored in a study file and
 * returns each group's reassembled object (trimmed to N × N, the original's
 * diffraction_to_obj) as amplitude and phase; `reconstructStudyFile` groups a file the way
 * the model was trained and also returns where each output belongs (the scan position for
 * gridsize 1, the group centre for gridsize 2), ready for stitching.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { StudyError } from '../../shared/errors';
import { loadStudyFile } from '../data/study-file';
import { sessionOptions } from '../nn/session';
import { groupScanPoints } from './grouping';
import { MODEL_CARD_FILE, ModelCard } from './export';

export interface Reconstruction {
  /** Groups G. */
  count: number;
  N: number;
  C: number;
  /** (G, N, N) */
  amplitude: Float32Array;
  /** (G, N, N), radians */
  phase: Float32Array;
  /** (G, C, N, N): the network's patches before reassembly. */
  objectAmplitude: Float32Array;
  objectPhase: Float32Array;
}

export function readModelCard(modelPath: string): ModelCard {
  const path = join(dirname(modelPath), MODEL_CARD_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new StudyError('NOT_FOUND', `cannot read the model card beside ${modelPath}: ${(e as Error).message}`, {
      file: path,
    });
  }
  const card = ModelCard.safeParse(raw);
  if (!card.success)
    throw new StudyError('BAD_INPUT', `model card is invalid: ${card.error.issues[0]?.message}`, { file: path });
  return card.data;
}

/** X = d · √((N/2)² / mean Σ d²) over all the given patterns (the original's normalize_data). */
export function normaliseDiffraction(d: Float32Array, N: number): Float32Array {
  const patterns = d.length / (N * N);
  let sum = 0;
  for (let i = 0; i < d.length; i++) sum += d[i] * d[i];
  const mean = sum / patterns;
  if (!(mean > 0))
    throw new StudyError('BAD_INPUT', 'the diffraction to reconstruct is all zero', { key: 'diffraction' });
  const k = Math.sqrt(((N / 2) * (N / 2)) / mean);
  return d.map((v) => v * k);
}

/**
 * `diffraction` (G, C, N, N) file amplitudes (normalised here unless `normalised`),
 * `offsets` (G, C, 2) as (dx, dy) for gridsize > 1.
 */
export async function reconstructPatches(
  modelPath: string,
  diffraction: Float32Array,
  offsets: Float32Array | null,
  opts: { threads?: number; normalised?: boolean } = {},
): Promise<Reconstruction> {
  const card = readModelCard(modelPath);
  const { N, C, batch: B } = card;
  const per = C * N * N;
  if (diffraction.length % per !== 0) {
    throw new StudyError(
      'BAD_INPUT',
      `diffraction has ${diffraction.length} values, not a multiple of C·N·N = ${per}`,
      {
        key: 'diffraction',
      },
    );
  }
  const G = diffraction.length / per;
  if (C > 1 && (!offsets || offsets.length !== G * C * 2)) {
    throw new StudyError('BAD_INPUT', `gridsize ${card.gridsize} needs offsets (G, C, 2) = (${G}, ${C}, 2)`, {
      key: 'offsets',
    });
  }
  const X = opts.normalised ? diffraction : normaliseDiffraction(diffraction, N);
  const session = await ort.InferenceSession.create(
    modelPath,
    sessionOptions({ provider: 'cpu', threads: opts.threads ?? 2 }),
  );
  const out: Reconstruction = {
    count: G,
    N,
    C,
    amplitude: new Float32Array(G * N * N),
    phase: new Float32Array(G * N * N),
    objectAmplitude: new Float32Array(G * per),
    objectPhase: new Float32Array(G * per),
  };
  try {
    for (let g0 = 0; g0 < G; g0 += B) {
      const n = Math.min(B, G - g0);
      const xb = new Float32Array(B * per);
      xb.set(X.subarray(g0 * per, (g0 + n) * per));
      const feeds: Record<string, ort.Tensor> = { diffraction: new ort.Tensor('float32', xb, [B, C, N, N]) };
      if (C > 1 && offsets) {
        const ob = new Float32Array(B * C * 2);
        ob.set(offsets.subarray(g0 * C * 2, (g0 + n) * C * 2));
        feeds.offsets = new ort.Tensor('float32', ob, [B, C, 2]);
      }
      const r = await session.run(feeds);
      out.amplitude.set((r.amplitude.data as Float32Array).subarray(0, n * N * N), g0 * N * N);
      out.phase.set((r.phase.data as Float32Array).subarray(0, n * N * N), g0 * N * N);
      out.objectAmplitude.set((r.object_amplitude.data as Float32Array).subarray(0, n * per), g0 * per);
      out.objectPhase.set((r.object_phase.data as Float32Array).subarray(0, n * per), g0 * per);
    }
  } finally {
    await session.release();
  }
  return out;
}

export interface FileReconstruction extends Reconstruction {
  /** Where each output's centre belongs, in the file's pixel coordinates: (G) each. */
  xcoords: Float64Array;
  ycoords: Float64Array;
  /** Scan-point indices of each group (G, C). */
  indices: Int32Array;
}

/** Group a study file as the model was trained (one group per scan point) and reconstruct it. */
export async function reconstructStudyFile(
  modelPath: string,
  npzPath: string,
  opts: { threads?: number } = {},
): Promise<FileReconstruction> {
  const card = readModelCard(modelPath);
  const file = await loadStudyFile(npzPath);
  if (file.N !== card.N) {
    throw new StudyError(
      'DATA_CONTRACT',
      `the file's patterns are ${file.N} px but the model was trained at N=${card.N}`,
      {
        file: npzPath,
        key: 'diffraction',
      },
    );
  }
  const groups = groupScanPoints(file.xcoords, file.ycoords, {
    gridsize: card.gridsize,
    neighborCount: card.grouping.neighbor_count,
    seed: card.grouping.seed,
    rule: card.grouping.rule,
  });
  const { N, C } = card;
  const d = file.diffraction.data as Float32Array;
  const grouped = new Float32Array(groups.count * C * N * N);
  for (let i = 0; i < groups.indices.length; i++) {
    const p = groups.indices[i];
    grouped.set(d.subarray(p * N * N, (p + 1) * N * N), i * N * N);
  }
  const rec = await reconstructPatches(modelPath, grouped, C > 1 ? groups.offsets : null, opts);
  const xcoords = new Float64Array(groups.count);
  const ycoords = new Float64Array(groups.count);
  for (let g = 0; g < groups.count; g++) {
    for (let c = 0; c < C; c++) {
      xcoords[g] += file.xcoords[groups.indices[g * C + c]] / C;
      ycoords[g] += file.ycoords[groups.indices[g * C + c]] / C;
    }
  }
  return { ...rec, xcoords, ycoords, indices: groups.indices };
}
