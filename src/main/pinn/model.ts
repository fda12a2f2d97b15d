/**
 * PtychoPINN as one graph: network → object patches → per-sample reassembly/extraction →
 * illumination → far field → Poisson NLL. The same builder makes the training graph and the
 * inference graph (model.onnx), so parameter names match between them.
 *
 * Scaling (the original's contract, model doc "Normalisation"): the data are normalised so
 * that mean Σ X² = (N/2)²; the graph is fed x = s₀·X with s₀ = √nphotons/(N/2); the network
 * sees x / s with s = exp(log_scale) (trainable when intensity_scale_trainable, else the
 * constant s₀); the target counts are I = x² = (s₀X)² and the prediction Î = (s·|F(ψ)|/N)².
 */
import { Graph, type Tensor } from '../nn/graph';
import { cos, exp, mul, neg, sin } from '../nn/ops-basic';
import { analyticParameterCount, buildNetwork } from './network';
import { amplitudePhase, type Complex, diffract, poissonNll, probeDisc, reassemble } from './physics';
import type { PinnSettings } from './settings';
import { canvasSize } from './translate';

/**
 * What the graph builder needs: the trainer's settings for the network, the weight
 * initialisation seed, and the samples (groups) per graph call.
 */
export type PinnModelSpec = Pick<
  PinnSettings,
  'N' | 'gridsize' | 'nFiltersScale' | 'ampActivation' | 'probeBig' | 'probeMask' | 'intensityScaleTrainable' | 'seed'
> & {
  /** Samples (groups) per graph call. */
  batch: number;
};

export interface ProbeArrays {
  re: Float32Array;
  im: Float32Array;
}

export interface PinnGraph {
  graph: Graph;
  spec: PinnModelSpec;
  C: number;
  M: number;
  /** Fed s₀·X, (B, C, N, N). */
  x: Tensor;
  /** (B, C, 2) as (dx, dy); null for gridsize 1. */
  offsets: Tensor | null;
  /** Per-sample loss weights (B). Training graphs only. */
  weights?: Tensor;
  loss?: Tensor;
  amp: Tensor;
  phase: Tensor;
  /** Trimmed canvas as amplitude/phase (B, 1, N, N): the inference output. */
  amplitude: Tensor;
  phaseOut: Tensor;
  logScale: Tensor;
}

export const INPUT_DIFFRACTION = 'diffraction';
export const INPUT_OFFSETS = 'offsets';
export const INPUT_WEIGHTS = 'weights';
export const LOG_SCALE = 'log_scale';

/**
 * Build the graph. `probe` is the probe in the model's gauge (N × N); `intensityScale` is s₀.
 * `withLoss` adds the physics and loss (training/evaluation); without it, only what
 * inference needs.
 */
export function buildPinnGraph(
  spec: PinnModelSpec,
  probe: ProbeArrays,
  intensityScale: number,
  withLoss: boolean,
  /** model.onnx: the input is the normalised X and the graph multiplies by s₀ itself. */
  feedNormalised = false,
): PinnGraph {
  const { N, gridsize, batch: B } = spec;
  const C = gridsize * gridsize;
  const M = canvasSize(N, gridsize);
  const g = new Graph('float32');
  const fed = g.input(INPUT_DIFFRACTION, [B, C, N, N]);
  const x = feedNormalised ? mul(fed, intensityScale) : fed;
  const offsets = C > 1 ? g.input(INPUT_OFFSETS, [B, C, 2]) : null;
  const ls0 = Math.log(intensityScale);
  const logScale = spec.intensityScaleTrainable ? g.param(LOG_SCALE, [], [ls0]) : g.scalar(ls0);
  const netIn = mul(x, exp(neg(logScale)));
  const { amp, phase } = buildNetwork(g, netIn, {
    N,
    C,
    nFiltersScale: spec.nFiltersScale,
    ampActivation: spec.ampActivation,
    probeBig: spec.probeBig,
    seed: spec.seed,
  });
  const obj: Complex = { re: mul(amp, cos(phase)), im: mul(amp, sin(phase)) };
  const r = reassemble(obj, offsets, M);
  const out = amplitudePhase(r.trimmed);
  const result: PinnGraph = {
    graph: g,
    spec,
    C,
    M,
    x,
    offsets,
    amp,
    phase,
    amplitude: out.amplitude,
    phaseOut: out.phase,
    logScale,
  };
  if (!withLoss) return result;
  let pr = probe.re;
  let pi = probe.im;
  if (spec.probeMask) {
    const disc = probeDisc(N);
    pr = pr.map((v, i) => v * disc[i]);
    pi = pi.map((v, i) => v * disc[i]);
  }
  const P: Complex = { re: g.constant(pr, [N, N]), im: g.constant(pi, [N, N]) };
  const iHat = diffract(r.patches, P, logScale);
  const weights = g.input(INPUT_WEIGHTS, [B]);
  const target = mul(x, x);
  result.weights = weights;
  result.loss = poissonNll(iHat, target, weights);
  return result;
}

/** Trainable conv parameters (kernels + biases): the number the doc tabulates. */
export function convParameterCount(pg: PinnGraph): number {
  return pg.graph.params.filter((p) => p.name !== LOG_SCALE).reduce((s, p) => s + p.init.length, 0);
}

export function expectedParameterCount(
  spec: Pick<PinnModelSpec, 'N' | 'gridsize' | 'nFiltersScale' | 'probeBig'>,
): number {
  return analyticParameterCount({
    N: spec.N,
    C: spec.gridsize * spec.gridsize,
    nFiltersScale: spec.nFiltersScale,
    probeBig: spec.probeBig,
  });
}
