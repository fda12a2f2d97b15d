import { describe, expect, it } from 'vitest';
import { logGamma, permutation, plainMulberry32Rng, simulationRng, trainerRng, weightInitRng } from './rng';

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

  it('each seeding keeps its recorded first draws', () => {
    // Values taken from the generators before they were merged into this module.
    const first = (next: () => number) => [next(), next(), next()];
    const sim = simulationRng(42, 'noise');
    const trainer = trainerRng(42, 7);
    const init = weightInitRng(42);
    const plain = plainMulberry32Rng(42);
    expect(first(() => sim.random())).toEqual(SIMULATION_FIRST);
    expect(first(() => trainer.nextU32())).toEqual(TRAINER_FIRST);
    expect(first(() => init.next())).toEqual(WEIGHT_INIT_FIRST);
    expect(first(() => plain.next())).toEqual(PLAIN_MULBERRY_FIRST);
  });

  it('a trainer stream resumed from its saved state draws what the uninterrupted one draws', () => {
    const a = trainerRng(5, 3);
    permutation(a, 10);
    const saved = a.state();
    const rest = Array.from(permutation(a, 20));
    expect(Array.from(permutation(trainerRng(saved), 20))).toEqual(rest);
  });
});

const SIMULATION_FIRST = [0.1673172803006433, 0.10125768821793357, 0.2598319392593311];
const TRAINER_FIRST = [2934503300, 1261736714, 1710488918];
const WEIGHT_INIT_FIRST = [0.1778232182841748, 0.6313992536161095, 0.49404995795339346];
const PLAIN_MULBERRY_FIRST = [0.6011037519201636, 0.44829055899754167, 0.8524657934904099];
