/**
 * Bench group `nn`: training throughput of the PtychoPINN-shaped conv stack (bench/nn-net.ts)
 * on our engine (CPU, ctx.threads threads) against the same net in PyTorch on the same
 * machine, interleaved, median of 3 rounds; achieved GFLOP/s next to a rough peak (a large
 * MatMul in ORT). Where a GPU provider works (auto probe), the same net on it.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import * as nn from '../src/main/nn/index';
import { findPython } from '../src/main/util/python';
import { maxPoolGradFor } from '../src/main/pinn/pinn-trainer';
import { buildConvNet } from './nn-net';
import type { BenchContext, BenchGroup } from './types';
import { median, nowSeconds, ratio } from './util';

const SPEC = { batch: 16, n: 64, channels: 1, decoder: true, seed: 1 };

function benchDir(): string {
  // Bundled to out/bench/bench.js by scripts/bench.mjs; the Python twin stays in bench/.
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join('out', 'bench')) ? join(here, '..', '..', 'bench') : here;
}

async function peakMatmulGflops(threads: number): Promise<number> {
  const n = 1024;
  const g = new nn.Graph();
  const a = g.input('a', [n, n]);
  const b = g.input('b', [n, n]);
  const s = await nn.createSession(g.toModel({ outputs: { y: nn.matmul(a, b) } }), { provider: 'cpu', threads });
  const A = new ort.Tensor(
    'float32',
    Float32Array.from({ length: n * n }, (_, i) => (i % 7) - 3),
    [n, n],
  );
  await s.run({ a: A, b: A });
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t0 = nowSeconds();
    await s.run({ a: A, b: A });
    best = Math.min(best, nowSeconds() - t0);
  }
  await s.release();
  return (2 * n ** 3) / best / 1e9;
}

interface Ours {
  trainer: nn.Trainer;
  batch: nn.Batch;
  flops: number;
}

async function setupOurs(accelerator: nn.Accelerator, threads: number): Promise<Ours> {
  // MaxPool's gradient in the provider's own form, as a job's trainer builds it (pinn-trainer.ts)
  const resolved = await nn.resolveProvider({ accelerator, threads });
  const net = buildConvNet({ ...SPEC, maxPoolGrad: maxPoolGradFor(resolved.provider) });
  const trainer = await nn.Trainer.create(net.model, { accelerator, threads, resolved });
  const rng = nn.createRng(2);
  const x = Float32Array.from({ length: SPEC.batch * SPEC.n * SPEC.n * SPEC.channels }, () => rng.next());
  const target = Float32Array.from({ length: net.outShape.reduce((p, q) => p * q, 1) }, () => rng.next());
  const batch = { x, target };
  await trainer.trainStep(batch, 1e-3); // warm-up: allocations, first-run kernels
  return { trainer, batch, flops: net.trainFlops };
}

async function timeOurs(o: Ours, steps: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = nowSeconds();
    await o.trainer.trainStep(o.batch, 1e-3);
    times.push(nowSeconds() - t0);
  }
  return 1 / median(times);
}

function timeTorch(python: string, threads: number, torchSteps: number): number | undefined {
  const r = spawnSync(
    python,
    [join(benchDir(), 'nn_torch.py'), '--threads', String(threads), '--warmup', '1', '--steps', String(torchSteps)],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) return undefined;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(line) as { steps_per_s: number }).steps_per_s;
}

async function run(ctx: BenchContext): Promise<void> {
  const threads = ctx.threads;
  const rounds = ctx.quick ? 1 : 3;
  const steps = 3;
  const peak = await peakMatmulGflops(threads);
  ctx.report({
    name: 'nn_peak_matmul_gflops',
    value: peak,
    unit: 'GFLOP/s',
    notes: `1024³ MatMul, ${threads} threads`,
  });

  const python = findPython(['torch']);
  if (!python) ctx.log('PyTorch not found (python3-torch): no reference for the nn group');
  const ours = await setupOurs('cpu', threads);
  const oursRuns: number[] = [];
  const torchRuns: number[] = [];
  for (let r = 0; r < rounds; r++) {
    oursRuns.push(await timeOurs(ours, steps));
    if (python) {
      const t = timeTorch(python, threads, 2);
      if (t !== undefined) torchRuns.push(t);
    }
    ctx.log(
      `round ${r + 1}: ours ${oursRuns[r].toFixed(3)} steps/s${torchRuns[r] ? `, torch ${torchRuns[r].toFixed(3)}` : ''}`,
    );
  }
  await ours.trainer.release();
  const sps = median(oursRuns);
  const ref = torchRuns.length ? median(torchRuns) : undefined;
  const shape = `batch ${SPEC.batch}, N ${SPEC.n}, encoder + decoder head, ${threads} threads`;
  ctx.report({
    name: 'nn_train_steps_per_s_cpu',
    value: sps,
    unit: 'steps/s',
    reference_value: ref,
    ratio_vs_reference: ratio(sps, ref),
    notes: `${shape}; reference: PyTorch CPU`,
  });
  const gf = (sps * ours.flops) / 1e9;
  const refGf = ref !== undefined ? (ref * ours.flops) / 1e9 : undefined;
  ctx.report({
    name: 'nn_train_gflops_cpu',
    value: gf,
    unit: 'GFLOP/s',
    reference_value: refGf,
    ratio_vs_reference: ratio(gf, refGf),
    notes: `${(ours.flops / 1e9).toFixed(1)} GFLOP per step (conv forward + input + weight gradients)`,
  });
  ctx.report({ name: 'nn_train_fraction_of_peak_cpu', value: gf / peak, unit: 'ratio' });

  // A GPU provider, where one works: same net, same timing.
  const probe = await nn.resolveProvider({ accelerator: 'auto', onNotice: (m) => ctx.log(m) });
  if (probe.provider !== 'cpu') {
    const gpu = await setupOurs(probe.provider, threads);
    const runs: number[] = [];
    for (let r = 0; r < rounds; r++) runs.push(await timeOurs(gpu, steps));
    await gpu.trainer.release();
    const v = median(runs);
    ctx.report({
      name: `nn_train_steps_per_s_${probe.provider}`,
      value: v,
      unit: 'steps/s',
      reference_value: sps,
      ratio_vs_reference: ratio(v, sps),
      notes: `${probe.detail}; reference: ours on CPU`,
    });
  }
}

export const nnGroup: BenchGroup = {
  name: 'nn',
  description: 'training engine: PtychoPINN-shaped conv stack train steps/s and GFLOP/s vs PyTorch CPU',
  run,
};
