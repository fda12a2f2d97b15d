/**
 * What a run will cost, shown before it starts (dry run, plan): steps per epoch from the
 * training file's pattern count, total steps from the epochs, and time from the step rate
 * measured on this machine — the median step of jobs already trained under the artifact
 * root (same gridsize), else the bench's figure, said so.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_SECONDS_PER_STEP,
  estimateJob,
  formatDuration,
  type JobEstimate,
  PRESET_FILE,
  PresetRecord,
} from '../../shared/presets';
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_EPOCHS } from '../../shared/knobs';
import type { Gridsize, StudyDesign, TrainingKnobs } from '../../shared/study';
import { describeNpz } from '../data/npz';
import type { TrainingJob } from './jobs';
import { resolveJobConfig } from './resolve-config';

const DEFAULT_BATCH = DEFAULT_BATCH_SIZE;
const DEFAULT_VALIDATION_SPLIT = 0.05;

/** The preset `simulate --preset` recorded in a Phase C root, or null. */
export function readPresetRecord(phaseCRoot: string): PresetRecord | null {
  const path = join(phaseCRoot, PRESET_FILE);
  if (!existsSync(path)) return null;
  try {
    return PresetRecord.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return null;
  }
}

/** The knobs with the preset's epochs where none were asked for (as `train` does with its flags). */
export function withPresetEpochs(knobs: TrainingKnobs, preset: PresetRecord | null): TrainingKnobs {
  return preset && knobs.max_epochs === undefined ? { ...knobs, max_epochs: preset.max_epochs } : knobs;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Median seconds per step of the step events under `artifactRoot` for this gridsize (jobs
 * are in `dose_<d>/<view>/gs<g>/`), from each job's last 200 steps; null when none.
 */
export function measuredSecondsPerStep(artifactRoot: string, gridsize: Gridsize, batchSize: number): number | null {
  if (!existsSync(artifactRoot)) return null;
  const times: number[] = [];
  for (const dose of readdirSync(artifactRoot).filter((d) => d.startsWith('dose_'))) {
    const doseDir = join(artifactRoot, dose);
    let views: string[];
    try {
      views = readdirSync(doseDir);
    } catch {
      continue;
    }
    for (const view of views) {
      const events = join(doseDir, view, `gs${gridsize}`, 'events.jsonl');
      if (!existsSync(events)) continue;
      const lines = readFileSync(events, 'utf8').trim().split('\n').slice(-400);
      let n = 0;
      for (const line of lines.reverse()) {
        if (n >= 200) break;
        try {
          const e = JSON.parse(line) as { type?: string; samples_per_s?: number };
          if (e.type === 'step' && typeof e.samples_per_s === 'number' && e.samples_per_s > 0) {
            times.push(batchSize / e.samples_per_s);
            n++;
          }
        } catch {
          // a torn last line
        }
      }
    }
  }
  return times.length ? median(times) : null;
}

export interface PlannedJob {
  id: string;
  gridsize: Gridsize;
  trainDataPath: string;
}

/** What of a job's resolved training config decides its steps. */
export interface PlannedJobConfig {
  batchSize?: number;
  maxEpochs?: number;
  nGroups?: number | null;
  validationSplit?: number;
}

/**
 * A job's steps-deciding settings exactly as the trainer will resolve them: the design's
 * defaults and training_overrides, then the knobs (`resolveJobConfig`).
 */
export function plannedConfig(design: StudyDesign, knobs: TrainingKnobs): (job: TrainingJob) => PlannedJobConfig {
  return (job) => {
    const t = resolveJobConfig(job, design, knobs).training;
    return {
      batchSize: t.batch_size,
      maxEpochs: t.nepochs,
      nGroups: t.n_groups,
      validationSplit: t.validation_split,
    };
  };
}

/** A job's estimate with what it was counted from. */
export interface PlannedJobEstimate extends JobEstimate {
  id: string;
  /** Groups from the training file (capped by n_groups), and Keras's training / validation split of them. */
  groups: number;
  trainGroups: number;
  validationGroups: number;
  batchSize: number;
  epochs: number;
}

export interface PlanEstimate {
  jobs: PlannedJobEstimate[];
  totalSteps: number;
  seconds: number;
}

export async function estimatePlan<J extends PlannedJob>(
  jobs: readonly J[],
  opts: {
    artifactRoot: string;
    maxEpochs?: number;
    batchSize?: number;
    nGroups?: number;
    preset?: PresetRecord | null;
    /**
     * A job's training settings as it will train (`plannedConfig`: the design's
     * training_overrides under the knobs); each value given wins over the options above.
     */
    config?: (job: J) => PlannedJobConfig;
  },
): Promise<PlanEstimate> {
  const out: PlannedJobEstimate[] = [];
  const rates = new Map<string, { s: number; source: string }>();
  for (const job of jobs) {
    if (!existsSync(job.trainDataPath)) continue;
    const c = opts.config?.(job) ?? {};
    const batchSize = c.batchSize ?? opts.batchSize ?? DEFAULT_BATCH;
    const maxEpochs = c.maxEpochs ?? opts.maxEpochs ?? opts.preset?.max_epochs ?? DEFAULT_MAX_EPOCHS;
    const nGroups = c.nGroups ?? opts.nGroups;
    const validationSplit = c.validationSplit ?? DEFAULT_VALIDATION_SPLIT;
    let groups: number;
    try {
      groups = (await describeNpz(job.trainDataPath, ['diffraction']))[0].shape[0];
    } catch {
      continue;
    }
    if (nGroups) groups = Math.min(groups, nGroups);
    const rateKey = `${job.gridsize}/${batchSize}`;
    let rate = rates.get(rateKey);
    if (!rate) {
      const measured = measuredSecondsPerStep(opts.artifactRoot, job.gridsize, batchSize);
      rate = measured
        ? { s: measured, source: `median step of earlier gs${job.gridsize} jobs here` }
        : {
            s: BENCH_SECONDS_PER_STEP[job.gridsize] * (batchSize / DEFAULT_BATCH),
            source: 'npm run bench on a 2-vCPU machine (no job trained here yet)',
          };
      rates.set(rateKey, rate);
    }
    const trainGroups = Math.max(1, Math.floor(groups * (1 - validationSplit)));
    out.push({
      id: job.id,
      groups,
      trainGroups,
      validationGroups: Math.max(0, groups - trainGroups),
      batchSize,
      epochs: maxEpochs,
      ...estimateJob({
        groups,
        batchSize,
        validationSplit,
        maxEpochs,
        secondsPerStep: rate.s,
        rateSource: rate.source,
      }),
    });
  }
  return {
    jobs: out,
    totalSteps: out.reduce((s, j) => s + j.totalSteps, 0),
    seconds: out.reduce((s, j) => s + j.seconds, 0),
  };
}

/** The estimate as the CLI prints it (early stopping can end a job sooner). */
export function estimateLines(e: PlanEstimate, preset: PresetRecord | null): string[] {
  const lines = e.jobs.map(
    (j) =>
      `  ${j.id}: ${j.groups} groups (${j.trainGroups} train / ${j.validationGroups} validation), batch ${j.batchSize}: ${j.stepsPerEpoch} steps/epoch × ${j.epochs} epochs = ${j.totalSteps} steps ≈ ${formatDuration(j.seconds)} at ${j.secondsPerStep.toFixed(2)} s/step (${j.rateSource})`,
  );
  return [
    `Estimated cost${preset ? ` (preset ${preset.name}: ${preset.budget})` : ''}:`,
    ...lines,
    `  total ${e.totalSteps} steps ≈ ${formatDuration(e.seconds)} one job after another (early stopping can end a job sooner)`,
  ];
}
