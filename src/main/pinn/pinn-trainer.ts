/**
 * Settings + prepared data → a ready Trainer on the PtychoPINN train-step graph, shared by
 * the training job, the bench and the quality comparison so they all run the same model.
 */
import type { ExecutionProviderName } from '../../shared/api';
import { StudyError } from '../../shared/errors';
import type { ConvWeightGrad, MaxPoolGrad } from '../nn/graph';
import { type ResolvedProvider, resolveProvider } from '../nn/session';
import type { SessionCache } from '../nn/session-cache';
import { adam } from '../nn/optim';
import { buildTrainStep } from '../nn/train-step';
import { Trainer } from '../nn/trainer';
import { type BatchArrays, gatherBatch, type TrainingData } from './dataset';
import {
  buildPinnGraph,
  convParameterCount,
  expectedParameterCount,
  INPUT_DIFFRACTION,
  INPUT_OFFSETS,
  INPUT_WEIGHTS,
  type PinnGraph,
  type PinnModelSpec,
} from './model';
import type { PinnSettings } from './settings';

export function modelSpec(s: PinnSettings, batch: number): PinnModelSpec {
  return {
    N: s.N,
    gridsize: s.gridsize,
    nFiltersScale: s.nFiltersScale,
    ampActivation: s.ampActivation,
    probeBig: s.probeBig,
    probeMask: s.probeMask,
    intensityScaleTrainable: s.intensityScaleTrainable,
    seed: s.seed,
    batch,
  };
}

export interface PinnTrainer {
  trainer: Trainer;
  graph: PinnGraph;
  spec: PinnModelSpec;
  parameterCount: number;
  /** Graph feeds for a gathered batch. */
  feeds(b: BatchArrays): Record<string, Float32Array>;
  /** Gather groups `ids` (≤ batch) into a padded batch. */
  batch(ids: ArrayLike<number>): BatchArrays;
}

/** Engine knobs beyond the settings (tests, bench). */
export interface PinnEngineOptions {
  /** Default: the provider's own form (CPU_MAX_POOL_GRAD on the CPU, 'mask' elsewhere). */
  maxPoolGrad?: MaxPoolGrad;
  /** Default: the provider's own form (`convWeightGradFor`). */
  convWeightGrad?: ConvWeightGrad;
  /** Adam over all parameters at once (TrainStepSpec.fuseOptimizer); default `fusedOptimizerFor`. */
  fuseOptimizer?: boolean;
  /** Data-parallel CPU replicas (Trainer `replicas`); default `cpuReplicasFor`. */
  replicas?: number;
  deviceResidentState?: boolean;
  disableCpuFallback?: boolean;
  /** A provider already resolved (skips the probe). */
  resolved?: ResolvedProvider;
  /** Sessions kept across jobs in one process (the training worker's). */
  sessions?: SessionCache;
  /** Called as each build stage ends (graph, differentiation and serialisation, sessions): the job's phase timings. */
  onPhase?: (name: string) => void;
}

/**
 * MaxPool's VJP on the CPU provider: the faster of the two forms there (`npm run bench`,
 * nn group, pool_grad rows). Every other provider uses 'mask' (WebGPU cannot compute
 * MaxPool's Indices output).
 */
export const CPU_MAX_POOL_GRAD: MaxPoolGrad = 'indices';

/** The MaxPool VJP form a graph for `provider` is built with. */
export function maxPoolGradFor(provider: ExecutionProviderName): MaxPoolGrad {
  return provider === 'cpu' ? CPU_MAX_POOL_GRAD : 'mask';
}

/**
 * The Conv weight-gradient form a graph for `provider` is built with: per-tap products
 * gy·x_tapᵀ on the CPU (the fastest there, decisions.md; its FusedMatMul folds the
 * transposes), 'taps-t' elsewhere (a GPU runs each Transpose as a kernel of its own, so gy is
 * transposed once per conv and the batch summed once). 'unfold' lost on an H200 at batch 64
 * (docs/benchmarks.md, gpu). PTYCHO_CONV_WEIGHT_GRAD=taps|taps-t|unfold overrides it
 * (measurements).
 */
export function convWeightGradFor(
  provider: ExecutionProviderName,
  override = process.env.PTYCHO_CONV_WEIGHT_GRAD,
): ConvWeightGrad {
  return (
    envChoice('PTYCHO_CONV_WEIGHT_GRAD', ['taps', 'taps-t', 'unfold'], override) ??
    (provider === 'cpu' ? 'taps' : 'taps-t')
  );
}

/**
 * Whether a graph for `provider` runs Adam once over all parameters concatenated
 * (TrainStepSpec.fuseOptimizer): on GPU providers, which pay a launch per kernel (~400 of a
 * step's ~1 300 on an H200 were Adam's and the gradient norm's); not on the CPU, where
 * the concatenation and slicing copies cost more than the launches. PTYCHO_FUSED_OPTIMIZER=
 * 0|1 overrides it (measurements).
 */
export function fusedOptimizerFor(
  provider: ExecutionProviderName,
  override = process.env.PTYCHO_FUSED_OPTIMIZER,
): boolean {
  const choice = envChoice('PTYCHO_FUSED_OPTIMIZER', ['0', '1'], override);
  return choice === undefined ? provider !== 'cpu' : choice === '1';
}

/**
 * How many data-parallel replicas train a CPU job (replicas.ts): 2 when the job has at
 * least 2 threads, an even batch and need not be bit-for-bit repeatable, else 1 (one
 * session). Two one-thread replicas beat one two-thread session on 2 cores by ≈ 9%
 * (docs/benchmarks.md, pinn): onnxruntime runs its copying kernels on one thread.
 * PTYCHO_REPLICAS=<n> overrides it (measurements; n must divide the batch).
 */
export function cpuReplicasFor(
  s: Pick<PinnSettings, 'threads' | 'batchSize' | 'deterministic'>,
  override = process.env.PTYCHO_REPLICAS,
): number {
  if (override) {
    const n = Number(override);
    if (!Number.isInteger(n) || n < 1 || s.batchSize % n !== 0) {
      throw new StudyError(
        'BAD_INPUT',
        `PTYCHO_REPLICAS: expected a whole number ≥ 1 that divides the batch size ${s.batchSize}, found '${override}'`,
      );
    }
    return n;
  }
  return !s.deterministic && s.threads >= 2 && s.batchSize % 2 === 0 ? 2 : 1;
}

/** A measurement override from the environment: one of `allowed`, or an error naming `name`. */
function envChoice<T extends string>(name: string, allowed: readonly T[], value: string | undefined): T | undefined {
  if (!value) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    const list = `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`;
    throw new StudyError('BAD_INPUT', `${name}: expected ${list}, found '${value}'`);
  }
  return value as T;
}

/**
 * Build the graph for the resolved provider and create its Trainer. With `auto`, a GPU
 * provider that fails when the job starts (session creation, or a first training step,
 * run and undone) is replaced by the CPU with a notice; an explicit provider's failure is
 * thrown as one line naming the provider (and the op, for a failed step).
 */
export async function createPinnTrainer(
  s: PinnSettings,
  data: TrainingData,
  onNotice?: (message: string) => void,
  engine: PinnEngineOptions = {},
): Promise<PinnTrainer> {
  const resolved =
    engine.resolved ?? (await resolveProvider({ accelerator: s.accelerator, threads: s.threads, onNotice }));
  if (s.accelerator !== 'auto' || resolved.provider === 'cpu')
    return buildPinnTrainer(s, data, onNotice, engine, resolved);
  let pt: PinnTrainer | undefined;
  try {
    pt = await buildPinnTrainer(s, data, onNotice, engine, resolved);
    const before = pt.trainer.getState();
    await pt.trainer.trainStep(pt.feeds(pt.batch([0])), 0);
    pt.trainer.setState(before);
    return pt;
  } catch (e) {
    await pt?.trainer.release().catch(() => {});
    const why = String((e as Error)?.message ?? e).split('\n')[0];
    onNotice?.(`auto: ${resolved.provider} failed when the job started (${why}); training on CPU`);
    return buildPinnTrainer(s, data, onNotice, engine, {
      provider: 'cpu',
      detail: `auto fallback: ${resolved.provider} failed when the job started: ${why}`,
    });
  }
}

async function buildPinnTrainer(
  s: PinnSettings,
  data: TrainingData,
  onNotice: ((message: string) => void) | undefined,
  engine: PinnEngineOptions,
  resolved: ResolvedProvider,
): Promise<PinnTrainer> {
  const replicas = resolved.provider === 'cpu' ? (engine.replicas ?? cpuReplicasFor(s)) : 1;
  if (replicas === 1) return buildOn(s, data, onNotice, engine, resolved, 1);
  try {
    return await buildOn(s, data, onNotice, engine, resolved, replicas);
  } catch (e) {
    // Replicas need worker threads with onnxruntime of their own: where a host cannot give
    // them, the job trains on one session (slower, same results to float rounding).
    const why = String((e as Error)?.message ?? e).split('\n')[0];
    onNotice?.(`data-parallel replicas could not start (${why}); training on one session`);
    return buildOn(s, data, onNotice, engine, resolved, 1);
  }
}

async function buildOn(
  s: PinnSettings,
  data: TrainingData,
  onNotice: ((message: string) => void) | undefined,
  engine: PinnEngineOptions,
  resolved: ResolvedProvider,
  replicas: number,
): Promise<PinnTrainer> {
  const spec = modelSpec(s, s.batchSize);
  // replicas: the graph is one replica's, on its part of the batch
  const graph = buildPinnGraph({ ...spec, batch: s.batchSize / replicas }, data.probe, data.intensityScale, true);
  engine.onPhase?.('build graph');
  graph.graph.maxPoolGrad = engine.maxPoolGrad ?? maxPoolGradFor(resolved.provider);
  graph.graph.convWeightGrad = engine.convWeightGrad ?? convWeightGradFor(resolved.provider);
  const parameterCount = convParameterCount(graph);
  const expected = expectedParameterCount(spec);
  if (parameterCount !== expected) {
    throw new StudyError('INTERNAL', `model has ${parameterCount} parameters, expected ${expected}`);
  }
  const model = buildTrainStep({
    loss: graph.loss!,
    optimizer: adam({ epsilon: 1e-7 }),
    fuseOptimizer: engine.fuseOptimizer ?? fusedOptimizerFor(resolved.provider),
    hostOptimizer: replicas > 1,
  });
  engine.onPhase?.('differentiate + serialise');
  const trainer = await Trainer.create(model, {
    resolved,
    threads: s.threads,
    deterministic: s.deterministic,
    onNotice,
    deviceResidentState: engine.deviceResidentState,
    disableCpuFallback: engine.disableCpuFallback,
    sessions: engine.sessions,
    replicas,
    // the loss is Σ weights·NLL with weights 1/n over the whole batch: the parts add up
    replicaLoss: 'sum',
  });
  engine.onPhase?.('sessions (train, evaluate)');
  return {
    trainer,
    graph,
    spec,
    parameterCount,
    feeds: (b) => ({
      [INPUT_DIFFRACTION]: b.diffraction,
      [INPUT_WEIGHTS]: b.weights,
      ...(data.C > 1 ? { [INPUT_OFFSETS]: b.offsets } : {}),
    }),
    batch: (ids) => gatherBatch(data, ids, s.batchSize),
  };
}
