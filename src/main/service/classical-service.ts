/**
 * The classical arm in the workbench. A reconstruction run waits in the workbench's one run
 * queue (shared with training: one CPU-bound run at a time), its jobs `queued` until its turn;
 * each iteration is pushed as a `classicalProgress` event (the live curve); a run is
 * cancellable while queued (it leaves the queue, nothing is run) or between iterations. What
 * was reached is kept: a cancelled job still writes its recon.npz and eval.json. A job whose
 * events say it started but whose process is gone is listed `interrupted`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EventName, EventPayload } from '../../shared/api';
import type {
  ClassicalProgressEvent,
  ClassicalState,
  GetClassicalOutput,
  ReconstructClassicalInput,
} from '../../shared/classical-api';
import { StudyError } from '../../shared/errors';
import type { StudyDesign } from '../../shared/study';
import { CLASSICAL_EVENTS, type ClassicalJob, planClassicalJobs, readRecordedSettings } from '../classical/job';
import { type PieOptions, pieOptions } from '../classical/pie';
import { readClassicalFileSync, reconstructStudy } from '../classical/study';
import { isProcessAlive } from '../study/lock';
import type { StudyRoots } from '../study/jobs';
import { type QueuedRun, RunQueue } from './run-queue';

export interface ClassicalServiceOptions {
  emit: <E extends EventName>(event: E, payload: EventPayload<E>) => void;
  resolveRoots: (input: Partial<StudyRoots>) => StudyRoots;
  design?: StudyDesign;
  /** The queue runs wait in (shared with training); by default one of its own. */
  queue?: RunQueue;
}

interface ClassicalRun {
  runId: string;
  artifactRoot: string;
  jobs: ClassicalJob[];
  pie: PieOptions;
  /** The job reconstructing now. */
  jobId: string | null;
  /** Jobs whose end was announced. */
  ended: Set<string>;
  stop: boolean;
  queued: QueuedRun<void>;
}

type Progress = Omit<ClassicalProgressEvent, 'runId' | 'artifactRoot'>;

interface EventsSummary {
  errors: number[];
  /** The latest status line's state; `running` when the last attempt started and has not ended. */
  state: ClassicalState | null;
  /** The iterations the latest attempt was asked for. */
  target: number | null;
  /** The process of the latest attempt, when it recorded one, and when that attempt started. */
  owner: { pid: number; hostname: string; startedAt: number } | null;
}

const STATUS_STATE: Record<string, ClassicalState> = {
  started: 'running',
  resumed: 'running',
  done: 'done',
  cancelled: 'cancelled',
  failed: 'failed',
};

/** Errors per iteration and the latest state from a classical job's events.jsonl. */
function readEvents(artifactDir: string): EventsSummary {
  const out: EventsSummary = { errors: [], state: null, target: null, owner: null };
  const path = join(artifactDir, CLASSICAL_EVENTS);
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as {
        type?: string;
        time?: string;
        train_loss?: number;
        status?: string;
        total_epochs?: number;
        pid?: number;
        hostname?: string;
      };
      if (e.type === 'epoch' && typeof e.train_loss === 'number') out.errors.push(e.train_loss);
      if (e.type !== 'status' || !e.status) continue;
      out.state = STATUS_STATE[e.status] ?? 'failed';
      if (e.status === 'started' || e.status === 'resumed') {
        out.target = typeof e.total_epochs === 'number' ? e.total_epochs : null;
        out.owner =
          typeof e.pid === 'number' && typeof e.hostname === 'string'
            ? { pid: e.pid, hostname: e.hostname, startedAt: Date.parse(e.time ?? '') }
            : null;
      }
    } catch {
      // a torn last line of a killed run: the lines before it still count
    }
  }
  return out;
}

/**
 * When a process of this machine started (ms since the epoch), from /proc; null where that
 * cannot be read. Clock ticks are taken as Linux's usual 100 per second.
 */
function processStartedAt(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}

/**
 * Another live process (a `reconstruct` in a terminal) is reconstructing it; this one's own
 * runs are known. A pid taken since by a process that started after the attempt is not it.
 */
function ownerAlive(owner: EventsSummary['owner']): boolean {
  if (!owner) return false;
  if (owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid || !isProcessAlive(owner.pid)) return false;
  const started = processStartedAt(owner.pid);
  return started === null || !Number.isFinite(owner.startedAt) || started <= owner.startedAt + 2000;
}

export class ClassicalService {
  private readonly runs = new Map<string, ClassicalRun>();
  private readonly queue: RunQueue;

  constructor(private readonly options: ClassicalServiceOptions) {
    this.queue = options.queue ?? new RunQueue();
  }

  private busyJobs(artifactRoot: string): Map<string, string> {
    const busy = new Map<string, string>();
    for (const run of this.runs.values())
      if (run.artifactRoot === artifactRoot)
        for (const j of run.jobs) if (!run.ended.has(j.id)) busy.set(j.id, run.runId);
    return busy;
  }

  /**
   * The settings of a run: as asked; a resume takes the ones it was not given from what the
   * jobs' recon.npz were made with (they must agree).
   */
  private async settings(input: ReconstructClassicalInput, jobs: ClassicalJob[]): Promise<PieOptions> {
    const asked: Partial<PieOptions> = {
      algorithm: input.algorithm,
      iterations: input.iterations,
      probeUpdate: input.probeUpdate,
      tv: input.tv,
    };
    let recorded: Partial<PieOptions> = {};
    if (input.resume && input.algorithm === undefined) {
      const found: { job: ClassicalJob; options: Partial<PieOptions>; target: number | null }[] = [];
      for (const job of jobs) {
        const r = await readRecordedSettings(job);
        if (r) found.push({ job, options: r.options, target: r.iterationsRequested });
      }
      const key = (o: Partial<PieOptions>) => JSON.stringify(o);
      if (found.some((f) => key(f.options) !== key(found[0].options)))
        throw new StudyError(
          'BAD_INPUT',
          'cannot resume these jobs together: their recon.npz were made with other settings',
          {
            key: 'resume',
            found: Object.fromEntries(found.map((f) => [f.job.id, f.options])),
            hint: 'resume them one (dose, view) at a time',
          },
        );
      recorded = found[0]?.options ?? {};
      // a job that ended short continues to the count its run was asked for
      if (input.iterations === undefined) {
        const target = Math.max(
          0,
          ...found.map((f) => f.target ?? 0),
          ...jobs.map((j) => readEvents(j.artifactDir).target ?? 0),
        );
        if (target > 0) recorded = { ...recorded, iterations: target };
      }
    }
    const defined = (o: Partial<PieOptions>) =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    const pie = pieOptions({ ...recorded, ...defined(asked) });
    if (input.tv !== undefined && pie.algorithm !== 'lsqml')
      throw new StudyError('BAD_INPUT', `tv is a prior of the lsqml algorithm, not of ${pie.algorithm}`, {
        key: 'tv',
        found: input.tv,
        hint: 'choose algorithm lsqml, or leave tv out',
      });
    return pie;
  }

  /**
   * Queues a run and returns at once; its jobs are `queued` until every run queued before it
   * (training or classical) has finished. A job already queued or running here is refused.
   */
  async reconstruct(
    input: ReconstructClassicalInput,
  ): Promise<{ runId: string; artifactRoot: string; jobIds: string[] }> {
    const roots = this.options.resolveRoots(input);
    const filters = { dose: input.dose ?? null, view: input.view ?? null };
    const jobs = planClassicalJobs(roots, this.options.design, filters);
    if (!jobs.length)
      throw new StudyError('NO_MATCH', 'no (dose, view) of the design matches the selection', { found: filters });
    const busy = this.busyJobs(roots.artifactRoot);
    const clash = jobs.filter((j) => busy.has(j.id));
    if (clash.length)
      throw new StudyError(
        'LOCKED',
        `${clash.map((j) => j.id).join(', ')} ${clash.length > 1 ? 'are' : 'is'} already queued or running (run ${busy.get(clash[0].id)})`,
        { key: 'jobIds', found: clash.map((j) => j.id), hint: 'cancel that run or wait for it to finish' },
      );
    const pie = await this.settings(input, jobs);
    const runId = randomUUID();
    const run: ClassicalRun = {
      runId,
      artifactRoot: roots.artifactRoot,
      jobs,
      pie,
      jobId: null,
      ended: new Set(),
      stop: false,
      // called on a later tick than this, after the queued states below were sent
      queued: this.queue.enqueue(
        runId,
        'classical',
        () => this.execute(run, roots, filters, input.resume),
        () => undefined,
      ),
    };
    this.runs.set(runId, run);
    for (const j of jobs) this.send(run, { ...this.base(j, pie), state: 'queued' });
    void run.queued.done.finally(() => this.runs.delete(runId));
    return { runId, artifactRoot: roots.artifactRoot, jobIds: jobs.map((j) => j.id) };
  }

  private base(j: { id: string; dose: number; view: ClassicalJob['view'] }, pie: PieOptions): Progress {
    return {
      jobId: j.id,
      dose: j.dose,
      view: j.view,
      state: 'queued',
      iteration: 0,
      iterations: pie.iterations,
      error: null,
      message: null,
    };
  }

  private send(run: ClassicalRun, p: Progress): void {
    this.options.emit('classicalProgress', { runId: run.runId, artifactRoot: run.artifactRoot, ...p });
  }

  private async execute(
    run: ClassicalRun,
    roots: StudyRoots,
    filters: { dose: number | null; view: ClassicalJob['view'] | null },
    resume: boolean | undefined,
  ): Promise<void> {
    const { pie } = run;
    try {
      await reconstructStudy({
        roots,
        design: this.options.design,
        filters,
        pie,
        shouldStop: () => run.stop,
        resume,
        onJobStart: (j) => {
          run.jobId = j.id;
          this.send(run, { ...this.base(j, pie), state: 'running' });
        },
        onIteration: (j, it) =>
          this.send(run, { ...this.base(j, pie), state: 'running', iteration: it.iteration, error: it.error }),
        onJobEnd: (r) => {
          run.jobId = null; // its files are final: listings no longer call it running
          run.ended.add(r.job_id);
          this.send(run, {
            ...this.base({ id: r.job_id, dose: r.dose, view: r.view }, pie),
            state: r.state,
            iteration: r.iterations ?? 0,
            error: r.final_error,
            message: r.reason,
          });
        },
      });
    } catch (e) {
      this.options.emit('log', {
        level: 'error',
        message: `classical reconstruction failed: ${(e as Error).message}`,
        time: new Date().toISOString(),
      });
    }
  }

  /**
   * Cancels a run, or every run of an artifact root, or every classical run when neither is
   * named: a queued one leaves the queue and its jobs are announced cancelled at once; a
   * running one stops after its current iteration.
   */
  cancel(which: { runId?: string; artifactRoot?: string } = {}): { cancelled: boolean } {
    const root = which.artifactRoot
      ? this.options.resolveRoots({ artifactRoot: which.artifactRoot }).artifactRoot
      : null;
    let any = false;
    for (const run of [...this.runs.values()]) {
      if (which.runId && run.runId !== which.runId) continue;
      if (root && run.artifactRoot !== root) continue;
      if (run.queued.remove()) {
        this.runs.delete(run.runId);
        for (const j of run.jobs)
          this.send(run, {
            ...this.base(j, run.pie),
            state: 'cancelled',
            message: 'cancelled while queued; nothing was run',
          });
      } else run.stop = true;
      any = true;
    }
    return { cancelled: any };
  }

  /** A run of this service still queued or running: its artifact root and jobs (null once it has ended). */
  liveRunJobs(runId: string): { artifactRoot: string; jobIds: string[] } | null {
    const run = this.runs.get(runId);
    return run ? { artifactRoot: run.artifactRoot, jobIds: run.jobs.map((j) => j.id) } : null;
  }

  /** Resolves when every run queued or running now has finished writing. */
  async settled(): Promise<void> {
    while (this.runs.size) await Promise.allSettled([...this.runs.values()].map((r) => r.queued.done));
  }

  get(input: { artifactRoot?: string }): GetClassicalOutput {
    const roots = this.options.resolveRoots({ artifactRoot: input.artifactRoot });
    const file = readClassicalFileSync(roots.artifactRoot);
    const byId = new Map((file?.rows ?? []).map((r) => [r.job_id, r]));
    const mine = [...this.runs.values()].filter((r) => r.artifactRoot === roots.artifactRoot);
    const busy = this.busyJobs(roots.artifactRoot);
    const jobs = planClassicalJobs(roots, this.options.design).map((j) => {
      const ev = readEvents(j.artifactDir);
      const row = byId.get(j.id);
      const live = mine.some((r) => r.jobId === j.id);
      // the events' latest attempt wins over an older row: one that never ended is running elsewhere or gone
      const state: ClassicalState | null = live
        ? 'running'
        : busy.has(j.id)
          ? 'queued'
          : ev.state === 'running'
            ? ownerAlive(ev.owner)
              ? 'running'
              : 'interrupted'
            : (row?.state ?? ev.state);
      return {
        jobId: j.id,
        dose: j.dose,
        view: j.view,
        state,
        errors: ev.errors,
        target: ev.target,
        resumable: state === 'cancelled' || state === 'interrupted',
      };
    });
    const current = mine.find((r) => r.jobId !== null) ?? mine.find((r) => r.queued.started()) ?? null;
    return {
      artifactRoot: roots.artifactRoot,
      file,
      jobs,
      running: current ? { runId: current.runId, jobId: current.jobId } : null,
    };
  }

  /** Takes queued runs out, stops the running one and waits for it (app quit, server stop). */
  async close(): Promise<void> {
    for (const run of this.runs.values()) {
      if (run.queued.remove()) this.runs.delete(run.runId);
      else run.stop = true;
    }
    await this.settled();
  }
}
