import { describe, expect, it } from 'vitest';
import {
  earlyStopStep,
  initialEarlyStop,
  initialPlateau,
  plateauMinDelta,
  plateauStep,
  splitTrainValidation,
  warmupLr,
} from './schedule';

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

describe('a schedule that does not depend on the dose', () => {
  // one loss history in units of its dynamic range, seen at three doses (the NLL and its changes scale with the counts)
  const history = [1.2, 1.1, 0.9, 0.7, 0.6995, 0.699, 0.69, 0.5, 0.4999, 0.4998, 0.4997, 0.4996, 0.4995, 0.4994];
  const run = (scale: number, offset: number) => {
    const ref = { meanPattern: offset + scale, floor: offset };
    let st = initialPlateau();
    let es = initialEarlyStop();
    let lr = 1e-3;
    const out: string[] = [];
    for (const h of history) {
      const v = offset + scale * h;
      const p = plateauStep(st, v, lr, { factor: 0.5, patience: 2, minLr: 1e-4 }, ref);
      const e = earlyStopStep(es, v, 3, ref);
      st = p.state;
      es = e.state;
      lr = p.lr;
      out.push(`${lr}:${e.stop}`);
    }
    return out;
  };

  it('reduces the rate and stops at the same epochs whatever the loss scale', () => {
    const at1e3 = run(0.05, -1.4);
    expect(run(0.5, -10)).toEqual(at1e3);
    expect(run(5, -157)).toEqual(at1e3);
    // and it does reduce: improvements below 0.1% of the range do not count
    expect(at1e3.at(-1)).not.toBe('0.001:false');
  });

  it('with the absolute min_delta the same history is read differently at each dose (why it changed)', () => {
    const lrs = (scale: number) => {
      let st = initialPlateau();
      let lr = 1e-3;
      for (const h of history)
        ({ state: st, lr } = plateauStep(st, scale * h, lr, { factor: 0.5, patience: 2, minLr: 1e-4 }));
      return lr;
    };
    expect(lrs(0.05)).not.toBe(lrs(5));
  });

  it('neither reduces the rate nor stops while the loss is above the mean-pattern predictor', () => {
    const ref = { meanPattern: -10, floor: -10.5 };
    let st = initialPlateau();
    let es = initialEarlyStop();
    let lr = 1e-3;
    for (let k = 0; k < 20; k++) {
      const p = plateauStep(st, -9.9, lr, { factor: 0.5, patience: 2, minLr: 1e-4 }, ref);
      const e = earlyStopStep(es, -9.9, 3, ref);
      st = p.state;
      es = e.state;
      lr = p.lr;
      expect(e.stop).toBe(false);
    }
    expect(lr).toBe(1e-3);
    // below it, the usual patience applies: one improving epoch, then three without improvement
    const stops: boolean[] = [];
    for (let k = 0; k < 4; k++) {
      const e = earlyStopStep(es, -10.2, 3, ref);
      es = e.state;
      stops.push(e.stop);
    }
    expect(stops).toEqual([false, false, false, true]);
    expect(plateauMinDelta(ref)).toBeCloseTo(5e-4, 12);
    expect(plateauMinDelta(null)).toBe(1e-4);
  });

  it('warms the learning rate up linearly over the first steps', () => {
    expect(warmupLr(1e-3, 0, 20)).toBeCloseTo(5e-5, 12);
    expect(warmupLr(1e-3, 9, 20)).toBeCloseTo(5e-4, 12);
    expect(warmupLr(1e-3, 19, 20)).toBe(1e-3);
    expect(warmupLr(1e-3, 500, 20)).toBe(1e-3);
    expect(warmupLr(1e-3, 0, 0)).toBe(1e-3);
  });
});
