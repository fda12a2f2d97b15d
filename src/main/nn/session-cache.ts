/**
 * ORT sessions kept across Trainers in one process: a worker that trains several jobs one
 * after another (the study's doses of one view have the same graph; only the data and the
 * initial parameter values, which are session inputs, differ) creates each distinct graph's
 * session once. Creating the PtychoPINN train-step session ('all' optimisation and the NCHWc
 * rewrite) costs about a second; a session holds no state between runs, so a job trained on a
 * kept session gets the same bits as on a new one (train-job.test.ts checks it).
 *
 * Sessions are keyed by the serialised model's SHA-256 and the session options. A job's
 * first miss (a different graph) releases the sessions that earlier jobs made and this one
 * has not used, so at most one job's graphs stay resident. The owner (the worker) calls
 * `beginJob` before each job and `release` at exit; a Trainer never releases a kept session.
 */
import { createHash } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import type { OptimizedCache } from './optimized-cache';
import { createSession, type SessionSpec } from './session';

export interface SessionCache {
  /** The session for `model` under `spec`: a kept one, or a new one that is then kept. */
  get(model: Uint8Array, spec: SessionSpec): Promise<ort.InferenceSession>;
  /**
   * Any other resource kept by the same rules under `key` (a Trainer's data-parallel
   * replicas, whose threads hold their sessions): a kept one, or `create()`'s, kept, and
   * `release`d when a later job leaves it unused or at `release()`. It counts as `graphs`
   * sessions (default 1) in `stats`.
   */
  keep<T>(key: string, create: () => Promise<T>, release: (value: T) => Promise<void>, graphs?: number): Promise<T>;
  /** A new job starts: what it asks for marks the sessions it uses. */
  beginJob(): void;
  /** The optimised graphs on disk behind `get`, for sessions created elsewhere (replicas). */
  readonly optimized?: OptimizedCache;
  /** Sessions created (`loaded` of them from an optimised graph on disk) and reused so far (logs, tests). */
  stats(): { created: number; reused: number; kept: number; loaded: number };
  release(): Promise<void>;
}

interface Entry {
  value: Promise<unknown>;
  release: (value: unknown) => Promise<void>;
  job: number;
}

export function createSessionCache(
  create: (model: Uint8Array, spec: SessionSpec) => Promise<ort.InferenceSession> = createSession,
  /** How many of the created sessions `create` loaded from disk (optimized-cache.ts). */
  loadedFromDisk: () => number = () => 0,
  optimized?: OptimizedCache,
): SessionCache {
  const entries = new Map<string, Entry>();
  let job = 0;
  let created = 0;
  let reused = 0;
  const drop = async (key: string) => {
    const e = entries.get(key);
    entries.delete(key);
    await e?.value.then((v) => e.release(v)).catch(() => {});
  };
  const keep = async <T>(
    key: string,
    make: () => Promise<T>,
    release: (v: T) => Promise<void>,
    graphs = 1,
  ): Promise<T> => {
    const hit = entries.get(key);
    if (hit) {
      hit.job = job;
      reused += graphs;
      return hit.value as Promise<T>;
    }
    // another graph: what earlier jobs made and this job has not asked for goes first
    for (const [k, e] of [...entries]) if (e.job !== job) await drop(k);
    const value = make();
    entries.set(key, { value, release: release as (v: unknown) => Promise<void>, job });
    try {
      const v = await value;
      created += graphs;
      return v;
    } catch (e) {
      entries.delete(key);
      throw e;
    }
  };
  return {
    get(model, spec) {
      const key = `${createHash('sha256').update(model).digest('hex')}|${JSON.stringify(spec)}`;
      return keep(
        key,
        () => create(model, spec),
        (s) => s.release(),
      );
    },
    keep,
    optimized,
    beginJob() {
      job++;
    },
    stats: () => ({ created, reused, kept: entries.size, loaded: loadedFromDisk() }),
    async release() {
      for (const k of [...entries.keys()]) await drop(k);
    },
  };
}
