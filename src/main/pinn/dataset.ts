/**
 * A study file prepared for training: groups, the original's scaling contract and the probe
 * in the model's gauge, with batches gathered on demand (the grouped array is never
 * materialised: at gridsize 2 it would be C times the file).
 *
 * Scaling (model doc, "Normalisation"):
 *   X = d · √((N/2)² / mean Σ d²), the mean over all patterns of the grouped set;
 *   s₀ = √nphotons / (N/2); the graph is fed s₀·X and its target counts are (s₀X)².
 * Probe gauge:
 *   original: P = probeGuess / (probe_scale · mean over N×N of |disc · probeGuess|);
 *   absolute (the reference's): P = probeGuess_abs / s₀ with nphotons = the file's mean
 *   total counts and probeGuess_abs = intensity_scale · probeGuess, so that the true object
 *   reproduces the expected counts (our files store d = √counts / intensity_scale).
 */
import type { StudyFile } from '../data/study-file';
import { StudyError } from '../../shared/errors';
import { type Groups, groupScanPoints } from './grouping';
import type { ProbeArrays } from './model';
import { probeDisc } from './physics';
import type { PinnSettings } from './settings';

export interface TrainingData {
  N: number;
  C: number;
  groups: Groups;
  /** s₀ · X per scan point, (points, N, N). */
  patterns: Float32Array;
  /** s₀ = √nphotons / (N/2). */
  intensityScale: number;
  nphotons: number;
  /** √((N/2)² / mean Σ d²): file amplitudes → X. */
  normalisation: number;
  probe: ProbeArrays;
  /** Mean total counts of the file (from its recorded intensity_scale, 1 when absent). */
  meanCounts: number;
}

export function prepareTrainingData(file: StudyFile, settings: PinnSettings): TrainingData {
  const N = file.N;
  if (N !== settings.N) {
    throw new StudyError(
      'DATA_CONTRACT',
      `the data's patterns are ${N} × ${N} but the model is configured for N=${settings.N}`,
      {
        file: file.path,
        key: 'diffraction',
        found: file.diffraction.shape,
        expected: `(M, ${settings.N}, ${settings.N})`,
      },
    );
  }
  const d = file.diffraction.data as Float32Array;
  const points = file.diffraction.shape[0];
  const nn = N * N;
  const energy = new Float64Array(points);
  for (let j = 0; j < points; j++) {
    let e = 0;
    for (let i = j * nn; i < (j + 1) * nn; i++) {
      const v = d[i];
      if (!Number.isFinite(v)) {
        throw new StudyError('DATA_CONTRACT', `diffraction holds a non-finite value in pattern ${j}`, {
          file: file.path,
          key: 'diffraction',
          found: v,
        });
      }
      e += v * v;
    }
    energy[j] = e;
  }
  const groups = groupScanPoints(file.xcoords, file.ycoords, {
    gridsize: settings.gridsize,
    neighborCount: settings.neighborCount,
    nGroups: settings.nGroups ?? undefined,
    seed: settings.groupingSeed,
    rule: settings.groupingRule,
  });
  let sum = 0;
  for (const idx of groups.indices) sum += energy[idx];
  const meanEnergy = sum / groups.indices.length;
  if (!(meanEnergy > 0)) {
    throw new StudyError('DATA_CONTRACT', 'the diffraction patterns are all zero', {
      file: file.path,
      key: 'diffraction',
    });
  }
  const fileScale = file.meta.intensity_scale ?? 1;
  let meanFile = 0;
  for (let j = 0; j < points; j++) meanFile += energy[j];
  const meanCounts = (meanFile / points) * fileScale * fileScale;
  const nphotons = settings.probeGauge === 'absolute' ? meanCounts : settings.nphotons;
  const s0 = Math.sqrt(nphotons) / (N / 2);
  const normalisation = Math.sqrt(((N / 2) * (N / 2)) / meanEnergy);
  const patterns = new Float32Array(points * nn);
  const k = s0 * normalisation;
  for (let i = 0; i < patterns.length; i++) patterns[i] = d[i] * k;

  const pg = file.probeGuess.data as Float32Array;
  const re = new Float32Array(nn);
  const im = new Float32Array(nn);
  let divisor: number;
  let factor = 1;
  if (settings.probeGauge === 'absolute') {
    divisor = s0;
    factor = fileScale;
  } else {
    const disc = probeDisc(N);
    let acc = 0;
    for (let i = 0; i < nn; i++) acc += disc[i] * Math.hypot(pg[2 * i], pg[2 * i + 1]);
    divisor = settings.probeScale * (acc / nn);
  }
  if (!(divisor > 0)) {
    throw new StudyError('DATA_CONTRACT', 'probeGuess is zero inside the r < N/4 disc', {
      file: file.path,
      key: 'probeGuess',
    });
  }
  for (let i = 0; i < nn; i++) {
    re[i] = (pg[2 * i] * factor) / divisor;
    im[i] = (pg[2 * i + 1] * factor) / divisor;
  }
  return {
    N,
    C: groups.C,
    groups,
    patterns,
    intensityScale: s0,
    nphotons,
    normalisation,
    probe: { re, im },
    meanCounts,
  };
}

export interface BatchArrays {
  diffraction: Float32Array;
  offsets: Float32Array;
  weights: Float32Array;
  /** Real samples in the batch (the rest are padding with weight 0). */
  count: number;
}

/**
 * Gather groups `ids` into a batch of fixed size B; a short last batch is padded by
 * repeating its first group with weight 0, so every group counts once per epoch (Keras
 * keeps the partial batch) while the graph keeps its static shape.
 */
export function gatherBatch(data: TrainingData, ids: ArrayLike<number>, B: number): BatchArrays {
  const { N, C } = data;
  const nn = N * N;
  const n = ids.length;
  if (n < 1 || n > B) throw new RangeError(`gatherBatch: ${n} groups for a batch of ${B}`);
  const diffraction = new Float32Array(B * C * nn);
  const offsets = new Float32Array(B * C * 2);
  const weights = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    const gi = ids[b < n ? b : 0];
    weights[b] = b < n ? 1 / n : 0;
    for (let c = 0; c < C; c++) {
      const p = data.groups.indices[gi * C + c];
      diffraction.set(data.patterns.subarray(p * nn, (p + 1) * nn), (b * C + c) * nn);
      offsets[(b * C + c) * 2] = data.groups.offsets[(gi * C + c) * 2];
      offsets[(b * C + c) * 2 + 1] = data.groups.offsets[(gi * C + c) * 2 + 1];
    }
  }
  return { diffraction, offsets, weights, count: n };
}
