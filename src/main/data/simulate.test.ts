import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPython } from '../util/python';
import { readNpzText } from './npz';
import { forwardIntensity } from './physics';
import { type PhaseCSummary, type SimulationSettings, simulatePhaseC, splitByY } from './simulate';
import { loadStudyFile } from './study-file';

const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small Phase C: N = 32, 160-px object, 160 positions, two doses. */
const SMALL: Partial<SimulationSettings> = {
  N: 32,
  objectSize: 160,
  nPositions: 160,
  doses: [1e3, 1e5],
  seed: 5,
  probeDiameterPx: 19.2,
};

let summary: PhaseCSummary;
beforeAll(async () => {
  summary = await simulatePhaseC(join(dir, 'a'), SMALL);
});

describe('Phase C simulation', () => {
  it('writes the study layout and a run manifest', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'a', 'run_manifest.json'), 'utf8'));
    expect(Object.keys(manifest)).toEqual(['dose_1000', 'dose_100000']);
    expect(manifest.dose_1000).toEqual({
      dose: 1000,
      train: join(dir, 'a', 'dose_1000', 'patched_train.npz'),
      test: join(dir, 'a', 'dose_1000', 'patched_test.npz'),
      intermediate_dir: join(dir, 'a', 'dose_1000'),
    });
    expect(summary.split.n_train + summary.split.n_test).toBe(160);
  });

  it('is deterministic: the same seed gives the same bytes, another seed other data', async () => {
    await simulatePhaseC(join(dir, 'b'), SMALL);
    await simulatePhaseC(join(dir, 'c'), { ...SMALL, seed: 6 });
    for (const f of ['dose_1000/patched_train.npz', 'dose_100000/patched_test.npz']) {
      const a = readFileSync(join(dir, 'a', f));
      expect(a.equals(readFileSync(join(dir, 'b', f)))).toBe(true);
      expect(a.equals(readFileSync(join(dir, 'c', f)))).toBe(false);
    }
  });

  it('splits at the midpoint of the positions’ y range: train strictly below, test at or above', async () => {
    const train = await loadStudyFile(summary.doses[0].train.path);
    const test = await loadStudyFile(summary.doses[0].test.path);
    const ys = [...train.ycoords, ...test.ycoords];
    const mid = Math.min(...ys) + 0.5 * (Math.max(...ys) - Math.min(...ys));
    expect(summary.split.value).toBe(mid);
    expect(train.ycoords.every((y) => y < mid)).toBe(true);
    expect(test.ycoords.every((y) => y >= mid)).toBe(true);
    expect(splitByY(Float64Array.from([0, 10, 4, 5, 6]))).toEqual({ value: 5, train: [0, 2], test: [1, 3, 4] });
  });

  it('Poisson noise per dose: counts have mean ≈ variance ≈ the physics’ expected counts', async () => {
    for (const d of summary.doses) {
      const f = await loadStudyFile(d.train.path);
      expect(f.meta.dose).toBe(d.dose);
      const s = f.meta.intensity_scale as number;
      const lambda = forwardIntensity(f.Y!, f.probeGuess).data as Float64Array;
      const amp = f.diffraction.data as Float32Array;
      // bin pixels by expected count; in each bin compare the mean and variance of the counts
      const bins = new Map<number, { n: number; s: number; s2: number; lam: number }>();
      let z2 = 0;
      let nz = 0;
      let notCounts = 0;
      for (let i = 0; i < amp.length; i++) {
        const lam = s * s * lambda[i];
        const c = Math.round((s * amp[i]) ** 2);
        if (Math.abs((s * amp[i]) ** 2 - c) > 1e-2 * Math.max(1, c) ** 0.5) notCounts++; // (s·d)² are integer counts
        if (lam < 1) continue;
        const key = Math.floor(Math.log2(lam) * 2);
        const b = bins.get(key) ?? { n: 0, s: 0, s2: 0, lam: 0 };
        b.n++;
        b.s += c - lam;
        b.s2 += (c - lam) ** 2;
        b.lam += lam;
        bins.set(key, b);
        z2 += (c - lam) ** 2 / lam;
        nz++;
      }
      expect(notCounts).toBe(0);
      // standardised residuals (c − λ)/√λ: variance 1 overall (mean = variance = λ)
      expect(z2 / nz).toBeGreaterThan(0.9);
      expect(z2 / nz).toBeLessThan(1.1);
      for (const b of bins.values()) {
        if (b.n < 2000) continue;
        const meanLam = b.lam / b.n;
        expect(Math.abs(b.s / b.n)).toBeLessThan(5 * Math.sqrt(meanLam / b.n));
        expect(b.s2 / b.n / meanLam).toBeGreaterThan(0.85);
        expect(b.s2 / b.n / meanLam).toBeLessThan(1.15);
      }
      // the expected counts average the dose over the whole scan
      const all = summary.doses.find((x) => x.dose === d.dose)!;
      const meanExpected =
        (all.train.expected_mean_counts * all.train.n + all.test.expected_mean_counts * all.test.n) /
        (all.train.n + all.test.n);
      expect(meanExpected / d.dose).toBeCloseTo(1, 9);
    }
  });

  it('writes plain-JSON metadata with the intensity scale, never a pickle', async () => {
    const meta = JSON.parse(await readNpzText(summary.doses[1].test.path, '_metadata'));
    expect(meta).toMatchObject({ format: 'ptycho-study/phase_c', dose: 1e5, split: 'test', N: 32, seed: 5 });
    expect(meta.intensity_scale).toBeCloseTo(summary.doses[1].intensity_scale, 12);
  });

  it('has a synthetic object with structure in both amplitude and phase', async () => {
    const f = await loadStudyFile(summary.doses[0].train.path);
    const o = f.objectGuess.data as Float32Array;
    const amp: number[] = [];
    const ph: number[] = [];
    for (let i = 0; i < o.length; i += 2) {
      amp.push(Math.hypot(o[i], o[i + 1]));
      ph.push(Math.atan2(o[i + 1], o[i]));
    }
    const sd = (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    };
    expect(Math.min(...amp)).toBeGreaterThanOrEqual(0.45);
    expect(Math.max(...amp)).toBeLessThanOrEqual(1.0001);
    expect(sd(amp)).toBeGreaterThan(0.05);
    expect(sd(ph)).toBeGreaterThan(0.2);
    expect(Math.max(...ph.map(Math.abs))).toBeLessThanOrEqual(Math.PI / 2 + 1e-6);
  });

  it('numpy loads every written file with the DATA-001 dtypes and shapes', () => {
    const files = summary.doses.flatMap((d) => [d.train.path, d.test.path]);
    const out = runPython(
      ['numpy'],
      `import sys, json, numpy as np
res = []
for f in sys.argv[1:]:
    with np.load(f, allow_pickle=False) as d:
        res.append({k: [str(d[k].dtype), list(d[k].shape)] for k in d.files})
print(json.dumps(res))`,
      files,
    );
    const res = JSON.parse(out) as Record<string, [string, number[]]>[];
    res.forEach((keys, i) => {
      const M = i % 2 === 0 ? summary.split.n_train : summary.split.n_test;
      expect(keys).toEqual({
        diffraction: ['float32', [M, 32, 32]],
        Y: ['complex64', [M, 32, 32]],
        xcoords: ['float64', [M]],
        ycoords: ['float64', [M]],
        xcoords_start: ['float64', [M]],
        ycoords_start: ['float64', [M]],
        probeGuess: ['complex64', [32, 32]],
        objectGuess: ['complex64', [160, 160]],
        scan_index: ['int64', [M]],
        _metadata: [expect.stringMatching(/^<U\d+$/), []],
      });
    });
  });

  it('takes object and probe from a base NPZ, with its position count', async () => {
    const base = summary.doses[0].train.path;
    const out = await simulatePhaseC(join(dir, 'based'), { baseNpz: base, doses: [1e4], seed: 1 });
    expect(out.object).toEqual({ source: base, shape: [160, 160] });
    expect(out.settings.N).toBe(32);
    expect(out.settings.nPositions).toBe(summary.split.n_train);
  });
});
