import { describe, expect, it } from 'vitest';
import { alignForEvaluation } from './align';
import { rng } from '../../../test/fixtures/eval.fixture';
import { gaussianFilter } from './filters';
import { type ComplexImage, complexImage, realImage } from './image';
import { fourierShift } from './registration';
import { scoreReconstruction } from './score';
import { constantGuess, convergence, isPerfect, referenceScores, skillOf, skillScores } from './skill';

/** Smoothed-noise amplitude (0.7 ± 0.1) and phase (±0.45 rad): textured and aperiodic. */
function texturedObject(h: number, w: number, seed = 5): ComplexImage {
  const r = rng(seed);
  const noise = realImage(h, w);
  for (let i = 0; i < h * w; i++) noise.data[i] = r() - 0.5;
  const t = gaussianFilter(noise, 2);
  let sd = 0;
  for (const v of t.data) sd += v * v;
  sd = Math.sqrt(sd / t.data.length);
  const o = complexImage(h, w);
  for (let i = 0; i < h * w; i++) {
    const v = t.data[i] / sd;
    o.re[i] = (0.7 + 0.1 * v) * Math.cos(0.45 * v);
    o.im[i] = (0.7 + 0.1 * v) * Math.sin(0.45 * v);
  }
  return o;
}

const H = 96;
const W = 104;
const OBJ = texturedObject(H, W);
const FULL = realImage(H, W, new Float64Array(H * W).fill(1));
const XS = [30, 74];
const YS = [30, 66];
const input = (recon: ComplexImage) => ({ recon, weight: FULL, groundTruth: OBJ, xs: XS, ys: YS });
const OPTS = { stitchCrop: 32 };

describe('registration cap and accuracy', () => {
  it('recovers known sub-pixel shifts up to 1 px with a bias below 0.05 px', () => {
    for (const s of [0.1, 0.25, 0.4, 0.5, 0.66, 0.75, 1]) {
      for (const [dy, dx] of [
        [s, 0],
        [0, -s],
        [s, -s],
      ]) {
        const r = alignForEvaluation(input(fourierShift(OBJ, { dy, dx })), OPTS).record;
        // the registration shift undoes the applied one
        expect(Math.abs((r.registrationShift?.dy ?? 9) + dy)).toBeLessThan(0.05);
        expect(Math.abs((r.registrationShift?.dx ?? 9) + dx)).toBeLessThan(0.05);
        expect(r.registrationAtCap).toBe(false);
      }
    }
  });

  it('the total shift (coarse + sub-pixel) never exceeds the cap, and a shift at the cap is flagged', () => {
    for (const s of [1.9, 2.3, 2.6, 3.5, 5]) {
      for (const cap of [1, 2]) {
        const r = alignForEvaluation(input(fourierShift(OBJ, { dy: s, dx: -s })), { ...OPTS, maxShiftPx: cap }).record;
        const shift = r.registrationShift ?? { dy: 0, dx: 0 };
        expect(Math.abs(shift.dy)).toBeLessThanOrEqual(cap + 1e-9);
        expect(Math.abs(shift.dx)).toBeLessThanOrEqual(cap + 1e-9);
        if (s > cap + 0.1) expect(r.registrationAtCap).toBe(true);
      }
    }
  });
});

describe('skill against a constant guess and the ground truth through the same pipeline', () => {
  it('the ground truth scores perfect and a constant image scores skill 0 and is flagged not converged', () => {
    const refs = referenceScores(input(OBJ), OPTS);
    expect(isPerfect(refs.groundTruth)).toBe(true);
    const flat = scoreReconstruction(input(constantGuess(OBJ)), OPTS).scores;
    const k = skillScores(flat, refs);
    for (const ch of ['amplitude', 'phase'] as const) {
      expect(k[ch].mae).toBeCloseTo(0, 9);
      expect(k[ch].ssim).toBeCloseTo(0, 9);
    }
    expect(convergence(k).notConverged).toBe(true);
  });

  it('a flat phase with the right amplitude scores phase skill ≈ 0 although its raw phase SSIM is high', () => {
    const flatPhase = complexImage(H, W);
    for (let i = 0; i < H * W; i++) flatPhase.re[i] = Math.hypot(OBJ.re[i], OBJ.im[i]) * 0.9 + 0.05;
    const refs = referenceScores(input(flatPhase), OPTS);
    const s = scoreReconstruction(input(flatPhase), OPTS).scores;
    const k = skillScores(s, refs);
    expect(s.phase.ssim).toBeGreaterThan(0.3);
    expect(Math.abs(k.phase.mae ?? 9)).toBeLessThan(1e-6);
    expect(k.amplitude.mae).toBeGreaterThan(0.5);
    const c = convergence(k);
    expect(c.notConverged).toBe(true);
    expect(c.reason).toMatch(/phase MAE skill/);
    expect(c.reason).not.toMatch(/amplitude/);
  });

  it('a noisy copy of the truth scores between constant and perfect, and is not flagged', () => {
    const r = rng(9);
    const noisy = complexImage(H, W);
    for (let i = 0; i < H * W; i++) {
      noisy.re[i] = OBJ.re[i] + 0.04 * (r() - 0.5);
      noisy.im[i] = OBJ.im[i] + 0.04 * (r() - 0.5);
    }
    const refs = referenceScores(input(noisy), OPTS);
    const k = skillScores(scoreReconstruction(input(noisy), OPTS).scores, refs);
    for (const ch of ['amplitude', 'phase'] as const) {
      expect(k[ch].mae).toBeGreaterThan(0.5);
      expect(k[ch].mae).toBeLessThan(1);
    }
    expect(convergence(k).notConverged).toBe(false);
  });

  it('skill is (baseline − model) / (baseline − perfect) for either direction of "better"', () => {
    expect(skillOf(0.1, 0.2, 0)).toBeCloseTo(0.5, 12); // MAE: lower is better
    expect(skillOf(0.8, 0.6, 1)).toBeCloseTo(0.5, 12); // SSIM: higher is better
    expect(skillOf(0.3, 0.2, 0)).toBeCloseTo(-0.5, 12); // worse than a constant
    expect(skillOf(0.1, 0, 0)).toBeNull(); // baseline already perfect: undefined
    expect(skillOf(null, 0.2, 0)).toBeNull();
  });
});
