/**
 * The session layer: picks an execution provider for `--accelerator auto|cpu|webgpu|cuda|
 * dml|coreml` and creates ORT sessions with the options training needs. `auto` probes in a
 * child process (a crashing GPU driver takes down only the probe) and falls back to CPU
 * with a notice; an explicitly requested provider that cannot start is a StudyError
 * ('PROVIDER_UNAVAILABLE') naming the provider and the reason.
 */
import * as ort from 'onnxruntime-node';
import { ExecutionProviderName, type ProviderProbe } from '../../shared/api';
import { StudyError } from '../../shared/errors';
import { ACCELERATORS as STUDY_ACCELERATORS, type Accelerator as StudyAccelerator } from '../../shared/knobs';
import { candidateProviders, probeProviders } from './providers';
import { nchwcBlockSize, nchwcConvs } from './nchwc';
import { dropUnusedMaxPoolIndices } from './proto';
import { spinDecision } from './spin-policy';

/** What the engine accepts: the study's accelerators (the knob table) plus the other providers ORT names. */
export type Accelerator = StudyAccelerator | ExecutionProviderName;

export const ACCELERATORS: readonly Accelerator[] = [
  ...STUDY_ACCELERATORS,
  ...ExecutionProviderName.options.filter((p) => !(STUDY_ACCELERATORS as readonly string[]).includes(p)),
];

export interface EngineOptions {
  accelerator?: Accelerator;
  /** intraOpNumThreads for the CPU provider (and CPU fallback nodes); default 2. */
  threads?: number;
  /**
   * Bit-for-bit repeatable CPU runs: sequential execution and a fixed thread count
   * (`threads`, default 1). ORT's CPU kernels partition work by thread count, so the same
   * count on the same machine gives the same bits.
   */
  deterministic?: boolean;
  /** Receives user-visible notices (e.g. the CPU fallback of `auto`). */
  onNotice?: (message: string) => void;
  /** Injected probe (tests); default runs probeProviders in a child process. */
  probe?: (providers: ExecutionProviderName[]) => Promise<ProviderProbe[]>;
}

export interface ResolvedProvider {
  provider: ExecutionProviderName;
  /** Why this provider was chosen (for logs and the manifest). */
  detail: string;
}

/** Decide which provider a session will use; probes only when a GPU provider is in play. */
export async function resolveProvider(options: EngineOptions = {}): Promise<ResolvedProvider> {
  const accel = options.accelerator ?? 'auto';
  if (!ACCELERATORS.includes(accel)) {
    throw new StudyError('BAD_INPUT', `unknown accelerator '${accel}'`, {
      key: 'accelerator',
      found: accel,
      expected: ACCELERATORS,
    });
  }
  if (accel === 'cpu') return { provider: 'cpu', detail: 'requested' };
  const probe = options.probe ?? ((providers) => probeProviders({ providers }));
  if (accel === 'auto') {
    const gpus = candidateProviders().filter((p) => p !== 'cpu');
    const results = await probe(gpus);
    // A software (CPU-type) adapter is slower than the CPU provider: never auto's choice.
    const ok = results.find((r) => r.available && !r.software);
    if (ok) return { provider: ok.name, detail: `auto: ${ok.detail}` };
    const why = results.map((r) => `${r.name}: ${r.detail}`).join('; ');
    const notice = `no GPU execution provider to use here, training on CPU (${why || 'none to probe'})`;
    options.onNotice?.(notice);
    return { provider: 'cpu', detail: `auto fallback: ${why}` };
  }
  if (!candidateProviders().includes(accel)) {
    throw unavailable(accel, `not built for this platform (${process.platform})`);
  }
  const [r] = await probe([accel]);
  if (!r?.available) throw unavailable(accel, r?.detail ?? 'probe gave no answer');
  return { provider: accel, detail: r.detail };
}

function unavailable(provider: string, reason: string): StudyError {
  return new StudyError('PROVIDER_UNAVAILABLE', `execution provider '${provider}' is unavailable: ${reason}`, {
    key: 'accelerator',
    found: provider,
    hint:
      provider === 'cuda'
        ? 'run `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` on a machine with CUDA 12 and cuDNN 9, or use --accelerator cpu'
        : 'use --accelerator auto or cpu',
  });
}

export interface SessionSpec {
  provider: ExecutionProviderName;
  threads?: number;
  deterministic?: boolean;
  /** Outputs to leave on the device (GPU providers only): ORT's preferredOutputLocation. */
  deviceOutputs?: readonly string[];
  /**
   * Fail session creation when any node would run on the CPU instead of `provider`
   * (ORT's session.disable_cpu_ep_fallback): how the tests prove a graph runs wholly on a GPU.
   */
  disableCpuFallback?: boolean;
  /**
   * CPU provider: run Convs with computed weights on the NCHWc kernels (nchwc.ts); default
   * on, off with PTYCHO_NCHWC=0 (for comparisons).
   */
  nchwc?: boolean;
  /** CPU: also write the graph as ORT optimised it to this file (optimized-cache.ts keeps it). */
  saveOptimizedTo?: string;
  /**
   * CPU: the bytes are such a file, already optimised by ORT on this machine: loaded with no
   * rewrite and no further optimisation (the same kernels, a fraction of the time).
   */
  preOptimized?: boolean;
  /** CPU: idle intra-op threads spin during a run; default from spin-policy.ts. */
  spin?: boolean;
}

/**
 * ORT session options used for every training and inference graph. `spin`: idle intra-op
 * threads spin while a run is under way and stop when it returns (spin-policy.ts decides).
 */
export function sessionOptions(spec: SessionSpec, spin = false): ort.InferenceSession.SessionOptions {
  const threads = sessionThreads(spec);
  return {
    executionProviders: [spec.provider === 'webgpu' ? { name: 'webgpu', ...webgpuOptions() } : spec.provider],
    // 'all' fuses Conv+Relu etc.; measured 122 → 160 GFLOP/s on a conv (decisions.md).
    graphOptimizationLevel: spec.preOptimized ? 'disabled' : 'all',
    ...(spec.saveOptimizedTo ? { optimizedModelFilePath: spec.saveOptimizedTo } : {}),
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: 3,
    // PTYCHO_ORT_PROFILE=<prefix>: onnxruntime's per-node profile (JSON) of every session.
    ...(process.env.PTYCHO_ORT_PROFILE
      ? { enableProfiling: true, profileFilePrefix: process.env.PTYCHO_ORT_PROFILE }
      : {}),
    extra: {
      session: {
        // Blocking idle threads unless spin-policy.ts finds room to spin; a spinning pool stops
        // as soon as the run returns, so it never spins between steps.
        'intra_op.allow_spinning': spin ? '1' : '0',
        ...(spin ? { force_spinning_stop: '1' } : {}),
        ...(spec.disableCpuFallback && spec.provider !== 'cpu' ? { disable_cpu_ep_fallback: '1' } : {}),
      },
    },
    ...(spec.deviceOutputs?.length && spec.provider !== 'cpu'
      ? {
          preferredOutputLocation: Object.fromEntries(
            spec.deviceOutputs.map((n) => [n, spec.provider === 'webgpu' ? 'gpu-buffer' : 'cpu'] as const),
          ),
        }
      : {}),
  };
}

/**
 * PTYCHO_WEBGPU_OPTIONS='{"preferredLayout":"NCHW","validationMode":"wgpuOnly"}': onnxruntime's
 * WebGPU provider options, for measuring them (the device checks' variants); unset, the
 * provider's defaults. Unknown keys or values are an error naming the variable.
 */
export function webgpuOptions(
  text = process.env.PTYCHO_WEBGPU_OPTIONS,
): Partial<Pick<ort.InferenceSession.WebGpuExecutionProviderOption, 'preferredLayout' | 'validationMode'>> {
  if (!text) return {};
  const allowed: Record<string, readonly string[]> = {
    preferredLayout: ['NCHW', 'NHWC'],
    validationMode: ['disabled', 'wgpuOnly', 'basic', 'full'],
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new StudyError('BAD_INPUT', `PTYCHO_WEBGPU_OPTIONS: expected a JSON object, found '${text}'`);
  for (const [k, v] of Object.entries(parsed)) {
    if (!allowed[k])
      throw new StudyError(
        'BAD_INPUT',
        `PTYCHO_WEBGPU_OPTIONS: unknown key '${k}' (expected ${Object.keys(allowed).join(' or ')})`,
      );
    if (!allowed[k].includes(v as string))
      throw new StudyError(
        'BAD_INPUT',
        `PTYCHO_WEBGPU_OPTIONS.${k}: expected one of ${allowed[k].join(', ')}, found ${JSON.stringify(v)}`,
      );
  }
  return parsed as ReturnType<typeof webgpuOptions>;
}

/** Intra-op threads of a session: `threads`, else 1 for deterministic runs, else 2. */
export function sessionThreads(spec: SessionSpec): number {
  return spec.threads ?? (spec.deterministic ? 1 : 2);
}

/** Create a session; a provider that fails at this point is reported like a failed probe. */
export async function createSession(model: Uint8Array, spec: SessionSpec): Promise<ort.InferenceSession> {
  try {
    const bytes =
      spec.provider !== 'cpu'
        ? dropUnusedMaxPoolIndices(model)
        : spec.preOptimized
          ? model
          : await cpuModel(model, spec);
    const threads = sessionThreads(spec);
    const spin = spec.provider === 'cpu' && threads > 1 && (spec.spin ?? (await spinDecision(threads)).spin);
    return await ort.InferenceSession.create(bytes, sessionOptions(spec, spin));
  } catch (e) {
    const msg = String((e as Error)?.message ?? e).split('\n')[0];
    if (spec.provider !== 'cpu') throw unavailable(spec.provider, msg);
    throw new StudyError('INTERNAL', `onnxruntime could not load the graph: ${msg}`);
  }
}

/** The bytes a CPU session is created from: the model with its Convs rewritten for the NCHWc kernels (unless off). */
export async function cpuModel(model: Uint8Array, spec: SessionSpec): Promise<Uint8Array> {
  const on = spec.nchwc ?? process.env.PTYCHO_NCHWC !== '0';
  return on ? nchwcConvs(model, await nchwcBlockSize()) : model;
}
