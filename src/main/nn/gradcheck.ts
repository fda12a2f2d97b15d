/**
 * Central finite-difference gradient check for the VJP rules (used by the tests).
 * The checked function is reduced to a scalar with a fixed random weighting,
 * L = Σ f(θ)·R, so every output element matters; ∂L/∂θ from autodiff is compared with
 * (L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h on a sample of coordinates of every parameter.
 */
import { gradients } from './autodiff';
import { type FloatArray, Graph, type ParamTensor, type Tensor, numel } from './graph';
import { weightInitRng } from '../numeric/rng';
import { mul, reduceSum } from './ops-basic';
import { compileGraph } from './run';

export interface GradcheckOptions {
  dtype?: 'float32' | 'float64';
  /** Finite-difference step. */
  h?: number;
  /** Pass when |fd − ad| ≤ atol + rtol·max(|fd|, |ad|). */
  rtol?: number;
  atol?: number;
  /** Coordinates checked per parameter (all when the parameter is smaller). */
  samples?: number;
  seed?: number;
}

export interface GradcheckResult {
  checked: number;
  maxAbsError: number;
  failures: string[];
}

export interface GradcheckParam {
  name: string;
  shape: number[];
  /** Initial values; default uniform in [lo, hi). */
  init?: ArrayLike<number>;
  range?: [number, number];
}

/** Check the gradient of `build(params)` with respect to every param. */
export async function gradcheck(
  params: readonly GradcheckParam[],
  build: (p: Tensor[], g: Graph) => Tensor,
  options: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const dtype = options.dtype ?? 'float64';
  const h = options.h ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const rtol = options.rtol ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const atol = options.atol ?? (dtype === 'float64' ? 1e-9 : 1e-3);
  const rng = weightInitRng(options.seed ?? 7);
  const g = new Graph(dtype);
  const ps: ParamTensor[] = params.map((p) => {
    const [lo, hi] = p.range ?? [-1, 1];
    const init = p.init ?? Array.from({ length: numel(p.shape) }, () => rng.uniform(lo, hi));
    return g.param(p.name, p.shape, Array.from(init));
  });
  const y = build(ps, g);
  const R = g.constant(
    Array.from({ length: numel(y.shape) }, () => rng.uniform(-1, 1)),
    y.shape,
    y.dtype,
  );
  const loss = reduceSum(mul(y, R));
  const grads = gradients(loss, ps);
  const outs: Record<string, Tensor> = { loss };
  grads.forEach((t, i) => {
    outs[`grad${i}`] = t;
  });
  const full = await compileGraph(g, outs, { threads: 1 });
  const lossOnly = await compileGraph(g, { loss }, { threads: 1 });
  const base = await full.run();
  const result: GradcheckResult = { checked: 0, maxAbsError: 0, failures: [] };
  const values = new Map<string, FloatArray>(ps.map((p) => [p.name, p.init.slice()]));
  const feeds = () => Object.fromEntries(values);
  for (let i = 0; i < ps.length; i++) {
    const ad = base[`grad${i}`].data as FloatArray;
    const n = ad.length;
    const k = Math.min(n, options.samples ?? 24);
    const coords = k === n ? [...Array(n).keys()] : Array.from({ length: k }, () => Math.floor(rng.next() * n));
    const v = values.get(ps[i].name)!;
    for (const c of coords) {
      const x0 = v[c];
      // The stored (possibly float32-rounded) perturbed values give the true step.
      v[c] = x0 + h;
      const xp = v[c];
      const lp = Number((await lossOnly.run(feeds())).loss.data[0]);
      v[c] = x0 - h;
      const xm = v[c];
      const lm = Number((await lossOnly.run(feeds())).loss.data[0]);
      v[c] = x0;
      const fd = (lp - lm) / (xp - xm);
      const err = Math.abs(fd - ad[c]);
      result.checked++;
      result.maxAbsError = Math.max(result.maxAbsError, err);
      if (!(err <= atol + rtol * Math.max(Math.abs(fd), Math.abs(ad[c])))) {
        result.failures.push(`${ps[i].name}[${c}]: autodiff ${ad[c]} vs finite difference ${fd}`);
      }
    }
  }
  await full.release();
  await lossOnly.release();
  return result;
}
