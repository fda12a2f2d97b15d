/**
 * Data-parallel CPU training: R replicas of the gradient graph (TrainStepSpec.hostOptimizer),
 * each in a worker thread with its own onnxruntime session and `threads / R` intra-op
 * threads, each on 1/R of the batch. The parameters, the optimizer state and each replica's
 * gradients live in SharedArrayBuffers: a replica feeds the parameters to its session
 * without a copy, writes its gradients into its own buffer, and then each replica updates
 * its 1/R of the (flat) parameters in place with the gradients summed over the replicas.
 *
 * Why: onnxruntime's CPU kernels that only copy (Slice, Pad, the MaxPool with indices,
 * MaxUnpool, Concat) run on one thread, so with two intra-op threads one core idles through
 * them (≈ 20% of a PtychoPINN step); two one-thread replicas keep both cores busy
 * (docs/benchmarks.md, pinn). The replicas' losses and gradients are summed (PtychoPINN's
 * loss is a weighted sum whose weights carry the whole batch's 1/n) or averaged (a loss that
 * is a mean over the batch): the Trainer's `replicaLoss`. The update is Keras' Adam (or SGD)
 * as optim.ts builds it in a graph, in float64 arithmetic with float32 state.
 *
 * The worker is a plain script (no bundling, no TypeScript): it runs as an eval'd worker and
 * loads onnxruntime-node from the path the parent resolved.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { StudyError } from '../../shared/errors';
import { type SessionSpec, sessionOptions } from './session';

/** One tensor of the flat state: `offset`, `length` in float32 elements. */
export interface FlatEntry {
  name: string;
  dims: number[];
  offset: number;
  length: number;
}

/** Where the shared state lives (cloned to each worker once). */
export interface ReplicaLayout {
  /** Trained parameters first (elements [0, trainedLength)), then the frozen ones. */
  entries: FlatEntry[];
  trainedLength: number;
  /** Output name of each trained parameter's gradient, by parameter name. */
  gradNames: Record<string, string>;
  params: SharedArrayBuffer;
  /** One per optimizer slot, laid out as the trained parameters. */
  slots: SharedArrayBuffer[];
  /** One per replica, laid out as the trained parameters. */
  grads: SharedArrayBuffer[];
}

/** A graph as the replicas' sessions are created from it. */
export interface ReplicaModel {
  bytes: Uint8Array;
  /** An optimised graph from disk: loaded with optimisation off. */
  preOptimized: boolean;
  /** Where the first replica saves the graph as onnxruntime optimised it. */
  saveTo?: string;
}

/** A fed tensor as it crosses to a worker. */
export interface WireTensor {
  type: ort.Tensor.Type;
  data: ArrayBufferView;
  dims: number[];
}

export interface OptimizerWire {
  name: 'adam' | 'sgd';
  config: Readonly<Record<string, number>>;
}

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const { layout, index } = workerData;
const P = new Float32Array(layout.params);
const slots = layout.slots.map((b) => new Float32Array(b));
const grads = layout.grads.map((b) => new Float32Array(b));
const G = grads[index];
// onnxruntime-node takes no SharedArrayBuffer-backed input: the parameters are fed from a
// local copy, refreshed before each run.
const local = new Float32Array(P.length);
const paramFeeds = {};
for (const e of layout.entries) paramFeeds[e.name] = new ort.Tensor('float32', local.subarray(e.offset, e.offset + e.length), e.dims);
let train = null;
let evaluate = null;
const tensors = (feeds) => {
  const out = {};
  for (const [k, t] of Object.entries(feeds)) out[k] = new ort.Tensor(t.type, t.data, t.dims);
  return out;
};
const wire = (out, names) => {
  const r = {};
  for (const n of names) r[n] = { type: out[n].type, data: out[n].data, dims: out[n].dims };
  return r;
};
// Σ_i (Σ_r grads[r][i])² over [lo, hi): the replicas' summed gradient's squared norm there.
function sumSquares(lo, hi) {
  let ss = 0;
  const R = grads.length;
  for (let i = lo; i < hi; i++) {
    let g = grads[0][i];
    for (let r = 1; r < R; r++) g += grads[r][i];
    ss += g * g;
  }
  return ss;
}
// The update of elements [lo, hi) with the replicas' summed gradient times 'scale' (the
// replicas' weight, and the clipping); returns Σ g² of the unscaled sum.
function apply(lo, hi, opt, lr, host, scale) {
  const R = grads.length;
  const g0 = grads[0];
  const g1 = R > 1 ? grads[1] : null;
  let ss = 0;
  if (opt.name === 'adam') {
    const b1 = opt.config.beta1, b2 = opt.config.beta2, eps = opt.config.epsilon;
    const alpha = lr * host.adam_correction;
    const m = slots[0], v = slots[1];
    for (let i = lo; i < hi; i++) {
      let g = R === 2 ? g0[i] + g1[i] : g0[i];
      for (let r = 2; r < R; r++) g += grads[r][i];
      ss += g * g;
      g *= scale;
      const m1 = Math.fround(b1 * m[i] + (1 - b1) * g);
      const v1 = Math.fround(b2 * v[i] + (1 - b2) * g * g);
      m[i] = m1;
      v[i] = v1;
      P[i] = P[i] - (m1 * alpha) / (Math.sqrt(v1) + eps);
    }
  } else {
    const mu = opt.config.momentum;
    const u = slots[0];
    for (let i = lo; i < hi; i++) {
      let g = g0[i];
      for (let r = 1; r < R; r++) g += grads[r][i];
      ss += g * g;
      g *= scale;
      if (mu > 0) {
        const u1 = Math.fround(mu * u[i] - lr * g);
        u[i] = u1;
        P[i] = P[i] + u1;
      } else P[i] = P[i] - lr * g;
    }
  }
  return ss;
}
const handlers = {
  async init(msg) {
    train = await ort.InferenceSession.create(msg.trainModel, msg.trainOptions);
    evaluate = msg.evalModel ? await ort.InferenceSession.create(msg.evalModel, msg.evalOptions) : null;
    return {};
  },
  async grad(msg) {
    local.set(P);
    const out = await train.run({ ...paramFeeds, ...tensors(msg.feeds) });
    for (const e of layout.entries) {
      const name = layout.gradNames[e.name];
      if (name) G.set(out[name].data, e.offset);
    }
    return { loss: Number(out.loss.data[0]), extras: wire(out, msg.extras) };
  },
  async evaluate(msg) {
    local.set(P);
    const out = await evaluate.run({ ...paramFeeds, ...tensors(msg.feeds) });
    return { loss: Number(out.loss.data[0]), extras: wire(out, msg.extras) };
  },
  norm(msg) {
    return { sumsq: sumSquares(msg.lo, msg.hi) };
  },
  apply(msg) {
    return { sumsq: apply(msg.lo, msg.hi, msg.optimizer, msg.lr, msg.host, msg.scale) };
  },
  async release() {
    await train?.release();
    await evaluate?.release();
    train = evaluate = null;
    return {};
  },
};
parentPort.on('message', async (msg) => {
  try {
    parentPort.postMessage({ id: msg.id, ok: true, result: await handlers[msg.type](msg) });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: msg.type + ": " + String((e && e.message) || e) });
  }
});
`;

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

/** The replica threads of one Trainer. */
export class ReplicaGroup {
  private nextId = 0;
  private readonly pending: Map<number, Pending>[];
  private failure: Error | null = null;
  private released = false;
  /** A Trainer trains on these replicas now. */
  claimed = false;
  /** A SessionCache keeps them (its owner releases them, not the Trainer). */
  kept = false;

  private constructor(
    private readonly workers: Worker[],
    readonly layout: ReplicaLayout,
  ) {
    this.pending = workers.map(() => new Map());
    workers.forEach((w, r) => {
      w.on('message', (msg: { id: number; ok: boolean; result?: Record<string, unknown>; error?: string }) => {
        const p = this.pending[r].get(msg.id);
        if (!p) return;
        this.pending[r].delete(msg.id);
        if (this.pending[r].size === 0) w.unref();
        if (msg.ok) p.resolve(msg.result ?? {});
        else p.reject(new StudyError('INTERNAL', `training replica ${r + 1}: ${msg.error}`));
      });
      const fail = (e: Error) => {
        this.failure ??= e;
        for (const p of this.pending[r].values()) p.reject(e);
        this.pending[r].clear();
        w.unref();
      };
      w.on('error', (e) => fail(new StudyError('INTERNAL', `training replica ${r + 1} failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (!this.released) fail(new StudyError('INTERNAL', `training replica ${r + 1} exited (code ${code})`));
      });
    });
  }

  /** No replica has failed or exited, and the group is not released. */
  get healthy(): boolean {
    return !this.failure && !this.released;
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Start `replicas` threads and create their sessions (train, and evaluate when given) from
   * the bytes a CPU session takes (session.ts `cpuModel`, or an optimised graph from disk);
   * the first replica saves each optimised graph to its `saveTo`.
   */
  static async start(
    replicas: number,
    layout: ReplicaLayout,
    train: ReplicaModel,
    evaluate: ReplicaModel | null,
    spec: SessionSpec,
  ): Promise<ReplicaGroup> {
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    const workers = Array.from(
      { length: replicas },
      (_, index) => new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath, layout, index } }),
    );
    for (const w of workers) w.unref();
    const group = new ReplicaGroup(workers, layout);
    const options = (m: ReplicaModel, r: number) => {
      const o = sessionOptions({
        ...spec,
        preOptimized: m.preOptimized,
        saveOptimizedTo: r === 0 ? m.saveTo : undefined,
      });
      // each replica its own profile file (PTYCHO_ORT_PROFILE)
      return o.profileFilePrefix ? { ...o, profileFilePrefix: `${o.profileFilePrefix}_replica${r + 1}` } : o;
    };
    try {
      await group.all((r) => ({
        type: 'init',
        trainModel: train.bytes,
        trainOptions: options(train, r),
        evalModel: evaluate?.bytes ?? null,
        evalOptions: evaluate ? options(evaluate, r) : null,
      }));
    } catch (e) {
      await group.release();
      throw e;
    }
    return group;
  }

  /** Send `message(r)` to every replica; the results in replica order. */
  all(message: (r: number) => Record<string, unknown>): Promise<Record<string, unknown>[]> {
    return Promise.all(this.workers.map((_, r) => this.call(r, message(r))));
  }

  private call(r: number, message: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.released) return Promise.reject(new StudyError('INTERNAL', 'training replicas were released'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending[r].set(id, { resolve, reject });
      // Referenced only while a call is under way: idle replicas never keep the process alive.
      this.workers[r].ref();
      this.workers[r].postMessage({ ...message, id });
    });
  }

  /** The flat element range of the trained parameters that replica `r` updates. */
  range(r: number): { lo: number; hi: number } {
    const n = this.layout.trainedLength;
    const R = this.workers.length;
    return { lo: Math.floor((n * r) / R), hi: Math.floor((n * (r + 1)) / R) };
  }

  async release(): Promise<void> {
    if (this.released) return;
    if (!this.failure) await this.all(() => ({ type: 'release' })).catch(() => {});
    this.released = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** "2 data-parallel replicas × 1 thread": how logs and the bench name them. */
export function describeReplicas(replicas: number, threadsEach: number): string {
  const plural = (n: number, word: string) => `${n} ${word}${n > 1 ? 's' : ''}`;
  return `${plural(replicas, 'data-parallel replica')} × ${plural(threadsEach, 'thread')}`;
}

/** Lay out `trained` then `frozen` tensors in one shared float32 buffer (64-byte aligned entries). */
export function flatLayout(
  trained: readonly { name: string; shape: readonly number[] }[],
  frozen: readonly { name: string; shape: readonly number[] }[],
  slotCount: number,
  replicas: number,
  gradName: (param: string) => string,
): ReplicaLayout {
  const entries: FlatEntry[] = [];
  let at = 0;
  const place = (t: { name: string; shape: readonly number[] }) => {
    const length = t.shape.reduce((a, b) => a * b, 1);
    entries.push({ name: t.name, dims: [...t.shape], offset: at, length });
    at += Math.ceil(length / 16) * 16;
  };
  trained.forEach(place);
  const trainedLength = at;
  frozen.forEach(place);
  const bytes = (n: number) => new SharedArrayBuffer(Math.max(n, 1) * 4);
  return {
    entries,
    trainedLength,
    gradNames: Object.fromEntries(trained.map((t) => [t.name, gradName(t.name)])),
    params: bytes(at),
    slots: Array.from({ length: slotCount }, () => bytes(trainedLength)),
    grads: Array.from({ length: replicas }, () => bytes(trainedLength)),
  };
}
