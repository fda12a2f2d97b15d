import { describe, expect, it } from 'vitest';
import { earlyStopStep, initialEarlyStop, initialPlateau, plateauStep, splitTrainValidation } from './schedule';

describe('ReduceLROnPlateau (Keras semantics)', () => {
  it('halves the rate after `patience` epochs without improvement, never below min_lr', () => {
    const opts = { factor: 0.5, patience: 2, minLr: 1e-4 };
    let st = initialPlateau();
    let lr = 1e-3;
    const lrs: number[] = [];
    for (const v of [1.0, 0.9, 0.95, 0.92, 0.91, 0.9, 0.89995, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]) {
      const r = plateauStep(st, v, lr, opts);
      st = r.state;
      lr = r.lr;
      lrs.push(lr);
    }
    // epochs 3,4 no improvement → reduce at epoch 4; 5,6 → reduce; 0.89995 is within min_delta → no improvement.
    expect(lrs.slice(0, 8)).toEqual([1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4, 2.5e-4]);
    expect(Math.min(...lrs)).toBe(1e-4);
  });
});

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement', () => {
    let st = initialEarlyStop();
    const stops: boolean[] = [];
    for (const v of [3, 2, 2.5, 2.1, 1.9, 2.0, 1.9, 2.0]) {
      const r = earlyStopStep(st, v, 3);
      st = r.state;
      stops.push(r.stop);
    }
    expect(stops).toEqual([false, false, false, false, false, false, false, true]);
  });
});

describe('validation split', () => {
  it('takes the last 5% like Keras, at least one training sample', () => {
    expect(splitTrainValidation(100, 0.05)).toEqual({ train: 95, validation: 5 });
    expect(splitTrainValidation(30, 0.05)).toEqual({ train: 28, validation: 2 });
    expect(splitTrainValidation(1, 0.05)).toEqual({ train: 1, validation: 0 });
  });
});
