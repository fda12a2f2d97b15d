/**
 * The CPU sessions' optimised graphs, kept on disk between processes. Creating the
 * PtychoPINN train-step session (NCHWc rewrite, then ORT's 'all' optimisation) costs about a
 * second; ORT can write the graph it optimised (optimizedModelFilePath) and load that file
 * later with optimisation off in a fifth of the time, running the same kernels (the same
 * bits: session-cache.test.ts). Every `train` run's first job would otherwise pay it again.
 *
 * ORT's layout optimisations depend on the CPU, so a file is keyed by what went in — the
 * model bytes, the session options, the NCHWc block size, switch and rewrite version,
 * onnxruntime's version, and the CPU (model name and feature flags) — and used only on a
 * machine that matches.
 * Files are written under a temporary name and renamed (two processes may race), a file
 * that fails to load is replaced, and the least recently used go beyond `keep`. Off with
 * `PTYCHO_ORT_CACHE=0`; the folder is `PTYCHO_ORT_CACHE_DIR`, else the user's cache folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, utimesSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { pruneCacheDir, userCacheDir } from '../util/user-cache';
import { NCHWC_REWRITE_VERSION, nchwcBlockSize } from './nchwc';
import { cpuModel, createSession, type SessionSpec, sessionOptions } from './session';

const SUFFIX = '.ort.onnx';

/** The folder, or null when the cache is off. */
export function optimizedCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.PTYCHO_ORT_CACHE === '0') return null;
  if (env.PTYCHO_ORT_CACHE_DIR) return env.PTYCHO_ORT_CACHE_DIR;
  return userCacheDir('ort-optimized', env);
}

let machine: string | undefined;
/** What makes an optimised graph valid on this machine only. */
function machineKey(): string {
  if (machine) return machine;
  let flags = '';
  try {
    flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux: the model name has to do
  }
  machine = JSON.stringify([platform(), arch(), cpus()[0]?.model ?? '', flags, ort.env.versions]);
  return machine;
}

export interface OptimizedCache {
  create(model: Uint8Array, spec: SessionSpec): Promise<ort.InferenceSession>;
  /**
   * For sessions created elsewhere (the data-parallel replicas' threads): the optimised
   * graph's bytes from disk (`preOptimized`), or the bytes to optimise and the temporary file
   * one of those sessions saves its optimised graph to; `commit()` once it is created puts
   * the file in place, `discard()` drops a file that failed to load.
   */
  prepare(model: Uint8Array, spec: SessionSpec): Promise<PreparedModel>;
  /** Sessions loaded from an optimised graph on disk so far. */
  loaded(): number;
}

export interface PreparedModel {
  bytes: Uint8Array;
  preOptimized: boolean;
  saveTo?: string;
  commit(): void;
  discard(): void;
}

export function createOptimizedCache(dir: string, opts: { keep?: number } = {}): OptimizedCache {
  const keep = opts.keep ?? 16;
  let loaded = 0;
  const prune = () => pruneCacheDir(dir, SUFFIX, keep);
  const fileFor = async (model: Uint8Array, spec: SessionSpec) => {
    const nchwc = spec.nchwc ?? process.env.PTYCHO_NCHWC !== '0';
    const key = createHash('sha256')
      .update(machineKey())
      .update(JSON.stringify(sessionOptions(spec)))
      .update(
        JSON.stringify([
          { ...spec, spin: undefined },
          nchwc,
          nchwc ? [await nchwcBlockSize(), NCHWC_REWRITE_VERSION] : 0,
        ]),
      )
      .update(model)
      .digest('hex');
    return join(dir, `${key}${SUFFIX}`);
  };
  const remove = (path: string) => {
    try {
      unlinkSync(path);
    } catch {}
  };
  /** A temporary name for `file` in the folder; undefined when the folder is not writable. */
  const tempFor = (file: string) => {
    try {
      mkdirSync(dir, { recursive: true });
      return join(dir, `${basename(file, SUFFIX)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    } catch {
      return undefined; // no writable cache folder: sessions are still created
    }
  };
  /** The saved graph put in place; on a full disk or a lost race, dropped (the next run optimises again). */
  const keepAs = (tmp: string, file: string) => {
    try {
      renameSync(tmp, file);
      prune();
    } catch {
      remove(tmp);
    }
  };
  const touch = (file: string) => {
    loaded++;
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {}
  };
  return {
    loaded: () => loaded,
    async prepare(model, spec) {
      const file = await fileFor(model, spec);
      if (existsSync(file)) {
        try {
          const bytes = readFileSync(file);
          return { bytes, preOptimized: true, commit: () => touch(file), discard: () => remove(file) };
        } catch {
          // unreadable: optimise again below
        }
      }
      const bytes = await cpuModel(model, spec);
      const saveTo = tempFor(file);
      return {
        bytes,
        preOptimized: false,
        saveTo,
        commit: () => {
          if (saveTo) keepAs(saveTo, file);
        },
        discard: () => {
          if (saveTo) remove(saveTo);
        },
      };
    },
    async create(model, spec) {
      if (spec.provider !== 'cpu') return createSession(model, spec);
      const file = await fileFor(model, spec);
      if (existsSync(file)) {
        try {
          const session = await createSession(readFileSync(file), { ...spec, preOptimized: true });
          touch(file);
          return session;
        } catch {
          // unreadable or cut short: optimise again and replace it
        }
      }
      let tmp = tempFor(file);
      let session: Awaited<ReturnType<typeof createSession>>;
      try {
        session = await createSession(model, tmp ? { ...spec, saveOptimizedTo: tmp } : spec);
      } catch (e) {
        if (!tmp) throw e;
        // saving the optimised graph failed (a full disk): train without keeping it
        remove(tmp);
        tmp = undefined;
        session = await createSession(model, spec);
      }
      if (tmp) keepAs(tmp, file);
      return session;
    },
  };
}
