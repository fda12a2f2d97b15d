import { describe, expect, it } from 'vitest';
import { withinDecade } from './build-series';
import { FIT, zoomAt } from './zoom';

describe('viewer zoom', () => {
  it('keeps the point under the pointer still', () => {
    const v = zoomAt(FIT, 2, 100, 50);
    // image point (100, 50) at scale 1 is drawn at 100·2 + x = 100
    expect(v).toEqual({ scale: 2, x: -100, y: -50 });
    const w = zoomAt(v, 1.5, 100, 50);
    expect(100 - w.x).toBeCloseTo((100 - v.x) * 1.5);
  });
  it('never zooms out past the fit and caps at 32×', () => {
    expect(zoomAt(zoomAt(FIT, 2, 10, 10), 0.1, 10, 10)).toEqual(FIT);
    expect(zoomAt(FIT, 1000, 0, 0).scale).toBe(32);
  });
});

describe('log scale range', () => {
  it('is drawn linear when the values span less than a decade of one sign', () => {
    expect(withinDecade({ min: -156, max: -139 })).toBe(true);
    expect(withinDecade({ min: 0.2, max: 3 })).toBe(false);
    expect(withinDecade({ min: -1, max: 50 })).toBe(false);
    expect(withinDecade(null)).toBe(false);
  });
});
