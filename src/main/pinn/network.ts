/**
 * The PtychoPINN network (NCHW) on the graph builder, as ../shared/docs/ptychopinn-model.md
 * describes the original: a 3-stage conv/pool encoder and two decoder heads (amplitude,
 * phase), each ending in a conv on the first 32·nfs − 4 channels (the original drops the last
 * c_outer = 4), sigmoid (or the configured activation) / π·tanh, zero-padded from the central
 * N/2 square to N × N; with probe_big a border branch, swish(conv(ConvUp(last 4 channels))),
 * fills the ring outside that square. Glorot-uniform kernels and zero biases (Keras's
 * defaults), seeded, created in a fixed order so the same seed gives the same weights.
 */
import type { Graph, Tensor } from '../nn/graph';
import { glorotUniform } from '../nn/init';
import { weightInitRng } from '../numeric/rng';
import { add, mul, relu, sigmoid, silu, softplus, tanh } from '../nn/ops-basic';
import { conv, conv3x3OfUpsampled2, maxPool, upsampleNearest } from '../nn/ops-nn';
import { pad, slice } from '../nn/ops-shape';

export type AmpActivation = 'sigmoid' | 'swish' | 'softplus' | 'relu';

export interface NetworkSpec {
  N: number;
  /** Patterns per sample, gridsize². */
  C: number;
  nFiltersScale: number;
  ampActivation: AmpActivation;
  probeBig: boolean;
  seed: number;
}

/** Channels the original drops before the last conv (and feeds the border branch). */
export const C_OUTER = 4;

/** The next kernel's initial values (Glorot uniform, drawn in creation order). */
type Kernels = (shape: [number, number, number, number]) => Float32Array;

/**
 * Initial kernels already drawn, by seed and architecture, in creation order. A job builds
 * the same network several times (memory estimate, train step, preview, export) and the doses
 * of a study share one seed: drawing 2.3 M values each time cost ≈ 20–40 ms a build.
 */
const drawnKernels = new Map<string, Float32Array[]>();
const DRAWN_KEPT = 4;

function kernelsFor(spec: NetworkSpec): { next: Kernels; done: () => void } {
  const key = JSON.stringify([spec.seed, spec.N, spec.C, spec.nFiltersScale, spec.probeBig]);
  const kept = drawnKernels.get(key);
  if (kept) {
    let k = 0;
    return {
      next: (shape) => {
        const a = kept[k++];
        if (a?.length !== shape[0] * shape[1] * shape[2] * shape[3])
          throw new Error(`network: kernel ${k - 1} [${shape}] differs from the one drawn for the same spec`);
        return a;
      },
      done: () => {},
    };
  }
  const rng = weightInitRng(spec.seed);
  const drawn: Float32Array[] = [];
  return {
    next: (shape) => {
      const a = glorotUniform(shape, rng);
      drawn.push(a);
      return a;
    },
    done: () => {
      if (drawnKernels.size >= DRAWN_KEPT) drawnKernels.delete(drawnKernels.keys().next().value as string);
      drawnKernels.set(key, drawn);
    },
  };
}

function conv3(g: Graph, rng: Kernels, name: string, x: Tensor, cout: number): Tensor {
  const cin = x.shape[1];
  const w = g.param(`${name}.w`, [cout, cin, 3, 3], rng([cout, cin, 3, 3]));
  const b = g.param(`${name}.b`, [cout], new Float32Array(cout));
  return conv(x, w, b, { pads: 'same' });
}

/**
 * MaxPool(ReLU(conv2)) computed as ReLU(MaxPool(conv2)): the same values bit for bit (ReLU is
 * monotone, so it commutes with the max; the gradient reaches the same first maximum, or is
 * zero in both where the window is ≤ 0), but the ReLU and its gradient mask run on the pooled
 * tensor, a quarter of the size, instead of the conv's full-resolution output.
 */
function convPool(g: Graph, rng: Kernels, name: string, x: Tensor, cout: number): Tensor {
  const z = conv3(g, rng, `${name}.conv2`, relu(conv3(g, rng, `${name}.conv1`, x, cout)), cout);
  return relu(maxPool(z));
}

/** conv3 of upsampleNearest(x, 2), without the upsampled tensor (ops-nn.ts). */
function conv3OfUpsampled(g: Graph, rng: Kernels, name: string, x: Tensor, cout: number): Tensor {
  const cin = x.shape[1];
  const w = g.param(`${name}.w`, [cout, cin, 3, 3], rng([cout, cin, 3, 3]));
  const b = g.param(`${name}.b`, [cout], new Float32Array(cout));
  return conv3x3OfUpsampled2(x, w, b);
}

function convUp(g: Graph, rng: Kernels, name: string, x: Tensor, cout: number): Tensor {
  return upsampleNearest(relu(conv3(g, rng, `${name}.conv2`, relu(conv3(g, rng, `${name}.conv1`, x, cout)), cout)), 2);
}

function activate(kind: AmpActivation, x: Tensor): Tensor {
  switch (kind) {
    case 'sigmoid':
      return sigmoid(x);
    case 'swish':
      return silu(x);
    case 'softplus':
      return softplus(x);
    case 'relu':
      return relu(x);
  }
}

function head(g: Graph, rng: Kernels, name: string, h: Tensor, spec: NetworkSpec, act: (t: Tensor) => Tensor): Tensor {
  const nfs = spec.nFiltersScale;
  const N = spec.N;
  let x = convUp(g, rng, `${name}.up1`, h, nfs * 64);
  x = convUp(g, rng, `${name}.up2`, x, nfs * 32);
  const ch = x.shape[1];
  const q = N / 4;
  const inner = slice(x, [0], [ch - C_OUTER], [1]);
  const x1 = pad(act(conv3(g, rng, `${name}.last`, inner, spec.C)), [0, 0, q, q, 0, 0, q, q]);
  if (!spec.probeBig) return x1;
  const outer = slice(x, [ch - C_OUTER], [ch], [1]);
  const width = nfs * Math.floor(2048 / N);
  // convUp's two convs, then the last conv of its ×2 upsampling computed at the lower
  // resolution by output phases (the same weights, created in the same order)
  const up = `${name}.border_up`;
  const y = relu(conv3(g, rng, `${up}.conv2`, relu(conv3(g, rng, `${up}.conv1`, outer, width)), width));
  const border = new Float32Array(N * N).fill(1);
  for (let r = q; r < N - q; r++) for (let c = q; c < N - q; c++) border[r * N + c] = 0;
  const x2 = mul(silu(conv3OfUpsampled(g, rng, `${name}.border_last`, y, spec.C)), g.constant(border, [1, 1, N, N]));
  return add(x1, x2);
}

/**
 * Amplitude and phase (B, C, N, N) from normalised diffraction amplitudes (B, C, N, N).
 * The phase is π·tanh, the amplitude the configured activation; both are zero outside the
 * central N/2 square unless probe_big adds the border branch.
 */
export function buildNetwork(g: Graph, x: Tensor, spec: NetworkSpec): { amp: Tensor; phase: Tensor } {
  const { N, nFiltersScale: nfs } = spec;
  if (N % 8 !== 0 || N < 16) throw new Error(`network: N=${N} must be a multiple of 8 (three 2×2 pools), at least 16`);
  const kernels = kernelsFor(spec);
  const rng = kernels.next;
  let h = convPool(g, rng, 'enc.0', x, nfs * 32);
  h = convPool(g, rng, 'enc.1', h, nfs * 64);
  h = convPool(g, rng, 'enc.2', h, nfs * 128);
  const amp = head(g, rng, 'amp', h, spec, (t) => activate(spec.ampActivation, t));
  const phase = head(g, rng, 'phase', h, spec, (t) => mul(tanh(t), Math.PI));
  kernels.done();
  return { amp, phase };
}

/** Conv kernel + bias count, as the doc tabulates it (log-scale and probe excluded). */
export function analyticParameterCount(spec: Pick<NetworkSpec, 'C' | 'nFiltersScale' | 'probeBig' | 'N'>): number {
  const c = (cin: number, cout: number) => 9 * cin * cout + cout;
  const f = spec.nFiltersScale;
  const enc =
    c(spec.C, 32 * f) +
    c(32 * f, 32 * f) +
    c(32 * f, 64 * f) +
    c(64 * f, 64 * f) +
    c(64 * f, 128 * f) +
    c(128 * f, 128 * f);
  const base = c(128 * f, 64 * f) + c(64 * f, 64 * f) + c(64 * f, 32 * f) + c(32 * f, 32 * f);
  const last = c(32 * f - C_OUTER, spec.C);
  const width = f * Math.floor(2048 / spec.N);
  const big = spec.probeBig ? c(C_OUTER, width) + c(width, width) + c(width, spec.C) : 0;
  return enc + 2 * (base + last + big);
}
