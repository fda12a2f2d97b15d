/**
 * The classical arm in the workbench: one reconstruction run at a time per process (it is
 * CPU-bound and writes classical.json), started in the background, each iteration pushed as a
 * `classicalProgress` event (the live curve), cancellable between iterations. What was
 * reached is kept: a cancelled job still writes its recon.npz and eval.json.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventName, EventPayload } from '../../shared/api';
import type { ClassicalProgressEvent, GetClassicalOutput, ReconstructClassicalInput } from '../../shared/classical-api';
import { StudyError } from '../../shared/errors';
import type { StudyDesign } from '../../shared/study';
import { CLASSICAL_EVENTS, planClassicalJobs } from '../classical/job';
import { pieOptions } from '../classical/pie';
import { readClassicalFileSync, reconstructStudy } from '../classical/study';
import type { StudyRoots } from '../study/jobs';

export interface ClassicalServiceOptions {
  emit: <E extends EventName>(event: E, payload: EventPayload<E>) => void;
  resolveRoots: (input: Partial<StudyRoots>) => StudyRoots;
  design?: StudyDesign;
}

interface LiveRun {
  runId: string;
  artifactRoot: string;
  jobId: string | null;
  stop: boolean;
  done: Promise<void>;
}

/** Errors per iteration from a classical job's events.jsonl ('epoch' lines). */
function readErrors(artifactDir: string): { errors: number[]; state: ClassicalProgressEvent['state'] | null } {
  const path = join(artifactDir, CLASSICAL_EVENTS);
  if (!existsSync(path)) return { errors: [], state: null };
  const errors: number[] = [];
  let state: ClassicalProgressEvent['state'] | null = null;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as { type?: string; train_loss?: number; status?: string };
      if (e.type === 'epoch' && typeof e.train_loss === 'number') errors.push(e.train_loss);
      if (e.type === 'status')
        state =
          e.status === 'started'
            ? 'running'
            : e.status === 'done'
              ? 'done'
              : e.status === 'cancelled'
                ? 'cancelled'
                : 'failed';
    } catch {
      // a torn last line of a killed run: the lines before it still count
    }
  }
  return { errors, state };
}

export class ClassicalService {
  private live: LiveRun | null = null;

  constructor(private readonly options: ClassicalServiceOptions) {}

  /** Starts a run in the background; a second one while one runs is refused. */
  async reconstruct(
    input: ReconstructClassicalInput,
  ): Promise<{ runId: string; artifactRoot: string; jobIds: string[] }> {
    if (this.live)
      throw new StudyError('LOCKED', `a classical reconstruction is already running (${this.live.runId})`, {
        key: 'runId',
        found: this.live.runId,
        hint: 'cancel it or wait for it to finish',
      });
    const roots = this.options.resolveRoots(input);
    const filters = { dose: input.dose ?? null, view: input.view ?? null };
    const jobs = planClassicalJobs(roots, this.options.design, filters);
    if (!jobs.length)
      throw new StudyError('NO_MATCH', 'no (dose, view) of the design matches the selection', { found: filters });
    const pie = pieOptions({
      algorithm: input.algorithm,
      iterations: input.iterations,
      probeUpdate: input.probeUpdate,
    });
    const runId = randomUUID();
    const artifactRoot = roots.artifactRoot;
    const run: LiveRun = { runId, artifactRoot, jobId: null, stop: false, done: Promise.resolve() };
    const send = (p: Omit<ClassicalProgressEvent, 'runId' | 'artifactRoot'>) =>
      this.options.emit('classicalProgress', { runId, artifactRoot, ...p });
    for (const j of jobs)
      send({
        jobId: j.id,
        dose: j.dose,
        view: j.view,
        state: 'queued',
        iteration: 0,
        iterations: pie.iterations,
        error: null,
        message: null,
      });
    run.done = reconstructStudy({
      roots,
      design: this.options.design,
      filters,
      pie,
      shouldStop: () => run.stop,
      resume: input.resume,
      onJobStart: (j) => {
        run.jobId = j.id;
        send({
          jobId: j.id,
          dose: j.dose,
          view: j.view,
          state: 'running',
          iteration: 0,
          iterations: pie.iterations,
          error: null,
          message: null,
        });
      },
      onIteration: (j, it) =>
        send({
          jobId: j.id,
          dose: j.dose,
          view: j.view,
          state: 'running',
          iteration: it.iteration,
          iterations: pie.iterations,
          error: it.error,
          message: null,
        }),
      onJobEnd: (r) => {
        run.jobId = null; // its files are final: listings no longer call it running
        send({
          jobId: r.job_id,
          dose: r.dose,
          view: r.view,
          state: r.state,
          iteration: r.iterations ?? 0,
          iterations: pie.iterations,
          error: r.final_error,
          message: r.reason,
        });
      },
    })
      .then(() => undefined)
      .catch((e: unknown) => {
        this.options.emit('log', {
          level: 'error',
          message: `classical reconstruction failed: ${(e as Error).message}`,
          time: new Date().toISOString(),
        });
      })
      .finally(() => {
        if (this.live === run) this.live = null;
      });
    this.live = run;
    return { runId, artifactRoot, jobIds: jobs.map((j) => j.id) };
  }

  /** Asks the running reconstruction to stop after its current iteration. */
  cancel(runId?: string): { cancelled: boolean } {
    if (!this.live || (runId && runId !== this.live.runId)) return { cancelled: false };
    this.live.stop = true;
    return { cancelled: true };
  }

  /** Resolves when the current run (if any) has finished writing. */
  async settled(): Promise<void> {
    await this.live?.done;
  }

  get(input: { artifactRoot?: string }): GetClassicalOutput {
    const roots = this.options.resolveRoots({ artifactRoot: input.artifactRoot });
    const file = readClassicalFileSync(roots.artifactRoot);
    const byId = new Map((file?.rows ?? []).map((r) => [r.job_id, r]));
    const jobs = planClassicalJobs(roots, this.options.design).map((j) => {
      const ev = readErrors(j.artifactDir);
      const row = byId.get(j.id);
      const live = this.live?.artifactRoot === roots.artifactRoot && this.live.jobId === j.id;
      return {
        jobId: j.id,
        dose: j.dose,
        view: j.view,
        state: live ? ('running' as const) : (row?.state ?? (ev.state === 'running' ? null : ev.state)),
        errors: ev.errors,
      };
    });
    const running =
      this.live && this.live.artifactRoot === roots.artifactRoot
        ? { runId: this.live.runId, jobId: this.live.jobId }
        : null;
    return { artifactRoot: roots.artifactRoot, file, jobs, running };
  }

  /** Stops a live run and waits for it (app quit, server stop). */
  async close(): Promise<void> {
    if (this.live) this.live.stop = true;
    await this.settled();
  }
}
