/**
 * The conv weight gradient in each of its forms (shift x or shift gy, one product per tap
 * or the taps stacked into one; see convWeightGrad) against its definition summed in double
 * precision here: dW[o, c, i, j] = Σ_b Σ_(u,v) gy[b, o, u, v] · x_pad[b, c, u·s + i, v·s + j].
 */
import { describe, expect, it } from 'vitest';
import * as nn from './index';

interface Case {
  what: string;
  B: number;
  Cin: number;
  Cout: number;
  H: number;
  W: number;
  pads: [number, number, number, number];
  stride?: number;
}

const CASES: Case[] = [
  { what: 'fewer outputs, taps stacked (shift gy)', B: 2, Cin: 24, Cout: 3, H: 6, W: 5, pads: [1, 1, 1, 1] },
  { what: 'one output channel (shift gy, stacked)', B: 3, Cin: 18, Cout: 1, H: 5, W: 7, pads: [1, 1, 1, 1] },
  { what: 'fewer outputs, one product per tap (shift gy)', B: 2, Cin: 40, Cout: 20, H: 5, W: 6, pads: [1, 1, 1, 1] },
  { what: 'fewer outputs, asymmetric padding (shift gy)', B: 2, Cin: 24, Cout: 3, H: 7, W: 6, pads: [0, 1, 2, 0] },
  { what: 'few inputs, taps stacked (shift x)', B: 2, Cin: 2, Cout: 24, H: 6, W: 6, pads: [1, 1, 1, 1] },
  { what: 'more outputs, one product per tap (shift x)', B: 2, Cin: 20, Cout: 24, H: 5, W: 5, pads: [1, 1, 1, 1] },
  { what: 'equal channels, no padding (shift x)', B: 2, Cin: 8, Cout: 8, H: 6, W: 5, pads: [0, 0, 0, 0] },
  { what: 'fewer outputs with stride 2 (shift x)', B: 2, Cin: 24, Cout: 3, H: 7, W: 7, pads: [1, 1, 1, 1], stride: 2 },
];

function values(n: number, seed: number): Float32Array {
  const rng = nn.createRng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

describe('conv weight gradient', () => {
  for (const c of CASES) {
    it(`equals its definition: ${c.what}`, async () => {
      const s = c.stride ?? 1;
      const [pt, pl, pb, pr] = c.pads;
      const Ho = Math.floor((c.H + pt + pb - 3) / s) + 1;
      const Wo = Math.floor((c.W + pl + pr - 3) / s) + 1;
      const g = new nn.Graph();
      const x = g.input('x', [c.B, c.Cin, c.H, c.W]);
      const t = g.input('t', [c.B, c.Cout, Ho, Wo]);
      const w = g.param('w', [c.Cout, c.Cin, 3, 3], values(c.Cout * c.Cin * 9, 3));
      const y = nn.conv(x, w, undefined, { pads: c.pads, strides: [s, s] });
      expect(y.shape).toEqual([c.B, c.Cout, Ho, Wo]);
      // loss = Σ y·t, so the gradient reaching y is t
      const [gw] = nn.gradients(nn.reduceSum(nn.mul(y, t)), [w]);
      const run = await nn.compileGraph(g, { gw });
      const xs = values(c.B * c.Cin * c.H * c.W, 1);
      const ts = values(c.B * c.Cout * Ho * Wo, 2);
      const out = (await run.run({ x: xs, t: ts })).gw.data as Float32Array;
      await run.release();
      let worst = 0;
      for (let o = 0; o < c.Cout; o++)
        for (let ci = 0; ci < c.Cin; ci++)
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 3; j++) {
              let sum = 0;
              for (let b = 0; b < c.B; b++)
                for (let u = 0; u < Ho; u++)
                  for (let v = 0; v < Wo; v++) {
                    const r = u * s + i - pt;
                    const q = v * s + j - pl;
                    if (r < 0 || r >= c.H || q < 0 || q >= c.W) continue;
                    sum += ts[((b * c.Cout + o) * Ho + u) * Wo + v] * xs[((b * c.Cin + ci) * c.H + r) * c.W + q];
                  }
              worst = Math.max(worst, Math.abs(out[((o * c.Cin + ci) * 3 + i) * 3 + j] - sum));
            }
      expect(worst).toBeLessThan(1e-4);
    });
  }

  it('builds each tap’s copy right before its product (onnxruntime runs nodes in that order: the copy is still in cache)', () => {
    for (const [Cin, Cout] of [
      [20, 24], // shift x, one product per tap
      [40, 20], // shift gy, one product per tap
    ]) {
      const g = new nn.Graph();
      const x = g.input('x', [2, Cin, 6, 6]);
      const w = g.param('w', [Cout, Cin, 3, 3], values(Cout * Cin * 9, 3));
      const before = g.nodes.length;
      nn.gradients(nn.reduceSum(nn.conv(x, w, undefined, { pads: 'same' })), [w]);
      const order = g.nodes
        .slice(before)
        .map((n) => n.opType)
        .filter((op) => op === 'Slice' || op === 'MatMul');
      // 8 shifted copies (the centre tap is the tensor itself), 9 tap products, 9 batch sums
      expect(order.filter((op) => op === 'Slice')).toHaveLength(8);
      expect(order.join(' ')).not.toContain('Slice Slice');
    }
  });
});

describe('conv of a ×2 nearest upsampling, by output phases', () => {
  for (const [Cin, Cout] of [
    [6, 1],
    [5, 4],
  ]) {
    it(`equals conv(upsampleNearest(x)) with its gradients, ${Cin} → ${Cout} channels`, async () => {
      const [B, H, W] = [2, 5, 4];
      const outputs: Record<string, Float32Array>[] = [];
      for (const phased of [false, true]) {
        const g = new nn.Graph();
        const x = g.param('x', [B, Cin, H, W], values(B * Cin * H * W, 11));
        const w = g.param('w', [Cout, Cin, 3, 3], values(Cout * Cin * 9, 12));
        const b = g.param('b', [Cout], values(Cout, 13));
        const t = g.constant(Array.from(values(B * Cout * 4 * H * W, 14)), [B, Cout, 2 * H, 2 * W]);
        const y = phased ? nn.conv3x3OfUpsampled2(x, w, b) : nn.conv(nn.upsampleNearest(x, 2), w, b, { pads: 'same' });
        expect(y.shape).toEqual([B, Cout, 2 * H, 2 * W]);
        const [gx, gw, gb] = nn.gradients(nn.reduceSum(nn.mul(y, t)), [x, w, b]);
        const run = await nn.compileGraph(g, { y, gx, gw, gb });
        const out = await run.run({});
        await run.release();
        outputs.push(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array])));
      }
      for (const k of ['y', 'gx', 'gw', 'gb']) {
        const [plain, phased] = [outputs[0][k], outputs[1][k]];
        const scale = Math.max(...plain.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        for (let i = 0; i < plain.length; i++) expect(Math.abs(phased[i] - plain[i])).toBeLessThan(1e-5 * scale);
      }
    });
  }
});

describe('a conv with few outputs, as one product and a shifted sum', () => {
  for (const [Cin, Cout, k, bias] of [
    [32, 1, 3, true],
    [48, 2, 3, false],
    [40, 4, 3, true],
    [33, 3, 5, false],
  ] as const) {
    it(`equals the ONNX Conv, with the Conv's own gradients bit for bit: ${Cin} → ${Cout}, ${k}×${k}${bias ? ', bias' : ''}`, async () => {
      const [B, H, W] = [2, 9, 7];
      const outputs: Record<string, Float32Array>[] = [];
      const ops: string[][] = [];
      for (const thin of [false, true]) {
        const g = new nn.Graph();
        const x = g.param('x', [B, Cin, H, W], values(B * Cin * H * W, 21));
        const w = g.param('w', [Cout, Cin, k, k], values(Cout * Cin * k * k, 22));
        const b = bias ? g.param('b', [Cout], values(Cout, 23)) : undefined;
        const t = g.constant(Array.from(values(B * Cout * H * W, 24)), [B, Cout, H, W]);
        const y = nn.conv(x, w, b, { pads: 'same', thin });
        ops.push(g.nodes.map((n) => n.opType));
        const wrt = b ? [x, w, b] : [x, w];
        const grads = nn.gradients(nn.reduceSum(nn.mul(y, t)), wrt);
        const run = await nn.compileGraph(g, { y, ...Object.fromEntries(grads.map((gt, i) => [`g${i}`, gt])) });
        const out = await run.run({});
        await run.release();
        outputs.push(Object.fromEntries(Object.entries(out).map(([name, v]) => [name, v.data as Float32Array])));
      }
      // the forward pass has no Conv; its gradients skip the composite's own nodes
      expect(ops[0]).toContain('Conv');
      expect(ops[1]).not.toContain('Conv');
      const [plain, thin] = outputs;
      const scale = Math.max(...plain.y.map(Math.abs));
      for (let i = 0; i < plain.y.length; i++) expect(Math.abs(thin.y[i] - plain.y[i])).toBeLessThan(2e-6 * scale);
      for (const name of Object.keys(plain).filter((n) => n !== 'y')) expect(thin[name]).toEqual(plain[name]);
    });
  }

  it('is used only where it is faster: few outputs, enough inputs, stride 1, same padding', () => {
    const forward = (Cin: number, Cout: number, options: nn.ConvOptions) => {
      const g = new nn.Graph();
      const x = g.input('x', [2, Cin, 8, 8]);
      nn.conv(x, g.param('w', [Cout, Cin, 3, 3], values(Cout * Cin * 9, 1)), undefined, options);
      return g.nodes.map((n) => n.opType);
    };
    expect(forward(64, 4, { pads: 'same' })).not.toContain('Conv');
    expect(forward(64, 8, { pads: 'same' })).toContain('Conv');
    expect(forward(16, 1, { pads: 'same' })).toContain('Conv');
    expect(forward(64, 1, { pads: [0, 0, 0, 0] })).toContain('Conv');
    expect(forward(64, 1, { pads: 'same', strides: [2, 2] })).toContain('Conv');
  });
});
