/**
 * `slurm status` / `slurm cancel`: follow the jobs a Slurm run holds. Slurm's states are
 * folded into the manifest under its lock (states.ts decides when Slurm's word wins), and a
 * Slurm run whose jobs have all ended gets its final status.
 */
import type { JobStatus, ManifestJob, RunRecord, TrainingManifest } from '../../shared/manifest';
import { readManifestFile, updateManifest } from '../study/manifest-store';
import { type RunCommand, runCommand, scancel, slurmStates } from './commands';
import { reconcile, type SlurmTaskState, statusForSlurmState } from './states';

const LIVE: JobStatus[] = ['queued', 'running'];
const SLURM_LIVE = new Set(['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'REQUEUED', 'SUSPENDED']);

export interface SlurmJobRow {
  id: string;
  status: JobStatus;
  slurmTask: string | null;
  slurmState: string | null;
  reason: string | null;
  node: string | null;
}

function taskKey(jobId: string, task: number | null | undefined): string {
  return task === null || task === undefined ? jobId : `${jobId}_${task}`;
}

/** Jobs of the manifest that Slurm holds or held. */
export function slurmJobs(m: TrainingManifest | null, ids?: string[]): ManifestJob[] {
  return (m?.jobs ?? []).filter((j) => j.slurm && (!ids?.length || ids.includes(j.id)));
}

function forgotten(j: ManifestJob, now: string): ManifestJob {
  const task = taskKey(j.slurm?.job_id ?? '', j.slurm?.array_task_id);
  return {
    ...j,
    status: 'failed',
    worker: null,
    updated_at: now,
    slurm: j.slurm ? { ...j.slurm, state: 'UNKNOWN', reason: 'no longer known to Slurm' } : j.slurm,
    result: {
      status: 'failed',
      final_loss: j.progress?.last_loss ?? null,
      epochs_completed: j.progress?.epoch ?? 0,
      checkpoint_path: null,
      error: `Slurm task ${task} ended without recording an outcome, and Slurm no longer reports its state (no accounting): see its output file`,
    },
  };
}

function finishRuns(runs: RunRecord[], jobs: ManifestJob[], now: string): RunRecord[] {
  return runs.map((r) => {
    if (!r.slurm || r.status !== 'running') return r;
    const mine = jobs.filter((j) => r.job_ids.includes(j.id) && j.slurm?.job_id === r.slurm?.job_id);
    // A job retrained since by another run no longer belongs to this one; what remains decides.
    if (mine.some((j) => LIVE.includes(j.status))) return r;
    const statuses = mine.map((j) => j.status);
    const status = statuses.includes('cancelled')
      ? 'cancelled'
      : statuses.some((s) => s === 'failed' || s === 'diverged' || s === 'interrupted')
        ? 'failed'
        : 'done';
    return { ...r, status, exit_code: status === 'done' ? 0 : status === 'cancelled' ? 130 : 1, finished_at: now };
  });
}

/**
 * Ask Slurm about every job of the manifest it holds, fold the answers in and return the
 * rows to show. Jobs whose training recorded an outcome keep it.
 */
export async function refreshSlurmStatus(
  artifactRoot: string,
  run: RunCommand = runCommand,
): Promise<{ rows: SlurmJobRow[]; manifest: TrainingManifest | null }> {
  const before = readManifestFile(artifactRoot).manifest;
  // Jobs Slurm may still say something new about: waiting or running by either record.
  const held = slurmJobs(before).filter((j) => LIVE.includes(j.status) || SLURM_LIVE.has(j.slurm?.state ?? 'PENDING'));
  const ids = [...new Set(held.map((j) => j.slurm?.job_id).filter((x): x is string => !!x))];
  const states = new Map<string, SlurmTaskState>();
  for (const s of slurmStates(ids, run)) states.set(taskKey(s.jobId, s.arrayTaskId), s);
  const now = new Date().toISOString();
  const manifest =
    ids.length === 0
      ? before
      : await updateManifest(artifactRoot, (m) => {
          if (!m) return null;
          const jobs = m.jobs.map((j) => {
            if (!j.slurm) return j;
            const s = states.get(taskKey(j.slurm.job_id, j.slurm.array_task_id));
            if (s) return reconcile(j, s, now);
            // Slurm answered and no longer knows the task: it ended long enough ago for the
            // controller to forget it, and there is no accounting to ask. The training never said how.
            return LIVE.includes(j.status) && ids.includes(j.slurm.job_id) ? forgotten(j, now) : j;
          });
          return { ...m, jobs, runs: finishRuns(m.runs, jobs, now) };
        });
  const rows = slurmJobs(manifest).map((j): SlurmJobRow => {
    const live = states.get(taskKey(j.slurm?.job_id ?? '', j.slurm?.array_task_id));
    const mapped = live ? statusForSlurmState(live.state) : null;
    // While the training has not said more, show what Slurm says (a task that started is running).
    const status = mapped && LIVE.includes(j.status) && LIVE.includes(mapped.status) ? mapped.status : j.status;
    return {
      id: j.id,
      status,
      slurmTask: j.slurm ? taskKey(j.slurm.job_id, j.slurm.array_task_id) : null,
      slurmState: live?.state ?? j.slurm?.state ?? null,
      reason: j.status === 'failed' || j.status === 'cancelled' ? (j.result?.error ?? null) : (live?.reason ?? null),
      node: live?.node ?? j.slurm?.node ?? null,
    };
  });
  return { rows, manifest };
}

/**
 * Cancel through scancel the Slurm tasks of these jobs (all live ones when none are named).
 * Waiting tasks are recorded cancelled at once; a running task is told by Slurm (SIGTERM)
 * and its training records the cancel itself, with a checkpoint.
 */
export async function cancelSlurmJobs(
  artifactRoot: string,
  jobIds: string[] = [],
  run: RunCommand = runCommand,
): Promise<{ cancelled: string[]; targets: string[] }> {
  const m = readManifestFile(artifactRoot).manifest;
  const live = slurmJobs(m, jobIds).filter((j) => LIVE.includes(j.status));
  const key = (j: ManifestJob) => taskKey(j.slurm?.job_id ?? '', j.slurm?.array_task_id);
  const targets = live.map(key);
  scancel(live.filter((j) => j.status === 'queued').map(key), run);
  scancel(live.filter((j) => j.status === 'running').map(key), run, true);
  const queued = new Set(live.filter((j) => j.status === 'queued').map((j) => j.id));
  const now = new Date().toISOString();
  if (queued.size) {
    await updateManifest(artifactRoot, (cur) => {
      if (!cur) return null;
      const jobs = cur.jobs.map((j) =>
        queued.has(j.id) && j.status === 'queued'
          ? {
              ...j,
              status: 'cancelled' as const,
              updated_at: now,
              slurm: j.slurm ? { ...j.slurm, state: 'CANCELLED', reason: 'slurm cancel' } : j.slurm,
              result: {
                status: 'cancelled' as const,
                final_loss: null,
                epochs_completed: 0,
                checkpoint_path: null,
                error: 'cancelled in Slurm before it started (slurm cancel)',
              },
            }
          : j,
      );
      return { ...cur, jobs, runs: finishRuns(cur.runs, jobs, now) };
    });
  }
  return { cancelled: live.map((j) => j.id), targets };
}
