/**
 * model.onnx: the trained network + per-sample reassembly as a plain inference graph
 * (parameters baked in as initializers) that any onnxruntime InferenceSession runs, with a
 * model.json card beside it saying how to feed it.
 *
 * Inputs:  diffraction (B, C, N, N) float32, normalised X = d·√((N/2)² / mean Σ d²) over the
 *          set being reconstructed (the original's normalize_data);
 *          offsets (B, C, 2) float32 (dx, dy) in pixels relative to the group mean (gridsize > 1).
 * Outputs: amplitude, phase (B, 1, N, N): the group's reassembled object trimmed to N × N
 *          (the original's diffraction_to_obj); object_amplitude, object_phase (B, C, N, N):
 *          the network's patches before reassembly.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../data/atomic';
import type { FloatArray } from '../nn/graph';
import { exportInference } from '../nn/train-step';
import { buildPinnGraph, INPUT_DIFFRACTION, INPUT_OFFSETS, type PinnModelSpec, type ProbeArrays } from './model';

export const EXPORT_BATCH = 16;
export const MODEL_FILE = 'model.onnx';
export const MODEL_CARD_FILE = 'model.json';

export const ModelCard = z.object({
  format: z.literal('ptycho-study-pinn'),
  version: z.literal(1),
  N: z.number().int(),
  gridsize: z.number().int(),
  C: z.number().int(),
  batch: z.number().int(),
  canvas: z.number().int(),
  inputs: z.record(z.string(), z.array(z.number().int())),
  outputs: z.record(z.string(), z.array(z.number().int())),
  input_normalisation: z.string(),
  intensity_scale: z.number(),
  trained_log_scale: z.number(),
  nphotons: z.number(),
  parameter_count: z.number().int(),
  /** How the training data were grouped; reconstruct the test file the same way. */
  grouping: z.object({
    rule: z.enum(['random-knn', 'nearest']),
    neighbor_count: z.number().int(),
    seed: z.number().int(),
  }),
  model: z.record(z.string(), z.unknown()),
});
export type ModelCard = z.infer<typeof ModelCard>;

export interface ExportedModel {
  path: string;
  sha256: string;
  bytes: number;
  cardPath: string;
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  writeFileAtomicSync(path, data);
}

export function exportModel(
  dir: string,
  spec: PinnModelSpec,
  probe: ProbeArrays,
  intensityScale: number,
  nphotons: number,
  params: ReadonlyMap<string, FloatArray>,
  parameterCount: number,
  grouping: ModelCard['grouping'],
): ExportedModel {
  const pg = buildPinnGraph({ ...spec, batch: EXPORT_BATCH }, probe, intensityScale, false, true);
  const bytes = exportInference(
    pg.graph,
    { amplitude: pg.amplitude, phase: pg.phaseOut, object_amplitude: pg.amp, object_phase: pg.phase },
    params,
    `PtychoPINN N=${spec.N} gridsize=${spec.gridsize}: diffraction${pg.C > 1 ? ' + offsets' : ''} → amplitude, phase`,
  );
  const path = join(dir, MODEL_FILE);
  writeAtomic(path, bytes);
  const B = EXPORT_BATCH;
  const { N, gridsize } = spec;
  const C = pg.C;
  const logScale = params.get('log_scale');
  const card: ModelCard = {
    format: 'ptycho-study-pinn',
    version: 1,
    N,
    gridsize,
    C,
    batch: B,
    canvas: pg.M,
    inputs: { [INPUT_DIFFRACTION]: [B, C, N, N], ...(C > 1 ? { [INPUT_OFFSETS]: [B, C, 2] } : {}) },
    outputs: {
      amplitude: [B, 1, N, N],
      phase: [B, 1, N, N],
      object_amplitude: [B, C, N, N],
      object_phase: [B, C, N, N],
    },
    input_normalisation: 'X = d * sqrt((N/2)^2 / mean_j sum(d_j^2)) over the patterns being reconstructed',
    intensity_scale: intensityScale,
    trained_log_scale: logScale ? logScale[0] : Math.log(intensityScale),
    nphotons,
    parameter_count: parameterCount,
    grouping,
    model: { ...spec },
  };
  const cardPath = join(dir, MODEL_CARD_FILE);
  writeAtomic(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength, cardPath };
}
