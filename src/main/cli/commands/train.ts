/**
 * `ptycho-study train`: Phase E from a terminal, as flag parsing and printing around the
 * study service. The service plans the selection (filters counted after each, as the
 * original printed; `--job`; the data check; interrupted jobs recovered) and runs it — the
 * one writer of the manifest. Filters that match nothing exit 2 and leave an existing
 * manifest alone; a failed job makes the exit code 1; Ctrl-C cancels (checkpoint written by
 * the trainer) and exits 130. The knob flags come from the knob table.
 */
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { TrainEvent } from '../../../shared/events';
import { MAX_SEED } from '../../../shared/knobs';
import type { JobStateEvent, TrainEventBatch } from '../../../shared/study-api';
import {
  defaultStudyDesign,
  originalDoseLabel,
  type JobFilters,
  type StudyDesign,
  VIEW_NAMES,
  type ViewName,
} from '../../../shared/study';
import { WorkbenchService } from '../../service/workbench-service';
import { estimateLines, estimatePlan, plannedConfig, readPresetRecord } from '../../study/estimate';
import type { TrainingJob } from '../../study/jobs';
import { loadStudyDesign } from '../../study/study-file';
import { slurmRunRef } from '../../study/up-to-date';
import type { CliContext } from '../context';
import { addKnobOptions, knobsFromOptions } from '../knob-options';
import { CliExit } from '../output';
import { printFreshness } from './train-freshness';

export { knobsFromOptions };

/** The flags of `train` that choose what runs; the knob flags (from the knob table) ride along. */
export interface TrainOptions {
  phaseCRoot: string;
  phaseDRoot: string;
  artifactRoot: string;
  dose?: number;
  view?: ViewName;
  gridsize?: 1 | 2;
  job?: string[];
  dryRun?: boolean;
  allowMissingPhaseD?: boolean;
  study?: string;
  force?: boolean;
  deep?: boolean;
  /** The knob flags as commander parsed them (`maxEpochs`, `nImages`, …). */
  [knobFlag: string]: unknown;
}

/** Parses a positive finite number, naming what it is when it is not. */
function positiveNumber(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`expected a ${what} in (0, ∞), got '${v}'`);
    return n;
  };
}

export function collect(v: string, previous: string[] = []): string[] {
  return [...previous, ...v.split(',').filter(Boolean)];
}

function jobLabel(job: Pick<TrainingJob, 'view' | 'dose' | 'gridsize'>): string {
  return `${job.view} (dose=${originalDoseLabel(job.dose)}, gridsize=${job.gridsize})`;
}

function describeFilters(f: JobFilters, ids: string[] | undefined): string {
  const parts: string[] = [];
  if (f.dose !== null) parts.push(`dose=${f.dose}`);
  if (f.view !== null) parts.push(`view=${f.view}`);
  if (f.gridsize !== null) parts.push(`gridsize=${f.gridsize}`);
  if (ids?.length) parts.push(`job=${ids.join(',')}`);
  return parts.join(', ');
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function epochLine(e: TrainEvent, totalEpochs: number | null): string | null {
  if (e.type === 'epoch') {
    const val = e.val_loss === null ? '' : `  val_loss=${e.val_loss.toPrecision(5)}`;
    const eta = e.eta_s !== undefined ? `  eta ${formatSeconds(e.eta_s)}` : '';
    const of = totalEpochs ? `/${totalEpochs}` : '';
    return `        epoch ${e.epoch + 1}${of}  train_loss=${e.train_loss.toPrecision(5)}${val}  lr=${e.lr.toExponential(1)}${eta}`;
  }
  if (e.type === 'log' && (e.level === 'warn' || e.level === 'error')) return `        ${e.level}: ${e.message}`;
  if (e.type === 'status' && e.message) return `        ${e.status}: ${e.message}`;
  return null;
}

/** `1,2,3` → [1, 2, 3]: distinct 32-bit seeds. */
export function parseSeedList(value: string): number[] {
  const seeds = value
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);
  if (!seeds.length || seeds.some((s) => !Number.isInteger(s) || s < 0 || s > MAX_SEED))
    throw new InvalidArgumentError(`expected seeds like 1,2,3 (integers 0…${MAX_SEED}), got '${value}'`);
  if (new Set(seeds).size !== seeds.length) throw new InvalidArgumentError(`repeated seed in '${value}'`);
  return seeds;
}

export async function runTrain(o: TrainOptions, context: CliContext = {}): Promise<number> {
  const loaded: StudyDesign = o.study ? loadStudyDesign(resolve(o.study)) : defaultStudyDesign();
  const roots = {
    phaseCRoot: resolve(o.phaseCRoot),
    phaseDRoot: resolve(o.phaseDRoot),
    artifactRoot: resolve(o.artifactRoot),
  };
  // a study created by `simulate --preset` is named after it (its epochs apply in the service)
  const preset = readPresetRecord(roots.phaseCRoot);
  const design: StudyDesign = preset && !o.study ? { ...loaded, name: preset.name } : loaded;
  const filters: JobFilters = { dose: o.dose ?? null, view: o.view ?? null, gridsize: o.gridsize ?? null };
  const jobIds = o.job?.length ? o.job : undefined;
  const knobs = knobsFromOptions(o);

  const service = new WorkbenchService({ transport: 'cli', workspace: null, design, runner: context.runner });
  // the worker boots (Node, onnxruntime) while the jobs are planned; unused, it exits with us
  if (!o.dryRun) context.runner?.prewarm?.();
  console.log(`Enumerating training jobs from Phase C (${roots.phaseCRoot}) and Phase D (${roots.phaseDRoot})...`);
  const selection = await service.study.selectJobs({
    roots,
    filters,
    jobIds,
    unknownJobIds: 'ignore',
    missingData: o.allowMissingPhaseD ? 'skip-phase-d' : 'refuse',
    knobs,
    force: o.force,
    deep: o.deep,
    onPlanned: (plan) => {
      console.log(`  → ${plan.all.length} total jobs enumerated`);
      for (const step of plan.steps)
        console.log(`  → Filtered by ${step.filter}=${step.value}: ${step.remaining} jobs remain`);
      if (plan.selected.length === 0) {
        const views = design.views.map((v) => v.name).join(', ');
        const gridsizes = [...new Set(design.views.map((v) => v.gridsize))].join(', ');
        throw new CliExit(
          2,
          `\n⚠ No jobs match the specified filters (${describeFilters(filters, o.job)}). ` +
            `Available: doses ${design.doses.map((d) => Math.trunc(d)).join(', ')}; views ${views}; gridsizes ${gridsizes}` +
            `${jobIds ? `; job ids like ${plan.all[0]?.id}` : ''}.\n  Exiting without training; no manifest was written.`,
        );
      }
    },
  });
  // the knobs as run: with the data preset's epochs when none were asked for
  const { stale } = selection;
  const runKnobs = selection.knobs;
  printFreshness(selection.plan.jobs, stale, o.force ?? false, jobLabel);
  const jobs = stale.jobs;
  const runnable = jobs.filter((j) => !j.skipReason).length;
  if (jobs.length === 0) {
    console.log(`\n✓ Nothing to train: ${stale.upToDate.length} job(s) up to date (--force retrains them)`);
    return 0;
  }
  const estimate = await estimatePlan(
    jobs.filter((j) => !j.skipReason),
    {
      artifactRoot: roots.artifactRoot,
      maxEpochs: runKnobs.max_epochs,
      batchSize: runKnobs.batch_size,
      nGroups: runKnobs.n_groups,
      preset,
      config: plannedConfig(design, runKnobs),
    },
  );
  if (estimate.jobs.length) console.log(`\n${estimateLines(estimate, preset).join('\n')}`);
  console.log(`\nExecuting ${runnable} training job(s)${o.dryRun ? ' (dry run: nothing will be trained)' : ''}...`);
  const totals = new Map<string, number | null>();
  // Skipped jobs are announced when the run opens; print them in queue order with the rest.
  const pendingSkips = new Map<number, string>();
  let printedUpTo = 0;
  const flushSkipsBefore = (index: number) => {
    for (let i = printedUpTo + 1; i < index; i++) {
      const line = pendingSkips.get(i);
      if (line) console.log(line);
      pendingSkips.delete(i);
    }
    printedUpTo = Math.max(printedUpTo, index);
  };
  let cancelRequestedAt: number | null = null;
  const unsubscribe = service.subscribe((event, payload) => {
    if (event === 'jobState') {
      const s = payload as JobStateEvent;
      const job = jobs.find((j) => j.id === s.jobId);
      if (!job) return;
      const head = `  [${s.index}/${s.total}] ${jobLabel(job)}`;
      if (s.status === 'skipped') {
        pendingSkips.set(s.index, `${head} → skipped: ${s.skipReason}`);
        return;
      }
      if (s.status === 'queued') return;
      if (o.dryRun && s.status !== 'planned') {
        flushSkipsBefore(s.index);
        console.log(`${head} → planned (dry run); its recorded ${s.status} result is kept`);
        return;
      }
      if (s.status === 'running' && !totals.has(s.jobId)) {
        flushSkipsBefore(s.index);
        totals.set(s.jobId, null);
        console.log(head);
      } else if (s.status === 'running') {
        if (s.progress?.total_epochs) totals.set(s.jobId, s.progress.total_epochs);
      } else if (s.status === 'planned') {
        flushSkipsBefore(s.index);
        console.log(`${head} → planned (dry run)`);
      } else if (s.status === 'cancelled' && !totals.has(s.jobId)) {
        flushSkipsBefore(s.index);
        console.log(`${head} → cancelled before it started`);
      } else {
        const loss = s.finalLoss !== null ? ` final_loss=${s.finalLoss.toPrecision(6)}` : '';
        // The real time the job took to stop, measured here: not a grace period, not a guess.
        const stopped =
          s.status === 'cancelled' && cancelRequestedAt !== null
            ? ` (stopped ${((Date.now() - cancelRequestedAt) / 1000).toFixed(1)} s after the cancel)`
            : '';
        console.log(`      → ${s.status}${loss}${stopped}${s.error ? `: ${s.error}` : ''}`);
      }
    } else if (event === 'trainEvent') {
      const b = payload as TrainEventBatch;
      for (const e of b.events) {
        const line = epochLine(e, totals.get(b.jobId) ?? null);
        if (line) console.log(line);
      }
    }
  });

  const { run, done } = await service.study.startRun({
    roots,
    jobs,
    filters,
    dryRun: o.dryRun ?? false,
    knobs: runKnobs,
    jobFields: stale.jobFields,
    slurm: slurmRunRef(),
  });
  let interrupts = 0;
  let hungUp = false;
  const onSignal = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    if (!hungUp) console.error('\nCancelling (press Ctrl-C again to quit at once)...');
    cancelRequestedAt = Date.now();
    run.cancel();
  };
  // A closed terminal: nobody reads our output any more (writes may fail with EIO/EPIPE),
  // but the running job still stops cleanly with a checkpoint and the manifest says so.
  const onHangup = () => {
    hungUp = true;
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    onSignal();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHangup);
  try {
    const outcome = await done;
    flushSkipsBefore(jobs.length + 1);
    const count = (st: string) => outcome.jobs.filter((j) => j.status === st).length;
    console.log(`\n${outcome.exitCode === 0 ? '✓' : '✗'} Training manifest written to ${outcome.manifestPath}`);
    // "completed" means trained to the end; a failed or cancelled job is counted, never called completed.
    const trained = outcome.jobs.filter((j) => j.status !== 'skipped' && j.status !== 'planned').length;
    if (o.dryRun) console.log(`  → ${count('planned')} job(s) planned, none trained`);
    else console.log(`  → ${count('done')} of ${trained} job(s) trained to completion`);
    const parts = ['planned', 'done', 'failed', 'diverged', 'cancelled', 'interrupted', 'skipped']
      .map((st) => [st, count(st)] as const)
      .filter(([, n]) => n > 0)
      .map(([st, n]) => `${n} ${st}`);
    console.log(`  → ${parts.join(', ')}`);
    if (jobs.some((j) => j.skipReason))
      console.log(`  → skipped views listed in ${roots.artifactRoot}/skip_summary.json`);
    // 128 + SIGHUP, as a shell reports a job its terminal hung up on.
    return hungUp && outcome.exitCode === 130 ? 129 : outcome.exitCode;
  } finally {
    unsubscribe();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHangup);
  }
}

export function registerTrain(program: Command, context: CliContext = {}): void {
  const command = program
    .command('train')
    .description('train the Phase E jobs (dose × view) selected by the filters, recording each in the manifest')
    .requiredOption('--phase-c-root <dir>', 'Phase C root (dose_<d>/patched_{train,test}.npz)')
    .requiredOption('--phase-d-root <dir>', 'Phase D root (dose_<d>/<view>/<view>_{train,test}.npz)')
    .requiredOption('--artifact-root <dir>', 'where jobs train and the manifest lives')
    .option('--dose <photons>', 'only this dose (exact match, e.g. 1000 or 1e3)', positiveNumber('dose'))
    .addOption(new Option('--view <view>', 'only this view').choices(VIEW_NAMES))
    .addOption(
      new Option('--gridsize <g>', 'only this gridsize').choices(['1', '2']).argParser((v) => Number(v) as 1 | 2),
    )
    .option('--job <id>', 'only these job ids, e.g. dose_1000-baseline-gs1 (repeatable or comma-separated)', collect)
    .option('--dry-run', 'write the plan and the manifest, train nothing')
    .option(
      '--allow-missing-phase-d',
      'skip dense/sparse jobs whose Phase D data is missing (listed in skip_summary.json)',
    )
    .option('--study <file.json>', 'study file overriding the design (doses, views, seeds, model/training overrides)');
  addKnobOptions(command, { withDefaults: true });
  command
    .option(
      '--seeds <list>',
      'train every selected job once per seed (e.g. 1,2,3) into <artifact-root>/seed_<s>/; evaluate and report on <artifact-root> show mean ± spread',
      parseSeedList,
    )
    .option('--force', 'train the selected jobs even when they are up to date')
    .option('--deep', 'compare input files by content hash even when size and mtime match')
    .action(async (opts: TrainOptions & { seeds?: number[] }) => {
      const { seeds, ...rest } = opts;
      if (seeds?.length && rest.seed !== undefined)
        throw new CliExit(2, 'error: give either --seed or --seeds, not both');
      let code = 0;
      for (const seed of seeds ?? [undefined]) {
        if (seed !== undefined) console.log(`\n=== seed ${seed}: ${join(rest.artifactRoot, `seed_${seed}`)} ===`);
        const c = await runTrain(
          seed === undefined ? rest : { ...rest, seed, artifactRoot: join(rest.artifactRoot, `seed_${seed}`) },
          context,
        );
        code ||= c;
      }
      if (code !== 0) throw new CliExit(code);
    });
}
