/**
 * End-to-end reference: a small conv/pool/upsample net's loss and every parameter
 * gradient from our autodiff equal PyTorch's on the same weights and batch.
 */
import { describe, expect, it } from 'vitest';
import { runPython } from '../util/python';
import * as nn from './index';

describe('autodiff agrees with PyTorch', () => {
  it('loss and all parameter gradients of conv → relu → pool → conv → upsample → conv', async () => {
    const g = new nn.Graph();
    const rng = nn.createRng(9);
    const x = g.input('x', [2, 2, 8, 8]);
    const t = g.input('t', [2, 1, 8, 8]);
    const shapes: Record<string, number[]> = {
      w1: [4, 2, 3, 3],
      b1: [4],
      w2: [6, 4, 3, 3],
      b2: [6],
      w3: [1, 6, 3, 3],
      b3: [1],
    };
    const p: Record<string, nn.ParamTensor> = {};
    for (const [k, s] of Object.entries(shapes)) {
      p[k] = g.param(
        k,
        s,
        Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.uniform(-0.5, 0.5)),
      );
    }
    let h = nn.maxPool(nn.relu(nn.conv(x, p.w1, p.b1, { pads: 'same' })));
    h = nn.upsampleNearest(nn.tanh(nn.conv(h, p.w2, p.b2, { pads: 'same' })), 2);
    h = nn.sigmoid(nn.conv(h, p.w3, p.b3, { pads: [1, 1, 1, 1] }));
    const loss = nn.mse(h, t);
    const names = Object.keys(shapes);
    const grads = nn.gradients(
      loss,
      names.map((k) => p[k]),
    );
    const run = await nn.compileGraph(g, { loss, ...Object.fromEntries(names.map((k, i) => [`grad.${k}`, grads[i]])) });
    const xs = Array.from({ length: 256 }, () => rng.uniform(-1, 1));
    const ts = Array.from({ length: 128 }, () => rng.uniform(0, 1));
    const out = await run.run({ x: Float32Array.from(xs), t: Float32Array.from(ts) });
    await run.release();

    const ref = JSON.parse(
      runPython(
        ['torch'],
        `
import json, sys, torch, torch.nn.functional as F
d = json.load(sys.stdin)
T = lambda k: torch.tensor(d['p'][k], dtype=torch.float32).reshape(d['s'][k]).requires_grad_()
p = {k: T(k) for k in d['s']}
x = torch.tensor(d['x']).reshape(2, 2, 8, 8); t = torch.tensor(d['t']).reshape(2, 1, 8, 8)
h = F.max_pool2d(F.relu(F.conv2d(x, p['w1'], p['b1'], padding=1)), 2)
h = F.interpolate(torch.tanh(F.conv2d(h, p['w2'], p['b2'], padding=1)), scale_factor=2, mode='nearest')
h = torch.sigmoid(F.conv2d(h, p['w3'], p['b3'], padding=1))
loss = torch.mean((h - t) ** 2); loss.backward()
print(json.dumps({'loss': loss.item(), **{k: p[k].grad.reshape(-1).tolist() for k in p}}))
`,
        [],
        JSON.stringify({
          s: shapes,
          p: Object.fromEntries(names.map((k) => [k, Array.from(p[k].init)])),
          x: xs,
          t: ts,
        }),
      ),
    ) as Record<string, number | number[]>;
    expect(Number(out.loss.data[0])).toBeCloseTo(ref.loss as number, 6);
    for (const k of names) {
      const ours = out[`grad.${k}`].data as Float32Array;
      const theirs = ref[k] as number[];
      const scale = Math.max(...theirs.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < theirs.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThan(1e-5 * scale + 1e-8);
    }
  });
});
