/**
 * The device checks: everything `run.sh` measures on a GPU machine (and, with
 * `--accelerator cpu`, on any machine): per-op parity against the CPU provider, PtychoPINN
 * train-step throughput at gridsize 1 and 2, and a same-seed training run on the
 * accelerator and on the CPU with the final losses compared.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createDemoStudy } from '../data/demo';
import { loadStudyFile } from '../data/study-file';
import { resolveProvider } from '../nn/session';
import { prepareTrainingData } from '../pinn/dataset';
import { createPinnTrainer } from '../pinn/pinn-trainer';
import { resolveSettings, type SettingsExtras } from '../pinn/settings';
import { defaultStudyDesign, type StudyDesign } from '../../shared/study';
import { planTrainingJobs, type TrainingJob } from '../study/jobs';
import { resolveJobConfig } from '../study/resolve-config';
import { trainJob } from '../trainer/train-job';
import { type OpParityRow, opParity } from './op-parity';
import type { Accelerator } from '../../shared/knobs';

/** Accelerators the trainer accepts (its config schema). */
export type TrainAccelerator = Accelerator;

export interface CheckOptions {
  accelerator: TrainAccelerator;
  quick: boolean;
  workDir: string;
  threads: number;
  log(message: string): void;
}

export interface ThroughputRow {
  /** The bench row name: pinn_train_gs{g}_b{B}_{provider}_samples_per_s. */
  name: string;
  gridsize: number;
  batch: number;
  provider: string;
  steps: number;
  ms_per_step: number;
  samples_per_s: number;
  patterns_per_s: number;
  /** Bytes copied host→device and device→host in one step (device-resident state on webgpu). */
  host_to_device_bytes: number;
  device_to_host_bytes: number;
}

export interface TrainingComparison {
  steps: number;
  dose: number;
  view: string;
  accelerator: { provider: string; final_loss: number | null; status: string; seconds: number };
  cpu: { provider: 'cpu'; final_loss: number | null; status: string; seconds: number };
  relative_difference: number | null;
}

export interface CheckReport {
  requested: string;
  provider: string;
  provider_detail: string;
  quick: boolean;
  op_parity: OpParityRow[];
  op_parity_passed: number;
  throughput: ThroughputRow[];
  training: TrainingComparison | null;
  errors: string[];
}

/** The reference configuration (model doc): what the PyTorch reference implements. */
const REFERENCE_DESIGN = (base: StudyDesign): StudyDesign => ({
  ...base,
  model_overrides: { ...base.model_overrides, probe_big: false, probe_mask: true },
  training_overrides: { ...base.training_overrides, intensity_scale_trainable: false },
});
const REFERENCE_EXTRAS: SettingsExtras = { grouping_rule: 'nearest', probe_gauge: 'absolute' };

function jobFor(jobs: TrainingJob[], dose: number, view: string): TrainingJob {
  const j = jobs.find((x) => x.dose === dose && x.view === view);
  if (!j) throw new Error(`demo study has no job dose ${dose} view ${view}`);
  return j;
}

async function throughput(
  job: TrainingJob,
  design: StudyDesign,
  provider: TrainAccelerator,
  batch: number,
  steps: number,
  threads: number,
): Promise<ThroughputRow> {
  const config = resolveJobConfig(job, design, { batch_size: batch, accelerator: provider, seed: 1 });
  const s = resolveSettings(config, { ...REFERENCE_EXTRAS, threads });
  const data = prepareTrainingData(await loadStudyFile(job.trainDataPath), s);
  const pt = await createPinnTrainer(s, data);
  try {
    const ids = Array.from({ length: batch }, (_, i) => i % data.groups.count);
    const feeds = pt.feeds(pt.batch(ids));
    for (let i = 0; i < 2; i++) await pt.trainer.trainStep(feeds, 1e-3); // warm-up (kernel compilation)
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await pt.trainer.trainStep(feeds, 1e-3);
    const ms = (performance.now() - t0) / steps;
    const C = s.gridsize * s.gridsize;
    return {
      name: `pinn_train_gs${s.gridsize}_b${batch}_${pt.trainer.provider}_samples_per_s`,
      gridsize: s.gridsize,
      batch,
      provider,
      steps,
      ms_per_step: ms,
      samples_per_s: (1000 * batch) / ms,
      patterns_per_s: (1000 * batch * C) / ms,
      host_to_device_bytes: pt.trainer.lastTransfer.hostToDevice,
      device_to_host_bytes: pt.trainer.lastTransfer.deviceToHost,
    };
  } finally {
    await pt.trainer.release();
  }
}

async function trainOnce(
  job: TrainingJob,
  design: StudyDesign,
  provider: TrainAccelerator,
  steps: number,
  dir: string,
  threads: number,
) {
  const artifactDir = join(dir, provider);
  mkdirSync(artifactDir, { recursive: true });
  const wire = {
    ...job,
    artifactDir,
    logPath: join(artifactDir, 'train.log'),
    eventsPath: join(artifactDir, 'events.jsonl'),
  };
  const config = resolveJobConfig(wire, design, {
    accelerator: provider,
    seed: 1,
    max_epochs: 1000,
    n_groups: undefined,
  });
  const t0 = performance.now();
  const r = await trainJob(config, wire, wire.logPath, {
    signal: new AbortController().signal,
    onEvent: () => {},
    extras: { ...REFERENCE_EXTRAS, max_steps: steps, threads },
  });
  return { final_loss: r.final_loss, status: r.status, seconds: (performance.now() - t0) / 1000, error: r.error };
}

export async function runChecks(o: CheckOptions): Promise<CheckReport> {
  const errors: string[] = [];
  const resolved = await resolveProvider({ accelerator: o.accelerator, onNotice: (m) => o.log(`notice: ${m}`) });
  const provider = resolved.provider as Exclude<TrainAccelerator, 'auto'>;
  o.log(`provider: ${provider} (${resolved.detail})`);

  o.log('op parity against the CPU provider …');
  const parity = await opParity(provider);
  for (const r of parity)
    o.log(
      `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.op}  max rel ${r.maxRelError.toExponential(2)}${r.error ? `  ${r.error}` : ''}`,
    );

  o.log('creating the demo study …');
  const demo = await createDemoStudy(join(o.workDir, 'study'));
  const design = REFERENCE_DESIGN(defaultStudyDesign());
  const jobs = planTrainingJobs(
    { phaseCRoot: demo.phaseCRoot, phaseDRoot: demo.phaseDRoot, artifactRoot: join(o.workDir, 'artifacts') },
    design,
  );

  const throughputRows: ThroughputRow[] = [];
  const shapes: Array<[string, number]> = o.quick
    ? [['baseline', 16]]
    : [
        ['baseline', 16],
        ['dense', 16],
        ['baseline', 64],
        ['dense', 64],
      ];
  for (const [view, batch] of shapes) {
    try {
      const row = await throughput(jobFor(jobs, 10000, view), design, provider, batch, o.quick ? 3 : 20, o.threads);
      o.log(
        `  ${row.name}: ${row.samples_per_s.toFixed(1)} (${row.ms_per_step.toFixed(1)} ms/step; ${row.host_to_device_bytes} B up, ${row.device_to_host_bytes} B down per step)`,
      );
      throughputRows.push(row);
    } catch (e) {
      errors.push(`throughput ${view} b${batch}: ${(e as Error).message}`);
      o.log(`  throughput ${view} b${batch} failed: ${(e as Error).message}`);
    }
  }

  let training: TrainingComparison | null = null;
  const steps = o.quick ? 4 : 200;
  try {
    const job = jobFor(jobs, 10000, 'baseline');
    o.log(`training ${steps} steps on ${provider} and on cpu (same seed) …`);
    const acc = await trainOnce(job, design, provider, steps, join(o.workDir, 'train'), o.threads);
    const cpu =
      provider === 'cpu' ? acc : await trainOnce(job, design, 'cpu', steps, join(o.workDir, 'train'), o.threads);
    if (acc.error) errors.push(`training on ${provider}: ${acc.error}`);
    if (cpu.error && provider !== 'cpu') errors.push(`training on cpu: ${cpu.error}`);
    const rel =
      acc.final_loss !== null && cpu.final_loss !== null
        ? Math.abs(acc.final_loss - cpu.final_loss) / Math.max(Math.abs(cpu.final_loss), 1e-12)
        : null;
    training = {
      steps,
      dose: 10000,
      view: 'baseline',
      accelerator: { provider, final_loss: acc.final_loss, status: acc.status, seconds: acc.seconds },
      cpu: { provider: 'cpu', final_loss: cpu.final_loss, status: cpu.status, seconds: cpu.seconds },
      relative_difference: rel,
    };
    o.log(
      `  final loss ${provider} ${acc.final_loss} vs cpu ${cpu.final_loss} (relative difference ${rel?.toExponential(2)})`,
    );
  } catch (e) {
    errors.push(`training comparison: ${(e as Error).message}`);
  }

  return {
    requested: o.accelerator,
    provider,
    provider_detail: resolved.detail,
    quick: o.quick,
    op_parity: parity,
    op_parity_passed: parity.filter((r) => r.ok).length,
    throughput: throughputRows,
    training,
    errors,
  };
}
