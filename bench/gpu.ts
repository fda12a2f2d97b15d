/**
 * Bench group `webgpu` (opt-in: `npm run bench -- --only webgpu`): the PtychoPINN train step
 * (reference configuration, N = 64) on the WebGPU provider at gridsize 1 and 2, batch 16 and
 * 64, with the bytes copied between host and device per step. On a software Vulkan adapter
 * (Mesa lavapipe) the rows are a smoke number, labelled so, at batch 16 only.
 * Group `poolgrad` (default): the two forms of MaxPool's gradient in the same train step on
 * the CPU provider ('indices': ScatterElements on MaxPool's argmax; 'mask': the
 * first-maximum mask, the form WebGPU runs), so the CPU keeps the faster (CPU_MAX_POOL_GRAD).
 */
import { rmSync } from 'node:fs';
import type { MaxPoolGrad } from '../src/main/nn/graph';
import { loadStudyFile } from '../src/main/data/study-file';
import { prepareTrainingData } from '../src/main/pinn/dataset';
import { CPU_MAX_POOL_GRAD, createPinnTrainer } from '../src/main/pinn/pinn-trainer';
import { resolveSettings } from '../src/main/pinn/settings';
import { probeProviders } from '../src/main/nn/providers';
import { simulateTinyStudy, tinyConfig } from '../test/fixtures/trainer.fixture';
import type { BenchContext, BenchGroup } from './types';
import { median, nowSeconds } from './util';

interface StepRun {
  samplesPerS: number;
  msPerStep: number;
  hostToDevice: number;
  deviceToHost: number;
  provider: string;
}

async function trainSteps(
  train: string,
  study: Parameters<typeof tinyConfig>[0],
  o: { gridsize: 1 | 2; batch: number; accelerator: 'cpu' | 'webgpu'; pool?: MaxPoolGrad; threads: number },
  warmup: number,
  steps: number,
): Promise<StepRun> {
  const config = tinyConfig(
    study,
    study.root,
    { accelerator: o.accelerator, batch_size: o.batch, intensity_scale_trainable: false, deterministic: false },
    { N: 64, n_filters_scale: 2, gridsize: o.gridsize, probe_big: false, probe_mask: true },
  );
  const s = resolveSettings(config, { grouping_rule: 'nearest', probe_gauge: 'absolute', threads: o.threads });
  const data = prepareTrainingData(await loadStudyFile(train), s);
  const pt = await createPinnTrainer(s, data, undefined, {
    maxPoolGrad: o.pool,
    resolved: { provider: o.accelerator, detail: 'bench' },
  });
  try {
    const ids = Array.from({ length: o.batch }, (_, i) => i % data.groups.count);
    const feeds = pt.feeds(pt.batch(ids));
    for (let i = 0; i < warmup; i++) await pt.trainer.trainStep(feeds, 1e-3);
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = nowSeconds();
      await pt.trainer.trainStep(feeds, 1e-3);
      times.push(nowSeconds() - t0);
    }
    const t = median(times);
    return {
      samplesPerS: o.batch / t,
      msPerStep: t * 1000,
      ...pt.trainer.lastTransfer,
      provider: pt.trainer.provider,
    };
  } finally {
    await pt.trainer.release();
  }
}

async function runPoolGrad(ctx: BenchContext): Promise<void> {
  const study = await simulateTinyStudy({ N: 64, nPositions: 160, dose: 1e4 });
  try {
    // MaxPool's gradient on the CPU provider: both forms, same graph otherwise.
    for (const gs of [1, 2] as const) {
      const rows: Record<string, number> = {};
      for (const pool of ['indices', 'mask'] as const) {
        const r = await trainSteps(
          study.train,
          study,
          { gridsize: gs, batch: 16, accelerator: 'cpu', pool, threads: ctx.threads },
          2,
          ctx.quick ? 3 : 7,
        );
        rows[pool] = r.samplesPerS;
        ctx.report({
          name: `pinn_train_gs${gs}_b16_cpu_poolgrad_${pool}_samples_per_s`,
          value: r.samplesPerS,
          unit: 'samples/s',
          notes: `MaxPool gradient '${pool}' on the CPU provider (CPU uses '${CPU_MAX_POOL_GRAD}'), reference configuration, N=64, ${ctx.threads} threads, median step`,
        });
      }
      ctx.log(`gs${gs} CPU: mask / indices = ${(rows.mask / rows.indices).toFixed(3)}`);
    }
  } finally {
    rmSync(study.root, { recursive: true, force: true });
  }
}

async function runWebgpu(ctx: BenchContext): Promise<void> {
  const study = await simulateTinyStudy({ N: 64, nPositions: 160, dose: 1e4 });
  try {
    const [webgpu] = await probeProviders({ providers: ['webgpu'] });
    if (!webgpu.available) {
      ctx.log(`no WebGPU adapter (${webgpu.detail}): no webgpu rows`);
      return;
    }
    const label = webgpu.software
      ? 'software Vulkan (Mesa lavapipe) on the CPU: a smoke number, not a GPU speed'
      : webgpu.detail;
    // On software Vulkan a batch-16 step takes about a minute (2 cores): batch 64 is left to
    // hardware adapters (the device bundle measures it next to PyTorch CUDA).
    const small = ctx.quick || webgpu.software;
    if (webgpu.software) ctx.log('software Vulkan adapter: batch 16 only, one timed step');
    const shapes: Array<[1 | 2, number]> = small
      ? [
          [1, 16],
          [2, 16],
        ]
      : [
          [1, 16],
          [2, 16],
          [1, 64],
          [2, 64],
        ];
    for (const [gs, batch] of shapes) {
      const r = await trainSteps(
        study.train,
        study,
        { gridsize: gs, batch, accelerator: 'webgpu', threads: ctx.threads },
        webgpu.software ? 1 : 3,
        webgpu.software ? 1 : 10,
      );
      ctx.report({
        name: `pinn_train_gs${gs}_b${batch}_webgpu_samples_per_s`,
        value: r.samplesPerS,
        unit: 'samples/s',
        notes: `${label}; reference configuration, N=64, device-resident state, ${r.msPerStep.toFixed(0)} ms/step`,
      });
      ctx.report({
        name: `pinn_train_gs${gs}_b${batch}_webgpu_host_device_bytes_per_step`,
        value: r.hostToDevice + r.deviceToHost,
        unit: 'bytes',
        notes: `${r.hostToDevice} B host→device (the batch, lr, step, Adam correction), ${r.deviceToHost} B device→host (loss, gradient norm)`,
      });
    }
  } finally {
    rmSync(study.root, { recursive: true, force: true });
  }
}

export const poolGradBench: BenchGroup = {
  name: 'poolgrad',
  description: "MaxPool's gradient forms ('indices', 'mask') in the PtychoPINN train step on the CPU provider",
  run: runPoolGrad,
};

export const webgpuBench: BenchGroup = {
  name: 'webgpu',
  // Minutes on a software adapter (Mesa lavapipe on 2 cores): run it with --only webgpu.
  default: false,
  description: 'PtychoPINN train step on WebGPU (gs1/gs2, batch 16/64, bytes per step) where an adapter exists',
  run: runWebgpu,
};
