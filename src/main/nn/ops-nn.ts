/**
 * Network ops (Conv, MaxPool, nearest Resize, MatMul, Gemm), each forward builder followed
 * by its VJP rule. The Conv VJPs follow the measurements in decisions.md: the input
 * gradient is a Conv with the transposed, flipped kernel (about twice as fast as
 * ConvTranspose on ORT's CPU provider); the weight gradient is, per kernel tap, one batched
 * MatMul [B, Cout, Ho·Wo] × [B, Ho·Wo, Cin] on the NCHW tensors as they are, summed over the
 * batch (`convWeightGrad`; faster here than the per-tap Gemm on a channel-major (C, B, H, W)
 * layout that decisions.md first measured, which pays two large transposes), or an unfold
 * (`weightGrad: 'unfold'`).
 */
import { attr, tensor as protoTensor } from './proto';
import type { ConvWeightGrad, Tensor, Vjp } from './graph';
import { numel } from './graph';
import { concat, flip, pad, reshape, slice, sumTo, transpose } from './ops-shape';
import { add, greater, mul, reduceSum, where } from './ops-basic';

export interface ConvOptions {
  /** [top, left, bottom, right] (ONNX order), or 'same' for odd kernels at stride 1. */
  pads?: readonly number[] | 'same';
  strides?: readonly [number, number];
  dilations?: readonly [number, number];
  /**
   * How the weight gradient is formed: 'taps' (one batched MatMul per kernel tap), 'taps-t'
   * (the same with gy transposed once and one batch sum) or 'unfold' (a one-hot Conv
   * unfolds the input, then one batched MatMul); default the graph's `convWeightGrad`, read
   * when the gradients are built.
   */
  weightGrad?: ConvWeightGrad;
  /**
   * A conv with few outputs forms its output as a product and a shifted sum (`thinConv`,
   * default); false keeps the ONNX Conv (for comparisons).
   */
  thin?: boolean;
}

/** 2-D convolution, NCHW, weight [Cout, Cin, kh, kw], optional bias [Cout]. */
export function conv(x: Tensor, w: Tensor, b?: Tensor, options: ConvOptions = {}): Tensor {
  const [B, Cin, H, W] = x.shape;
  const [Cout, Cw, kh, kw] = w.shape;
  if (x.shape.length !== 4 || w.shape.length !== 4 || Cw !== Cin) {
    throw new Error(`conv: input [${x.shape}] and weight [${w.shape}] do not fit (NCHW, OIHW)`);
  }
  const [sh, sw] = options.strides ?? [1, 1];
  const [dh, dw] = options.dilations ?? [1, 1];
  const pads =
    options.pads === 'same'
      ? [((kh - 1) * dh) >> 1, ((kw - 1) * dw) >> 1, ((kh - 1) * dh) >> 1, ((kw - 1) * dw) >> 1]
      : [...(options.pads ?? [0, 0, 0, 0])];
  const Ho = Math.floor((H + pads[0] + pads[2] - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + pads[1] + pads[3] - dw * (kw - 1) - 1) / sw) + 1;
  const attrs = [
    attr('kernel_shape', [kh, kw], 'ints'),
    attr('pads', pads, 'ints'),
    attr('strides', [sh, sw], 'ints'),
    attr('dilations', [dh, dw], 'ints'),
  ];
  const g = x.graph;
  const vjp: Vjp = ([gy], needs) => {
    if (!gy) return [undefined, undefined, undefined];
    const gx = needs[0] ? convInputGrad(gy, w, x, pads, [sh, sw], [dh, dw]) : undefined;
    const form = options.weightGrad ?? g.convWeightGrad;
    const gw = needs[1]
      ? form === 'unfold'
        ? convWeightGradUnfold(gy, x, w, pads, [sh, sw], [dh, dw])
        : convWeightGrad(gy, x, w, pads, [sh, sw], [dh, dw], form === 'taps-t')
      : undefined;
    // Sum the contiguous spatial axes first: far faster than one reduction over (0, 2, 3).
    const gb = needs[2] ? reduceSum(reduceSum(gy, [2, 3]), [0]) : undefined;
    return [gx, gw, gb];
  };
  const plain = sh === 1 && sw === 1 && dh === 1 && dw === 1;
  const same = pads[0] === pads[2] && pads[1] === pads[3] && 2 * pads[0] === kh - 1 && 2 * pads[1] === kw - 1;
  if (options.thin !== false && plain && same && Cout <= THIN_MAX_COUT && Cin >= THIN_MIN_CIN) {
    return thinConv(x, w, b, pads, vjp);
  }
  return g.op('Conv', b ? [x, w, b] : [x, w], [{ dtype: x.dtype, shape: [B, Cout, Ho, Wo] }], attrs, vjp)[0];
}

/**
 * A 'same' conv (stride 1) with at most `THIN_MAX_COUT` outputs and at least `THIN_MIN_CIN`
 * inputs forms its output as a composite (`thinConv`); its gradients are the Conv's. Measured
 * at batch 16 (ms, Conv → composite): 256 → 1 at 16 × 16 1.9 → 0.29, at 8 × 8 0.71 → 0.14;
 * 64 → 1 at 64 × 64 3.3 → 1.8; 64 → 4 at 32 × 32 1.45 → 0.85, at 64 × 64 6.8 → 4.6; 32 → 4 at
 * 32 × 32 1.0 → 0.65. Not kept: 16 → 4 at 64 × 64 1.7 → 2.1, 64 → 8 at 64 × 64 7.2 → 7.0, and
 * from 16 outputs the NCHWc kernels (nchwc.ts) are faster (64 → 16 at 32 × 32 1.9 → 3.2).
 */
const THIN_MAX_COUT = 4;
const THIN_MIN_CIN = 32;

/**
 * conv(x, w, b) for a few output channels as one product and a shifted sum: the kh·kw taps'
 * 1×1 convs at once, Z = W·x ([kh·kw·Cout, Cin] × [B, Cin, H·W], reading x once, tap-major),
 * then y = Σ_t Z_t shifted by tap t (zero-padded). onnxruntime's CPU Conv forms these as an
 * im2col of x (kh·kw copies of it) and a thin product. The same sums in another order (float
 * rounding). The last node stands for the whole (`gradInputs`): the gradients are the Conv's
 * own `vjp`, which is faster here than the composite's would be.
 */
function thinConv(x: Tensor, w: Tensor, b: Tensor | undefined, pads: readonly number[], vjp: Vjp): Tensor {
  const [B, Cin, H, W] = x.shape;
  const [Cout, , kh, kw] = w.shape;
  const k = kh * kw;
  const g = x.graph;
  const wt = reshape(transpose(reshape(w, [Cout, Cin, k]), [2, 0, 1]), [k * Cout, Cin]);
  const z = reshape(matmul(wt, reshape(x, [B, Cin, H * W])), [B, k, Cout, H, W]);
  const zp = pad(z, [0, 0, 0, pads[0], pads[1], 0, 0, 0, pads[2], pads[3]]);
  // y[p] = Σ_t Z_t[p + (i − pᵢ, j − pⱼ)]: tap (i, j)'s window starts at (i, j) of the padded grid
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const t = i * kw + j;
      taps.push(reshape(slice(zp, [t, i, j], [t + 1, i + H, j + W], [1, 3, 4]), [B, Cout, H, W]));
    }
  }
  const last = b ? reshape(b, [1, Cout, 1, 1]) : taps.pop()!;
  let sum = taps[0];
  for (const t of taps.slice(1)) sum = add(sum, t);
  const shape = [B, Cout, H, W];
  return g.op('Add', [sum, last], [{ dtype: x.dtype, shape }], [], vjp, b ? [x, w, b] : [x, w])[0];
}

function convInputGrad(
  gy: Tensor,
  w: Tensor,
  x: Tensor,
  pads: readonly number[],
  strides: readonly number[],
  dil: readonly number[],
): Tensor {
  const [, , kh, kw] = w.shape;
  const q = [kh - 1 - pads[0], kw - 1 - pads[1], kh - 1 - pads[2], kw - 1 - pads[3]];
  const g = gy.graph;
  const plain = strides.every((s) => s === 1) && dil.every((d) => d === 1) && q.every((p) => p >= 0);
  if (plain) {
    const wf = flip(transpose(w, [1, 0, 2, 3]), [2, 3]);
    return conv(gy, wf, undefined, { pads: q });
  }
  // General case: ConvTranspose with output padding chosen to restore the input's size.
  const outPad = [0, 1].map((i) => {
    const base = strides[i] * (gy.shape[2 + i] - 1) + (w.shape[2 + i] - 1) * dil[i] + 1 - pads[i] - pads[i + 2];
    return x.shape[2 + i] - base;
  });
  return g.op(
    'ConvTranspose',
    [gy, w],
    [{ dtype: x.dtype, shape: x.shape }],
    [
      attr('kernel_shape', [kh, kw], 'ints'),
      attr('pads', [...pads], 'ints'),
      attr('strides', [...strides], 'ints'),
      attr('dilations', [...dil], 'ints'),
      attr('output_padding', outPad, 'ints'),
    ],
  )[0];
}

/**
 * dW[:, :, i, j] = Σ_b gy_b · (x_b shifted by tap (i, j))ᵀ: per tap one batched MatMul
 * [B, Cout, Ho·Wo] × [B, Ho·Wo, Cin] on the NCHW tensors as they are (ORT folds the
 * transpose into FusedMatMul), then one sum over the batch. Measured on a 2-core Zen 3 for
 * 64→64 at 64×64, batch 16: 61 GFLOP/s vs 42 for per-tap Gemm on a (C, B, H, W) layout
 * (which pays two big transposes and runs small-output Gemms), equal to the forward Conv.
 * The per-tap copies are of the side with fewer channels: a layer with fewer outputs than
 * inputs shifts gy instead (`convWeightGradShiftGy`), and a side of at most
 * `STACK_TAPS_MAX` channels has its taps stacked into one product (in a PtychoPINN step with
 * the border branch, the one-output convs' 64-channel copies and matrix–vector products
 * were ≈ 15% of the step).
 */
function convWeightGrad(
  gy: Tensor,
  x: Tensor,
  w: Tensor,
  pads: readonly number[],
  strides: readonly number[],
  dil: readonly number[],
  transposeOnce = false,
): Tensor {
  const [B, Cout, Ho, Wo] = gy.shape;
  const [, Cin, kh, kw] = w.shape;
  const k = kh * kw;
  const plain = strides.every((s) => s === 1) && dil.every((d) => d === 1);
  if (plain && Cout < Cin) return convWeightGradShiftGy(gy, x, w, pads, Cout <= STACK_TAPS_MAX, transposeOnce);
  const xp = pad(x, [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]);
  const g3 = reshape(gy, [B, Cout, Ho * Wo]);
  // Each tap's window as a thunk: built right before its product, so that onnxruntime,
  // which runs the nodes in the order they were made, reads each copy while it is in cache.
  const shifted: (() => Tensor)[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const r0 = i * dil[0];
      const c0 = j * dil[1];
      // the tap whose window is x itself (the centre one of a 'same' conv) needs no copy
      const whole = plain && r0 === pads[0] && c0 === pads[1] && Ho === x.shape[2] && Wo === x.shape[3];
      shifted.push(() =>
        whole
          ? x
          : slice(xp, [r0, c0], [r0 + strides[0] * (Ho - 1) + 1, c0 + strides[1] * (Wo - 1) + 1], [2, 3], strides),
      );
    }
  }
  if (Cin <= STACK_TAPS_MAX && Cin < Cout) {
    // Few input channels (the first layer's one, the border branch's four): the taps side by
    // side as one [B, k·Cin, Ho·Wo] operand and one product with N = k·Cin, instead of k
    // products with N = Cin that run at matrix–vector speed.
    const windows = shifted.map((t) => t());
    const cols = transpose(reshape(concat(windows, 1), [B, k * Cin, Ho * Wo]), [0, 2, 1]);
    const m = reshape(sumLeading(matmul(g3, cols)), [Cout, k, Cin]);
    return reshape(transpose(m, [0, 2, 1]), [Cout, Cin, kh, kw]);
  }
  if (transposeOnce) {
    // 'taps-t' (GPU providers, which run every Transpose as a kernel of its own): gy
    // transposed once, x_tap·gyᵀ per tap, one sum over the batch for all taps.
    const gt = transpose(g3, [0, 2, 1]);
    const products = shifted.map((t) => matmul(reshape(t(), [B, Cin, Ho * Wo]), gt)); // [B, Cin, Cout]
    const m = reshape(sumLeading(concat(products, 1)), [k, Cin, Cout]);
    return reshape(transpose(m, [2, 1, 0]), [Cout, Cin, kh, kw]);
  }
  const taps = shifted.map((t) => sumLeading(matmul(g3, transpose(reshape(t(), [B, Cin, Ho * Wo]), [0, 2, 1]))));
  return moveTapAxisLast(concat(taps, 0), k, Cout, Cin, kh, kw);
}

/**
 * Above this many channels on the smaller side of a layer, its weight gradient takes one
 * product per tap; at or below it, the taps are stacked into one product.
 */
const STACK_TAPS_MAX = 16;

/**
 * The weight gradient for a layer with fewer output than input channels (stride 1): shift
 * the output gradient instead of the input, dW[:, :, i, j] = Σ_b (gy_b shifted by
 * (pᵢ − i, pⱼ − j))·x_bᵀ, so the per-tap copies are of the smaller tensor (for the one-channel
 * output convs, 1/64 of the bytes), and with few output channels the taps stack into one
 * product with M = k·Cout that reads x once.
 */
function convWeightGradShiftGy(
  gy: Tensor,
  x: Tensor,
  w: Tensor,
  pads: readonly number[],
  stack: boolean,
  sumOnce = false,
): Tensor {
  const [B, Cout, Ho, Wo] = gy.shape;
  const [, Cin, kh, kw] = w.shape;
  const [, , H, W] = x.shape;
  const k = kh * kw;
  // Zero rows/columns so that every tap's window of H × W lies inside the padded gy.
  const top = Math.max(0, kh - 1 - pads[0]);
  const left = Math.max(0, kw - 1 - pads[1]);
  const bottom = Math.max(0, pads[0] + H - Ho);
  const right = Math.max(0, pads[1] + W - Wo);
  const gp = pad(gy, [0, 0, top, left, 0, 0, bottom, right]);
  const xt = transpose(reshape(x, [B, Cin, H * W]), [0, 2, 1]);
  const shifted: (() => Tensor)[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const r0 = pads[0] - i + top;
      const c0 = pads[1] - j + left;
      const whole = r0 === top && c0 === left && H === Ho && W === Wo;
      shifted.push(() => reshape(whole ? gy : slice(gp, [r0, c0], [r0 + H, c0 + W], [2, 3]), [B, Cout, H * W]));
    }
  }
  let stacked: Tensor;
  if (stack) {
    const windows = shifted.map((t) => t());
    stacked = sumLeading(matmul(concat(windows, 1), xt));
  } else if (sumOnce) {
    // 'taps-t': one sum over the batch for all taps (fewer kernels on a GPU).
    stacked = sumLeading(
      concat(
        shifted.map((t) => matmul(t(), xt)),
        1,
      ),
    );
  } else {
    const products = shifted.map((t) => sumLeading(matmul(t(), xt)));
    stacked = concat(products, 0);
  }
  return moveTapAxisLast(stacked, k, Cout, Cin, kh, kw);
}

/**
 * [k, Cout, Cin] (in any shape with those elements in that order) → [Cout, Cin, kh, kw]:
 * the tap axis moved last by a Gemm with the identity, stackᵀ·I (exact for finite values: one
 * product by 1 per entry, the rest by 0). A Transpose here is what onnxruntime's optimizer
 * folds with the final Reshape into a 4-D [kh, kw, Cout, Cin] permutation that its CPU kernel
 * runs element by element (≈ 5× slower in a PtychoPINN step, where it took 2.6% of the kernel
 * time).
 */
function moveTapAxisLast(stack: Tensor, k: number, Cout: number, Cin: number, kh: number, kw: number): Tensor {
  const eye = new Array<number>(k * k).fill(0);
  for (let t = 0; t < k; t++) eye[t * k + t] = 1;
  const flat = reshape(stack, [k, Cout * Cin]);
  const moved = gemm(flat, stack.graph.constant(eye, [k, k], stack.dtype), undefined, { transA: true });
  return reshape(moved, [Cout, Cin, kh, kw]);
}

/**
 * dW via an unfold: a Conv with a one-hot [kh·kw, 1, kh, kw] kernel turns x (as B·Cin
 * one-channel images) into its patches, [B, Cin·kh·kw, Ho·Wo] in OIHW order, then one
 * batched MatMul with gy and a sum over the batch give the weight gradient directly. The
 * product's Ho·Wo side must come transposed: the smaller of the two is (gy when Cout <
 * Cin·kh·kw, every 3×3 conv but the first), and a transpose of the [Cin·kh·kw, Cout] result
 * is cheap. Five GPU kernels per conv where 'taps' takes four per tap.
 */
function convWeightGradUnfold(
  gy: Tensor,
  x: Tensor,
  w: Tensor,
  pads: readonly number[],
  strides: readonly number[],
  dil: readonly number[],
): Tensor {
  const [B, Cout, Ho, Wo] = gy.shape;
  const [, Cin, kh, kw] = w.shape;
  const [, , H, W] = x.shape;
  const k = kh * kw;
  const eye = new Array<number>(k * k).fill(0);
  for (let t = 0; t < k; t++) eye[t * k + t] = 1;
  const g = x.graph;
  const cols = reshape(
    conv(reshape(x, [B * Cin, 1, H, W]), g.constant(eye, [k, 1, kh, kw], x.dtype), undefined, {
      pads,
      strides: [strides[0], strides[1]],
      dilations: [dil[0], dil[1]],
    }),
    [B, Cin * k, Ho * Wo],
  );
  const g3 = reshape(gy, [B, Cout, Ho * Wo]);
  if (Cout < Cin * k) {
    const m = matmul(cols, transpose(g3, [0, 2, 1])); // [B, Cin·k, Cout]
    return reshape(transpose(reshape(sumLeading(m), [Cin * k, Cout]), [1, 0]), [Cout, Cin, kh, kw]);
  }
  const m = matmul(g3, transpose(cols, [0, 2, 1])); // [B, Cout, Cin·k]
  return reshape(sumLeading(m), [Cout, Cin, kh, kw]);
}

/**
 * Sum over the leading axis as a [1, B] × [B, rest] product: ORT's ReduceSum over a leading
 * axis ran at ~2 GB/s here, the GEMV at memory speed.
 */
function sumLeading(t: Tensor): Tensor {
  const [b, ...rest] = t.shape;
  const flat = reshape(t, [b, numel(rest)]);
  const ones = t.graph.constant(new Array<number>(b).fill(1), [1, b], t.dtype);
  return reshape(matmul(ones, flat), [1, ...rest]);
}

export interface PoolOptions {
  kernel?: readonly [number, number];
  strides?: readonly [number, number];
  pads?: readonly number[];
}

/**
 * Max pooling (default 2×2, stride 2). The forward node has only MaxPool's first output, so
 * forward graphs (evaluation, model.onnx) run on every provider. Two VJP forms, chosen by
 * the graph's `maxPoolGrad` when the gradients are built:
 * - 'mask': compare each window with its maximum (`Equal(X, Y)` broadcast over the window)
 *   and route the gradient to the first maximum in row-major window order, so ties get it
 *   once, as ORT's argmax does. Only elementwise ops, Slice and Concat: it runs on WebGPU.
 *   Non-overlapping windows without padding (the model's 2×2 pools); others use 'indices'.
 * - 'indices': a second MaxPool node with the argmax `Indices` output scatters the gradient:
 *   `MaxUnpool` for non-overlapping windows in float32 (each input element gets at most one
 *   gradient), `ScatterElements` (with addition where windows overlap) otherwise. The WebGPU
 *   provider cannot compute `Indices`; CPU only.
 */
export function maxPool(x: Tensor, options: PoolOptions = {}): Tensor {
  const [B, C, H, W] = x.shape;
  const [kh, kw] = options.kernel ?? [2, 2];
  const [sh, sw] = options.strides ?? [kh, kw];
  const pads = options.pads ?? [0, 0, 0, 0];
  const Ho = Math.floor((H + pads[0] + pads[2] - kh) / sh) + 1;
  const Wo = Math.floor((W + pads[1] + pads[3] - kw) / sw) + 1;
  const shape = [B, C, Ho, Wo];
  const g = x.graph;
  const attrs = [
    attr('kernel_shape', [kh, kw], 'ints'),
    attr('strides', [sh, sw], 'ints'),
    attr('pads', [...pads], 'ints'),
  ];
  const maskable = kh === sh && kw === sw && pads.every((p) => p === 0);
  const [y] = g.op('MaxPool', [x], [{ dtype: x.dtype, shape }], attrs, ([gy], [need]) => {
    if (!need || !gy) return [undefined];
    if (g.maxPoolGrad === 'mask' && maskable) return [maxPoolMaskGrad(x, y, gy, [kh, kw])];
    return [maxPoolIndicesGrad(x, gy, attrs, shape, kh > sh || kw > sw)];
  });
  return y;
}

function maxPoolIndicesGrad(
  x: Tensor,
  gy: Tensor,
  attrs: ReturnType<typeof attr>[],
  shape: number[],
  overlap: boolean,
): Tensor {
  const g = x.graph;
  const idx = g.op(
    'MaxPool',
    [x],
    [
      { dtype: x.dtype, shape },
      { dtype: 'int64', shape },
    ],
    attrs,
  )[1];
  if (!overlap && x.dtype === 'float32') {
    // onnxruntime's MaxUnpool (float32 only on the CPU): a zero fill and one store per
    // gradient element, 4–5× faster than ConstantOfShape + ScatterElements on the model's
    // 2×2 pools (2.4 against 13.4 ms for the three pools of a PtychoPINN step). The same
    // values land in the same places.
    return g.op('MaxUnpool', [gy, idx, g.ints(x.shape)], [{ dtype: x.dtype, shape: x.shape }], attrs)[0];
  }
  const n = numel(x.shape);
  const zero = g.op(
    'ConstantOfShape',
    [g.ints([n])],
    [{ dtype: x.dtype, shape: [n] }],
    [attr('value', protoTensor('', x.dtype, [1], [0]))],
  )[0];
  const m = numel(shape);
  const scattered = g.op(
    'ScatterElements',
    [zero, reshape(idx, [m]), reshape(gy, [m])],
    [{ dtype: x.dtype, shape: [n] }],
    [attr('axis', 0, 'int'), attr('reduction', overlap ? 'add' : 'none')],
  )[0];
  return reshape(scattered, x.shape);
}

/** Gradient of a non-overlapping max pool through the first-maximum mask of each window. */
function maxPoolMaskGrad(x: Tensor, y: Tensor, gy: Tensor, [kh, kw]: readonly [number, number]): Tensor {
  const g = x.graph;
  const [B, C, H, W] = x.shape;
  const [, , Ho, Wo] = y.shape;
  const cropped = Ho * kh !== H || Wo * kw !== W ? slice(x, [0, 0], [Ho * kh, Wo * kw], [2, 3]) : x;
  // Window layout without moving data: (B, C, Ho, kh, Wo, kw) against (B, C, Ho, 1, Wo, 1).
  const x6 = reshape(cropped, [B, C, Ho, kh, Wo, kw]);
  const y6 = reshape(y, [B, C, Ho, 1, Wo, 1]);
  const gy6 = reshape(gy, [B, C, Ho, 1, Wo, 1]);
  const eq = g.op('Equal', [x6, y6], [{ dtype: 'bool', shape: x6.shape }])[0];
  const hit = where(eq, g.scalar(1, x.dtype), 0);
  const rows: Tensor[] = [];
  let seen: Tensor | undefined;
  for (let a = 0; a < kh; a++) {
    const cols: Tensor[] = [];
    for (let b = 0; b < kw; b++) {
      const m = slice(hit, [a, b], [a + 1, b + 1], [3, 5]);
      const routed = mul(m, gy6);
      cols.push(seen ? where(greater(seen, 0.5), 0, routed) : routed);
      seen = seen ? add(seen, m) : m;
    }
    rows.push(concat(cols, 5));
  }
  const gx = reshape(concat(rows, 3), [B, C, Ho * kh, Wo * kw]);
  return cropped === x ? gx : pad(gx, [0, 0, 0, 0, 0, 0, H - Ho * kh, W - Wo * kw]);
}

/**
 * conv(upsampleNearest(x, 2), w, b) with 'same' padding for a 3 × 3 kernel, without forming
 * the upsampled tensor: each of the four output phases (a, b) of the upsampled grid is a
 * 3 × 3 conv of x itself whose kernel folds w's taps that land on the same source pixel,
 * W_ab = A_a · w · A_bᵀ (A_0 folds taps 1 and 2 onto offset 0, A_1 taps 0 and 1), so one Conv
 * with 4·Cout outputs at x's resolution and a depth-to-space interleave give the result. The
 * same sums, regrouped (equal to float rounding), on a quarter of the pixels, with no
 * upsampled copy to write or to sum the gradient back from.
 */
export function conv3x3OfUpsampled2(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const [B, Cin, H, W] = x.shape;
  const [Cout, Cw, kh, kw] = w.shape;
  if (x.shape.length !== 4 || Cw !== Cin || kh !== 3 || kw !== 3) {
    throw new Error(`conv3x3OfUpsampled2: input [${x.shape}] and weight [${w.shape}] (3 × 3 kernel, NCHW)`);
  }
  const g = x.graph;
  // rows: source offset −1, 0, +1; columns: kernel tap 0, 1, 2
  const fold = [
    [1, 0, 0, 0, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 0, 0, 0, 1],
  ].map((a) => g.constant(a, [3, 3], w.dtype));
  const foldT = fold.map((a) => transpose(a, [1, 0]));
  const w3 = reshape(w, [Cout * Cin, 3, 3]);
  const phases: Tensor[] = [];
  for (let a = 0; a < 2; a++) {
    const rows = matmul(fold[a], w3);
    for (let c = 0; c < 2; c++) phases.push(reshape(matmul(rows, foldT[c]), [Cout, Cin, 3, 3]));
  }
  const y4 = conv(x, concat(phases, 0), b ? concat([b, b, b, b], 0) : undefined, { pads: 'same' });
  // [B, (a, c, o), H, W] → [B, o, H, a, W, c] → [B, o, 2H, 2W]
  const y6 = transpose(reshape(y4, [B, 2, 2, Cout, H, W]), [0, 3, 4, 1, 5, 2]);
  return reshape(y6, [B, Cout, 2 * H, 2 * W]);
}

/** Nearest-neighbour upsampling by an integer factor (Keras UpSampling2D). VJP: sum-pool. */
export function upsampleNearest(x: Tensor, factor = 2): Tensor {
  const [B, C, H, W] = x.shape;
  const g = x.graph;
  const scales = g.constant([1, 1, factor, factor], [4], 'float32');
  return g.op(
    'Resize',
    [x, null, scales],
    [{ dtype: x.dtype, shape: [B, C, H * factor, W * factor] }],
    [attr('mode', 'nearest'), attr('coordinate_transformation_mode', 'asymmetric'), attr('nearest_mode', 'floor')],
    ([gy], [need]) => {
      if (!need || !gy) return [undefined];
      return [reduceSum(reshape(gy, [B, C, H, factor, W, factor]), [3, 5])];
    },
  )[0];
}

function swapLast(x: Tensor): Tensor {
  const r = x.shape.length;
  return transpose(
    x,
    x.shape.map((_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)),
  );
}

/** Batched matrix product with numpy broadcasting of the batch axes (both operands ≥ 2-D). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length < 2 || b.shape.length < 2) throw new Error('matmul: operands must be at least 2-D');
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) throw new Error(`matmul: [${a.shape}] × [${b.shape}]`);
  const batch = broadcastBatch(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return a.graph.op('MatMul', [a, b], [{ dtype: a.dtype, shape: [...batch, m, n] }], [], ([gy], needs) => {
    if (!gy) return [undefined, undefined];
    let gb: Tensor | undefined;
    if (needs[1]) {
      // A 2-D right operand under a batched left one: one flat product instead of a batch + sum.
      gb =
        b.shape.length === 2 && gy.shape.length > 2
          ? matmul(swapLast(reshape(a, [-1, k])), reshape(gy, [-1, n]))
          : sumTo(matmul(swapLast(a), gy), b.shape);
    }
    return [needs[0] ? sumTo(matmul(gy, swapLast(b)), a.shape) : undefined, gb];
  })[0];
}

function broadcastBatch(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`matmul: batch axes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

/** alpha·A'·B' + beta·C for 2-D A, B (A' = Aᵀ when transA …); C broadcasts. */
export function gemm(a: Tensor, b: Tensor, c?: Tensor, o: GemmOptions = {}): Tensor {
  const tA = o.transA ?? false;
  const tB = o.transB ?? false;
  const alpha = o.alpha ?? 1;
  const beta = o.beta ?? 1;
  const m = tA ? a.shape[1] : a.shape[0];
  const k = tA ? a.shape[0] : a.shape[1];
  const n = tB ? b.shape[0] : b.shape[1];
  if ((tB ? b.shape[1] : b.shape[0]) !== k) throw new Error(`gemm: [${a.shape}] × [${b.shape}]`);
  const g = a.graph;
  const mm = (p: Tensor, q: Tensor, ta: boolean, tb: boolean, shape: number[]) =>
    g.op(
      'Gemm',
      [p, q],
      [{ dtype: a.dtype, shape }],
      [attr('transA', ta ? 1 : 0, 'int'), attr('transB', tb ? 1 : 0, 'int'), attr('alpha', alpha, 'float')],
    )[0];
  const attrs = [
    attr('transA', tA ? 1 : 0, 'int'),
    attr('transB', tB ? 1 : 0, 'int'),
    attr('alpha', alpha, 'float'),
    attr('beta', beta, 'float'),
  ];
  return g.op('Gemm', c ? [a, b, c] : [a, b], [{ dtype: a.dtype, shape: [m, n] }], attrs, ([gy], needs) => {
    if (!gy) return [undefined, undefined, undefined];
    // With A' = op(A), B' = op(B): dA' = g·B'ᵀ, dB' = A'ᵀ·g, transposed back where op transposed.
    const ga = needs[0] ? (tA ? mm(b, gy, tB, true, [k, m]) : mm(gy, b, false, !tB, [m, k])) : undefined;
    const gb = needs[1] ? (tB ? mm(gy, a, true, tA, [n, k]) : mm(a, gy, !tA, false, [k, n])) : undefined;
    const gc = needs[2] && c ? sumTo(beta === 1 ? gy : mul(gy, beta), c.shape) : undefined;
    return [ga, gb, gc];
  })[0];
}
