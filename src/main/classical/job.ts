/**
 * One classical job per (dose, view) of the design: reconstruct the view's test split (the
 * patterns PtychoPINN is scored on) from its diffraction alone, starting from the file's
 * probeGuess and a flat object, then score it like a PtychoPINN job. Writes into
 * `<artifact_root>/dose_<d>/<view>/classical/`: recon.npz (object, weight, probe, initial
 * probe, per-iteration error), eval.json and events.jsonl (the data-fit error per iteration,
 * in the training events' format so the same curves draw it).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { RECON_FILE, EVAL_FILE, type EvalFile } from '../../shared/evaluation';
import { StudyError } from '../../shared/errors';
import type { TrainEvent } from '../../shared/events';
import { defaultStudyDesign, doseFolder, type Gridsize, type StudyDesign, type ViewName } from '../../shared/study';
import { writeJsonAtomic } from '../data/atomic';
import type { NdArray } from '../data/ndarray';
import { readNpz, readNpzText, writeNpz } from '../data/npz';
import { loadStudyFile } from '../data/study-file';
import { complexImage } from '../eval/image';
import { PLACEMENT_CONVENTION } from '../eval/recon-file';
import { defaultStitchCrop } from '../eval/stitch';
import { planTrainingJobs, type StudyRoots } from '../study/jobs';
import { CLASSICAL_ALGORITHMS, type PieHooks, type PieOptions, type PieResult, reconstructPie } from './pie';
import { coverageWeight, scoreClassical } from './score';

export const CLASSICAL_DIR = 'classical';
export const CLASSICAL_EVENTS = 'events.jsonl';

export interface ClassicalJob {
  id: string;
  dose: number;
  view: ViewName;
  /** The gridsize PtychoPINN trains this view at (the classical arm has none; kept to pair rows). */
  gridsize: Gridsize;
  testDataPath: string;
  artifactDir: string;
}

export interface ClassicalFilters {
  dose?: number | null;
  view?: ViewName | null;
}

export function classicalJobId(dose: number, view: ViewName): string {
  return `${doseFolder(dose)}-${view}-classical`;
}

/** One job per (dose, view) of the design, filtered; no disk checks. */
export function planClassicalJobs(
  roots: StudyRoots,
  design: StudyDesign = defaultStudyDesign(),
  filters: ClassicalFilters = {},
): ClassicalJob[] {
  const artifacts = resolve(roots.artifactRoot);
  return planTrainingJobs(roots, design)
    .filter((j) => filters.dose == null || j.dose === filters.dose)
    .filter((j) => filters.view == null || j.view === filters.view)
    .map((j) => ({
      id: classicalJobId(j.dose, j.view),
      dose: j.dose,
      view: j.view,
      gridsize: j.gridsize,
      testDataPath: j.testDataPath,
      artifactDir: join(artifacts, doseFolder(j.dose), j.view, CLASSICAL_DIR),
    }));
}

/** What a resumed job continues from: the object, probe and error curve its recon.npz holds. */
interface ResumePoint {
  object: Float32Array;
  probe: Float32Array;
  errors: number[];
  iterations: number;
  seconds: number;
}

/** LSQML's own settings, recorded beside α and β (absent for ePIE / rPIE); the momentum only runs with the prior. */
function lsqmlMeta(o: PieOptions): Record<string, number> {
  if (o.algorithm !== 'lsqml') return {};
  return { delta: o.delta, tv: o.tv, tv_epsilon: o.tvEpsilon, ...(o.tv > 0 ? { momentum: o.momentum } : {}) };
}

/** The settings a resume must match, as recon.npz's metadata and the events' start line record them. */
function settingsRecord(o: PieOptions): Record<string, string | number | boolean> {
  return {
    algorithm: o.algorithm,
    alpha: o.alpha,
    beta: o.beta,
    seed: o.seed,
    probe_update: o.probeUpdate,
    probe_update_start: o.probeUpdateStart,
    ...lsqmlMeta(o),
  };
}

/** The pieOptions fields a settings record (recon.npz metadata, a start line's `settings`) holds. */
function settingsFromRecord(meta: Record<string, unknown>): Partial<PieOptions> {
  const n = (k: string) => (typeof meta[k] === 'number' ? (meta[k] as number) : undefined);
  const options: Partial<PieOptions> = {
    algorithm: CLASSICAL_ALGORITHMS.find((a) => a === meta.algorithm),
    probeUpdate: typeof meta.probe_update === 'boolean' ? meta.probe_update : undefined,
    probeUpdateStart: n('probe_update_start'),
    alpha: n('alpha'),
    beta: n('beta'),
    seed: n('seed'),
    delta: n('delta'),
    tv: n('tv'),
    tvEpsilon: n('tv_epsilon'),
    momentum: n('momentum'),
  };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** The resume point in recon.npz, or null when there is none; refuses one made with other settings. */
async function resumePoint(
  path: string,
  o: PieOptions,
  shape: [number, number],
  N: number,
): Promise<ResumePoint | null> {
  if (!existsSync(path)) return null;
  const meta = JSON.parse(await readNpzText(path, '_metadata')) as Record<string, unknown>;
  if (meta.arm !== 'classical') return null;
  const mine = settingsRecord(o);
  const differs = Object.entries(mine).filter(([k, v]) => meta[k] !== v);
  if (differs.length)
    throw new StudyError('BAD_INPUT', `cannot resume: ${path} was made with other settings`, {
      file: path,
      key: differs.map(([k]) => k).join(', '),
      found: Object.fromEntries(differs.map(([k]) => [k, meta[k]])),
      expected: Object.fromEntries(differs),
      hint: 'run without --resume to start again, or with the settings it was made with',
    });
  const a = await readNpz(path, ['recon', 'probe', 'error']);
  if (a.recon.shape.join() !== shape.join() || a.probe.shape.join() !== [N, N].join())
    throw new StudyError('DATA_CONTRACT', 'cannot resume: recon.npz does not match the test file', {
      file: path,
      found: { recon: a.recon.shape, probe: a.probe.shape },
      expected: { recon: shape, probe: [N, N] },
    });
  const errors = Array.from(a.error.data as Float64Array);
  return {
    object: a.recon.data as Float32Array,
    probe: a.probe.data as Float32Array,
    errors,
    iterations: errors.length,
    seconds: typeof meta.seconds === 'number' ? meta.seconds : 0,
  };
}

/** The settings of pieOptions a job's recon.npz records, and the iterations its run was asked for. */
export interface RecordedSettings {
  options: Partial<PieOptions>;
  iterationsRequested: number | null;
  iterations: number | null;
}

/**
 * What a job was made with (a resume must use the same): its recon.npz's settings, or where
 * it has none (a first run that died before writing it) those its events' latest start line
 * records; null when neither says.
 */
export async function readRecordedSettings(job: ClassicalJob): Promise<RecordedSettings | null> {
  const path = join(job.artifactDir, RECON_FILE);
  if (existsSync(path)) {
    const meta = JSON.parse(await readNpzText(path, '_metadata')) as Record<string, unknown>;
    if (meta.arm !== 'classical') return null;
    const n = (k: string) => (typeof meta[k] === 'number' ? (meta[k] as number) : null);
    return {
      options: settingsFromRecord(meta),
      iterationsRequested: n('iterations_requested'),
      iterations: n('iterations'),
    };
  }
  const eventsPath = join(job.artifactDir, CLASSICAL_EVENTS);
  if (!existsSync(eventsPath)) return null;
  let found: RecordedSettings | null = null;
  for (const line of readFileSync(eventsPath, 'utf8').split('\n')) {
    try {
      const e = JSON.parse(line) as Partial<StatusLine>;
      if (e.type === 'status' && (e.status === 'started' || e.status === 'resumed') && e.settings)
        found = {
          options: settingsFromRecord(e.settings),
          iterationsRequested: e.total_epochs ?? null,
          iterations: null,
        };
    } catch {
      // a torn line of a killed run
    }
  }
  return found;
}

/** A status line of events.jsonl; `started` / `resumed` also name the process, so a reader can tell a dead run. */
type StatusLine = Extract<TrainEvent, { type: 'status' }> & {
  pid?: number;
  hostname?: string;
  settings?: Record<string, unknown>;
};

/**
 * The events a resumed job continues: those up to the end of the attempt its recon.npz holds.
 * A later attempt that died before writing recon.npz (interrupted) is dropped, and when the
 * file does not match the resume point at all its curve is rebuilt from recon.npz's errors.
 */
function eventsUpTo(eventsPath: string, from: ResumePoint, at: string, lr: number): string {
  const lines = existsSync(eventsPath) ? readFileSync(eventsPath, 'utf8').split('\n') : [];
  let epochs = 0;
  let keep = -1;
  for (const [i, line] of lines.entries()) {
    let e: { type?: string; status?: string };
    try {
      e = JSON.parse(line) as { type?: string; status?: string };
    } catch {
      continue;
    }
    if (e.type === 'epoch') epochs++;
    if (e.type === 'status' && (e.status === 'done' || e.status === 'cancelled') && epochs === from.iterations)
      keep = i;
  }
  if (keep >= 0) return `${lines.slice(0, keep + 1).join('\n')}\n`;
  const rebuilt: TrainEvent[] = [
    { type: 'status', time: at, status: 'started', epoch: 0, total_epochs: from.iterations },
    ...from.errors.map(
      (err, i): TrainEvent => ({ type: 'epoch', time: at, epoch: i + 1, train_loss: err, val_loss: null, lr }),
    ),
    { type: 'status', time: at, status: 'cancelled', epoch: from.iterations, total_epochs: from.iterations },
  ];
  return rebuilt.map((e) => `${JSON.stringify(e)}\n`).join('');
}

export interface ClassicalOutcome {
  job: ClassicalJob;
  eval: EvalFile;
  result: PieResult;
  reconPath: string;
  evalPath: string;
  /** Iterations per second over the whole run. */
  iterationsPerSecond: number;
}

const planes = (re: Float64Array, im: Float64Array): Float32Array => {
  const out = new Float32Array(2 * re.length);
  for (let i = 0; i < re.length; i++) {
    out[2 * i] = re[i];
    out[2 * i + 1] = im[i];
  }
  return out;
};

/** Reconstructs, writes recon.npz, scores and writes eval.json for one (dose, view). */
export async function runClassicalJob(
  job: ClassicalJob,
  options: PieOptions,
  hooks: PieHooks & { now?: () => Date; resume?: boolean } = {},
): Promise<ClassicalOutcome> {
  const now = hooks.now ?? (() => new Date());
  const file = await loadStudyFile(job.testDataPath);
  const [H, W] = file.objectGuess.shape;
  mkdirSync(job.artifactDir, { recursive: true });
  const reconPath = join(job.artifactDir, RECON_FILE);
  const from = hooks.resume ? await resumePoint(reconPath, options, [H, W], file.N) : null;
  const eventsPath = join(job.artifactDir, CLASSICAL_EVENTS);
  writeFileSync(eventsPath, from ? eventsUpTo(eventsPath, from, now().toISOString(), options.alpha) : '');
  const log = (e: TrainEvent | StatusLine) => appendFileSync(eventsPath, `${JSON.stringify(e)}\n`);
  log({
    type: 'status',
    time: now().toISOString(),
    status: from ? 'resumed' : 'started',
    epoch: from?.iterations ?? 0,
    total_epochs: options.iterations,
    pid: process.pid,
    hostname: hostname(),
    settings: settingsRecord(options),
  });
  const probe = file.probeGuess.data as Float32Array;
  let result: PieResult;
  try {
    result = await reconstructPie(
      {
        N: file.N,
        diffraction: file.diffraction.data as Float32Array,
        xs: file.xcoords,
        ys: file.ycoords,
        objectHeight: H,
        objectWidth: W,
        probe: from?.probe ?? probe,
        object: from?.object,
        doneIterations: from?.iterations,
      },
      options,
      {
        shouldStop: hooks.shouldStop,
        onIteration: async (it) => {
          log({
            type: 'epoch',
            time: now().toISOString(),
            epoch: it.iteration,
            train_loss: it.error,
            val_loss: null,
            lr: options.alpha,
          });
          await hooks.onIteration?.(it);
        },
      },
    );
  } catch (e) {
    log({ type: 'status', time: now().toISOString(), status: 'failed', message: (e as Error).message });
    throw e;
  }
  if (from) result = { ...result, errors: [...from.errors, ...result.errors], seconds: from.seconds + result.seconds };
  const recon = complexImage(H, W);
  recon.re.set(result.objectRe);
  recon.im.set(result.objectIm);
  let peak = 0;
  for (let i = 0; i < result.probeRe.length; i++)
    peak = Math.max(peak, result.probeRe[i] ** 2 + result.probeIm[i] ** 2);
  const weight = coverageWeight(result.illumination, peak, H, W);
  const N = file.N;
  const lsqml =
    options.algorithm === 'lsqml'
      ? ` (fractions of the least-squares steps), δ ${options.delta}, TV ${options.tv}${options.tv > 0 ? ` ε ${options.tvEpsilon}, momentum ${options.momentum}` : ''}`
      : '';
  const detail = `${options.algorithm}, ${result.iterations} iterations, probe update ${options.probeUpdate ? `on from iteration ${options.probeUpdateStart + 1}` : 'off'}, α ${options.alpha}, β ${options.beta}${lsqml}; plain float64 on the CPU`;
  const meta = {
    job_id: job.id,
    stitch_crop_px: defaultStitchCrop(N),
    n_patches: file.M,
    created_at: now().toISOString(),
    model_path: null,
    model_mtime_ms: null,
    convention: PLACEMENT_CONVENTION,
    arm: 'classical',
    algorithm: options.algorithm,
    iterations: result.iterations,
    iterations_requested: options.iterations,
    cancelled: result.cancelled,
    probe_update: options.probeUpdate,
    probe_update_start: options.probeUpdateStart,
    alpha: options.alpha,
    beta: options.beta,
    ...lsqmlMeta(options),
    seed: options.seed,
    seconds: result.seconds,
    initial_object: '1 + 0i',
    initial_probe: 'probeGuess of the test file',
    error: 'sum (|F psi| - sqrt(measured))^2 / sum measured over a sweep, each term before its update',
  };
  const arrays: Record<string, NdArray> = {
    recon: { dtype: 'complex64', shape: [H, W], data: planes(result.objectRe, result.objectIm) },
    weight: { dtype: 'float32', shape: [H, W], data: Float32Array.from(weight.data) },
    xcoords: { dtype: 'float64', shape: [file.M], data: Float64Array.from(file.xcoords) },
    ycoords: { dtype: 'float64', shape: [file.M], data: Float64Array.from(file.ycoords) },
    probe: { dtype: 'complex64', shape: [N, N], data: planes(result.probeRe, result.probeIm) },
    probe_initial: { dtype: 'complex64', shape: [N, N], data: Float32Array.from(probe) },
    error: { dtype: 'float64', shape: [result.errors.length], data: Float64Array.from(result.errors) },
  };
  await writeNpz(reconPath, arrays, { text: { _metadata: JSON.stringify(meta) } });
  const gt = complexImage(H, W);
  const g = file.objectGuess.data as Float32Array;
  for (let i = 0; i < H * W; i++) {
    gt.re[i] = g[2 * i];
    gt.im[i] = g[2 * i + 1];
  }
  const evalFile = scoreClassical({
    jobId: job.id,
    dose: job.dose,
    view: job.view,
    gridsize: job.gridsize,
    artifactDir: job.artifactDir,
    reconPath,
    testDataPath: job.testDataPath,
    N,
    nPositions: file.M,
    recon,
    weight,
    groundTruth: gt,
    xs: file.xcoords,
    ys: file.ycoords,
    seconds: result.seconds,
    detail,
    now: now(),
  });
  const evalPath = join(job.artifactDir, EVAL_FILE);
  await writeJsonAtomic(evalPath, evalFile);
  log({
    type: 'status',
    time: now().toISOString(),
    status: result.cancelled ? 'cancelled' : 'done',
    epoch: result.iterations,
    total_epochs: options.iterations,
  });
  return {
    job,
    eval: evalFile,
    result,
    reconPath,
    evalPath,
    iterationsPerSecond: result.seconds > 0 ? result.iterations / result.seconds : 0,
  };
}
