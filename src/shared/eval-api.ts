/**
 * The evaluation part of the WorkbenchApi (Phase G): evaluate an artifact root, build its
 * offline report, and read what the UI shows — the comparison table, one job's scores and
 * its pictures. Spread into `apiMethods` / `apiEvents` in api.ts.
 */
import { z } from 'zod';
import { ComparisonFile, EvalFile, EvalState } from './evaluation';
import { JobId } from './study';
import { Accelerator } from './knobs';

const ArtifactRootInput = { artifactRoot: z.string().min(1).optional() };

export const EvaluateStudyInput = z
  .object({
    ...ArtifactRootInput,
    /** Only these jobs (others keep their eval.json); default every trained job. */
    jobIds: z.array(JobId).optional(),
    /** Rescore every job and re-run inference, even when eval.json / recon.npz are up to date. */
    force: z.boolean().optional(),
    accelerator: Accelerator.optional(),
  })
  .strict();
export type EvaluateStudyInput = z.infer<typeof EvaluateStudyInput>;

export const EvaluateStudyOutput = z.object({
  artifactRoot: z.string(),
  comparisonJson: z.string(),
  comparisonCsv: z.string(),
  evaluated: z.array(z.string()),
  /** Jobs whose scores were already up to date (kept, not recomputed; `force` rescores them). */
  upToDate: z.array(z.string()).default([]),
  missing: ComparisonFile.shape.missing,
  comparison: ComparisonFile,
});
export type EvaluateStudyOutput = z.infer<typeof EvaluateStudyOutput>;

export const BuildReportInput = z
  .object({
    ...ArtifactRootInput,
    /** Draw the report even when no input changed since it was drawn. */
    force: z.boolean().optional(),
  })
  .strict();
export const BuildReportOutput = z.object({
  reportDir: z.string(),
  htmlPath: z.string(),
  files: z.array(z.string()),
  /** Kept as it was: no input changed since it was drawn. */
  upToDate: z.boolean().default(false),
});
export type BuildReportOutput = z.infer<typeof BuildReportOutput>;

export const GetComparisonInput = z.object(ArtifactRootInput).strict();
export const GetComparisonOutput = z.object({
  artifactRoot: z.string(),
  hasManifest: z.boolean(),
  /** From the eval.json files on disk (nothing is evaluated); null without a manifest. */
  comparison: ComparisonFile.nullable(),
  /** report.html when it has been built. */
  reportHtml: z.string().nullable(),
  /** Heat-map images in the report folder, by metric key (read them with readReportImage). */
  heatmaps: z.record(z.string(), z.string()),
});
export type GetComparisonOutput = z.infer<typeof GetComparisonOutput>;

export const GetJobEvaluationInput = z.object({ ...ArtifactRootInput, jobId: JobId }).strict();
export const GetJobEvaluationOutput = z.object({
  jobId: z.string(),
  state: EvalState,
  reason: z.string().nullable(),
  eval: EvalFile.nullable(),
  /** Report images of this job (file names in the report folder) once the report is built. */
  images: z.object({ amplitude: z.string(), phase: z.string(), error: z.string() }).nullable(),
});
export type GetJobEvaluationOutput = z.infer<typeof GetJobEvaluationOutput>;

/** A PNG of the report folder by plain file name (no paths), for front ends without file access. */
export const ReadReportImageInput = z
  .object({ ...ArtifactRootInput, name: z.string().regex(/^[A-Za-z0-9_.-]+\.png$/, 'a PNG file name of the report') })
  .strict();
export const ReadReportImageOutput = z.object({
  name: z.string(),
  mime: z.literal('image/png'),
  base64: z.string(),
});
export type ReadReportImageOutput = z.infer<typeof ReadReportImageOutput>;

export const evalApiMethods = {
  evaluateStudy: { input: EvaluateStudyInput, output: EvaluateStudyOutput },
  buildReport: { input: BuildReportInput, output: BuildReportOutput },
  getComparison: { input: GetComparisonInput, output: GetComparisonOutput },
  getJobEvaluation: { input: GetJobEvaluationInput, output: GetJobEvaluationOutput },
  readReportImage: { input: ReadReportImageInput, output: ReadReportImageOutput },
} as const;

/** Progress lines of a running evaluation or report build. */
export const EvalProgressEvent = z.object({
  artifactRoot: z.string(),
  phase: z.enum(['evaluate', 'report']),
  message: z.string(),
  time: z.string(),
});
export type EvalProgressEvent = z.infer<typeof EvalProgressEvent>;

export const evalApiEvents = {
  evalProgress: EvalProgressEvent,
} as const;
