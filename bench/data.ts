/**
 * Bench group `data`: Phase C simulation throughput (64 × 64 patterns, far field + Poisson
 * noise) and NPZ write/read throughput, each next to numpy doing the same work on the same
 * machine in the same run (interleaved rounds, median of 3). Ratios are ours / numpy's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NdArray } from '../src/main/data/ndarray';
import { readNpz, writeNpz } from '../src/main/data/npz';
import { expectedIntensity, exitWaveEnergy, intensityScaleFor, physicsScratch } from '../src/main/data/physics';
import { simulationRng } from '../src/main/numeric/rng';
import { syntheticObject, syntheticProbe } from '../src/main/data/synthetic';
import { findPython } from '../src/main/util/python';
import type { BenchContext, BenchGroup } from './types';
import { median, nowSeconds, ratio } from './util';

const N = 64;
const DOSE = 1e4;

/** Y patches (M, N, N) complex128 interleaved from the synthetic object, and the probe. */
function specimen(M: number): { Y: Float64Array; probe: Float64Array } {
  const size = 256;
  const obj = syntheticObject(size, 1).data as Float64Array;
  const probe = syntheticProbe(N, 0.6 * N).data as Float64Array;
  const rng = simulationRng(1, 'bench');
  const Y = new Float64Array(M * N * N * 2);
  for (let j = 0; j < M; j++) {
    const x0 = rng.integer(0, size - N);
    const y0 = rng.integer(0, size - N);
    for (let r = 0; r < N; r++)
      Y.set(obj.subarray(2 * ((y0 + r) * size + x0), 2 * ((y0 + r) * size + x0 + N)), 2 * (j * N * N + r * N));
  }
  return { Y, probe };
}

/** Ours: patterns per second for far field + Poisson + amplitude scaling (the Phase C inner loop). */
function simulateOurs(Y: Float64Array, probe: Float64Array, M: number): number {
  const t0 = nowSeconds();
  let energy = 0;
  for (let j = 0; j < M; j++) energy += exitWaveEnergy(Y, j * 2 * N * N, probe);
  const s = intensityScaleFor(DOSE, energy / M);
  const rng = simulationRng(2, 'noise');
  const scratch = physicsScratch(N);
  const I = new Float64Array(N * N);
  const out = new Float32Array(M * N * N);
  for (let j = 0; j < M; j++) {
    expectedIntensity(Y, j * 2 * N * N, probe, I, scratch);
    for (let i = 0; i < N * N; i++) out[j * N * N + i] = Math.sqrt(rng.poisson(s * s * I[i])) / s;
  }
  return M / (nowSeconds() - t0);
}

const PY = `
import sys, time, json, numpy as np
mode, M = sys.argv[1], int(sys.argv[2])
N = 64
rng = np.random.default_rng(1)
if mode == 'simulate':
    Y = np.exp(1j * rng.random((M, N, N))) * (0.5 + 0.5 * rng.random((M, N, N)))
    c = np.arange(N) - N // 2 + 0.5
    r = np.hypot(*np.meshgrid(c, c))
    probe = (0.5 * (1 - np.tanh((r - 19.2) / 1.5))) * np.exp(1j * np.pi * (r / 19.2) ** 2)
    t0 = time.perf_counter()
    psi = Y * probe
    s = np.sqrt(${DOSE} / (np.abs(psi) ** 2).sum(axis=(1, 2)).mean())
    far = np.fft.fftshift(np.fft.fft2(psi, axes=(-2, -1)), axes=(-2, -1)) / N
    I = far.real ** 2 + far.imag ** 2
    d = (np.sqrt(rng.poisson(s * s * I)) / s).astype(np.float32)
    print(json.dumps({'patterns_per_s': M / (time.perf_counter() - t0)}))
else:
    path, compress = sys.argv[3], mode == 'npz_z'
    arrays = {'diffraction': rng.random((M, N, N), dtype=np.float32),
              'Y': (rng.random((M, N, N)) + 1j * rng.random((M, N, N))).astype(np.complex64)}
    nbytes = sum(a.nbytes for a in arrays.values())
    t0 = time.perf_counter()
    (np.savez_compressed if compress else np.savez)(path, **arrays)
    t1 = time.perf_counter()
    reads = []
    for _ in range(2):  # the second read is the one reported (file in the page cache for both sides)
        t = time.perf_counter()
        with np.load(path) as f:
            back = {k: f[k] for k in f.files}
        reads.append(time.perf_counter() - t)
        del back
    print(json.dumps({'write_mb_s': nbytes / 1e6 / (t1 - t0), 'read_mb_s': nbytes / 1e6 / reads[-1]}))
`;

function numpy(python: string | null, args: string[]): Record<string, number> | undefined {
  if (!python) return undefined;
  const r = spawnSync(python, ['-c', PY, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
}

function randomArrays(M: number): Record<string, NdArray> {
  const rng = simulationRng(3, 'bench-npz');
  const d = new Float32Array(M * N * N).map(() => rng.random());
  const y = new Float32Array(2 * M * N * N).map(() => rng.random());
  return {
    diffraction: { dtype: 'float32', shape: [M, N, N], data: d },
    Y: { dtype: 'complex64', shape: [M, N, N], data: y },
  };
}

async function npzOurs(arrays: Record<string, NdArray>, path: string, compress: boolean) {
  const bytes = Object.values(arrays).reduce((s, a) => s + a.data.byteLength, 0);
  const t0 = nowSeconds();
  await writeNpz(path, arrays, { compress, durable: false });
  const t1 = nowSeconds();
  let read = 0;
  for (let k = 0; k < 2; k++) {
    // the second read is the one reported, as on the numpy side
    const t = nowSeconds();
    await readNpz(path);
    read = nowSeconds() - t;
  }
  return { write: bytes / 1e6 / (t1 - t0), read: bytes / 1e6 / read };
}

async function run(ctx: BenchContext): Promise<void> {
  const python = findPython(['numpy']);
  if (!python) ctx.log('numpy not found (install python3-numpy): reporting ours only');
  const M = ctx.quick ? 128 : 512;
  const { Y, probe } = specimen(M);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < 3; round++) {
    ours.push(simulateOurs(Y, probe, M));
    const t = numpy(python, ['simulate', String(M)]);
    if (t) theirs.push(t.patterns_per_s);
  }
  const row = (name: string, value: number, unit: string, ref: number[], notes: string) => {
    const reference = ref.length ? median(ref) : undefined;
    ctx.report({
      name,
      value,
      unit,
      ...(reference !== undefined ? { reference_value: reference, ratio_vs_reference: ratio(value, reference) } : {}),
      notes,
    });
  };
  row(
    'data_simulate_patterns_per_s',
    median(ours),
    'patterns/s',
    theirs,
    `${M} patterns 64×64: far field (float64) + Poisson at dose 1e4; reference numpy (vectorised)`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'bench-data-'));
  try {
    const Mz = ctx.quick ? 256 : 1024; // 1024 × (16 + 32) KiB ≈ 50 MB
    const arrays = randomArrays(Mz);
    for (const compress of [false, true]) {
      const w: number[] = [];
      const r: number[] = [];
      const nw: number[] = [];
      const nr: number[] = [];
      for (let round = 0; round < 3; round++) {
        const o = await npzOurs(arrays, join(dir, 'ours.npz'), compress);
        w.push(o.write);
        r.push(o.read);
        const t = numpy(python, [compress ? 'npz_z' : 'npz', String(Mz), join(dir, 'numpy.npz')]);
        if (t) {
          nw.push(t.write_mb_s);
          nr.push(t.read_mb_s);
        }
      }
      const kind = compress ? 'deflated (savez_compressed)' : 'stored (savez)';
      const tag = compress ? '_compressed' : '';
      row(`data_npz_write${tag}_mb_per_s`, median(w), 'MB/s', nw, `${kind}, ${Mz} patterns float32 + complex64 Y`);
      row(`data_npz_read${tag}_mb_per_s`, median(r), 'MB/s', nr, `${kind}, all keys`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const dataBench: BenchGroup = {
  name: 'data',
  description: 'Phase C simulation and NPZ read/write throughput vs numpy',
  run,
};
