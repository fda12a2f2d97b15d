/**
 * Bench group `pinn`: PtychoPINN training throughput on CPU at batch 16, N = 64, in the
 * reference configuration (model doc), ours vs the PyTorch reference
 * (../shared/reference/bench_torch.py) on the same simulate.py data, interleaved, median of
 * 5 each; plus our peak memory. Group `quality` (opt-in): the same number of steps at dose
 * 1e4 for ours and the reference's train_eval.py, final training loss compared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelConfig, type ResolvedJobConfig, TrainingConfig, toLegacyDict } from '../src/shared/config';
import { loadStudyFile } from '../src/main/data/study-file';
import { prepareTrainingData, type TrainingData } from '../src/main/pinn/dataset';
import { createPinnTrainer, type PinnTrainer } from '../src/main/pinn/pinn-trainer';
import { permutation, trainerRng } from '../src/main/numeric/rng';
import { type PinnSettings, resolveSettings } from '../src/main/pinn/settings';
import { packageRoot } from '../src/main/paths';
import { findPython } from '../src/main/util/python';
import type { BenchContext, BenchGroup } from './types';
import { median, nowSeconds, ratio } from './util';
import { Accelerator } from '../src/shared/knobs';
import { describeSpin, spinDecision } from '../src/main/nn/spin-policy';
import { describeReplicas } from '../src/main/nn/replicas';

/** The PyTorch reference: bench/reference in the checkout (PTYCHO_REFERENCE_DIR overrides). */
export const REFERENCE_DIR =
  process.env.PTYCHO_REFERENCE_DIR ??
  [join(packageRoot(), 'bench', 'reference'), join(packageRoot(), '..', 'shared', 'reference')].find((d) =>
    existsSync(join(d, 'torch_pinn.py')),
  ) ??
  join(packageRoot(), 'bench', 'reference');

/** The reference configuration of the model doc, at batch 16. */
export function referenceConfig(
  train: string,
  gridsize: 1 | 2,
  training: Partial<TrainingConfig> = {},
): ResolvedJobConfig {
  const t = TrainingConfig.parse({
    train_data_file: train,
    output_dir: tmpdir(),
    batch_size: 16,
    intensity_scale_trainable: false,
    accelerator: benchAccelerator(),
    validation_split: 0,
    ...training,
  });
  const m = ModelConfig.parse({ N: 64, gridsize, probe_big: false, probe_mask: true });
  return { training: t, model: m, legacy: toLegacyDict(t, m) };
}

/**
 * Ours runs on `PTYCHO_BENCH_ACCELERATOR` (default cpu; webgpu/cuda on a GPU machine) and the
 * PyTorch reference on `PTYCHO_BENCH_TORCH_DEVICE` (default cpu; cuda), so the GPU figures
 * come from the same group.
 */
export function benchAccelerator(): Accelerator {
  const a = Accelerator.safeParse(process.env.PTYCHO_BENCH_ACCELERATOR ?? 'cpu');
  if (!a.success) throw new Error(`PTYCHO_BENCH_ACCELERATOR=${process.env.PTYCHO_BENCH_ACCELERATOR}`);
  return a.data;
}

const torchDevice = (): 'cpu' | 'cuda' => (process.env.PTYCHO_BENCH_TORCH_DEVICE === 'cuda' ? 'cuda' : 'cpu');

export const REFERENCE_EXTRAS = { grouping_rule: 'nearest', probe_gauge: 'absolute' } as const;

/** simulate.py's dose-1e4 training file (written once into `dir`). */
export function referenceData(python: string, dir: string, dose = 1e4): string {
  const path = join(dir, `sim_dose${dose.toExponential(0).replace('+', '')}_train.npz`);
  const r = spawnSync(
    python,
    [
      '-c',
      `import sys; sys.path.insert(0, sys.argv[1]); import simulate; print(simulate.ensure_dataset(sys.argv[2], float(sys.argv[3]))[0])`,
      REFERENCE_DIR,
      dir,
      String(dose),
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (r.status !== 0) throw new Error(`simulate.py failed: ${r.stderr}`);
  const out = r.stdout.trim().split('\n').at(-1) ?? path;
  return out;
}

export interface OursRun {
  settings: PinnSettings;
  data: TrainingData;
  pt: PinnTrainer;
  order: Int32Array;
  next: number;
}

export async function oursSetup(train: string, gridsize: 1 | 2, threads: number, seed = 0): Promise<OursRun> {
  const settings = resolveSettings(referenceConfig(train, gridsize, { seed }), { ...REFERENCE_EXTRAS, threads });
  const data = prepareTrainingData(await loadStudyFile(train), settings);
  const pt = await createPinnTrainer(settings, data);
  return { settings, data, pt, order: permutation(trainerRng(seed), data.groups.count), next: 0 };
}

/** `steps` Adam steps at batch 16; returns samples/s over the timed steps and the losses. */
export async function oursSteps(
  run: OursRun,
  warmup: number,
  steps: number,
): Promise<{ samplesPerS: number; losses: number[] }> {
  const B = run.settings.batchSize;
  const losses: number[] = [];
  let timed = 0;
  for (let i = 0; i < warmup + steps; i++) {
    if (run.next + B > run.order.length) run.next = 0;
    const b = run.pt.batch(run.order.subarray(run.next, run.next + B));
    run.next += B;
    const t0 = nowSeconds();
    const r = await run.pt.trainer.trainStep(run.pt.feeds(b), run.settings.learningRate);
    if (i >= warmup) timed += nowSeconds() - t0;
    losses.push(r.loss);
  }
  return { samplesPerS: (B * steps) / timed, losses };
}

/** Ours' replicas, or how its idle threads wait (spin-policy.ts), as the job log says it. */
async function threadWait(run: OursRun, threads: number): Promise<string> {
  const replicas = run.pt.trainer.replicaCount;
  if (replicas > 1) return ` (${describeReplicas(replicas, Math.max(1, Math.floor(threads / replicas)))})`;
  if (run.pt.trainer.provider !== 'cpu' || threads <= 1) return '';
  return ` (${describeSpin(await spinDecision(threads))})`;
}

function torchRun(
  python: string,
  dir: string,
  gridsize: number,
  warmup: number,
  steps: number,
  threads: number,
): number {
  const r = spawnSync(
    python,
    [
      join(REFERENCE_DIR, 'bench_torch.py'),
      '--gridsize',
      String(gridsize),
      '--warmup',
      String(warmup),
      '--steps',
      String(steps),
      '--threads',
      String(threads),
      '--infer-batches',
      '1',
      '--device',
      torchDevice(),
      '--out',
      dir,
    ],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (r.status !== 0) throw new Error(`bench_torch.py failed: ${r.stderr.slice(-2000)}`);
  const row = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { samples_per_s?: number };
  if (!row.samples_per_s) throw new Error(`bench_torch.py printed no samples_per_s: ${r.stdout}`);
  return row.samples_per_s;
}

async function runPinnBench(ctx: BenchContext): Promise<void> {
  const python = findPython(['torch', 'numpy']);
  const dir = mkdtempSync(join(tmpdir(), 'pinn-bench-'));
  mkdirSync(dir, { recursive: true });
  if (!python)
    ctx.log('python3 with torch not found: the PyTorch reference is not measured (apt-get install python3-torch)');
  const train = python ? referenceData(python, dir) : '';
  if (!train || !existsSync(train))
    throw new Error('no reference data: the pinn bench needs python3 with numpy to simulate it');
  // Five rounds: on a shared VM single rounds of either side swing by ±20%, and a median of
  // three still moved the ratio by ±0.15 between runs minutes apart.
  const rounds = ctx.quick ? 1 : 5;
  const warmup = 2;
  const steps = ctx.quick ? 3 : 5;
  for (const gs of [1, 2] as const) {
    const run = await oursSetup(train, gs, ctx.threads);
    ctx.log(
      `gs${gs}: ${run.pt.parameterCount.toLocaleString('en-US')} parameters, ${run.data.groups.count} groups, ours on ${run.pt.trainer.provider}${await threadWait(run, ctx.threads)}, torch on ${torchDevice()}`,
    );
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      ours.push((await oursSteps(run, r === 0 ? warmup : 1, steps)).samplesPerS);
      if (python) theirs.push(torchRun(python, dir, gs, warmup, steps, ctx.threads));
      ctx.log(
        `round ${r + 1}: ours ${ours.at(-1)?.toFixed(2)} samples/s${python ? `, torch ${theirs.at(-1)?.toFixed(2)}` : ''}`,
      );
    }
    await run.pt.trainer.release();
    const o = median(ours);
    const t = theirs.length ? median(theirs) : undefined;
    ctx.report({
      name: `pinn_train_gs${gs}_b16_${run.pt.trainer.provider}_samples_per_s`,
      value: o,
      unit: 'samples/s',
      reference_value: t,
      ratio_vs_reference: ratio(o, t),
      notes: `reference configuration, N=64, ${ctx.threads} threads, PyTorch on ${torchDevice()}, median of ${rounds}`,
    });
    ctx.report({
      name: `pinn_train_gs${gs}_peak_rss_mib`,
      value: process.resourceUsage().maxRSS / 1024,
      unit: 'MiB',
      notes: 'peak resident memory of the bench process so far',
    });
  }
}

export const pinnBench: BenchGroup = {
  name: 'pinn',
  description: 'PtychoPINN training samples/s (gs1, gs2, batch 16, CPU) vs the PyTorch reference; peak memory',
  run: runPinnBench,
};

/** mean |(|p|) − |g|| and the phase MAE after removing one global phase offset, on `mask`. */
export function compareComplex(
  pAmp: Float32Array,
  pPh: Float32Array,
  gt: Float32Array,
  mask: (i: number) => boolean,
): { amp_mae: number; phase_mae: number } {
  let sr = 0;
  let si = 0;
  let n = 0;
  for (let i = 0; i < pAmp.length; i++) {
    if (!mask(i)) continue;
    const pr = pAmp[i] * Math.cos(pPh[i]);
    const pi = pAmp[i] * Math.sin(pPh[i]);
    sr += pr * gt[2 * i] + pi * gt[2 * i + 1];
    si += pi * gt[2 * i] - pr * gt[2 * i + 1];
    n++;
  }
  const off = Math.atan2(si, sr);
  let amp = 0;
  let ph = 0;
  for (let i = 0; i < pAmp.length; i++) {
    if (!mask(i)) continue;
    amp += Math.abs(pAmp[i] - Math.hypot(gt[2 * i], gt[2 * i + 1]));
    let d = pPh[i] - Math.atan2(gt[2 * i + 1], gt[2 * i]) - off;
    d = ((((d + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)) - Math.PI;
    ph += Math.abs(d);
  }
  return { amp_mae: amp / n, phase_mae: ph / n };
}

async function oursQuality(train: string, test: string, gridsize: 1 | 2, steps: number, threads: number) {
  const run = await oursSetup(train, gridsize, threads, 0);
  const B = run.settings.batchSize;
  const losses: number[] = [];
  const order = () => permutation(trainerRng(run.next++ + 1000), run.data.groups.count);
  let perm = order();
  let at = 0;
  for (let k = 0; k < steps; k++) {
    if (at + B > perm.length) {
      perm = order();
      at = 0;
    }
    const b = run.pt.batch(perm.subarray(at, at + B));
    at += B;
    losses.push((await run.pt.trainer.trainStep(run.pt.feeds(b), run.settings.learningRate)).loss);
  }
  const mean20 = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const result: Record<string, number> = {
    loss_first20_mean: mean20(losses.slice(0, 20)),
    loss_last20_mean: mean20(losses.slice(-20)),
  };
  if (gridsize === 1) {
    const dir = mkdtempSync(join(tmpdir(), 'pinn-quality-'));
    const { exportModel } = await import('../src/main/pinn/export');
    const { reconstructStudyFile } = await import('../src/main/pinn/inference');
    const exported = exportModel(
      dir,
      run.pt.spec,
      run.data.probe,
      run.data.intensityScale,
      run.data.nphotons,
      run.pt.trainer.parameters(),
      run.pt.parameterCount,
      {
        rule: 'nearest',
        neighbor_count: 3,
        seed: 0,
      },
    );
    const rec = await reconstructStudyFile(exported.path, test, { threads });
    const file = await loadStudyFile(test);
    const N = file.N;
    const probe = file.probeGuess.data as Float32Array;
    let pmax = 0;
    for (let i = 0; i < N * N; i++) pmax = Math.max(pmax, Math.hypot(probe[2 * i], probe[2 * i + 1]));
    const support = (i: number) => {
      const j = i % (N * N);
      return Math.hypot(probe[2 * j], probe[2 * j + 1]) > 0.1 * pmax;
    };
    const m = compareComplex(rec.amplitude, rec.phase, file.Y?.data as Float32Array, support);
    result.test_patch_amp_mae = m.amp_mae;
    result.test_patch_phase_mae = m.phase_mae;
  }
  await run.pt.trainer.release();
  return result;
}

function torchQuality(
  python: string,
  dir: string,
  gridsize: number,
  steps: number,
  threads: number,
): Record<string, number> {
  const r = spawnSync(
    python,
    [
      join(REFERENCE_DIR, 'train_eval.py'),
      '--gridsize',
      String(gridsize),
      '--steps',
      String(steps),
      '--threads',
      String(threads),
      '--out',
      dir,
    ],
    { encoding: 'utf8', timeout: 3_600_000 },
  );
  if (r.status !== 0) throw new Error(`train_eval.py failed: ${r.stderr.slice(-2000)}`);
  const res = JSON.parse(r.stdout) as {
    loss_first20_mean: number;
    loss_last20_mean: number;
    test_final: { patch_amp_mae: number; patch_phase_mae: number };
  };
  return {
    loss_first20_mean: res.loss_first20_mean,
    loss_last20_mean: res.loss_last20_mean,
    test_patch_amp_mae: res.test_final.patch_amp_mae,
    test_patch_phase_mae: res.test_final.patch_phase_mae,
  };
}

async function runQualityBench(ctx: BenchContext): Promise<void> {
  const python = findPython(['torch', 'numpy', 'skimage']) ?? findPython(['torch', 'numpy']);
  if (!python)
    throw new Error('the quality comparison needs python3 with torch and numpy (apt-get install python3-torch)');
  const dir = mkdtempSync(join(tmpdir(), 'pinn-quality-'));
  const train = referenceData(python, dir);
  const test = train.replace('_train', '_test');
  const steps = Number(process.env.PINN_QUALITY_STEPS ?? (ctx.quick ? 100 : 1000));
  const gridsizes = (process.env.PINN_QUALITY_GRIDSIZES ?? '1,2').split(',').map(Number) as (1 | 2)[];
  for (const gs of gridsizes) {
    const t0 = nowSeconds();
    const ours = await oursQuality(train, test, gs, steps, ctx.threads);
    ctx.log(`gs${gs}: ours ${steps} steps in ${(nowSeconds() - t0).toFixed(0)} s`);
    const t1 = nowSeconds();
    const theirs = torchQuality(python, dir, gs, steps, ctx.threads);
    ctx.log(`gs${gs}: torch ${steps} steps in ${(nowSeconds() - t1).toFixed(0)} s`);
    for (const key of ['loss_last20_mean', 'test_patch_amp_mae', 'test_patch_phase_mae']) {
      if (ours[key] === undefined) continue;
      const name =
        key === 'loss_last20_mean'
          ? `pinn_quality_gs${gs}_${steps}steps_train_loss`
          : `pinn_quality_gs${gs}_${steps}steps_${key.replace('_mae', '_error')}`;
      ctx.report({
        name,
        value: ours[key],
        unit: key.includes('phase') ? 'rad' : key.includes('loss') ? 'nll' : 'amplitude',
        reference_value: theirs[key],
        // errors: theirs / ours, so above 1 = ours better; a loss can be negative, so no ratio
        ratio_vs_reference: key.startsWith('loss') || !(ours[key] > 0) ? undefined : theirs[key] / ours[key],
        notes: `reference configuration, dose 1e4, seed 0; lower is better${key.startsWith('loss') ? `; difference ours − reference ${(ours[key] - theirs[key]).toPrecision(3)}` : ''}`,
      });
    }
  }
}

export const qualityBench: BenchGroup = {
  name: 'quality',
  description: 'PtychoPINN quality after the same steps as the PyTorch reference (dose 1e4; opt-in: --quality)',
  default: false,
  run: runQualityBench,
};
