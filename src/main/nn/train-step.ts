/**
 * The train-step graph: (parameters, optimizer state, step, lr, batch…) →
 * (loss, new parameters, new state, extras…), one ORT session call per step. Also the
 * forward-only evaluation graph (parameters as inputs, so it follows training without a
 * rebuild) and the inference export (parameters as initializers → model.onnx bytes).
 */
import { gradients } from './autodiff';
import type { FloatArray, Graph, ParamTensor, Tensor } from './graph';
import { numel } from './graph';
import { add, div, greater, mul, reduceSum, sqrt, where } from './ops-basic';
import type { Optimizer } from './optim';
import { concat, reshape, slice } from './ops-shape';

/** Names the train-step graph uses for its inputs and outputs. */
export const stepNames = {
  lr: 'optim.lr',
  step: 'optim.step',
  hostScalar: (name: string) => `optim.${name}`,
  loss: 'loss',
  gradNorm: 'grad_norm',
  slot: (slot: string, param: string) => `${slot}:${param}`,
  newParam: (param: string) => `new:${param}`,
  newSlot: (slot: string, param: string) => `new:${slot}:${param}`,
  grad: (param: string) => `grad:${param}`,
} as const;

export interface TrainStepSpec {
  /** A scalar loss built from the graph's parameters and inputs. */
  loss: Tensor;
  optimizer: Optimizer;
  /** Parameters to train; default: every parameter of the graph. Others stay fixed. */
  params?: readonly ParamTensor[];
  /** Forward outputs returned by each step and by evaluate (e.g. predictions), by name. */
  extras?: Readonly<Record<string, Tensor>>;
  /**
   * Clip the global gradient norm to this value before the update (Keras' global_clipnorm);
   * the pre-clip norm is a step output either way.
   */
  clipGradNorm?: number;
  /**
   * Output the global gradient norm (default true; the training curves plot it). Off only to
   * measure what it costs: without clipping the graph then computes no norm at all.
   */
  gradNorm?: boolean;
  /**
   * Run the optimizer (and the gradient norm) once over all parameters concatenated, then
   * slice the new values back: ~100 kernels a step instead of ~15 per parameter tensor. The
   * state keeps its per-parameter names and shapes. For GPU providers, which pay a launch
   * per kernel; the CPU provider pays the concatenation and slicing copies instead.
   */
  fuseOptimizer?: boolean;
  /**
   * The step graph stops at the gradients (outputs `loss`, `grad:<param>` and the extras):
   * the optimizer, the gradient norm and the clipping run on the host, over the gradients
   * of several data-parallel replicas summed (replicas.ts).
   */
  hostOptimizer?: boolean;
}

export interface TrainStepModel {
  readonly graph: Graph;
  readonly optimizer: Optimizer;
  /** Trained parameters, in order. */
  readonly params: readonly ParamTensor[];
  /** Parameters not trained (fed as constants-by-input at their initial values). */
  readonly frozen: readonly ParamTensor[];
  /** Fed inputs other than the optimizer's (name, dtype, shape). */
  readonly batchInputs: readonly Tensor[];
  readonly extraNames: readonly string[];
  readonly loss: Tensor;
  readonly extras: Readonly<Record<string, Tensor>>;
  /**
   * Serialised ONNX: one training step; with `hostOptimizer`, the loss, the gradients and
   * the extras of one (the update is the host's).
   */
  readonly trainModel: Uint8Array;
  /** The optimizer, the gradient norm and the clipping are left to the host (TrainStepSpec.hostOptimizer). */
  readonly hostOptimizer: boolean;
  /** Global gradient-norm clipping (TrainStepSpec.clipGradNorm), for a host optimizer. */
  readonly clipGradNorm?: number;
  /** Serialised ONNX: loss + extras from parameters and a batch (no gradients). */
  readonly evalModel: Uint8Array;
}

/**
 * Differentiate `loss`, append the optimizer, and serialise both graphs. Call once per
 * graph (it adds the optimizer inputs to it).
 */
export function buildTrainStep(spec: TrainStepSpec): TrainStepModel {
  const g = spec.loss.graph;
  const params = [...(spec.params ?? g.params)];
  const trained = new Set(params.map((p) => p.name));
  const frozen = g.params.filter((p) => !trained.has(p.name));
  const extras = { ...(spec.extras ?? {}) };
  const batchInputs = [...g.inputs];
  for (const name of Object.keys(extras)) {
    if (name === stepNames.loss || name === stepNames.gradNorm || name.startsWith('new:') || name.startsWith('grad:'))
      throw new Error(`train step: extra output name '${name}'`);
  }

  let grads = gradients(spec.loss, params);
  // The model around the step graph's outputs (the same evaluation graph either way).
  const model = (outputs: Record<string, Tensor>, name: string, docString: string): TrainStepModel => ({
    graph: g,
    optimizer: spec.optimizer,
    params,
    frozen,
    batchInputs,
    extraNames: Object.keys(extras),
    loss: spec.loss,
    extras,
    trainModel: g.toModel({ outputs: { ...outputs, ...extras }, name, docString }),
    evalModel: g.toModel({ outputs: { [stepNames.loss]: spec.loss, ...extras }, name: 'evaluate' }),
    hostOptimizer: spec.hostOptimizer === true,
    clipGradNorm: spec.clipGradNorm,
  });
  if (spec.hostOptimizer) {
    const outputs: Record<string, Tensor> = { [stepNames.loss]: spec.loss };
    params.forEach((p, i) => {
      outputs[stepNames.grad(p.name)] = grads[i];
    });
    return model(outputs, 'gradients', `gradients for a host ${spec.optimizer.name}`);
  }
  const fused = spec.fuseOptimizer === true && params.length > 1;
  const flat = (ts: readonly Tensor[]) =>
    concat(
      ts.map((t) => reshape(t, [numel(t.shape)])),
      0,
    );
  const gFlat = fused ? flat(grads) : null;
  const withNorm = spec.gradNorm !== false || spec.clipGradNorm !== undefined;
  const norm = !withNorm
    ? null
    : gFlat
      ? sqrt(reduceSum(mul(gFlat, gFlat)))
      : sqrt(grads.map((t) => reduceSum(mul(t, t))).reduce((a, b) => add(a, b)));
  let scale: Tensor | null = null;
  if (spec.clipGradNorm !== undefined && norm) {
    // scale = clip / max(norm, clip): 1 below the threshold, shrinking above it.
    scale = div(spec.clipGradNorm, where(greater(norm, spec.clipGradNorm), norm, spec.clipGradNorm));
    if (!gFlat) grads = grads.map((t) => mul(t, scale!));
  }
  const lr = g.input(stepNames.lr, [], g.float);
  const step = g.input(stepNames.step, [], g.float);
  const host = Object.fromEntries(
    Object.keys(spec.optimizer.hostScalars?.(1) ?? {}).map((k) => [k, g.input(stepNames.hostScalar(k), [], g.float)]),
  );
  const update = spec.optimizer.begin(lr, step, host);
  const outputs: Record<string, Tensor> = { [stepNames.loss]: spec.loss };
  if (norm && spec.gradNorm !== false) outputs[stepNames.gradNorm] = norm;
  const slotInputs = params.map((p) =>
    spec.optimizer.slots.map((s) => g.input(stepNames.slot(s, p.name), p.shape, p.dtype)),
  );
  if (gFlat) {
    const r = update(
      flat(params),
      scale ? mul(gFlat, scale) : gFlat,
      spec.optimizer.slots.map((_, k) => flat(slotInputs.map((s) => s[k]))),
    );
    let at = 0;
    params.forEach((p) => {
      const n = numel(p.shape);
      const part = (t: Tensor) => reshape(slice(t, [at], [at + n], [0]), p.shape);
      outputs[stepNames.newParam(p.name)] = part(r.param);
      spec.optimizer.slots.forEach((s, k) => {
        outputs[stepNames.newSlot(s, p.name)] = part(r.slots[k]);
      });
      at += n;
    });
  } else {
    params.forEach((p, i) => {
      const r = update(p, grads[i], slotInputs[i]);
      outputs[stepNames.newParam(p.name)] = r.param;
      spec.optimizer.slots.forEach((s, k) => {
        outputs[stepNames.newSlot(s, p.name)] = r.slots[k];
      });
    });
  }
  return model(outputs, 'train_step', `optimizer ${spec.optimizer.name}`);
}

/**
 * Forward-only model with the parameters baked in as initializers: what `model.onnx`
 * holds. Any onnxruntime can run it (inputs = the graph inputs the outputs depend on).
 */
export function exportInference(
  graph: Graph,
  outputs: Readonly<Record<string, Tensor>>,
  paramValues: ReadonlyMap<string, FloatArray>,
  docString = 'ptycho-study inference graph',
): Uint8Array {
  return graph.toModel({
    outputs: { ...outputs },
    paramsAsInitializers: true,
    paramValues,
    name: 'inference',
    docString,
  });
}
