import { describe, expect, it } from 'vitest';
import { alignForEvaluation, fitPlane, removePlane, scanBox } from './align';
import { gaussianFilter } from './filters';
import { type ComplexImage, complexImage, cropComplex, realImage } from './image';
import { fourierShift } from './registration';
import { scoreReconstruction } from './score';
import { stitchPatches } from './stitch';
import { rng } from '../../../test/fixtures/eval.fixture';

/**
 * A textured complex test object: smoothed noise (σ = 2 px) as amplitude 0.7 ± 0.15 and
 * phase ±1 rad plus a slow ramp — aperiodic, like a real specimen, so registration has
 * something unambiguous to lock onto.
 */
function testObject(h: number, w: number): ComplexImage {
  const r = rng(11);
  const noise = realImage(h, w);
  for (let i = 0; i < h * w; i++) noise.data[i] = r() - 0.5;
  const t = gaussianFilter(noise, 2);
  let sd = 0;
  for (const v of t.data) sd += v * v;
  sd = Math.sqrt(sd / t.data.length);
  const o = complexImage(h, w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = t.data[y * w + x] / sd;
      const amp = 0.7 + 0.15 * v;
      const ph = 0.5 * v + 0.3 * Math.sin(x / 9);
      o.re[y * w + x] = amp * Math.cos(ph);
      o.im[y * w + x] = amp * Math.sin(ph);
    }
  }
  return o;
}

/** Ground-truth patches (N × N, interleaved) at integer positions, as the simulator extracts them. */
function extract(obj: ComplexImage, xs: number[], ys: number[], n: number) {
  const data = new Float32Array(xs.length * n * n * 2);
  xs.forEach((x, p) => {
    const patch = cropComplex(obj, ys[p] - n / 2, x - n / 2, n, n);
    for (let i = 0; i < n * n; i++) {
      data[2 * (p * n * n + i)] = patch.re[i];
      data[2 * (p * n * n + i) + 1] = patch.im[i];
    }
  });
  return { count: xs.length, size: n, data };
}

function grid(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

const H = 120;
const W = 130;
const N = 32;
const OBJ = testObject(H, W);
const XS: number[] = [];
const YS: number[] = [];
for (const y of grid(24, 96, 9)) {
  for (const x of grid(22, 108, 9)) {
    XS.push(x);
    YS.push(y);
  }
}

describe('stitching', () => {
  it('stitching ground-truth patches reproduces the object wherever a patch landed', () => {
    const s = stitchPatches({
      patches: extract(OBJ, XS, YS, N),
      xs: XS,
      ys: YS,
      objectHeight: H,
      objectWidth: W,
      crop: 12,
    });
    let covered = 0;
    let maxErr = 0;
    for (let i = 0; i < H * W; i++) {
      if (s.weight.data[i] <= 0) {
        expect(s.object.re[i]).toBe(0);
        continue;
      }
      covered++;
      maxErr = Math.max(maxErr, Math.hypot(s.object.re[i] - OBJ.re[i], s.object.im[i] - OBJ.im[i]));
    }
    // 9-px steps with a 12-px crop tile the scan box completely: x in [22−6, 103+6), y in [24−6, 96+6)
    expect(Math.max(...XS)).toBe(103);
    expect(covered).toBe((103 - 22 + 12) * (96 - 24 + 12));
    expect(maxErr).toBeLessThan(1e-6);
  });

  it('overlaps are averaged, and sub-pixel positions spread weight bilinearly', () => {
    const n = 8;
    const ones = new Float32Array(2 * 2 * n * n);
    for (let i = 0; i < n * n; i++) {
      ones[2 * i] = 1; // patch 0: value 1
      ones[2 * (n * n + i)] = 3; // patch 1: value 3
    }
    const s = stitchPatches({
      patches: { count: 2, size: n, data: ones },
      xs: [10, 12.5],
      ys: [10, 10],
      objectHeight: 20,
      objectWidth: 24,
      crop: 4,
    });
    // patch 0 covers columns 8..11; patch 1 (x = 12.5) straddles columns 10..14
    expect(s.weight.data[10 * 24 + 8]).toBeCloseTo(1, 12);
    expect(s.object.re[10 * 24 + 8]).toBeCloseTo(1, 8);
    expect(s.weight.data[10 * 24 + 10]).toBeCloseTo(1.5, 12);
    expect(s.object.re[10 * 24 + 10]).toBeCloseTo((1 + 0.5 * 3) / 1.5, 8);
    expect(s.weight.data[10 * 24 + 14]).toBeCloseTo(0.5, 12);
    expect(s.object.re[10 * 24 + 14]).toBeCloseTo(3, 7);
    expect(s.weight.data[10 * 24 + 15]).toBe(0);
  });
});

describe('alignment', () => {
  const weight = realImage(H, W).data.fill(1);
  const weightImg = realImage(H, W, weight);

  it('recovers a known global phase offset, sub-pixel shift and amplitude scale', () => {
    // reconstruction = object shifted by (+1.3, −0.6) px, times 0.8·e^{i·2.9}
    const shifted = fourierShift(OBJ, { dy: 1.3, dx: -0.6 });
    const recon = complexImage(H, W);
    const k = 0.8;
    for (let i = 0; i < H * W; i++) {
      recon.re[i] = k * (shifted.re[i] * Math.cos(2.9) - shifted.im[i] * Math.sin(2.9));
      recon.im[i] = k * (shifted.re[i] * Math.sin(2.9) + shifted.im[i] * Math.cos(2.9));
    }
    const { aligned, scores } = scoreReconstruction(
      { recon, weight: weightImg, groundTruth: OBJ, xs: XS, ys: YS },
      { stitchCrop: 12 },
    );
    const r = aligned.record;
    expect(r.registrationShift?.dy).toBeCloseTo(-1.3, 1);
    expect(r.registrationShift?.dx).toBeCloseTo(0.6, 1);
    expect(Math.abs((r.registrationShift?.dy ?? 0) + 1.3)).toBeLessThanOrEqual(0.1);
    expect(Math.abs((r.registrationShift?.dx ?? 0) - 0.6)).toBeLessThanOrEqual(0.1);
    expect(r.globalPhaseOffsetRad).toBeCloseTo(2.9, 2);
    expect(r.amplitudeScale).toBeCloseTo(1 / k, 2);
    expect(r.scanBox).toEqual({ row0: 18, row1: 102, col0: 16, col1: 109 });
    expect(r.shape).toEqual([102 - 18 - 8, 109 - 16 - 8]);
    expect(scores.phase.mae).toBeLessThan(0.02);
    expect(scores.amplitude.mae).toBeLessThan(0.01);
    expect(scores.amplitude.ssim).toBeGreaterThan(0.98);
    expect(scores.phase.ssim).toBeGreaterThan(0.98);
  });

  it("skimage's phase-normalised registration misses the shift on box crops (why we window)", () => {
    const shifted = fourierShift(OBJ, { dy: 1.3, dx: -0.6 });
    const input = { recon: shifted, weight: weightImg, groundTruth: OBJ, xs: XS, ys: YS };
    const phaseOnly = alignForEvaluation(input, { stitchCrop: 12, registrationMethod: 'phase' }).record;
    expect(Math.abs((phaseOnly.registrationShift?.dy ?? 0) + 1.3)).toBeGreaterThan(0.5);
  });

  it('without alignment the same reconstruction scores far worse (the steps matter)', () => {
    const shifted = fourierShift(OBJ, { dy: 1.3, dx: -0.6 });
    const recon = complexImage(H, W);
    for (let i = 0; i < H * W; i++) {
      recon.re[i] = -shifted.re[i];
      recon.im[i] = -shifted.im[i];
    }
    const input = { recon, weight: weightImg, groundTruth: OBJ, xs: XS, ys: YS };
    const on = scoreReconstruction(input, { stitchCrop: 12 }).scores;
    const off = scoreReconstruction(input, { stitchCrop: 12, register: false }).scores;
    expect(off.amplitude.ssim).toBeLessThan(on.amplitude.ssim - 0.05);
  });

  it('holes no patch covered are not scored: a perfect but partial reconstruction scores as perfect', () => {
    const recon = complexImage(H, W);
    recon.re.set(OBJ.re);
    recon.im.set(OBJ.im);
    const weight = realImage(H, W);
    weight.data.fill(1);
    for (let y = 40; y < 70; y++) {
      for (let x = 30; x < 60; x++) {
        recon.re[y * W + x] = 0;
        recon.im[y * W + x] = 0;
        weight.data[y * W + x] = 0;
      }
    }
    const { aligned, scores } = scoreReconstruction(
      { recon, weight, groundTruth: OBJ, xs: XS, ys: YS },
      { stitchCrop: 12 },
    );
    expect(aligned.record.coverage).toBeLessThan(0.9);
    expect(aligned.record.registrationShift).toEqual({ dy: 0, dx: 0 });
    expect(scores.amplitude.mae).toBeLessThan(1e-6);
    expect(scores.phase.ssim).toBeGreaterThan(0.99999);
    expect(scores.amplitude.ms_ssim).toBeGreaterThan(0.99999);
    expect(scores.phase.frc?.size).toBeGreaterThanOrEqual(16);
  });

  it('fits and removes a phase plane exactly', () => {
    const img = realImage(17, 23);
    for (let y = 0; y < 17; y++) for (let x = 0; x < 23; x++) img.data[y * 23 + x] = 0.1 * x - 0.2 * y + 0.5;
    const p = fitPlane(img);
    expect(p.a).toBeCloseTo(0.1, 12);
    expect(p.b).toBeCloseTo(-0.2, 12);
    expect(p.c).toBeCloseTo(0.5, 12);
    expect(Math.max(...removePlane(img, p).data.map(Math.abs))).toBeLessThan(1e-12);
  });

  it('the scan box is the positions ± M/2, clipped to the object', () => {
    expect(scanBox([5, 50], [30, 40.7], 60, 52, 20)).toEqual({ row0: 20, row1: 50, col0: 0, col1: 52 });
  });

  it('refuses a scan box too small to score', () => {
    expect(() =>
      alignForEvaluation({ recon: OBJ, weight: weightImg, groundTruth: OBJ, xs: [50], ys: [50] }, { stitchCrop: 12 }),
    ).toThrow(/too small/);
  });
});
