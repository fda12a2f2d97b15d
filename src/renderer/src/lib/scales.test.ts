import { describe, expect, it } from 'vitest';
import { decadeSplits, linearBand } from './scales';

describe('log-scale ticks', () => {
  it('puts ticks on decades only', () => {
    expect(decadeSplits(0.03, 250, 1e-300)).toEqual([0.1, 1, 10, 100]);
  });
  it('spans zero symmetrically outside the linear band', () => {
    expect(decadeSplits(-2, 150, 0.1)).toEqual([-1, -0.1, 0, 0.1, 1, 10, 100]);
  });
  it('chooses the linear band at the small end of typical |loss|', () => {
    const y = new Float64Array(1000).map((_, i) => -0.3 - (i % 7) * 0.01);
    y[5] = 154;
    expect(linearBand([{ y }])).toBe(0.1);
    expect(linearBand([{ y: new Float64Array([0, 0]) }])).toBe(1);
  });
});
