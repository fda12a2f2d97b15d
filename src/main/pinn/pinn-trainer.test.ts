import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ReplicaGroup } from '../nn/replicas';
import { loadStudyFile } from '../data/study-file';
import { providerRunError } from '../nn/trainer';
import { simulateTinyStudy, type TinyStudy, tinyConfig } from '../../../test/fixtures/trainer.fixture';
import { prepareTrainingData } from './dataset';
import { convWeightGradFor, cpuReplicasFor, createPinnTrainer, fusedOptimizerFor } from './pinn-trainer';
import { resolveSettings } from './settings';

let study: TinyStudy;
beforeAll(async () => {
  study = await simulateTinyStudy({ N: 32, nPositions: 24 });
}, 60_000);
afterAll(() => {
  if (study) rmSync(study.root, { recursive: true, force: true });
});

async function settings(accelerator: 'auto' | 'cuda') {
  const s = resolveSettings(tinyConfig(study, study.root, { accelerator, batch_size: 2 }), { threads: 1 });
  return { s, data: prepareTrainingData(await loadStudyFile(study.train), s) };
}

describe('a GPU provider that fails when the job starts', () => {
  it('auto falls back to the CPU for that job with a notice naming the provider and why', async () => {
    const { s, data } = await settings('auto');
    const notices: string[] = [];
    // The probe said cuda works; creating its session fails here (no CUDA libraries).
    const pt = await createPinnTrainer(s, data, (m) => notices.push(m), {
      resolved: { provider: 'cuda', detail: 'auto: probe ran' },
    });
    try {
      expect(pt.trainer.provider).toBe('cpu');
      expect(pt.trainer.providerDetail).toMatch(/auto fallback: cuda failed when the job started/);
      expect(notices.join('\n')).toMatch(/auto: cuda failed when the job started \(.*cuda.*\); training on CPU/);
      const r = await pt.trainer.trainStep(pt.feeds(pt.batch([0, 1])), 1e-3);
      expect(Number.isFinite(r.loss)).toBe(true);
    } finally {
      await pt.trainer.release();
    }
  });

  it('an explicit provider fails with one line naming it', async () => {
    const { s, data } = await settings('cuda');
    const err = await createPinnTrainer(s, data, undefined, {
      resolved: { provider: 'cuda', detail: 'requested' },
    }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(err?.message).toMatch(/^execution provider 'cuda' is unavailable: \S/);
    expect(err?.message).not.toContain('\n');
  });

  it("a provider's run error names the provider and the op in one line", () => {
    const raw =
      "Non-zero status code returned while running MaxPool node. Name:'MaxPool_12' Status Message: /onnxruntime_src/onnxruntime/core/providers/webgpu/nn/pool.cc:276 ComputeInternal The Indices output is not supported yet\nstack…";
    const e = providerRunError('webgpu', raw);
    expect(e.code).toBe('PROVIDER_UNAVAILABLE');
    expect(e.message).toBe(
      "execution provider 'webgpu' failed running MaxPool (node MaxPool_12): ComputeInternal The Indices output is not supported yet",
    );
  });
});

describe('the Conv weight-gradient form by provider', () => {
  it('per-tap products on the CPU, gy transposed once per conv on a GPU, overridable by name', () => {
    expect(convWeightGradFor('cpu', undefined)).toBe('taps');
    expect(convWeightGradFor('webgpu', undefined)).toBe('taps-t');
    expect(convWeightGradFor('cpu', 'unfold')).toBe('unfold');
    expect(() => convWeightGradFor('webgpu', 'tap')).toThrow(
      /PTYCHO_CONV_WEIGHT_GRAD: expected taps, taps-t or unfold, found 'tap'/,
    );
  });

  it('the GPU forms launch far fewer kernels than per-tap products, and train to the same loss', async () => {
    const { s, data } = await settings('auto');
    const built = [];
    for (const form of ['taps', 'taps-t', 'unfold'] as const) {
      const pt = await createPinnTrainer(s, data, undefined, {
        resolved: { provider: 'cpu', detail: 'test' },
        convWeightGrad: form,
      });
      try {
        const count = (op: string) => pt.trainer.model.graph.nodes.filter((n) => n.opType === op).length;
        const losses: number[] = [];
        const feeds = pt.feeds(pt.batch([0, 1]));
        for (let i = 0; i < 3; i++) losses.push((await pt.trainer.trainStep(feeds, 1e-3)).loss);
        built.push({ matmul: count('MatMul'), transpose: count('Transpose'), losses });
      } finally {
        await pt.trainer.release();
      }
    }
    const [taps, tapsT, unfold] = built;
    // (N = 32, both gridsizes' layers: 329 → 209 products, 168 → 91 transposes)
    expect(tapsT.transpose).toBeLessThan(taps.transpose * 0.6);
    expect(tapsT.matmul).toBeLessThan(taps.matmul * 0.7);
    expect(unfold.matmul).toBeLessThan(taps.matmul / 3);
    for (const other of [tapsT, unfold])
      for (let i = 0; i < 3; i++) expect(other.losses[i]).toBeCloseTo(taps.losses[i], 4);
  });
});

describe('the fused optimizer by provider', () => {
  it('on GPU providers only, overridable by name', () => {
    expect(fusedOptimizerFor('cpu', undefined)).toBe(false);
    expect(fusedOptimizerFor('webgpu', undefined)).toBe(true);
    expect(fusedOptimizerFor('cpu', '1')).toBe(true);
    expect(() => fusedOptimizerFor('webgpu', 'yes')).toThrow(/PTYCHO_FUSED_OPTIMIZER: expected 0 or 1, found 'yes'/);
  });
});

describe('data-parallel replicas on the CPU', () => {
  it('two with two threads or more and an even batch, one when repeatable bits are asked for; overridable', () => {
    const s = { threads: 2, batchSize: 16, deterministic: false };
    expect(cpuReplicasFor(s, undefined)).toBe(2);
    expect(cpuReplicasFor({ ...s, threads: 8 }, undefined)).toBe(2);
    expect(cpuReplicasFor({ ...s, threads: 1 }, undefined)).toBe(1);
    expect(cpuReplicasFor({ ...s, batchSize: 15 }, undefined)).toBe(1);
    expect(cpuReplicasFor({ ...s, deterministic: true }, undefined)).toBe(1);
    expect(cpuReplicasFor(s, '4')).toBe(4);
    expect(() => cpuReplicasFor(s, '3')).toThrow(
      /PTYCHO_REPLICAS: expected a whole number ≥ 1 that divides the batch size 16, found '3'/,
    );
    expect(() => cpuReplicasFor(s, 'two')).toThrow(/PTYCHO_REPLICAS/);
  });

  it.each([1, 2] as const)(
    'gridsize %i: two replicas train PtychoPINN as one session does',
    async (gridsize) => {
      const s = resolveSettings(tinyConfig(study, study.root, { batch_size: 4 }, { gridsize }), { threads: 2 });
      const data = prepareTrainingData(await loadStudyFile(study.train), s);
      const runs: { losses: number[]; norms: number[]; detail: string }[] = [];
      for (const replicas of [1, 2]) {
        const pt = await createPinnTrainer(s, data, undefined, { replicas });
        try {
          const losses: number[] = [];
          const norms: number[] = [];
          for (let i = 0; i < 6; i++) {
            const ids = [0, 1, 2, 3].slice(0, 3 + (i % 2)).map((k) => (3 * i + k) % data.groups.count);
            const r = await pt.trainer.trainStep(pt.feeds(pt.batch(ids)), 1e-3);
            losses.push(r.loss);
            norms.push(r.gradNorm);
          }
          runs.push({ losses, norms, detail: pt.trainer.providerDetail });
        } finally {
          await pt.trainer.release();
        }
      }
      expect(runs[1].detail).toMatch(/2 data-parallel replicas × 1 thread/);
      expect(runs[0].detail).not.toMatch(/replica/);
      // The first step (the same parameters) to float32 rounding. Later steps drift further:
      // Adam moves every parameter by ≈ ±lr whatever its gradient's size, so a gradient near
      // zero whose sign the rounding flips moves by 2·lr; the update itself is checked to 1e-5
      // in replicas.test.ts.
      expect(Math.abs(runs[1].losses[0] - runs[0].losses[0])).toBeLessThan(1e-6 * Math.abs(runs[0].losses[0]));
      expect(Math.abs(runs[1].norms[0] - runs[0].norms[0])).toBeLessThan(1e-5 * runs[0].norms[0]);
      for (let i = 1; i < 6; i++)
        expect(Math.abs(runs[1].losses[i] - runs[0].losses[i])).toBeLessThan(1e-3 * Math.abs(runs[0].losses[i]));
      expect(runs[0].losses.every(Number.isFinite)).toBe(true);
      expect(runs[0].losses[5]).not.toBe(runs[0].losses[0]);
    },
    120_000,
  );

  it('where the replicas cannot start, the job trains on one session with a notice saying why', async () => {
    const s = resolveSettings(tinyConfig(study, study.root, { batch_size: 4 }), { threads: 2 });
    const data = prepareTrainingData(await loadStudyFile(study.train), s);
    const start = vi.spyOn(ReplicaGroup, 'start').mockRejectedValue(new Error('no worker threads in this host'));
    const notices: string[] = [];
    try {
      const pt = await createPinnTrainer(s, data, (m) => notices.push(m), { replicas: 2 });
      try {
        expect(start).toHaveBeenCalled();
        expect(pt.trainer.replicaCount).toBe(1);
        expect(notices).toEqual([
          'data-parallel replicas could not start (no worker threads in this host); training on one session',
        ]);
        const r = await pt.trainer.trainStep(pt.feeds(pt.batch([0, 1, 2, 3])), 1e-3);
        expect(Number.isFinite(r.loss)).toBe(true);
      } finally {
        await pt.trainer.release();
      }
    } finally {
      start.mockRestore();
    }
  });
});
