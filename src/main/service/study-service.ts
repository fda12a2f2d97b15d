/**
 * The study half of WorkbenchService: the one writer of each artifact root's manifest in
 * this process. Runs are queued so that one job trains at a time (dry runs, which train
 * nothing, go straight through); state changes and training events are pushed to every
 * front end; on start and whenever a root is opened, jobs left running by a process that
 * is gone are marked interrupted.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EventName, EventPayload } from '../../shared/api';
import { StudyError } from '../../shared/errors';
import type { JobFreshness } from '../../shared/fingerprint';
import { formatDuration } from '../../shared/presets';
import type { TrainEvent } from '../../shared/events';
import type { ManifestJob, TrainingManifest } from '../../shared/manifest';
import { defaultStudyDesign, JobFiles, NO_FILTERS, type StudyDesign, type TrainingKnobs } from '../../shared/study';
import type {
  JobListing,
  ListJobsOutput,
  ReadJobEventsOutput,
  ReadJobLogOutput,
  ReadManifestOutput,
  ResolvedStudyRoots,
  PlanJobsOutput,
  RunJobsOutput,
  SlurmSubmitOptions,
  StudyRootsInfo,
  StudyRootsInput,
} from '../../shared/study-api';
import { refreshSlurmStatus } from '../slurm/status';
import { submitToSlurm } from '../slurm/submit';
import type { PresetRecord } from '../../shared/presets';
import { estimatePlan, plannedConfig, readPresetRecord, withPresetEpochs } from '../study/estimate';
import { jobFreshness } from '../study/fingerprint';
import { missingDataFiles, planTrainingJobs, type TrainingJob } from '../study/jobs';
import { manifestPath, readManifestFile, readSkipSummary, skipSummaryPath } from '../study/manifest-store';
import { recoverInterrupted } from '../study/recover';
import { resolveJobConfig } from '../study/resolve-config';
import { type StudyPlan, type StudyPlanRequest, planStudyJobs } from '../study/plan';
import type { TrainingRunner } from '../study/runner';
import { StudyRun, type StudyRunOutcome, type StudyRunRequest } from '../study/study-run';
import { type StaleSelection, selectStaleJobs } from '../study/up-to-date';
import { RunQueue } from './run-queue';
import { resolveRoot } from './workspace-paths';
import { jobStopOf } from '../../shared/job-stop';
import type {
  ListJobAttemptsOutput,
  ListJobPreviewsOutput,
  ReadJobPreviewOutput,
  ResumeJobsOutput,
} from '../../shared/study-api';
import { listAttempts, readAttemptEvents, readEventsFrom } from '../trainer/attempts';
import { checkpointPath } from '../trainer/checkpoint';
import { listPreviews, readPreview } from '../trainer/previews';
import { ExternalCurves } from './external-curves';
import { type ManifestChange, ManifestWatch } from './manifest-watch';

export interface StudyServiceOptions {
  transport: 'electron' | 'http' | 'cli';
  workspace: string | null;
  emit: <E extends EventName>(event: E, payload: EventPayload<E>) => void;
  /** The trainer; without one a real run fails each job with RUNNER_MISSING (dry runs need none). */
  runner?: TrainingRunner | null;
  design?: StudyDesign;
  /** The queue training runs wait in (shared with the classical arm); by default one of its own. */
  queue?: RunQueue;
}

export interface RunSelection {
  roots: ResolvedStudyRoots;
  jobs: TrainingJob[];
  filters?: StudyRunRequest['filters'];
  dryRun: boolean;
  knobs: TrainingKnobs;
  jobFields?: StudyRunRequest['jobFields'];
  slurm?: StudyRunRequest['slurm'];
}

/** What to run: the selection (filters, ids, missing-data policy) and the knobs it runs with. */
export interface JobSelectionRequest {
  roots: ResolvedStudyRoots;
  filters?: StudyPlanRequest['filters'];
  jobIds?: StudyPlanRequest['jobIds'];
  unknownJobIds?: StudyPlanRequest['unknownJobIds'];
  missingData: StudyPlanRequest['missingData'];
  knobs: TrainingKnobs;
  force?: boolean;
  deep?: boolean;
  /** Tell which jobs are up to date (false: a Slurm submission decides that itself). */
  freshness?: boolean;
  onPlanned?: StudyPlanRequest['onPlanned'];
}

export interface JobSelection {
  roots: ResolvedStudyRoots;
  /** The data preset recorded with Phase C, if any (its epochs apply when none were asked for). */
  preset: PresetRecord | null;
  /** The knobs the run uses: as asked, with the preset's epochs when none were given. */
  knobs: TrainingKnobs;
  plan: StudyPlan;
  /** Which selected jobs must run; empty when nothing was selected. */
  stale: StaleSelection;
}

interface LiveRun {
  run: StudyRun;
  done: Promise<StudyRunOutcome>;
}

export class StudyService {
  private readonly live = new Map<string, LiveRun>();
  /** Serialises training runs (and classical ones, when shared): one job at a time in this process. */
  private readonly queue: RunQueue;
  readonly design: StudyDesign;
  /** Settles when the start-up recovery of the default artifact root is done. */
  readonly ready: Promise<void>;
  /** The manifests of the roots `listJobs` opened, followed for changes other processes make. */
  private readonly manifestWatch = new ManifestWatch({ onChange: (c) => this.reportManifestChange(c) });
  private readonly externalCurves = new ExternalCurves({ emit: (batch) => this.options.emit('trainEvent', batch) });

  constructor(private readonly options: StudyServiceOptions) {
    this.design = options.design ?? defaultStudyDesign();
    this.queue = options.queue ?? new RunQueue();
    this.ready = options.workspace
      ? this.recover(this.defaultRoots().artifactRoot).then(
          () => undefined,
          (e: unknown) => this.log('warn', `could not check the manifest for interrupted jobs: ${String(e)}`),
        )
      : Promise.resolve();
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.emit('log', { level, message, time: new Date().toISOString() });
  }

  private base(): string {
    return this.options.workspace ?? process.cwd();
  }

  private defaultRoots(): ResolvedStudyRoots {
    const base = this.base();
    return {
      phaseCRoot: join(base, 'phase_c'),
      phaseDRoot: join(base, 'phase_d'),
      artifactRoot: join(base, 'artifacts'),
    };
  }

  private confinement(): string | null {
    return this.options.transport === 'http' ? this.base() : null;
  }

  resolveRoots(input: StudyRootsInput = {}): ResolvedStudyRoots {
    const d = this.defaultRoots();
    const confine = this.confinement();
    return {
      phaseCRoot: resolveRoot(input.phaseCRoot ?? d.phaseCRoot, this.base(), confine),
      phaseDRoot: resolveRoot(input.phaseDRoot ?? d.phaseDRoot, this.base(), confine),
      artifactRoot: resolveRoot(input.artifactRoot ?? d.artifactRoot, this.base(), confine),
    };
  }

  /** Any user-typed folder, under the same rules as the roots. */
  resolveFolder(input: string): string {
    return resolveRoot(input, this.base(), this.confinement());
  }

  private resolveArtifactRoot(artifactRoot: string | undefined): string {
    return this.resolveRoots({ artifactRoot }).artifactRoot;
  }

  private isActiveRun = (runId: string): boolean => this.live.has(runId);

  /** Mark orphaned running/queued jobs of a root as interrupted (no-op without a manifest). */
  async recover(artifactRoot: string): Promise<string[]> {
    if (!existsSync(join(artifactRoot, 'training_manifest.json'))) return [];
    const ids = await recoverInterrupted(artifactRoot, this.isActiveRun);
    if (ids.length) this.log('warn', `marked ${ids.length} job(s) interrupted in ${artifactRoot}: ${ids.join(', ')}`);
    return ids;
  }

  async getStudyRoots(): Promise<StudyRootsInfo> {
    return { ...this.defaultRoots(), workspace: this.options.workspace, confined: this.confinement() !== null };
  }

  private activeJobIds(artifactRoot: string): Set<string> {
    const ids = new Set<string>();
    for (const { run } of this.live.values())
      if (run.artifactRoot === artifactRoot) for (const id of run.jobIds) ids.add(id);
    return ids;
  }

  /** A run of this service still queued or running: its artifact root and jobs (null once it has ended). */
  liveRunJobs(runId: string): { artifactRoot: string; jobIds: string[] } | null {
    const live = this.live.get(runId);
    return live ? { artifactRoot: live.run.artifactRoot, jobIds: [...live.run.jobIds] } : null;
  }

  async listJobs(input: StudyRootsInput): Promise<ListJobsOutput> {
    const roots = this.resolveRoots(input);
    this.manifestWatch.follow(roots.artifactRoot);
    let manifest: TrainingManifest | null = null;
    let manifestError: string | null = null;
    try {
      await this.recover(roots.artifactRoot);
      manifest = readManifestFile(roots.artifactRoot).manifest;
    } catch (e) {
      // A damaged manifest must not hide the job matrix; say what is wrong instead.
      manifestError = e instanceof StudyError ? e.toLine() : String(e);
    }
    manifest = (await this.refreshSlurm(roots.artifactRoot, manifest)) ?? manifest;
    const states = new Map<string, ManifestJob>((manifest?.jobs ?? []).map((j) => [j.id, j]));
    const active = this.activeJobIds(roots.artifactRoot);
    const jobs: JobListing[] = planTrainingJobs(roots, this.design).map((job) => {
      const missing = missingDataFiles(job);
      return {
        ...JobFiles.parse(job),
        data: { status: missing.length ? 'missing' : 'ready', missingFiles: missing },
        state: states.get(job.id) ?? null,
        active: active.has(job.id),
        freshness: missing.length ? null : this.freshness(job, states.get(job.id), roots),
        ...this.stopOf(job, states.get(job.id)),
      };
    });
    return {
      roots,
      doses: this.design.doses,
      jobs,
      manifestPath: manifestPath(roots.artifactRoot),
      hasManifest: manifest !== null,
      manifestError,
    };
  }

  /** Why and where a stopped job stopped, and whether its checkpoint is there to resume from. */
  private stopOf(job: TrainingJob, entry: ManifestJob | undefined): { stop: JobListing['stop']; resumable: boolean } {
    const stop = entry && !entry.dry_run ? jobStopOf(entry) : null;
    return { stop, resumable: stop !== null && existsSync(checkpointPath(job.artifactDir)) };
  }

  private freshness(job: TrainingJob, entry: ManifestJob | undefined, roots: ResolvedStudyRoots) {
    try {
      return jobFreshness(job, entry, (j) => resolveJobConfig(j, this.design, entry?.knobs ?? {}), roots);
    } catch (e) {
      return {
        jobId: job.id,
        upToDate: false,
        reasons: [`cannot check: ${e instanceof Error ? e.message : String(e)}`],
      };
    }
  }

  private lastSlurmRefresh = new Map<string, number>();

  /** Fold Slurm's word into the manifest when it names live Slurm jobs (at most every 5 s per root). */
  private async refreshSlurm(artifactRoot: string, m: TrainingManifest | null): Promise<TrainingManifest | null> {
    if (!m?.jobs.some((j) => j.slurm && (j.status === 'queued' || j.status === 'running'))) return null;
    const last = this.lastSlurmRefresh.get(artifactRoot) ?? 0;
    if (Date.now() - last < 5000) return null;
    this.lastSlurmRefresh.set(artifactRoot, Date.now());
    try {
      return (await refreshSlurmStatus(artifactRoot)).manifest;
    } catch (e) {
      this.log(
        'warn',
        `could not ask Slurm about the jobs of ${artifactRoot}: ${e instanceof Error ? e.message : String(e)}`,
      );
      return null;
    }
  }

  /**
   * Start a run and return once its opening state is in the manifest; the jobs then run in
   * the background. `done` settles with the outcome (the CLI awaits it).
   */
  async startRun(selection: RunSelection): Promise<{ run: StudyRun; done: Promise<StudyRunOutcome> }> {
    const runner = this.options.runner ?? null;
    const run = new StudyRun(
      {
        roots: selection.roots,
        design: this.design,
        jobs: selection.jobs,
        filters: selection.filters ?? NO_FILTERS,
        dryRun: selection.dryRun,
        knobs: selection.knobs,
        jobFields: selection.jobFields,
        slurm: selection.slurm,
        source: this.options.transport,
        runner,
      },
      {
        onJobState: (s) => this.options.emit('jobState', s),
        onTrainEvents: (jobId, events) =>
          this.options.emit('trainEvent', { artifactRoot: run.artifactRoot, runId: run.runId, jobId, events }),
      },
    );
    await run.begin();
    const execute = () => run.execute();
    // a cancelled queued run still goes through execute (it records its jobs cancelled), so it is never removed
    const done = selection.dryRun
      ? execute()
      : this.queue.enqueue(run.runId, 'training', execute, () => {
          throw new Error('a training run is never taken out of the queue');
        }).done;
    this.live.set(run.runId, { run, done });
    const finished = done.then(
      (outcome) => {
        this.options.emit('runState', {
          artifactRoot: run.artifactRoot,
          runId: run.runId,
          status: outcome.status,
          exitCode: outcome.exitCode,
          jobIds: run.jobIds,
          dryRun: selection.dryRun,
          outcomes: outcome.jobs.map((j) => ({ jobId: j.id, status: j.status })),
        });
        return outcome;
      },
      (e: unknown) => {
        this.log('error', `run ${run.runId} stopped: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      },
    );
    void finished.finally(() => this.live.delete(run.runId)).catch(() => undefined);
    return { run, done: finished };
  }

  /**
   * The front door for choosing the jobs of a run (CLI, HTTP, IPC): the selection planned
   * under one missing-data policy, the preset's epochs applied, and — when anything was
   * selected — jobs a gone process left running marked interrupted and the jobs that are not
   * up to date for these knobs picked out. Selecting nothing leaves the manifest alone.
   */
  async selectJobs(request: JobSelectionRequest): Promise<JobSelection> {
    const { roots } = request;
    const preset = readPresetRecord(roots.phaseCRoot);
    const knobs = withPresetEpochs(request.knobs, preset);
    const plan = planStudyJobs({
      roots,
      design: this.design,
      filters: request.filters,
      jobIds: request.jobIds,
      unknownJobIds: request.unknownJobIds,
      missingData: request.missingData,
      onPlanned: (p) => {
        this.confineJobs(p.selected);
        request.onPlanned?.(p);
      },
    });
    const none: StaleSelection = { jobs: [], upToDate: [], checks: new Map(), jobFields: new Map() };
    if (plan.selected.length === 0) return { roots, preset, knobs, plan, stale: none };
    await this.recover(roots.artifactRoot);
    const stale =
      request.freshness === false
        ? { ...none, jobs: plan.jobs }
        : selectStaleJobs(plan.jobs, { roots, design: this.design, knobs, force: request.force, deep: request.deep });
    return { roots, preset, knobs, plan, stale };
  }

  /** In browser mode nothing is written or read through a link out of the workspace. */
  private confineJobs(jobs: TrainingJob[]): void {
    const confine = this.confinement();
    if (!confine) return;
    for (const job of jobs)
      for (const p of [job.artifactDir, job.trainDataPath, job.testDataPath]) resolveRoot(p, this.base(), confine);
  }

  async runJobs(input: {
    roots: StudyRootsInput;
    jobIds: string[];
    dryRun: boolean;
    knobs: TrainingKnobs;
    force?: boolean;
    runOn?: 'local' | 'slurm';
    slurm?: SlurmSubmitOptions;
  }): Promise<RunJobsOutput> {
    // An explicit selection with missing data is recorded as skipped with the missing files.
    const selection = await this.selectJobs({
      roots: this.resolveRoots(input.roots),
      jobIds: input.jobIds,
      missingData: 'skip',
      knobs: input.knobs,
      force: input.force,
      freshness: input.runOn !== 'slurm',
    });
    const { roots, stale } = selection;
    input = { ...input, knobs: selection.knobs };
    const jobs = selection.plan.jobs;
    const manifestFile = join(roots.artifactRoot, 'training_manifest.json');
    if (input.runOn === 'slurm') {
      const out = await submitToSlurm({
        roots,
        design: this.design,
        jobs: jobs.filter((j) => !j.skipReason),
        filters: NO_FILTERS,
        knobs: input.knobs,
        resources: input.slurm ?? {},
        force: input.force,
        dryRun: input.dryRun,
        workdir: this.base(),
      });
      if (out.slurmJobId)
        this.log(
          'info',
          `submitted Slurm job ${out.slurmJobId}: ${out.jobIds.length} array task(s) (${out.scriptPath})`,
        );
      return {
        runId: out.runId,
        artifactRoot: roots.artifactRoot,
        manifestPath: manifestFile,
        jobIds: out.jobIds,
        dryRun: input.dryRun,
        upToDate: out.upToDate,
        slurmJobId: out.slurmJobId,
      };
    }
    if (stale.jobs.length === 0) {
      this.log(
        'info',
        `nothing to train: ${stale.upToDate.length} job(s) up to date (Retrain up-to-date jobs reruns them)`,
      );
      return {
        runId: '',
        artifactRoot: roots.artifactRoot,
        manifestPath: manifestFile,
        jobIds: [],
        dryRun: input.dryRun,
        upToDate: stale.upToDate.map((j) => j.id),
      };
    }
    const { run } = await this.startRun({
      roots,
      jobs: stale.jobs,
      dryRun: input.dryRun,
      knobs: input.knobs,
      jobFields: stale.jobFields,
    });
    return {
      runId: run.runId,
      artifactRoot: run.artifactRoot,
      manifestPath: join(run.artifactRoot, 'training_manifest.json'),
      jobIds: run.jobIds,
      dryRun: input.dryRun,
      upToDate: stale.upToDate.map((j) => j.id),
    };
  }

  /** Per selected job (data present): "up to date" or "will run: <reason>" for a run with these knobs. */
  async planJobs(input: {
    roots: StudyRootsInput;
    jobIds: string[];
    knobs: TrainingKnobs;
    force?: boolean;
  }): Promise<PlanJobsOutput> {
    const roots = this.resolveRoots(input.roots);
    const preset = readPresetRecord(roots.phaseCRoot);
    input = { ...input, knobs: withPresetEpochs(input.knobs, preset) };
    const { jobs } = planStudyJobs({
      roots,
      design: this.design,
      jobIds: input.jobIds,
      unknownJobIds: 'ignore',
      missingData: 'skip',
    });
    // Lazy: only a done job's inputs are looked at (by size and mtime first), so the plan stays
    // quick however large the data; what a run records is computed when it starts.
    const entries = new Map((readManifestFile(roots.artifactRoot).manifest?.jobs ?? []).map((j) => [j.id, j]));
    // steps and time before the run, from the preset's budget and the step rate measured here
    const estimate = await estimatePlan(
      jobs.filter((j) => !j.skipReason),
      {
        artifactRoot: roots.artifactRoot,
        maxEpochs: input.knobs.max_epochs,
        batchSize: input.knobs.batch_size,
        nGroups: input.knobs.n_groups,
        preset,
        config: plannedConfig(this.design, input.knobs),
      },
    ).catch(() => null);
    const withEstimate = (f: JobFreshness): JobFreshness => {
      const e = f.upToDate ? undefined : estimate?.jobs.find((x) => x.id === f.jobId);
      if (!e) return f;
      return {
        ...f,
        estimate: `${e.groups} groups (${e.trainGroups} train / ${e.validationGroups} validation), batch ${e.batchSize}: ${e.stepsPerEpoch} steps/epoch × ${e.epochs} epochs = ${e.totalSteps} steps ≈ ${formatDuration(e.seconds)} at ${e.secondsPerStep.toFixed(2)} s/step (${e.rateSource})${preset ? `; preset ${preset.name}` : ''}`,
        plan: {
          groups: e.groups,
          trainGroups: e.trainGroups,
          validationGroups: e.validationGroups,
          batchSize: e.batchSize,
          stepsPerEpoch: e.stepsPerEpoch,
          epochs: e.epochs,
          totalSteps: e.totalSteps,
          secondsPerStep: e.secondsPerStep,
          rateSource: e.rateSource,
          seconds: e.seconds,
        },
      };
    };
    const planned = jobs.map((j) => {
      if (j.skipReason) return { jobId: j.id, upToDate: false, reasons: [j.skipReason] };
      const f = jobFreshness(j, entries.get(j.id), (job) => resolveJobConfig(job, this.design, input.knobs), roots);
      return withEstimate(f.upToDate && input.force ? { ...f, upToDate: false, reasons: ['--force'] } : f);
    });
    const costed = planned.flatMap((f) => (f.plan ? [f.plan] : []));
    return {
      jobs: planned,
      ...(costed.length
        ? {
            total: {
              jobs: costed.length,
              totalSteps: costed.reduce((n, p) => n + p.totalSteps, 0),
              seconds: costed.reduce((n, p) => n + p.seconds, 0),
            },
          }
        : {}),
    };
  }

  async cancelJobs(input: { jobIds: string[] } | { all: true }): Promise<{ cancelled: string[] }> {
    const cancelled: string[] = [];
    for (const { run } of this.live.values()) {
      const ids = 'all' in input ? run.jobIds : run.jobIds.filter((id) => input.jobIds.includes(id));
      if (ids.length === 0) continue;
      cancelled.push(...run.cancel('all' in input ? undefined : ids));
    }
    return { cancelled };
  }

  async readManifest(input: { artifactRoot?: string }): Promise<ReadManifestOutput> {
    const root = this.resolveArtifactRoot(input.artifactRoot);
    await this.recover(root);
    const { path, manifest, raw } = readManifestFile(root);
    const skipPath = skipSummaryPath(root);
    return {
      path,
      manifest,
      raw,
      skipSummary: readSkipSummary(root),
      skipSummaryRaw: existsSync(skipPath) ? readFileSync(skipPath, 'utf8') : null,
    };
  }

  private jobById(artifactRoot: string, jobId: string): TrainingJob {
    const roots = { ...this.defaultRoots(), artifactRoot };
    const job = planTrainingJobs(roots, this.design).find((j) => j.id === jobId);
    if (!job)
      throw new StudyError('NOT_FOUND', `no job ${jobId} in the study design`, {
        key: 'jobId',
        found: jobId,
      });
    // In browser mode a job folder that is a symlink out of the workspace is not followed.
    const confine = this.confinement();
    if (confine) for (const p of [job.logPath, job.eventsPath]) resolveRoot(p, this.base(), confine);
    return job;
  }

  async readJobEvents(input: {
    artifactRoot?: string;
    jobId: string;
    fromByte: number;
    types?: TrainEvent['type'][];
    attemptId?: string;
  }): Promise<ReadJobEventsOutput> {
    const job = this.jobById(this.resolveArtifactRoot(input.artifactRoot), input.jobId);
    if (input.attemptId !== undefined) {
      const read = readAttemptEvents(job.artifactDir, job.eventsPath, input.attemptId, input.fromByte, input.types);
      if (!read)
        throw new StudyError('NOT_FOUND', `job ${job.id} has no attempt ${input.attemptId}`, {
          key: 'attemptId',
          found: input.attemptId,
          expected: listAttempts(job.artifactDir, job.eventsPath).map((a) => a.attemptId),
        });
      return read;
    }
    return { path: job.eventsPath, ...readEventsFrom(job.eventsPath, input.fromByte, input.types) };
  }

  async readJobLog(input: { artifactRoot?: string; jobId: string; tailBytes: number }): Promise<ReadJobLogOutput> {
    const job = this.jobById(this.resolveArtifactRoot(input.artifactRoot), input.jobId);
    if (!existsSync(job.logPath)) return { path: job.logPath, text: '', size: 0, truncated: false, exists: false };
    const size = statSync(job.logPath).size;
    const length = Math.min(size, input.tailBytes);
    const buf = Buffer.alloc(length);
    const fd = openSync(job.logPath, 'r');
    try {
      readSync(fd, buf, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    let text = buf.toString('utf8');
    // Start at a line boundary when the tail cut a line.
    const firstBreak = text.indexOf('\n');
    if (length < size && firstBreak >= 0 && firstBreak < text.length - 1) text = text.slice(firstBreak + 1);
    return { path: job.logPath, text, size, truncated: length < size, exists: true };
  }

  /** Every attempt (run) of a job with its own curve, oldest first. */
  async listJobAttempts(input: { artifactRoot?: string; jobId: string }): Promise<ListJobAttemptsOutput> {
    const root = this.resolveArtifactRoot(input.artifactRoot);
    const job = this.jobById(root, input.jobId);
    let runIds = new Set<string>();
    try {
      runIds = new Set((readManifestFile(root).manifest?.runs ?? []).map((r) => r.run_id));
    } catch {
      // a damaged manifest only loses the run ids
    }
    const attempts = listAttempts(job.artifactDir, job.eventsPath, runIds);
    // the attempt a live run is training right now
    const active = this.activeJobIds(root).has(job.id);
    return {
      attempts: attempts.map((a, i) =>
        active && i === attempts.length - 1 && a.status !== 'running' && a.current ? { ...a, status: 'running' } : a,
      ),
    };
  }

  async listJobPreviews(input: { artifactRoot?: string; jobId: string }): Promise<ListJobPreviewsOutput> {
    const job = this.jobById(this.resolveArtifactRoot(input.artifactRoot), input.jobId);
    return listPreviews(job.artifactDir, job.eventsPath);
  }

  async readJobPreview(input: { artifactRoot?: string; jobId: string; epoch?: number }): Promise<ReadJobPreviewOutput> {
    const job = this.jobById(this.resolveArtifactRoot(input.artifactRoot), input.jobId);
    return readPreview(job.artifactDir, job.eventsPath, input.epoch);
  }

  /**
   * Continue stopped jobs from their checkpoints as `train --resume` does, with the knobs
   * each was trained with; jobs that cannot be resumed are named with the reason.
   */
  async resumeJobs(input: { roots: StudyRootsInput; jobIds: string[] }): Promise<ResumeJobsOutput> {
    const roots = this.resolveRoots(input.roots);
    await this.recover(roots.artifactRoot);
    const manifest = readManifestFile(roots.artifactRoot).manifest;
    const entries = new Map((manifest?.jobs ?? []).map((j) => [j.id, j]));
    const all = planTrainingJobs(roots, this.design);
    const active = this.activeJobIds(roots.artifactRoot);
    const notResumed: ResumeJobsOutput['notResumed'] = [];
    const byKnobs = new Map<string, { knobs: TrainingKnobs; jobs: TrainingJob[] }>();
    for (const id of input.jobIds) {
      const job = all.find((j) => j.id === id);
      const entry = entries.get(id);
      const why = !job
        ? 'not a job of this study'
        : active.has(id)
          ? 'it is queued or running here'
          : !entry || entry.dry_run
            ? 'it was never trained here'
            : !jobStopOf(entry)
              ? `it is ${entry.status}, not stopped`
              : !existsSync(checkpointPath(job.artifactDir))
                ? `no checkpoint at ${checkpointPath(job.artifactDir)}`
                : missingDataFiles(job).length
                  ? `its data are missing: ${missingDataFiles(job).join(', ')}`
                  : null;
      if (why || !job || !entry) {
        notResumed.push({ jobId: id, reason: why ?? 'unknown' });
        continue;
      }
      if (this.confinement())
        for (const p of [job.artifactDir, job.trainDataPath, job.testDataPath])
          resolveRoot(p, this.base(), this.confinement());
      const knobs: TrainingKnobs = { ...entry.knobs, resume: true };
      const key = JSON.stringify(knobs);
      const group = byKnobs.get(key) ?? { knobs, jobs: [] };
      group.jobs.push(job);
      byKnobs.set(key, group);
    }
    const manifestFile = manifestPath(roots.artifactRoot);
    const runIds: string[] = [];
    const jobIds: string[] = [];
    for (const { knobs, jobs } of byKnobs.values()) {
      // data presence was checked above; force: a resumed job trains whatever its fingerprint says
      const stale = selectStaleJobs(jobs, { roots, design: this.design, knobs, force: true });
      const { run } = await this.startRun({ roots, jobs, dryRun: false, knobs, jobFields: stale.jobFields });
      runIds.push(run.runId);
      jobIds.push(...run.jobIds);
    }
    return {
      runId: runIds[0] ?? '',
      runIds,
      artifactRoot: roots.artifactRoot,
      manifestPath: manifestFile,
      jobIds,
      dryRun: false,
      notResumed,
    };
  }

  /** Cancel every live run and wait for them to record their final states (app quit, server stop). */
  /**
   * A job entry another process changed (a CLI run, another window, a Slurm task): push it
   * as a job state. Jobs of this service's own live runs are left out (their runs push them).
   */
  private reportManifestChange(change: ManifestChange): void {
    for (const entry of change.changed) {
      if (this.isActiveRun(entry.run_id)) continue;
      this.externalCurves.update(change.artifactRoot, entry);
      const run = change.manifest.runs.find((r) => r.run_id === entry.run_id);
      const position = run ? run.job_ids.indexOf(entry.id) : -1;
      const stop = entry.dry_run ? null : jobStopOf(entry);
      this.options.emit('jobState', {
        artifactRoot: change.artifactRoot,
        runId: entry.run_id,
        jobId: entry.id,
        status: entry.status,
        progress: entry.progress,
        finalLoss: entry.result?.final_loss ?? null,
        error: entry.result?.error ?? null,
        errorCode: typeof entry.result?.error_code === 'string' ? entry.result.error_code : null,
        skipReason: entry.skip_reason,
        index: position >= 0 ? position + 1 : 1,
        total: run && position >= 0 ? run.job_ids.length : 1,
        stop,
        resumable: stop !== null && existsSync(checkpointPath(entry.artifact_dir)),
        source: 'manifest',
        entry,
      });
    }
  }

  async close(): Promise<void> {
    this.manifestWatch.close();
    this.externalCurves.close();
    const runs = [...this.live.values()];
    for (const { run } of runs) run.cancel();
    await Promise.allSettled(runs.map((r) => r.done));
  }
}
