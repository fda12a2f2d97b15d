/**
 * Forward and gradient parity of an accelerator against the CPU provider for every case
 * in OP_CASES. Values are float32 on both sides; the tolerance (1e-4 relative to the
 * largest magnitude of the compared tensor, plus 1e-5 absolute) allows for the different
 * summation order of GPU reductions, not for lower-precision math.
 */
import type { ExecutionProviderName } from '../../shared/api';
import { gradients } from '../nn/autodiff';
import { Graph, numel, type Tensor } from '../nn/graph';
import { weightInitRng } from '../numeric/rng';
import { mul, reduceSum } from '../nn/ops-basic';
import { compileGraph } from '../nn/run';
import { OP_CASES, type OpCase } from './op-cases';

export const PARITY_RTOL = 1e-4;
export const PARITY_ATOL = 1e-5;

export interface OpParityRow {
  op: string;
  ok: boolean;
  /** max |accel − cpu| / (max |cpu| + atol/rtol) over forward and gradients. */
  maxRelError: number;
  maxAbsError: number;
  error?: string;
}

async function runCase(c: OpCase, provider: ExecutionProviderName, seed: number): Promise<Float32Array[]> {
  const rng = weightInitRng(seed);
  const g = new Graph('float32');
  const ps = c.params.map((p) => {
    const [lo, hi] = p.range ?? [-1, 1];
    return g.param(
      p.name,
      p.shape,
      Array.from({ length: numel(p.shape) }, () => rng.uniform(lo, hi)),
    );
  });
  const y = c.build(ps);
  const R = g.constant(
    Array.from({ length: numel(y.shape) }, () => rng.uniform(-1, 1)),
    y.shape,
    y.dtype,
  );
  const grads = gradients(reduceSum(mul(y, R)), ps);
  const outs: Record<string, Tensor> = { forward: y };
  grads.forEach((t, i) => {
    outs[`grad${i}`] = t;
  });
  const compiled = await compileGraph(g, outs, { provider, threads: 1 });
  try {
    const r = await compiled.run();
    return Object.keys(outs).map((k) => Float32Array.from(r[k].data as Float32Array));
  } finally {
    await compiled.release();
  }
}

export async function opParity(provider: ExecutionProviderName, seed = 11): Promise<OpParityRow[]> {
  const rows: OpParityRow[] = [];
  for (const c of OP_CASES) {
    try {
      const ref = await runCase(c, 'cpu', seed);
      const got = await runCase(c, provider, seed);
      let maxRel = 0;
      let maxAbs = 0;
      ref.forEach((a, i) => {
        const b = got[i];
        let scale = 0;
        for (const v of a) scale = Math.max(scale, Math.abs(v));
        for (let j = 0; j < a.length; j++) {
          const d = Math.abs(a[j] - b[j]);
          maxAbs = Math.max(maxAbs, d);
          maxRel = Math.max(maxRel, d / (scale + PARITY_ATOL / PARITY_RTOL));
        }
      });
      rows.push({ op: c.name, ok: maxRel <= PARITY_RTOL, maxRelError: maxRel, maxAbsError: maxAbs });
    } catch (e) {
      rows.push({
        op: c.name,
        ok: false,
        maxRelError: Number.NaN,
        maxAbsError: Number.NaN,
        error: String((e as Error).message ?? e).slice(0, 300),
      });
    }
  }
  return rows;
}
