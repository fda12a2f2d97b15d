/**
 * Every VJP rule against central finite differences. float64 graphs where ORT's CPU
 * provider implements the op in double (tolerance 1e-6 relative); Conv, ConvTranspose and
 * Resize exist only in float32 there, and they are linear in each input, so a large step
 * (h = 0.25) makes the difference quotient exact up to float32 rounding of the loss
 * (|L| ≲ 10², ulp ≈ 1e-5, / 2h → ≈ 2e-5): tolerance 1e-3 + 1e-3 relative.
 */
import { describe, expect, it } from 'vitest';
import { type GradcheckOptions, type GradcheckParam, gradcheck } from './gradcheck';
import type { Graph, Tensor } from './graph';
import * as nn from './index';

const F32: GradcheckOptions = { dtype: 'float32', h: 0.25, rtol: 1e-3, atol: 1e-3 };

async function check(
  params: GradcheckParam[],
  build: (p: Tensor[], g: Graph) => Tensor,
  options: GradcheckOptions = {},
): Promise<void> {
  const r = await gradcheck(params, build, options);
  expect(r.failures).toEqual([]);
  expect(r.checked).toBeGreaterThan(0);
}

const P = (name: string, shape: number[], range?: [number, number]): GradcheckParam => ({ name, shape, range });

describe('VJP rules match central finite differences', () => {
  it('add, sub, mul, div with broadcasting', async () => {
    await check([P('a', [2, 3, 4]), P('b', [3, 1]), P('c', [4], [0.5, 2])], ([a, b, c]) =>
      nn.div(nn.mul(nn.sub(nn.add(a, b), c), b), c),
    );
  });
  it('pow with tensor base and exponent, and a number exponent', async () => {
    await check([P('a', [3, 2], [0.5, 2]), P('e', [2], [-1, 2])], ([a, e]) => nn.add(nn.pow(a, e), nn.pow(a, 3)));
  });
  it('neg, abs, sqrt, exp, log', async () => {
    await check([P('x', [7], [0.2, 2])], ([x]) =>
      nn.add(nn.add(nn.neg(nn.exp(x)), nn.sqrt(x)), nn.mul(nn.log(x), nn.abs(nn.sub(x, 1.1)))),
    );
  });
  it('sin, cos, square', async () => {
    await check([P('x', [6], [-3, 3])], ([x]) => nn.mul(nn.sin(x), nn.square(nn.cos(x))));
  });
  it('relu, sigmoid, tanh, softplus, silu', async () => {
    // relu is checked away from its kink (|x| ≥ 0.1).
    const init = [-2, -0.5, -0.1, 0.1, 0.7, 1.9, -1.3, 2.4];
    await check([{ name: 'x', shape: [8], init }], ([x]) =>
      nn.add(nn.add(nn.relu(x), nn.sigmoid(x)), nn.add(nn.tanh(x), nn.add(nn.softplus(x), nn.silu(x)))),
    );
  });
  it('where and greater', async () => {
    await check([P('a', [2, 3]), P('b', [3])], ([a, b]) => nn.where(nn.greater(a, 0), nn.mul(a, a), b));
  });
  it('reduceSum and reduceMean, keepdims and not', async () => {
    await check([P('x', [2, 3, 4])], ([x]) =>
      nn.add(nn.reduceSum(nn.mul(x, x), [1]), nn.reduceMean(nn.exp(x), [-2], false)),
    );
    await check([P('x', [2, 3, 4])], ([x]) => nn.mul(nn.reduceMean(x, [0, 2], true), nn.reduceSum(x)));
  });
  it('batched matmul with broadcast batch axes and a 2-D right operand', async () => {
    await check([P('a', [2, 3, 4, 5]), P('b', [3, 5, 2])], ([a, b]) => nn.matmul(a, b));
    await check([P('a', [2, 3, 4, 5]), P('w', [5, 6])], ([a, w]) => nn.matmul(a, w));
    await check([P('w', [4, 4]), P('x', [2, 4, 3])], ([w, x]) => nn.matmul(w, x));
  });
  it('gemm for every transA / transB and a broadcast C', async () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = transA ? [4, 3] : [3, 4];
        const b = transB ? [2, 4] : [4, 2];
        await check([P('a', a), P('b', b), P('c', [2])], ([x, y, c]) =>
          nn.gemm(x, y, c, { transA, transB, alpha: 0.7, beta: 1.3 }),
        );
      }
    }
  });
  for (const form of ['mask', 'indices'] as const) {
    it(`maxPool 2×2, 2×2 on an odd size, 3×2 windows, overlapping 3×3 stride 2 (${form} VJP)`, async () => {
      const pool = (x: nn.Tensor, o?: nn.PoolOptions) => {
        x.graph.maxPoolGrad = form;
        return nn.maxPool(x, o);
      };
      await check([P('x', [2, 3, 6, 6])], ([x]) => pool(x));
      await check([P('x', [1, 2, 7, 5])], ([x]) => pool(x));
      await check([P('x', [1, 2, 6, 4])], ([x]) => pool(x, { kernel: [3, 2] }));
      await check([P('x', [1, 2, 7, 7])], ([x]) => pool(x, { kernel: [3, 3], strides: [2, 2] }));
    });
  }
  it('reshape, transpose, unsqueeze, squeeze, expand', async () => {
    await check([P('x', [2, 3, 4]), P('y', [3, 1])], ([x, y]) =>
      nn.add(
        nn.squeeze(nn.unsqueeze(nn.reshape(nn.transpose(x, [2, 0, 1]), [4, 6]), [0]), [0]),
        nn.reshape(nn.expand(y, [2, 3, 4]), [4, 6]),
      ),
    );
  });
  it('slice (steps 1 and a −1 flip), pad, concat, split with an unused part', async () => {
    await check([P('x', [3, 5])], ([x]) => nn.pad(nn.slice(x, [1, 0], [3, -1]), [1, 0, 0, 2]));
    await check([P('x', [3, 5])], ([x]) => nn.mul(nn.flip(x, [1]), nn.flip(x, [0, 1])));
    await check([P('x', [2, 3]), P('y', [2, 4])], ([x, y]) => nn.concat([x, y, x], 1));
    await check([P('x', [2, 7])], ([x]) => {
      const [a, , c] = nn.split(x, [2, 3, 2], 1);
      return nn.mul(a, c);
    });
  });
  it('complex multiply, |·|, polar and the 2-D DFT with fftshift', async () => {
    await check([P('ar', [1, 4, 4]), P('ai', [1, 4, 4]), P('ph', [4, 4])], ([ar, ai, ph]) => {
      const obj = nn.polar(nn.sigmoid(ar), ph);
      const psi = nn.cmul(obj, { re: ai, im: nn.mul(ai, 0.5) });
      return nn.cabs(nn.dft2(psi, { shift: true }), 1e-9);
    });
    await check([P('x', [2, 4, 6])], ([x]) => nn.fftshift2(x));
  });
  it('conv with bias and same padding (float32)', async () => {
    await check(
      [P('x', [2, 3, 5, 5]), P('w', [4, 3, 3, 3]), P('b', [4])],
      ([x, w, b]) => nn.conv(x, w, b, { pads: 'same' }),
      F32,
    );
  });
  it('conv without padding, stride 2 with padding (ConvTranspose input gradient) (float32)', async () => {
    await check([P('x', [1, 2, 6, 6]), P('w', [3, 2, 3, 3])], ([x, w]) => nn.conv(x, w), F32);
    await check(
      [P('x', [2, 2, 7, 7]), P('w', [3, 2, 3, 3])],
      ([x, w]) => nn.conv(x, w, undefined, { pads: [1, 1, 1, 1], strides: [2, 2] }),
      F32,
    );
  });
  it('conv weight gradient by unfolding, same padding and stride 2 (float32)', async () => {
    await check(
      [P('x', [2, 3, 5, 5]), P('w', [4, 3, 3, 3]), P('b', [4])],
      ([x, w, b]) => nn.conv(x, w, b, { pads: 'same', weightGrad: 'unfold' }),
      F32,
    );
    await check(
      [P('x', [2, 2, 7, 7]), P('w', [3, 2, 3, 3])],
      ([x, w]) => nn.conv(x, w, undefined, { pads: [1, 1, 1, 1], strides: [2, 2], weightGrad: 'unfold' }),
      F32,
    );
    // More outputs than patch rows (Cout ≥ Cin·kh·kw): the patches side is the one transposed.
    await check(
      [P('x', [2, 1, 5, 5]), P('w', [10, 1, 3, 3])],
      ([x, w]) => nn.conv(x, w, undefined, { pads: 'same', weightGrad: 'unfold' }),
      F32,
    );
  });
  it("conv weight gradient with gy transposed once ('taps-t'): wide, narrow and few-channel layers (float32)", async () => {
    for (const [cin, cout] of [
      [20, 24], // per-tap products
      [24, 20], // fewer outputs: gy shifted, one batch sum
      [3, 20], // few inputs: taps stacked
    ])
      await check(
        [P('x', [2, cin, 5, 5]), P('w', [cout, cin, 3, 3])],
        ([x, w]) => nn.conv(x, w, undefined, { pads: 'same', weightGrad: 'taps-t' }),
        F32,
      );
    await check(
      [P('x', [2, 20, 7, 7]), P('w', [18, 20, 3, 3])],
      ([x, w]) => nn.conv(x, w, undefined, { pads: [1, 1, 1, 1], strides: [2, 2], weightGrad: 'taps-t' }),
      F32,
    );
  });
  it('nearest upsampling ×2 (float32)', async () => {
    await check([P('x', [2, 3, 3, 4])], ([x]) => nn.upsampleNearest(x, 2), F32);
  });
});
