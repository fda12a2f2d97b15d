/**
 * Trainer: the runtime side of a TrainStepModel. It owns the ORT sessions and keeps the
 * parameters and optimizer state between steps as ORT tensors: the outputs of step k are
 * fed as the inputs of step k+1 without touching them in JS.
 *
 * Copies per step on CPU: inputs are handed to ORT zero-copy; each output (loss, new
 * parameters, new slots, extras) is copied once from ORT's buffer into a JS ArrayBuffer by
 * onnxruntime-node. For Adam that is 3 × the parameter bytes per step (≈ 27 MB for the
 * 2.3 M-parameter PtychoPINN, a few ms). On WebGPU the state is device-resident by default
 * (`deviceResidentState`): the new parameters and slots stay in GPU buffers (ORT
 * preferredOutputLocation 'gpu-buffer') and are fed back as they are; the batch goes up and
 * the loss, gradient norm and extras come down. `lastTransfer` counts those bytes for the
 * last step. Call `await syncToHost()` before parameters()/getState() in that mode (save()
 * does it).
 */
import type * as ort from 'onnxruntime-node';
import { Tensor as OrtTensor } from 'onnxruntime-node';
import type { ExecutionProviderName } from '../../shared/api';
import { StudyError } from '../../shared/errors';
import { type NamedArray, type TrainingState, loadState, saveState } from './checkpoint';
import type { FloatArray, Tensor } from './graph';
import { readableProviderError } from './providers';
import { type ElemType, node as protoNode, serializeModel, valueInfo } from './proto';
import { type EngineOptions, type ResolvedProvider, createSession, resolveProvider } from './session';
import type { SessionCache } from './session-cache';
import { type TrainStepModel, exportInference, stepNames } from './train-step';

/** A batch: graph input name → data (typed array in the input's dtype, or an ORT tensor). */
export type Batch = Readonly<Record<string, ort.Tensor | FloatArray | Int32Array | BigInt64Array>>;

export interface TrainerOptions extends EngineOptions {
  /**
   * Keep parameters and optimizer state in device buffers between steps (webgpu; default
   * on there). Off: every step copies them to the host and back.
   */
  deviceResidentState?: boolean;
  /** A provider already resolved by the caller (skips the probe). */
  resolved?: ResolvedProvider;
  /** Fail session creation if any node would fall back to the CPU (GPU providers). */
  disableCpuFallback?: boolean;
  /**
   * Take the sessions from this cache (kept across Trainers in one process; the cache's
   * owner releases them) instead of creating and releasing them here.
   */
  sessions?: SessionCache;
}

/** Bytes moved between host and provider memory by one call (inputs up, outputs down). */
export interface Transfer {
  hostToDevice: number;
  deviceToHost: number;
}

export interface StepResult {
  loss: number;
  /** Global L2 norm of the gradient before any clipping (training steps only; NaN in evaluate). */
  gradNorm: number;
  /** The step's extra outputs (TrainStepSpec.extras), as ORT tensors. */
  extras: Record<string, ort.Tensor>;
}

export class Trainer {
  /** Updates applied so far; the next step runs with Adam's t = step + 1. */
  step = 0;
  /** Bytes between host and device in the last trainStep (host tensors fed, host outputs). */
  lastTransfer: Transfer = { hostToDevice: 0, deviceToHost: 0 };
  private state = new Map<string, ort.Tensor>();
  private readback?: ort.InferenceSession;
  private readonly forwardSessions = new Map<string, ort.InferenceSession>();

  private constructor(
    readonly model: TrainStepModel,
    readonly provider: ExecutionProviderName,
    readonly providerDetail: string,
    private readonly trainSession: ort.InferenceSession,
    private readonly evalSession: ort.InferenceSession,
    /** Parameters and optimizer state stay in device buffers between steps. */
    readonly deviceResident: boolean,
    private readonly sessions?: SessionCache,
  ) {
    for (const p of [...model.params, ...model.frozen]) this.state.set(p.name, toOrt(p, p.init));
    for (const p of model.params) {
      for (const s of model.optimizer.slots) {
        const name = stepNames.slot(s, p.name);
        this.state.set(name, toOrt({ dtype: p.dtype, shape: p.shape, name }, new Float32Array(p.init.length)));
      }
    }
  }

  static async create(model: TrainStepModel, options: TrainerOptions = {}): Promise<Trainer> {
    const resolved = options.resolved ?? (await resolveProvider(options));
    const spec = {
      provider: resolved.provider,
      threads: options.threads,
      deterministic: options.deterministic,
      disableCpuFallback: options.disableCpuFallback,
    };
    const isResident = (options.deviceResidentState ?? true) && resolved.provider === 'webgpu';
    const resident = isResident
      ? model.params.flatMap((p) => [
          stepNames.newParam(p.name),
          ...model.optimizer.slots.map((s) => stepNames.newSlot(s, p.name)),
        ])
      : [];
    const cache = options.sessions;
    const open = (m: Uint8Array, s: typeof spec & { deviceOutputs?: string[] }) =>
      cache ? cache.get(m, s) : createSession(m, s);
    const train = await open(model.trainModel, { ...spec, deviceOutputs: resident });
    let evaluate: ort.InferenceSession;
    try {
      evaluate = await open(model.evalModel, spec);
    } catch (e) {
      if (!cache) await train.release();
      throw e;
    }
    return new Trainer(model, resolved.provider, resolved.detail, train, evaluate, isResident, cache);
  }

  /** One optimizer update on `batch` at learning rate `lr`. */
  async trainStep(batch: Batch, lr: number): Promise<StepResult> {
    const feeds = this.batchFeeds(batch, this.trainSession.inputNames);
    const dt = this.model.graph.float;
    feeds[stepNames.lr] = scalar(dt, lr);
    feeds[stepNames.step] = scalar(dt, this.step + 1);
    const host = this.model.optimizer.hostScalars?.(this.step + 1) ?? {};
    for (const [k, v] of Object.entries(host)) feeds[stepNames.hostScalar(k)] = scalar(dt, v);
    for (const name of this.trainSession.inputNames) {
      const t = this.state.get(name);
      if (t) feeds[name] = t;
    }
    const out = await this.run(this.trainSession, feeds);
    this.lastTransfer = { hostToDevice: hostBytes(Object.values(feeds)), deviceToHost: hostBytes(Object.values(out)) };
    const replace = (name: string, t: ort.Tensor) => {
      const prev = this.state.get(name);
      this.state.set(name, t);
      // Device buffers are not garbage-collected: free the previous step's.
      if (prev && prev.location === 'gpu-buffer') prev.dispose();
    };
    for (const p of this.model.params) {
      replace(p.name, out[stepNames.newParam(p.name)]);
      for (const s of this.model.optimizer.slots) replace(stepNames.slot(s, p.name), out[stepNames.newSlot(s, p.name)]);
    }
    this.step++;
    const extras: Record<string, ort.Tensor> = {};
    for (const n of this.model.extraNames) extras[n] = out[n];
    const norm = out[stepNames.gradNorm];
    return { loss: Number(out[stepNames.loss].data[0]), gradNorm: norm ? Number(norm.data[0]) : Number.NaN, extras };
  }

  /** Loss and extras on `batch` with the current parameters; nothing is updated. */
  async evaluate(batch: Batch): Promise<StepResult> {
    const feeds = this.batchFeeds(batch, this.evalSession.inputNames);
    for (const name of this.evalSession.inputNames) {
      const t = this.state.get(name);
      if (t) feeds[name] = t;
    }
    const out = await this.run(this.evalSession, feeds);
    const extras: Record<string, ort.Tensor> = {};
    for (const n of this.model.extraNames) if (out[n]) extras[n] = out[n];
    return { loss: Number(out[stepNames.loss].data[0]), gradNorm: Number.NaN, extras };
  }

  /**
   * Forward-only outputs (e.g. the reconstruction, for a preview) with the current
   * parameters, fed straight from the trainer's state (no copy); nothing is updated. The
   * outputs may come from another build of the same model (a batch of one, say): its
   * parameters are matched by name and `batch` feeds its own inputs. The session for a set
   * of outputs is built on first use and kept.
   */
  async forward(outputs: Readonly<Record<string, Tensor>>, batch: Batch): Promise<Record<string, ort.Tensor>> {
    const graph = Object.values(outputs)[0]?.graph ?? this.model.graph;
    const key = Object.entries(outputs)
      .map(([k, t]) => `${k}=${t.name}:${t.shape.join('x')}`)
      .sort()
      .join('\u0000');
    let session = this.forwardSessions.get(key);
    if (!session) {
      const model = graph.toModel({ outputs: { ...outputs }, name: 'forward' });
      const spec = { provider: this.provider, threads: 1 };
      session = await (this.sessions ? this.sessions.get(model, spec) : createSession(model, spec));
      this.forwardSessions.set(key, session);
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      const state = this.state.get(name);
      if (state) {
        feeds[name] = state;
        continue;
      }
      const input = graph.inputs.find((t) => t.name === name);
      const v = batch[name];
      if (!input || v === undefined) {
        throw new StudyError('BAD_INPUT', `forward pass lacks input '${name}'`, { key: name, expected: input?.shape });
      }
      feeds[name] = ArrayBuffer.isView(v) ? toOrt(input, v as FloatArray) : (v as ort.Tensor);
    }
    return this.run(session, feeds);
  }

  /** session.run; a GPU provider's failure becomes one line naming the provider and the op. */
  private async run(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>) {
    try {
      return await session.run(feeds);
    } catch (e) {
      if (this.provider === 'cpu') throw e;
      throw providerRunError(this.provider, String((e as Error)?.message ?? e));
    }
  }

  private batchFeeds(batch: Batch, needed: readonly string[]): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of this.model.batchInputs) {
      if (!needed.includes(t.name)) continue;
      const v = batch[t.name];
      if (v === undefined) {
        throw new StudyError('BAD_INPUT', `training batch lacks input '${t.name}'`, { key: t.name, expected: t.shape });
      }
      feeds[t.name] = ArrayBuffer.isView(v) ? toOrt(t, v as FloatArray) : (v as ort.Tensor);
    }
    return feeds;
  }

  /**
   * Bring device-resident state to host memory (a no-op when it is there already). The
   * copy runs as an Identity graph on the provider with host outputs: onnxruntime-node
   * 1.30 aborts the process on `Tensor.getData()` of a WebGPU buffer.
   */
  async syncToHost(): Promise<void> {
    const onDevice = [...this.state].filter(([, t]) => t.location !== 'cpu');
    if (onDevice.length === 0) return;
    if (!this.readback) {
      const names = [...this.state.keys()];
      const model = serializeModel({
        nodes: names.map((n, i) => protoNode('Identity', [n], [`host${i}`])),
        inputs: names.map((n) => valueInfo(n, this.state.get(n)!.type as ElemType, [...this.state.get(n)!.dims])),
        outputs: names.map((n, i) =>
          valueInfo(`host${i}`, this.state.get(n)!.type as ElemType, [...this.state.get(n)!.dims]),
        ),
        name: 'readback',
      });
      this.readback = await createSession(model, { provider: this.provider, threads: 1 });
    }
    const names = [...this.state.keys()];
    const out = await this.readback.run(Object.fromEntries(this.state));
    names.forEach((name, i) => {
      const prev = this.state.get(name)!;
      this.state.set(name, out[`host${i}`]);
      if (prev.location === 'gpu-buffer') prev.dispose();
    });
  }

  private hostData(name: string): FloatArray {
    const t = this.state.get(name)!;
    if (t.location !== 'cpu') {
      throw new StudyError('INTERNAL', `trainer state '${name}' is on the device: await syncToHost() first`);
    }
    return t.data as FloatArray;
  }

  /** Current parameter values (copies), by name. */
  parameters(): Map<string, FloatArray> {
    const m = new Map<string, FloatArray>();
    for (const p of [...this.model.params, ...this.model.frozen]) m.set(p.name, this.hostData(p.name).slice());
    return m;
  }

  /**
   * Parameters and optimizer state as a checkpointable value (float32). `copy: false` gives
   * float32 state as views of the trainer's own arrays, for a caller that has written them
   * out before the next step (a step replaces the arrays, it never writes into them).
   */
  getState(meta?: Record<string, unknown>, { copy = true }: { copy?: boolean } = {}): TrainingState {
    const params = new Map<string, NamedArray>();
    const slots = new Map<string, NamedArray>();
    for (const [name, t] of this.state) {
      const d = this.hostData(name);
      const a = {
        shape: [...t.dims],
        data: d instanceof Float32Array ? (copy ? d.slice() : d) : Float32Array.from(d),
      };
      (this.model.graph.params.some((p) => p.name === name) ? params : slots).set(name, a);
    }
    return {
      step: this.step,
      optimizer: { name: this.model.optimizer.name, config: { ...this.model.optimizer.config } },
      params,
      slots,
      meta,
    };
  }

  /** Restore parameters and slots; every tensor must be present with the same shape. */
  setState(state: TrainingState, file?: string): void {
    const next = new Map<string, ort.Tensor>();
    for (const [name, cur] of this.state) {
      const src = state.params.get(name) ?? state.slots.get(name);
      if (!src) throw new StudyError('BAD_INPUT', `training state lacks '${name}'`, { file, key: name });
      if (src.shape.join() !== cur.dims.join()) {
        throw new StudyError('BAD_INPUT', `training state has the wrong shape for '${name}'`, {
          file,
          key: name,
          found: src.shape,
          expected: cur.dims,
        });
      }
      const data = cur.type === 'float64' ? Float64Array.from(src.data) : src.data.slice();
      next.set(name, new OrtTensor(cur.type as 'float32', data as Float32Array, [...cur.dims]));
    }
    for (const t of this.state.values()) if (t.location === 'gpu-buffer') t.dispose();
    this.state = next;
    this.step = state.step;
  }

  async save(path: string, meta?: Record<string, unknown>): Promise<void> {
    await this.syncToHost();
    await saveState(path, this.getState(meta));
  }

  async load(path: string): Promise<TrainingState> {
    const s = await loadState(path);
    this.setState(s, path);
    return s;
  }

  /** model.onnx bytes: forward graph for `outputs` with the current parameters baked in. */
  exportInference(outputs: Readonly<Record<string, Tensor>>): Uint8Array {
    return exportInference(this.model.graph, outputs, this.parameters());
  }

  async release(): Promise<void> {
    for (const t of this.state.values()) if (t.location === 'gpu-buffer') t.dispose();
    await this.readback?.release();
    if (this.sessions) return; // kept for the next Trainer; the cache's owner releases them
    await this.trainSession.release();
    await this.evalSession.release();
    for (const session of this.forwardSessions.values()) await session.release();
  }
}

/**
 * onnxruntime's run error ("Non-zero status code returned while running MaxPool node.
 * Name:'MaxPool_12' Status Message: /onnxruntime_src/…/pool.cc:276 ComputeInternal The
 * Indices output is not supported yet") as one line naming the provider and the op.
 */
export function providerRunError(provider: string, raw: string): StudyError {
  const m = /running (\w+) node\. Name:'([^']*)' Status Message: (.*)/s.exec(raw);
  const op = m ? `${m[1]} (node ${m[2]})` : 'a node';
  const why = readableProviderError((m ? m[3] : raw).split('\n')[0]);
  return new StudyError('PROVIDER_UNAVAILABLE', `execution provider '${provider}' failed running ${op}: ${why}`, {
    key: 'accelerator',
    found: provider,
    hint: 'use --accelerator cpu (or auto, which falls back to the CPU)',
  });
}

/** Bytes of the tensors that live in host memory. */
function hostBytes(ts: readonly ort.Tensor[]): number {
  let n = 0;
  for (const t of ts) if (t.location === 'cpu') n += (t.data as ArrayBufferView).byteLength;
  return n;
}

function scalar(dtype: 'float32' | 'float64', v: number): ort.Tensor {
  return dtype === 'float64'
    ? new OrtTensor('float64', Float64Array.of(v), [])
    : new OrtTensor('float32', Float32Array.of(v), []);
}

function toOrt(t: Pick<Tensor, 'dtype' | 'shape' | 'name'>, data: FloatArray | Int32Array | BigInt64Array): ort.Tensor {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new StudyError('BAD_INPUT', `input '${t.name}' has ${data.length} values, expected [${t.shape}]`, {
      key: t.name,
      found: data.length,
      expected: t.shape,
    });
  }
  const dims = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return new OrtTensor(
        'float32',
        data instanceof Float32Array ? data : Float32Array.from(data as FloatArray),
        dims,
      );
    case 'float64':
      return new OrtTensor(
        'float64',
        data instanceof Float64Array ? data : Float64Array.from(data as FloatArray),
        dims,
      );
    case 'int64':
      return new OrtTensor('int64', data as BigInt64Array, dims);
    case 'int32':
      return new OrtTensor('int32', data as Int32Array, dims);
    default:
      throw new StudyError('BAD_INPUT', `input '${t.name}' has unsupported dtype ${t.dtype}`);
  }
}
