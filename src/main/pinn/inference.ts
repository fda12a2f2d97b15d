/**
 * The one runner of a trained model.onnx (and its model.json card): training's checks, the
 * bench and evaluation all reconstruct through `runModel`.
 *   - `normaliseDiffraction`: X = d·√((N/2)² / mean Σ d²) over the patterns fed, the
 *     original's normalize_data;
 *   - `runModel`: the graph in batches of its fixed size, inputs filled and outputs taken per
 *     group by the caller, so a large test split is never copied whole;
 *   - `reconstructPatches`: grouped amplitudes in, each group's reassembled object (trimmed to
 *     N × N, the original's diffraction_to_obj) and the network's patches out;
 *   - `reconstructStudyFile`: a study file grouped the way the model card says it was trained,
 *     with where each output belongs (scan position for gridsize 1, group centre for 2).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from '../../shared/api';
import { StudyError } from '../../shared/errors';
import { readFileNamed } from '../data/read-file';
import { loadStudyFile, type StudyFile } from '../data/study-file';
import { createSession } from '../nn/session';
import { MODEL_CARD_FILE, ModelCard } from './export';
import { type GroupingRule, type Groups, groupScanPoints } from './grouping';

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
  if (!existsSync(path)) {
    throw new StudyError('NOT_FOUND', `the model has no ${MODEL_CARD_FILE} card saying how to feed it`, {
      file: path,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileNamed(path, 'utf8'));
  } catch (e) {
    if (e instanceof StudyError) throw e;
    throw new StudyError('DATA_CONTRACT', `model card is not valid JSON: ${(e as Error).message}`, { file: path });
  }
  const card = ModelCard.safeParse(raw);
  if (!card.success) {
    throw new StudyError('DATA_CONTRACT', `model card does not match its schema: ${card.error.issues[0]?.message}`, {
      file: path,
      key: card.error.issues[0]?.path.join('.'),
    });
  }
  return card.data;
}

/** The factor k of X = k·d: √((N/2)² / mean Σ d²) over `patterns` patterns whose Σ d² is `sumSquares`. */
export function normalisationFactor(sumSquares: number, patterns: number, N: number, file?: string): number {
  const mean = sumSquares / patterns;
  if (!(mean > 0)) {
    throw new StudyError('DATA_CONTRACT', 'the diffraction to reconstruct is all zero', { file, key: 'diffraction' });
  }
  return Math.sqrt(((N / 2) * (N / 2)) / mean);
}

/** X = d · √((N/2)² / mean Σ d²) over all the given patterns (the original's normalize_data). */
export function normaliseDiffraction(d: Float32Array, N: number): Float32Array {
  let sum = 0;
  for (let i = 0; i < d.length; i++) sum += d[i] * d[i];
  const k = normalisationFactor(sum, d.length / (N * N), N);
  return d.map((v) => v * k);
}

export interface RunModelOptions {
  /** Execution provider (default the CPU). */
  provider?: ExecutionProviderName;
  /** intraOpNumThreads on the CPU (default 2). */
  threads?: number;
}

/** One group's outputs: views into the batch's tensors, valid only during the call. */
export interface GroupOutput {
  /** (N, N) */
  amplitude: Float32Array;
  /** (N, N), radians */
  phase: Float32Array;
  /** (C, N, N) */
  objectAmplitude: Float32Array;
  objectPhase: Float32Array;
}

/**
 * Run model.onnx over `count` groups in batches of the card's fixed size. `fill(g, x, offsets)`
 * writes group g's model input (C, N, N) and, for gridsize > 1, its offsets (C, 2); `take(g, out)`
 * receives its outputs. A short last batch is padded with zeros whose outputs are dropped.
 */
export async function runModel(
  modelPath: string,
  card: ModelCard,
  count: number,
  fill: (g: number, x: Float32Array, offsets: Float32Array) => void,
  take: (g: number, out: GroupOutput) => void,
  opts: RunModelOptions = {},
): Promise<void> {
  const { N, C, batch: B } = card;
  const nn = N * N;
  const per = C * nn;
  const session = await createSession(readFileNamed(modelPath), {
    provider: opts.provider ?? 'cpu',
    threads: opts.threads ?? 2,
  });
  try {
    const xb = new Float32Array(B * per);
    const ob = new Float32Array(B * C * 2);
    for (let g0 = 0; g0 < count; g0 += B) {
      const n = Math.min(B, count - g0);
      if (n < B) {
        xb.fill(0);
        ob.fill(0);
      }
      for (let b = 0; b < n; b++)
        fill(g0 + b, xb.subarray(b * per, (b + 1) * per), ob.subarray(b * C * 2, (b + 1) * C * 2));
      const feeds: Record<string, ort.Tensor> = { diffraction: new ort.Tensor('float32', xb, [B, C, N, N]) };
      if (C > 1) feeds.offsets = new ort.Tensor('float32', ob, [B, C, 2]);
      const r = await session.run(feeds);
      const amp = r.amplitude.data as Float32Array;
      const ph = r.phase.data as Float32Array;
      const oa = r.object_amplitude.data as Float32Array;
      const op = r.object_phase.data as Float32Array;
      for (let b = 0; b < n; b++) {
        take(g0 + b, {
          amplitude: amp.subarray(b * nn, (b + 1) * nn),
          phase: ph.subarray(b * nn, (b + 1) * nn),
          objectAmplitude: oa.subarray(b * per, (b + 1) * per),
          objectPhase: op.subarray(b * per, (b + 1) * per),
        });
      }
    }
  } finally {
    await session.release();
  }
}

/**
 * `diffraction` (G, C, N, N) file amplitudes (normalised here unless `normalised`),
 * `offsets` (G, C, 2) as (dx, dy) for gridsize > 1.
 */
export async function reconstructPatches(
  modelPath: string,
  diffraction: Float32Array,
  offsets: Float32Array | null,
  opts: RunModelOptions & { normalised?: boolean } = {},
): Promise<Reconstruction> {
  const card = readModelCard(modelPath);
  const { N, C } = card;
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
  const out: Reconstruction = {
    count: G,
    N,
    C,
    amplitude: new Float32Array(G * N * N),
    phase: new Float32Array(G * N * N),
    objectAmplitude: new Float32Array(G * per),
    objectPhase: new Float32Array(G * per),
  };
  await runModel(
    modelPath,
    card,
    G,
    (g, x, o) => {
      x.set(X.subarray(g * per, (g + 1) * per));
      if (C > 1 && offsets) o.set(offsets.subarray(g * C * 2, (g + 1) * C * 2));
    },
    (g, r) => {
      out.amplitude.set(r.amplitude, g * N * N);
      out.phase.set(r.phase, g * N * N);
      out.objectAmplitude.set(r.objectAmplitude, g * per);
      out.objectPhase.set(r.objectPhase, g * per);
    },
    opts,
  );
  return out;
}

/** A study file's scan points grouped for a model, with each group's centre. */
export interface GroupedFile {
  groups: Groups;
  /** Mean position of each group's members (G). */
  xcoords: Float64Array;
  ycoords: Float64Array;
  /** The normalisation factor k of X = k·d over the grouped patterns. */
  scale: number;
}

/**
 * Group `file` as a model with this card was trained (K, seed and rule as given) and find the
 * normalisation over the grouped patterns. Checks the file's pattern size against the card.
 */
export function groupForModel(
  card: ModelCard,
  file: StudyFile,
  grouping: { neighborCount: number; seed: number; rule?: GroupingRule },
): GroupedFile {
  const { N, C } = card;
  if (file.N !== N) {
    throw new StudyError('DATA_CONTRACT', `the file's patterns are ${file.N} px but the model takes ${N} px`, {
      file: file.path,
      key: 'diffraction',
      found: file.N,
      expected: N,
    });
  }
  const groups = groupScanPoints(file.xcoords, file.ycoords, {
    gridsize: card.gridsize,
    neighborCount: grouping.neighborCount,
    seed: grouping.seed,
    rule: grouping.rule,
  });
  const nn = N * N;
  const d = file.diffraction.data as Float32Array;
  let sum = 0;
  for (const p of groups.indices) for (let i = p * nn; i < (p + 1) * nn; i++) sum += d[i] * d[i];
  const scale = normalisationFactor(sum, groups.indices.length, N, file.path);
  const xcoords = new Float64Array(groups.count);
  const ycoords = new Float64Array(groups.count);
  for (let g = 0; g < groups.count; g++) {
    for (let c = 0; c < C; c++) {
      xcoords[g] += file.xcoords[groups.indices[g * C + c]] / C;
      ycoords[g] += file.ycoords[groups.indices[g * C + c]] / C;
    }
  }
  return { groups, xcoords, ycoords, scale };
}

/** Fill one group's model input from the file: its members' patterns times the scale, and their offsets. */
export function fillGroup(
  card: ModelCard,
  file: StudyFile,
  grouped: GroupedFile,
  g: number,
  x: Float32Array,
  offsets: Float32Array,
): void {
  const { N, C } = card;
  const nn = N * N;
  const d = file.diffraction.data as Float32Array;
  const { indices, offsets: groupOffsets } = grouped.groups;
  for (let c = 0; c < C; c++) {
    const p = indices[g * C + c];
    for (let i = 0; i < nn; i++) x[c * nn + i] = d[p * nn + i] * grouped.scale;
    offsets[2 * c] = groupOffsets[(g * C + c) * 2];
    offsets[2 * c + 1] = groupOffsets[(g * C + c) * 2 + 1];
  }
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
  opts: RunModelOptions = {},
): Promise<FileReconstruction> {
  const card = readModelCard(modelPath);
  const file = await loadStudyFile(npzPath);
  const grouped = groupForModel(card, file, {
    neighborCount: card.grouping.neighbor_count,
    seed: card.grouping.seed,
    rule: card.grouping.rule,
  });
  const { N, C } = card;
  const G = grouped.groups.count;
  const nn = N * N;
  const rec: Reconstruction = {
    count: G,
    N,
    C,
    amplitude: new Float32Array(G * nn),
    phase: new Float32Array(G * nn),
    objectAmplitude: new Float32Array(G * C * nn),
    objectPhase: new Float32Array(G * C * nn),
  };
  await runModel(
    modelPath,
    card,
    G,
    (g, x, o) => fillGroup(card, file, grouped, g, x, o),
    (g, r) => {
      rec.amplitude.set(r.amplitude, g * nn);
      rec.phase.set(r.phase, g * nn);
      rec.objectAmplitude.set(r.objectAmplitude, g * C * nn);
      rec.objectPhase.set(r.objectPhase, g * C * nn);
    },
    opts,
  );
  return { ...rec, xcoords: grouped.xcoords, ycoords: grouped.ycoords, indices: grouped.groups.indices };
}
