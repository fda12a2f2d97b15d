/** Forward values of the engine's numeric kernels against references (numpy, direct sums). */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runPython } from '../util/python';
import * as nn from './index';
import { onnx } from './proto';

function rand(n: number, seed: number): number[] {
  const rng = nn.createRng(seed);
  return Array.from({ length: n }, () => rng.uniform(-1, 1));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('2-D DFT as matrix products', () => {
  it.each([6, 5])('matches numpy fft2 / fftshift / ifftshift / ifft2 at n = %i', async (n) => {
    const re = rand(2 * n * n, 1);
    const im = rand(2 * n * n, 2);
    const g = new nn.Graph('float64');
    const x = { re: g.input('re', [2, n, n]), im: g.input('im', [2, n, n]) };
    const fwd = nn.dft2(x, { shift: true });
    const back = nn.dft2(fwd, { inverse: true, unshiftInput: true });
    const shifted = nn.fftshift2(x.re);
    const run = await nn.compileGraph(g, {
      fr: fwd.re,
      fi: fwd.im,
      br: back.re,
      bi: back.im,
      sh: shifted,
    });
    const out = await run.run({ re: Float64Array.from(re), im: Float64Array.from(im) });
    const ref = JSON.parse(
      runPython(
        ['numpy'],
        `
import json, sys, numpy as np
d = json.load(sys.stdin); n = d['n']
x = (np.array(d['re']) + 1j * np.array(d['im'])).reshape(2, n, n)
F = np.fft.fftshift(np.fft.fft2(x), axes=(-2, -1))
B = np.fft.ifft2(np.fft.ifftshift(F, axes=(-2, -1)))
S = np.fft.fftshift(x.real, axes=(-2, -1))
print(json.dumps({'fr': F.real.ravel().tolist(), 'fi': F.imag.ravel().tolist(),
                  'br': B.real.ravel().tolist(), 'bi': B.imag.ravel().tolist(), 'sh': S.ravel().tolist()}))
`,
        [],
        JSON.stringify({ n, re, im }),
      ),
    ) as Record<string, number[]>;
    for (const k of ['fr', 'fi', 'br', 'bi', 'sh']) {
      expect(maxAbsDiff(out[k].data as Float64Array, ref[k])).toBeLessThan(1e-12);
    }
    // The round trip is the identity.
    expect(maxAbsDiff(out.br.data as Float64Array, re)).toBeLessThan(1e-12);
    await run.release();
  });
});

describe('conv, pooling and upsampling', () => {
  it('the input gradient as Conv(g, flip(Wᵀ)) equals ConvTranspose on the same data', async () => {
    const g = new nn.Graph();
    const gy = g.input('gy', [2, 5, 9, 9]);
    const w = g.input('w', [5, 3, 3, 3]);
    const viaConv = nn.conv(gy, nn.flip(nn.transpose(w, [1, 0, 2, 3]), [2, 3]), undefined, { pads: [1, 1, 1, 1] });
    const viaT = g.op(
      'ConvTranspose',
      [gy, w],
      [{ dtype: 'float32', shape: [2, 3, 9, 9] }],
      [nn.attr('pads', [1, 1, 1, 1], 'ints'), nn.attr('kernel_shape', [3, 3], 'ints')],
    )[0];
    const run = await nn.compileGraph(g, { a: viaConv, b: viaT });
    const out = await run.run({ gy: Float32Array.from(rand(2 * 5 * 81, 3)), w: Float32Array.from(rand(5 * 27, 4)) });
    expect(maxAbsDiff(out.a.data as Float32Array, out.b.data as Float32Array)).toBeLessThan(1e-5);
    await run.release();
  });

  it('conv, maxPool and upsampleNearest give the directly summed values', async () => {
    const [B, C, H, O] = [1, 2, 4, 3];
    const xs = rand(B * C * H * H, 5);
    const ws = rand(O * C * 9, 6);
    const g = new nn.Graph();
    const x = g.input('x', [B, C, H, H]);
    const w = g.input('w', [O, C, 3, 3]);
    const y = nn.conv(x, w, g.constant([0.1, 0.2, 0.3], [3]), { pads: 'same' });
    const run = await nn.compileGraph(g, { y, p: nn.maxPool(y), u: nn.upsampleNearest(y, 2) });
    const out = await run.run({ x: Float32Array.from(xs), w: Float32Array.from(ws) });
    const at = (o: number, i: number, j: number) => {
      let s = [0.1, 0.2, 0.3][o];
      for (let c = 0; c < C; c++)
        for (let di = 0; di < 3; di++)
          for (let dj = 0; dj < 3; dj++) {
            const [r, q] = [i + di - 1, j + dj - 1];
            if (r >= 0 && r < H && q >= 0 && q < H) s += xs[(c * H + r) * H + q] * ws[((o * C + c) * 3 + di) * 3 + dj];
          }
      return s;
    };
    const yd = out.y.data as Float32Array;
    const pd = out.p.data as Float32Array;
    const ud = out.u.data as Float32Array;
    for (let o = 0; o < O; o++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < H; j++) {
          expect(yd[(o * H + i) * H + j]).toBeCloseTo(at(o, i, j), 5);
          expect(ud[(o * 2 * H + 2 * i + 1) * 2 * H + 2 * j]).toBe(yd[(o * H + i) * H + j]);
        }
    for (let o = 0; o < O; o++)
      for (let i = 0; i < H / 2; i++)
        for (let j = 0; j < H / 2; j++) {
          const win = [0, 1].flatMap((a) => [0, 1].map((b) => yd[(o * H + 2 * i + a) * H + 2 * j + b]));
          expect(pd[(o * 2 + i) * 2 + j]).toBe(Math.max(...win));
        }
    await run.release();
  });

  it('ties in a max-pool window pass the gradient to the first maximum only, in both VJP forms', async () => {
    // Windows: all tied; tie on the second row; tie between the 2nd and 4th; one maximum.
    const x = [3, 3, 1, 0, 3, 3, 5, 5, 0, 6, 1, 2, 1, 6, 9, 0];
    const grads: number[][] = [];
    for (const form of ['mask', 'indices'] as const) {
      const g = new nn.Graph();
      g.maxPoolGrad = form;
      const p = g.param('x', [1, 1, 4, 4], x);
      const w = g.constant([1, 2, 3, 4], [1, 1, 2, 2]);
      const [gx] = nn.gradients(nn.reduceSum(nn.mul(nn.maxPool(p), w)), [p]);
      const run = await nn.compileGraph(g, { gx });
      grads.push(Array.from((await run.run()).gx.data as Float32Array));
      await run.release();
    }
    const expected = [1, 0, 0, 0, 0, 0, 2, 0, 0, 3, 0, 0, 0, 0, 4, 0];
    expect(grads[0]).toEqual(expected);
    expect(grads[1]).toEqual(expected);
  });

  it("the 'indices' VJP unpools non-overlapping windows and scatter-adds overlapping ones", () => {
    const ops = (options?: nn.PoolOptions) => {
      const g = new nn.Graph();
      g.maxPoolGrad = 'indices';
      const p = g.param('x', [1, 2, 7, 7], new Array(98).fill(0));
      nn.gradients(nn.reduceSum(nn.maxPool(p, options)), [p]);
      return g.nodes.map((n) => n.opType);
    };
    // MaxUnpool: one store per gradient element (ScatterElements was 4–5× slower on the CPU)
    expect(ops()).toContain('MaxUnpool');
    expect(ops()).not.toContain('ScatterElements');
    const overlapping = ops({ kernel: [3, 3], strides: [2, 2] });
    expect(overlapping).toContain('ScatterElements');
    expect(overlapping).not.toContain('MaxUnpool');
  });

  it('both VJP forms give the same gradient on an odd size (the last row and column unpooled)', async () => {
    const rng = nn.createRng(9);
    const x = Array.from({ length: 2 * 3 * 7 * 5 }, () => rng.uniform(-1, 1));
    const w = Array.from({ length: 2 * 3 * 3 * 2 }, () => rng.uniform(-1, 1));
    const grads: number[][] = [];
    for (const form of ['mask', 'indices'] as const) {
      const g = new nn.Graph();
      g.maxPoolGrad = form;
      const p = g.param('x', [2, 3, 7, 5], x);
      const [gx] = nn.gradients(nn.reduceSum(nn.mul(nn.maxPool(p), g.constant(w, [2, 3, 3, 2]))), [p]);
      const run = await nn.compileGraph(g, { gx });
      // + 0: the mask form's zeros are products, −0 where the gradient is negative
      grads.push(Array.from((await run.run()).gx.data as Float32Array, (v) => v + 0));
      await run.release();
    }
    expect(grads[1]).toEqual(grads[0]);
    expect(grads[0].filter((v) => v !== 0).length).toBe(2 * 3 * 3 * 2);
  });
});

describe('ReLU and max pooling commute', () => {
  it('relu(maxPool(z)) gives maxPool(relu(z))’s values and gradient bit for bit, in both VJP forms', async () => {
    // Windows: all negative; a zero maximum with negatives; tied positives; a negative tie
    // with one positive; mixed random values in the second channel.
    const first = [-3, -1, 0, -2, -2, -5, -4, 0, 2, 2, -1, 7, 2, 1, -1, -1];
    const rng = nn.createRng(5);
    const z = [...first, ...Array.from({ length: 16 }, () => Math.round(rng.uniform(-4, 4)))];
    const w = Array.from({ length: 8 }, (_, i) => i + 1);
    for (const form of ['mask', 'indices'] as const) {
      const out: { y: number[]; gz: number[] }[] = [];
      for (const poolFirst of [false, true]) {
        const g = new nn.Graph();
        g.maxPoolGrad = form;
        const p = g.param('z', [1, 2, 4, 4], z);
        const y = poolFirst ? nn.relu(nn.maxPool(p)) : nn.maxPool(nn.relu(p));
        const [gz] = nn.gradients(nn.reduceSum(nn.mul(y, g.constant(w, [1, 2, 2, 2]))), [p]);
        const run = await nn.compileGraph(g, { y, gz });
        const r = await run.run();
        out.push({ y: Array.from(r.y.data as Float32Array), gz: Array.from(r.gz.data as Float32Array) });
        await run.release();
      }
      expect(out[1].y).toEqual(out[0].y);
      expect(out[1].gz).toEqual(out[0].gz);
      // the first channel's gradient by hand: only the positive maxima's first positions
      expect(out[1].gz.slice(0, 16)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4, 0, 0, 0, 0]);
    }
  });
});

describe('ReLU gradient', () => {
  it('passes the gradient exactly where the output is positive, 0 at and below the kink, as a product with a 0/1 mask', async () => {
    const x = [-2, -0.5, 0, 1e-30, 0.25, 3, -1e-30, 7];
    const w = [1.5, -2, 3, 0.125, -4, 5.5, 6, -1e-3];
    const g = new nn.Graph();
    const p = g.param('x', [2, 4], x);
    const [gx] = nn.gradients(nn.reduceSum(nn.mul(nn.relu(p), g.constant(w, [2, 4]))), [p]);
    // the VJP is Cast(y > 0) · g: no Where (onnxruntime's CPU Where is a third of Mul's speed)
    const ops = g.nodes.map((n) => n.opType);
    expect(ops).toContain('Cast');
    expect(ops).not.toContain('Where');
    const run = await nn.compileGraph(g, { gx });
    const got = Array.from((await run.run()).gx.data as Float32Array).map((v) => v + 0); // -0 → 0
    expect(got).toEqual(x.map((v, i) => (Math.fround(v) > 0 ? Math.fround(w[i]) : 0)));
    await run.release();
  });
});

describe('model outputs', () => {
  it('an output named apart from its tensor renames the node that makes it; inputs, params and repeats get an Identity', async () => {
    const g = new nn.Graph();
    const x = g.input('x', [3]);
    const p = g.param('p', [3], [1, 2, 3]);
    const y = nn.mul(x, p);
    const z = nn.add(y, 1); // y is consumed inside the model too
    const bytes = g.toModel({ outputs: { y_out: y, again: y, z, p_out: p, x_out: x } });
    const m = onnx.ModelProto.decode(bytes);
    const made = (name: string) => m.graph?.node?.find((n) => n.output?.includes(name));
    expect(made('y_out')?.opType).toBe('Mul');
    expect(made('again')?.opType).toBe('Identity');
    expect(made('p_out')?.opType).toBe('Identity');
    expect(made('x_out')?.opType).toBe('Identity');
    expect(m.graph?.node?.filter((n) => n.opType === 'Identity')).toHaveLength(3);
    expect(made('z')?.input).toContain('y_out');
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({
      x: new ort.Tensor('float32', Float32Array.from([2, 3, 4]), [3]),
      p: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]),
    });
    expect(Array.from(out.y_out.data as Float32Array)).toEqual([2, 6, 12]);
    expect(Array.from(out.again.data as Float32Array)).toEqual([2, 6, 12]);
    expect(Array.from(out.z.data as Float32Array)).toEqual([3, 7, 13]);
    expect(Array.from(out.p_out.data as Float32Array)).toEqual([1, 2, 3]);
    expect(Array.from(out.x_out.data as Float32Array)).toEqual([2, 3, 4]);
    await session.release();
  });
});

describe('autodiff plumbing', () => {
  it('stopGradient blocks its branch and fan-out gradients add up', async () => {
    const g = new nn.Graph('float64');
    const x = g.param('x', [3], [1, -2, 3]);
    // d/dx Σ (sg(x)·x + x·x) = x + 2x = 3x
    const y = nn.reduceSum(nn.add(nn.mul(nn.stopGradient(x), x), nn.mul(x, x)));
    const [gx] = nn.gradients(y, [x]);
    const run = await nn.compileGraph(g, { gx });
    expect(Array.from((await run.run()).gx.data as Float64Array)).toEqual([3, -6, 9]);
    await run.release();
  });
});

describe('initialisers and checkpoints', () => {
  it('seeded initialisers repeat exactly and respect the Glorot bound', () => {
    const a = nn.glorotUniform([64, 32, 3, 3], nn.createRng(42));
    const b = nn.glorotUniform([64, 32, 3, 3], nn.createRng(42));
    const c = nn.glorotUniform([64, 32, 3, 3], nn.createRng(43));
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    const limit = Math.sqrt(6 / (32 * 9 + 64 * 9));
    // the draws in order, one per weight, rounded to float32: the weights every earlier run had
    const rng = nn.createRng(42);
    const drawn = Float32Array.from({ length: a.length }, () => rng.uniform(-limit, limit));
    expect(Buffer.from(a.buffer).equals(Buffer.from(drawn.buffer))).toBe(true);
    const max = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(max).toBeLessThanOrEqual(limit);
    expect(max).toBeGreaterThan(0.95 * limit);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.05 * limit); // σ of the mean ≈ 0.004·limit
  });

  it('state files round-trip and reject corrupt input with BAD_INPUT', () => {
    const state: nn.TrainingState = {
      step: 7,
      optimizer: { name: 'adam', config: { beta1: 0.9 } },
      params: new Map([['w', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]]),
      slots: new Map([['m:w', { shape: [2, 3], data: Float32Array.from([0.5, 0, 0, 0, 0, -1]) }]]),
      meta: { epoch: 2 },
    };
    const bytes = nn.encodeState(state);
    const back = nn.decodeState(bytes);
    expect(back.step).toBe(7);
    expect(Array.from(back.params.get('w')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(back.slots.get('m:w')!.data)).toEqual([0.5, 0, 0, 0, 0, -1]);
    expect(back.meta).toEqual({ epoch: 2 });
    expect(() => nn.decodeState(bytes.subarray(0, bytes.length - 4), 'f.bin')).toThrow(/runs past the end/);
    const bad = bytes.slice();
    bad[0] = 0;
    expect(() => nn.decodeState(bad)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });

  it('the inference export runs standalone in a fresh ORT session', async () => {
    const g = new nn.Graph();
    const x = g.input('x', [1, 2]);
    const w = g.param('w', [2, 2], [1, 2, 3, 4]);
    const y = nn.matmul(x, w);
    const bytes = nn.exportInference(g, { y }, new Map([['w', Float32Array.from([0, 1, 1, 0])]]));
    const s = await ort.InferenceSession.create(bytes);
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([5, 7]), [1, 2]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([7, 5]);
    await s.release();
  });
});
