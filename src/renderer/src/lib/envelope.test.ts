import { describe, expect, it } from 'vitest';
import { envelope } from './envelope';

describe('per-pixel min/max envelope', () => {
  it('keeps every extreme of a dense series, including a one-point spike', () => {
    const n = 100_000;
    const x = new Float64Array(n).map((_, i) => i);
    const y = new Float64Array(n).map((_, i) => Math.sin(i / 5000));
    y[43_210] = 50; // a divergence spike must stay visible
    y[77_777] = -50;
    const e = envelope(x, y, 0, n - 1, 0, 500 / n);
    expect(e.points).toBe(n);
    expect(e.length).toBeLessThan(500 * 4 + 1);
    const ys = Array.from(e.ys.subarray(0, e.length));
    expect(Math.max(...ys)).toBe(50);
    expect(Math.min(...ys)).toBe(-50);
    // the first and last points are exact
    expect(ys[0]).toBe(y[0]);
    expect(ys[ys.length - 1]).toBe(y[n - 1]);
  });

  it('is the line itself when points are sparser than pixels, and skips gaps', () => {
    const x = [0, 1, 2, 3];
    const y = [4, null, 2, 3];
    const e = envelope(x, y, 0, 3, 0, 100);
    expect(Array.from(e.xs.subarray(0, e.length))).toEqual([0, 200, 300]);
    expect(Array.from(e.ys.subarray(0, e.length))).toEqual([4, 2, 3]);
    expect(e.points).toBe(3);
  });

  it('orders a column’s extremes as they occurred', () => {
    // within one column: 5 → 9 (max first) → 1 (min) → 4
    const e = envelope([0, 0.1, 0.2, 0.3], [5, 9, 1, 4], 0, 3, 7, 0);
    expect(Array.from(e.ys.subarray(0, e.length))).toEqual([5, 9, 1, 4]);
  });
});
