/**
 * Two reference values of the training loss, so a curve can be read against "learned
 * nothing" and "perfect" (both in the loss's own units, Poisson NLL without log(I!), mean
 * over C·N·N per group, then over groups — as `poissonNll`):
 *   - mean-pattern NLL: every pattern predicted as the mean training pattern. A model whose
 *     loss is above it has learned less than the average diffraction pattern.
 *   - true-object NLL floor (when the file holds the ground-truth patches Y): the noiseless
 *     far field of the true object under the file's probe, with the one overall scale that
 *     best fits the counts. Only noise separates a perfect model from it.
 * The gap between them is the loss's dynamic range: it grows with the dose, so the learning
 * rate schedule measures progress as a fraction of it (schedule.ts).
 */
import type { StudyFile } from '../data/study-file';
import { forwardIntensity } from '../data/physics';
import type { TrainingData } from './dataset';
import { LOG_EPS } from './physics';

export interface ReferenceNll {
  meanPattern: number;
  /** Every pattern predicted as itself (Î = I): the unreachable lower bound, known without a ground truth. */
  saturated: number;
  /** Null when the file has no ground-truth patches. */
  trueObject: number | null;
}

/** Groups [from, to) of `data` as the list of their member patterns (with repetition). */
function members(data: TrainingData, from: number, to: number): Uint32Array {
  const C = data.C;
  const out = new Uint32Array((to - from) * C);
  for (let g = from; g < to; g++) for (let c = 0; c < C; c++) out[(g - from) * C + c] = data.groups.indices[g * C + c];
  return out;
}

/** The mean target pattern (counts, (s₀X)²) over the members of groups [from, to). */
export function meanPattern(data: TrainingData, from: number, to: number): Float64Array {
  const nn = data.N * data.N;
  const m = members(data, from, to);
  const mean = new Float64Array(nn);
  for (const p of m) {
    const o = p * nn;
    for (let i = 0; i < nn; i++) {
      const v = data.patterns[o + i];
      mean[i] += v * v;
    }
  }
  for (let i = 0; i < nn; i++) mean[i] /= Math.max(1, m.length);
  return mean;
}

/** Poisson NLL (the loss's form) of predicting `iHat(p)` for every member pattern p of groups [from, to). */
function nllOver(data: TrainingData, from: number, to: number, iHat: (p: number) => ArrayLike<number>): number {
  const nn = data.N * data.N;
  const m = members(data, from, to);
  let acc = 0;
  for (const p of m) {
    const pred = iHat(p);
    const o = p * nn;
    for (let i = 0; i < nn; i++) {
      const t = data.patterns[o + i];
      // a pixel with no counts adds Î alone (0 · log is 0): most of them at a low dose
      acc += t === 0 ? pred[i] : pred[i] - t * t * Math.log(pred[i] + LOG_EPS);
    }
  }
  return acc / Math.max(1, m.length * nn);
}

/**
 * The reference NLLs over groups [from, to): the mean pattern is taken over `meanOf`
 * (default: the same groups; pass the training groups to score a validation set against
 * what the training data alone could predict).
 */
export function referenceNll(
  data: TrainingData,
  file: Pick<StudyFile, 'Y' | 'probeGuess'>,
  from: number,
  to: number,
  meanOf: [number, number] = [from, to],
): ReferenceNll {
  const mean = meanPattern(data, meanOf[0], meanOf[1]);
  const meanPatternNll = nllOver(data, from, to, () => mean);
  const nn0 = data.N * data.N;
  const own = new Float64Array(nn0);
  const saturated = nllOver(data, from, to, (p) => {
    for (let i = 0; i < nn0; i++) own[i] = data.patterns[p * nn0 + i] ** 2;
    return own;
  });
  if (!file.Y || file.Y.shape[1] !== data.N) return { meanPattern: meanPatternNll, saturated, trueObject: null };
  const m = members(data, from, to);
  const used = [...new Set(m)].sort((a, b) => a - b);
  const nn = data.N * data.N;
  const y = file.Y.data as Float32Array | Float64Array;
  const sub = new Float32Array(used.length * 2 * nn);
  for (const [k, p] of used.entries()) sub.set(y.subarray(p * 2 * nn, (p + 1) * 2 * nn), k * 2 * nn);
  const A = forwardIntensity({ dtype: 'complex64', shape: [used.length, data.N, data.N], data: sub }, file.probeGuess)
    .data as Float64Array;
  const row = new Map(used.map((p, k) => [p, k]));
  // the scale that minimises Σ (kA − I log kA): k = Σ I / Σ A over the same patterns
  let sumI = 0;
  let sumA = 0;
  for (const p of m) {
    const k = row.get(p) as number;
    for (let i = 0; i < nn; i++) {
      const t = data.patterns[p * nn + i];
      sumI += t * t;
      sumA += A[k * nn + i];
    }
  }
  const scale = sumA > 0 ? sumI / sumA : 0;
  const pred = new Float64Array(nn);
  const trueObject = nllOver(data, from, to, (p) => {
    const k = row.get(p) as number;
    for (let i = 0; i < nn; i++) pred[i] = scale * A[k * nn + i];
    return pred;
  });
  return { meanPattern: meanPatternNll, saturated, trueObject };
}
