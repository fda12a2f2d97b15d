import { describe, expect, it } from 'vitest';
import { jobColor } from './colors';
import { formatCount, formatDose, formatEta, formatLoss, missingLabel } from './format';

describe('formatting', () => {
  it('formats ETA in human units', () => {
    expect(formatEta(5.4)).toBe('5s');
    expect(formatEta(125)).toBe('2m 05s');
    expect(formatEta(3 * 3600 + 61)).toBe('3h 01m');
    expect(formatEta(null)).toBe('');
  });
  it('formats losses, including tiny, huge and missing ones', () => {
    expect(formatLoss(0.123456)).toBe('0.1235');
    expect(formatLoss(1.5e-5)).toBe('1.500e-5');
    expect(formatLoss(Number.NaN)).toBe('—');
    expect(formatLoss(-2.5)).toBe('-2.500');
  });
  it('groups thousands in counts', () => {
    expect(formatCount(1_000_000)).toBe('1,000,000');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1234)).toBe('1,234');
  });
  it('labels doses as powers of ten', () => {
    expect(formatDose(1000)).toBe('1e3');
    expect(formatDose(100000)).toBe('1e5');
    expect(formatDose(2500)).toBe('2500');
  });
  it('gives each job a colour that depends only on the job', () => {
    const ids = [1e3, 1e4, 1e5].flatMap((d) => ['baseline', 'dense', 'sparse'].map((v) => jobColor(v, d)));
    expect(new Set(ids).size).toBe(9);
    expect(jobColor('dense', 1e4)).toBe(jobColor('dense', 1e4));
  });
});

describe('ETA countdown', () => {
  it('counts down from the last estimate and keeps it while the estimate is unchanged', async () => {
    const { etaSeconds, nextEtaAt } = await import('../model');
    const p = { step: 1, total_steps: 10, epoch: 0, total_epochs: 2, eta_s: 60, last_loss: 1 };
    const at = nextEtaAt(null, p, null);
    expect(at).not.toBeNull();
    expect(etaSeconds({ etaAt: at }, (at ?? 0) - 30_000)).toBeCloseTo(30, 6);
    expect(nextEtaAt(p, { ...p, step: 2 }, at)).toBe(at);
    expect(nextEtaAt(p, { ...p, eta_s: null }, at)).toBeNull();
  });
});

describe('heat-map cells without a score', () => {
  it('name the status a stopped job ended with, not "not trained"', () => {
    expect(missingLabel('not_trained', 'status cancelled: cancelled by the user')).toBe('cancelled');
    expect(missingLabel('not_trained', 'status failed')).toBe('failed');
    expect(missingLabel('not_run', null)).toBe('not run');
  });
});
