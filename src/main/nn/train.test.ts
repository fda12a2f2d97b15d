import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import * as nn from './index';

/** conv → pool → conv → upsample, a teacher with fixed random weights sets the targets. */
function smallCnn(seed: number) {
  const B = 4;
  const g = new nn.Graph();
  const rng = nn.createRng(seed);
  const x = g.input('x', [B, 1, 16, 16]);
  const t = g.input('target', [B, 1, 16, 16]);
  const w1 = g.param('c1.w', [8, 1, 3, 3], nn.glorotUniform([8, 1, 3, 3], rng));
  const b1 = g.param('c1.b', [8], nn.zeros([8]));
  const w2 = g.param('c2.w', [1, 8, 3, 3], nn.glorotUniform([1, 8, 3, 3], rng));
  const b2 = g.param('c2.b', [1], nn.zeros([1]));
  let h = nn.relu(nn.conv(x, w1, b1, { pads: 'same' }));
  h = nn.maxPool(h);
  h = nn.conv(h, w2, b2, { pads: 'same' });
  const pred = nn.upsampleNearest(h, 2);
  const loss = nn.mse(pred, t);
  return { g, loss, pred, B };
}

function batches(seed: number, B: number, count: number) {
  const rng = nn.createRng(seed);
  // Targets: a fixed blur-and-pool of the input, reachable by the network's form.
  return Array.from({ length: count }, () => {
    const x = Float32Array.from({ length: B * 256 }, () => rng.uniform(0, 1));
    const target = new Float32Array(B * 256);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < 16; i += 2) {
        for (let j = 0; j < 16; j += 2) {
          const o = b * 256;
          const m = Math.max(
            x[o + i * 16 + j],
            x[o + i * 16 + j + 1],
            x[o + (i + 1) * 16 + j],
            x[o + (i + 1) * 16 + j + 1],
          );
          for (const [di, dj] of [
            [0, 0],
            [0, 1],
            [1, 0],
            [1, 1],
          ])
            target[o + (i + di) * 16 + j + dj] = 0.5 * m - 0.2;
        }
      }
    }
    return { x, target };
  });
}

const LR = 1e-2;

async function trainSmall(seed: number, steps: number) {
  const { loss, pred, B } = smallCnn(seed);
  const model = nn.buildTrainStep({ loss, optimizer: nn.adam(), extras: { pred } });
  const trainer = await nn.Trainer.create(model, { accelerator: 'cpu', deterministic: true, threads: 1 });
  const data = batches(seed + 1, B, 8);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push((await trainer.trainStep(data[s % data.length], LR)).loss);
  return { trainer, losses, data, model };
}

describe('training with the train-step graph', () => {
  it('a small CNN trains 200 Adam steps below the threshold, bit-identically across runs', async () => {
    const a = await trainSmall(11, 200);
    const b = await trainSmall(11, 200);
    const first = a.losses[0];
    const last = (await a.trainer.evaluate(a.data[0])).loss;
    // The target is max-pool-like and linear in the pooled max: the net can nearly fit it.
    expect(first).toBeGreaterThan(0.02);
    expect(last).toBeLessThan(0.004); // measured 0.0030 (from 0.057)
    expect(last).toBeLessThan(first / 10);
    expect(b.losses).toEqual(a.losses);
    const pa = a.trainer.parameters();
    const pb = b.trainer.parameters();
    for (const [k, v] of pa) expect(Buffer.from(pb.get(k)!.buffer).equals(Buffer.from(v.buffer))).toBe(true);
    await a.trainer.release();
    await b.trainer.release();
  });

  it("Adam's first three updates equal the hand-computed Keras updates", async () => {
    const g = new nn.Graph('float64');
    const p0 = [1, -2, 0.5];
    const c = [0.3, 0.1, -4];
    const p = g.param('p', [3], p0);
    // L = Σ c·p + ½ Σ p²  ⇒  ∂L/∂p = c + p
    const loss = nn.add(nn.reduceSum(nn.mul(p, g.constant(c, [3]))), nn.mul(nn.reduceSum(nn.mul(p, p)), 0.5));
    const trainer = await nn.Trainer.create(nn.buildTrainStep({ loss, optimizer: nn.adam() }), { accelerator: 'cpu' });
    const lr = 0.1;
    const got: number[][] = [];
    for (let s = 0; s < 3; s++) {
      await trainer.trainStep({}, lr);
      got.push(Array.from(trainer.parameters().get('p')!));
    }
    // Step 1 by hand: g = c + p0 = [1.3, −1.9, −3.5]; m = 0.1g, v = 0.001g²;
    // α = 0.1·√0.001/0.1 = √0.001; update = α·0.1g/(√0.001·|g| + 1e-7) ≈ 0.1·sign(g)·(1 − 7.7e-8/|g|·…).
    const step1 = p0.map((v, i) => {
      const gi = c[i] + v;
      return v - (Math.sqrt(0.001) * 0.1 * gi) / (Math.sqrt(0.001 * gi * gi) + 1e-7);
    });
    expect(step1[0]).toBeCloseTo(0.9, 6);
    expect(step1[1]).toBeCloseTo(-1.9, 6);
    expect(step1[2]).toBeCloseTo(0.6, 6);
    // Steps 1–3 from the Keras update rule in plain double arithmetic.
    let q = [...p0];
    let m = [0, 0, 0];
    let v = [0, 0, 0];
    for (let t = 1; t <= 3; t++) {
      const gr = q.map((x, i) => c[i] + x);
      m = m.map((x, i) => 0.9 * x + 0.1 * gr[i]);
      v = v.map((x, i) => 0.999 * x + 0.001 * gr[i] * gr[i]);
      const alpha = (lr * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
      q = q.map((x, i) => x - (alpha * m[i]) / (Math.sqrt(v[i]) + 1e-7));
      for (let i = 0; i < 3; i++) expect(got[t - 1][i]).toBeCloseTo(q[i], 12);
    }
    for (let i = 0; i < 3; i++) expect(got[0][i]).toBeCloseTo(step1[i], 12);
    await trainer.release();
  });

  it('SGD with momentum follows u ← μu − lr·g, p ← p + u', async () => {
    const g = new nn.Graph('float64');
    const p = g.param('p', [2], [1, -1]);
    const loss = nn.reduceSum(nn.mul(nn.mul(p, p), 2)); // ∂L/∂p = 4p
    const trainer = await nn.Trainer.create(nn.buildTrainStep({ loss, optimizer: nn.sgd({ momentum: 0.5 }) }), {
      accelerator: 'cpu',
    });
    await trainer.trainStep({}, 0.1); // u = −0.4p0 → p = 0.6·p0
    await trainer.trainStep({}, 0.1); // u = 0.5·(−0.4p0) − 0.4·0.6p0 = −0.44p0 → p = 0.16·p0
    const got = Array.from(trainer.parameters().get('p')!);
    expect(got[0]).toBeCloseTo(0.16, 12);
    expect(got[1]).toBeCloseTo(-0.16, 12);
    await trainer.release();
  });

  it('trains only the chosen parameters; the others stay at their initial values', async () => {
    const g = new nn.Graph('float64');
    const a = g.param('a', [1], [2]);
    const b = g.param('b', [1], [3]);
    const loss = nn.reduceSum(nn.mul(a, b)); // ∂L/∂a = b = 3
    const trainer = await nn.Trainer.create(nn.buildTrainStep({ loss, optimizer: nn.sgd(), params: [a] }), {
      accelerator: 'cpu',
    });
    await trainer.trainStep({}, 0.5);
    const p = trainer.parameters();
    expect(p.get('a')![0]).toBeCloseTo(0.5, 12);
    expect(p.get('b')![0]).toBe(3);
    await trainer.release();
  });

  it('reports the global gradient norm and clips it when asked', async () => {
    const make = (clipGradNorm?: number) => {
      const g = new nn.Graph('float64');
      const p = g.param('p', [2], [1, 1]);
      const q = g.param('q', [1], [0]);
      // ∂L/∂p = [3, 0], ∂L/∂q = [4]: global norm 5.
      const loss = nn.add(nn.reduceSum(nn.mul(p, g.constant([3, 0], [2]))), nn.reduceSum(nn.mul(q, 4)));
      return nn.buildTrainStep({ loss, optimizer: nn.sgd(), clipGradNorm });
    };
    const plain = await nn.Trainer.create(make(), { accelerator: 'cpu' });
    const clipped = await nn.Trainer.create(make(1), { accelerator: 'cpu' });
    expect((await plain.trainStep({}, 1)).gradNorm).toBeCloseTo(5, 12);
    expect((await clipped.trainStep({}, 1)).gradNorm).toBeCloseTo(5, 12);
    expect(Array.from(plain.parameters().get('p')!)).toEqual([-2, 1]);
    const p = Array.from(clipped.parameters().get('p')!);
    expect(p[0]).toBeCloseTo(1 - 0.6, 12);
    expect(Array.from(clipped.parameters().get('q')!)[0]).toBeCloseTo(-0.8, 12);
    await plain.release();
    await clipped.release();
  });

  it('the fused optimizer (all parameters at once) trains like one update per parameter, with far fewer nodes', async () => {
    const run = async (fuseOptimizer: boolean) => {
      const { loss, pred, B } = smallCnn(3);
      const model = nn.buildTrainStep({
        loss,
        optimizer: nn.adam(),
        extras: { pred },
        fuseOptimizer,
        clipGradNorm: 0.5,
      });
      const trainer = await nn.Trainer.create(model, { accelerator: 'cpu', deterministic: true, threads: 1 });
      const data = batches(4, B, 4);
      const norms: number[] = [];
      for (let s = 0; s < 6; s++) norms.push((await trainer.trainStep(data[s % data.length], LR)).gradNorm);
      const state = trainer.getState();
      await trainer.release();
      return { nodes: model.graph.nodes.length, norms, state };
    };
    const plain = await run(false);
    const fused = await run(true);
    // 4 parameter tensors: Adam's ~14 ops and the norm's 3 per tensor become one set.
    expect(fused.nodes).toBeLessThan(plain.nodes);
    for (let i = 0; i < 6; i++) expect(fused.norms[i]).toBeCloseTo(plain.norms[i], 5);
    expect([...fused.state.slots.keys()]).toEqual([...plain.state.slots.keys()]);
    for (const [name, a] of plain.state.params) {
      const b = fused.state.params.get(name)!;
      expect(b.shape).toEqual(a.shape);
      for (let i = 0; i < a.data.length; i++) expect(b.data[i]).toBeCloseTo(a.data[i], 5);
    }
    for (const [name, a] of plain.state.slots) {
      const b = fused.state.slots.get(name)!.data;
      for (let i = 0; i < a.data.length; i++) expect(b[i]).toBeCloseTo(a.data[i], 6);
    }
  });

  it('saves and restores parameters and Adam state; resumed training matches uninterrupted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nn-state-'));
    try {
      const ref = await trainSmall(5, 6);
      const part = await trainSmall(5, 3);
      await part.trainer.save(join(dir, 'state.bin'), { epoch: 1 });
      const fresh = await trainSmall(5, 0);
      const restored = await fresh.trainer.load(join(dir, 'state.bin'));
      expect(restored.meta).toEqual({ epoch: 1 });
      expect(fresh.trainer.step).toBe(3);
      const rest: number[] = [];
      for (let s = 3; s < 6; s++) rest.push((await fresh.trainer.trainStep(fresh.data[s % 8], LR)).loss);
      expect(rest).toEqual(ref.losses.slice(3));
      await expect(nn.loadState(join(dir, 'missing.bin'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      for (const t of [ref, part, fresh]) await t.trainer.release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exports an inference model.onnx that reproduces the trained forward pass', async () => {
    const run = await trainSmall(3, 5);
    const { pred } = run.model.extras;
    const bytes = run.trainer.exportInference({ pred });
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['x']);
    const out = await session.run({ x: new ort.Tensor('float32', run.data[0].x, [4, 1, 16, 16]) });
    const viaTrainer = (await run.trainer.evaluate(run.data[0])).extras.pred.data as Float32Array;
    const viaExport = out.pred.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < viaExport.length; i++) maxDiff = Math.max(maxDiff, Math.abs(viaExport[i] - viaTrainer[i]));
    expect(maxDiff).toBeLessThan(1e-6);
    await session.release();
    await run.trainer.release();
  });
});

describe('execution providers', () => {
  it('an explicitly requested provider that cannot start is PROVIDER_UNAVAILABLE naming it and why', async () => {
    const g = new nn.Graph();
    const p = g.param('p', [2], [1, 2]);
    const model = nn.buildTrainStep({ loss: nn.reduceSum(nn.mul(p, p)), optimizer: nn.adam() });
    // This machine has no CUDA provider library (a real probe); a machine without a WebGPU
    // adapter is simulated (CI has Mesa's software Vulkan adapter).
    const noAdapter = async () => [
      { name: 'webgpu' as const, available: false, detail: 'Failed to get a WebGPU adapter: No supported adapters' },
    ];
    for (const accelerator of ['cuda', 'webgpu'] as const) {
      const err = await nn.Trainer.create(model, {
        accelerator,
        probe: accelerator === 'webgpu' ? noAdapter : undefined,
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
      expect(String((err as Error).message)).toContain(`'${accelerator}'`);
      expect(String((err as Error).message).length).toBeGreaterThan(
        `execution provider '${accelerator}' is unavailable: `.length,
      );
    }
  });

  it('auto falls back to CPU with a visible notice when no GPU provider works', async () => {
    const notices: string[] = [];
    const r = await nn.resolveProvider({
      accelerator: 'auto',
      onNotice: (m) => notices.push(m),
      probe: async (names) => names.map((name) => ({ name, available: false, detail: 'no adapter' })),
    });
    expect(r.provider).toBe('cpu');
    expect(notices.join()).toMatch(/training on CPU.*no adapter/);
    const gpu = await nn.resolveProvider({
      accelerator: 'auto',
      probe: async (names) => names.map((name) => ({ name, available: name === 'webgpu', detail: 'adapter X' })),
    });
    expect(gpu.provider).toBe('webgpu');
  });
});
