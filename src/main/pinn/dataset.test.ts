import { describe, expect, it } from 'vitest';
import { forwardIntensity } from '../data/physics';
import { loadStudyFile } from '../data/study-file';
import { Graph } from '../nn/graph';
import { compileGraph } from '../nn/run';
import { simulateTinyStudy, tinyConfig } from '../../../test/fixtures/trainer.fixture';
import { gatherBatch, prepareTrainingData } from './dataset';
import { diffract, probeDisc } from './physics';
import { resolveSettings } from './settings';

describe('scaling contract and probe gauge on a simulated study file', () => {
  it('absolute gauge: the true object predicts the expected counts and the target is the counts', async () => {
    const study = await simulateTinyStudy({ N: 32, nPositions: 24 });
    const file = await loadStudyFile(study.train);
    const s = resolveSettings(tinyConfig(study, '/tmp', { intensity_scale_trainable: false }), {
      probe_gauge: 'absolute',
    });
    const data = prepareTrainingData(file, s);
    const N = 32;
    const sSim = file.meta.intensity_scale as number;
    expect(sSim).toBeGreaterThan(0);
    // target counts (s₀X)² equal the file's counts (s_sim·d)²
    const d = file.diffraction.data as Float32Array;
    for (let i = 0; i < 4000; i += 37) expect(data.patterns[i] ** 2).toBeCloseTo((sSim * d[i]) ** 2, 2);
    // Î(Y) in the model's gauge equals the simulation's expected counts s_sim²·|F(Y·P)|²/N²
    const Y = file.Y!;
    const B = 4;
    const yre = new Float32Array(B * N * N);
    const yim = new Float32Array(B * N * N);
    const yd = Y.data as Float32Array;
    for (let i = 0; i < B * N * N; i++) {
      yre[i] = yd[2 * i];
      yim[i] = yd[2 * i + 1];
    }
    const g = new Graph('float32');
    const re = g.input('re', [B, 1, N, N]);
    const im = g.input('im', [B, 1, N, N]);
    const iHat = diffract(
      { re, im },
      { re: g.constant(data.probe.re, [N, N]), im: g.constant(data.probe.im, [N, N]) },
      g.scalar(Math.log(data.intensityScale)),
    );
    const run = await compileGraph(g, { iHat }, { threads: 1 });
    const got = (await run.run({ re: yre, im: yim })).iHat.data as Float32Array;
    await run.release();
    const ref = forwardIntensity(
      { dtype: 'complex64', shape: [B, N, N], data: yd.subarray(0, 2 * B * N * N) },
      file.probeGuess,
    ).data as Float64Array;
    let maxRef = 0;
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) {
      const want = sSim * sSim * ref[i];
      maxRef = Math.max(maxRef, want);
      maxErr = Math.max(maxErr, Math.abs(got[i] - want));
    }
    expect(maxErr / maxRef).toBeLessThan(1e-4);
    expect(data.nphotons).toBeCloseTo(data.meanCounts, 6);
  });

  it('original gauge: mean |P| over the r < N/4 disc is 1/probe_scale; s₀ = √nphotons/(N/2) with the dose', async () => {
    const study = await simulateTinyStudy({ N: 32, nPositions: 24 });
    const file = await loadStudyFile(study.train);
    const s = resolveSettings(tinyConfig(study, '/tmp'));
    const data = prepareTrainingData(file, s);
    const disc = probeDisc(32);
    let acc = 0;
    for (let i = 0; i < 32 * 32; i++) acc += disc[i] * Math.hypot(data.probe.re[i], data.probe.im[i]);
    expect(acc / (32 * 32)).toBeCloseTo(1 / 4, 6);
    expect(data.intensityScale).toBeCloseTo(Math.sqrt(study.dose) / 16, 10);
    // normalised input: mean Σ X² = (N/2)² over the grouped patterns
    const b = gatherBatch(data, [0, 1, 2], 4);
    expect(b.weights).toEqual(Float32Array.from([1 / 3, 1 / 3, 1 / 3, 0]));
    let total = 0;
    for (const p of data.groups.indices) {
      let e = 0;
      for (let i = p * 1024; i < (p + 1) * 1024; i++) e += (data.patterns[i] / data.intensityScale) ** 2;
      total += e;
    }
    expect(total / data.groups.indices.length).toBeCloseTo(256, 3);
  });
});
