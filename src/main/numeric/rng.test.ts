import { describe, expect, it } from 'vitest';
import { logGamma, simulationRng } from './rng';

describe('seeded random numbers', () => {
  it('repeat for a seed and label and differ otherwise', () => {
    const a = simulationRng(42, 'noise');
    const b = simulationRng(42, 'noise');
    const c = simulationRng(42, 'positions');
    const xa = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.random())).not.toEqual(xa);
  });

  it('Poisson counts have mean ≈ variance ≈ λ in both samplers (inversion < 10 ≤ PTRS)', () => {
    const rng = simulationRng(7, 'poisson');
    for (const lambda of [0.05, 2.5, 9.5, 12, 400, 3e4]) {
      const n = 40_000;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const k = rng.poisson(lambda);
        expect(Number.isInteger(k) && k >= 0).toBe(true);
        s += k;
        s2 += k * k;
      }
      const mean = s / n;
      const variance = s2 / n - mean * mean;
      // 5 standard errors of the mean and of the variance estimate
      expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
      expect(Math.abs(variance - lambda)).toBeLessThan(5 * Math.sqrt((2 * lambda * lambda + lambda) / n));
    }
  });

  it('logGamma matches log((k − 1)!)', () => {
    let logFact = 0;
    for (let k = 1; k < 60; k++) {
      expect(logGamma(k)).toBeCloseTo(logFact, 9);
      logFact += Math.log(k);
    }
  });
});
