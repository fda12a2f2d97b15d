/**
 * Optimizers as graph ops, so one session call runs forward, backward and update. The
 * learning rate and the step count are graph inputs: schedules need no rebuild.
 */
import type { Tensor } from './graph';
import { add, div, mul, sqrt, sub } from './ops-basic';

export type ParamUpdate = (param: Tensor, grad: Tensor, slots: readonly Tensor[]) => { param: Tensor; slots: Tensor[] };

export interface Optimizer {
  readonly name: 'adam' | 'sgd';
  /** Per-parameter state tensors (same shape as the parameter), e.g. ['m', 'v']. */
  readonly slots: readonly string[];
  /** Hyper-parameters as used, for the manifest and checkpoints. */
  readonly config: Readonly<Record<string, number>>;
  /**
   * `lr` and `step` are scalar graph inputs; `step` counts updates from 1. `host` holds one
   * scalar input per name of `hostScalars`.
   */
  begin(lr: Tensor, step: Tensor, host: Readonly<Record<string, Tensor>>): ParamUpdate;
  /**
   * Scalars computed on the host in float64 for update t (fed as inputs 'optim.<name>'):
   * values whose float32 device computation would not be accurate enough.
   */
  hostScalars?(t: number): Readonly<Record<string, number>>;
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  /** Default 1e-7, Keras' value: the model being reproduced trains with Keras' Adam. */
  epsilon?: number;
}

/**
 * Adam in Keras' formulation (the one PtychoPINN's TensorFlow code uses):
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
 *   p ← p − α·m / (√v + ε)  with  α = lr·√(1−β2ᵗ)/(1−β1ᵗ).
 * ε is added to the uncorrected √v (PyTorch adds its 1e-8 to the corrected one); with
 * Keras' 1e-7 the two agree except where √v is tiny. The bias correction
 * √(1−β2ᵗ)/(1−β1ᵗ) is computed on the host in float64 and fed as 'optim.adam_correction':
 * a float32 pow on the device (WGSL's exp2∘log2) is off by ~1e-3 in 1−β2ᵗ at t = 1, and the
 * first updates of a network are sensitive enough that such a change in step size moves the
 * parameters by percents within 20 steps (measured on PtychoPINN).
 */
export function adam(options: AdamOptions = {}): Optimizer {
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const epsilon = options.epsilon ?? 1e-7;
  return {
    name: 'adam',
    slots: ['m', 'v'],
    config: { beta1, beta2, epsilon },
    hostScalars: (t) => ({ adam_correction: Math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) }),
    begin(lr, _step, host) {
      const alpha = mul(lr, host.adam_correction);
      return (p, grad, [m, v]) => {
        const m1 = add(mul(m, beta1), mul(grad, 1 - beta1));
        const v1 = add(mul(v, beta2), mul(mul(grad, grad), 1 - beta2));
        const p1 = sub(p, div(mul(m1, alpha), add(sqrt(v1), epsilon)));
        return { param: p1, slots: [m1, v1] };
      };
    },
  };
}

export interface SgdOptions {
  /** Keras-style momentum: u ← μ·u − lr·g, p ← p + u. 0 = plain SGD (no state). */
  momentum?: number;
}

export function sgd(options: SgdOptions = {}): Optimizer {
  const momentum = options.momentum ?? 0;
  return {
    name: 'sgd',
    slots: momentum > 0 ? ['velocity'] : [],
    config: { momentum },
    begin(lr) {
      return (p, grad, slots) => {
        if (momentum === 0) return { param: sub(p, mul(grad, lr)), slots: [] };
        const u = sub(mul(slots[0], momentum), mul(grad, lr));
        return { param: add(p, u), slots: [u] };
      };
    },
  };
}
