import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPython } from '../util/python';
import { readNpzText } from './npz';
import { buildOverlapViews, type PhaseDSummary } from './overlap';
import { discOverlapFraction } from './overlap-metrics';
import { simulatePhaseC } from './simulate';
import { loadStudyFile } from './study-file';

const dir = mkdtempSync(join(tmpdir(), 'overlap-'));
const phaseC = join(dir, 'phase_c');
const phaseD = join(dir, 'phase_d');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let summary: PhaseDSummary;
beforeAll(async () => {
  await simulatePhaseC(phaseC, {
    N: 32,
    objectSize: 160,
    nPositions: 160,
    doses: [1e3, 1e4],
    seed: 5,
    probeDiameterPx: 19.2,
  });
  summary = await buildOverlapViews(phaseC, phaseD, { artifactRoot: join(dir, 'artifacts') });
});

describe('Phase D overlap views', () => {
  it('writes dose_<d>/<view>/<view>_{train,test}.npz with metrics, a manifest and artifact copies', () => {
    for (const d of ['dose_1000', 'dose_10000'])
      for (const v of ['dense', 'sparse']) {
        for (const f of [
          `${v}_train.npz`,
          `${v}_test.npz`,
          'train_metrics.json',
          'test_metrics.json',
          'metrics_bundle.json',
        ])
          expect(existsSync(join(phaseD, d, v, f))).toBe(true);
        expect(existsSync(join(dir, 'artifacts', 'metrics', d, `${v}.json`))).toBe(true);
      }
    const manifest = JSON.parse(readFileSync(join(phaseD, 'overlap_manifest.json'), 'utf8'));
    expect(manifest.views).toHaveLength(4);
    expect(manifest.probe_diameter_px).toBe(19.2); // from the Phase C metadata
  });

  it('keeps positions at least S = (1 − f)·D apart and records the measured overlap', () => {
    for (const v of summary.views) {
      expect(v.spacing_threshold).toBeCloseTo((1 - v.overlap_fraction) * 19.2, 12);
      const bundle = JSON.parse(readFileSync(join(v.dir, 'metrics_bundle.json'), 'utf8'));
      for (const side of ['train', 'test'] as const) {
        const r = bundle[side];
        expect(r.min_spacing).toBeGreaterThanOrEqual(v.spacing_threshold);
        expect(r.n_accepted + r.n_rejected).toBe(r.n_positions);
        expect(r.n_accepted).toBeGreaterThanOrEqual(8);
        expect(r.metric_1_group_based_avg).toBeGreaterThan(0);
        expect(r.metric_2_image_based_avg).toBeLessThanOrEqual(discOverlapFraction(v.spacing_threshold, 19.2) + 1e-12);
        expect(r.grouping).toMatchObject({ K: 7, C: 4 });
      }
    }
    const dense = summary.views.find((v) => v.view === 'dense')!;
    const sparse = summary.views.find((v) => v.view === 'sparse')!;
    expect(dense.train.n_accepted).toBeGreaterThan(sparse.train.n_accepted);
    expect(dense.train.metric_2_image_based_avg).toBeGreaterThan(sparse.train.metric_2_image_based_avg);
  });

  it('copies the kept rows of the Phase C file unchanged', async () => {
    const v = summary.views.find((x) => x.view === 'sparse' && x.dose === 1e4)!;
    const src = await loadStudyFile(v.train.source_file);
    const out = await loadStudyFile(v.train.output_file);
    const nn = 32 * 32;
    expect(out.M).toBe(v.train.n_accepted);
    for (let k = 0; k < out.M; k++) {
      const j = src.scanIndex!.indexOf(out.scanIndex![k]);
      expect(out.xcoords[k]).toBe(src.xcoords[j]);
      const a = (out.diffraction.data as Float32Array).subarray(k * nn, (k + 1) * nn);
      const b = (src.diffraction.data as Float32Array).subarray(j * nn, (j + 1) * nn);
      expect(
        Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
      ).toBe(true);
    }
    const meta = JSON.parse(await readNpzText(v.train.output_file, '_metadata'));
    expect(meta).toMatchObject({
      format: 'ptycho-study/phase_d',
      overlap_view: 'sparse',
      dose: 1e4,
      n_accepted: out.M,
    });
    expect(meta.intensity_scale).toBe(src.meta.intensity_scale);
  });

  it('numpy loads the view files with the DATA-001 dtypes', () => {
    const files = summary.views.flatMap((v) => [v.train.output_file, v.test.output_file]);
    const out = runPython(
      ['numpy'],
      `import sys, json, numpy as np
ok = []
for f in sys.argv[1:]:
    with np.load(f, allow_pickle=False) as d:
        M = d['diffraction'].shape[0]
        ok.append(d['diffraction'].dtype == np.float32 and d['Y'].dtype == np.complex64 and d['Y'].shape == (M, 32, 32)
                  and d['xcoords'].dtype == np.float64 and d['xcoords'].shape == (M,) and d['probeGuess'].shape == (32, 32))
print(json.dumps(ok))`,
      files,
    );
    expect(JSON.parse(out)).toEqual(files.map(() => true));
  });

  it('a view too small for its target is an error naming the numbers, and nothing is written', async () => {
    const out = join(dir, 'too_small');
    await expect(buildOverlapViews(phaseC, out, { minPositions: 40 })).rejects.toMatchObject({
      code: 'DATA_CONTRACT',
      message: expect.stringMatching(
        /overlap view too small \(need ≥ 40 positions per split\): dose_1000 sparse train: \d+ of \d+ positions at spacing S = 15\.4 px \(f = 0\.2, D = 19\.2 px\)/,
      ),
    });
    expect(existsSync(out)).toBe(false);
  });

  it('names the missing dose', async () => {
    await expect(buildOverlapViews(phaseC, join(dir, 'x'), { doses: [1e5] })).rejects.toThrow(
      /no Phase C data for dose_100000/,
    );
  });
});
