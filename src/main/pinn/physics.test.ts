import { describe, expect, it } from 'vitest';
import { forwardIntensity } from '../data/physics';
import { Graph } from '../nn/graph';
import { compileGraph } from '../nn/run';
import { trainerRng } from '../numeric/rng';
import { amplitudePhase, centerMask, diffract, reassemble } from './physics';
import { canvasSize, reassembleAndExtract, reassemblyMatrices } from './translate';

function randomComplex(n: number, seed: number): { re: Float32Array; im: Float32Array; inter: Float32Array } {
  const rng = trainerRng(seed);
  const re = new Float32Array(n);
  const im = new Float32Array(n);
  const inter = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    re[i] = rng.next() - 0.5;
    im[i] = rng.next() - 0.5;
    inter[2 * i] = re[i];
    inter[2 * i + 1] = im[i];
  }
  return { re, im, inter };
}

describe('ONNX physics vs the data module float64 physics', () => {
  it('far-field intensity of a known object and probe equals forwardIntensity', async () => {
    const N = 32;
    const B = 3;
    const Y = randomComplex(B * N * N, 1);
    const P = randomComplex(N * N, 2);
    const g = new Graph('float32');
    const re = g.input('re', [B, 1, N, N]);
    const im = g.input('im', [B, 1, N, N]);
    const logScale = g.scalar(Math.log(3));
    const iHat = diffract({ re, im }, { re: g.constant(P.re, [N, N]), im: g.constant(P.im, [N, N]) }, logScale);
    const run = await compileGraph(g, { iHat }, { threads: 1 });
    const out = (await run.run({ re: Y.re, im: Y.im })).iHat.data as Float32Array;
    await run.release();
    const ref = forwardIntensity(
      { dtype: 'complex64', shape: [B, N, N], data: Y.inter },
      { dtype: 'complex64', shape: [N, N], data: P.inter },
    ).data as Float64Array;
    let maxRef = 0;
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) {
      maxRef = Math.max(maxRef, 9 * ref[i]);
      maxErr = Math.max(maxErr, Math.abs(out[i] - 9 * ref[i]));
    }
    expect(maxErr / maxRef).toBeLessThan(1e-5);
  });
});

describe('in-graph reassembly', () => {
  const N = 32;
  const C = 4;
  const B = 2;
  const M = canvasSize(N, 2);

  async function runGraph(re: Float32Array, im: Float32Array, offsets: Float32Array) {
    const g = new Graph('float32');
    const tre = g.input('re', [B, C, N, N]);
    const tim = g.input('im', [B, C, N, N]);
    const off = g.input('offsets', [B, C, 2]);
    const r = reassemble({ re: tre, im: tim }, off, M);
    const ap = amplitudePhase(r.trimmed);
    const run = await compileGraph(
      g,
      { pre: r.patches.re, pim: r.patches.im, tre: r.trimmed.re, tim: r.trimmed.im, amp: ap.amplitude, ph: ap.phase },
      { threads: 1 },
    );
    const o = await run.run({ re, im, offsets });
    await run.release();
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.data as Float32Array]));
  }

  function patches(seed: number) {
    const z = randomComplex(B * C * N * N, seed);
    const mask = centerMask(N);
    for (let i = 0; i < z.re.length; i++) {
      z.re[i] *= mask[i % (N * N)];
      z.im[i] *= mask[i % (N * N)];
    }
    return z;
  }

  const offsets = Float32Array.from([
    -3.3, -2.1, 2.7, -1.9, -2.4, 3.6, 3.0, 0.4, 5.2, -0.6, -1.1, 4.4, -2.0, -2.0, -2.1, -1.8,
  ]);

  it('equals the CPU matrices (translate.ts) at sub-pixel offsets', async () => {
    const z = patches(3);
    const out = await runGraph(z.re, z.im, offsets);
    const mats = reassemblyMatrices(offsets, B, C, N, M);
    const cpu = reassembleAndExtract(z.re, mats);
    let err = 0;
    let scale = 0;
    for (let i = 0; i < cpu.extracted.length; i++) {
      err = Math.max(err, Math.abs(out.pre[i] - cpu.extracted[i]));
      scale = Math.max(scale, Math.abs(cpu.extracted[i]));
    }
    expect(err / scale).toBeLessThan(1e-5);
    // The trimmed canvas is the central N × N of the CPU canvas.
    const p = (M - N) / 2;
    for (let b = 0; b < B; b++)
      for (let r = 0; r < N; r += 5)
        for (let c = 0; c < N; c += 3)
          expect(out.tre[b * N * N + r * N + c]).toBeCloseTo(cpu.canvas[b * M * M + (r + p) * M + c + p], 5);
    // amplitude/phase outputs are |z| and atan2(im, re)
    for (let i = 0; i < B * N * N; i += 7) {
      expect(out.amp[i]).toBeCloseTo(Math.hypot(out.tre[i], out.tim[i]), 5);
      if (out.amp[i] > 1e-4) expect(out.ph[i]).toBeCloseTo(Math.atan2(out.tim[i], out.tre[i]), 4);
    }
  });

  it('is per sample: changing sample 1 leaves sample 0 bit-identical', async () => {
    const z = patches(4);
    const a = await runGraph(z.re, z.im, offsets);
    const z2 = patches(5);
    const re = z.re.slice();
    const im = z.im.slice();
    re.set(z2.re.subarray(C * N * N), C * N * N);
    im.set(z2.im.subarray(C * N * N), C * N * N);
    const off2 = offsets.slice();
    off2.set([1, 1, -1, -1, 0.5, 0.5, -0.5, -0.5], 8);
    const b = await runGraph(re, im, off2);
    expect(Array.from(b.pre.subarray(0, C * N * N))).toEqual(Array.from(a.pre.subarray(0, C * N * N)));
    expect(Array.from(b.pre.subarray(C * N * N))).not.toEqual(Array.from(a.pre.subarray(C * N * N)));
  });
});
