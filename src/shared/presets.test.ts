import { describe, expect, it } from 'vitest';
import { BENCH_SECONDS_PER_STEP, estimateJob, STUDY_PRESETS } from './presets';

describe('the trend preset keeps the budget it states', () => {
  // The trend data: 2048 positions split by the object's middle row → 975 training patterns,
  // one gs1 group each, 5% held out, batch 16 (docs/benchmarks.md, "study presets").
  const trendJob = () =>
    estimateJob({
      groups: 975,
      batchSize: 16,
      validationSplit: 0.05,
      maxEpochs: STUDY_PRESETS.trend.maxEpochs,
      secondsPerStep: BENCH_SECONDS_PER_STEP[1],
      rateSource: 'bench',
    });

  it('trains the 24 epochs at which the dose trend was measured, 58 steps each', () => {
    const job = trendJob();
    expect(STUDY_PRESETS.trend.maxEpochs).toBe(24);
    expect(job.stepsPerEpoch).toBe(58);
    expect(job.totalSteps).toBe(1392);
    expect(STUDY_PRESETS.trend.budget).toContain('58 per epoch × 24');
  });

  it('the three baseline gs1 jobs fit the measured ≈ 34 min at the idle bench rate', () => {
    const minutes = (3 * trendJob().seconds) / 60;
    expect(minutes).toBeGreaterThan(25);
    expect(minutes).toBeLessThan(33);
    expect(STUDY_PRESETS.trend.budget).toMatch(/measured at 34 min on a quiet 2-core CPU/);
  });
});
