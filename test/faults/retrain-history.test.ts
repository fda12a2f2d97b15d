/**
 * Fault: retraining a finished job with a bad data file, or with a batch size no memory can
 * hold. What must hold: the job's `events.jsonl` keeps its previous curve (the failure is
 * appended after it, nothing is truncated) and `model.onnx` is untouched; a later good run
 * starts a new curve and the earlier attempts move, whole, to `events.history.jsonl`; the
 * oversized batch is a one-line TOO_LARGE error given before anything is allocated.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingConfig } from '../../src/shared/config';
import { TrainEvent } from '../../src/shared/events';
import { simulateTinyStudy, type TinyStudy, tinyConfig, tinyJob } from '../fixtures/trainer.fixture';
import { forkLauncher } from '../../src/main/trainer/fork-launcher';
import { truncateEventsAfter } from '../../src/main/trainer/job-log';
import { createWorkerRunner } from '../../src/main/trainer/runner';
import { ensureBuilt } from '../helpers/cli';
import { trainJob } from '../../src/main/trainer/train-job';

let study: TinyStudy;
let dir: string;
beforeAll(async () => {
  study = await simulateTinyStudy({ N: 32, nPositions: 40 });
  dir = mkdtempSync(join(tmpdir(), 'fault-retrain-'));
}, 60_000);
afterAll(() => {
  rmSync(study.root, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

async function train(training: Partial<TrainingConfig> = {}, trainDataPath?: string) {
  const job = { ...tinyJob(study, dir, 1), ...(trainDataPath ? { trainDataPath } : {}) };
  const config = tinyConfig(study, dir, { nepochs: 1, ...training });
  const result = await trainJob(config, job, job.logPath, {
    signal: new AbortController().signal,
    extras: { threads: 1 },
    onEvent: () => {},
  });
  return { job, result };
}

const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n');
const parse = (l: string) => TrainEvent.parse(JSON.parse(l));

describe('retraining a finished job', () => {
  let eventsPath: string;
  let doneCurve: string[];
  let model: Buffer;

  it('trains once to done (the history to protect)', async () => {
    const { job, result } = await train();
    expect(result.status).toBe('done');
    eventsPath = job.eventsPath;
    doneCurve = lines(eventsPath);
    expect(doneCurve.map(parse).filter((e) => e.type === 'step').length).toBeGreaterThan(2);
    model = readFileSync(join(dir, 'model.onnx'));
  });

  it('with a bad data file keeps the curve and the model; the failure is appended', async () => {
    const bad = join(dir, 'bad_train.npz');
    copyFileSync(study.train, bad);
    writeFileSync(bad, readFileSync(bad).subarray(0, 2000));
    const { result } = await train({}, bad);
    expect(result.status).toBe('failed');
    expect(result.error).toContain(bad);
    const after = lines(eventsPath);
    expect(after.slice(0, doneCurve.length)).toEqual(doneCurve);
    expect(after.slice(doneCurve.length).map(parse).at(-1)).toMatchObject({ type: 'status', status: 'failed' });
    expect(readFileSync(join(dir, 'model.onnx')).equals(model)).toBe(true);
  });

  it('with --batch-size 1e9 fails at once with TOO_LARGE and the numbers, keeping the curve', async () => {
    const before = lines(eventsPath);
    const t0 = Date.now();
    const { result } = await train({ batch_size: 1e9 });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/TOO_LARGE: a training step at --batch-size 1000000000 .*needs/);
    expect(lines(eventsPath).slice(0, before.length)).toEqual(before);
  });

  it('a good retrain starts a new curve and moves every earlier event to events.history.jsonl', async () => {
    const before = readFileSync(eventsPath, 'utf8');
    // temp files of a worker killed mid-write (its pid is gone), a minute old
    const dead = 2 ** 22 + 999;
    mkdirSync(join(dir, 'checkpoint'), { recursive: true });
    const stale = [
      join(dir, `.model.onnx.${dead}.0a1b2c3d.tmp`),
      join(dir, 'checkpoint', `.last.ckpt.${dead}.0a1b2c3d.tmp`),
    ];
    const old = new Date(Date.now() - 120_000);
    for (const f of stale) {
      writeFileSync(f, 'half');
      utimesSync(f, old, old);
    }
    const { result } = await train();
    expect(result.status).toBe('done');
    expect([...readdirSync(dir), ...readdirSync(join(dir, 'checkpoint'))].filter((n) => n.endsWith('.tmp'))).toEqual(
      [],
    );
    expect(readFileSync(join(dir, 'events.history.jsonl'), 'utf8')).toBe(before);
    const fresh = lines(eventsPath).map(parse);
    expect(fresh.filter((e) => e.type === 'status').map((e) => e.type === 'status' && e.status)).toEqual([
      'started',
      'done',
    ]);
  });
});

describe('resuming from a checkpoint', () => {
  it('moves the events after the checkpoint to events.history.jsonl instead of erasing them', () => {
    const d = mkdtempSync(join(tmpdir(), 'fault-resume-'));
    const events = join(d, 'events.jsonl');
    const time = new Date(0).toISOString();
    const step = (n: number) =>
      JSON.stringify({ type: 'step', time, step: n, epoch: 0, loss: 1 / n, samples_per_s: 1 });
    writeFileSync(events, `${[1, 2, 3, 4].map(step).join('\n')}\n{"type":"st`);
    expect(truncateEventsAfter(events, 2, 0)).toBe(3);
    expect(lines(events)).toEqual([step(1), step(2)]);
    expect(lines(join(d, 'events.history.jsonl'))).toEqual([step(3), step(4), '{"type":"st']);
    rmSync(d, { recursive: true, force: true });
  });
});

describe('--batch-size 1e9 in a real training worker', () => {
  it('is a failed job with TOO_LARGE, not a worker killed by SIGABRT', async () => {
    ensureBuilt();
    const d = mkdtempSync(join(tmpdir(), 'fault-batch-'));
    const job = { ...tinyJob(study, d, 1), skipReason: null, missingFiles: [] };
    const runner = createWorkerRunner(forkLauncher(), { threads: 1 });
    const r = await runner(tinyConfig(study, d, { batch_size: 1e9 }), job, job.logPath, {
      signal: new AbortController().signal,
      onEvent: () => {},
    });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/^TOO_LARGE: a training step at --batch-size 1000000000 /);
    rmSync(d, { recursive: true, force: true });
  });
});
