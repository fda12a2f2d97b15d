import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainEvent } from '../../shared/events';
import { simulateTinyStudy, type TinyStudy, tinyConfig, tinyJob } from '../../../test/fixtures/trainer.fixture';
import { trainJob } from '../trainer/train-job';

let study: TinyStudy;
beforeAll(async () => {
  study = await simulateTinyStudy({ N: 32, nPositions: 40 });
}, 60_000);
afterAll(() => rmSync(study.root, { recursive: true, force: true }));

describe('training records how far a job is from "learned nothing" and from "perfect"', () => {
  it('every epoch event carries the mean-pattern NLL and the true-object NLL floor, and the first steps warm up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pinn-refs-'));
    const job = tinyJob(study, dir, 1);
    const result = await trainJob(tinyConfig(study, dir, { nepochs: 2, validation_split: 0.1 }), job, job.logPath, {
      signal: new AbortController().signal,
      extras: { threads: 1 },
      onEvent: () => {},
    });
    expect(result.status).toBe('done');
    const events = readFileSync(job.eventsPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => TrainEvent.parse(JSON.parse(l)));
    const epochs = events.flatMap((e) => (e.type === 'epoch' ? [e] : []));
    expect(epochs).toHaveLength(2);
    for (const e of epochs) {
      expect(e.mean_pattern_nll).toBeTypeOf('number');
      expect(e.true_object_nll).toBeTypeOf('number');
      expect(e.true_object_nll as number).toBeLessThan(e.mean_pattern_nll as number);
      expect(e.val_mean_pattern_nll).toBeTypeOf('number');
    }
    // the same data every epoch: the references do not move
    expect(epochs[1].mean_pattern_nll).toBe(epochs[0].mean_pattern_nll);
    const lrs = events.flatMap((e) => (e.type === 'step' && e.lr !== undefined ? [e.lr] : []));
    expect(lrs[0]).toBeCloseTo(1e-3 / 20, 12);
    expect(lrs[1]).toBeCloseTo((2 * 1e-3) / 20, 12);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
