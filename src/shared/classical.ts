/**
 * The classical arm's summary file (`classical.json` in the artifact root): one row per
 * (dose, view) with the algorithm's parameters, the time taken and the same score columns as
 * the PtychoPINN comparison. Shared so the UI can read it through the API.
 */
import { z } from 'zod';
import { ViewName } from './study';

export const ClassicalRow = z.object({
  job_id: z.string(),
  dose: z.number(),
  view: ViewName,
  state: z.enum(['done', 'cancelled', 'failed', 'missing']),
  reason: z.string().nullable(),
  algorithm: z.string(),
  iterations: z.number().int().nullable(),
  seconds: z.number().nullable(),
  iterations_per_s: z.number().nullable(),
  final_error: z.number().nullable(),
  n_positions: z.number().int().nullable(),
  eval_path: z.string().nullable(),
  recon_path: z.string().nullable(),
  amp_ssim: z.number().nullable(),
  amp_mae: z.number().nullable(),
  phase_ssim: z.number().nullable(),
  phase_mae: z.number().nullable(),
  phase_ms_ssim: z.number().nullable(),
  amp_mae_skill: z.number().nullable(),
  phase_mae_skill: z.number().nullable(),
  amp_ssim_skill: z.number().nullable(),
  phase_ssim_skill: z.number().nullable(),
});
export type ClassicalRow = z.infer<typeof ClassicalRow>;

export const ClassicalFile = z.object({
  created_at: z.string(),
  artifact_root: z.string(),
  parameters: z.object({
    algorithm: z.string(),
    iterations: z.number().int(),
    probe_update: z.boolean(),
    probe_update_start: z.number().int(),
    alpha: z.number(),
    beta: z.number(),
    seed: z.number().int(),
    engine: z.string(),
    /** LSQML only: the directions' regularisation δ and the amplitude TV prior (weight at 1e5 photons, ε). */
    delta: z.number().optional(),
    tv: z.number().optional(),
    tv_epsilon: z.number().optional(),
  }),
  rows: z.array(ClassicalRow),
});
export type ClassicalFile = z.infer<typeof ClassicalFile>;

export const CLASSICAL_ALGORITHMS = ['rpie', 'epie', 'lsqml'] as const;
export const ClassicalAlgorithm = z.enum(CLASSICAL_ALGORITHMS);
export type ClassicalAlgorithm = z.infer<typeof ClassicalAlgorithm>;
