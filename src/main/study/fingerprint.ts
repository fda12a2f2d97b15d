/**
 * Up-to-date checks for training jobs, in the spirit of Snakemake's rerun triggers and
 * Nextflow's -resume: a done job is current while its config, its input files' content, the
 * trainer's code version and the provider match what it was trained with, and its model file
 * is still the one it wrote. Inputs are compared by size + mtime first and by content hash
 * when those differ (or always with `deep`), so an unchanged study is checked in milliseconds.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedJobConfig } from '../../shared/config';
import {
  FINGERPRINT_VERSION,
  type InputFingerprint,
  JobFingerprint,
  type JobFreshness,
} from '../../shared/fingerprint';
import { configFieldsWithoutEffect } from '../../shared/knobs';
import type { ManifestJob } from '../../shared/manifest';
import { buildTrainStep } from '../nn/train-step';
import { adam } from '../nn/optim';
import { buildPinnGraph } from '../pinn/model';
import { writeFileAtomicSync } from '../data/atomic';
import { pruneCacheDir, userCacheDir } from '../util/user-cache';
import { appVersion } from '../version';
import type { StudyRoots, TrainingJob } from './jobs';

/** Config keys that cannot change what a job learns: where it writes, and the knobs the knob table says so of. */
const NOT_RESULT_KEYS = new Set<string>([
  'output_dir',
  'train_data_file',
  'test_data_file',
  ...configFieldsWithoutEffect(),
]);

export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

let graphHash: string | null = null;

/**
 * A hash of the training graph definition: the serialised train step of a small PtychoPINN
 * (both gridsizes, fixed seed and probe). Any change to an op, a VJP rule, the physics, the
 * network or the optimizer changes it; config values are fingerprinted separately.
 *
 * Building and serialising those graphs takes ≈ 0.25 s, on the critical path of every `train`
 * (its up-to-date check runs before the first job). The hash is a function of the code alone,
 * so a bundled build keeps it on disk keyed by the bundle's own bytes (`graphHashCacheKey`)
 * and computes it once per build; from sources (tests) it is always computed.
 */
export function trainingGraphSha256(): string {
  if (graphHash) return graphHash;
  graphHash = cachedGraphSha256(graphHashCacheKey(), graphHashCacheDir(), computeTrainingGraphSha256);
  return graphHash;
}

/** The user's cache folder for graph hashes (XDG_CACHE_HOME respected). */
export function graphHashCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return userCacheDir('graph-sha256', env);
}

/**
 * A key for the code that builds the graph: the sha256 of every JavaScript file of the bundle
 * this module is part of (its folder, and a `chunks` folder in it) with the app's version, or
 * null when this module runs from its TypeScript source. The bundle holds its dependencies
 * (scripts/node-bundle.mjs), the ONNX protobuf encoder that shapes the bytes among them.
 */
export function graphHashCacheKey(moduleFile: string = fileURLToPath(import.meta.url)): string | null {
  if (!/\.[cm]?js$/.test(moduleFile)) return null;
  const hash = createHash('sha256').update(appVersion());
  const dir = dirname(moduleFile);
  for (const folder of [dir, join(dir, 'chunks')]) {
    let names: string[];
    try {
      names = readdirSync(folder)
        .filter((n) => /\.[cm]?js$/.test(n))
        .sort();
    } catch {
      continue;
    }
    for (const n of names) hash.update(n).update(readFileSync(join(folder, n)));
  }
  return hash.digest('hex');
}

const GRAPH_HASHES_KEPT = 16;

/**
 * `compute()`, or the value a run of the same code stored under `key` in `dir`. A missing,
 * unreadable or malformed entry is computed again and rewritten (temp file + rename, so two
 * processes can race); a folder that cannot be written costs only the cache. The newest
 * `GRAPH_HASHES_KEPT` entries are kept.
 */
export function cachedGraphSha256(key: string | null, dir: string | null, compute: () => string): string {
  if (!key || !dir) return compute();
  const file = join(dir, `${key}.txt`);
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(stored)) return stored;
  } catch {
    // not stored yet
  }
  const value = compute();
  try {
    mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(file, `${value}\n`, { durable: false });
    pruneCacheDir(dir, '.txt', GRAPH_HASHES_KEPT);
  } catch {
    // a read-only or full cache folder: the value is still right
  }
  return value;
}

function computeTrainingGraphSha256(): string {
  const hash = createHash('sha256');
  for (const gridsize of [1, 2]) {
    const N = 16;
    const probe = { re: new Float32Array(N * N).fill(1), im: new Float32Array(N * N) };
    const pg = buildPinnGraph(
      {
        N,
        gridsize,
        nFiltersScale: 1,
        ampActivation: 'sigmoid',
        probeBig: true,
        probeMask: false,
        intensityScaleTrainable: true,
        seed: 0,
        batch: 1,
      },
      probe,
      1,
      true,
    );
    if (!pg.loss) throw new Error('training graph without a loss');
    hash.update(buildTrainStep({ loss: pg.loss, optimizer: adam({ epsilon: 1e-7 }) }).trainModel);
  }
  return hash.digest('hex');
}

function flatten(prefix: string, value: unknown, out: Record<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else {
    out[prefix] = value;
  }
}

/** The config that decides the result, flattened to sorted `section.key` entries (model.N, training.nepochs…). */
export function resultConfig(config: ResolvedJobConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const training = Object.fromEntries(Object.entries(config.training).filter(([k]) => !NOT_RESULT_KEYS.has(k)));
  flatten('training', training, out);
  flatten('model', config.model, out);
  return out;
}

function inputLabel(path: string, roots: Pick<StudyRoots, 'phaseCRoot' | 'phaseDRoot'>): string {
  for (const root of [roots.phaseDRoot, roots.phaseCRoot]) {
    const rel = relative(root, path);
    if (rel && !rel.startsWith('..') && !rel.startsWith(sep)) return rel.split(sep).join('/');
  }
  return path;
}

export interface FingerprintOptions {
  /** A previous fingerprint whose input hashes may be reused where size and mtime still match. */
  previous?: JobFingerprint | null;
  /** Hash every input's content even when size and mtime match. */
  deep?: boolean;
}

function fingerprintInput(
  path: string,
  label: string,
  previous: InputFingerprint | undefined,
  deep: boolean,
): InputFingerprint {
  const st = statSync(path);
  const same = previous && previous.path === path && previous.size === st.size && previous.mtime_ms === st.mtimeMs;
  return {
    label,
    path,
    size: st.size,
    mtime_ms: st.mtimeMs,
    sha256: same && !deep ? previous.sha256 : sha256File(path),
  };
}

/** Today's fingerprint of a job (its input files must exist). */
export function computeFingerprint(
  job: TrainingJob,
  config: ResolvedJobConfig,
  roots: Pick<StudyRoots, 'phaseCRoot' | 'phaseDRoot'>,
  options: FingerprintOptions = {},
): JobFingerprint {
  const prev = new Map((options.previous?.inputs ?? []).map((i) => [i.path, i]));
  return {
    version: FINGERPRINT_VERSION,
    config: resultConfig(config),
    inputs: [job.trainDataPath, job.testDataPath].map((p) =>
      fingerprintInput(p, inputLabel(p, roots), prev.get(p), options.deep ?? false),
    ),
    code: { package_version: appVersion(), graph_sha256: trainingGraphSha256() },
    provider: config.training.accelerator,
    computed_at: new Date().toISOString(),
  };
}

export function recordedFingerprint(entry: ManifestJob | undefined | null): JobFingerprint | null {
  const r = JobFingerprint.safeParse(entry?.fingerprint);
  return r.success ? r.data : null;
}

function show(v: unknown): string {
  return v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** `nepochs 50 → 60` for each changed key (section prefix dropped where unambiguous). */
export function configChanges(before: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
  const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
  return changed.map((k) => {
    const short = k.replace(/^(training|model)\./, '');
    const clash = keys.filter((o) => o.replace(/^(training|model)\./, '') === short).length > 1;
    return `${clash ? k : short} ${show(before[k])} → ${show(now[k])}`;
  });
}

const FAILED_WORDS: Record<string, string> = {
  failed: 'last run failed',
  diverged: 'last run diverged',
  cancelled: 'last run was cancelled',
  interrupted: 'last run was interrupted',
};

/**
 * Is this job's recorded outcome current? `now` is today's fingerprint (computed with the
 * recorded one as `previous`). Reasons are listed most important first.
 */
export function assessJob(
  jobId: string,
  entry: ManifestJob | undefined | null,
  today: JobFingerprint | (() => JobFingerprint),
  options: { deep?: boolean } = {},
): JobFreshness {
  const stale = (...reasons: string[]): JobFreshness => ({ jobId, upToDate: false, reasons });
  const real = entry && !entry.dry_run ? entry : null;
  if (!real || !['done', 'failed', 'diverged', 'cancelled', 'interrupted'].includes(real.status))
    return stale('never trained');
  if (real.status !== 'done') {
    const error = real.result?.error ? ` (${real.result.error.split('\n')[0].slice(0, 120)})` : '';
    return stale(`${FAILED_WORDS[real.status] ?? `last run ${real.status}`}${error}`);
  }
  const before = recordedFingerprint(real);
  if (!before) return stale('no fingerprint recorded (trained by an older version)');
  const now = typeof today === 'function' ? today() : today;
  const reasons: string[] = [];
  const modelPath = real.result?.model_path;
  if (modelPath) {
    if (!existsSync(modelPath)) reasons.push(`model missing: ${modelPath}`);
    else {
      const bytes = real.result?.model_bytes;
      const sha = real.result?.model_sha256;
      if (
        (bytes !== undefined && statSync(modelPath).size !== bytes) ||
        (options.deep && sha !== undefined && sha256File(modelPath) !== sha)
      )
        reasons.push(`model changed since training: ${modelPath}`);
    }
  }
  const changes = configChanges(before.config, now.config);
  if (changes.length) reasons.push(`config changed: ${changes.join(', ')}`);
  if (before.provider !== now.provider) reasons.push(`provider changed: ${before.provider} → ${now.provider}`);
  if (before.code.package_version !== now.code.package_version)
    reasons.push(`trainer version changed: ${before.code.package_version} → ${now.code.package_version}`);
  else if (before.code.graph_sha256 !== now.code.graph_sha256) reasons.push('training graph definition changed');
  const prev = new Map(before.inputs.map((i) => [i.label, i]));
  for (const input of now.inputs) {
    const old = prev.get(input.label);
    if (!old || old.sha256 !== input.sha256) reasons.push(`input changed: ${input.label}`);
  }
  return reasons.length ? stale(...reasons) : { jobId, upToDate: true, reasons: [] };
}

export interface JobCheck {
  freshness: JobFreshness;
  fingerprint: JobFingerprint;
}

/**
 * Fingerprint and assess every job whose data is present (skipped jobs are left out):
 * what `train`, its dry run and the workbench plan show per job.
 */
export function checkJobs(
  jobs: TrainingJob[],
  manifest: { jobs: ManifestJob[] } | null,
  configFor: (job: TrainingJob) => ResolvedJobConfig,
  roots: Pick<StudyRoots, 'phaseCRoot' | 'phaseDRoot'>,
  options: { deep?: boolean } = {},
): Map<string, JobCheck> {
  const entries = new Map((manifest?.jobs ?? []).map((j) => [j.id, j]));
  const out = new Map<string, JobCheck>();
  for (const job of jobs) {
    if (job.skipReason) continue;
    const entry = entries.get(job.id);
    const fingerprint = computeFingerprint(job, configFor(job), roots, {
      previous: recordedFingerprint(entry),
      deep: options.deep,
    });
    out.set(job.id, { fingerprint, freshness: assessJob(job.id, entry, fingerprint, options) });
  }
  return out;
}

/**
 * Only the freshness (no fingerprint kept): today's fingerprint is computed only for a job
 * that is done, the one case where it decides — what the workbench's job list shows.
 */
export function jobFreshness(
  job: TrainingJob,
  entry: ManifestJob | undefined | null,
  configFor: (job: TrainingJob) => ResolvedJobConfig,
  roots: Pick<StudyRoots, 'phaseCRoot' | 'phaseDRoot'>,
): JobFreshness {
  return assessJob(job.id, entry, () =>
    computeFingerprint(job, configFor(job), roots, { previous: recordedFingerprint(entry) }),
  );
}
