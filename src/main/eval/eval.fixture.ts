/**
 * A small but real artifact root for evaluation tests: genuine DATA-001 test files (a
 * textured object, scan positions, ground-truth patches, far-field amplitudes) for every
 * job, a manifest written by the study engine through a test runner, model files where the
 * runner "exported" one, and events.jsonl loss curves. Inference is replaced by a
 * `Reconstructor` that returns the ground-truth patches degraded by dose-dependent noise,
 * so the tests can check the plumbing and the dose trend without a trained network.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultStudyDesign, NO_FILTERS } from '../../shared/study';
import type { NdArray } from '../data/ndarray';
import { writeNpz } from '../data/npz';
import { forwardAmplitude } from '../data/physics';
import { checkTrainingJobs, planTrainingJobs, type StudyRoots } from '../study/jobs';
import type { TrainingRunner } from '../study/runner';
import { StudyRun } from '../study/study-run';
import { gaussianFilter } from './filters';
import { realImage } from './image';
import type { Reconstructor } from './job-eval';

export const FIXTURE_N = 16;
const H = 72;
const W = 80;

/** Deterministic pseudo-random numbers (mulberry32), so fixed test images never change. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A DATA-001 test file: object, probe, positions on a 6-px grid, Y patches, diffraction. */
export async function writeTestFile(path: string, seed: number): Promise<void> {
  const r = rng(seed);
  const noise = realImage(H, W);
  for (let i = 0; i < H * W; i++) noise.data[i] = r() - 0.5;
  const t = gaussianFilter(noise, 1.5);
  let sd = 0;
  for (const v of t.data) sd += v * v;
  sd = Math.sqrt(sd / t.data.length);
  const obj = new Float32Array(2 * H * W);
  for (let i = 0; i < H * W; i++) {
    const v = t.data[i] / sd;
    const amp = 0.7 + 0.15 * v;
    const ph = 0.6 * v;
    obj[2 * i] = amp * Math.cos(ph);
    obj[2 * i + 1] = amp * Math.sin(ph);
  }
  const n = FIXTURE_N;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 14; y <= H - 14; y += 6) {
    for (let x = 14; x <= W - 14; x += 6) {
      xs.push(x);
      ys.push(y);
    }
  }
  const m = xs.length;
  const Y = new Float32Array(2 * m * n * n);
  for (let p = 0; p < m; p++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const src = 2 * ((ys[p] - n / 2 + i) * W + (xs[p] - n / 2 + j));
        const dst = 2 * (p * n * n + i * n + j);
        Y[dst] = obj[src];
        Y[dst + 1] = obj[src + 1];
      }
    }
  }
  const probe = new Float32Array(2 * n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) probe[2 * (i * n + j)] = Math.hypot(i - n / 2 + 0.5, j - n / 2 + 0.5) < n / 4 ? 10 : 0;
  }
  const Yarr: NdArray = { dtype: 'complex64', shape: [m, n, n], data: Y };
  const probeArr: NdArray = { dtype: 'complex64', shape: [n, n], data: probe };
  const diffraction = Float32Array.from(forwardAmplitude(Yarr, probeArr).data as Float64Array);
  mkdirSync(dirname(path), { recursive: true });
  await writeNpz(path, {
    diffraction: { dtype: 'float32', shape: [m, n, n], data: diffraction },
    Y: Yarr,
    probeGuess: probeArr,
    objectGuess: { dtype: 'complex64', shape: [H, W], data: obj },
    xcoords: { dtype: 'float64', shape: [m], data: Float64Array.from(xs) },
    ycoords: { dtype: 'float64', shape: [m], data: Float64Array.from(ys) },
  });
}

export interface FixtureOutcome {
  roots: StudyRoots;
  /** Which jobs the runner reported and what it left behind. */
  trained: string[];
}

/**
 * Doses 1e3 and 1e4 run (1e5 never runs); dose_1000 sparse fails; dose_10000 sparse is
 * "done" without an exported model. Every other job gets a model file and a loss curve.
 */
export async function createEvalFixture(root: string): Promise<FixtureOutcome> {
  const roots: StudyRoots = {
    phaseCRoot: join(root, 'phase_c'),
    phaseDRoot: join(root, 'phase_d'),
    artifactRoot: join(root, 'artifacts'),
  };
  const design = defaultStudyDesign();
  const planned = planTrainingJobs(roots, design).filter((j) => j.dose < 1e5);
  let seed = 1;
  for (const j of planned) {
    await writeTestFile(j.testDataPath, seed++);
    await writeTestFile(j.trainDataPath, seed++);
  }
  const trained: string[] = [];
  const runner: TrainingRunner = async (_config, job) => {
    mkdirSync(job.artifactDir, { recursive: true });
    if (job.id === 'dose_1000-sparse-gs2') {
      return { status: 'failed', final_loss: null, epochs_completed: 0, checkpoint_path: null, error: 'loss diverged' };
    }
    const time = new Date().toISOString();
    for (let step = 1; step <= 30; step++) {
      const loss = 1 + 5 / step + 0.05 * Math.sin(step);
      appendFileSync(
        job.eventsPath,
        `${JSON.stringify({ type: 'step', time, step, epoch: Math.floor((step - 1) / 10), loss, samples_per_s: 50 })}\n`,
      );
      if (step % 10 === 0) {
        const epoch = step / 10 - 1;
        appendFileSync(
          job.eventsPath,
          `${JSON.stringify({ type: 'epoch', time, epoch, step, train_loss: loss, val_loss: loss * 1.1, lr: 1e-3 })}\n`,
        );
      }
    }
    if (job.id !== 'dose_10000-sparse-gs2') writeFileSync(join(job.artifactDir, 'model.onnx'), 'test model');
    trained.push(job.id);
    return { status: 'done', final_loss: 1.2, epochs_completed: 3, checkpoint_path: null };
  };
  const jobs = checkTrainingJobs(planned, { allowMissingPhaseD: true });
  await new StudyRun({
    roots,
    design,
    jobs,
    filters: NO_FILTERS,
    dryRun: false,
    knobs: { max_epochs: 3 },
    source: 'cli',
    runner,
  }).execute();
  return { roots, trained };
}

/**
 * Ground-truth patches plus complex noise of relative size 0.5/√(dose/1000) (sparse views
 * twice as noisy): a stand-in for inference whose quality rises with dose.
 */
export const noisyTruthReconstructor: Reconstructor = async ({ testData, job }) => {
  const Y = testData.Y;
  if (!Y) throw new Error('fixture test file has no Y');
  const r = rng(Math.round(job.dose) + job.view.length);
  const sigma = (0.5 / Math.sqrt(job.dose / 1000)) * (job.view === 'sparse' ? 2 : 1);
  const data = Float32Array.from(Y.data as Float32Array, (v) => v + sigma * (r() - 0.5));
  return {
    patches: { count: Y.shape[0], size: Y.shape[1], data },
    xs: testData.xcoords,
    ys: testData.ycoords,
    detail: 'ground truth plus noise (test)',
  };
};
