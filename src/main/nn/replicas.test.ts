/**
 * Data-parallel replicas (replicas.ts): R worker threads, each with the gradient graph on
 * 1/R of the batch, and the update on the host, train the same model as one train-step
 * session on the whole batch, to float rounding.
 */
import { describe, expect, it } from 'vitest';
import * as nn from './index';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFixture } from '../../../test/helpers/bundle-fixture';
import { createOptimizedCache, type OptimizedCache } from './optimized-cache';
import { cpuModel } from './session';
import { createSessionCache, type SessionCache } from './session-cache';

/** conv → relu → pool → conv → upsample on a batch of B, with a mean-squared loss. */
function smallCnn(B: number, seed = 5) {
  const g = new nn.Graph();
  const rng = nn.createRng(seed);
  const x = g.input('x', [B, 1, 8, 8]);
  const t = g.input('target', [B, 1, 8, 8]);
  const w1 = g.param('c1.w', [4, 1, 3, 3], nn.glorotUniform([4, 1, 3, 3], rng));
  const b1 = g.param('c1.b', [4], nn.zeros([4]));
  const w2 = g.param('c2.w', [1, 4, 3, 3], nn.glorotUniform([1, 4, 3, 3], rng));
  const b2 = g.param('c2.b', [1], nn.zeros([1]));
  const h = nn.conv(nn.maxPool(nn.relu(nn.conv(x, w1, b1, { pads: 'same' }))), w2, b2, { pads: 'same' });
  const pred = nn.upsampleNearest(h, 2);
  return { loss: nn.mse(pred, t), pred };
}

function batches(B: number, count: number) {
  const rng = nn.createRng(9);
  return Array.from({ length: count }, () => ({
    x: Float32Array.from({ length: B * 64 }, () => rng.uniform(0, 1)),
    target: Float32Array.from({ length: B * 64 }, () => rng.uniform(-0.5, 0.5)),
  }));
}

const B = 4;

async function single(optimizer: nn.Optimizer, clipGradNorm?: number) {
  const { loss, pred } = smallCnn(B);
  const model = nn.buildTrainStep({ loss, optimizer, clipGradNorm, extras: { pred } });
  return nn.Trainer.create(model, { accelerator: 'cpu', deterministic: true, threads: 1 });
}

async function replicated(optimizer: nn.Optimizer, replicas: number, clipGradNorm?: number, sessions?: SessionCache) {
  const { loss, pred } = smallCnn(B / replicas);
  const model = nn.buildTrainStep({ loss, optimizer, clipGradNorm, extras: { pred }, hostOptimizer: true });
  return nn.Trainer.create(model, { accelerator: 'cpu', threads: replicas, replicas, sessions });
}

async function steps(trainer: nn.Trainer, data: ReturnType<typeof batches>, n: number, lr = 1e-2) {
  const out: { loss: number; gradNorm: number }[] = [];
  for (let s = 0; s < n; s++) out.push(await trainer.trainStep(data[s % data.length], lr));
  return out;
}

function expectClose(a: readonly number[], b: readonly number[], rel: number) {
  expect(b.length).toBe(a.length);
  const scale = Math.max(...a.map(Math.abs));
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(rel * scale);
}

describe('data-parallel replicas', () => {
  it.each([
    ['Adam', () => nn.adam(), undefined],
    ['Adam with the gradient norm clipped', () => nn.adam(), 0.01],
    ['SGD with momentum', () => nn.sgd({ momentum: 0.9 }), undefined],
  ] as const)(
    'train as one session does: %s',
    async (_name, optimizer, clip) => {
      const data = batches(B, 6);
      const one = await single(optimizer(), clip);
      const two = await replicated(optimizer(), 2, clip);
      try {
        expect(two.replicaCount).toBe(2);
        expect(two.providerDetail).toMatch(/2 data-parallel replicas × 1 thread/);
        const a = await steps(one, data, 25);
        const b = await steps(two, data, 25);
        expectClose(
          a.map((r) => r.loss),
          b.map((r) => r.loss),
          1e-5,
        );
        expectClose(
          a.map((r) => r.gradNorm),
          b.map((r) => r.gradNorm),
          1e-5,
        );
        // the loss moved: a step that updated nothing would fail the comparison above
        expect(a[24].loss).toBeLessThan(a[0].loss * 0.9);
        // clipping was active (the norm is reported before it)
        if (clip !== undefined) expect(b.filter((r) => r.gradNorm > clip).length).toBeGreaterThanOrEqual(10);
        const pa = one.parameters();
        const pb = two.parameters();
        for (const [name, v] of pa) expectClose([...v], [...pb.get(name)!], 1e-5);
        // evaluation and the extras (joined along the batch) agree too
        const ea = await one.evaluate(data[0]);
        const eb = await two.evaluate(data[0]);
        expect(Math.abs(eb.loss - ea.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(ea.loss));
        expect(eb.extras.pred.dims).toEqual(ea.extras.pred.dims);
        expectClose([...(ea.extras.pred.data as Float32Array)], [...(eb.extras.pred.data as Float32Array)], 1e-5);
      } finally {
        await one.release();
        await two.release();
      }
    },
    60_000,
  );

  it('a restored state trains on exactly as before, and the state is the parameters and slots', async () => {
    const data = batches(B, 6);
    const a = await replicated(nn.adam(), 2);
    const b = await replicated(nn.adam(), 2);
    try {
      await steps(a, data, 5);
      const saved = a.getState();
      expect([...saved.slots.keys()].sort()).toEqual(
        ['c1.b', 'c1.w', 'c2.b', 'c2.w'].flatMap((p) => [`m:${p}`, `v:${p}`]).sort(),
      );
      expect(saved.step).toBe(5);
      const after = (await steps(a, data, 5)).map((r) => r.loss);
      b.setState(saved);
      expect(b.step).toBe(5);
      expect((await steps(b, data, 5)).map((r) => r.loss)).toEqual(after);
      // a forward pass on its own session sees the trained parameters
      const { pred } = smallCnn(B);
      const f = await b.forward({ pred }, data[0]);
      const e = await b.evaluate(data[0]);
      expect([...(f.pred.data as Float32Array)]).toEqual([...(e.extras.pred.data as Float32Array)]);
    } finally {
      await a.release();
      await b.release();
    }
  }, 60_000);

  it("a worker's next job trains on the kept replicas, from the new job's start", async () => {
    const data = batches(B, 6);
    const cache = createSessionCache();
    try {
      const runs: number[][] = [];
      for (let job = 0; job < 3; job++) {
        cache.beginJob();
        // two trainers at once in the last job: the second gets replicas of its own
        const t = await replicated(nn.adam(), 2, undefined, cache);
        const other = job === 2 ? await replicated(nn.adam(), 2, undefined, cache) : null;
        try {
          runs.push((await steps(t, data, 4)).map((r) => r.loss));
          if (other) expect((await steps(other, data, 4)).map((r) => r.loss)).toEqual(runs[0]);
        } finally {
          await t.release();
          await other?.release();
        }
      }
      expect(cache.stats()).toMatchObject({ created: 2, reused: 6, kept: 1 }); // (two graphs each)
      expect(runs[1]).toEqual(runs[0]);
      expect(runs[2]).toEqual(runs[0]);
    } finally {
      await cache.release();
    }
  }, 60_000);

  it("a later process's replicas load the graphs the first one optimised; a broken file is optimised again", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-opt-'));
    const data = batches(B, 6);
    // one SessionCache per "process", over the same folder
    const run = async () => {
      const optimized = createOptimizedCache(dir);
      const cache = createSessionCache(optimized.create, optimized.loaded, optimized);
      cache.beginJob();
      const t = await replicated(nn.adam(), 2, undefined, cache);
      try {
        return { losses: (await steps(t, data, 4)).map((r) => r.loss), loaded: cache.stats().loaded };
      } finally {
        await t.release();
        await cache.release();
      }
    };
    try {
      const first = await run();
      expect(first.loaded).toBe(0);
      const files = readdirSync(dir);
      expect(files.filter((f) => f.endsWith('.ort.onnx'))).toHaveLength(2); // the gradient and evaluation graphs
      expect(files.filter((f) => f.endsWith('.tmp'))).toHaveLength(0);
      const second = await run();
      expect(second.loaded).toBe(2);
      expect(second.losses).toEqual(first.losses);
      for (const f of files) writeFileSync(join(dir, f), 'not a model');
      const third = await run();
      expect(third.loaded).toBe(0);
      expect(third.losses).toEqual(first.losses);
      expect((await run()).loaded).toBe(2); // rewritten whole
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('idle replicas never keep the process alive: one that never releases its trainer still exits', async () => {
    // bundled inside the checkout, where onnxruntime-node resolves
    const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../out/test-fixtures');
    mkdirSync(dir, { recursive: true });
    const script = await bundleFixture('replicas-child', join(dir, `replicas-child-${process.pid}.mjs`), [
      'onnxruntime-node',
    ]);
    try {
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await new Promise<number | null | 'hung'>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve('hung');
        }, 30_000);
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(code).toBe(0);
      expect(out).toMatch(/^loss \S+\nloss \S+\nreplicas 2\n$/);
    } finally {
      rmSync(script, { force: true });
    }
  }, 60_000);

  it('where the optimised graphs cannot be saved (a full disk), the replicas train without keeping them', async () => {
    const data = batches(B, 6);
    const discarded: string[] = [];
    const optimized: OptimizedCache = {
      create: () => Promise.reject(new Error('not used')),
      loaded: () => 0,
      prepare: async (m, spec) => ({
        bytes: await cpuModel(m, spec),
        preOptimized: false,
        saveTo: '/nonexistent-folder/graph.tmp', // unwritable
        commit: () => {
          throw new Error('commit after a failed save');
        },
        discard: () => discarded.push('x'),
      }),
    };
    const cache = createSessionCache(optimized.create, optimized.loaded, optimized);
    cache.beginJob();
    const t = await replicated(nn.adam(), 2, undefined, cache);
    const ref = await replicated(nn.adam(), 2);
    try {
      expect(discarded).toHaveLength(2);
      expect((await steps(t, data, 3)).map((r) => r.loss)).toEqual((await steps(ref, data, 3)).map((r) => r.loss));
    } finally {
      await t.release();
      await ref.release();
      await cache.release();
    }
  }, 60_000);

  it('a batch that does not split into the replicas is refused, naming the input', async () => {
    const t = await replicated(nn.adam(), 2);
    try {
      const bad = { x: new Float32Array(3 * 64), target: new Float32Array(B * 64) };
      await expect(t.trainStep(bad, 1e-2)).rejects.toThrow(/input 'x' has 192 values, expected 2 × \[2,1,8,8\]/);
      await expect(t.trainStep({ x: new Float32Array(B * 64) }, 1e-2)).rejects.toThrow(/lacks input 'target'/);
      // the trainer is still usable
      expect(Number.isFinite((await t.trainStep(batches(B, 1)[0], 1e-2)).loss)).toBe(true);
    } finally {
      await t.release();
    }
  }, 60_000);

  it('a replica that dies is an error naming it, not a hang', async () => {
    const t = await replicated(nn.adam(), 2);
    try {
      const workers = (t as unknown as { replicas: { workers: { terminate(): Promise<number> }[] } }).replicas.workers;
      await workers[1].terminate();
      await expect(t.trainStep(batches(B, 1)[0], 1e-2)).rejects.toThrow(/training replica 2 exited/);
    } finally {
      await t.release();
    }
  }, 60_000);
});
