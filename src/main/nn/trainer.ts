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
import { createHash } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import { Tensor as OrtTensor } from 'onnxruntime-node';
import type { ExecutionProviderName } from '../../shared/api';
import { StudyError } from '../../shared/errors';
import { type NamedArray, type TrainingState, loadState, saveState } from './checkpoint';
import type { FloatArray, Tensor } from './graph';
import { readableProviderError } from './providers';
import { type ElemType, node as protoNode, serializeModel, valueInfo } from './proto';
import type { PreparedModel } from './optimized-cache';
import { ReplicaGroup, describeReplicas, flatLayout, type WireTensor } from './replicas';
import { type EngineOptions, type ResolvedProvider, cpuModel, createSession, resolveProvider } from './session';
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
  /**
   * CPU, for a model built with `hostOptimizer`: this many data-parallel replicas (threads
   * of their own, replicas.ts), each on 1/replicas of the batch with threads/replicas
   * intra-op threads. The model's graph is built for the per-replica batch; trainStep and
   * evaluate take the whole batch.
   */
  replicas?: number;
  /**
   * How the replicas' losses (and gradients) make the batch's: 'mean' (default) for a loss
   * that is a mean over the batch, 'sum' for one that is a weighted sum whose weights carry
   * the whole batch's normalisation (PtychoPINN's).
   */
  replicaLoss?: 'mean' | 'sum';
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
  /** Each replica's share of the batch's loss and gradient: 1/R for a mean loss, 1 for a sum. */
  private replicaWeight = 1;
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
    private readonly replicas?: ReplicaGroup,
  ) {
    if (replicas) {
      // The state is views of the replicas' shared buffers, updated in place by each step.
      const { layout } = replicas;
      const P = new Float32Array(layout.params);
      const slots = layout.slots.map((b) => new Float32Array(b));
      for (const slot of slots) slot.fill(0); // (a kept group's buffers hold the last job's)
      const all = [...model.params, ...model.frozen];
      for (const e of layout.entries) {
        const view = P.subarray(e.offset, e.offset + e.length);
        view.set(all.find((p) => p.name === e.name)!.init);
        this.state.set(e.name, new OrtTensor('float32', view, e.dims));
      }
      for (const p of model.params) {
        const e = layout.entries.find((x) => x.name === p.name)!;
        model.optimizer.slots.forEach((s, k) => {
          const view = slots[k].subarray(e.offset, e.offset + e.length);
          this.state.set(stepNames.slot(s, p.name), new OrtTensor('float32', view, e.dims));
        });
      }
      return;
    }
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
    if (model.hostOptimizer)
      return Trainer.createReplicated(
        model,
        resolved,
        spec,
        options.replicas ?? 1,
        options.replicaLoss ?? 'mean',
        options.sessions,
      );
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

  /** A model with a host optimizer, trained by `replicas` data-parallel replicas (CPU). */
  private static async createReplicated(
    model: TrainStepModel,
    resolved: ResolvedProvider,
    spec: { provider: ExecutionProviderName; threads?: number; deterministic?: boolean },
    replicas: number,
    replicaLoss: 'mean' | 'sum',
    cache?: SessionCache,
  ): Promise<Trainer> {
    if (resolved.provider !== 'cpu') {
      throw new StudyError(
        'INTERNAL',
        `a host-optimizer train step runs on the CPU provider, not '${resolved.provider}'`,
      );
    }
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new StudyError('BAD_INPUT', `replicas: expected a whole number ≥ 1, found ${replicas}`, {
        key: 'replicas',
      });
    }
    if (model.params.some((p) => p.dtype !== 'float32') || model.frozen.some((p) => p.dtype !== 'float32')) {
      throw new StudyError('INTERNAL', 'replicated training keeps float32 parameters only');
    }
    const each = { ...spec, threads: Math.max(1, Math.floor((spec.threads ?? 2) / replicas)) };
    const start = async () => {
      const layout = flatLayout(model.params, model.frozen, model.optimizer.slots.length, replicas, stepNames.grad);
      const fresh = async (m: Uint8Array): Promise<PreparedModel> => ({
        bytes: await cpuModel(m, each),
        preOptimized: false,
        commit: () => {},
        discard: () => {},
      });
      // the optimised graphs on disk, as a single session's (optimized-cache.ts)
      const prepare = (m: Uint8Array) => (cache?.optimized ? cache.optimized.prepare(m, each) : fresh(m));
      const attempt = async () => {
        const [train, evaluate] = await Promise.all([prepare(model.trainModel), prepare(model.evalModel)]);
        try {
          const group = await ReplicaGroup.start(replicas, layout, train, evaluate, each);
          train.commit();
          evaluate.commit();
          return group;
        } catch (e) {
          train.discard();
          evaluate.discard();
          if (train.preOptimized || evaluate.preOptimized) return null; // a file on disk that did not load (now removed): optimise again
          if (!train.saveTo && !evaluate.saveTo) throw e;
          // saving the optimised graphs failed (a full disk): train without keeping them
          const plain = (m: PreparedModel) => ({ bytes: m.bytes, preOptimized: false });
          return ReplicaGroup.start(replicas, layout, plain(train), plain(evaluate), each);
        }
      };
      const group = (await attempt()) ?? (await attempt());
      if (!group) throw new StudyError('INTERNAL', 'the training replicas could not load their optimised graphs');
      return group;
    };
    // Kept across the jobs of a worker like its sessions (the threads hold them), unless
    // another Trainer still trains on the kept one.
    const key = () =>
      `replicas|${replicas}|${JSON.stringify(each)}|${digest(model.trainModel)}|${digest(model.evalModel)}`;
    // (counted as its two graphs' sessions, as a single session's train and evaluate are)
    let group = cache ? await cache.keep(key(), start, (g) => g.release(), 2) : null;
    if (group && !group.claimed && group.healthy) group.kept = true;
    else group = await start();
    group.claimed = true;
    const detail = `${resolved.detail}; ${describeReplicas(replicas, each.threads)}`;
    // The sessions are the replicas'; the Trainer's own two are never used.
    const trainer = new Trainer(model, 'cpu', detail, NO_SESSION, NO_SESSION, false, undefined, group);
    trainer.replicaWeight = replicaLoss === 'mean' ? 1 / replicas : 1;
    return trainer;
  }

  /** Data-parallel replicas (CPU, host optimizer): how many; 1 for a single session. */
  get replicaCount(): number {
    return this.replicas?.size ?? 1;
  }

  /** One optimizer update on `batch` at learning rate `lr`. */
  async trainStep(batch: Batch, lr: number): Promise<StepResult> {
    if (this.replicas) return this.replicatedStep(this.replicas, batch, lr);
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

  /**
   * The replicas' step: each one's gradients on its part of the batch, then each updates its
   * share of the parameters with their sum (after the norm, when it clips).
   */
  private async replicatedStep(group: ReplicaGroup, batch: Batch, lr: number): Promise<StepResult> {
    const parts = this.splitBatch(batch, group.size);
    const names = this.model.extraNames;
    const res = await group.all((r) => ({ type: 'grad', feeds: parts[r], extras: names }));
    const w = this.replicaWeight;
    const loss = res.reduce((a, x) => a + (x.loss as number), 0) * w;
    const clip = this.model.clipGradNorm;
    let sumsq: number | undefined;
    let scale = w;
    if (clip !== undefined) {
      const n = await group.all((r) => ({ type: 'norm', ...group.range(r) }));
      sumsq = n.reduce((a, x) => a + (x.sumsq as number), 0) * w * w;
      scale = (w * clip) / Math.max(Math.sqrt(sumsq), clip);
    }
    const t = this.step + 1;
    const opt = this.model.optimizer;
    const applied = await group.all((r) => ({
      type: 'apply',
      ...group.range(r),
      optimizer: { name: opt.name, config: { ...opt.config } },
      lr,
      host: opt.hostScalars?.(t) ?? {},
      scale,
    }));
    sumsq ??= applied.reduce((a, x) => a + (x.sumsq as number), 0) * w * w;
    this.step++;
    this.lastTransfer = { hostToDevice: 0, deviceToHost: 0 };
    return { loss, gradNorm: Math.sqrt(sumsq), extras: joinExtras(res, names) };
  }

  /** Each graph input's part for each replica: split along the batch axis, or the same for all. */
  private splitBatch(batch: Batch, R: number): Record<string, WireTensor>[] {
    const parts: Record<string, WireTensor>[] = Array.from({ length: R }, () => ({}));
    for (const t of this.model.batchInputs) {
      const v = batch[t.name];
      if (v === undefined) {
        throw new StudyError('BAD_INPUT', `training batch lacks input '${t.name}'`, { key: t.name, expected: t.shape });
      }
      const data = (ArrayBuffer.isView(v) ? v : (v as ort.Tensor).data) as FloatArray | Int32Array | BigInt64Array;
      const n = t.shape.reduce((a, b) => a * b, 1);
      const whole = data.length === n;
      if (!whole && data.length !== n * R) {
        throw new StudyError(
          'BAD_INPUT',
          `input '${t.name}' has ${data.length} values, expected ${R} × [${t.shape}] (one part per replica)`,
          { key: t.name, found: data.length, expected: t.shape },
        );
      }
      for (let r = 0; r < R; r++) {
        // converted to the input's dtype as a single session's feed is (toOrt)
        const part = toOrt(t, whole ? data.slice() : data.slice(r * n, (r + 1) * n));
        parts[r][t.name] = { type: part.type, data: part.data as ArrayBufferView, dims: [...t.shape] };
      }
    }
    return parts;
  }

  /** Loss and extras on `batch` with the current parameters; nothing is updated. */
  async evaluate(batch: Batch): Promise<StepResult> {
    if (this.replicas) {
      const parts = this.splitBatch(batch, this.replicas.size);
      const names = this.model.extraNames;
      const res = await this.replicas.all((r) => ({ type: 'evaluate', feeds: parts[r], extras: names }));
      const loss = res.reduce((a, x) => a + (x.loss as number), 0) * this.replicaWeight;
      return { loss, gradNorm: Number.NaN, extras: joinExtras(res, names) };
    }
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
        // replicas' state is shared memory, which onnxruntime-node does not take: a copy
        feeds[name] = this.replicas
          ? new OrtTensor('float32', (state.data as Float32Array).slice(), [...state.dims])
          : state;
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
   * out before the next step (a single session's step replaces the arrays; replicas write
   * into them).
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
      if (this.replicas) continue; // written into the shared buffers below, once all are checked
      const data = cur.type === 'float64' ? Float64Array.from(src.data) : src.data.slice();
      next.set(name, new OrtTensor(cur.type as 'float32', data as Float32Array, [...cur.dims]));
    }
    if (this.replicas) {
      for (const [name, cur] of this.state)
        (cur.data as Float32Array).set((state.params.get(name) ?? state.slots.get(name))!.data);
      this.step = state.step;
      return;
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
    if (this.replicas) {
      this.replicas.claimed = false;
      if (!this.replicas.kept) await this.replicas.release();
    }
    if (this.sessions) return; // kept for the next Trainer; the cache's owner releases them
    await this.trainSession.release(); // (NO_SESSION with replicas: a no-op)
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

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Stands in for the Trainer's own sessions when its replicas hold them. */
const NO_SESSION = {
  inputNames: [],
  outputNames: [],
  run: () => Promise.reject(new StudyError('INTERNAL', 'this trainer runs its steps on its replicas')),
  release: () => Promise.resolve(),
} as unknown as ort.InferenceSession;

/** The replicas' extras, joined along the batch axis. */
function joinExtras(res: readonly Record<string, unknown>[], names: readonly string[]): Record<string, ort.Tensor> {
  const extras: Record<string, ort.Tensor> = {};
  for (const n of names) {
    const parts = res.map((x) => (x.extras as Record<string, WireTensor>)[n]);
    const len = parts.reduce((a, p) => a + (p.data as FloatArray).length, 0);
    const first = parts[0].data as FloatArray;
    const data = new (first.constructor as Float32ArrayConstructor)(len);
    let at = 0;
    for (const p of parts) {
      data.set(p.data as Float32Array, at);
      at += (p.data as FloatArray).length;
    }
    extras[n] = new OrtTensor(parts[0].type as 'float32', data, [
      parts[0].dims[0] * parts.length,
      ...parts[0].dims.slice(1),
    ]);
  }
  return extras;
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
