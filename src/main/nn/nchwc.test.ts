/** The NCHWc rewrite of Convs with computed weights (nchwc.ts) against the plain Conv. */
import { describe, expect, it } from 'vitest';
import * as nn from './index';
import { NCHWC_DOMAIN, nchwcBlockSize, nchwcConvs } from './nchwc';
import { onnx } from './proto';

const block = await nchwcBlockSize();

function rand(n: number, seed: number): Float32Array {
  const rng = nn.createRng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

/** conv(C→C) → relu → conv(C→C) → MSE-like sum, with the gradients of input and weights. */
function net(C: number) {
  const g = new nn.Graph();
  const x = g.input('x', [2, C, 6, 6]);
  const w1 = g.param('w1', [C, C, 3, 3], rand(C * C * 9, 1));
  const b1 = g.param('b1', [C], rand(C, 2));
  const w2 = g.param('w2', [C, C, 3, 3], rand(C * C * 9, 3));
  const h = nn.relu(nn.conv(x, w1, b1, { pads: 'same' }));
  const y = nn.conv(h, w2, undefined, { pads: 'same' });
  const loss = nn.reduceSum(nn.mul(y, y));
  const [gx, gw1, gb1, gw2] = nn.gradients(loss, [x, w1, b1, w2]);
  return { g, outputs: { loss, y, gx: gx!, gw1: gw1!, gb1: gb1!, gw2: gw2! } };
}

/** The graph's outputs with and without the rewrite agree to float rounding (1e-5 of each output's scale). */
async function expectAgree(
  g: nn.Graph,
  outputs: Record<string, nn.Tensor>,
  feeds: Record<string, Float32Array>,
  what = '',
) {
  const plain = await nn.compileGraph(g, outputs, { threads: 1, nchwc: false });
  const fast = await nn.compileGraph(g, outputs, { threads: 1, nchwc: true });
  const a = await plain.run(feeds);
  const b = await fast.run(feeds);
  for (const k of Object.keys(outputs)) {
    const p = a[k].data as Float32Array;
    const q = b[k].data as Float32Array;
    let scale = 0;
    let err = 0;
    for (let i = 0; i < p.length; i++) {
      scale = Math.max(scale, Math.abs(p[i]));
      err = Math.max(err, Math.abs(p[i] - q[i]));
    }
    expect(err, `${what}${k}`).toBeLessThanOrEqual(1e-5 * scale);
  }
  await plain.release();
  await fast.release();
}

describe.skipIf(block === 0)('NCHWc convolutions', () => {
  it('rewrites the forward and input-gradient Convs and agrees with the plain Conv to float rounding', async () => {
    // Two channel blocks, so the weight reorder into OIHWBiBo moves blocks as well as lanes.
    const C = 2 * block;
    const { g, outputs } = net(C);
    const bytes = g.toModel({ outputs });
    const rewritten = onnx.ModelProto.decode(nchwcConvs(bytes, block));
    const convs = rewritten.graph!.node!.filter((n) => n.opType === 'Conv' && n.domain === NCHWC_DOMAIN);
    // Two forward Convs, and the input gradients of both (x's and h's).
    expect(convs.length).toBe(4);
    expect(rewritten.graph!.node!.some((n) => n.opType === 'Conv' && !n.domain)).toBe(false);
    // The first Conv's Relu is fused into it.
    expect(convs.filter((n) => n.attribute?.some((a) => a.name === 'activation')).length).toBe(1);
    // The second Conv reads the first one's blocked output: three reorders of inputs, not
    // four, besides the weights' (two per forward Conv, one per input-gradient Conv, whose
    // flipped, transposed kernel is reordered from the weight itself).
    expect(rewritten.graph!.node!.filter((n) => n.opType === 'ReorderInput').length).toBe(3 + 2 * 2 + 2);
    expect(
      rewritten.graph!.node!.some((n) => n.opType === 'Transpose' && (n.input?.[0] === 'w1' || n.input?.[0] === 'w2')),
    ).toBe(false);

    await expectAgree(g, outputs, { x: rand(2 * C * 36, 4) });
  });

  it('reads an input of fewer channels than a block as it is (the first layer), and agrees with the plain Conv', async () => {
    for (const Cin of [1, 4]) {
      const g = new nn.Graph();
      const x = g.input('x', [2, Cin, 6, 6]);
      const w = g.param('w', [block, Cin, 3, 3], rand(block * Cin * 9, 5));
      const b = g.param('b', [block], rand(block, 6));
      const y = nn.relu(nn.conv(x, w, b, { pads: 'same' }));
      const loss = nn.reduceSum(nn.mul(y, y));
      const [gw] = nn.gradients(loss, [w]);
      const outputs = { y, gw: gw! };
      const rewritten = onnx.ModelProto.decode(nchwcConvs(g.toModel({ outputs }), block));
      const conv = rewritten.graph!.node!.find((n) => n.opType === 'Conv' && n.domain === NCHWC_DOMAIN);
      expect(conv?.input?.[0]).toBe('x'); // no ReorderInput of the input
      expect(conv?.attribute?.some((a) => a.name === 'activation')).toBe(true);
      await expectAgree(g, outputs, { x: rand(2 * Cin * 36, 7) }, `${Cin} channels: `);
    }
  });

  it('leaves Convs whose outputs are not a multiple of the block, and constant weights, to onnxruntime', () => {
    const g = new nn.Graph();
    const x = g.input('x', [1, block, 6, 6]);
    const w = g.param('w', [3, block, 3, 3], rand(block * 27, 5));
    const y = nn.conv(x, w, undefined, { pads: 'same', thin: false });
    const bytes = g.toModel({ outputs: { y } });
    expect(nchwcConvs(bytes, block)).toBe(bytes);
    const c = g.constant(rand(block * 3 * 9, 6), [block, 3, 3, 3]);
    const z = nn.conv(y, c, undefined, { pads: 'same' });
    const inference = g.toModel({ outputs: { z }, paramsAsInitializers: true });
    expect(nchwcConvs(inference, block)).toBe(inference);
  });
});

// Only where the kernels are missing: say so as a skipped test, with the reason.
if (block === 0) {
  it.skip('NCHWc convolutions: skipped, this CPU has no NCHWc kernels in onnxruntime (block size probe gave 0)', () => {});
}
