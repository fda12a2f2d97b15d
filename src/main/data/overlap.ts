/**
 * Phase D: the dense and sparse overlap views of every Phase C dose.
 *
 * A view keeps, per split, the positions that a greedy (y, x)-ordered pass finds at least
 * S = (1 − f)·D apart (dense f = 0.7, sparse f = 0.2; D = the probe diameter). The overlap
 * that results is measured — spacing statistics and the three disc-overlap metrics over the
 * gridsize-2 groups the trainer would form (C = 4 of the K = 7 nearest) — and written next to
 * the data. All selections are planned before anything is written: a view with fewer than
 * `minPositions` positions in a split is an error naming the numbers, never a tiny file.
 * Files are written to a staging folder and validated there; only a complete, valid set
 * replaces the previous views, so a failed run never costs existing data.
 *
 * Layout: `<out>/dose_<d>/<view>/<view>_{train,test}.npz`, `{train,test}_metrics.json`,
 * `metrics_bundle.json`; `<out>/overlap_manifest.json`; with an artifact root also
 * `<artifact_root>/metrics/dose_<d>/<view>.json`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StudyError } from '../../shared/errors';
import { doseFolder } from '../../shared/study';
import { writeJsonAtomic } from './atomic';
import type { NdArray } from './ndarray';
import { takeRows } from './ndarray';
import { describeNpz, readNpz, readNpzText, writeNpz } from './npz';
import {
  greedySpacingSelection,
  knnGroups,
  METRICS_VERSION,
  type OverlapMetrics,
  overlapMetrics,
  type SpacingStats,
  spacingStats,
} from './overlap-metrics';
import { stageOutput } from './staging';
import { loadStudyFile, type StudyFile } from './study-file';
import { validateStudyFile } from './validate';

export const OverlapView = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  overlap_fraction: z.number().gt(0).lt(1),
});
export type OverlapView = z.infer<typeof OverlapView>;

export const OverlapSettings = z.object({
  views: z.array(OverlapView).min(1),
  /** D; absent = the Phase C files' recorded probe_diameter_px, else 0.6·N */
  probeDiameterPx: z.number().positive().optional(),
  /** doses to process; absent = every dose_<d> folder of the Phase C root */
  doses: z.array(z.number().positive()).optional(),
  /** K nearest neighbours a group is drawn from (the design's 7) */
  neighborCount: z.number().int().min(4),
  /** K of metric 2 (the original's later CLI default 6) */
  metricNeighborCount: z.number().int().positive(),
  gridsize: z.literal(2),
  /** seed of the grouping used for the metrics */
  seed: z.number().int().nonnegative(),
  /** fewest positions a split of a view may keep (default neighborCount + 1: one full neighbourhood) */
  minPositions: z.number().int().positive().optional(),
  artifactRoot: z.string().optional(),
  compress: z.boolean(),
});
export type OverlapSettings = z.infer<typeof OverlapSettings>;

export const DEFAULT_OVERLAP: OverlapSettings = {
  views: [
    { name: 'dense', overlap_fraction: 0.7 },
    { name: 'sparse', overlap_fraction: 0.2 },
  ],
  neighborCount: 7,
  metricNeighborCount: 6,
  gridsize: 2,
  seed: 42,
  compress: false,
};

export interface SplitRecord extends SpacingStats, OverlapMetrics {
  split: 'train' | 'test';
  overlap_view: string;
  overlap_fraction: number;
  threshold: number;
  n_positions: number;
  n_accepted: number;
  n_rejected: number;
  acceptance_rate: number;
  selection_strategy: string;
  s_img: number;
  n_groups: number;
  rng_seed_subsample: number;
  grouping: { K: number; C: number; seed: number; rule: string };
  source_file: string;
  output_file: string;
}

export interface ViewSummary {
  dose: number;
  view: string;
  overlap_fraction: number;
  spacing_threshold: number;
  dir: string;
  train: SplitRecord;
  test: SplitRecord;
}

export interface PhaseDSummary {
  phase_c_root: string;
  phase_d_root: string;
  probe_diameter_px: number;
  views: ViewSummary[];
  seconds: number;
}

export interface OverlapProgress {
  stage: 'plan' | 'write';
  done: number;
  total: number;
  message?: string;
}

const SELECTION = 'greedy minimum spacing in (y, x) order';

/** Doses found as `dose_<d>` folders holding both Phase C splits. */
export function phaseCDoses(phaseCRoot: string): number[] {
  if (!existsSync(phaseCRoot))
    throw new StudyError('NOT_FOUND', `Phase C root not found: ${phaseCRoot}`, { file: phaseCRoot });
  return readdirSync(phaseCRoot)
    .map((name) => /^dose_(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((d) => ['train', 'test'].every((s) => existsSync(join(phaseCRoot, doseFolder(d), `patched_${s}.npz`))))
    .sort((a, b) => a - b);
}

async function readMetadata(path: string): Promise<Record<string, unknown>> {
  try {
    const v: unknown = JSON.parse(await readNpzText(path, '_metadata'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

type Side = 'train' | 'test';
const SIDES: readonly Side[] = ['train', 'test'];

interface SplitCoords {
  source: string;
  xs: Float64Array;
  ys: Float64Array;
}

interface Plan {
  dose: number;
  view: OverlapView;
  spacing: number;
  sides: Record<Side, SplitCoords & { n: number; keep: number[] }>;
}

/** Where a Phase C split lives. */
const phaseCFile = (cRoot: string, dose: number, side: Side) => join(cRoot, doseFolder(dose), `patched_${side}.npz`);

/** The doses to build: the requested ones (all of Phase C by default), each with both splits present. */
function requestedDoses(cRoot: string, settings: OverlapSettings): number[] {
  const available = phaseCDoses(cRoot);
  const doses = settings.doses ?? available;
  const absent = doses.filter((d) => !available.includes(d));
  if (absent.length || doses.length === 0)
    throw new StudyError(
      'NOT_FOUND',
      `no Phase C data for ${absent.length ? absent.map(doseFolder).join(', ') : 'any dose'} in ${cRoot}`,
      {
        file: cRoot,
        found: available.map(doseFolder),
        expected: 'dose_<d>/patched_{train,test}.npz',
      },
    );
  return doses;
}

/** The probe diameter D: the one set, else the one Phase C recorded, else 0.6·N. */
async function probeDiameterOf(source: string): Promise<number> {
  const meta = await readMetadata(source);
  const [diffraction] = await describeNpz(source, ['diffraction']);
  return typeof meta.probe_diameter_px === 'number' ? meta.probe_diameter_px : 0.6 * (diffraction.shape[1] ?? 64);
}

/** A split's scan coordinates only: the patterns are read once a view is written. */
async function readSplitCoords(source: string): Promise<SplitCoords> {
  const a = await readNpz(source, ['xcoords', 'ycoords']);
  return {
    source,
    xs: Float64Array.from(a.xcoords.data as Float64Array),
    ys: Float64Array.from(a.ycoords.data as Float64Array),
  };
}

/**
 * Plan every selection from the coordinates alone, before writing anything. Throws when any
 * view keeps fewer than `minPositions` positions in a split, naming every such split.
 */
async function planViews(
  cRoot: string,
  doses: number[],
  settings: OverlapSettings,
  minPositions: number,
  onProgress?: (p: OverlapProgress) => void,
): Promise<{ plans: Plan[]; probeDiameterPx: number }> {
  let D = settings.probeDiameterPx;
  const plans: Plan[] = [];
  const tooSmall: string[] = [];
  for (const dose of doses) {
    const coords = {} as Record<Side, SplitCoords>;
    for (const side of SIDES) {
      const source = phaseCFile(cRoot, dose, side);
      coords[side] = await readSplitCoords(source);
      if (D === undefined) D = await probeDiameterOf(source);
    }
    const diameter = D as number;
    for (const view of settings.views) {
      const spacing = (1 - view.overlap_fraction) * diameter;
      const sides = {} as Plan['sides'];
      for (const side of SIDES) {
        const c = coords[side];
        const keep = greedySpacingSelection(c.xs, c.ys, spacing);
        sides[side] = { ...c, n: c.xs.length, keep };
        if (keep.length < minPositions)
          tooSmall.push(
            `${doseFolder(dose)} ${view.name} ${side}: ${keep.length} of ${c.xs.length} positions at spacing S = ${spacing.toFixed(1)} px (f = ${view.overlap_fraction}, D = ${diameter.toFixed(1)} px)`,
          );
      }
      plans.push({ dose, view, spacing, sides });
      onProgress?.({ stage: 'plan', done: plans.length, total: doses.length * settings.views.length });
    }
  }
  if (tooSmall.length)
    throw new StudyError(
      'DATA_CONTRACT',
      `overlap view too small (need ≥ ${minPositions} positions per split): ${tooSmall.join('; ')}`,
      {
        file: cRoot,
        found: tooSmall,
        expected: `≥ ${minPositions} positions per split`,
        hint: 'simulate more positions (--n-positions) or a larger object (--object-size), or lower --probe-diameter-px',
      },
    );
  return { plans, probeDiameterPx: D as number };
}

/** Phase C files, each read once for all the views of its dose; one dose (train + test) kept in memory. */
function phaseCFileCache(): (path: string) => Promise<StudyFile> {
  const loaded = new Map<string, Promise<StudyFile>>();
  return (path) => {
    let f = loaded.get(path);
    if (!f) {
      if (loaded.size >= 2) loaded.clear();
      f = loadStudyFile(path);
      loaded.set(path, f);
    }
    return f;
  };
}

/** What one split of one view keeps, measured: the record written as `<side>_metrics.json`. */
function measureSplit(
  plan: Plan,
  side: Side,
  settings: OverlapSettings,
  probeDiameterPx: number,
  output: string,
): { record: SplitRecord; kx: number[]; ky: number[] } {
  const s = plan.sides[side];
  const keep = s.keep;
  const kx = keep.map((i) => s.xs[i]);
  const ky = keep.map((i) => s.ys[i]);
  const groups = knnGroups(kx, ky, { K: settings.neighborCount, C: settings.gridsize ** 2, seed: settings.seed });
  const metrics = overlapMetrics(kx, ky, groups, {
    gridsize: settings.gridsize,
    neighborCount: settings.metricNeighborCount,
    probeDiameterPx,
  });
  const record: SplitRecord = {
    split: side,
    overlap_view: plan.view.name,
    overlap_fraction: plan.view.overlap_fraction,
    threshold: plan.spacing,
    ...spacingStats(kx, ky),
    n_positions: s.n,
    n_accepted: keep.length,
    n_rejected: s.n - keep.length,
    acceptance_rate: keep.length / s.n,
    selection_strategy: SELECTION,
    ...metrics,
    s_img: 1,
    n_groups: groups.length,
    rng_seed_subsample: settings.seed,
    grouping: {
      K: settings.neighborCount,
      C: settings.gridsize ** 2,
      seed: settings.seed,
      rule: 'per position: C drawn without replacement among its K nearest neighbours (itself excluded)',
    },
    source_file: s.source,
    output_file: output,
  };
  return { record, kx, ky };
}

/** The view file's arrays: the kept rows of the Phase C file, with their original scan indices. */
function viewArrays(file: StudyFile, keep: number[], kx: number[], ky: number[]): Record<string, NdArray> {
  const coords = (v: number[]): NdArray => ({ dtype: 'float64', shape: [v.length], data: Float64Array.from(v) });
  return {
    diffraction: takeRows(file.diffraction, keep),
    ...(file.Y ? { Y: takeRows(file.Y, keep) } : {}),
    xcoords: coords(kx),
    ycoords: coords(ky),
    xcoords_start: coords(keep.map((i) => (file.xcoordsStart ?? file.xcoords)[i])),
    ycoords_start: coords(keep.map((i) => (file.ycoordsStart ?? file.ycoords)[i])),
    probeGuess: file.probeGuess,
    objectGuess: file.objectGuess,
    scan_index: {
      dtype: 'int64',
      shape: [keep.length],
      data: BigInt64Array.from(keep, (i) => BigInt(file.scanIndex ? file.scanIndex[i] : i)),
    },
  };
}

/** The view file's `_metadata`: Phase C's, plus how this view was selected. */
function viewMetadata(
  file: StudyFile,
  plan: Plan,
  side: Side,
  settings: OverlapSettings,
  probeDiameterPx: number,
): Record<string, unknown> {
  const s = plan.sides[side];
  return {
    ...file.meta,
    format: 'ptycho-study/phase_d',
    format_version: 1,
    overlap_view: plan.view.name,
    overlap_fraction: plan.view.overlap_fraction,
    spacing_threshold: plan.spacing,
    probe_diameter_px: probeDiameterPx,
    source_file: s.source,
    n_accepted: s.keep.length,
    n_rejected: s.n - s.keep.length,
    acceptance_rate: s.keep.length / s.n,
    selection_strategy: SELECTION,
    metrics_version: METRICS_VERSION,
    gridsize: settings.gridsize,
    neighbor_count: settings.neighborCount,
  };
}

/** Write one split of one view into the staging folder and check it against DATA-001 there. */
async function writeSplit(
  plan: Plan,
  side: Side,
  file: StudyFile,
  settings: OverlapSettings,
  probeDiameterPx: number,
  paths: { dRoot: string; dir: string; staged: (name: string) => string },
): Promise<SplitRecord> {
  const output = join(paths.dir, `${plan.view.name}_${side}.npz`);
  const { record, kx, ky } = measureSplit(plan, side, settings, probeDiameterPx, output);
  const stagedOutput = paths.staged(`${plan.view.name}_${side}.npz`);
  await writeNpz(stagedOutput, viewArrays(file, plan.sides[side].keep, kx, ky), {
    compress: settings.compress,
    text: { _metadata: JSON.stringify(viewMetadata(file, plan, side, settings, probeDiameterPx)) },
    durable: false,
  });
  const report = await validateStudyFile(stagedOutput);
  if (!report.ok) {
    const e = report.errors[0];
    throw new StudyError(
      'DATA_CONTRACT',
      `overlap view file failed DATA-001 (nothing in ${paths.dRoot} was replaced): ${e.message.split(stagedOutput).join(output)}`,
      { file: output, key: e.key },
    );
  }
  await writeJsonAtomic(paths.staged(`${side}_metrics.json`), record);
  return record;
}

/** `overlap_manifest.json`: the settings and, per view, its files and counts. */
function overlapManifest(
  cRoot: string,
  dRoot: string,
  probeDiameterPx: number,
  settings: OverlapSettings,
  minPositions: number,
  views: ViewSummary[],
): Record<string, unknown> {
  return {
    phase_c_root: cRoot,
    phase_d_root: dRoot,
    probe_diameter_px: probeDiameterPx,
    settings: { ...settings, minPositions },
    views: views.map((v) => ({
      dose: v.dose,
      view: v.view,
      overlap_fraction: v.overlap_fraction,
      spacing_threshold: v.spacing_threshold,
      train: v.train.output_file,
      test: v.test.output_file,
      metrics_bundle: join(v.dir, 'metrics_bundle.json'),
      n_accepted: { train: v.train.n_accepted, test: v.test.n_accepted },
    })),
  };
}

/**
 * Write every planned view into a staging folder, then replace the Phase D root's views
 * with it in one step; a failure leaves the previous views as they were.
 */
async function writeViews(
  plans: Plan[],
  cRoot: string,
  dRoot: string,
  settings: OverlapSettings,
  minPositions: number,
  probeDiameterPx: number,
  onProgress?: (p: OverlapProgress) => void,
): Promise<ViewSummary[]> {
  const views: ViewSummary[] = [];
  const load = phaseCFileCache();
  const stage = await stageOutput(dRoot);
  try {
    for (const plan of plans) {
      const dir = join(dRoot, doseFolder(plan.dose), plan.view.name);
      const staged = (name: string) => stage.path(doseFolder(plan.dose), plan.view.name, name);
      const records = {} as Record<Side, SplitRecord>;
      for (const side of SIDES) {
        const file = await load(plan.sides[side].source);
        records[side] = await writeSplit(plan, side, file, settings, probeDiameterPx, { dRoot, dir, staged });
      }
      await writeJsonAtomic(staged('metrics_bundle.json'), records);
      views.push({
        dose: plan.dose,
        view: plan.view.name,
        overlap_fraction: plan.view.overlap_fraction,
        spacing_threshold: plan.spacing,
        dir,
        ...records,
      });
      onProgress?.({ stage: 'write', done: views.length, total: plans.length, message: dir });
    }
    await writeJsonAtomic(
      stage.path('overlap_manifest.json'),
      overlapManifest(cRoot, dRoot, probeDiameterPx, settings, minPositions, views),
    );
    await stage.commit(['overlap_manifest.json']);
  } catch (e) {
    throw stage.explain(e);
  } finally {
    await stage.discard();
  }
  return views;
}

/** Copies of each view's metrics under `<artifact_root>/metrics/dose_<d>/<view>.json`. */
async function copyMetricsToArtifactRoot(artifactRoot: string, views: ViewSummary[]): Promise<void> {
  for (const v of views)
    await writeJsonAtomic(join(resolve(artifactRoot), 'metrics', doseFolder(v.dose), `${v.view}.json`), {
      train: v.train,
      test: v.test,
    });
}

export async function buildOverlapViews(
  phaseCRoot: string,
  outRoot: string,
  input: Partial<OverlapSettings> = {},
  onProgress?: (p: OverlapProgress) => void,
): Promise<PhaseDSummary> {
  const t0 = performance.now();
  const settings = OverlapSettings.parse({ ...DEFAULT_OVERLAP, ...input });
  const cRoot = resolve(phaseCRoot);
  const dRoot = resolve(outRoot);
  const doses = requestedDoses(cRoot, settings);
  const minPositions = settings.minPositions ?? settings.neighborCount + 1;
  const { plans, probeDiameterPx } = await planViews(cRoot, doses, settings, minPositions, onProgress);
  const views = await writeViews(plans, cRoot, dRoot, settings, minPositions, probeDiameterPx, onProgress);
  // copies outside the Phase D root, once the views themselves are in place
  if (settings.artifactRoot) await copyMetricsToArtifactRoot(settings.artifactRoot, views);
  return {
    phase_c_root: cRoot,
    phase_d_root: dRoot,
    probe_diameter_px: probeDiameterPx,
    views,
    seconds: (performance.now() - t0) / 1000,
  };
}
