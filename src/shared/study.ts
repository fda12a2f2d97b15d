/**
 * The study's design in one place: doses, views (and the gridsize each view trains at),
 * neighbour count, seeds and the knobs a user may turn per invocation. Everything that
 * names a job or a folder derives from here, so paths cannot drift between phases (the
 * original's Phase E looked for Phase D files where Phase D never wrote them).
 */
import { z } from 'zod';

export const VIEW_NAMES = ['baseline', 'dense', 'sparse'] as const;
export const ViewName = z.enum(VIEW_NAMES);
export type ViewName = z.infer<typeof ViewName>;

export const Gridsize = z.union([z.literal(1), z.literal(2)]);
export type Gridsize = z.infer<typeof Gridsize>;

/** A training job's identity and files as plain data: what crosses a process or API boundary. */
export const JobFiles = z.object({
  id: z.string(),
  dose: z.number(),
  view: ViewName,
  gridsize: Gridsize,
  trainDataPath: z.string(),
  testDataPath: z.string(),
  artifactDir: z.string(),
  logPath: z.string(),
  eventsPath: z.string(),
});
export type JobFiles = z.infer<typeof JobFiles>;

/** Where a view's data comes from: Phase C patches (baseline) or Phase D overlap views. */
export const DataSource = z.enum(['phase_c', 'phase_d']);
export type DataSource = z.infer<typeof DataSource>;

export const ViewSpec = z.object({
  name: ViewName,
  gridsize: Gridsize,
  source: DataSource,
  /** Target overlap fraction f between group centres (dense 0.7, sparse 0.2); none for baseline. */
  overlap_fraction: z.number().min(0).max(1).nullable(),
});
export type ViewSpec = z.infer<typeof ViewSpec>;

/** The one mapping every job obeys (OVERSAMPLING-001: baseline gs1, dense/sparse gs2). */
export const VIEW_GRIDSIZE: Record<ViewName, Gridsize> = { baseline: 1, dense: 2, sparse: 2 };
export const VIEW_SOURCE: Record<ViewName, DataSource> = { baseline: 'phase_c', dense: 'phase_d', sparse: 'phase_d' };

export const StudySeeds = z.object({
  simulation: z.number().int().nonnegative(),
  grouping: z.number().int().nonnegative(),
  subsampling: z.number().int().nonnegative(),
  /** Weights, batch order and validation split of every training job (the `--seed` knob overrides it). */
  training: z.number().int().nonnegative(),
});

export const StudyDesign = z
  .object({
    name: z.string().min(1),
    /** Photons per exposure; folder names use the integer count (`dose_1000`). */
    doses: z.array(z.number().positive().finite()).min(1),
    views: z.array(ViewSpec).min(1),
    /** Patch side N of the diffraction patterns and of the model. */
    patch_size: z.number().int().positive(),
    /** K: nearest neighbours a gridsize-2 group is drawn from (must be ≥ gridsize²). */
    neighbor_count: z.number().int().positive(),
    /** D in S = (1 − f)·D, the spacing that defines the overlap views. */
    probe_diameter_px: z.number().positive(),
    seeds: StudySeeds,
    split: z.object({ axis: z.enum(['x', 'y']), fraction: z.number().gt(0).lt(1) }),
    metrics: z.object({
      ms_ssim_sigma: z.number().nonnegative(),
      emphasize_phase: z.boolean(),
      report_amplitude: z.boolean(),
      frc_threshold: z.number().gt(0).lt(1),
    }),
    /** Overrides of ModelConfig / TrainingConfig fields for every job (e.g. the reference configuration). */
    model_overrides: z.record(z.string(), z.unknown()),
    training_overrides: z.record(z.string(), z.unknown()),
  })
  .superRefine((d, ctx) => {
    for (const v of d.views) {
      if (v.gridsize !== VIEW_GRIDSIZE[v.name] || v.source !== VIEW_SOURCE[v.name]) {
        ctx.addIssue({
          code: 'custom',
          path: ['views'],
          message: `view '${v.name}' must train at gridsize ${VIEW_GRIDSIZE[v.name]} on ${VIEW_SOURCE[v.name]} data`,
        });
      }
      if (v.gridsize * v.gridsize > d.neighbor_count) {
        ctx.addIssue({
          code: 'custom',
          path: ['neighbor_count'],
          message: `neighbor_count ${d.neighbor_count} < gridsize² = ${v.gridsize ** 2} for view '${v.name}'`,
        });
      }
    }
    const names = d.views.map((v) => v.name);
    if (new Set(names).size !== names.length)
      ctx.addIssue({ code: 'custom', path: ['views'], message: 'views are listed twice' });
    const folders = d.doses.map(doseFolder);
    if (new Set(folders).size !== folders.length)
      ctx.addIssue({ code: 'custom', path: ['doses'], message: 'two doses map to the same dose_<d> folder' });
  });
export type StudyDesign = z.infer<typeof StudyDesign>;

/** The fly64 dose/overlap study as designed (study-pipeline.md, decisions.md). */
export function defaultStudyDesign(): StudyDesign {
  return {
    name: 'fly64_dose_overlap',
    doses: [1e3, 1e4, 1e5],
    views: [
      { name: 'baseline', gridsize: 1, source: 'phase_c', overlap_fraction: null },
      { name: 'dense', gridsize: 2, source: 'phase_d', overlap_fraction: 0.7 },
      { name: 'sparse', gridsize: 2, source: 'phase_d', overlap_fraction: 0.2 },
    ],
    patch_size: 64,
    neighbor_count: 7,
    probe_diameter_px: 0.6 * 64,
    seeds: { simulation: 42, grouping: 123, subsampling: 456, training: 42 },
    split: { axis: 'y', fraction: 0.5 },
    metrics: { ms_ssim_sigma: 1.0, emphasize_phase: true, report_amplitude: true, frc_threshold: 0.5 },
    model_overrides: {},
    training_overrides: {},
  };
}

/**
 * A study file overrides any top-level design field; objects (seeds, split, metrics) merge
 * key by key. Unknown keys are refused so a typo never silently does nothing.
 */
export const StudyFile = z
  .object({
    name: z.string(),
    doses: z.array(z.number()),
    views: z.array(ViewSpec),
    patch_size: z.number(),
    neighbor_count: z.number(),
    probe_diameter_px: z.number(),
    seeds: StudySeeds.partial(),
    split: z.object({ axis: z.enum(['x', 'y']), fraction: z.number() }).partial(),
    metrics: z
      .object({
        ms_ssim_sigma: z.number(),
        emphasize_phase: z.boolean(),
        report_amplitude: z.boolean(),
        frc_threshold: z.number(),
      })
      .partial(),
    model_overrides: z.record(z.string(), z.unknown()),
    training_overrides: z.record(z.string(), z.unknown()),
  })
  .partial()
  .strict();
export type StudyFile = z.infer<typeof StudyFile>;

export function mergeStudyDesign(base: StudyDesign, file: StudyFile): StudyDesign {
  return StudyDesign.parse({
    ...base,
    ...file,
    seeds: { ...base.seeds, ...file.seeds },
    split: { ...base.split, ...file.split },
    metrics: { ...base.metrics, ...file.metrics },
  });
}

export function doseFolder(dose: number): string {
  return `dose_${Math.trunc(dose)}`;
}

/** A dose in words, the study's one formatter: `1e3`, `1e4`, `1e5` (an exact integer otherwise). Folders and job ids use doseFolder. */
export function formatDose(dose: number): string {
  const e = Math.log10(dose);
  return Number.isInteger(e) ? `1e${e}` : String(dose);
}

/** The original CLI's `{dose:.0e}` label (`1e+03`), kept only where `train` prints what the original printed. */
export function originalDoseLabel(dose: number): string {
  const [mant, exp] = dose.toExponential(0).split('e');
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mant}e${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/** Stable job id, also used by the UI and `--job`: `dose_1000-baseline-gs1`. */
export function jobId(dose: number, view: ViewName, gridsize: Gridsize): string {
  return `${doseFolder(dose)}-${view}-gs${gridsize}`;
}

/** One cell of the job matrix: which job, before any path or state is attached. */
export interface MatrixCell {
  id: string;
  dose: number;
  view: ViewName;
  gridsize: Gridsize;
}

/** The matrix's columns: the views in study order, each at the gridsize it trains at. */
export function matrixColumns(
  views: readonly Pick<ViewSpec, 'name' | 'gridsize'>[] = VIEW_NAMES.map((name) => ({
    name,
    gridsize: VIEW_GRIDSIZE[name],
  })),
): { view: ViewName; gridsize: Gridsize }[] {
  return views.map((v) => ({ view: v.name, gridsize: v.gridsize }));
}

/**
 * The job matrix, built in one place for the engine, the evaluation and the workbench: per
 * dose in the order given, one cell per column (by default every view of the study).
 */
export function jobMatrix(doses: readonly number[], columns = matrixColumns()): MatrixCell[] {
  return doses.flatMap((dose) =>
    columns.map(({ view, gridsize }) => ({ id: jobId(dose, view, gridsize), dose, view, gridsize })),
  );
}

export const JobId = z
  .string()
  .regex(/^dose_\d+-(baseline|dense|sparse)-gs[12]$/, 'a job id like dose_1000-baseline-gs1');

/** Selection filters, as the CLI and the manifest spell them (null = not filtered). */
export const JobFilters = z.object({
  dose: z.number().positive().nullable(),
  view: ViewName.nullable(),
  gridsize: Gridsize.nullable(),
});
export type JobFilters = z.infer<typeof JobFilters>;
export const NO_FILTERS: JobFilters = { dose: null, view: null, gridsize: null };

// The knobs live in their own table (knobs.ts); these names stay importable from here.
export {
  MAX_EPOCHS,
  MAX_LEARNING_RATE,
  MAX_NUM_WORKERS,
  MAX_SEED,
  TrainingKnobs,
  TrainingKnobsInput,
} from './knobs';
