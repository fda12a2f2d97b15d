/**
 * A job that the manifest says is running (or queued) but whose process is gone was
 * interrupted — the app quit, the machine rebooted, the CLI was killed. Marking it so on
 * start-up is what keeps "zombie running" jobs out of the UI.
 */
import { readFileSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import type { ManifestJob, TrainingManifest } from '../../shared/manifest';
import { heldBySlurm } from '../slurm/ownership';
import { isProcessAlive } from './lock';
import { updateManifest } from './manifest-store';

/** A run started before this machine booted cannot still be running, whatever now holds its pid. */
function startedBeforeBoot(startedAt: string | undefined): boolean {
  if (!startedAt) return false;
  const bootedAt = Date.now() - uptime() * 1000;
  return Date.parse(startedAt) < bootedAt - 5000;
}

/**
 * Is a process still training this job (or about to)? Either the run's own process (the
 * CLI, the server, the app) or the training worker it started: a worker orphaned by a
 * killed parent counts as alive until it has stopped. Another host's process is assumed alive.
 */
export function jobOwnerAlive(
  m: TrainingManifest,
  job: ManifestJob,
  isActiveRun: (runId: string) => boolean = () => false,
): boolean {
  const slurm = heldBySlurm(job);
  if (slurm !== null) return slurm;
  const run = m.runs.find((r) => r.run_id === job.run_id);
  const pid = job.worker?.pid ?? run?.pid;
  const host = job.worker?.hostname ?? run?.hostname;
  if (pid === undefined || host === undefined) return false;
  if (host !== hostname()) return true;
  if (startedBeforeBoot(run?.started_at)) return false;
  if (trainerAlive(job)) return true;
  if (pid === process.pid) return isActiveRun(job.run_id);
  return isProcessAlive(pid);
}

/** The job's training worker on this host still runs (its parent may be gone). */
export function trainerAlive(job: ManifestJob): boolean {
  const pid = job.worker?.trainer_pid;
  return typeof pid === 'number' && job.worker?.hostname === hostname() && isProcessAlive(pid) && looksLikeTrainer(pid);
}

/**
 * A recorded pid may have been reused by an unrelated process since; where /proc tells us
 * the command line, only a training worker (out/node/trainer.js, or an Electron utility
 * process) counts. Without /proc the pid is trusted.
 */
function looksLikeTrainer(pid: number): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  return /trainer|--type=utility/.test(cmdline);
}

/** Mark orphaned running/queued jobs and their runs as interrupted; returns the job ids changed. */
export async function recoverInterrupted(
  artifactRoot: string,
  isActiveRun: (runId: string) => boolean = () => false,
): Promise<string[]> {
  const changed: string[] = [];
  await updateManifest(artifactRoot, (m) => {
    if (!m) return null;
    const now = new Date().toISOString();
    const jobs = m.jobs.map((j) => {
      if ((j.status !== 'running' && j.status !== 'queued') || jobOwnerAlive(m, j, isActiveRun)) return j;
      if (j.status === 'queued' && j.slurm) return j; // Slurm's to report (slurm status), even from its own task
      changed.push(j.id);
      const trainer = j.worker?.trainer_pid ? `, trainer pid ${j.worker.trainer_pid}` : '';
      const note =
        j.status === 'running'
          ? `interrupted: the process training it (pid ${j.worker?.pid ?? '?'}${trainer}) is gone; resume with --resume`
          : 'interrupted: the run was stopped before this job started';
      return {
        ...j,
        status: 'interrupted' as const,
        worker: null,
        updated_at: now,
        result: {
          status: 'interrupted' as const,
          final_loss: j.progress?.last_loss ?? null,
          epochs_completed: j.progress?.epoch ?? 0,
          checkpoint_path: null,
          error: note,
        },
      };
    });
    // A run whose process died stays `running` while one of its jobs' trainers still is.
    const liveRuns = new Set(jobs.filter((j) => j.status === 'running').map((j) => j.run_id));
    const runs = m.runs.map((r) => {
      // A Slurm run ends when its tasks do (slurm status), not with the process that submitted it.
      if (r.status !== 'running' || r.slurm) return r;
      const alive =
        r.hostname !== hostname() ||
        liveRuns.has(r.run_id) ||
        (r.pid === process.pid ? isActiveRun(r.run_id) : !startedBeforeBoot(r.started_at) && isProcessAlive(r.pid));
      return alive ? r : { ...r, status: 'interrupted' as const, finished_at: r.finished_at ?? now };
    });
    if (changed.length === 0 && runs.every((r, i) => r === m.runs[i])) return null;
    return { ...m, jobs, runs };
  });
  return changed;
}
