import { describe, expect, test } from 'vitest';
import { syntheticProbe } from '../data/synthetic';
import { pieOptions, reconstructPie } from './pie';
import {
  interleave,
  probeError,
  rasterScan,
  scoreFixture as score,
  splitPlanes,
} from '../../../test/fixtures/pie.fixture';

describe('ePIE / rPIE', () => {
  test('a known probe and noiseless data recover the known object (phase SSIM ≥ 0.99, amplitude SSIM ≥ 0.95)', async () => {
    const f = rasterScan({ step: 6 });
    for (const algorithm of ['epie', 'rpie'] as const) {
      const r = await reconstructPie(f.data, pieOptions({ algorithm, iterations: 60, probeUpdate: false }));
      expect(r.errors.at(-1)!).toBeLessThan(2e-3);
      expect(r.errors.at(-1)!).toBeLessThan(r.errors[0] / 20);
      const e = score(f, r);
      expect(e.metrics.phase.ssim!).toBeGreaterThanOrEqual(0.99);
      expect(e.metrics.amplitude.ssim!).toBeGreaterThanOrEqual(0.95);
      expect(e.metrics.phase.mae).toBeLessThan(0.06);
    }
  }, 60_000);

  test('the true object and probe reproduce the data (error 0) and stay put', async () => {
    const f = rasterScan({ step: 8 });
    const r = await reconstructPie(
      { ...f.data, object: f.object },
      pieOptions({ iterations: 2, probeUpdate: true, probeUpdateStart: 0 }),
    );
    expect(r.errors[0]).toBeLessThan(1e-12);
    expect(probeError(r.probeRe, r.probeIm, f.probe)).toBeLessThan(1e-5);
  });

  test('the probe update improves a deliberately wrong initial probe', async () => {
    const f = rasterScan({ step: 6 });
    const wrong = syntheticProbe(32, 0.45 * 32).data as Float64Array; // smaller disc, different curvature
    const w = splitPlanes(wrong);
    const before = probeError(w.re, w.im, f.probe);
    const data = { ...f.data, probe: Float64Array.from(wrong) };
    const off = await reconstructPie(data, pieOptions({ iterations: 40, probeUpdate: false }));
    const on = await reconstructPie(data, pieOptions({ iterations: 40, probeUpdate: true }));
    const after = probeError(on.probeRe, on.probeIm, f.probe);
    expect(after).toBeLessThan(before / 2);
    expect(on.errors.at(-1)!).toBeLessThan(off.errors.at(-1)! / 3);
    expect(score(f, on).metrics.phase.ssim!).toBeGreaterThan(score(f, off).metrics.phase.ssim!);
  }, 60_000);

  test('at 1e5 photons the amplitude is photon-limited, not under-iterated: started from the truth, the sweeps fit the noise', async () => {
    const noisy = rasterScan({ step: 6, dose: 1e5 });
    const flat = score(noisy, await reconstructPie(noisy.data, pieOptions({ iterations: 40 })));
    expect(flat.metrics.phase.ssim!).toBeGreaterThanOrEqual(0.98);
    expect(flat.metrics.amplitude.ssim!).toBeGreaterThanOrEqual(0.8); // measured 0.88
    expect(flat.alignment.amplitude_scale!).toBeCloseTo(1, 1); // no scale left for the alignment to absorb
    // from the true object with the true probe: the data-fit error falls below the truth's own
    // (the first sweep's) and the amplitude drifts off the truth — the data, not the iterations, limit it
    const fromTruth = await reconstructPie(
      { ...noisy.data, object: noisy.object },
      pieOptions({ iterations: 40, probeUpdate: false }),
    );
    expect(fromTruth.errors.at(-1)!).toBeLessThan(fromTruth.errors[0] * 0.97);
    expect(score(noisy, fromTruth).metrics.amplitude.ssim!).toBeLessThan(0.95);
    // 100× the photons: the same sweeps reach the amplitude
    const bright = rasterScan({ step: 6, dose: 1e7 });
    const high = score(bright, await reconstructPie(bright.data, pieOptions({ iterations: 40 })));
    expect(high.metrics.amplitude.ssim!).toBeGreaterThanOrEqual(0.95);
  }, 60_000);

  test('stops between iterations when asked and reports it', async () => {
    const f = rasterScan({ step: 8 });
    let n = 0;
    const r = await reconstructPie(f.data, pieOptions({ iterations: 50 }), {
      onIteration: () => {
        n++;
      },
      shouldStop: () => n >= 3,
    });
    expect(r.cancelled).toBe(true);
    expect(r.iterations).toBe(3);
    expect(r.errors).toHaveLength(3);
  });

  test('resuming after k iterations from their object and probe continues exactly as one run', async () => {
    const f = rasterScan({ step: 8 });
    const o = pieOptions({ iterations: 6, probeUpdateStart: 2 });
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
    expect(rest.iterations).toBe(6);
    expect([...part.errors, ...rest.errors]).toEqual(straight.errors);
    expect(rest.objectRe).toEqual(straight.objectRe);
    expect(rest.probeIm).toEqual(straight.probeIm);
  });

  test('a position whose patch leaves the object is refused, naming it', async () => {
    const f = rasterScan({ step: 8 });
    const xs = Array.from(f.data.xs);
    xs[2] = 3;
    await expect(reconstructPie({ ...f.data, xs }, pieOptions({ iterations: 1 }))).rejects.toThrow(/scan position 2/);
  });
});
