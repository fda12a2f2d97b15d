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
import { profileFiles, readProfile, type ProfileSummary, summarizeProfile } from '../nn/ort-profile';
import { type OpParityRow, opParity } from './op-parity';
import type { Accelerator } from '../../shared/knobs';

/** Accelerators the trainer accepts (its config schema). */
export type TrainAccelerator = Accelerator;

export interface CheckOptions {
  accelerator: TrainAccelerator;
  quick: boolean;
  /**
   * Also profile gs1/gs2 at batch 64 (16 when quick; onnxruntime's profiler, GPU timestamps
   * on WebGPU) and, on WebGPU, time the variants (the optimizer and weight-gradient forms).
   */
  profile?: boolean;
  /**
   * Only the speed rows: throughput at batch 16 and 64 and, on WebGPU, the variants (no op
   * parity, no same-seed training, no profile): the shortest run that compares forms.
   */
  speed?: boolean;
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
  /**
   * GPU providers: the session was created with disable_cpu_ep_fallback, so it would have
   * failed had any node been placed on the CPU (nodes on the CPU: none).
   */
  cpu_fallback_disabled: boolean;
}

export interface ProfileRow extends ProfileSummary {
  gridsize: number;
  batch: number;
  provider: string;
  /** Steps timed without the profiler in the same session, ms (the profiler adds its own cost). */
  ms_per_step_unprofiled: number | null;
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
  profile: ProfileRow[];
  /** Throughput rows with one setting changed (its environment variable and value). */
  variants: Array<ThroughputRow & { options: Record<string, string> }>;
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

/** `fn` with the variables of `env` set; the earlier values are restored after, also on error. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * The job's trainer at `batch` (reference configuration; on a GPU, a session that fails if
 * any node would run on the CPU) and the feeds of one batch, repeated for every timed step.
 */
async function benchTrainer(
  job: TrainingJob,
  design: StudyDesign,
  provider: TrainAccelerator,
  batch: number,
  threads: number,
) {
  const config = resolveJobConfig(job, design, { batch_size: batch, accelerator: provider, seed: 1 });
  const s = resolveSettings(config, { ...REFERENCE_EXTRAS, threads });
  const data = prepareTrainingData(await loadStudyFile(job.trainDataPath), s);
  const pt = await createPinnTrainer(s, data, undefined, { disableCpuFallback: provider !== 'cpu' });
  const feeds = pt.feeds(pt.batch(Array.from({ length: batch }, (_, i) => i % data.groups.count)));
  return { s, pt, feeds };
}

async function throughput(
  job: TrainingJob,
  design: StudyDesign,
  provider: TrainAccelerator,
  batch: number,
  steps: number,
  threads: number,
): Promise<ThroughputRow> {
  const { s, pt, feeds } = await benchTrainer(job, design, provider, batch, threads);
  try {
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
      cpu_fallback_disabled: provider !== 'cpu',
    };
  } finally {
    await pt.trainer.release();
  }
}

/**
 * One train session under onnxruntime's profiler: `steps` profiled steps after two warm-ups.
 * The summary comes from the session with the most runs (the train step; the small state
 * read-back graph has its own file).
 */
async function profileRun(
  job: TrainingJob,
  design: StudyDesign,
  provider: TrainAccelerator,
  batch: number,
  steps: number,
  threads: number,
  dir: string,
): Promise<ProfileRow> {
  mkdirSync(dir, { recursive: true });
  const prefix = join(dir, `gs${job.gridsize}_b${batch}`);
  const { s, pt, feeds } = await withEnv({ PTYCHO_ORT_PROFILE: prefix }, () =>
    benchTrainer(job, design, provider, batch, threads),
  );
  try {
    for (let i = 0; i < 2 + steps; i++) await pt.trainer.trainStep(feeds, 1e-3);
  } finally {
    await pt.trainer.release();
  }
  const summaries = profileFiles(prefix).map((f) => summarizeProfile(readProfile(f)));
  if (summaries.length === 0) throw new Error(`onnxruntime wrote no profile under ${prefix}`);
  const main = summaries.reduce((a, b) => (b.runs > a.runs ? b : a));
  return { gridsize: s.gridsize, batch, provider, ms_per_step_unprofiled: null, ...main };
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

  if (!o.speed) o.log('op parity against the CPU provider …');
  const parity = o.speed ? [] : await opParity(provider);
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
        // Larger batches show where a GPU stops being bound by per-kernel launch costs.
        ...(o.accelerator === 'cpu' || o.speed
          ? []
          : ([
              ['baseline', 256],
              ['dense', 256],
            ] as Array<[string, number]>)),
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
  if (!o.speed)
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

  const variants: CheckReport['variants'] = [];
  if ((o.profile || o.speed) && provider === 'webgpu') {
    o.log('variants (the rows above use the defaults) …');
    // The optimizer and Conv weight-gradient forms (pinn-trainer.ts), then, on request, the
    // WebGPU provider's own layout and validation options.
    const options: Array<[Record<string, string>, number]> = [
      // Adam per parameter tensor instead of once over all (pinn-trainer.ts fusedOptimizerFor)
      [{ PTYCHO_FUSED_OPTIMIZER: '0' }, 16],
      [{ PTYCHO_FUSED_OPTIMIZER: '0' }, 64],
      [{ PTYCHO_CONV_WEIGHT_GRAD: 'taps' }, 64],
      [{ PTYCHO_CONV_WEIGHT_GRAD: 'taps-t' }, 64],
      [{ PTYCHO_CONV_WEIGHT_GRAD: 'unfold' }, 64],
      // Measured on an H200 (docs/benchmarks.md, gpu): within run-to-run noise of the defaults.
      ...((process.env.PTYCHO_CHECK_PROVIDER_OPTIONS === '1'
        ? [
            [{ PTYCHO_WEBGPU_OPTIONS: JSON.stringify({ preferredLayout: 'NCHW' }) }, 64],
            [{ PTYCHO_WEBGPU_OPTIONS: JSON.stringify({ preferredLayout: 'NHWC' }) }, 64],
            [{ PTYCHO_WEBGPU_OPTIONS: JSON.stringify({ validationMode: 'disabled' }) }, 64],
          ]
        : []) as Array<[Record<string, string>, number]>),
    ];
    for (const [env, batch] of options)
      for (const view of ['baseline', 'dense']) {
        try {
          const row = await withEnv(env, () =>
            throughput(jobFor(jobs, 10000, view), design, provider, batch, 20, o.threads),
          );
          variants.push({ ...row, options: env });
          o.log(
            `  ${JSON.stringify(env)} ${row.name}: ${row.samples_per_s.toFixed(1)} (${row.ms_per_step.toFixed(1)} ms/step)`,
          );
        } catch (e) {
          errors.push(`variant ${JSON.stringify(env)} ${view}: ${(e as Error).message}`);
          o.log(`  variant ${JSON.stringify(env)} ${view} failed: ${(e as Error).message}`);
        }
      }
  }

  // Last: the profiler is the least proven part on a new GPU, and must not cost the rest.
  const profileRows: ProfileRow[] = [];
  if (o.profile && !o.speed) {
    o.log(`profiling (onnxruntime profiler on ${provider}) …`);
    for (const view of ['baseline', 'dense']) {
      try {
        const row = await profileRun(
          jobFor(jobs, 10000, view),
          design,
          provider,
          o.quick ? 16 : 64,
          o.quick ? 3 : 10,
          o.threads,
          join(o.workDir, 'profile'),
        );
        row.ms_per_step_unprofiled =
          throughputRows.find((t) => t.gridsize === row.gridsize && t.batch === row.batch)?.ms_per_step ?? null;
        profileRows.push(row);
        o.log(
          `  gs${row.gridsize} b${row.batch}: ${row.runs} runs, ${(row.run_us / 1000).toFixed(2)} ms per run; ` +
            Object.entries(row.by_category)
              .map(([c, us]) => `${c} ${(us / 1000).toFixed(2)} ms`)
              .join(', '),
        );
        for (const t of row.top.slice(0, 8))
          o.log(
            `    ${t.cat} ${t.key}: ${(t.us_per_step / 1000).toFixed(3)} ms/step ×${t.count_per_step.toFixed(0)} (${(100 * t.share).toFixed(1)}%)`,
          );
      } catch (e) {
        errors.push(`profile ${view}: ${(e as Error).message}`);
        o.log(`  profile ${view} failed: ${(e as Error).message}`);
      }
    }
  }

  return {
    requested: o.accelerator,
    provider,
    provider_detail: resolved.detail,
    quick: o.quick,
    op_parity: parity,
    op_parity_passed: parity.filter((r) => r.ok).length,
    throughput: throughputRows,
    profile: profileRows,
    variants,
    training,
    errors,
  };
}
