import { describe, expect, it } from 'vitest';
import { debiasedEma } from './ema';
import { extendSmooth, smooth, smoothState } from './smooth';

/** A flat loss near −140 with a spike at step 2, as every gs1 job of the study shows. */
function spiky(n = 60): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = -140 + 0.5 * Math.sin(i * 1.7);
  y[2] = 1e4;
  return y;
}

describe('robust smoothing', () => {
  it('ignores a single spike: the smoothed line stays near the real loss', () => {
    const y = spiky();
    const plain = debiasedEma(y, 0.6);
    const { smoothed, outlier } = smooth(y, { weight: 0.6, ignoreOutliers: true });
    // the plain EMA is dragged thousands above the real loss for steps after the spike
    expect(plain[3]).toBeGreaterThan(1000);
    expect(plain[10]).toBeGreaterThan(-100);
    for (let i = 0; i < y.length; i++) expect(Math.abs(smoothed[i] + 140)).toBeLessThan(1);
    expect([...outlier].map((f, i) => (f ? i : -1)).filter((i) => i >= 0)).toEqual([2]);
  });

  it('equals the debiased EMA when outliers are not ignored', () => {
    const y = spiky();
    const { smoothed, outlier } = smooth(y, { weight: 0.6, ignoreOutliers: false });
    const plain = debiasedEma(y, 0.6);
    for (let i = 0; i < y.length; i++) expect(smoothed[i]).toBeCloseTo(plain[i], 10);
    expect(outlier.every((f) => f === 0)).toBe(true);
  });

  it('does not flag a steep but smooth decline or a level shift', () => {
    const n = 200;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = 1e4 * Math.exp(-i / 10) + 0.01 * Math.cos(i);
    expect(smooth(y, { weight: 0.6, ignoreOutliers: true }).outlier.some((f) => f === 1)).toBe(false);
    const shift = new Float64Array(n);
    for (let i = 0; i < n; i++) shift[i] = (i < 100 ? 5 : -5) + 0.1 * Math.sin(i * 2.3);
    const r = smooth(shift, { weight: 0.6, ignoreOutliers: true });
    expect(r.outlier.some((f) => f === 1)).toBe(false);
  });

  it('keeps a steep start that falls point after point, but flags a spike two points wide', () => {
    const y = new Float64Array(60);
    for (let i = 0; i < y.length; i++) y[i] = -0.4 + 0.3 * Math.exp(-i) + 0.005 * Math.sin(i * 2.1);
    expect(smooth(y, { weight: 0.6, ignoreOutliers: true }).outlier.some((f) => f === 1)).toBe(false);
    const z = spiky(60);
    z[20] = 5e3;
    z[21] = 5e3;
    const r = smooth(z, { weight: 0.6, ignoreOutliers: true });
    expect([r.outlier[2], r.outlier[20], r.outlier[21]]).toEqual([1, 1, 1]);
  });

  it('streams: extending point by point gives the same result as one pass', () => {
    const y = spiky(120);
    y[70] = -1e5;
    const once = smooth(y, { weight: 0.9, ignoreOutliers: true });
    const st = smoothState({ weight: 0.9, ignoreOutliers: true });
    for (let n = 1; n <= y.length; n += 1 + (n % 5)) {
      extendSmooth(y, n, st);
      // provisional points may change later, final ones never
      for (let i = 0; i < st.committed; i++) expect(st.out[i]).toBe(once.smoothed[i]);
    }
    extendSmooth(y, y.length, st);
    for (let i = 0; i < y.length; i++) expect(st.out[i]).toBeCloseTo(once.smoothed[i], 12);
    expect(st.outlier[70]).toBe(1);
    expect(st.outlier[2]).toBe(1);
  });

  it('passes non-finite values through as NaN without touching the average', () => {
    const y = spiky(30);
    y[10] = Number.NaN;
    const { smoothed, outlier } = smooth(y, { weight: 0.6, ignoreOutliers: true });
    expect(Number.isNaN(smoothed[10])).toBe(true);
    expect(outlier[10]).toBe(0);
    expect(Math.abs(smoothed[11] + 140)).toBeLessThan(1);
  });

  it('with weight 0 the smoothed line is the raw line minus the outliers', () => {
    const y = spiky(30);
    const { smoothed } = smooth(y, { weight: 0, ignoreOutliers: true });
    expect(smoothed[1]).toBe(y[1]);
    expect(smoothed[2]).toBe(y[1]);
    expect(smoothed[3]).toBe(y[3]);
  });

  it('rejects a weight outside [0, 1)', () => {
    expect(() => smoothState({ weight: 1, ignoreOutliers: true })).toThrow(/\[0, 1\)/);
  });

  it('smooths a million points in well under a second', () => {
    const n = 1_000_000;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = 3 * Math.exp(-i / 2e5) + 0.1 * Math.sin(i * 0.37);
    const t0 = performance.now();
    smooth(y, { weight: 0.6, ignoreOutliers: true });
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
