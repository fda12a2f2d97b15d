import { describe, expect, it } from 'vitest';
import { jobStopOf } from './job-stop';

const progress = (epoch: number | null, step: number | null) => ({
  step,
  total_steps: 36,
  epoch,
  total_epochs: 12,
  eta_s: null,
  last_loss: 1,
});
const result = (status: string, epochs: number, error?: string, checkpoint: string | null = null) => ({
  status: status as 'failed',
  final_loss: null,
  epochs_completed: epochs,
  checkpoint_path: checkpoint,
  ...(error ? { error } : {}),
});

describe('why and where a job stopped', () => {
  it('a cancel mid-epoch names the epoch it was in, 1-based, of the total', () => {
    const stop = jobStopOf({
      status: 'cancelled',
      result: result('cancelled', 3, undefined, '/a/last.ckpt'),
      progress: progress(3, 11),
    });
    expect(stop).toEqual({
      status: 'cancelled',
      epochsCompleted: 3,
      epoch: 4,
      totalEpochs: 12,
      step: 11,
      totalSteps: 36,
      message: null,
      summary: 'cancelled at epoch 4 of 12',
      checkpointPath: '/a/last.ckpt',
    });
  });

  it('a failure carries its first message line; an epoch event leaves the next epoch as the one under way', () => {
    const stop = jobStopOf({
      status: 'failed',
      result: result('failed', 2, 'NPZ_FORMAT: bad zip | file: /d/train.npz\nstack…'),
      progress: progress(1, 6),
    });
    expect(stop?.summary).toBe('failed at epoch 3 of 12: NPZ_FORMAT: bad zip | file: /d/train.npz');
    expect(stop?.epoch).toBe(3);
  });

  it('interrupted without progress, or before it started, says what is known', () => {
    expect(
      jobStopOf({ status: 'interrupted', result: result('interrupted', 0, 'gone'), progress: null })?.summary,
    ).toBe('interrupted at epoch 1');
    expect(jobStopOf({ status: 'cancelled', result: null, progress: null })).toMatchObject({
      summary: 'cancelled',
      epoch: null,
    });
  });

  it('running, done and planned jobs have not stopped', () => {
    for (const status of ['running', 'done', 'planned', 'queued', 'skipped'] as const)
      expect(jobStopOf({ status, result: null, progress: null })).toBeNull();
  });
});
