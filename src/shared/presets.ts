/**
 * Study presets with stated budgets. A preset sizes the simulated data (Phase C) and the
 * training (epochs per job); `simulate --preset`, the workbench's "Create demo study" and
 * `serve --demo` write it, and `train` reads it back from the Phase C root
 * (`study_preset.json`) so the jobs get the budget the data was made for. Flags still win.
 */
import { z } from 'zod';

export const PRESET_NAMES = ['demo', 'trend', 'paper'] as const;
export const PresetName = z.enum(PRESET_NAMES);
export type PresetName = z.infer<typeof PresetName>;
export const PRESET_FILE = 'study_preset.json';

export interface StudyPreset {
  name: PresetName;
  /** One line: what it is for. */
  purpose: string;
  simulation: { objectSize: number; nPositions: number };
  /** Epochs per job (Keras epochs over one group per training scan point). */
  maxEpochs: number;
  /** The budget in words, with what was measured. */
  budget: string;
}

export const STUDY_PRESETS: Record<PresetName, StudyPreset> = {
  demo: {
    name: 'demo',
    purpose: 'a smoke test in seconds: every phase runs, no result is meaningful (too short to show a trend)',
    simulation: { objectSize: 288, nPositions: 384 },
    maxEpochs: 3,
    budget: '≈ 36 steps per job; seconds per job on a 2-core CPU',
  },
  trend: {
    name: 'trend',
    purpose:
      'sized to show the dose trend on a 2-core CPU: the three baseline gs1 jobs leave the loss plateau and, at 24 epochs, phase and amplitude skill rise with dose (measured with one seed: 1e3 → 1e5 beyond noise, the 1e3 → 1e4 phase step within it; see docs/benchmarks.md)',
    simulation: { objectSize: 448, nPositions: 2048 },
    maxEpochs: 24,
    budget:
      '≈ 1,400 steps per job (58 per epoch × 24); the three baseline gs1 jobs measured at 34 min on a quiet 2-core CPU (load 1.4–2.0, 0.48 s/step with validation; 53 min on a shared machine, see docs/benchmarks.md); each dense / sparse gs2 job costs no more per step',
  },
  paper: {
    name: 'paper',
    purpose: "the original study's training budget (50 epochs, batch 16, all nine jobs): for a GPU or a cluster",
    simulation: { objectSize: 448, nPositions: 2048 },
    maxEpochs: 50,
    budget:
      '≈ 2,900 steps per job, nine jobs: ≈ 20 min per job at the idle 2-core bench rate (0.41–0.43 s/step), ≈ 3 h for all nine one after another (over twice that on a shared machine); a GPU or one job per cluster node is the better home',
  },
};

/** What `simulate --preset` leaves in the Phase C root for `train` to read. */
export const PresetRecord = z.object({
  name: PresetName,
  max_epochs: z.number().int().positive(),
  budget: z.string(),
  purpose: z.string(),
});
export type PresetRecord = z.infer<typeof PresetRecord>;

export function presetRecord(p: StudyPreset): PresetRecord {
  return { name: p.name, max_epochs: p.maxEpochs, budget: p.budget, purpose: p.purpose };
}

/**
 * Seconds per training step measured with `npm run bench` on an idle machine (batch 16,
 * 2 threads, 2-vCPU Zen 4, onnxruntime-node 1.30, 2026-12-03 quiet-machine run: 39.2
 * samples/s gs1, 37.5 groups/s gs2; docs/benchmarks.md, pinn), used when the artifact root
 * has no step of its own to measure from. A shared machine is 2–6× slower.
 */
export const BENCH_SECONDS_PER_STEP: Record<1 | 2, number> = { 1: 16 / 39.2, 2: 16 / 37.5 };

export interface JobEstimate {
  stepsPerEpoch: number;
  totalSteps: number;
  secondsPerStep: number;
  /** Where secondsPerStep came from, in words. */
  rateSource: string;
  seconds: number;
}

/** Keras's count: the last `validationSplit` of the groups is held out, the rest batched. */
export function estimateJob(opts: {
  groups: number;
  batchSize: number;
  validationSplit: number;
  maxEpochs: number;
  secondsPerStep: number;
  rateSource: string;
}): JobEstimate {
  const train = Math.max(1, Math.floor(opts.groups * (1 - opts.validationSplit)));
  const stepsPerEpoch = Math.ceil(train / opts.batchSize);
  const totalSteps = stepsPerEpoch * opts.maxEpochs;
  return {
    stepsPerEpoch,
    totalSteps,
    secondsPerStep: opts.secondsPerStep,
    rateSource: opts.rateSource,
    seconds: totalSteps * opts.secondsPerStep,
  };
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
