import { describe, expect, it } from 'vitest';
import { jobColor } from './colors';
import { formatDose, formatEta, formatLoss } from './format';

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
