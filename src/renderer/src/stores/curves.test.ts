import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrainEvent } from '../../../shared/events';
import { CurveStore } from './curves';

const t = '2026-01-01T00:00:00Z';
const step = (s: number, loss: number, epoch = 0): TrainEvent => ({
  type: 'step',
  time: t,
  step: s,
  epoch,
  loss,
  samples_per_s: 100,
});

describe('curve store', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps every streamed point and notifies at a coalesced rate', () => {
    const store = new CurveStore(50);
    const seen = vi.fn();
    store.subscribe(seen);
    for (let i = 0; i < 1000; i++) {
      store.ingest('dose_1000-baseline-gs1', step(i, 1 / (i + 1)));
      if (i % 10 === 9) vi.advanceTimersByTime(5);
    }
    vi.advanceTimersByTime(50);
    const c = store.get('dose_1000-baseline-gs1');
    expect(c?.train.length).toBe(1000);
    expect(seen.mock.calls.length).toBeLessThanOrEqual(12); // 500 ms of events → ≤ 11 flushes + the tail
  });

  it('places validation loss at the epoch end and continues a resumed curve without duplicates', () => {
    const store = new CurveStore();
    const id = 'dose_1000-dense-gs2';
    const events: TrainEvent[] = [
      { type: 'status', time: t, status: 'started', total_epochs: 2, total_steps: 8 },
      step(0, 4),
      step(1, 3),
      step(2, 2.5),
      step(3, 2),
      { type: 'epoch', time: t, epoch: 0, train_loss: 2.9, val_loss: 3.1, lr: 1e-3 },
      step(4, 1.9, 1),
      step(5, 1.8, 1), // the interrupted run logged these, then died before its checkpoint
      { type: 'status', time: t, status: 'resumed', step: 4, epoch: 1 },
      step(4, 1.95, 1),
      step(5, 1.85, 1),
      step(6, 1.7, 1),
    ];
    store.replace(id, events);
    const c = store.get(id);
    expect(Array.from(c?.train.x ?? [])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(c?.train.y[4]).toBe(1.95);
    expect(Array.from(c?.val.x ?? [])).toEqual([3]);
    expect(c?.progress.totalEpochs).toBe(2);
  });

  it('keeps the mean-pattern NLL and the true-object floor as lines from step 0 to the last epoch', () => {
    const store = new CurveStore();
    const id = 'dose_1000-baseline-gs1';
    const epoch = (e: number, s: number): TrainEvent => ({
      type: 'epoch',
      time: t,
      epoch: e,
      step: s,
      train_loss: -0.4,
      val_loss: null,
      lr: 1e-3,
      mean_pattern_nll: -0.44,
      true_object_nll: -0.45,
    });
    store.replace(id, [step(1, -0.3), step(2, -0.35), epoch(0, 2), step(3, -0.4), step(4, -0.42), epoch(1, 4)]);
    const c = store.get(id);
    expect(Array.from(c?.meanPattern.x ?? [])).toEqual([0, 2, 4]);
    expect(Array.from(c?.meanPattern.y ?? [])).toEqual([-0.44, -0.44, -0.44]);
    expect(Array.from(c?.floor.y ?? [])).toEqual([-0.45, -0.45, -0.45]);
  });

  it('marks replaced or cut curves so derived lines are rebuilt', () => {
    const store = new CurveStore();
    store.replace('j', [step(0, 1), step(1, 0.5), step(2, 0.4)]);
    const g0 = store.get('j')?.generation ?? -1;
    store.ingest('j', step(3, 0.3));
    expect(store.get('j')?.generation).toBe(g0);
    store.ingest('j', step(2, 0.35)); // a resume re-logs step 2
    expect(store.get('j')?.generation).toBe(g0 + 1);
    store.loadPoints('j', new Float64Array([0]), new Float64Array([9]));
    expect(store.get('j')?.generation).toBeGreaterThan(g0 + 1);
  });

  it('a fresh start replaces the previous curve', () => {
    const store = new CurveStore();
    store.replace('j', [step(0, 1), step(1, 0.5)]);
    store.ingest('j', { type: 'status', time: t, status: 'started' });
    store.ingest('j', step(0, 9));
    expect(Array.from(store.get('j')?.train.y ?? [])).toEqual([9]);
  });
});
