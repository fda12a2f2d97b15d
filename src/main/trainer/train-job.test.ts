import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainingConfig } from '../../shared/config';
import { TrainEvent } from '../../shared/events';
import { simulateTinyStudy, type TinyStudy, tinyConfig, tinyJob } from '../../../test/fixtures/trainer.fixture';
import { loadStudyFile } from '../data/study-file';
import { gatherBatch, prepareTrainingData } from '../pinn/dataset';
import { reconstructStudyFile } from '../pinn/inference';
import { buildPinnGraph } from '../pinn/model';
import { createPinnTrainer, modelSpec } from '../pinn/pinn-trainer';
import { resolveSettings } from '../pinn/settings';
import { readCheckpoint } from './checkpoint';
import { trainJob } from './train-job';

let study: TinyStudy;
beforeAll(async () => {
  study = await simulateTinyStudy({ N: 32, nPositions: 40 });
}, 60_000);

async function train(
  gridsize: 1 | 2,
  training: Partial<TrainingConfig> = {},
  opts: { dir?: string; cancelAtStep?: number; resume?: boolean; train?: string } = {},
) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'pinn-job-'));
  const job = { ...tinyJob(study, dir, gridsize), ...(opts.train ? { trainDataPath: opts.train } : {}) };
  const config = tinyConfig(study, dir, training, { gridsize });
  const abort = new AbortController();
  const live: TrainEvent[] = [];
  const result = await trainJob(config, job, job.logPath, {
    signal: abort.signal,
    resume: opts.resume,
    extras: { threads: 1 },
    onEvent: (e) => {
      live.push(e);
      if (e.type === 'step' && e.step === opts.cancelAtStep) abort.abort();
    },
  });
  const events = readFileSync(job.eventsPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => TrainEvent.parse(JSON.parse(l)));
  return { dir, job, result, live, events, log: readFileSync(job.logPath, 'utf8') };
}

const stepLosses = (events: TrainEvent[]) => events.flatMap((e) => (e.type === 'step' ? [[e.step, e.loss]] : []));

describe('training a tiny PtychoPINN', () => {
  it("the preview's batch-of-one forward pass equals the training graph's on the same group", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pinn-preview-'));
    const config = tinyConfig(study, dir, {}, { gridsize: 2 });
    const s = resolveSettings(config, { threads: 1 });
    const data = prepareTrainingData(await loadStudyFile(study.train), s);
    const pt = await createPinnTrainer(s, data);
    try {
      await pt.trainer.trainStep(pt.feeds(pt.batch([0, 1, 2, 3])), 1e-3);
      const group = 3;
      const padded = await pt.trainer.forward(
        { amplitude: pt.graph.amplitude, patch: pt.graph.amp },
        pt.feeds(pt.batch([group])),
      );
      const one = buildPinnGraph(modelSpec(s, 1), data.probe, data.intensityScale, false);
      const single = await pt.trainer.forward(
        { amplitude: one.amplitude, patch: one.amp },
        pt.feeds(gatherBatch(data, [group], 1)),
      );
      expect(single.amplitude.dims).toEqual([1, 1, 32, 32]);
      expect(single.patch.dims).toEqual([1, 4, 32, 32]);
      for (const k of ['amplitude', 'patch']) {
        const a = (padded[k].data as Float32Array).subarray(0, single[k].data.length);
        const b = single[k].data as Float32Array;
        expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-5);
      }
    } finally {
      await pt.trainer.release();
    }
  });

  it('gridsize 1 lowers the loss, is bit-identical when repeated, and exports a loadable model.onnx', async () => {
    const a = await train(1, { nepochs: 3 });
    expect(a.result.status).toBe('done');
    expect(a.result.epochs_completed).toBe(3);
    const losses = stepLosses(a.events).map(([, l]) => l);
    expect(losses.length).toBeGreaterThanOrEqual(9);
    expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0]);
    expect(a.log).toMatch(/parameters/);
    const b = await train(1, { nepochs: 3, logger: 'csv' });
    expect(stepLosses(b.events)).toEqual(stepLosses(a.events));
    // --logger csv adds per-epoch metrics beside events.jsonl
    const csv = readFileSync(join(b.dir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,step,train_loss,val_loss,lr,time');
    expect(csv.length).toBe(4);
    expect(b.result.model_sha256).toBe(a.result.model_sha256);
    expect(a.result.model_bytes).toBeGreaterThan(1000);
    // the last epoch's checkpoint is the final one, flushed while the model was exported and
    // renamed into place after it (a rename sets the file's ctime), holding the final step
    const ckpt = a.result.checkpoint_path as string;
    expect(statSync(ckpt).ctimeMs).toBeGreaterThanOrEqual(statSync(a.result.model_path as string).mtimeMs);
    expect((await readCheckpoint(ckpt)).state.step).toBe(losses.length);
    // A plain onnxruntime session loads and runs it.
    const session = await ort.InferenceSession.create(a.result.model_path as string);
    const x = new Float32Array(16 * 32 * 32).fill(0.5);
    const out = await session.run({ diffraction: new ort.Tensor('float32', x, [16, 1, 32, 32]) });
    expect(out.amplitude.dims).toEqual([16, 1, 32, 32]);
    expect(Number.isFinite((out.phase.data as Float32Array)[600])).toBe(true);
    await session.release();
    // gridsize 1: the output is the network's patch over (mask + 0.001) on the central support.
    const rec = await reconstructStudyFile(a.result.model_path as string, study.test, { threads: 1 });
    const centre = 16 * 32 + 16;
    expect(rec.amplitude[centre]).toBeCloseTo(rec.objectAmplitude[centre] / 1.001, 5);
    expect(rec.phase[centre]).toBeCloseTo(rec.objectPhase[centre], 5);
    // every event line is schema-valid and live events equal the file
    expect(a.live.length).toBe(a.events.length);
  });

  it('records the scalars a chart needs on every step and epoch, and a preview image per epoch', async () => {
    const r = await train(1, { nepochs: 2 });
    expect(r.result.status).toBe('done');
    const steps = r.events.filter((e) => e.type === 'step');
    expect(steps.length).toBeGreaterThan(2);
    for (const e of steps) {
      expect(e.grad_norm).toBeGreaterThan(0);
      expect(Number.isFinite(e.grad_norm)).toBe(true);
      expect(e.lr).toBeGreaterThan(0);
      expect(e.samples_per_s).toBeGreaterThan(0);
      expect(e.loss_terms).toEqual({ poisson_nll: e.loss });
    }
    // every event has its attempt and the training clock, which never runs backwards
    const attempt = r.events[0].attempt;
    expect(attempt).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(r.events.every((e) => e.attempt === attempt && typeof e.elapsed_s === 'number')).toBe(true);
    const clock = r.events.map((e) => e.elapsed_s as number);
    expect(clock).toEqual([...clock].sort((x, y) => x - y));
    const epochs = r.events.filter((e) => e.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1]);
    for (const e of epochs) {
      expect(e.loss_terms).toEqual({ poisson_nll: e.train_loss });
      expect(e.grad_norm).toBeGreaterThan(0);
      expect(e.samples_per_s).toBeGreaterThan(0);
      expect(e.duration_s).toBeGreaterThan(0);
      expect(e.mean_pattern_nll).toBeTypeOf('number');
    }
    // one preview per epoch: a small PNG of the fixed group (amplitude, phase, and the truth beside them)
    const previews = r.events.filter((e) => e.type === 'preview');
    expect(previews.map((e) => [e.epoch, e.file])).toEqual([
      [0, 'previews/epoch_0.png'],
      [1, 'previews/epoch_1.png'],
    ]);
    expect(new Set(previews.map((e) => e.group)).size).toBe(1);
    const index = JSON.parse(readFileSync(join(r.dir, 'previews', 'preview.json'), 'utf8'));
    expect(index.panels).toEqual(['amplitude', 'phase', 'true amplitude', 'true phase']);
    const png0 = readFileSync(join(r.dir, 'previews', 'epoch_0.png'));
    const png1 = readFileSync(join(r.dir, 'previews', 'epoch_1.png'));
    expect(png0.subarray(1, 4).toString()).toBe('PNG');
    expect(png0.readUInt32BE(16)).toBe(4 * 32 + 3 * 2);
    expect(png0.readUInt32BE(20)).toBe(32);
    expect(png0.length).toBeLessThan(16_000);
    expect(previews[0].bytes).toBe(png0.length);
    // the model changed between the epochs, so the picture did
    expect(png1.equals(png0)).toBe(false);
    // this attempt's own curve is kept under runs/<attempt>/
    const own = readFileSync(join(r.dir, 'runs', attempt as string, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(own.length).toBe(r.events.length);
  });

  it('gridsize 2 trains with offsets; cancel then resume equals the uninterrupted run', async () => {
    const full = await train(2, { nepochs: 2 });
    expect(full.result.status).toBe('done');
    const dir = mkdtempSync(join(tmpdir(), 'pinn-cancel-'));
    const cut = await train(2, { nepochs: 2 }, { dir, cancelAtStep: 3 });
    expect(cut.result.status).toBe('cancelled');
    expect(cut.result.checkpoint_path).toMatch(/last\.ckpt$/);
    expect(stepLosses(cut.events).at(-1)?.[0]).toBe(3);
    const rest = await train(2, { nepochs: 2 }, { dir, resume: true });
    expect(rest.result.status).toBe('done');
    expect(rest.result.model_sha256).toBe(full.result.model_sha256);
    const steps = stepLosses(rest.events).map(([s]) => s);
    expect(steps).toEqual(stepLosses(full.events).map(([s]) => s));
    expect(stepLosses(rest.events)).toEqual(stepLosses(full.events));
    expect(rest.events.some((e) => e.type === 'status' && e.status === 'resumed')).toBe(true);
    // gridsize 2: a preview per epoch over both attempts, the first scan point's patch beside its truth
    expect(rest.events.filter((e) => e.type === 'preview').map((e) => e.epoch)).toEqual([0, 1]);
    expect(JSON.parse(readFileSync(join(dir, 'previews', 'preview.json'), 'utf8')).panels).toEqual([
      'amplitude',
      'phase',
      'true amplitude',
      'true phase',
    ]);
    // two attempts, each with its own curve: the resumed one continues the step count
    const attempts = [...new Set(rest.events.map((e) => e.attempt))];
    expect(attempts.length).toBe(2);
    const second = readFileSync(join(dir, 'runs', attempts[1] as string, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => TrainEvent.parse(JSON.parse(l)));
    expect(second.find((e) => e.type === 'status')).toMatchObject({ status: 'resumed', step: 3 });
    expect(stepLosses(second)[0][0]).toBe(4);
    const first = readFileSync(join(dir, 'runs', attempts[0] as string, 'events.jsonl'), 'utf8');
    expect(first).toContain('"status":"cancelled"');
    // the training clock continues across the attempts
    const clock = rest.events.map((e) => e.elapsed_s as number);
    expect(clock).toEqual([...clock].sort((x, y) => x - y));
    // The exported model reconstructs the held-out file, one output per scan point at its group centre.
    const rec = await reconstructStudyFile(rest.result.model_path as string, study.test, { threads: 1 });
    expect(rec.C).toBe(4);
    expect(rec.amplitude.length).toBe(rec.count * 32 * 32);
    expect(rec.amplitude.every(Number.isFinite)).toBe(true);
    expect(rec.phase.every((v) => Math.abs(v) <= Math.PI + 1e-6)).toBe(true);
    expect(rec.xcoords.length).toBe(rec.count);
  });

  it('a NaN-producing learning rate stops the job as diverged with the step', async () => {
    const r = await train(1, { learning_rate: 1e12, nepochs: 2 });
    expect(r.result.status).toBe('diverged');
    expect(r.result.error).toMatch(/at step \d+/);
    expect(r.result.error).toMatch(/lower the learning rate/);
    expect(r.events.some((e) => e.type === 'status' && e.status === 'diverged')).toBe(true);
  });

  it('a NaN validation loss after a finite step is recorded diverged, not failed', async () => {
    // One step per epoch: the step's loss is finite, the update it makes leaves NaN weights.
    const r = await train(1, { learning_rate: 1e12, nepochs: 2, batch_size: 64 });
    expect(r.result.status).toBe('diverged');
    expect(r.result.error).toMatch(/validation loss became NaN after step 1/);
    expect(r.result.error).not.toMatch(/ZodError/);
    const status = r.events.filter((e) => e.type === 'status').at(-1);
    expect(status).toMatchObject({ status: 'diverged', step: 1 });
    expect(r.events.some((e) => e.type === 'epoch')).toBe(false);
  });

  it('a corrupt NPZ fails with a stated error naming the file', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'pinn-bad-')), 'patched_train.npz');
    copyFileSync(study.train, bad);
    const bytes = readFileSync(bad);
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const r = await train(1, {}, { train: bad });
    expect(r.result.status).toBe('failed');
    expect(r.result.error).toMatch(/NPZ|DATA_CONTRACT|BAD_INPUT/);
    expect(r.result.error).toContain(bad);
  });
});
