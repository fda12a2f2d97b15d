/**
 * The whole Phase G chain on a really trained model: a tiny PtychoPINN (N = 32) trained on a
 * simulated dose, inferred through its exported model.onnx, stitched, aligned and scored on
 * the held-out split. At a pinned seed, a model trained past the early loss plateau must
 * reconstruct the phase clearly better than the same model after a single step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStudyFile } from '../data/study-file';
import { simulateTinyStudy, type TinyStudy, tinyConfig, tinyJob } from '../../../test/fixtures/trainer.fixture';
import { trainJob } from '../trainer/train-job';
import { modelReconstructor } from './inference';
import { type EvalTarget, evaluateJob } from './job-eval';

let study: TinyStudy;
const dirs: string[] = [];
beforeAll(async () => {
  study = await simulateTinyStudy({ N: 32, nPositions: 80, seed: 7 });
}, 60_000);
afterAll(() => {
  for (const d of [...dirs, study?.root]) if (d) rmSync(d, { recursive: true, force: true });
});

async function trainAndEvaluate(epochs: number, maxSteps?: number, gridsize: 1 | 2 = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'eval-trained-'));
  dirs.push(dir);
  const job = tinyJob(study, dir, gridsize);
  const config = tinyConfig(study, dir, { nepochs: epochs, seed: 3 }, { gridsize });
  const result = await trainJob(config, job, job.logPath, {
    signal: new AbortController().signal,
    extras: { threads: 2, ...(maxSteps ? { max_steps: maxSteps } : {}) },
    onEvent: () => {},
  });
  expect(result.status).toBe('done');
  const target: EvalTarget = {
    id: job.id,
    dose: job.dose,
    view: job.view,
    gridsize: job.gridsize,
    artifactDir: dir,
    testDataPath: job.testDataPath,
  };
  return evaluateJob(target, { reconstructor: modelReconstructor({ configOf: () => config, threads: 2 }) });
}

describe('evaluation of a trained model', () => {
  it('a model trained for 5 epochs reconstructs the held-out phase clearly better than after one step', async () => {
    const untrained = await trainAndEvaluate(1, 1);
    const trained = await trainAndEvaluate(5);
    const u = untrained.eval.metrics.phase;
    const t = trained.eval.metrics.phase;
    expect(trained.eval.n_patches).toBe(trained.eval.n_positions);
    expect(trained.eval.inference?.reused_recon).toBe(false);
    expect(t.mae).toBeLessThan(0.7 * u.mae);
    expect(t.ssim ?? 0).toBeGreaterThan((u.ssim ?? 0) + 0.1);
    // a trained model needs at most a small registration shift
    const s = trained.eval.alignment.registration_shift;
    expect(Math.hypot(s?.dy ?? 9, s?.dx ?? 9)).toBeLessThan(1);
  }, 120_000);

  it('gridsize 2 infers one reassembled group per scan point, placed at the group centre', async () => {
    const r = await trainAndEvaluate(1, 1, 2);
    expect(r.eval.n_patches).toBe(r.eval.n_positions);
    expect(r.recon.meta.n_patches).toBe(r.eval.n_positions);
    // group centres are means of 4 scan positions: inside the scan's bounding box, rarely on a scan point
    const { xcoords, ycoords } = await loadStudyFile(study.test);
    const onPoint = r.recon.xs.filter((x, i) => xcoords.some((px, j) => px === x && ycoords[j] === r.recon.ys[i]));
    expect(onPoint.length).toBeLessThan(r.recon.xs.length / 4);
    expect(Math.min(...r.recon.xs)).toBeGreaterThanOrEqual(Math.min(...xcoords));
    expect(Math.max(...r.recon.ys)).toBeLessThanOrEqual(Math.max(...ycoords));
    expect(r.eval.metrics.phase.mae).toBeGreaterThan(0);
  }, 60_000);
});
