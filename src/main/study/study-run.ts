/**
 * One invocation of the study: a queue of jobs run one at a time, each recorded in the
 * manifest as it moves planned/queued → running → done / failed / cancelled / diverged,
 * plus skipped jobs and the run's own record in `runs[]`. The CLI awaits it; the service
 * runs it in the background and forwards its state changes to the UI.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { ResolvedJobConfig } from '../../shared/config';
import { StudyError } from '../../shared/errors';
import { jobStopOf } from '../../shared/job-stop';
import type { TrainEvent } from '../../shared/events';
import {
  type JobResult,
  type JobStatus,
  MANIFEST_SCHEMA_VERSION,
  type ManifestJob,
  manifestJobFiles,
  type RunRecord,
  type RunStatus,
  SKIP_SUMMARY_FILE,
  type TrainingManifest,
} from '../../shared/manifest';
import type { JobFilters, StudyDesign, TrainingKnobs } from '../../shared/study';
import type { JobStateEvent } from '../../shared/study-api';
import { type StudyRoots, skippedViews, type TrainingJob } from './jobs';
import { manifestPath, mergeJobs, updateManifest, writeSkipSummary } from './manifest-store';
import { EventBatcher, emptyProgress, foldProgress, throttle } from './progress';
import { isProcessAlive } from './lock';
import { jobOwnerAlive, trainerAlive } from './recover';
import { resolveJobConfig } from './resolve-config';
import { runTrainingJob } from './run-job';
import type { TrainingRunner } from './runner';

export interface StudyRunRequest {
  roots: StudyRoots;
  design: StudyDesign;
  /** Selected jobs, data already checked; jobs with `skipReason` are recorded as skipped. */
  jobs: TrainingJob[];
  filters: JobFilters;
  dryRun: boolean;
  knobs: TrainingKnobs;
  source: RunRecord['source'];
  runner: TrainingRunner | null;
  /** Extra fields recorded on a job's entry when a real run opens it (its fingerprint, its Slurm task). */
  jobFields?: ReadonlyMap<string, Record<string, unknown>>;
  /** The Slurm array task this invocation runs as, recorded on its run. */
  slurm?: RunRecord['slurm'];
}

/**
 * A job's new state as a run reports it: the service's `jobState` event (shared/study-api.ts)
 * without the two fields only the service adds (where the change was seen, the manifest entry).
 */
export type JobStateChange = Omit<JobStateEvent, 'source' | 'entry'>;

export interface StudyRunHooks {
  onJobState?(change: JobStateChange): void;
  onTrainEvents?(jobId: string, events: TrainEvent[]): void;
}

export interface StudyRunOutcome {
  runId: string;
  status: RunStatus;
  exitCode: number;
  manifestPath: string;
  jobs: { id: string; status: JobStatus; result: JobResult | null }[];
}

export function newRunId(now = new Date()): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** A job's manifest entry: its paths from the plan, its state from `fields`. */
export function manifestJob(
  job: TrainingJob,
  fields: Pick<ManifestJob, 'status' | 'dry_run' | 'run_id' | 'knobs' | 'config'>,
): ManifestJob {
  return {
    ...manifestJobFiles(job),
    updated_at: new Date().toISOString(),
    skip_reason: job.skipReason,
    missing_files: job.missingFiles,
    result: null,
    progress: null,
    worker: null,
    ...fields,
  };
}

function hasRealOutcome(j: ManifestJob): boolean {
  return !j.dry_run && ['done', 'failed', 'diverged', 'cancelled', 'interrupted'].includes(j.status);
}

/** Refuse to start a job that a live process is training (or about to) under this root right now. */
function assertNotRunningElsewhere(current: TrainingManifest | null, ids: Set<string>): void {
  if (!current) return;
  for (const j of current.jobs) {
    if (!ids.has(j.id) || (j.status !== 'running' && j.status !== 'queued')) continue;
    if (jobOwnerAlive(current, j, () => true)) {
      const run = current.runs.find((r) => r.run_id === j.run_id);
      const host = j.worker?.hostname ?? run?.hostname;
      const pid = j.worker?.pid ?? run?.pid;
      const orphan = trainerAlive(j) && pid !== undefined && pid !== process.pid && !isProcessAlive(pid);
      throw new StudyError('LOCKED', `job ${j.id} is already ${j.status} in run ${j.run_id}`, {
        key: j.id,
        found: orphan
          ? `its trainer (pid ${j.worker?.trainer_pid} on ${host}) still runs, though the process that started it (pid ${pid}) is gone`
          : `pid ${pid}${j.worker?.trainer_pid ? ` (trainer pid ${j.worker.trainer_pid})` : ''} on ${host}`,
        hint: orphan
          ? 'it stops by itself within seconds (checkpoint written); then run again with --resume'
          : 'cancel it first, or wait for it to finish',
      });
    }
  }
}

export class StudyRun {
  readonly runId = newRunId();
  readonly artifactRoot: string;
  private readonly controllers = new Map<string, AbortController>();
  private readonly cancelled = new Set<string>();
  /** Jobs the queue has taken (running or finished) or that cancel has already recorded. */
  private readonly taken = new Set<string>();
  private cancelAll = false;
  private readonly configs = new Map<string, ResolvedJobConfig>();
  /** Jobs whose real outcome a dry run left in place. */
  private readonly kept = new Map<string, ManifestJob>();
  private started: Promise<void> | null = null;

  constructor(
    private readonly request: StudyRunRequest,
    private readonly hooks: StudyRunHooks = {},
  ) {
    this.artifactRoot = resolve(request.roots.artifactRoot);
    // Resolve every config before anything is written: a bad override stops the run up front.
    for (const job of request.jobs) {
      if (!job.skipReason) this.configs.set(job.id, resolveJobConfig(job, request.design, request.knobs));
    }
  }

  get jobIds(): string[] {
    return this.request.jobs.map((j) => j.id);
  }

  /**
   * Cancel some jobs of this run, or all: the running one is aborted through its signal;
   * jobs still waiting are recorded as cancelled at once. Returns the ids affected.
   */
  cancel(jobIds?: string[]): string[] {
    if (!jobIds) this.cancelAll = true;
    const affected: string[] = [];
    for (const id of jobIds ?? this.jobIds) {
      const index = this.request.jobs.findIndex((j) => j.id === id);
      const job = this.request.jobs[index];
      if (!job || job.skipReason || this.cancelled.has(id)) continue;
      const controller = this.controllers.get(id);
      if (this.taken.has(id) && !controller) continue; // already finished
      this.cancelled.add(id);
      affected.push(id);
      if (controller) controller.abort();
      else if (this.started && !this.request.dryRun) {
        this.taken.add(id);
        void this.started
          .then(() => this.patchJob(id, { status: 'cancelled' }))
          .then(() => this.emitState(job, 'cancelled', index))
          .catch(() => undefined);
      }
    }
    return affected;
  }

  isCancelled(id: string): boolean {
    return this.cancelAll || this.cancelled.has(id);
  }

  /** Write the opening manifest state (throws LOCKED if a job runs elsewhere); then `execute`. */
  async begin(): Promise<void> {
    this.started ??= this.writeOpening();
    return this.started;
  }

  private async writeOpening(): Promise<void> {
    const { request: r, runId } = this;
    const now = new Date().toISOString();
    const skipped = skippedViews(r.jobs);
    const ids = new Set(this.jobIds);
    await updateManifest(this.artifactRoot, (current) => {
      assertNotRunningElsewhere(current, ids);
      const previous = new Map((current?.jobs ?? []).map((j) => [j.id, j]));
      const opening = r.jobs.map((job) => {
        const before = previous.get(job.id);
        // A dry run never replaces what real training recorded; it only notes that it planned the job.
        if (r.dryRun && before && hasRealOutcome(before)) {
          this.kept.set(job.id, before);
          return { ...before, last_dry_run: { run_id: runId, planned_at: now } };
        }
        return manifestJob(job, {
          status: job.skipReason ? 'skipped' : r.dryRun ? 'planned' : 'queued',
          dry_run: r.dryRun,
          run_id: runId,
          knobs: r.knobs,
          config: this.configs.get(job.id) ?? null,
          ...(r.dryRun || job.skipReason ? {} : r.jobFields?.get(job.id)),
        });
      });
      const run: RunRecord = {
        run_id: runId,
        started_at: now,
        finished_at: null,
        source: r.source,
        pid: process.pid,
        hostname: hostname(),
        filters: r.filters,
        dry_run: r.dryRun,
        knobs: r.knobs,
        job_ids: [...ids],
        status: 'running',
        exit_code: null,
        ...(r.slurm && !r.dryRun ? { slurm: r.slurm } : {}),
      };
      return {
        ...current,
        schema_version: MANIFEST_SCHEMA_VERSION,
        timestamp: now,
        phase_c_root: resolve(r.roots.phaseCRoot),
        phase_d_root: resolve(r.roots.phaseDRoot),
        artifact_root: this.artifactRoot,
        filters: r.filters,
        dry_run: r.dryRun,
        knobs: r.knobs,
        design: { name: r.design.name, neighbor_count: r.design.neighbor_count, doses: r.design.doses },
        skipped_views: skipped,
        skipped_count: skipped.length,
        skip_summary_path: SKIP_SUMMARY_FILE,
        jobs: mergeJobs(current?.jobs ?? [], opening),
        runs: [...(current?.runs ?? []), run],
      };
    });
    writeSkipSummary(this.artifactRoot, { timestamp: now, skipped_views: skipped, skipped_count: skipped.length });
    r.jobs.forEach((job, i) => {
      if (job.skipReason) this.emitState(job, 'skipped', i, { skipReason: job.skipReason });
      else if (!r.dryRun) this.emitState(job, 'queued', i);
    });
  }

  private emitState(
    job: TrainingJob,
    status: JobStatus,
    index: number,
    extra: Partial<
      Pick<JobStateChange, 'progress' | 'finalLoss' | 'error' | 'errorCode' | 'skipReason' | 'stop' | 'resumable'>
    > = {},
  ): void {
    this.hooks.onJobState?.({
      artifactRoot: this.artifactRoot,
      runId: this.runId,
      jobId: job.id,
      status,
      progress: extra.progress ?? null,
      finalLoss: extra.finalLoss ?? null,
      error: extra.error ?? null,
      errorCode: extra.errorCode ?? null,
      skipReason: extra.skipReason ?? null,
      ...this.stopFields(status, extra),
      index: index + 1,
      total: this.request.jobs.length,
    });
  }

  /**
   * Why and where a stopped job stopped. A job cancelled while queued stopped before training;
   * whether an earlier run's checkpoint resumes it is `listJobs`'s to say (the trainer owns that file).
   */
  private stopFields(
    status: JobStatus,
    extra: Pick<Partial<JobStateChange>, 'stop' | 'resumable'>,
  ): Pick<JobStateChange, 'stop' | 'resumable'> {
    if (extra.stop !== undefined) return { stop: extra.stop, resumable: extra.resumable ?? false };
    const stop = jobStopOf({ status, result: null, progress: null });
    return stop ? { stop } : {};
  }

  private patchJob(id: string, patch: Partial<ManifestJob>): Promise<unknown> {
    return updateManifest(this.artifactRoot, (m) => {
      if (!m) return null;
      return {
        ...m,
        jobs: m.jobs.map((j) =>
          j.id === id && j.run_id === this.runId ? { ...j, ...patch, updated_at: new Date().toISOString() } : j,
        ),
      };
    });
  }

  /** Run the queue to the end. Always finishes the run record, whatever happened. */
  async execute(): Promise<StudyRunOutcome> {
    await this.begin();
    const r = this.request;
    const outcomes: StudyRunOutcome['jobs'] = [];
    for (const [i, job] of r.jobs.entries()) {
      if (job.skipReason) {
        outcomes.push({ id: job.id, status: 'skipped', result: null });
        continue;
      }
      if (this.isCancelled(job.id)) {
        if (!this.taken.has(job.id)) {
          this.taken.add(job.id);
          await this.patchJob(job.id, { status: 'cancelled' });
          this.emitState(job, 'cancelled', i);
        }
        outcomes.push({ id: job.id, status: 'cancelled', result: null });
        continue;
      }
      this.taken.add(job.id);
      outcomes.push(await this.runOne(job, i));
    }
    const statuses = outcomes.map((o) => o.status);
    const anyCancelled = statuses.includes('cancelled');
    const anyFailed = statuses.some((s) => s === 'failed' || s === 'diverged');
    const status: RunStatus = anyCancelled ? 'cancelled' : anyFailed ? 'failed' : 'done';
    const exitCode = anyCancelled ? 130 : anyFailed ? 1 : 0;
    await updateManifest(this.artifactRoot, (m) =>
      m
        ? {
            ...m,
            runs: m.runs.map((run) =>
              run.run_id === this.runId
                ? { ...run, status, exit_code: exitCode, finished_at: new Date().toISOString() }
                : run,
            ),
          }
        : null,
    );
    return { runId: this.runId, status, exitCode, manifestPath: manifestPath(this.artifactRoot), jobs: outcomes };
  }

  private async runOne(job: TrainingJob, index: number): Promise<StudyRunOutcome['jobs'][number]> {
    const r = this.request;
    const config = this.configs.get(job.id);
    if (r.dryRun) {
      const summary = await runTrainingJob(job, null, { dryRun: true, config });
      const result: JobResult = {
        ...summary,
        status: 'planned',
        final_loss: null,
        epochs_completed: 0,
        checkpoint_path: null,
      };
      const kept = this.kept.get(job.id);
      if (kept) {
        // The manifest keeps the real outcome; tell the front ends that state, not "planned".
        this.emitState(job, kept.status, index, {
          progress: kept.progress,
          finalLoss: kept.result?.final_loss ?? null,
          error: kept.result?.error ?? null,
        });
        return { id: job.id, status: 'planned', result };
      }
      await this.patchJob(job.id, { status: 'planned', result });
      this.emitState(job, 'planned', index);
      return { id: job.id, status: 'planned', result };
    }

    const controller = new AbortController();
    this.controllers.set(job.id, controller);
    let progress = emptyProgress();
    const worker = { pid: process.pid, hostname: hostname(), run_id: this.runId, trainer_pid: null };
    await this.patchJob(job.id, { status: 'running', worker, progress, result: null });
    this.emitState(job, 'running', index, { progress });

    const batcher = new EventBatcher((events) => this.hooks.onTrainEvents?.(job.id, events));
    const stateGate = throttle(250);
    const manifestGate = throttle(2000);
    let pendingWrite: Promise<unknown> = Promise.resolve();
    const result = await runTrainingJob(job, r.runner, {
      config,
      signal: controller.signal,
      resume: r.knobs.resume ?? false,
      attemptId: this.runId,
      onWorkerStarted: (pid) => {
        // Before any progress write: a later run must see who trains this job if we die now.
        const w = { ...worker, trainer_pid: pid };
        pendingWrite = pendingWrite.then(() => this.patchJob(job.id, { worker: w }).catch(() => {}));
      },
      onEvent: (e) => {
        batcher.push(e);
        progress = foldProgress(progress, e);
        if (stateGate()) this.emitState(job, 'running', index, { progress });
        if (manifestGate()) {
          const snapshot = progress;
          pendingWrite = pendingWrite.then(() => this.patchJob(job.id, { progress: snapshot }).catch(() => {}));
        }
      },
    });
    batcher.flush();
    await pendingWrite;
    this.controllers.delete(job.id);
    const status = result.status as JobStatus;
    const used = typeof result.execution_provider === 'string' ? result.execution_provider : undefined;
    const recorded = used && config ? { config: { ...config, accelerator_used: used } } : {};
    await this.patchJob(job.id, { status, result, progress, worker: null, ...recorded });
    this.emitState(job, status, index, {
      progress,
      finalLoss: result.final_loss,
      error: result.error ?? null,
      errorCode: typeof result.error_code === 'string' ? result.error_code : null,
      stop: jobStopOf({ status, result, progress }),
      resumable: result.checkpoint_path !== null && existsSync(result.checkpoint_path),
    });
    return { id: job.id, status, result };
  }
}
