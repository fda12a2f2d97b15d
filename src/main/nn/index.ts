/**
 * nn — the training engine: an ONNX graph builder with reverse-mode autodiff, optimizers
 * as graph ops, and a runtime that trains on onnxruntime-node.
 *
 * API guide
 * ---------
 *   import * as nn from '../nn';
 *   const g = new nn.Graph();                          // float32 (new Graph('float64') for checks)
 *   const rng = nn.createRng(seed);
 *   const x = g.input('x', [B, 1, 64, 64]);            // fed per step (name → Batch key)
 *   const w = g.param('enc1.w', [64, 1, 3, 3], nn.glorotUniform([64, 1, 3, 3], rng));
 *   const b = g.param('enc1.b', [64], nn.zeros([64]));
 *   let h = nn.relu(nn.conv(x, w, b, { pads: 'same' }));
 *   h = nn.maxPool(h);                                 // 2×2 stride 2
 *   h = nn.upsampleNearest(h, 2);
 *   const loss = nn.reduceMean(nn.square(nn.sub(h, target)));   // any scalar
 *   const model = nn.buildTrainStep({ loss, optimizer: nn.adam(), extras: { pred: h } });
 *   const trainer = await nn.Trainer.create(model, { accelerator: 'auto', threads: 2, onNotice: log });
 *   const { loss: l, gradNorm, extras } = await trainer.trainStep({ x: Float32Array, … }, 1e-3);
 *   // buildTrainStep({ …, clipGradNorm: 1 }) clips the global gradient norm (Keras global_clipnorm);
 *   // { fuseOptimizer: true } runs the optimizer once over all parameters (fewer kernels: GPUs).
 *   const v = await trainer.evaluate(batch);            // loss + extras, no update
 *   await trainer.save(path); await trainer.load(path); // params + Adam state, atomic
 *   const onnxBytes = trainer.exportInference({ pred: h }); // model.onnx, params baked in
 *
 * Ops (src/main/nn/ops-*.ts): conv, maxPool, upsampleNearest, matmul (batched, broadcast),
 * gemm, add/sub/mul/div/pow (numpy broadcasting; numbers become constants), neg, abs,
 * sqrt, exp, log, sin, cos, square, relu, sigmoid, tanh, softplus, silu/swish, where,
 * greater, reduceSum, reduceMean, mse, stopGradient, reshape, transpose, slice (steps ±1…),
 * flip, pad, concat, split, expand, unsqueeze, squeeze, sumTo. Complex (complex.ts):
 * {re, im} pairs, cmul, cadd, cscale, cabs/cabs2, polar, dft2 (numpy fft2; shift /
 * inverse options folded into the matrices), fftshift2. Constants: g.constant(data, shape),
 * g.scalar(v). Per-sample interpolation matrices (sub-pixel shifts) are batch inputs used
 * with matmul: Sy·X·Sxᵀ.
 *
 * Shapes are static; every op checks them at build time and throws with the shapes.
 * gradients(loss, wrt) is available directly (autodiff.ts). compileGraph(g, outputs)
 * runs any forward sub-graph (run.ts). Adam uses Keras' formulation and ε = 1e-7 (the
 * model reproduced trains with Keras' Adam); lr and step are graph inputs, so schedules
 * (ReduceLROnPlateau) just pass another lr. Accelerators: resolveProvider / Trainer.create
 * take 'auto' | 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml'; an explicit unavailable one
 * throws StudyError('PROVIDER_UNAVAILABLE'). deterministic: true (threads fixed, default 1)
 * makes CPU runs bit-identical (checked at 1 and 2 threads). On webgpu the Trainer keeps
 * params/moments in GPU buffers (deviceResidentState, default on there; only the batch goes
 * up and the loss comes down, `lastTransfer` counts the bytes) — `await
 * trainer.syncToHost()` before parameters()/getState(). Adam's bias correction is fed from
 * the host (float64). MaxPool's gradient: graph.maxPoolGrad 'mask' (every provider) or
 * 'indices' (CPU only).
 * conv(…, { weightGrad }) or graph.convWeightGrad picks the weight-gradient form: 'taps'
 * (the CPU's), 'taps-t' (GPU providers') or 'unfold' (kept for measuring; lost on an H200).
 */
export * from './graph';
export * from './ops-basic';
export * from './ops-shape';
export * from './ops-nn';
export * from './complex';
export { gradients } from './autodiff';
export { adam, sgd, type Optimizer, type AdamOptions, type SgdOptions } from './optim';
export { buildTrainStep, exportInference, stepNames, type TrainStepModel, type TrainStepSpec } from './train-step';
export { Trainer, type Batch, type StepResult, type TrainerOptions } from './trainer';
export {
  ACCELERATORS,
  createSession,
  resolveProvider,
  sessionOptions,
  type Accelerator,
  type EngineOptions,
  type ResolvedProvider,
} from './session';
export { compileGraph, type CompiledGraph, type Feeds } from './run';
export { fans, filled, glorotUniform, heNormal, heUniform, zeros } from './init';
export { type Rng, weightInitRng as createRng } from '../numeric/rng';
export { decodeState, encodeState, loadState, saveState, type NamedArray, type TrainingState } from './checkpoint';
export { attr, node, OPSET, serializeModel, tensor, valueInfo, type ElemType } from './proto';
