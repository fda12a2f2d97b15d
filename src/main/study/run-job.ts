/**
 * Run one job (seed 001's `run_training_job`): create the job's folders, touch its log,
 * and either write the dry-run plan and return the summary — never calling the runner —
 * or log the resolved config and call the runner exactly once. A runner that throws gives
 * a `failed` result (also written to the log); it never takes the study down.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResolvedJobConfig } from '../../shared/config';
import { isStudyError } from '../../shared/errors';
import type { TrainEvent } from '../../shared/events';
import { type DryRunSummary, type JobResult, manifestJobFiles } from '../../shared/manifest';
import { defaultStudyDesign, type StudyDesign, type TrainingKnobs } from '../../shared/study';
import { writeFailure, writeFileAtomicSync } from '../data/atomic';
import type { TrainingJob } from './jobs';
import { resolveJobConfig } from './resolve-config';
import { type RunnerResult, runnerMissingError, type TrainingRunner } from './runner';

export interface RunJobOptions {
  dryRun?: boolean;
  /** The resolved config; computed from `design` and `knobs` when absent. */
  config?: ResolvedJobConfig;
  design?: StudyDesign;
  knobs?: TrainingKnobs;
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  resume?: boolean;
  /** The runner started a worker process with this pid. */
  onWorkerStarted?: (pid: number) => void;
  /** Names this attempt of the job (the study run's id). */
  attemptId?: string;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

const RUNNER_STATUSES = new Set(['done', 'failed', 'cancelled', 'diverged']);

export function dryRunSummary(job: TrainingJob): DryRunSummary {
  const f = manifestJobFiles(job);
  return {
    dose: f.dose,
    view: f.view,
    gridsize: f.gridsize,
    train_data_path: f.train_data_path,
    test_data_path: f.test_data_path,
    log_path: f.log_path,
    artifact_dir: f.artifact_dir,
    dry_run: true,
  };
}

function describeError(e: unknown): string {
  if (isStudyError(e)) return e.toLine();
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** Keep the runner's extra fields, but make the required ones well-typed whatever it returned. */
function normaliseResult(raw: unknown): RunnerResult {
  if (typeof raw !== 'object' || raw === null || !RUNNER_STATUSES.has((raw as { status?: string }).status ?? '')) {
    return {
      status: 'failed',
      final_loss: null,
      epochs_completed: 0,
      checkpoint_path: null,
      error: `runner returned an invalid result: ${JSON.stringify(raw)?.slice(0, 200)}`,
    };
  }
  const r = raw as RunnerResult;
  return {
    ...r,
    final_loss: typeof r.final_loss === 'number' && Number.isFinite(r.final_loss) ? r.final_loss : null,
    epochs_completed: Number.isInteger(r.epochs_completed) && r.epochs_completed >= 0 ? r.epochs_completed : 0,
    checkpoint_path: typeof r.checkpoint_path === 'string' ? r.checkpoint_path : null,
  };
}

export function runTrainingJob(
  job: TrainingJob,
  runner: TrainingRunner | null,
  options: RunJobOptions & { dryRun: true },
): Promise<DryRunSummary>;
export function runTrainingJob(
  job: TrainingJob,
  runner: TrainingRunner | null,
  options?: RunJobOptions & { dryRun?: false },
): Promise<JobResult>;
export function runTrainingJob(
  job: TrainingJob,
  runner: TrainingRunner | null,
  options?: RunJobOptions,
): Promise<DryRunSummary | JobResult>;
export async function runTrainingJob(
  job: TrainingJob,
  runner: TrainingRunner | null,
  options: RunJobOptions = {},
): Promise<DryRunSummary | JobResult> {
  const now = options.now ?? (() => new Date());
  mkdirSync(job.artifactDir, { recursive: true });
  mkdirSync(dirname(job.logPath), { recursive: true });
  appendFileSync(job.logPath, '');

  const config = options.config ?? resolveJobConfig(job, options.design ?? defaultStudyDesign(), options.knobs);

  if (options.dryRun) {
    // The seed overwrote the log; we do so only when it holds no training, never a real run's record.
    const previous = readFileSync(job.logPath, 'utf8');
    const overwrite = previous === '' || previous.startsWith('DRY RUN:');
    const text = [
      `DRY RUN: ${job.view} dose=${job.dose} gridsize=${job.gridsize}`,
      `Train: ${job.trainDataPath}`,
      `Test: ${job.testDataPath}`,
      `Planned call: runner(config, job=${job.id}, log_path=${job.logPath}) — not executed`,
      `Resolved config: ${JSON.stringify({ training: config.training, model: config.model })}`,
      '',
    ].join('\n');
    try {
      if (overwrite) writeFileAtomicSync(job.logPath, text);
      else appendFileSync(job.logPath, text);
    } catch (e) {
      throw writeFailure(job.logPath, e);
    }
    return dryRunSummary(job);
  }

  const started = now();
  const log = (line: string) => {
    try {
      appendFileSync(job.logPath, `${line}\n`);
    } catch (e) {
      throw writeFailure(job.logPath, e);
    }
  };
  log(`=== ${started.toISOString()} ${job.view} dose=${job.dose} gridsize=${job.gridsize} (${job.id})`);
  log(`Train: ${job.trainDataPath}`);
  log(`Test: ${job.testDataPath}`);
  log(`Resolved config: ${JSON.stringify({ training: config.training, model: config.model })}`);
  log(`Legacy parameters: ${JSON.stringify(config.legacy)}`);

  let result: RunnerResult;
  if (!runner) {
    const err = runnerMissingError();
    result = {
      status: 'failed',
      final_loss: null,
      epochs_completed: 0,
      checkpoint_path: null,
      error: err.toLine(),
      error_code: err.code,
    };
  } else {
    try {
      const ctx = {
        signal: options.signal ?? new AbortController().signal,
        onEvent: options.onEvent ?? (() => {}),
        resume: options.resume ?? false,
        onWorkerStarted: options.onWorkerStarted,
        ...(options.attemptId ? { attemptId: options.attemptId } : {}),
      };
      result = normaliseResult(await runner(config, job, job.logPath, ctx));
    } catch (e) {
      const cancelled = options.signal?.aborted === true;
      result = {
        status: cancelled ? 'cancelled' : 'failed',
        final_loss: null,
        epochs_completed: 0,
        checkpoint_path: null,
        error: describeError(e),
        ...(isStudyError(e) ? { error_code: e.code } : {}),
      };
    }
  }
  const finished = now();
  if (result.error) log(`ERROR: ${result.error}`);
  log(
    `=== ${finished.toISOString()} ${result.status}${result.final_loss !== null ? ` final_loss=${result.final_loss}` : ''}`,
  );
  return {
    ...result,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_s: Math.max(0, (finished.getTime() - started.getTime()) / 1000),
  };
}
