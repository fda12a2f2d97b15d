import { describe, expect, test } from 'vitest';
import {
  interleave,
  probeError,
  rasterScan,
  type ScanFixture,
  scoreFixture,
  splitPlanes,
} from '../../../test/fixtures/pie.fixture';
import { syntheticProbe } from '../data/synthetic';
import { photonsPerPattern, pieOptions, type PieResult, reconstructPie, tvWeight } from './pie';

function score(f: ScanFixture, r: PieResult) {
  const e = scoreFixture(f, r);
  return { amp: e.metrics.amplitude.ssim!, phase: e.metrics.phase.ssim!, scale: e.alignment.amplitude_scale! };
}

const lsqml = (o: Parameters<typeof pieOptions>[0] = {}) => pieOptions({ algorithm: 'lsqml', ...o });

describe('LSQML', () => {
  test('a known probe and noiseless data recover the known object (phase SSIM ≥ 0.99, amplitude SSIM ≥ 0.95), the error never rising', async () => {
    const f = rasterScan({ step: 6 });
    const r = await reconstructPie(f.data, lsqml({ iterations: 40, probeUpdate: false }));
    expect(r.errors.at(-1)!).toBeLessThan(r.errors[0] / 50);
    for (let k = 1; k < r.errors.length; k++) expect(r.errors[k]).toBeLessThanOrEqual(r.errors[k - 1] * 1.001);
    const s = score(f, r);
    expect(s.phase).toBeGreaterThanOrEqual(0.99);
    expect(s.amp).toBeGreaterThanOrEqual(0.95);
  }, 30_000);

  test('the true object and probe are a fixed point', async () => {
    const f = rasterScan({ step: 8 });
    const r = await reconstructPie(
      { ...f.data, object: f.object },
      lsqml({ iterations: 2, probeUpdate: true, probeUpdateStart: 0 }),
    );
    expect(r.errors[0]).toBeLessThan(1e-12);
    expect(probeError(r.probeRe, r.probeIm, f.probe)).toBeLessThan(1e-6);
  });

  test('the probe update improves a deliberately wrong initial probe', async () => {
    const f = rasterScan({ step: 6 });
    const wrong = syntheticProbe(32, 0.45 * 32).data as Float64Array;
    const w = splitPlanes(wrong);
    const before = probeError(w.re, w.im, f.probe);
    const data = { ...f.data, probe: Float64Array.from(wrong) };
    const off = await reconstructPie(data, lsqml({ iterations: 40, probeUpdate: false }));
    const on = await reconstructPie(data, lsqml({ iterations: 40 }));
    expect(probeError(on.probeRe, on.probeIm, f.probe)).toBeLessThan(0.85 * before); // measured 0.36 from 0.46
    expect(on.errors.at(-1)!).toBeLessThan(off.errors.at(-1)! / 3);
    expect(score(f, on).phase).toBeGreaterThan(score(f, off).phase);
  }, 30_000);

  test('at 1e5 photons the full-batch fit, closer to the data than ePIE and the truth, is no better in amplitude: the photons limit it, not a constant step', async () => {
    const noisy = rasterScan({ step: 6, dose: 1e5 });
    const ml = await reconstructPie(noisy.data, lsqml({ iterations: 60 }));
    const epie = await reconstructPie(noisy.data, pieOptions({ iterations: 60 }));
    const truthError = (await reconstructPie({ ...noisy.data, object: noisy.object }, lsqml({ iterations: 1 })))
      .errors[0];
    // it fits the noisy data better than the truth does, and better than ePIE
    expect(ml.errors.at(-1)!).toBeLessThan(truthError);
    expect(ml.errors.at(-1)!).toBeLessThan(epie.errors.at(-1)!);
    const [a, b] = [score(noisy, ml), score(noisy, epie)];
    expect(Math.abs(a.amp - b.amp)).toBeLessThan(0.05);
    expect(a.phase).toBeGreaterThanOrEqual(0.98);
    expect(a.scale).toBeCloseTo(1, 1);
  }, 30_000);

  test('the total-variation prior raises the amplitude SSIM at 1e4 photons and keeps the phase', async () => {
    const noisy = rasterScan({ step: 6, dose: 1e4 });
    const plain = score(noisy, await reconstructPie(noisy.data, lsqml({ iterations: 40 })));
    const tv = score(noisy, await reconstructPie(noisy.data, lsqml({ iterations: 40, tv: 5e-5 })));
    expect(tv.amp).toBeGreaterThan(plain.amp + 0.2); // measured 0.62 → 0.92
    expect(tv.phase).toBeGreaterThanOrEqual(plain.phase - 0.01); // measured 0.986 → 0.985
  }, 30_000);

  test("the prior's weight is the MAP one: it follows the photons (1 / dose), not the scan's overlap", async () => {
    const dense = rasterScan({ step: 6, dose: 1e5 });
    const sparse = rasterScan({ step: 9, dose: 1e5 });
    const dim = rasterScan({ step: 6, dose: 1e4 });
    // the scans' peak overlap (what the weight used to be scaled by) differs by half or more …
    const peakOverlap = async (f: ScanFixture) =>
      Math.max(...(await reconstructPie(f.data, lsqml({ iterations: 0 }))).illumination);
    expect((await peakOverlap(dense)) / (await peakOverlap(sparse))).toBeGreaterThan(1.5);
    // … the weight does not: the data term's curvature per pixel already carries the overlap
    expect(tvWeight(dense.data, 1e-4) / tvWeight(sparse.data, 1e-4)).toBeCloseTo(1, 1);
    expect(tvWeight(dense.data, 1e-4) / tvWeight(dim.data, 1e-4)).toBeCloseTo(0.1, 2);
    expect(tvWeight(rasterScan({ step: 6 }).data, 1e-4)).toBe(0); // noiseless: no photon scale
  });

  test('reads the photons per pattern off the data (none for noiseless amplitudes)', () => {
    for (const dose of [1e3, 1e5]) {
      const n = photonsPerPattern(rasterScan({ step: 8, dose }).data);
      expect(n / dose).toBeGreaterThan(0.97);
      expect(n / dose).toBeLessThan(1.03);
    }
    expect(photonsPerPattern(rasterScan({ step: 8 }).data)).toBe(Number.POSITIVE_INFINITY);
  });

  test('resuming after k iterations continues exactly as one run', async () => {
    const f = rasterScan({ step: 8, dose: 1e4 });
    // (a resumed run restarts the prior's momentum, so exactness is checked without it)
    const o = lsqml({ iterations: 6, probeUpdateStart: 2, tv: 5e-5, momentum: 0 });
    const straight = await reconstructPie(f.data, o);
    const part = await reconstructPie(f.data, { ...o, iterations: 3 });
    const rest = await reconstructPie(
      {
        ...f.data,
        object: interleave(part.objectRe, part.objectIm),
        probe: interleave(part.probeRe, part.probeIm),
        doneIterations: 3,
      },
      o,
    );
    expect([...part.errors, ...rest.errors]).toEqual(straight.errors);
    expect(rest.objectRe).toEqual(straight.objectRe);
    expect(rest.probeIm).toEqual(straight.probeIm);
  });
});
