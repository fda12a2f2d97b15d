import { describe, expect, it } from 'vitest';
import { planLine } from './plan';

describe('plan line', () => {
  it('states groups, steps per epoch, total steps and the estimated time', () => {
    const line = planLine({
      jobId: 'dose_1000-baseline-gs1',
      upToDate: false,
      reasons: ['never trained'],
      plan: {
        groups: 64,
        trainGroups: 58,
        validationGroups: 6,
        batchSize: 8,
        stepsPerEpoch: 8,
        epochs: 3,
        totalSteps: 24,
        secondsPerStep: 1.25,
        rateSource: 'earlier gs1 jobs here',
        seconds: 30,
      },
    });
    expect(line).toBe(
      'will run: never trained — 64 groups (58 train / 6 validation), batch 8 · 8 steps/epoch × 3 epochs = 24 steps · ≈ 30s at 1.25 s/step (earlier gs1 jobs here)',
    );
  });
  it('says up to date without a cost', () => {
    expect(planLine({ jobId: 'j', upToDate: true, reasons: [] })).toBe('up to date');
  });
});
