import { describe, expect, it } from 'vitest';
import { debiasedEma, emaState, extendEma } from './ema';

describe('debiased EMA', () => {
  it('matches the hand-computed TensorBoard recurrence', () => {
    const y = [4, 2, 6];
    const w = 0.5;
    // acc: 2, 2, 4 ; debias by 1-0.5, 1-0.25, 1-0.125
    const expected = [2 / 0.5, 2 / 0.75, 4 / 0.875];
    const got = Array.from(debiasedEma(y, w));
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i], 12);
  });

  it('starts at the first value instead of being dragged to zero', () => {
    const got = debiasedEma([10, 10, 10, 10], 0.99);
    for (const v of got) expect(v).toBeCloseTo(10, 9);
  });

  it('weight 0 returns the raw values', () => {
    expect(Array.from(debiasedEma([3, 1, 2], 0))).toEqual([3, 1, 2]);
  });

  it('streaming extension equals the one-shot result', () => {
    const y = Array.from({ length: 500 }, (_, i) => Math.exp(-i / 100) + 0.1 * Math.sin(i * 1.7));
    const oneShot = debiasedEma(y, 0.9);
    const out = new Float64Array(y.length);
    const s = emaState(0.9);
    for (const n of [1, 7, 200, 499, 500]) extendEma(y, n, out, s);
    expect(Array.from(out)).toEqual(Array.from(oneShot));
  });

  it('skips non-finite values without poisoning the average', () => {
    const got = debiasedEma([1, Number.NaN, 1, Number.POSITIVE_INFINITY, 1], 0.6);
    expect(Number.isNaN(got[1])).toBe(true);
    expect(Number.isNaN(got[3])).toBe(true);
    expect(got[4]).toBeCloseTo(1, 12);
  });

  it('rejects a weight outside [0, 1)', () => {
    expect(() => emaState(1)).toThrow(RangeError);
    expect(() => emaState(-0.1)).toThrow(RangeError);
  });
});
