/**
 * A small simulated scan for the classical tests: the study's synthetic object and probe on a
 * raster (or a thinned raster) of positions, amplitudes from the reference physics, with
 * optional Poisson noise at a dose. Kept tiny (N = 32) so a reconstruction takes a second.
 */
import { expectedIntensity, physicsScratch } from '../data/physics';
import { createRng } from '../data/rng';
import { syntheticObject, syntheticProbe } from '../data/synthetic';
import type { PieData } from './pie';

export interface ScanFixture {
  data: PieData;
  /** (H, W) interleaved ground truth */
  object: Float64Array;
  /** (N, N) interleaved true probe */
  probe: Float64Array;
}

export function rasterScan(opts: {
  N?: number;
  objectSize?: number;
  step: number;
  dose?: number;
  seed?: number;
  jitter?: number;
}): ScanFixture {
  const N = opts.N ?? 32;
  const size = opts.objectSize ?? 96;
  const seed = opts.seed ?? 1;
  const object = syntheticObject(size, seed).data as Float64Array;
  const probe = syntheticProbe(N, 0.6 * N).data as Float64Array;
  const rng = createRng(seed, 'fixture/positions');
  const xs: number[] = [];
  const ys: number[] = [];
  const j = opts.jitter ?? 1;
  for (let y = N / 2 + j; y <= size - N / 2 - j; y += opts.step)
    for (let x = N / 2 + j; x <= size - N / 2 - j; x += opts.step) {
      xs.push(Math.round(x) + rng.integer(-j, j));
      ys.push(Math.round(y) + rng.integer(-j, j));
    }
  const M = xs.length;
  const nn = N * N;
  const patch = new Float64Array(2 * nn);
  const one = new Float64Array(nn);
  const scratch = physicsScratch(N);
  const intens = new Float64Array(M * nn);
  let energy = 0;
  for (let k = 0; k < M; k++) {
    for (let r = 0; r < N; r++) {
      const from = 2 * ((ys[k] - N / 2 + r) * size + xs[k] - N / 2);
      patch.set(object.subarray(from, from + 2 * N), 2 * r * N);
    }
    energy += expectedIntensity(patch, 0, probe, one, scratch);
    intens.set(one, k * nn);
  }
  const diffraction = new Float32Array(M * nn);
  const s2 = opts.dose ? opts.dose / (energy / M) : 0;
  const noise = createRng(seed, 'fixture/noise');
  for (let i = 0; i < M * nn; i++)
    diffraction[i] = opts.dose ? Math.sqrt(noise.poisson(intens[i] * s2) / s2) : Math.sqrt(intens[i]);
  return {
    data: { N, diffraction, xs, ys, objectHeight: size, objectWidth: size, probe: Float64Array.from(probe) },
    object,
    probe,
  };
}
