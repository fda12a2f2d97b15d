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
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { pruneCacheDir, userCacheDir } from '../util/user-cache';
import { NCHWC_REWRITE_VERSION, nchwcBlockSize } from './nchwc';
import { createSession, type SessionSpec, sessionOptions } from './session';

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
  /** Sessions loaded from an optimised graph on disk so far. */
  loaded(): number;
}

export function createOptimizedCache(dir: string, opts: { keep?: number } = {}): OptimizedCache {
  const keep = opts.keep ?? 16;
  let loaded = 0;
  const prune = () => pruneCacheDir(dir, SUFFIX, keep);
  return {
    loaded: () => loaded,
    async create(model, spec) {
      if (spec.provider !== 'cpu') return createSession(model, spec);
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
      const file = join(dir, `${key}${SUFFIX}`);
      if (existsSync(file)) {
        try {
          const session = await createSession(readFileSync(file), { ...spec, preOptimized: true });
          const now = new Date();
          utimesSync(file, now, now);
          loaded++;
          return session;
        } catch {
          // unreadable or cut short: optimise again and replace it
        }
      }
      let tmp: string | null = null;
      try {
        mkdirSync(dir, { recursive: true });
        tmp = join(dir, `${key}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      } catch {
        tmp = null; // no writable cache folder: the session is still created
      }
      let session: Awaited<ReturnType<typeof createSession>>;
      try {
        session = await createSession(model, tmp ? { ...spec, saveOptimizedTo: tmp } : spec);
      } catch (e) {
        if (!tmp) throw e;
        // saving the optimised graph failed (a full disk): train without keeping it
        try {
          unlinkSync(tmp);
        } catch {}
        tmp = null;
        session = await createSession(model, spec);
      }
      if (tmp) {
        try {
          renameSync(tmp, file);
          prune();
        } catch {
          // a full disk or a race lost: the next run optimises again
          try {
            unlinkSync(tmp);
          } catch {}
        }
      }
      return session;
    },
  };
}
