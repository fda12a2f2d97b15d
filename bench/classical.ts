/**
 * Bench group `classical`: the classical arm (ePIE with probe refinement, plain float64
 * TypeScript) on a dense scan at the study's sizes (N = 64, spacing 11 px ≈ the dense view's
 * 11.5, dose 1e5), next to the numpy twin bench/reference/pie.py run on the same data with
 * the same position orders, interleaved, median of 3. Rows: iterations/s (ours / numpy),
 * iterations and seconds until the data-fit error is within 2 % of its final value, and the
 * largest difference between the two implementations' objects (a correctness check); then the
 * same for LSQML (ours per position, numpy batched over all positions at once).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PieOptions, pieOptions, reconstructPie, sweepOrders, tvWeight } from '../src/main/classical/pie';
import { rasterScan } from '../test/fixtures/pie.fixture';
import { readNpz, writeNpz } from '../src/main/data/npz';
import { packageRoot } from '../src/main/paths';
import { findPython } from '../src/main/util/python';
import type { BenchContext, BenchGroup } from './types';
import { median, ratio } from './util';

const SCRIPT = join(packageRoot(), 'bench', 'reference', 'pie.py');

/** First iteration (1-based) whose error is within `tol` of the last one. */
export function iterationsToConverge(errors: readonly number[], tol = 0.02): number {
  const last = errors.at(-1) ?? 0;
  const i = errors.findIndex((e) => Math.abs(e - last) <= tol * last);
  return i < 0 ? errors.length : i + 1;
}

/**
 * The numpy twin's input: the scan, the position order of every iteration (`orders`, one row
 * per iteration) and its settings (`params`, in bench/reference/pie.py's order).
 */
async function writeTwinInput(
  path: string,
  scan: ReturnType<typeof rasterScan>,
  orders: Int32Array,
  params: number[],
): Promise<void> {
  const M = scan.data.xs.length;
  const N = scan.data.N;
  await writeNpz(path, {
    diffraction: { dtype: 'float32', shape: [M, N, N], data: scan.data.diffraction as Float32Array },
    xcoords: { dtype: 'float64', shape: [M], data: Float64Array.from(scan.data.xs) },
    ycoords: { dtype: 'float64', shape: [M], data: Float64Array.from(scan.data.ys) },
    probe: { dtype: 'complex128', shape: [N, N], data: Float64Array.from(scan.data.probe) },
    orders: { dtype: 'int32', shape: [orders.length / M, M], data: orders },
    params: { dtype: 'float64', shape: [params.length], data: Float64Array.from(params) },
  });
}

/** bench/reference/pie.py's `params`: [H, W, α, β, probe start, probe update, rPIE, LSQML, δ, μ, ε, momentum]. */
function twinParams(scan: ReturnType<typeof rasterScan>, size: number, o: PieOptions): number[] {
  const lsqml = o.algorithm === 'lsqml';
  const mu = lsqml ? tvWeight(scan.data, o.tv) : 0;
  return [size, size, o.alpha, o.beta, o.probeUpdateStart, 1, o.algorithm === 'rpie' ? 1 : 0, lsqml ? 1 : 0].concat(
    lsqml ? [o.delta, mu, o.tvEpsilon, mu > 0 ? o.momentum : 0] : [],
  );
}

async function run(ctx: BenchContext): Promise<void> {
  const python = findPython(['numpy']);
  if (!python) ctx.log('numpy not found (install python3-numpy): reporting ours only');
  const size = ctx.quick ? 160 : 256;
  const iterations = ctx.quick ? 5 : 20;
  const scan = rasterScan({ N: 64, objectSize: size, step: 11, dose: 1e5, seed: 3 });
  const M = scan.data.xs.length;
  const o = pieOptions({ iterations, probeUpdateStart: 2 });
  const gen = sweepOrders(M, o.seed);
  const orders = new Int32Array(iterations * M);
  for (let i = 0; i < iterations; i++) orders.set(gen.next().value, i * M);
  const dir = mkdtempSync(join(tmpdir(), 'bench-classical-'));
  try {
    const input = join(dir, 'in.npz');
    await writeTwinInput(input, scan, orders, twinParams(scan, size, o));
    const ours: number[] = [];
    const theirs: number[] = [];
    let diff = Number.NaN;
    let errDiff = Number.NaN;
    for (let round = 0; round < 3; round++) {
      const r = await reconstructPie(scan.data, o);
      ours.push(r.iterations / r.seconds);
      if (!python) continue;
      const out = join(dir, 'out.npz');
      const p = spawnSync(python, [SCRIPT, input, out], { encoding: 'utf8', timeout: 600_000 });
      if (p.status !== 0) throw new Error(`numpy twin failed: ${p.stderr}`);
      const t = await readNpz(out, ['object', 'error', 'seconds']);
      theirs.push(iterations / (t.seconds.data as Float64Array)[0]);
      const obj = t.object.data as Float64Array;
      diff = 0;
      for (let i = 0; i < r.objectRe.length; i++)
        diff = Math.max(diff, Math.hypot(obj[2 * i] - r.objectRe[i], obj[2 * i + 1] - r.objectIm[i]));
      const e = t.error.data as Float64Array;
      errDiff = Math.abs(e[iterations - 1] - r.errors[iterations - 1]) / r.errors[iterations - 1];
    }
    const ref = theirs.length ? median(theirs) : undefined;
    const what = `${M} positions, N = 64, object ${size} px, ePIE α ${o.alpha} β ${o.beta}, probe update from iteration ${o.probeUpdateStart + 1}, ${iterations} iterations`;
    ctx.report({
      name: 'classical_epie_iterations_per_s',
      value: median(ours),
      unit: 'iterations/s',
      ...(ref !== undefined ? { reference_value: ref, ratio_vs_reference: ratio(median(ours), ref) } : {}),
      notes: `${what}; reference numpy (same algorithm and position orders, np.fft per position)`,
    });
    ctx.report({
      name: 'classical_epie_positions_per_s',
      value: median(ours) * M,
      unit: 'positions/s',
      ...(ref !== undefined ? { reference_value: ref * M, ratio_vs_reference: ratio(median(ours), ref) } : {}),
      notes: 'one position = forward and inverse 64 × 64 FFT, object and probe update',
    });
    if (python) {
      ctx.report({
        name: 'classical_numpy_object_max_abs_error',
        value: diff,
        unit: 'abs',
        notes: `largest |object_ours − object_numpy| after ${iterations} iterations (float64 both); final error differs by ${errDiff.toExponential(2)} relative`,
      });
    }
    if (!ctx.quick) {
      const long = await reconstructPie(scan.data, pieOptions({ iterations: 100 }));
      const k = iterationsToConverge(long.errors);
      const perIt = long.seconds / long.iterations;
      ctx.report({
        name: 'classical_epie_iterations_to_converge',
        value: k,
        unit: 'iterations',
        notes: `first iteration whose data-fit error is within 2 % of iteration 100's (${long.errors.at(-1)!.toExponential(3)}); ${M} positions at dose 1e5`,
      });
      ctx.report({
        name: 'classical_epie_seconds_to_converge',
        value: k * perIt,
        unit: 's',
        ...(ref !== undefined ? { reference_value: k / ref, ratio_vs_reference: k / ref / (k * perIt) } : {}),
        notes: 'lower is better; ratio = numpy seconds / ours',
      });
    }
    if (python) await lsqmlRows(ctx, python, dir, scan, size, iterations, orders);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** LSQML, ours against the numpy twin's batched version: same data, same settings. */
async function lsqmlRows(
  ctx: BenchContext,
  python: string,
  dir: string,
  scan: ReturnType<typeof rasterScan>,
  size: number,
  iterations: number,
  orders: Int32Array,
): Promise<void> {
  const M = scan.data.xs.length;
  const o: PieOptions = pieOptions({ algorithm: 'lsqml', iterations, probeUpdateStart: 2 });
  const input = join(dir, 'in-lsqml.npz');
  await writeTwinInput(input, scan, orders, twinParams(scan, size, o));
  const ours: number[] = [];
  const theirs: number[] = [];
  let diff = Number.NaN;
  for (let round = 0; round < 3; round++) {
    const r = await reconstructPie(scan.data, o);
    ours.push(r.iterations / r.seconds);
    const out = join(dir, 'out-lsqml.npz');
    const p = spawnSync(python, [SCRIPT, input, out], { encoding: 'utf8', timeout: 600_000 });
    if (p.status !== 0) throw new Error(`numpy LSQML twin failed: ${p.stderr}`);
    const t = await readNpz(out, ['object', 'seconds']);
    theirs.push(iterations / (t.seconds.data as Float64Array)[0]);
    const obj = t.object.data as Float64Array;
    diff = 0;
    for (let i = 0; i < r.objectRe.length; i++)
      diff = Math.max(diff, Math.hypot(obj[2 * i] - r.objectRe[i], obj[2 * i + 1] - r.objectIm[i]));
  }
  const ref = median(theirs);
  ctx.report({
    name: 'classical_lsqml_iterations_per_s',
    value: median(ours),
    unit: 'iterations/s',
    reference_value: ref,
    ratio_vs_reference: ratio(median(ours), ref),
    notes: `${M} positions, N = 64, LSQML (Gaussian noise model, δ ${o.delta}, no prior), probe update from iteration ${o.probeUpdateStart + 1}, ${iterations} iterations; reference numpy, every position at once (batched np.fft, bincount scatters)`,
  });
  ctx.report({
    name: 'classical_lsqml_numpy_object_max_abs_error',
    value: diff,
    unit: 'abs',
    notes: `largest |object_ours − object_numpy| after ${iterations} LSQML iterations (float64 both)`,
  });
  if (!ctx.quick) {
    const long = await reconstructPie(scan.data, { ...o, iterations: 100 });
    const k = iterationsToConverge(long.errors);
    const perIt = long.seconds / long.iterations;
    ctx.report({
      name: 'classical_lsqml_seconds_to_converge',
      value: k * perIt,
      unit: 's',
      reference_value: k / ref,
      ratio_vs_reference: k / ref / (k * perIt),
      notes: `lower is better; ${k} iterations to within 2 % of iteration 100's error (${long.errors.at(-1)!.toExponential(3)}); ratio = numpy seconds / ours`,
    });
  }
}

export const classicalBench: BenchGroup = {
  name: 'classical',
  description: 'classical arm: ePIE iterations/s and time to converge vs a numpy twin',
  run,
};
