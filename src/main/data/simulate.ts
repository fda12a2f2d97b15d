/**
 * Phase C: simulate the study's diffraction data.
 *
 * One object and one probe (built-in synthetic, or a base NPZ's objectGuess/probeGuess as the
 * original did), `nPositions` integer scan positions drawn uniformly so every N × N patch lies
 * inside the object, far-field diffraction through the reference physics (physics.ts), Poisson
 * noise per dose with the original's normalisation (sqrt(counts) / intensity_scale), a split at
 * the midpoint of the positions' y range, and per dose
 * `<root>/dose_<d>/patched_{train,test}.npz`, plus `<root>/run_manifest.json` (the original's
 * map) and `<root>/simulation.json` (settings and statistics). Everything is written to a
 * staging folder and validated there; only a complete, valid set replaces the previous files,
 * so a failed run never costs existing data. Sizes are checked against the available memory
 * before anything is allocated. The expected intensities are computed once and shared by the doses; each dose
 * has its own noise stream, so the same seed gives the same bytes.
 */
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StudyError } from '../../shared/errors';
import { doseFolder } from '../../shared/study';
import { writeJsonAtomic } from './atomic';
import { checkMemory } from './memory';
import { castFloat, type NdArray, takeRows } from './ndarray';
import { describeNpz, readNpz, writeNpz } from './npz';
import { expectedIntensity, exitWaveEnergy, intensityScaleFor, physicsScratch } from './physics';
import { simulationRng } from '../numeric/rng';
import { syntheticObject, syntheticProbe } from './synthetic';
import { stageOutput } from './staging';
import { validateStudyFile } from './validate';

export const SimulationSettings = z.object({
  /** patch side N (the probe's size) */
  N: z.number().int().min(8).max(1024).multipleOf(2),
  /** side of the synthetic object in pixels (ignored with a base NPZ) */
  objectSize: z.number().int().positive(),
  /** scan positions in the whole scan (train + test); with a base NPZ, default its count */
  nPositions: z.number().int().min(2),
  doses: z.array(z.number().positive().finite()).min(1),
  seed: z.number().int().nonnegative(),
  /** diameter of the synthetic probe's disc, recorded for the overlap views */
  probeDiameterPx: z.number().positive(),
  /** use objectGuess/probeGuess of this NPZ instead of the synthetic specimen */
  baseNpz: z.string().optional(),
  /** deflate the NPZ entries (np.savez_compressed); default stored, like np.savez */
  compress: z.boolean(),
});
export type SimulationSettings = z.infer<typeof SimulationSettings>;

/** The study's default Phase C: N = 64, the three doses, seed 42; both overlap views non-empty. */
export const DEFAULT_SIMULATION: SimulationSettings = {
  N: 64,
  objectSize: 448,
  nPositions: 2048,
  doses: [1e3, 1e4, 1e5],
  seed: 42,
  probeDiameterPx: 0.6 * 64,
  compress: false,
};

/** A small complete study in seconds (the workbench's "Create demo study"). */
export const DEMO_SIMULATION: SimulationSettings = {
  ...DEFAULT_SIMULATION,
  objectSize: 288,
  nPositions: 384,
};

export interface SimulationProgress {
  stage: 'specimen' | 'diffract' | 'write' | 'validate';
  done: number;
  total: number;
  message?: string;
}

export interface SplitSummary {
  path: string;
  n: number;
  mean_counts: number;
  expected_mean_counts: number;
}

export interface DoseSummary {
  dose: number;
  folder: string;
  intensity_scale: number;
  max_counts: number;
  train: SplitSummary;
  test: SplitSummary;
}

export interface PhaseCSummary {
  phase_c_root: string;
  settings: SimulationSettings;
  object: { source: string; shape: number[] };
  split: { axis: 'y'; value: number; n_train: number; n_test: number };
  doses: DoseSummary[];
  seconds: number;
}

interface Specimen {
  object: NdArray; // complex64 values (float32-rounded) held as complex64
  probe: NdArray;
  source: string;
  nPositionsDefault?: number;
}

async function loadSpecimen(s: SimulationSettings): Promise<Specimen> {
  if (!s.baseNpz) {
    return {
      object: castFloat(syntheticObject(s.objectSize, s.seed), 'complex64'),
      probe: castFloat(syntheticProbe(s.N, s.probeDiameterPx), 'complex64'),
      source: 'synthetic',
    };
  }
  const path = resolve(s.baseNpz);
  const info = await describeNpz(path);
  const need = ['objectGuess', 'probeGuess'];
  const missing = need.filter((k) => !info.some((i) => i.key === k));
  if (missing.length)
    throw new StudyError('DATA_CONTRACT', `base NPZ lacks ${missing.join(', ')}`, {
      file: path,
      key: missing[0],
      found: info.map((i) => i.key),
      expected: need,
    });
  const a = await readNpz(path, need);
  for (const k of need)
    if (a[k].dtype !== 'complex64' && a[k].dtype !== 'complex128')
      throw new StudyError('DATA_CONTRACT', `base NPZ ${k} must be complex`, {
        file: path,
        key: k,
        found: a[k].dtype,
        expected: 'complex64',
      });
  const probe = castFloat(a.probeGuess, 'complex64');
  const object = castFloat(a.objectGuess, 'complex64');
  if (probe.shape.length !== 2 || probe.shape[0] !== probe.shape[1] || probe.shape[0] % 2)
    throw new StudyError('DATA_CONTRACT', 'base NPZ probeGuess must be square (N, N) with N even', {
      file: path,
      key: 'probeGuess',
      found: probe.shape,
    });
  const N = probe.shape[0];
  if (object.shape.length !== 2 || object.shape[0] <= N || object.shape[1] <= N)
    throw new StudyError('DATA_CONTRACT', `base NPZ objectGuess must be larger than the ${N} × ${N} probe`, {
      file: path,
      key: 'objectGuess',
      found: object.shape,
    });
  const xs = info.find((i) => i.key === 'xcoords');
  return { object, probe, source: path, nPositionsDefault: xs?.shape[0] };
}

/** Integer patch centres, uniform, every N × N patch inside an H × W object. */
export function drawPositions(
  n: number,
  H: number,
  W: number,
  N: number,
  seed: number,
): { xs: Float64Array; ys: Float64Array } {
  const rng = simulationRng(seed, 'positions');
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    xs[j] = rng.integer(N / 2, W - N / 2);
    ys[j] = rng.integer(N / 2, H - N / 2);
  }
  return { xs, ys };
}

/** The original's split: y < min + 0.5·(max − min) is train, the rest test. */
export function splitByY(ys: Float64Array): { value: number; train: number[]; test: number[] } {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const y of ys) {
    lo = Math.min(lo, y);
    hi = Math.max(hi, y);
  }
  const value = lo + 0.5 * (hi - lo);
  const train: number[] = [];
  const test: number[] = [];
  ys.forEach((y, j) => {
    (y < value ? train : test).push(j);
  });
  return { value, train, test };
}

function extractPatches(object: NdArray, xs: Float64Array, ys: Float64Array, N: number): NdArray {
  const [, W] = object.shape;
  const src = object.data as Float32Array;
  const M = xs.length;
  const out = new Float32Array(M * N * N * 2);
  for (let j = 0; j < M; j++) {
    const y0 = ys[j] - N / 2;
    const x0 = xs[j] - N / 2;
    for (let r = 0; r < N; r++) {
      const from = 2 * ((y0 + r) * W + x0);
      out.set(src.subarray(from, from + 2 * N), 2 * (j * N * N + r * N));
    }
  }
  return { dtype: 'complex64', shape: [M, N, N], data: out };
}

/** The settings as run: a base NPZ fixes N, the default position count and the object size. */
async function resolveRun(
  input: Partial<SimulationSettings>,
): Promise<{ settings: SimulationSettings; specimen: Specimen }> {
  const requested = { ...DEFAULT_SIMULATION, ...input };
  const specimen = await loadSpecimen(SimulationSettings.parse(requested));
  const settings = SimulationSettings.parse({
    ...requested,
    N: specimen.probe.shape[0],
    nPositions: input.nPositions ?? specimen.nPositionsDefault ?? requested.nPositions,
    objectSize: specimen.source === 'synthetic' ? requested.objectSize : specimen.object.shape[0],
  });
  return { settings, specimen };
}

/** The object must be larger than the probe, and the arrays must fit in memory. */
function checkRunFits(settings: SimulationSettings, specimen: Specimen): void {
  const { N } = settings;
  const [H, W] = specimen.object.shape;
  if (H <= N || W <= N)
    throw new StudyError('BAD_INPUT', `the object (${H} × ${W}) must be larger than the ${N} × ${N} probe`, {
      key: specimen.source === 'synthetic' ? 'objectSize' : 'objectGuess',
      found: [H, W],
      expected: `> ${N} px per side`,
      hint: specimen.source === 'synthetic' ? `use --object-size ${N + 1} or more` : undefined,
    });
  const M = settings.nPositions;
  // Y (complex64) and one float32 stack per dose, plus one split's copies while writing
  const nd = settings.doses.length;
  checkMemory(`simulate --n-positions ${M} at N = ${N} with ${nd} dose(s)`, M * N * N * (8 + 4 * nd + 12) + M * 24, {
    key: 'nPositions',
    largestArrayElements: M * N * N * 2,
    hint: 'use fewer --n-positions or doses',
  });
}

/** Scan positions and their train/test split; an empty side is an error. */
function drawScan(settings: SimulationSettings, H: number, W: number) {
  const M = settings.nPositions;
  const { xs, ys } = drawPositions(M, H, W, settings.N, settings.seed);
  const split = splitByY(ys);
  if (split.train.length === 0 || split.test.length === 0)
    throw new StudyError(
      'BAD_INPUT',
      `the y-midpoint split left an empty side (train ${split.train.length}, test ${split.test.length})`,
      {
        found: { n_positions: M, object: [H, W] },
        hint: 'use more positions or a larger object',
      },
    );
  return { xs, ys, split };
}

/** Intensity scale per dose from the mean exit-wave energy over all positions (scale_nphotons). */
function intensityScales(yData: Float32Array, probe: Float32Array, M: number, N: number, doses: number[]): number[] {
  let energy = 0;
  for (let j = 0; j < M; j++) energy += exitWaveEnergy(yData, j * 2 * N * N, probe);
  const meanEnergy = energy / M;
  return doses.map((d) => intensityScaleFor(d, meanEnergy));
}

interface Diffraction {
  /** Per dose, the (M, N, N) amplitudes sqrt(counts) / s. */
  stacks: Float32Array[];
  /** Per dose, total counts per pattern. */
  counts: Float64Array[];
  /** Σ A² per pattern (unscaled). */
  expected: Float64Array;
  /** Per dose, the largest count in one pixel. */
  maxCounts: number[];
}

/**
 * The far field of every patch once, and Poisson counts for every dose from it. Each dose
 * draws from its own stream ('noise/dose_<d>') pattern by pattern, pixel by pixel.
 */
function diffractAllDoses(
  Y: NdArray,
  probe: Float32Array,
  settings: SimulationSettings,
  scales: number[],
  onProgress?: (p: SimulationProgress) => void,
): Diffraction {
  const { N } = settings;
  const M = Y.shape[0];
  const yData = Y.data as Float32Array;
  const nn = N * N;
  const stacks = settings.doses.map(() => new Float32Array(M * nn));
  const counts = settings.doses.map(() => new Float64Array(M));
  const expected = new Float64Array(M);
  const maxCounts = settings.doses.map(() => 0);
  const rngs = settings.doses.map((d) => simulationRng(settings.seed, `noise/${doseFolder(d)}`));
  const scratch = physicsScratch(N);
  const I = new Float64Array(nn);
  for (let j = 0; j < M; j++) {
    expected[j] = expectedIntensity(yData, j * 2 * nn, probe, I, scratch);
    for (let k = 0; k < settings.doses.length; k++) {
      const s = scales[k];
      const s2 = s * s;
      const rng = rngs[k];
      const out = stacks[k];
      let total = 0;
      let mx = maxCounts[k];
      for (let i = 0; i < nn; i++) {
        const c = rng.poisson(s2 * I[i]);
        total += c;
        if (c > mx) mx = c;
        out[j * nn + i] = Math.sqrt(c) / s;
      }
      counts[k][j] = total;
      maxCounts[k] = mx;
    }
    if (onProgress && (j % 64 === 63 || j === M - 1)) onProgress({ stage: 'diffract', done: j + 1, total: M });
  }
  return { stacks, counts, expected, maxCounts };
}

const coordsOf = (idx: number[], v: Float64Array): NdArray => ({
  dtype: 'float64',
  shape: [idx.length],
  data: Float64Array.from(idx, (j) => v[j]),
});
const meanOver = (idx: number[], v: Float64Array, f = 1) => idx.reduce((a, j) => a + v[j], 0) * (f / idx.length);

interface SimulatedScan {
  settings: SimulationSettings;
  specimen: Specimen;
  Y: NdArray;
  xs: Float64Array;
  ys: Float64Array;
  split: ReturnType<typeof splitByY>;
  scales: number[];
  diffraction: Diffraction;
}

/** Write one dose's two split files into the staging folder; returns its summary and the staged paths. */
async function writeDose(
  k: number,
  scan: SimulatedScan,
  root: string,
  stage: Awaited<ReturnType<typeof stageOutput>>,
  onFile: (staged: string, final: string) => void,
): Promise<DoseSummary> {
  const { settings, specimen, Y, xs, ys, split, scales, diffraction } = scan;
  const { N } = settings;
  const M = settings.nPositions;
  const [H, W] = specimen.object.shape;
  const dose = settings.doses[k];
  const folder = doseFolder(dose);
  const stack: NdArray = { dtype: 'float32', shape: [M, N, N], data: diffraction.stacks[k] };
  const summary: Partial<Record<'train' | 'test', SplitSummary>> = {};
  for (const side of ['train', 'test'] as const) {
    const idx = split[side];
    const path = join(root, folder, `patched_${side}.npz`);
    const stats = {
      mean_counts: meanOver(idx, diffraction.counts[k]),
      expected_mean_counts: meanOver(idx, diffraction.expected, scales[k] ** 2),
    };
    const metadata = {
      format: 'ptycho-study/phase_c',
      format_version: 1,
      dose,
      intensity_scale: scales[k],
      N,
      seed: settings.seed,
      split: side,
      split_axis: 'y',
      split_value: split.value,
      n_positions_total: M,
      probe_diameter_px: settings.probeDiameterPx,
      object_source: specimen.source,
      object_shape: [H, W],
      max_counts: diffraction.maxCounts[k],
      ...stats,
      units:
        'diffraction = sqrt(counts) / intensity_scale (float32 amplitude); counts = (intensity_scale * diffraction)^2; E[counts] = (intensity_scale * |fftshift(fft2(Y * probeGuess))| / N)^2',
    };
    const staged = stage.path(folder, `patched_${side}.npz`);
    await writeNpz(
      staged,
      {
        diffraction: takeRows(stack, idx),
        Y: takeRows(Y, idx),
        xcoords: coordsOf(idx, xs),
        ycoords: coordsOf(idx, ys),
        xcoords_start: coordsOf(idx, xs),
        ycoords_start: coordsOf(idx, ys),
        probeGuess: specimen.probe,
        objectGuess: specimen.object,
        scan_index: { dtype: 'int64', shape: [idx.length], data: BigInt64Array.from(idx, (j) => BigInt(j)) },
      },
      { compress: settings.compress, text: { _metadata: JSON.stringify(metadata) }, durable: false },
    );
    onFile(staged, path);
    summary[side] = { path, n: idx.length, ...stats };
  }
  return {
    dose,
    folder,
    intensity_scale: scales[k],
    max_counts: diffraction.maxCounts[k],
    train: summary.train as SplitSummary,
    test: summary.test as SplitSummary,
  };
}

/** Every staged file passes DATA-001 before anything replaces the previous Phase C. */
async function validateStaged(
  files: string[],
  root: string,
  stage: Awaited<ReturnType<typeof stageOutput>>,
  onProgress?: (p: SimulationProgress) => void,
): Promise<void> {
  for (let f = 0; f < files.length; f++) {
    const report = await validateStudyFile(files[f]);
    const final = stage.finalPath(files[f]);
    onProgress?.({ stage: 'validate', done: f + 1, total: files.length, message: final });
    if (!report.ok) {
      const e = report.errors[0];
      throw new StudyError(
        'DATA_CONTRACT',
        `simulated file failed DATA-001 (nothing in ${root} was replaced): ${e.message.split(files[f]).join(final)}`,
        { file: final, key: e.key, found: e.found, expected: e.expected },
      );
    }
  }
}

export async function simulatePhaseC(
  outRoot: string,
  input: Partial<SimulationSettings> = {},
  onProgress?: (p: SimulationProgress) => void,
): Promise<PhaseCSummary> {
  const t0 = performance.now();
  const root = resolve(outRoot);
  onProgress?.({ stage: 'specimen', done: 0, total: 1, message: 'building object and probe' });
  const { settings, specimen } = await resolveRun(input);
  checkRunFits(settings, specimen);
  onProgress?.({ stage: 'specimen', done: 1, total: 1 });

  const { N } = settings;
  const M = settings.nPositions;
  const [H, W] = specimen.object.shape;
  const { xs, ys, split } = drawScan(settings, H, W);
  const Y = extractPatches(specimen.object, xs, ys, N);
  const probe = specimen.probe.data as Float32Array;
  const scales = intensityScales(Y.data as Float32Array, probe, M, N, settings.doses);
  const diffraction = diffractAllDoses(Y, probe, settings, scales, onProgress);
  const scan: SimulatedScan = { settings, specimen, Y, xs, ys, split, scales, diffraction };

  const doses: DoseSummary[] = [];
  const files: string[] = [];
  const totalFiles = 2 * settings.doses.length;
  const stage = await stageOutput(root);
  try {
    for (let k = 0; k < settings.doses.length; k++) {
      doses.push(
        await writeDose(k, scan, root, stage, (staged, final) => {
          files.push(staged);
          onProgress?.({ stage: 'write', done: files.length, total: totalFiles, message: final });
        }),
      );
    }
    await validateStaged(files, root, stage, onProgress);
    await writeJsonAtomic(
      stage.path('run_manifest.json'),
      Object.fromEntries(
        doses.map((d) => [
          d.folder,
          { dose: d.dose, train: d.train.path, test: d.test.path, intermediate_dir: join(root, d.folder) },
        ]),
      ),
    );
    const result: PhaseCSummary = {
      phase_c_root: root,
      settings,
      object: { source: specimen.source, shape: [H, W] },
      split: { axis: 'y', value: split.value, n_train: split.train.length, n_test: split.test.length },
      doses,
      seconds: (performance.now() - t0) / 1000,
    };
    await writeJsonAtomic(stage.path('simulation.json'), { ...result, seconds: undefined });
    await stage.commit(['run_manifest.json', 'simulation.json']);
    return result;
  } catch (e) {
    throw stage.explain(e);
  } finally {
    await stage.discard();
  }
}
